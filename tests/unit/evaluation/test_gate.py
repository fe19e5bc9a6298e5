"""client.prompts.promote: a label moves only when the evidence grid says the version is good enough.

The grids run on the scripted engine (its answer echoes the rendered prompt), so a check's outcome is
known: version 1 names the city (``has_city`` passes on every row), version 2 doesn't (it fails on every row).
"""

from __future__ import annotations

import pandas as pd
import pytest

import llamabook as lb
from llamabook.evaluation import checks

CITIES = ["Cork", "Sligo", "Galway", "Derry", "Ennis", "Tralee", "Athlone", "Kilkenny"]
CHECKS = {"has_city": checks.contains(checks.column("city")), "short": checks.max_words(40)}


@pytest.fixture
def evidence(quick_client: lb.Client) -> pd.DataFrame:
    quick_client.prompts.save("weather", "Weather in {{city}}?")
    quick_client.prompts.save("weather", "Weather somewhere, for {{city}} people?".replace("{{city}}", "local"))
    return quick_client.grid("weather", pd.DataFrame({"city": CITIES}), versions=[1, 2], checks=CHECKS, progress=False)


def test_a_version_whose_interval_clears_the_bar_is_promoted_with_its_evidence(
    quick_client: lb.Client, evidence: pd.DataFrame
) -> None:
    moved = quick_client.prompts.promote("weather", "production", version=1, evidence=evidence, require={"has_city": 0.6})
    assert moved.version == 1 and quick_client.prompts.get("weather@production").version == 1
    history = quick_client.prompts.label_history("weather")
    kept = history[-1].evidence
    assert kept is not None and kept["version"] == 1 and kept["calls"] == 8 and kept["input_rows"] == 8
    has_city = next(row for row in kept["checks"] if row["check"] == "has_city")
    # 8 of 8: Wilson's 95% interval is [0.676, 1.0], whose lower end clears 0.6
    assert has_city["value"] == 1.0 and has_city["low"] == pytest.approx(0.6756, abs=1e-4) and has_city["passed"]
    assert has_city["required"] == 0.6 and has_city["n"] == 8 and has_city["errors"] == 0


def test_a_bar_the_interval_does_not_clear_fails_the_gate_and_nothing_moves(
    quick_client: lb.Client, evidence: pd.DataFrame
) -> None:
    with pytest.raises(lb.GateFailed, match=r"production was not moved to weather@1: has_city: interval's lower end 0\.676 is below 0\.9") as caught:
        quick_client.prompts.promote("weather", "production", version=1, evidence=evidence, require={"has_city": 0.9})
    table = caught.value.table
    assert table.set_index("check").loc["has_city", "passed"] == False  # noqa: E712 (a pandas boolean)
    assert table.set_index("check").loc["short", "passed"] == True  # noqa: E712 (not required, not compared)
    assert len(quick_client.prompts.label_history("weather")) == 0


def test_a_version_significantly_worse_than_the_baseline_fails_even_unrequired(
    quick_client: lb.Client, evidence: pd.DataFrame
) -> None:
    quick_client.prompts.set_label("weather", "production", 1)
    with pytest.raises(lb.GateFailed, match="has_city: significantly worse than the baseline") as caught:
        quick_client.prompts.promote("weather", "production", version=2, evidence=evidence, baseline="weather@production")
    verdicts = dict(zip(caught.value.table["check"], caught.value.table["verdict"]))
    assert verdicts == {"has_city": "worse", "short": "no evidence"}  # 8 discordant pairs one way: p = 2 · 0.5**8
    assert quick_client.prompts.get("weather@production").version == 1
    # the other way round it is better, and with no requirement it moves
    quick_client.prompts.promote("weather", "staging", version=1, evidence=evidence, baseline=2)
    assert quick_client.prompts.label_history("weather")[-1].evidence["baseline"] == 2


def test_bad_gates_are_refused_before_anything_is_measured_or_moved(
    quick_client: lb.Client, evidence: pd.DataFrame
) -> None:
    other = quick_client.grid("Hello {{city}}", pd.DataFrame({"city": ["Cork"]}), checks=CHECKS, progress=False)
    cases = [
        (dict(evidence=evidence, require={"has_town": 0.5}), r"require names the check 'has_town', which the evidence grid lacks \(its checks: has_city, short\)"),
        (dict(evidence=evidence, require={"has_city": 1.5}), r"between 0 and 1"),
        (dict(evidence=evidence, require=["has_city"]), r"require takes \{check: minimum\}"),
        (dict(evidence=other, require={"has_city": 0.5}), r"did not run pmpt_"),
        (dict(require={"has_city": 0.5}), r"are measured on evidence="),
        (dict(evidence=evidence[evidence["version"] == 2], require={"has_city": 0.5}), r"no calls of version 1"),
        (dict(evidence=evidence, require={"has_city": 0.5}, alpha=2), r"alpha is a significance level"),
        (dict(evidence=evidence, baseline=7), r"baseline v7 is not in the grid"),
    ]
    for arguments, message in cases:
        with pytest.raises(lb.InvalidRequest, match=message):
            quick_client.prompts.promote("weather", "production", version=1, **arguments)
    assert len(quick_client.prompts.label_history("weather")) == 0
