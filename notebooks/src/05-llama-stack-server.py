# %% [markdown]
# # 5 · The same calls on a Llama Stack / OGX server
#
# Everything in notebooks 1–4 also runs against a real **OGX** server (Llama Stack's new name;
# Llama Stack 0.7 works the same): only the client's construction changes. llamabook talks to
# the server's Prompts, Files and Responses APIs with the `openai` SDK, and returns the same
# Python objects.
#
# Which server:
#
# * if `LLAMABOOK_BASE_URL` is set (with `LLAMABOOK_API_KEY` if the server needs a key), that one;
# * otherwise, the session recorded in `cassettes/05-llama-stack-server.jsonl` replays: every
#   request and answer of a real OGX 1.5.0 server, ids included, with no server running
#   (on Binder, say). That is what the tests check, on any machine;
# * with `LLAMABOOK_RECORD=all` (what `make notebooks` sets) the helper `local_stack.py` starts a
#   local server and the session is recorded again: llama-cpp-python's OpenAI-compatible server
#   running the same SmolLM2 model, and `ogx run` (OGX 1.5.0, which needs Python 3.12:
#   `make ogx-venv` installs it in `.ogx-venv`; `LLAMABOOK_LOCAL_SERVER=llama-stack` starts
#   Llama Stack 0.7.3 from `.lls-venv` instead) on top of it, both on 127.0.0.1, stopped at the
#   end of the notebook.

# %% tags=["nbval-ignore-output"]
import os
import tempfile
from pathlib import Path

import llamabook as lb
import local_stack

os.environ["LLAMABOOK_HOME"] = tempfile.mkdtemp(prefix="llamabook-notebook-")  # local cache of uploads and traces

CASSETTE = "cassettes/05-llama-stack-server.jsonl"
server = local_stack.for_notebook(CASSETTE)  # says which it chose (so this cell is not compared)

# %% [markdown]
# The local server's model is text-only, like the embedded one, and its run config says so
# (`input_modalities: [text]`, shown in `/v1/models`). The client reads that, so images are sent as
# descriptions and PDFs as text, placed exactly where the embedded backend puts them. For a server
# that says nothing, declare it: `lb.Client(..., model_accepts={"llamacpp/smollm2": ["text"]})`.
# Requests pass `temperature=0`: the server samples by default, and greedy decoding keeps this
# notebook's answers reproducible. (The local server caps answers at 64 tokens itself: its
# llama-cpp backend ignores the `max_completion_tokens` that the server sends for
# `max_output_tokens`.)

# %%
client = lb.Client(base_url=server.url, cassette=CASSETTE, record=server.record)
print("server:", client.server.label)
client.models.list().to_pandas()

# %% [markdown]
# ## Prompts and versions live on the server

# %%
persona = client.prompts.create(
    "You are {{name}}, a {{role}} at {{company}}. Answer in a {{tone}} tone.",
    variables=["name", "role", "company", "tone"],
)
persona = client.prompts.update(
    persona.prompt_id,
    prompt="You are {{name}}, a {{role}} at {{company}}. Answer in a {{tone}} tone, in one sentence.",
    version=1,
    variables=["name", "role", "company", "tone"],
)
client.prompts.versions(persona.prompt_id).to_pandas()[["version", "is_default", "prompt"]]

# %%
values = {"name": "Maeve", "role": "support agent", "company": "Dublin Bicycle Co.", "tone": "warm"}
r = client.responses.create(
    input="My helmet arrived broken.", prompt=persona, variables=values, temperature=0, max_output_tokens=40
)
print(f"v{r.prompt.version}: {r.output_text}")

# %% [markdown]
# The checks run on the client, before anything is sent:

# %%
try:
    client.responses.create(input="Hi", prompt=persona, variables={"name": "Maeve"})
except lb.MissingVariables as exc:
    print(f"{type(exc).__name__}: {exc}")

# %% [markdown]
# ## A PDF through the server's Files API
#
# The path is uploaded once to the server (by content hash); the text-only model gets its text.

# %%
clerk = client.prompts.create(
    "You are an accounts clerk. Answer questions about the invoice {{invoice}} in one sentence.",
    variables=["invoice"],
)
r = client.responses.create(
    input="Who is billed?", prompt=clerk, variables={"invoice": Path("data/invoice.pdf")},
    temperature=0, max_output_tokens=32,
)
print(r.output_text)
client.files.list().to_pandas()[["filename", "bytes", "purpose"]]

# %% [markdown]
# ## Streaming

# %%
stream = client.responses.create(input="Name three colours.", temperature=0, max_output_tokens=24, stream=True)
for event in stream:
    if event.type == "response.output_text.delta":
        print(event.delta, end="")
print()
print("final status:", stream.response.status)

# %% [markdown]
# ## A grid, and the server's stored responses

# %%
import pandas as pd

rows = pd.DataFrame({"country": ["Ireland", "France"]})
grid = client.grid(
    "Name the capital of {{country}}.", rows,
    input="Which city is it?",  # Llama Stack 0.7 requires an input with the prompt; OGX takes one too
    temperature=0, max_output_tokens=24, concurrency=1, progress=False,
)
grid[["country", "version", "status", "output_text"]]

# %%
client.responses.list(order="asc").to_pandas()[["status", "prompt_version", "output_tokens", "output_text"]]

# %% [markdown]
# ## The magics on the server
#
# `%llama use URL` points the magics at a server (`%llama use embedded` switches back);
# `llamabook.magics.set_client(client)` hands them this client instead.

# %%
%load_ext llamabook
import llamabook.magics

llamabook.magics.set_client(client)

# %%
%llama config

# %% [markdown]
# ## Stop the servers
#
# Only the servers this notebook started, if any, are stopped (by their process ids).

# %%
client.close()
server.stop()
