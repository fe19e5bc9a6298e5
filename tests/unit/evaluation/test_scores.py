"""``scores`` (a grid's numbers per version × model), ``plot_pass_rate``, ``compare`` and ``CompareView``.

The grids run on two scripted engines (no model): ``test/a`` echoes what it was sent (five or seven
words) and fails on Galway; ``test/b`` answers "Fine." (one word), "Rain." for Dublin's forecast.
A row without a city fails in every column before any call. The checks are added with plain pandas.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import matplotlib

matplotlib.use("Agg")

import ipywidgets as widgets  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402
from matplotlib.axes import Axes  # noqa: E402

import llamabook as lb  # noqa: E402
from llamabook.evaluation.compare import Comparison, compare  # noqa: E402
from llamabook.evaluation.scores import plot_pass_rate, scores  # noqa: E402
from llamabook.widgets import CompareView, ResponseView, RunsTable  # noqa: E402
from support.htmlcheck import URL_ATTRIBUTES, active_parts, tags, text  # noqa: E402
from support.scripted_engine import ScriptedEngine, text_of  # noqa: E402

A, B = "test/a", "test/b"
CITIES = ["Cork", "Dublin", "Galway", None]
COLUMNS = [(1, A), (1, B), (2, A), (2, B)]
PRICES = {A: (1.0, 2.0), B: (10.0, 100.0)}
#: Latency per (row, version, model) of the calls that answered, set by hand so the quantiles are known.
LATENCY = {
    (0, 1, A): 1.0, (1, 1, A): 3.0,
    (0, 1, B): 2.0, (1, 1, B): 4.0, (2, 1, B): 6.0,
    (0, 2, A): 0.5, (1, 2, A): 0.5,
    (0, 2, B): 1.0, (1, 2, B): 1.0, (2, 2, B): 3.0,
}  # fmt: skip
#: A score check per (row, version, model), binary fractions so the means are exact.
QUALITY = {
    (0, 1, A): 0.25, (1, 1, A): 0.75,
    (0, 1, B): 1.0, (1, 1, B): 0.5, (2, 1, B): 0.75,
    (0, 2, A): 0.5, (1, 2, A): 0.5,
    (0, 2, B): 0.0, (1, 2, B): 0.25, (2, 2, B): 0.5,
}  # fmt: skip


def fine_or_rain(messages: list[dict]) -> str:
    system = " ".join(text_of(m["content"]) for m in messages if m.get("role") == "system")
    return "Rain." if "forecast for Dublin" in system else "Fine."


@pytest.fixture
def two_models(tmp_path: Path) -> Iterator[lb.Client]:
    echo = ScriptedEngine(A).fail("Galway")  # not retryable: a failed call that keeps its failed response
    with lb.Client(tmp_path / "home", engines=[echo, ScriptedEngine(B, answer=fine_or_rain)]) as client:
        client.prompts.save("weather", "Weather in {{city}}?")  # 3 words in, "[system: Weather in Cork?] echo:" out
        client.prompts.save("weather", "Give the forecast for {{city}}.")  # 5 words in, 7 out from test/a
        yield client


@pytest.fixture
def grid(two_models: lb.Client) -> pd.DataFrame:
    rows = pd.DataFrame({"city": CITIES})
    frame = two_models.grid("weather", rows, versions=[1, 2], models=[A, B], progress=False)
    keys = list(zip(frame["row"], frame["version"], frame["model"]))
    frame["latency_s"] = pd.array([LATENCY.get(key) for key in keys], dtype="Float64")
    answered = frame["output_text"].notna()
    frame["check_mentions_cork"] = frame["output_text"].str.contains("Cork").astype("boolean")
    frame["check_short"] = (frame["output_text"].str.len() < 10).astype("boolean")
    frame["check_short_error"] = pd.array([None] * len(frame), dtype="string")
    frame["check_short_judge_id"] = pd.array([None] * len(frame), dtype="string")
    frame["check_quality"] = pd.array([QUALITY.get(key) for key in keys], dtype="Float64")
    assert (frame["check_short"].isna() == ~answered).all()  # a failed call has null checks, as the grid gives them
    return frame


def test_the_grid_these_tests_use(grid: pd.DataFrame) -> None:
    assert len(grid) == 16
    assert list(zip(grid["version"], grid["model"]))[:4] == COLUMNS
    failed = grid[grid["status"] == "failed"]
    assert sorted(zip(failed["row"], failed["version"], failed["model"])) == sorted(
        [(2, 1, A), (2, 2, A)] + [(3, version, model) for version, model in COLUMNS]
    )
    line = grid[(grid["row"] == 0) & (grid["version"] == 2) & (grid["model"] == A)].iloc[0]
    assert line["output_text"] == "[system: Give the forecast for Cork.] echo:"
    assert (line["input_tokens"], line["output_tokens"]) == (5, 7)


# ---- scores -------------------------------------------------------------------------------------------


def test_scores_give_one_row_per_version_and_model_with_exact_numbers(grid: pd.DataFrame) -> None:
    table = scores(grid, prices=PRICES)
    assert list(table.columns) == [
        "version", "model", "calls", "failed",
        "pass_rate", "pass_rate_low", "pass_rate_high",
        "pass_rate_mentions_cork", "pass_rate_mentions_cork_low", "pass_rate_mentions_cork_high",
        "pass_rate_short", "pass_rate_short_low", "pass_rate_short_high",
        "mean_score", "mean_score_low", "mean_score_high", "score_quality", "score_quality_low", "score_quality_high",
        "n_mentions_cork", "errors_mentions_cork", "n_short", "errors_short", "n_quality", "errors_quality",
        "output_tokens_mean", "output_tokens_total",
        "latency_p50_s", "latency_p50_s_low", "latency_p50_s_high", "latency_p95_s", "latency_p95_s_low", "latency_p95_s_high",
        "cost_usd", "cost_per_call_usd", "cost_per_call_usd_low", "cost_per_call_usd_high",
    ]  # each interval right after the figure it bounds; n_ (evaluated) next to errors_  # fmt: skip
    assert list(zip(table["version"], table["model"])) == COLUMNS  # the grid's order
    assert table["calls"].tolist() == [4, 4, 4, 4]
    assert table["failed"].tolist() == [2, 1, 2, 1]  # test/a fails on Galway; the row without a city everywhere
    # test/a answered Cork and Dublin: mentions Cork once, never short; test/b answered three times, always short.
    assert table["pass_rate_mentions_cork"].tolist() == [0.5, 0.0, 0.5, 0.0]
    assert table["pass_rate_short"].tolist() == [0.0, 1.0, 0.0, 1.0]
    assert table["pass_rate"].tolist() == [0.25, 0.5, 0.25, 0.5]  # passes among all pass/fail results: 1/4, 3/6
    assert table["score_quality"].tolist() == [0.5, 0.75, 0.5, 0.25]
    assert table["mean_score"].tolist() == [0.5, 0.75, 0.5, 0.25]
    assert table[["errors_mentions_cork", "errors_short", "errors_quality"]].eq(0).all().all()  # no check raised
    assert table["output_tokens_mean"].tolist() == [5.0, 1.0, 7.0, 1.0]
    assert table["output_tokens_total"].tolist() == [10, 3, 14, 3]
    assert table["latency_p50_s"].tolist() == pytest.approx([2.0, 4.0, 0.5, 1.0], abs=1e-12)
    assert table["latency_p95_s"].tolist() == pytest.approx([2.9, 5.8, 0.5, 2.8], abs=1e-12)  # linear
    # (input tokens × input price + output tokens × output price) / 1e6; failed calls reported no tokens
    expected = [(6 * 1 + 10 * 2) / 1e6, (9 * 10 + 3 * 100) / 1e6, (10 * 1 + 14 * 2) / 1e6, (15 * 10 + 3 * 100) / 1e6]
    assert table["cost_usd"].tolist() == pytest.approx(expected, rel=1e-12)
    dtypes = {name: str(dtype) for name, dtype in table.dtypes.items()}
    assert dtypes["version"] == "Int64" and dtypes["calls"] == "int64" and dtypes["pass_rate"] == "Float64"
    assert dtypes["output_tokens_total"] == "Int64" and dtypes["cost_usd"] == "Float64"
    assert dtypes["errors_short"] == "int64"


def test_latencies_leave_replayed_answers_out(grid: pd.DataFrame) -> None:
    """An answer replayed from a cassette has a null ``latency_s`` (``replayed`` True): p50/p95 are over live calls."""
    keys = list(zip(grid["row"], grid["version"], grid["model"]))
    replayed = pd.Series([key in {(0, 1, A), (1, 1, A), (2, 1, B)} for key in keys], index=grid.index)
    grid["replayed"] = replayed.to_numpy()
    grid["latency_s"] = grid["latency_s"].mask(replayed)  # as the grid gives a replayed row
    table = scores(grid)
    assert table["calls"].tolist() == [4, 4, 4, 4]  # replayed calls still count as calls
    assert table["latency_p50_s"].tolist()[1:] == pytest.approx([3.0, 0.5, 1.0], abs=1e-12)  # (1, B): 2 and 4 only
    assert table["latency_p95_s"].tolist()[1:] == pytest.approx([3.9, 0.5, 2.8], abs=1e-12)
    assert table["latency_p50_s"].isna().tolist() == [True, False, False, False]  # (1, A): every answer replayed
    assert table["latency_p95_s"].isna().tolist() == [True, False, False, False]


def raised(grid: pd.DataFrame, check: str, row: int, column: tuple[int, str], message: str, value: object = None) -> None:
    """Mark the check ``check`` of one call as raised: its message, and ``value`` (None: <NA>, as a grid gives it)."""
    at = grid.index[(grid["row"] == row) & (grid["version"] == column[0]) & (grid["model"] == column[1])][0]
    if f"check_{check}_error" not in grid.columns:
        grid[f"check_{check}_error"] = pd.array([None] * len(grid), dtype="string")
    grid.loc[at, f"check_{check}_error"] = message
    grid.loc[at, f"check_{check}"] = pd.NA if value is None else value


def test_scores_leave_checks_that_raised_out_of_the_rates_and_count_them(grid: pd.DataFrame) -> None:
    raised(grid, "short", 0, (1, B), "ImportError: half imported")  # as a grid gives it: <NA>
    raised(grid, "short", 1, (1, B), "ValueError: odd row", value=False)  # an older grid: an error stored as False
    raised(grid, "quality", 0, (1, A), "ZeroDivisionError: division by zero", value=0.0)
    table = scores(grid)
    # test/b, v1 answered rows 0-2, always short: row 2 is the one verdict left, a pass (a fail for each error: 1/3).
    assert table["pass_rate_short"].tolist() == [0.0, 1.0, 0.0, 1.0]
    assert table["errors_short"].tolist() == [0, 2, 0, 0] and table["errors_mentions_cork"].tolist() == [0, 0, 0, 0]
    assert table["pass_rate"].tolist() == [0.25, 0.25, 0.25, 0.5]  # v1 test/b: 1 pass among 4 verdicts (was 3 of 6)
    assert table["score_quality"].tolist() == [0.75, 0.75, 0.5, 0.25]  # v1 test/a: 0.75 alone, not (0.0 + 0.75) / 2
    assert table["errors_quality"].tolist() == [1, 0, 0, 0] and table["calls"].tolist() == [4, 4, 4, 4]
    plain = scores(grid.drop(columns=["check_short_error", "check_quality_error"]))  # no error columns: nothing raised
    assert plain["errors_short"].tolist() == [0, 0, 0, 0]
    assert plain["pass_rate_short"][1] == 0.5  # the <NA> left out as any null; the False, not known as an error, a fail


def test_prices_come_from_the_argument_else_the_grid_attrs_else_cost_is_null(grid: pd.DataFrame) -> None:
    assert scores(grid)["cost_usd"].isna().all()
    grid.attrs["llamabook"] = {"prices": {A: [1.0, 2.0]}}  # as Client(prices=…) records them; B has no price
    recorded = scores(grid)["cost_usd"]
    assert recorded[0] == pytest.approx(26e-6) and recorded[2] == pytest.approx(38e-6)
    assert recorded.isna().tolist() == [False, True, False, True]
    given = scores(grid, prices={A: (0.0, 1.0), B: (0.0, 0.0)})["cost_usd"]  # the argument wins
    assert given.tolist() == pytest.approx([10e-6, 0.0, 14e-6, 0.0])


def test_scores_of_a_grid_without_checks_have_null_rates(grid: pd.DataFrame) -> None:
    plain = grid[[c for c in grid.columns if not c.startswith("check_")]]
    table = scores(plain)
    rates = ["pass_rate", "pass_rate_low", "pass_rate_high", "mean_score", "mean_score_low", "mean_score_high"]
    assert [c for c in table.columns if "pass" in c or "score" in c] == rates
    assert table[rates].isna().all().all()
    assert table["failed"].tolist() == [2, 1, 2, 1]


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda g: scores(g, prices={A: (1.0,)}), "prices['test/a'] is (1.0,): give (input_per_million"),
        (lambda g: scores(g, prices={A: (-1.0, 2.0)}), "two numbers ≥ 0"),
        (lambda g: scores(g, prices=[(1.0, 2.0)]), "prices is {model: (input_per_million, output_per_million)}"),
        (lambda g: scores(g.to_dict()), "scores() takes the DataFrame client.grid returns, not a dict"),
        (lambda g: scores(g.drop(columns=["latency_s"])), "this DataFrame has no ['latency_s']"),
        (lambda g: scores(g.assign(check_odd="x")), "The check column 'check_odd' holds 'x' (str): a check is boolean"),
        (lambda g: compare(g.drop(columns=["response_id"])), "compare() takes the DataFrame client.grid returns"),
        (lambda g: compare(pd.concat([g, g])), "more than one call for row 0, v1 test/a"),
        (lambda g: compare(g, only_differences="yes"), "only_differences is True or False"),
    ],
)
def test_bad_input_is_a_clear_error(grid: pd.DataFrame, call, message: str) -> None:
    with pytest.raises(lb.InvalidRequest) as raised:
        call(grid)
    assert message in str(raised.value)


# ---- plot_pass_rate --------------------------------------------------------------------------------------


def test_plot_pass_rate_draws_one_bar_per_version_and_model(grid: pd.DataFrame) -> None:
    table = scores(grid)
    ax = plot_pass_rate(table)
    assert isinstance(ax, Axes)
    assert len(ax.patches) == 4
    bars = sorted((round(p.get_x() + p.get_width() / 2, 6), p.get_height()) for p in ax.patches)
    assert [height for _, height in bars] == [0.25, 0.5, 0.25, 0.5]  # v1 a, v1 b, v2 a, v2 b along x
    assert [t.get_text() for t in ax.get_xticklabels()] == ["v1", "v2"]
    assert [t.get_text() for t in ax.get_legend().get_texts()] == [A, B]
    assert ax.get_ylim() == (0.0, 1.0) and ax.get_ylabel() == "pass rate"

    import matplotlib.pyplot as plt

    _, mine = plt.subplots()
    assert plot_pass_rate(table, check="quality", ax=mine) is mine  # a score check, on the axes given
    assert sorted(p.get_height() for p in mine.patches) == [0.25, 0.5, 0.5, 0.75]
    assert mine.get_ylabel() == "score: quality"
    known = re.escape("no check 'nope'; their checks: ['mentions_cork', 'short', 'quality']")
    with pytest.raises(lb.InvalidRequest, match=known):
        plot_pass_rate(table, check="nope")
    plain = scores(grid[[c for c in grid.columns if not c.startswith("check_")]])
    with pytest.raises(lb.InvalidRequest, match="no pass/fail check to plot"):
        plot_pass_rate(plain)
    plt.close("all")


# ---- compare ---------------------------------------------------------------------------------------------


def test_compare_lays_out_one_line_per_row_and_one_column_per_version_and_model(grid: pd.DataFrame) -> None:
    comparison = compare(grid)
    assert comparison.rows == [0, 1, 2, 3] and comparison.columns == COLUMNS
    assert comparison.own_columns == ["city"]
    frame = comparison.frame
    labels = [Comparison.label(c) for c in COLUMNS]
    assert labels == ["v1 test/a", "v1 test/b", "v2 test/a", "v2 test/b"]
    assert list(frame.columns) == ["row", "city", *[name for label in labels for name in (label, f"{label} checks")]]
    assert frame["row"].tolist() == [0, 1, 2, 3] and frame["city"].tolist()[:3] == CITIES[:3]
    assert frame["v1 test/a"].tolist()[:2] == ["[system: Weather in Cork?] echo:", "[system: Weather in Dublin?] echo:"]
    assert frame["v2 test/b"].tolist()[:3] == ["Fine.", "Rain.", "Fine."]
    assert frame["v1 test/a checks"][0] == "✓ mentions_cork · ✗ short · 0.25 quality"
    assert frame["v1 test/a checks"][3] == "– mentions_cork · – short · – quality"  # no call made: no check ran
    assert frame["v1 test/a"].isna().tolist() == [False, False, True, True]  # failed calls have no output

    galway = comparison.cell(2, (1, A))
    assert galway.status == "failed" and galway.error == "EngineError: scripted failure on 'Galway'"
    assert galway.response_id  # the failed response is kept
    empty = comparison.cell(3, (2, B))
    assert empty.response_id is None and empty.error.startswith("MissingVariables:")
    assert comparison.cell(9, (1, A)) is None
    assert repr(comparison) == comparison._repr_mimebundle_()["text/plain"]
    assert repr(comparison) == "Comparison · 4 rows · 4 columns: v1 test/a, v1 test/b, v2 test/a, v2 test/b"


def test_only_differences_keeps_the_rows_whose_outputs_differ(grid: pd.DataFrame) -> None:
    assert compare(grid, only_differences=True).rows == [0, 1, 2]  # the row that failed everywhere has no output
    fine = grid[grid["model"] == B]  # "Fine." everywhere but Dublin's forecast
    assert compare(fine).rows == [0, 1, 2, 3]
    differing = compare(fine, only_differences=True)
    assert differing.rows == [1] and differing.frame["v1 test/b"].tolist() == ["Fine."]
    assert differing.frame["v2 test/b"].tolist() == ["Rain."]
    assert "1 row that differ" in repr(differing)
    same = compare(fine[fine["row"] != 1], only_differences=True)
    assert same.rows == [] and len(same.frame) == 0
    assert "every row has the same output in every column" in text(same._repr_html_())


HOSTILE = "<script>alert(1)</script> <img src=x onerror=alert(1)> see https://example.org/x.png"


def test_the_html_shows_model_and_row_text_inert(two_models: lb.Client) -> None:
    grid = two_models.grid("weather", [{"city": HOSTILE}], versions=[1, 2], models=[A, B], progress=False)
    grid["check_safe"] = pd.array([True, False, None, True], dtype="boolean")
    grid["check_safe_error"] = pd.array([None, '<img src=y onerror="alert(2)">', None, None], dtype="string")
    assert HOSTILE in grid["output_text"][0]  # the echo carries it into the model's output
    html = compare(grid)._repr_html_()
    assert "<script" not in html and "<img" not in html and active_parts(html) == []
    assert "&lt;script&gt;alert(1)&lt;/script&gt; &lt;img src=x onerror=alert(1)&gt;" in html
    assert html.count(HOSTILE.replace("<", "&lt;").replace(">", "&gt;")) == 1 + 2  # the row's city, two echoes
    assert f"[system: Weather in {HOSTILE}?] echo:" in text(html)
    urls = [value for _, attrs in tags(html) for name, value in attrs.items() if name in URL_ATTRIBUTES]
    assert urls == []  # the model's URL stays text
    marks = [attrs for tag, attrs in tags(html) if tag == "span" and "llamabook-check-error" in attrs.get("class", "")]
    assert len(marks) == 1 and marks[0]["title"] == '<img src=y onerror="alert(2)">'  # a check's error: an escaped tooltip
    shown = [text(html[m.start() :]) for m in re.finditer('<div class="llamabook-check-error-message"', html)]
    assert len(shown) == 1 and shown[0].startswith('⚠ safe raised: <img src=y onerror="alert(2)">')  # its message, as text
    assert "✓ safe" in text(html) and "⚠ safe" in text(html) and "– safe" in text(html)
    assert "✗ safe" not in text(html)  # its False came with an error: an error, not a fail


HOSTILE_ERROR = 'ValueError: <img src=z onerror="alert(3)">'


def test_compare_and_its_views_show_a_check_that_raised_as_an_error_not_a_fail(
    grid: pd.DataFrame, two_models: lb.Client
) -> None:
    raised(grid, "short", 0, (1, A), "ImportError: half imported", value=False)  # an older grid's False: still an error
    raised(grid, "short", 1, (1, A), HOSTILE_ERROR)
    comparison = compare(grid)
    cork = comparison.cell(0, (1, A))
    mark = cork.checks[1]
    assert (mark.name, mark.kind, mark.mark, mark.error, str(mark)) == ("short", "error", "⚠", "ImportError: half imported", "⚠ short")
    assert comparison.frame["v1 test/a checks"].tolist()[:2] == [
        "✓ mentions_cork · ⚠ short · 0.25 quality", "✗ mentions_cork · ⚠ short · 0.75 quality",
    ]  # fmt: skip
    assert comparison.frame["v1 test/b checks"][0] == "✗ mentions_cork · ✓ short · 1.00 quality"  # the others as they were
    assert ("check short", "⚠ ImportError: half imported") in cork.record()  # what a view shows of a batch's row

    html = comparison._repr_html_()
    kinds = [attrs["class"] for tag, attrs in tags(html) if tag == "span" and "llamabook-check-" in attrs.get("class", "")]
    assert kinds.count("llamabook-check-error") == 2 and kinds.count("llamabook-check-fail") == 12 - 2  # 8 + 4 fails, 2 now errors
    assert "⚠ short raised: ImportError: half imported" in text(html)
    assert '⚠ short raised: ValueError: <img src=z onerror="alert(3)">' in text(html) and active_parts(html) == []

    view = CompareView(two_models, grid)
    header = 1 + 1 + len(COLUMNS)
    first = view.table.children[header + 2].children[0].value  # row 0, v1 test/a
    assert "⚠ short raised: ImportError: half imported" in text(first) and "llamabook-check-error" in first

    runs = RunsTable(grid)
    assert runs.check_errors() == 2 and runs.summary.value.endswith(" · 2 check errors")
    errors = [c for c in runs.table.children if "llamabook-run-check-error" in c._dom_classes]
    assert [text(c.value) for c in errors] == ["⚠", "⚠"]
    titles = [attrs.get("title") for c in errors for tag, attrs in tags(c.value) if tag == "span"]
    assert titles == ["ImportError: half imported", HOSTILE_ERROR]  # the message as an escaped tooltip
    assert all(active_parts(c.value) == [] for c in errors)
    fails = [c for c in runs.table.children if "llamabook-run-check-fail" in c._dom_classes]
    assert len(fails) == 12 - 2 and all(text(c.value) == "✗" for c in fails)  # real fails stay ✗
    assert len([c for c in runs.table.children if "llamabook-run-check-score" in c._dom_classes]) == 10
    plain = RunsTable(grid.drop(columns=["check_short_error"]))
    assert plain.check_errors() == 0 and "check error" not in plain.summary.value


def test_save_html_writes_one_self_contained_file(grid: pd.DataFrame, two_models: lb.Client, tmp_path: Path) -> None:
    hostile = two_models.grid("weather", [{"city": HOSTILE}], versions=[1], models=[A, B], progress=False)
    folder = tmp_path / "shared"
    folder.mkdir()
    for name, frame in (("capitals.html", grid), ("hostile.html", hostile)):
        written = compare(frame).save_html(folder / name)
        assert written == folder / name
    assert sorted(p.name for p in folder.iterdir()) == ["capitals.html", "hostile.html"]  # nothing next to them
    for name in ("capitals.html", "hostile.html"):
        page = (folder / name).read_text(encoding="ascii")  # ASCII with character references: any encoding reads it
        assert page.startswith("<!DOCTYPE html>") and page.rstrip().endswith("</html>")
        assert "<script" not in page.lower() and active_parts(page) == []
        urls = [value for _, attrs in tags(page) for key, value in attrs.items() if key in URL_ATTRIBUTES]
        assert urls == []  # nothing to fetch: no src, no href at all
        assert "url(" not in page and "@import" not in page and not re.search(r"<(link|style|iframe|img)\b", page)
    capitals = (folder / "capitals.html").read_text(encoding="ascii")
    assert "&#10003; mentions_cork" in capitals and "[system: Weather in Cork?] echo:" in text(capitals)
    assert "EngineError: scripted failure on 'Galway'" in text(capitals)
    assert "https://example.org/x.png" in text((folder / "hostile.html").read_text(encoding="ascii"))  # as text


# ---- CompareView ---------------------------------------------------------------------------------------


def test_compare_view_opens_a_cells_response_and_shows_a_failed_cells_error(
    two_models: lb.Client, grid: pd.DataFrame
) -> None:
    view = CompareView(two_models, grid)
    assert "llamabook-compare-view" in view._dom_classes and view.error.message == ""
    assert view.summary.value == "Comparison · 4 rows · 4 columns: v1 test/a, v1 test/b, v2 test/a, v2 test/b"
    header = 1 + 1 + len(COLUMNS)  # row, city, the columns
    assert len(view.table.children) == header * 5  # a header line and four rows
    # Every call that made a response can be opened, the failed one on Galway too; the row without a city cannot.
    assert sorted(view.open_buttons) == sorted(
        [(row, c) for row in (0, 1) for c in COLUMNS] + [(2, (1, B)), (2, (2, B)), (2, (1, A)), (2, (2, A))]
    )

    view.open_buttons[(1, (2, B))].click()
    expected = grid[(grid["row"] == 1) & (grid["version"] == 2) & (grid["model"] == B)]["response_id"].iloc[0]
    assert isinstance(view.view, ResponseView) and view.view.response.id == expected
    assert view.view.response.output_text == "Rain." and view.detail.children[-1] is view.view
    assert view.opened == (1, (2, B)) and "row 1 · v2 test/b" in text(view.detail.children[0].value)

    view.open_buttons[(2, (1, A))].click()  # a failed call that kept its response
    assert view.view.response.status == "failed" and "scripted failure on 'Galway'" in view.view.response.error.message

    opened = view.view
    failed_cell = view.table.children[header * 4 + 2]  # row 3, first column: no response
    assert "MissingVariables" in text(failed_cell.children[0].value) and len(failed_cell.children) == 1
    view.show(3, 0)
    assert view.view is opened and "Row 3 in v1 test/a made no response (MissingVariables" in view.error.message
    view.show(0, (9, A))
    assert "No column (9, 'test/a')" in view.error.message and view.view is opened
    view.show(0, 3)  # a position
    assert view.error.message == "" and view.view.response.output_text == "Fine."
    assert repr(view) == "CompareView: 4 rows × 4 columns (run the cell to use this panel)"


def test_compare_view_takes_a_comparison_and_names_what_it_cannot_show(
    two_models: lb.Client, grid: pd.DataFrame
) -> None:
    differing = CompareView(two_models, compare(grid[grid["model"] == B], only_differences=True))
    assert differing.comparison.rows == [1] and list(differing.open_buttons) == [(1, (1, B)), (1, (2, B))]
    assert differing.summary.value.startswith("Comparison · 1 row that differ")
    few = CompareView(two_models, grid, max_rows=2)
    assert few.summary.value.endswith("(showing the first 2)") and len(few.table.children) == 6 * 3
    wrong = CompareView(two_models, [{"city": "Cork"}])
    assert "compare() takes the DataFrame client.grid returns, not a list" in wrong.error.message
    assert repr(wrong) == "CompareView: nothing to compare (run the cell to use this panel)"
    wrong.show(0, 0)
    assert "There is no comparison to open" in wrong.error.message


def test_compare_view_lays_out_compact_cells_with_buttons_beside_them(two_models: lb.Client) -> None:
    """What tests/browser/test_compare_view_browser.py measures, as the widget tree says it: every cell's
    HTML has the table's line height (not ipywidgets' 28 px), a call's open button sits beside its text,
    sized to its label, and the row's own columns are as wide as their values; hostile text stays text."""
    rows = [{"city": HOSTILE}, {"city": "Cork"}]
    grid = two_models.grid("weather", rows, versions=[1], models=[A, B], progress=False)
    view = CompareView(two_models, grid)
    tracks = "max-content fit-content(16em) minmax(12em, max-content) minmax(12em, max-content)"
    assert view.table.layout.grid_template_columns == tracks
    header, first = view.table.children[:4], view.table.children[4:8]
    htmls = [*header, *first[:2], *(cell.children[0] for cell in first[2:])]
    style = "font-size:calc(.9 * var(--jp-content-font-size1, 14px));line-height:normal;"
    for widget in htmls:
        assert f'class="llamabook-compare-text" style="{style}' in widget.value
        assert "<script" not in widget.value and "<img" not in widget.value and active_parts(widget.value) == []
    assert [text(h.value) for h in header] == ["row", "city", "v1 test/a", "v1 test/b"]
    assert "font-weight:bold;" in header[0].value and "font-weight:bold;" not in first[0].value
    assert text(first[1].value) == HOSTILE[:79] + "…" and "&lt;script&gt;" in first[1].value  # the row's value, as text
    assert [attrs["title"] for tag, attrs in tags(first[1].value) if "title" in attrs] == [HOSTILE]  # all of it, escaped
    for cell in first[2:]:
        assert isinstance(cell, widgets.HBox) and cell.layout.align_items == "flex-start"
        shown, button = cell.children
        assert isinstance(shown, widgets.HTML) and shown.layout.flex == "0 1 auto"
        assert isinstance(button, widgets.Button) and button.description == "open"
        assert (button.layout.width, button.layout.flex) == ("auto", "0 0 auto")
    assert text(first[2].children[0].value).startswith(f"[system: Weather in {HOSTILE}?] echo:")
    first[3].children[1].click()
    assert view.opened == (0, (1, B)) and view.view.response.output_text == "Fine."
    long = CompareView(two_models, two_models.grid("weather", [{"city": "x" * 100}], models=[A], progress=False))
    value = long.table.children[2 + len(long.comparison.columns) + 1]  # row 0's city: cut, all of it as the tooltip
    assert text(value.value) == "x" * 79 + "…" and f'title="{"x" * 100}"' in value.value


