# %% [markdown]
# # 9 · Is the new version really better?
#
# Notebook 7 picked a winner from four rows. Four rows can't tell two versions apart: 4 of 4
# against 1 of 4 looks decisive, yet the 95% intervals overlap and a paired test finds no evidence.
# This notebook asks the question properly:
#
# 1. **repeats**: each row asked several times, because a sampled answer varies;
# 2. **intervals**: every rate with its uncertainty;
# 3. **a paired test**: the two versions compared on the same rows and repeats;
# 4. **a behaviour diff**: what actually changed, row by row;
# 5. **human labels**: a few answers labelled by hand, and how far the judge agrees with them;
# 6. **a gate**: the label moves only if the evidence clears the bar.

# %%
import os
import tempfile

import pandas as pd

import llamabook as lb
from llamabook import checks

os.environ["LLAMABOOK_HOME"] = tempfile.mkdtemp(prefix="llamabook-notebook-")
os.environ.pop("LLAMABOOK_BASE_URL", None)  # the embedded model, as in notebook 7
client = lb.Client(cassette="cassettes/09-is-it-really-better.jsonl", record="new")

# %% [markdown]
# ## Two versions, six rows, three repeats each
#
# `repeats=3` asks every row three times per version and adds a `repeat` column. Repeats differ
# only when sampling does, so the temperature is above 0. On the embedded model each repeat samples
# with its own seed (made from the call's key), so this grid gives the same answers on every run.

# %%
client.prompts.save("tutor", "What is the capital of {{country}}? Answer in one short sentence.")
client.prompts.save("tutor", "You are a geography tutor. In one sentence, name the capital city of {{country}}.")

rows = pd.DataFrame(
    {
        "country": ["Ireland", "France", "Italy", "Japan", "Spain", "Egypt"],
        "capital": ["Dublin", "Paris", "Rome", "Tokyo", "Madrid", "Cairo"],
    }
)
grid = client.grid(
    "tutor",
    rows,
    versions=[1, 2],
    repeats=3,
    temperature=0.7,
    max_output_tokens=32,
    progress=False,
    checks={
        "names_capital": checks.contains(checks.column("capital"), ignore_case=True),
        "short": checks.max_words(20),
        "on_topic": checks.judge("Does the answer name a city in {{country}}?"),
    },
)
grid[["country", "version", "repeat", "output_text", "check_names_capital", "check_short", "check_on_topic"]].head(6)

# %% [markdown]
# ## Rates with their uncertainty
#
# `lb.scores` gives each rate its 95% interval (`_low`, `_high`): Wilson's interval for one check's
# pass rate, and for the overall rate a bootstrap that resamples input rows, because the checks and
# repeats of one row are not independent. `n_<check>` is how many calls the check judged;
# `errors_<check>` how many it could not (an error is never a pass or a fail).

# %%
scored = lb.scores(grid)
columns = ["version", "calls"] + [
    c for c in scored.columns if c.startswith(("pass_rate_names_capital", "pass_rate_on_topic", "n_names", "errors_names"))
]
scored[columns]

# %% [markdown]
# ## The paired test
#
# `lb.significance` pairs each call of version 1 with the call of version 2 on the same row and
# repeat, and tests each check: an exact McNemar test for pass/fail (only the pairs where the
# versions disagree carry information), Holm-adjusted across the checks. The verdict is `better`
# or `worse` only when the adjusted p-value is below `alpha`; otherwise `no evidence`.

# %%
lb.significance(grid, baseline=1, candidate=2)

# %% [markdown]
# ## What changed, row by row
#
# `lb.behaviour_diff` lines up the same pairs and shows the word-level diff of the two answers,
# the checks that flipped and the token deltas, biggest change first. `only_changes=True` keeps the
# pairs where anything changed. (`BehaviourView` from `llamabook.widgets` shows it as a panel whose
# **open** buttons show both responses.)

# %%
diff = lb.behaviour_diff(grid, baseline=1, candidate=2, only_changes=True)
diff.to_pandas()[["country", "repeat", "flipped", "words_changed", "output_tokens_delta"]].head(8)

# %%
diff

# %% [markdown]
# ## Labels by hand, and the judge's agreement
#
# The judge is the same 135M model, so how far can it be trusted? Label some answers yourself and
# measure. `AnnotateView(client, grid, "on_topic", choices=[True, False])` shows one answer at a
# time with buttons and keyboard shortcuts (`1`, `2`, `j`/`k`); every label is stored in the home
# database under the call's `call_key`, so it survives re-runs and replays. Here the labels of the
# first eight answers, as a person reading them gave them, are set in code:

# %%
from llamabook.widgets import AnnotateView

AnnotateView(client, grid, "on_topic", choices=[True, False])

# %%
# What a person said of the first eight answers: does it name a city in the country?
# (Ireland v1 × 3: Dublin each time; Ireland v2 × 3: landscapes, castles, a tutor, but no city; France v1 × 2: Paris.)
by_hand = [True, True, True, False, False, False, True, True]
for position, value in enumerate(by_hand):
    client.annotations.set(grid.iloc[position], "on_topic", value)
labelled = client.annotations.attach(grid)
labelled[["country", "version", "repeat", "output_text", "check_on_topic", "human_on_topic"]].head(8)

# %% [markdown]
# Cohen's kappa corrects the raw agreement for the agreement chance alone would give. Rows without
# a human label are left out (and counted), and so would be a judge verdict that raised.

# %%
lb.agreement(labelled, "check_on_topic", "human_on_topic")

# %% [markdown]
# ## Moving the label through a gate
#
# `production` points at version 1. Should version 2 take its place? `promote` moves the label
# only if, for each required check, the **lower end** of its interval reaches the minimum, and,
# with a `baseline`, the version is not significantly worse on any check. A gate that fails raises
# `lb.GateFailed` with the table, and nothing moves:

# %%
client.prompts.set_label("tutor", "production", version=1)
try:
    client.prompts.promote("tutor", "production", version=2, evidence=grid, require={"names_capital": 0.5}, baseline="tutor@production")
except lb.GateFailed as failed:
    print(failed)
    gate_table = failed.table
gate_table[["check", "required", "value", "low", "high", "n", "verdict", "passed"]]

# %% [markdown]
# Version 1 clears a bar of 0.7 (its lower end is 0.74), and is not worse than version 2, so a
# gated move of the `reviewed` label goes through; the move keeps what was measured:

# %%
client.prompts.promote("tutor", "reviewed", version=1, evidence=grid, require={"names_capital": 0.7}, baseline=2)
history = client.prompts.label_history("tutor").to_pandas()
history[["label", "from_version", "to_version"]].assign(
    gate=["set by hand" if e is None else f"{len(e['checks'])} checks on {e['calls']} calls" for e in history["evidence"]]
)

# %% [markdown]
# In CI, `lb.assert_no_regression(grid, baseline=…, candidate=…)` raises an `AssertionError` with the
# table when any check got significantly worse (see the docs' *Regression testing*), and returns the
# table otherwise. Here version 1 against version 2 passes:

# %%
lb.assert_no_regression(grid, baseline=2, candidate=1)[["check", "delta", "p_adjusted", "verdict"]]

# %% [markdown]
# Back to the [tutorials](01-quickstart.ipynb).

# %%
client.close()
