# %% [markdown]
# # 3 · Images and PDFs as variables
#
# A prompt variable can hold text, an **image** or a **file** (such as a PDF). You pass plain Python
# values — a `Path`, `bytes`, a PIL image, or a `File` you uploaded — and llamabook types them
# (`input_text`, `input_image`, `input_file`), uploading each content once.
#
# The embedded SmolLM2 model reads text only, so this notebook also shows what happens to media
# on a text-only model: an image is refused unless you ask for a description, and a PDF is sent
# as its text.

# %%
import os
import tempfile
from pathlib import Path

from IPython.display import Image

import llamabook as lb

os.environ["LLAMABOOK_HOME"] = tempfile.mkdtemp(prefix="llamabook-notebook-")
os.environ.pop("LLAMABOOK_BASE_URL", None)  # this notebook runs on the embedded model (05 uses a server)
client = lb.Client(cassette="cassettes/03-images-and-pdfs.jsonl", record="new")  # replays recorded calls (notebook 1)
DATA = Path("data")

# %% [markdown]
# ## An image: `{{product_photo}}`
#
# Upload it with the Files API (a path, bytes, a file object or `(name, bytes)`):

# %%
Image(filename=DATA / "phone.png", width=128)

# %%
photo = client.files.create(DATA / "phone.png")
print(photo.id, photo.filename, photo.bytes, "bytes")
assert client.files.content(photo.id) == (DATA / "phone.png").read_bytes()

# %%
listing = client.prompts.create(
    "You write product listings. The product is shown in {{product_photo}}. Its name is {{product_name}}.",
    variables=["product_photo", "product_name"],
)

# %% [markdown]
# The embedded model cannot see images, and llamabook says so before anything is generated:

# %%
try:
    client.responses.create(
        input="Write a one-sentence listing.",
        prompt=listing,
        variables={"product_photo": photo, "product_name": "Pocket Phone X"},
    )
except lb.UnsupportedInput as exc:
    print(f"{type(exc).__name__}: {exc}")

# %% [markdown]
# `describe_images=True` sends a one-line description instead (name, type, size, pixel dimensions).
# A model that accepts images (on a server, see notebook 05) gets the image itself.

# %%
r = client.responses.create(
    input="Write a one-sentence listing.",
    prompt=listing,
    variables={"product_photo": photo, "product_name": "Pocket Phone X"},
    describe_images=True,
    max_output_tokens=40,
)
print(r.output_text)

# %% [markdown]
# What the model saw: the placeholder reads `[Image: …]` in the system message, and the
# image itself (here, its description) follows the input in one extra user message — the
# same messages a Llama Stack server builds.

# %%
for message in r.rendered_messages:
    print(f"[{message['role']}] {message['content']}")

# %% [markdown]
# ## A PDF invoice as a file variable
#
# A `Path` is uploaded for you (once per content: the same bytes reuse the same file id).
# For a model without file inputs the PDF's text is extracted with `pypdf`.

# %%
clerk = client.prompts.create(
    "You are an accounts clerk. Answer questions about the invoice {{invoice}} in one sentence.",
    variables=["invoice"],
)
r = client.responses.create(
    input="Who is billed?",
    prompt=clerk,
    variables={"invoice": DATA / "invoice.pdf"},
    max_output_tokens=32,
)
print(r.output_text)

# %%
print(r.rendered_messages[-1]["content"])

# %% [markdown]
# Asking again with the same path uploads nothing new:

# %%
r2 = client.responses.create(
    input="What is the total due?", prompt=clerk, variables={"invoice": DATA / "invoice.pdf"}, max_output_tokens=32
)
print(r2.output_text)
client.files.list(order="asc").to_pandas()[["id", "filename", "bytes", "purpose"]]

# %% [markdown]
# ## A four-variable text prompt
#
# Text variables are plain strings (a `str` is always text, never a path). Strict mode checks
# that every declared variable has a value:

# %%
persona = client.prompts.create(
    "You are {{name}}, a {{role}} at {{company}}. Answer in a {{tone}} tone.",
    variables=["name", "role", "company", "tone"],
)
values = {"name": "Maeve", "role": "support agent", "company": "Dublin Bicycle Co.", "tone": "warm"}

try:
    client.responses.create(input="My helmet arrived broken.", prompt=persona, variables={"name": "Maeve"})
except lb.MissingVariables as exc:
    print(f"{type(exc).__name__}: {exc}")

# %%
r = client.responses.create(input="My helmet arrived broken.", prompt=persona, variables=values, max_output_tokens=48)
print(r.rendered_messages[0]["content"])
print("---")
print(r.output_text)

# %% [markdown]
# Next: [04 · A grid over a DataFrame](04-batch-to-dataframe.ipynb).

# %%
client.close()