def test_client_prices_are_recorded_with_the_grid_and_survive_parquet(tmp_path: Path, scripted: ScriptedEngine) -> None:
    from llamabook.evaluation.scores import scores

    with lb.Client(tmp_path / "home", engine=scripted, prices={"test/scripted": (1.0, 2.0)}) as client:
        grid = client.grid("Say {{word}}.", [{"word": "yes"}, {"word": "no"}], progress=False)
    assert grid.attrs["llamabook"]["prices"] == {"test/scripted": [1.0, 2.0]}
    grid.to_parquet(tmp_path / "grid.parquet")
    again = pd.read_parquet(tmp_path / "grid.parquet")
    tokens_in, tokens_out = int(grid["input_tokens"].sum()), int(grid["output_tokens"].sum())
    expected = (tokens_in * 1.0 + tokens_out * 2.0) / 1_000_000
    assert scores(again)["cost_usd"].tolist() == [pytest.approx(expected)]
    with pytest.raises(lb.InvalidRequest, match="two numbers"):
        lb.Client(tmp_path / "other", engine=scripted, prices={"m": (1.0,)})


# ---- intervals, n_<check> and confidence= (grids built by hand, with and without repeats) -------------


def by_hand(checks: dict[str, list], repeats: int | None = None, latency: list[float] | None = None) -> pd.DataFrame:
    """One version and model; a line per value (row, or row × repeat with ``repeat`` after ``model``).

    A str value means the check raised with that message (its value stored as False / 0.0).
    """
    count = len(next(iter(checks.values())))
    rows = [divmod(i, repeats)[0] if repeats else i for i in range(count)]
    frame = pd.DataFrame({"row": rows, "version": pd.array([1] * count, dtype="Int64"), "model": pd.array(["m"] * count, dtype="string")})
    if repeats:
        frame["repeat"] = pd.array([i % repeats for i in range(count)], dtype="Int64")
    frame["status"] = "completed"
    frame["input_tokens"] = pd.array([10] * count, dtype="Int64")
    frame["output_tokens"] = pd.array([i % 3 for i in range(count)], dtype="Int64")
    frame["latency_s"] = pd.array(latency or [1.0] * count, dtype="Float64")
    for name, values in checks.items():
        score = any(isinstance(v, float) for v in values)
        kept = [(0.0 if score else False) if isinstance(v, str) else v for v in values]
        frame[f"check_{name}"] = pd.array(kept, dtype="Float64" if score else "boolean")
        frame[f"check_{name}_error"] = pd.array([v if isinstance(v, str) else None for v in values], dtype="string")
    return frame


