# %% [markdown]
# # 7 · Compare and decide
#
# Two versions of a prompt, run over the same rows, checked, scored and shown side by side; then
# the better one gets the **`production`** label, and everything that names `tutor@production`
# (code, grids, `%%llama -p`) runs it. Labels and the checks live in the home database, so this
# works the same against a Llama Stack / OGX server, whose only pointer is its default version.

# %%
import os
import tempfile
from pathlib import Path

import matplotlib.pyplot as plt
import pandas as pd

import llamabook as lb
from llamabook import checks
from llamabook.evaluation.scores import plot_pass_rate

os.environ["LLAMABOOK_HOME"] = tempfile.mkdtemp(prefix="llamabook-notebook-")
os.environ.pop("LLAMABOOK_BASE_URL", None)  # this notebook runs on the embedded model (05 uses a server)
client = lb.Client(
    cassette="cassettes/07-compare-and-decide.jsonl",  # replays recorded calls (notebook 1)
    record="new",
    prices={"smollm2-135m-instruct": (0.05, 0.10)},  # USD per million tokens in / out, for the costs below
)

# %% [markdown]
# ## Two versions, and what changed

# %%
client.prompts.save("tutor", "You are a geography tutor. What is the capital of {{country}}? Answer in one short sentence.")
client.prompts.save("tutor", "You are a poet. Write a few lines about {{country}} and its capital.")
client.prompts.diff("tutor@1", "tutor@2")

# %% [markdown]
# ## A grid with checks
#
# Each check adds a `check_<name>` column: `contains` and `max_words` pass or fail, `similar_to`
# is a score from 0 to 1 (string similarity, no model), and `judge` asks a model a yes/no question
# about each answer. On the embedded model the judge's verdict is constrained by a grammar made
# from a JSON schema, so it always parses; each verdict keeps the judge's own response id.

# %%
rows = pd.DataFrame(
    {"country": ["Ireland", "France", "Italy", "Japan"], "capital": ["Dublin", "Paris", "Rome", "Tokyo"]}
)
grid = client.grid(
    "tutor",
    rows,
    versions=[1, 2],
    max_output_tokens=32,
    progress=False,
    checks={
        "names_capital": checks.contains(checks.column("capital"), ignore_case=True),
        "short": checks.max_words(15),
        "close": checks.similar_to(checks.column("capital")),
        "on_topic": checks.judge("Does the answer name a city in {{country}}?"),
    },
)
grid[["country", "version", "output_text", "check_names_capital", "check_short", "check_close", "check_on_topic"]]

# %% [markdown]
# A check that raises (a bug in it, or a judge whose call failed or whose answer was not a yes/no
# verdict) gives no verdict: its `check_<name>` is `<NA>`, never `False`, its message is in
# `check_<name>_error`, and the grid warns once (`lb.CheckErrorWarning`). This cell prints every
# check error, so a run where a check crashed cannot pass for one where the answers failed it:

# %%
error_columns = [c for c in grid.columns if c.startswith("check_") and c.endswith("_error")]
raised = grid.melt(id_vars=["country", "version"], value_vars=error_columns, var_name="check", value_name="message")
raised = raised.dropna(subset=["message"])
print(raised.to_string(index=False) if len(raised) else "no check errors")

# %% [markdown]
# The judge here is the same 135M-parameter model, so its verdicts are cheap but not wise (it says
# yes to every answer); on a server, pass `checks.judge(..., model="a-larger-model")`.
#
# ## Scores per version and model
#
# Pass rate per check (over the rows it evaluated), mean score, each with its 95% interval
# (`_low`, `_high`), the rows each check evaluated (`n_<name>`) and its errors (`errors_<name>`:
# rows where it raised, left out of the rates), failed calls, tokens, cost (from the prices given to
# the client, recorded with the grid) and latency (left out here: it differs on every run).

# %%
scored = lb.scores(grid)
scored.drop(columns=[c for c in scored.columns if c.startswith("latency_")])

# %%
ax = plot_pass_rate(scored)
ax.set_title("Pass rate of the checks, by version")
plt.show()

# %% [markdown]
# ## Side by side
#
# One row per input row, one column per version (× model), each answer with its check marks.
# `only_differences=True` keeps the rows whose answers differ; `save_html` writes one
# self-contained file to share (no script, no external URL).

# %%
comparison = lb.compare(grid, only_differences=True)
shared = comparison.save_html(Path(tempfile.mkdtemp()) / "tutor-v1-v2.html")
print(shared.name, "written")
comparison

# %% [markdown]
# The same grid in a panel: `CompareView` (from `llamabook.widgets`) shows it side by side, and a
# cell's **open** button shows that call's whole response under the table (read from the home
# database, so it makes no model call). Give it `lb.compare(grid, only_differences=True)` instead
# of the grid to keep only the rows that differ.

# %%
from llamabook.widgets import CompareView

CompareView(client, grid)

# %% [markdown]
# ## Promote the winner
#
# The version with the higher pass rate gets the `production` label; the move is recorded.
# (Four rows are thin evidence: [notebook 9](09-is-it-really-better.ipynb) asks the same question with
# repeats, intervals, a paired test and a gate that moves the label only when the evidence holds.)

# %%
winner = int(scored.sort_values(["pass_rate", "version"], ascending=[False, False]).iloc[0]["version"])
client.prompts.set_label("tutor", "production", version=winner)
client.prompts.versions("tutor").to_pandas()[["version", "is_default", "labels", "prompt"]]

# %%
client.prompts.label_history("tutor").to_pandas()[["label", "from_version", "to_version"]]

# %% [markdown]
# Anything that takes a prompt takes the label, `%%llama -p` included:

# %%
%load_ext llamabook
%llama cassette cassettes/07-compare-and-decide.jsonl

# %%
%%llama -p tutor@production --var country=Portugal --max-tokens 32 --no-stream
Which city is it?

# %% [markdown]
# Back to the [tutorials](01-quickstart.ipynb).

# %%
client.close()
