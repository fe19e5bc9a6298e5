# %% [markdown]
# # 1 · Quickstart
#
# llamabook gives a notebook the **Prompts, Files and Responses APIs** of a Llama Stack server.
# With no settings at all, `lb.Client()` runs an *embedded* backend inside this kernel: a SQLite
# database, a file store and the tiny SmolLM2-135M model. No account, no key, no network.
#
# The model is tiny and decodes greedily: it shows the mechanics with plausible text (not reliable
# facts), and the same request always gives the same answer, which is why these notebooks can be
# tested output for output.
#
# This notebook keeps its data in a fresh temporary folder, so every run starts empty.
# (`lb.Client()` normally uses `$LLAMABOOK_HOME`, default `~/.llamabook`.)

# %%
import os
import tempfile

import llamabook as lb

os.environ["LLAMABOOK_HOME"] = tempfile.mkdtemp(prefix="llamabook-notebook-")
os.environ.pop("LLAMABOOK_BASE_URL", None)  # this notebook runs on the embedded model (05 uses a server)

client = lb.Client(cassette="cassettes/01-quickstart.jsonl", record="new")
client.models.list().to_pandas()

# %% [markdown]
# ### Recorded model calls: the cassette
#
# `cassette=` makes the client record every model call to a text file, here
# `cassettes/01-quickstart.jsonl` (it is in the repository), and replay it on later runs. With
# `record="new"` a call that is in the cassette comes back from it, with no model at all, and a
# call that is not runs the model and is added. The model's exact words depend on the CPU and
# build it runs on; a replayed answer does not, which is how these notebooks are tested output
# for output on any machine. `$LLAMABOOK_RECORD`, when set, overrides `record=`: the tests set it
# to `none` (replay only; an unrecorded call raises `lb.CassetteMiss` instead of running the
# model). `make notebooks` sets it to `all` (record everything again), then builds the notebooks
# once more replaying, so their saved outputs are what the tests see.
# See `docs/regression-testing.md` to do the same with your own notebooks.

# %% [markdown]
# ## Ask a question
#
# `responses.create` returns a `Response`: the answer, token usage, status and latency.
# `max_output_tokens` keeps the answers short. An answer replayed from the cassette ran no model,
# so it has no latency: `r.replayed` is True, `r.latency_s` is None, and every view says "replayed".

# %%
r = client.responses.create(input="What is the capital of Ireland?", max_output_tokens=32)
print(r.output_text)
latency = "replayed" if r.replayed else f"{r.latency_s:.2f} s"
print(f"status={r.status}  tokens in/out={r.usage.input_tokens}/{r.usage.output_tokens}  latency={latency}")

# %% [markdown]
# ## A prompt with variables
#
# A prompt is a stored `{{templated}}` text with its declared variables. It gets an id
# (`pmpt_…`) and a version. A response can use it and fill its variables with plain Python values.

# %%
tutor = client.prompts.create(
    "You are a {{tone}} geography tutor.",
    variables=["tone"],
)
tutor

# %%
r = client.responses.create(
    input="What is the capital of France?",
    prompt=tutor,
    variables={"tone": "friendly"},
    max_output_tokens=32,
)
print(r.output_text)

# %% [markdown]
# `rendered_messages` are exactly what the model saw: the rendered prompt is the system message.

# %%
for message in r.rendered_messages:
    print(f"[{message['role']}] {message['content']}")

# %% [markdown]
# ## Streaming
#
# With `stream=True` you get the Responses API's events as they are generated. An answer that
# reaches `max_output_tokens` is `incomplete`, as a Llama Stack server reports it, and
# `cut_off` says that this is why (every view marks it "cut off at max_output_tokens").

# %%
stream = client.responses.create(input="Name three colours.", max_output_tokens=24, stream=True)
for event in stream:
    if event.type == "response.output_text.delta":
        print(event.delta, end="")
print()
print("final status:", stream.response.status, "| cut off:", stream.response.cut_off)

# %% [markdown]
# ## Mistakes are caught before anything runs
#
# Every llamabook error derives from `lb.LlamabookError`, and its message says what to change.
# A declared variable without a value is refused before the model is called:

# %%
try:
    client.responses.create(input="Hi", prompt=tutor, variables={})
except lb.MissingVariables as exc:
    print(f"{type(exc).__name__}: {exc}")

# %% [markdown]
# ## Everything as a DataFrame
#
# Every list the client returns has `.to_pandas()` with stable columns. Responses are stored
# with their usage and latency (not shown here, because it changes from run to run).

# %%
client.responses.list(order="asc").to_pandas()[["id", "status", "prompt_version", "output_tokens", "output_text"]]

# %% [markdown]
# ## The `%%llama` cell magic
#
# `%load_ext llamabook` adds `%%llama`: the cell body is a template, its `{{placeholders}}` take
# values from `--var` or from the notebook's variables. `-o name` binds the `Response`.
#
# The answer streams into the cell by default. These notebooks pass `--no-stream` (show it when
# complete) because their tests compare saved outputs, and a streamed display is a sequence of
# updates that nbval does not replay.

# %%
%load_ext llamabook
%llama cassette cassettes/01-quickstart.jsonl

# %%
tone = "cheerful"

# %%
%%llama -i "What is the capital of Italy?" --max-tokens 32 --no-stream -o answer
You are a {{tone}} geography tutor.

# %% [markdown]
# The body is the same template as `tutor` above, so the stored prompt was reused (same id).

# %%
answer.prompt.id == tutor.prompt_id, answer.usage.output_tokens, answer.output_text

# %% [markdown]
# `%llama` with one word lists what is stored (`models`, `prompts`, `files`, `responses`) or shows
# the configuration:

# %%
%llama prompts

# %% [markdown]
# Next: [02 · Prompts and versions](02-prompts-and-versions.ipynb).

# %%
client.close()