def interval(table: pd.DataFrame, column: str) -> tuple[float, float]:
    return float(table[f"{column}_low"][0]), float(table[f"{column}_high"][0])


def test_the_issues_pass_rates_get_wilson_intervals_and_one_check_overall_equals_it() -> None:
    """names_capital: 4 of 4 → [0.51, 1.0]; 1 of 4 → [0.05, 0.70] (issue 28); a row whose check raised is left out."""
    from llamabook.evaluation.intervals import wilson

    table = scores(by_hand({"names_capital": [True, True, True, True, "ValueError: odd"]}))
    assert table["pass_rate_names_capital"][0] == 1.0 and interval(table, "pass_rate_names_capital") == pytest.approx((0.5101, 1.0), abs=5e-5)
    assert interval(table, "pass_rate") == interval(table, "pass_rate_names_capital") == wilson(4, 4)  # one check: the same
    assert (table["n_names_capital"][0], table["errors_names_capital"][0]) == (4, 1)
    low = scores(by_hand({"names_capital": [True, False, False, False]}))
    assert interval(low, "pass_rate_names_capital") == pytest.approx((0.0456, 0.6994), abs=5e-5)
    assert interval(low, "pass_rate") == wilson(1, 4)
    assert str(low.dtypes["pass_rate_low"]) == "Float64" and str(low.dtypes["n_names_capital"]) == "int64"


