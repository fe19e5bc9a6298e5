# %% [markdown]
# # 2 · Prompts and versions
#
# A prompt is a `{{templated}}` text plus the names of its variables. Changing it never overwrites
# anything: `prompts.update` adds a **version**, and one version is the **default** (the one used
# when a response names the prompt without a version). This is the Prompts API of a Llama Stack
# server; on the embedded backend it lives in SQLite.

# %%
import os
import tempfile

import llamabook as lb

os.environ["LLAMABOOK_HOME"] = tempfile.mkdtemp(prefix="llamabook-notebook-")
os.environ.pop("LLAMABOOK_BASE_URL", None)  # this notebook runs on the embedded model (05 uses a server)
client = lb.Client(cassette="cassettes/02-prompts-and-versions.jsonl", record="new")  # replays recorded calls (notebook 1)

# %% [markdown]
# ## Save, then update
#
# Placeholders follow the server's rule exactly: `{{name}}` or `{{ name }}`, nothing is evaluated.
# `prompts.save(name, template)` stores a template under a name, declaring its placeholders as
# its variables; saving the same text again reuses that version, and a changed text becomes a new
# version. Names are kept in the home, one table per backend (a server's Prompts API has none).

# %%
greeter = client.prompts.save("greeter", "Greet {{name}} warmly, in one short sentence.")
again = client.prompts.save("greeter", "Greet {{name}} warmly, in one short sentence.")
print(greeter.prompt_id, "version", greeter.version, "default:", greeter.is_default, "· saved again:", again.version)

# %% [markdown]
# `update` must name the latest version (so two editors cannot silently overwrite each other);
# the new version becomes the default unless `set_as_default=False`.

# %%
v2 = client.prompts.update(
    greeter.prompt_id,
    prompt="You are a receptionist. Greet {{name}} from {{city}} in one short sentence.",
    version=1,
    variables=["name", "city"],
)
v3 = client.prompts.update(
    greeter.prompt_id,
    prompt="You are a poet. Write two lines greeting {{name}} from {{city}}.",
    version=2,
    variables=["name", "city"],
    set_as_default=False,
)
client.prompts.versions("greeter").to_pandas()

# %% [markdown]
# ## Choosing a version
#
# A response can name a prompt as a `Prompt` object (its own version), by a reference: its name
# or id (`"greeter"`, `"pmpt_…"`: the default version) or a version of it (`"greeter@3"`,
# `"pmpt_…@3"`). The same question, with versions 1 and 2:

# %%
first = client.responses.create(input="Hello!", prompt=greeter, variables={"name": "Ada"}, max_output_tokens=32)
default = client.responses.create(
    input="Hello!", prompt=greeter.prompt_id, variables={"name": "Ada", "city": "Cork"}, max_output_tokens=32
)
for r in (first, default):
    print(f"version {r.prompt.version}: {r.output_text}")

# %% [markdown]
# Version 3 is not the default until you say so:

# %%
client.prompts.set_default_version("greeter", 3)
print("default is now version", client.prompts.get("greeter").version)
r = client.responses.create(
    input="Hello!", prompt="greeter@3", variables={"name": "Ada", "city": "Cork"}, max_output_tokens=40
)
print(r.output_text)

# %% [markdown]
# Each stored response remembers which version it used:

# %%
client.responses.list(order="asc").to_pandas()[["prompt_version", "output_tokens", "output_text"]]

# %% [markdown]
# ## The checks
#
# Bad input is refused before anything is stored or sent, with an error that says what to do.
# All of these derive from `lb.InputError` (a `ValueError`) or `lb.NotFound` (a `LookupError`).

# %%
attempts = {
    "a placeholder that is not declared": lambda: client.prompts.create("Hi {{name}} {{surname}}", variables=["name"]),
    "an update that is not on the latest version": lambda: client.prompts.update(
        greeter.prompt_id, prompt="Hello {{name}}", version=1, variables=["name"]
    ),
    "a value for an undeclared variable": lambda: client.responses.create(
        input="Hi", prompt=greeter, variables={"name": "Ada", "mood": "happy"}
    ),
    "a version that does not exist": lambda: client.prompts.retrieve(greeter.prompt_id, 9),
}
for what, attempt in attempts.items():
    try:
        attempt()
    except lb.LlamabookError as exc:
        print(f"{what}:\n  {type(exc).__name__}: {exc}\n")

# %% [markdown]
# `strict=False` behaves like the server: a missing value leaves its placeholder as literal text.

# %%
r = client.responses.create(input="Hello!", prompt=f"{greeter.prompt_id}@2", variables={"name": "Ada"},
                            strict=False, max_output_tokens=8)
r.rendered_messages[0]["content"]

# %% [markdown]
# ## Versions from cells: `%%llama --save`
#
# `--save NAME` stores the cell body as a prompt under that name (the same `prompts.save`). Run
# the cell again with a changed body and it becomes a new version of the same prompt;
# `-p NAME@VERSION` runs any version (the cell body is then the input).

# %%
%load_ext llamabook
%llama cassette cassettes/02-prompts-and-versions.jsonl

# %%
%%llama --save haiku --var topic=rain -i "Go." --max-tokens 24 --no-stream
Write a haiku about {{topic}}.

# %%
%%llama --save haiku --var topic=rain -i "Go." --max-tokens 24 --no-stream
Write a haiku about {{topic}}, in lower case.

# %%
%%llama -p haiku@1 --var topic=snow --max-tokens 24 --no-stream
Go.

# %%
%llama prompts

# %% [markdown]
# Next: [03 · Images and PDFs](03-images-and-pdfs.ipynb).

# %%
client.close()
