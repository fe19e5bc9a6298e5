# %% [markdown]
# # 4 · A grid over a DataFrame
#
# `client.grid` runs a prompt for every **row × version × model** and returns one DataFrame row
# per call: the row's own columns, then the prompt version, the answer, status, tokens, latency
# and the response id. Calls run on a small thread pool, and every finished call is logged in the
# home database, so running the same grid again repeats no call.

# %%
import os
import tempfile
from pathlib import Path

import matplotlib.pyplot as plt
import pandas as pd

import llamabook as lb

os.environ["LLAMABOOK_HOME"] = tempfile.mkdtemp(prefix="llamabook-notebook-")
os.environ.pop("LLAMABOOK_BASE_URL", None)  # this notebook runs on the embedded model (05 uses a server)
client = lb.Client(cassette="cassettes/04-batch-to-dataframe.jsonl", record="new")  # replays recorded calls (notebook 1)

# %% [markdown]
# ## Rows and two prompt versions

# %%
rows = pd.DataFrame({"country": ["Ireland", "France", "Italy"], "region": ["Europe", "Europe", "Europe"]})

capital = client.prompts.create("What is the capital of {{country}}?", variables=["country"])
capital = client.prompts.update(
    capital.prompt_id,
    prompt="You are a geography tutor. Name the capital of {{country}} in one short sentence.",
    version=1,
    variables=["country"],
)
rows

# %% [markdown]
# Three rows × versions 1 and 2 = six calls. `progress=False` hides the progress bar.

# %%
grid = client.grid(capital, rows, versions=[1, 2], max_output_tokens=24, progress=False)
grid[["country", "version", "status", "output_tokens", "cached", "output_text"]]

# %% [markdown]
# The columns and their types are fixed, whatever the prompt:

# %%
grid.dtypes

# %% [markdown]
# ## Running it again costs nothing
#
# The same request (template, values, model, options) comes back from the run log, marked `cached`:

# %%
again = client.grid(capital, rows, versions=[1, 2], max_output_tokens=24, progress=False)
print("cached:", again["cached"].tolist())
print("same answers:", again["output_text"].equals(grid["output_text"]))

# %% [markdown]
# ## Versions side by side

# %%
grid.pivot(index="country", columns="version", values="output_text")

# %% [markdown]
# ## Parquet
#
# The grid (like every `.to_pandas()` frame) round-trips through Parquet with its types.

# %%
out = Path(tempfile.mkdtemp(prefix="llamabook-notebook-")) / "capitals.parquet"
grid.to_parquet(out)
back = pd.read_parquet(out)
print("same frame after Parquet:", back.equals(grid), "| same dtypes:", back.dtypes.equals(grid.dtypes))

# %% [markdown]
# ## Tokens and latency
#
# The token counts are the same on every run, because decoding is greedy:

# %%
labels = [f"{c} v{v}" for c, v in zip(grid["country"], grid["version"])]
fig, ax = plt.subplots(figsize=(5, 3.2))
ax.barh(labels, grid["output_tokens"], color="tab:orange")
ax.set_xlabel("output tokens")
ax.set_title("grid: one bar per call")
fig.tight_layout()

# %% [markdown]
# Latency changes from run to run (it is the one thing these notebooks do not check), and only a
# call the model ran has one: an answer replayed from the cassette has `replayed` True and a null
# `latency_s`. So the chart shows the live calls only.

# %%
live = grid[~grid["replayed"]]
if live.empty:
    print(
        "These answers were replayed from the cassette, so there are no latencies to plot: run the model live "
        "to measure them ($LLAMABOOK_RECORD=all, which records the cassette again, or a client without cassette=)."
    )
else:
    fig, ax = plt.subplots(figsize=(5, 3.2))
    ax.barh([f"{c} v{v}" for c, v in zip(live["country"], live["version"])], live["latency_s"], color="tab:blue")
    ax.set_xlabel("latency (s)")
    ax.set_title("live calls: one bar each")
    fig.tight_layout()

# %%
grid.groupby("version")[["input_tokens", "output_tokens"]].sum()

# %% [markdown]
# ## The same grid from a cell: `%%llama --over`
#
# `--over DF` runs the cell's template for every row of `DF` and binds the result DataFrame to
# `_llama` (and to `-o NAME`). The template and options match the grid above, so every call
# comes from the run log. (This cell's output shows latencies and a progress bar, so it is not
# compared when the notebook is tested.)

# %%
%load_ext llamabook
%llama cassette cassettes/04-batch-to-dataframe.jsonl

# %% tags=["nbval-ignore-output"]
%%llama --over rows --max-tokens 24 -o from_cell
You are a geography tutor. Name the capital of {{country}} in one short sentence.

# %%
from_cell[["country", "version", "cached", "output_text"]]

# %% [markdown]
# ## Replay only: the grid without the model
#
# A client with `record="none"` answers only from a cassette, here this notebook's own, with no
# model loaded. The six calls above come back exactly; a row that was never recorded (Peru)
# becomes a row with a `CassetteMiss` error, never a lost grid. Its home is new, so it stores
# the two prompt versions again: the cassette matches what the model is sent, not the ids.
# (This section picks its mode itself, so it sets `$LLAMABOOK_RECORD` aside while it runs:
# the tests set that variable to replay the whole notebook.)

# %%
saved_mode = os.environ.pop("LLAMABOOK_RECORD", None)
replay = lb.Client(
    tempfile.mkdtemp(prefix="llamabook-notebook-"), cassette="cassettes/04-batch-to-dataframe.jsonl", record="none"
)
tutor = replay.prompts.create("What is the capital of {{country}}?", variables=["country"])
tutor = replay.prompts.update(
    tutor.prompt_id,
    prompt="You are a geography tutor. Name the capital of {{country}} in one short sentence.",
    version=1,
    variables=["country"],
)
more = pd.concat([rows, pd.DataFrame({"country": ["Peru"], "region": ["South America"]})], ignore_index=True)
replayed = replay.grid(tutor, more, versions=[1, 2], max_output_tokens=24, progress=False)
if saved_mode is not None:
    os.environ["LLAMABOOK_RECORD"] = saved_mode
print("same answers as the live grid:", replayed["output_text"].head(6).equals(grid["output_text"]))
replayed[["country", "version", "status", "error"]]

# %%
replay.close()
client.close()