def test_the_overall_pass_rate_takes_the_row_as_the_unit() -> None:
    """Two checks that agree on every row: 6 of 10 values pass, but only 5 rows were drawn."""
    from llamabook.evaluation.intervals import cluster_interval, wilson

    same = [True, False, True, True, False]
    table = scores(by_hand({"a": same, "b": same}))
    assert table["pass_rate"][0] == 0.6
    expected = cluster_interval([2, 0, 2, 2, 0], [2, 2, 2, 2, 2], binary=True)  # per row: passes, values
    assert interval(table, "pass_rate") == expected and interval(table, "pass_rate_a") == wilson(3, 5)
    naive = wilson(6, 10)
    assert expected[1] - expected[0] > naive[1] - naive[0]  # wider than counting 10 independent values
    everywhere = scores(by_hand({"a": [True] * 4, "b": [True] * 4}))
    assert interval(everywhere, "pass_rate") == wilson(4, 4)  # all pass: Wilson over the 4 rows, not 8 values


def test_with_repeats_a_row_is_still_the_unit_of_the_overall_interval() -> None:
    """3 rows × 2 repeats, one check: rows 0 and 1 pass twice, row 2 fails twice. 4 of 6 calls pass."""
    from llamabook.evaluation.intervals import wilson

    table = scores(by_hand({"ok": [True, True, True, True, False, False]}, repeats=2))
    assert table["pass_rate"][0] == pytest.approx(4 / 6) and table["n_ok"][0] == 6
    assert interval(table, "pass_rate_ok") == wilson(4, 6)  # a check's interval counts its calls
    low, high = interval(table, "pass_rate")
    # resampling 3 rows of (2 of 2, 2 of 2, 0 of 2) gives 0, 1/3, 2/3 or 1: the percentiles are 0 and 1
    assert (low, high) == (0.0, 1.0) and low < wilson(4, 6)[0] and high > wilson(4, 6)[1]


def test_mean_scores_cost_and_latency_get_intervals() -> None:
    from llamabook.evaluation.intervals import mean_interval, quantile_interval

    quality = [0.25, 0.5, 0.75, 1.0, 0.5, "ZeroDivisionError: x", 0.0, 0.25, 0.5, 0.75]
    latency = [float(v) for v in (7, 1, 9, 3, 10, 2, 8, 5, 4, 6)]
    table = scores(by_hand({"quality": quality}, latency=latency), prices={"m": (1.0, 2.0)})
    values = [v for v in quality if isinstance(v, float)]
    assert table["score_quality"][0] == pytest.approx(sum(values) / 9) and (table["n_quality"][0], table["errors_quality"][0]) == (9, 1)
    assert interval(table, "score_quality") == interval(table, "mean_score") == mean_interval(values)
    assert interval(table, "latency_p50_s") == (2.0, 9.0)  # the 2nd and 9th of 10 (test_intervals works it out)
    assert table["latency_p50_s"][0] == 5.5 and table["latency_p95_s"][0] == pytest.approx(9.55)
    assert table["latency_p95_s_low"][0] == quantile_interval(latency, 0.95)[0] == 8.0  # P(K ≤ 7) = .0115 ≤ .025 < P(K ≤ 8)
    assert pd.isna(table["latency_p95_s_high"][0])  # 10 calls bound no p95 from above at 95%: null, not made up
    per_call = [(10 * 1.0 + (i % 3) * 2.0) / 1e6 for i in range(10)]  # 10 input tokens, 0/1/2 output tokens
    assert table["cost_usd"][0] == pytest.approx(sum(per_call)) and table["cost_per_call_usd"][0] == pytest.approx(sum(per_call) / 10)
    assert interval(table, "cost_per_call_usd") == pytest.approx(mean_interval(per_call), rel=1e-12)
    unpriced = scores(by_hand({"quality": quality}))
    assert unpriced[["cost_usd", "cost_per_call_usd", "cost_per_call_usd_low", "cost_per_call_usd_high"]].isna().all().all()


def test_confidence_changes_the_level_and_a_bad_one_is_an_invalid_request() -> None:
    frame = by_hand({"ok": [True, False, True, True, False, True, True, True]})
    narrow, wide = interval(scores(frame, confidence=0.8), "pass_rate_ok"), interval(scores(frame, confidence=0.99), "pass_rate_ok")
    assert wide[0] < narrow[0] < 0.75 < narrow[1] < wide[1]
    for bad in (0, 1, 95, -0.1, "0.95", True):
        with pytest.raises(lb.InvalidRequest, match=r"scores\(\): confidence"):
            scores(frame, confidence=bad)


def test_plot_pass_rate_draws_the_interval_as_error_bars(grid: pd.DataFrame) -> None:
    table = scores(grid)
    ax = plot_pass_rate(table, check="short")
    from matplotlib.container import BarContainer

    bars = [c for c in ax.containers if isinstance(c, BarContainer) and c.errorbar is not None]
    assert len(bars) == 2  # one bar container per model, each with its error bars
    segments = bars[0].errorbar.lines[2][0].get_segments()
    drawn = [float(y) for segment in segments for y in segment[:, 1]]  # v1 and v2 of test/a: 0 of 2 → [0, 0.658]
    expected = [y for i in (0, 2) for y in interval(table.iloc[[i]].reset_index(drop=True), "pass_rate_short")]
    assert drawn == pytest.approx(expected) and expected[:2] == pytest.approx([0.0, 0.6576], abs=5e-5)
    import matplotlib.pyplot as plt

    plt.close("all")
