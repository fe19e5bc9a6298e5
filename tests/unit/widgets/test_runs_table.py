"""RunsTable at the Python level: colours, filters, pages and a line's response opened under it; long outputs
clamped to two lines, a line cut off at ``max_output_tokens`` marked next to its status.

The layout itself (widths at 1280 px with the file browser open) is measured in a real JupyterLab:
tests/browser/test_panel_layout.py. These tests check the widgets the kernel sends.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import ipywidgets as widgets
import pandas as pd
import pytest

import llamabook as lb
from llamabook.views import safe_markdown_html
from llamabook.widgets import ResponseView, RunsTable
from llamabook.views import LONG_WORD
from llamabook.widgets.run_cells import CELL_CHARS
from support.htmlcheck import active_parts, tags, text
from support.scripted_engine import ScriptedEngine
from support.widgets import classes

WORD = "Pneumonoultramicroscopicsilicovolcanoconiosis" * 8  # 360 characters, no space to wrap at
HOSTILE = "<img src=x onerror=alert(1)> " + "Dublin is the capital of Ireland. " * 12


def header_name(cell: Any) -> str:
    """A header's column name: its button's label less the arrow and the zero-width spaces it may wrap at."""
    return cell.description.replace("\u200b", "").rsplit(" ", 1)[0]


def cells(table: RunsTable, name: str) -> list[Any]:
    """The grid cells of one column, by their ``llamabook-run-<name>`` class, top to bottom."""
    return [cell for cell in table.table.children if f"llamabook-run-{name}" in classes(cell)]


def grid_of(tmp_path: Path, answer: str, countries: list[str | None]) -> tuple[lb.Client, pd.DataFrame]:
    """A grid whose every answer is ``answer``: layout tests need long answers, not a model's."""
    client = lb.Client(tmp_path / "home", engine=ScriptedEngine(answer=lambda messages: answer))
    grid = client.grid("Tell me about {{country}}.", pd.DataFrame({"country": countries}), progress=False)
    return client, grid


def test_runs_table_colours_filters_pages_and_opens_a_rows_response(quick_client: lb.Client) -> None:
    client = quick_client
    rows = pd.DataFrame({"country": ["Ireland", None]})  # the second row has no value: a failed call
    grid = client.grid("What is the capital of {{country}}?", rows, input="Answer in a few words.",
                       max_output_tokens=48, progress=False)  # fmt: skip
    assert list(grid["status"]) == ["completed", "failed"]
    assert grid.loc[0, "output_text"] == "[system: What is the capital of Ireland?] echo: Answer in a few words."

    table = RunsTable(grid, client, page_size=1)
    assert "llamabook-runs-table" in classes(table)
    assert table.summary.value == "2 lines · 1 completed · 1 failed"
    assert list(table.open_buttons) == [0] and table.page_label.value == "page 1 of 2" and table.prev_button.disabled
    table.next_button.click()
    assert list(table.open_buttons) == [1] and table.next_button.disabled
    columns = 2 + len(table.own_columns) + 6  # open, status, own columns, version … error
    status_cell = table.table.children[columns + 1]  # after the header line
    assert "#cf222e" in status_cell.value and "failed" in text(status_cell.value)

    table.failed_only.value = True
    assert table.visible() == [1] and table.page_label.value == "page 1 of 1" and list(table.open_buttons) == [1]
    table.open_buttons[1].click()
    shown = text(table.detail.children[-1].value)
    assert "MissingVariables" in shown and "this call made no response" in shown and table.view is None

    table.failed_only.value = False
    table.open_buttons[0].click()
    assert isinstance(table.view, ResponseView) and table.detail.children[-1] is table.view
    assert table.view.response.id == grid.loc[0, "response_id"]
    assert safe_markdown_html(grid.loc[0, "output_text"]) in table.view.output.value

    offline = RunsTable(grid)  # no client: the line's values instead
    offline.open_buttons[0].click()
    shown = text(offline.detail.children[-1].value)
    assert "pass client= to open its response" in shown and grid.loc[0, "output_text"].strip()[:10] in shown


def test_text_cells_show_two_lines_break_long_words_and_carry_the_whole_text(tmp_path: Path) -> None:
    client, grid = grid_of(tmp_path, WORD, ["Ireland", None])
    with client:
        table = RunsTable(grid, client)
        word, missing = cells(table, "output")
        (box, span) = tags(word.value)[:2]
        style = box[1]["style"]
        assert "-webkit-line-clamp:2" in style and "overflow:hidden" in style  # two lines, then "…"
        # a long word breaks every LONG_WORD characters instead of running under the next column; a short one never
        assert "overflow-wrap:break-word" in style and "anywhere" not in style
        assert word.value.count("<wbr>") == (CELL_CHARS - 1) // LONG_WORD  # 15 pieces of 16
        assert span[1]["title"] == WORD  # the whole text on hover
        assert text(word.value) == WORD[: CELL_CHARS - 1] + "…"
        assert text(missing.value) == "" and "title" not in tags(missing.value)[1][1]

        (_, error) = cells(table, "error")
        assert text(error.value).startswith("MissingVariables")
        assert tags(error.value)[1][1]["title"] == grid.loc[1, "error"]
        assert "-webkit-line-clamp:2" in tags(error.value)[0][1]["style"]
        own = cells(table, "own")
        assert [text(c.value) for c in own] == ["Ireland", ""] and "-webkit-line-clamp:2" in own[0].value


def test_a_clamped_cell_stays_text(tmp_path: Path) -> None:
    client, grid = grid_of(tmp_path, HOSTILE, ["Ireland"])
    with client:
        (cell,) = cells(RunsTable(grid, client), "output")
        assert active_parts(cell.value) == []
        assert text(cell.value).startswith("<img src=x onerror=alert(1)> Dublin")
        assert tags(cell.value)[1][1]["title"] == HOSTILE


def test_an_opened_line_shows_right_under_it_across_the_table(tmp_path: Path) -> None:
    client, grid = grid_of(tmp_path, "Dublin.", ["Ireland", "France", None, "Spain", "Italy"])
    with client:
        table = RunsTable(grid, client, page_size=3)
        width = 2 + len(table.own_columns) + 6  # open, status, own columns, version … error
        before = [cell for cell in table.table.children if cell is not table.detail]

        table.open_buttons[1].click()
        children = list(table.table.children)
        assert children.index(table.detail) == children.index(table.open_buttons[1]) + width
        assert table.detail.layout.grid_area == "auto / 1 / auto / -1"  # every column of its row
        assert isinstance(table.view, ResponseView) and table.view.response.id == grid.loc[1, "response_id"]
        assert text(table.detail.children[0].value) == "line #1"
        assert [cell for cell in children if cell is not table.detail] == before  # moved, nothing redrawn
        assert all(a is b for a, b in zip(before, (c for c in children if c is not table.detail)))

        table.open(2)  # a failed line: its values, under it
        children = list(table.table.children)
        assert children.index(table.detail) == children.index(table.open_buttons[2]) + width
        assert "this call made no response" in text(table.detail.children[-1].value)

        table.next_button.click()  # line 2 is not on page 2: its detail stays, under the last line
        assert table.table.children[-1] is table.detail and list(table.open_buttons) == [3, 4]
        assert text(table.detail.children[0].value) == "line #2"
        table.prev_button.click()
        children = list(table.table.children)
        assert children.index(table.detail) == children.index(table.open_buttons[2]) + width

        table.open(7)  # no such line: said in the panel, the detail stays where it is
        assert "No line 7" in table.error.message
        assert list(table.table.children).index(table.detail) == children.index(table.detail)


def test_a_line_cut_off_at_max_output_tokens_is_marked_next_to_its_status() -> None:
    lines = pd.DataFrame(
        {
            "status": ["completed", "completed", "failed", "completed"],
            "output_text": ["The capital of Ire", "Dublin.", None, "Paris."],
            "cut_off": pd.array([True, False, pd.NA, True], dtype="boolean"),  # client.grid's column
        }
    )
    table = RunsTable(lines)
    statuses = cells(table, "status")
    marked = ["cut off" in text(cell.value) for cell in statuses]
    assert marked == [True, False, False, True]
    assert ["llamabook-run-cut-off" in classes(cell) for cell in statuses] == marked
    mark = next(attrs for tag, attrs in tags(statuses[0].value) if attrs.get("title"))
    assert mark["title"] == "the answer was cut off at max_output_tokens"
    assert "completed" in text(statuses[0].value)  # next to the status, not instead of it
    assert table.summary.value == "4 lines · 3 completed · 1 failed · 2 cut off"
    assert "cut_off" not in table.own_columns and table.error.message == ""

    without = RunsTable(lines.drop(columns="cut_off"))  # a grid from before the column: no mark, no problem
    assert not any("cut off" in text(cell.value) for cell in cells(without, "status"))
    assert without.summary.value == "4 lines · 3 completed · 1 failed" and without.error.message == ""


def test_a_replayed_line_says_replayed_in_its_latency_cell(tmp_path: Path) -> None:
    from llamabook.cassette import forget

    cassette = tmp_path / "runs.jsonl"
    rows = pd.DataFrame({"country": ["Ireland", "France"]})
    with lb.Client(tmp_path / "a", engine=ScriptedEngine(), cassette=cassette) as client:
        client.grid("Capital of {{country}}?", rows.head(1), progress=False)
    forget(cassette)
    with lb.Client(tmp_path / "b", engine=ScriptedEngine(), cassette=cassette, record="new") as client:
        grid = client.grid("Capital of {{country}}?", rows, progress=False)  # Ireland replayed, France live
        table = RunsTable(grid, client)
    assert grid["replayed"].tolist() == [True, False]
    latency = [text(cell.value) for cell in cells(table, "latency")]
    assert latency[0] == "replayed"
    assert latency[1] == f"{grid['latency_s'][1]:.2f} s"
    assert "replayed" not in table.own_columns  # a result column, not the row's own


def lines_of(table: RunsTable, name: str) -> list[str]:
    """The text of one column's cells on the page shown, top to bottom."""
    return [text(cell.value) for cell in cells(table, name)]


def checked_grid(tmp_path: Path) -> tuple[lb.Client, pd.DataFrame]:
    """Six rows, three checks (one raises on the "angry" rows), one row cut off; nothing fails."""
    from llamabook import checks

    def picky(row: Any, result: Any) -> bool:
        if row["mood"] == "angry":
            raise ValueError("cannot judge an angry row")
        return True

    def answer(messages: Any) -> str:
        return "word " * 30 if "gloomy" in str(messages) else f"A line: {messages[-1]['content']}"

    client = lb.Client(tmp_path / "home", engine=ScriptedEngine(answer=answer))
    n = pd.array([3, 10, 2, 1, None, 20], dtype="Int64")  # not in the template: a missing one fails nothing
    rows = pd.DataFrame({"mood": ["calm", "angry", "happy", "gloomy", "eager", "angry"], "n": n})
    with pytest.warns(lb.CheckErrorWarning, match="2 of 6 checks 'picky' raised"):  # the angry rows: no verdict
        grid = client.grid(
            "A {{mood}} line.", rows, max_output_tokens=12, progress=False,
            checks={"mentions": checks.contains(checks.column("mood")), "short": checks.max_words(40), "picky": picky},
        )  # fmt: skip
    return client, grid


def test_empty_columns_and_check_errors_are_hidden_unless_asked_for(tmp_path: Path) -> None:
    client, grid = checked_grid(tmp_path)
    with client:
        table = RunsTable(grid, client)
        assert grid["check_mentions_error"].isna().all() and grid["check_picky_error"].notna().sum() == 2
        assert grid["error"].isna().all()
        # empty on every line, or a check's error (its message is the ⚠'s tooltip)
        assert {"check_mentions_error", "check_short_error", "check_picky_error", "error"} <= set(table.hidden_columns)
        assert "mood" not in table.hidden_columns and "check_picky" not in table.hidden_columns
        assert not set(table.hidden_columns) & set(table.columns)
        heads = [c for c in table.table.children if "llamabook-runs-header" in classes(c)][1:]  # after the open column
        assert [header_name(c) for c in heads] == ["status", *table.columns]
        assert all(isinstance(c, widgets.Button) and "llamabook-runs-sort" in classes(c) for c in heads)  # one control
        assert table.sort_buttons["mood"] in heads and table.sort_buttons["mood"].tooltip == "sort by mood"
        # drawn as a header by the panels' stylesheet: no button background, wrapping, not cut off
        assert table.stylesheet in table.children and table.stylesheet.layout.display == "none"
        css = table.stylesheet.value
        rule = css[css.index(".llamabook-runs-grid .llamabook-runs-sort.jupyter-button {") :].split("}")[0]
        assert "background-color: transparent;" in rule and "white-space: normal;" in rule and "height: auto;" in rule
        errors = [c for c in table.table.children if "llamabook-run-check-error" in classes(c)]
        assert len(errors) == 2 and "cannot judge an angry row" in errors[0].value  # still on the ⚠
        assert table.table.layout.grid_template_columns.split(" ")[:2] == ["max-content", "max-content"]  # open, status
        assert table.open_buttons[0].layout.min_width == "max-content"

        table.all_columns.value = True  # the toggle; all_columns=True does the same
        assert [c for c in table.columns if c in table.hidden_columns] == table.hidden_columns
        tracks = re.findall(r"minmax\([^)]*\)|\S+", table.table.layout.grid_template_columns)
        assert len(tracks) == 2 + len(table.columns) == 2 + len(table.own_columns) + len(table.shown)
        shown = RunsTable(grid, client, all_columns=True)
        assert shown.columns == table.columns and shown.all_columns.value


def test_a_header_sorts_its_column_and_each_line_keeps_its_cells_and_button(tmp_path: Path) -> None:
    client, grid = checked_grid(tmp_path)
    with client:
        table = RunsTable(grid, client)
        assert lines_of(table, "own")[:2] == ["calm", str(grid["n"][0])]
        table.sort_buttons["mood"].click()
        assert table.sort_by == ("mood", True) and table.sort_buttons["mood"].description == "mood ▲"
        assert table.visible() == [1, 5, 0, 4, 3, 2]  # angry, angry, calm, eager, gloomy, happy: stable
        assert list(table.open_buttons) == [1, 5, 0, 4, 3, 2]
        per_line = len([c for c in table.columns if c in table.own_columns])  # own cells a line (empty ones hidden)
        own = lines_of(table, "own")
        assert [own[i * per_line] for i in range(6)] == ["angry", "angry", "calm", "eager", "gloomy", "happy"]
        assert own[per_line + 1] == str(grid["n"][5])  # line 5's own n, next to its own mood
        table.open_buttons[5].click()
        assert table.opened == 5 and table.view.response.id == grid.loc[5, "response_id"]

        table.sort_buttons["mood"].click()  # again: descending
        assert table.sort_by == ("mood", False) and table.sort_buttons["mood"].description == "mood ▼"
        assert table.visible() == [2, 3, 4, 0, 1, 5]

        table.sort_buttons["n"].click()  # numbers as numbers; the missing one last
        assert table.visible() == [3, 2, 0, 1, 5, 4] and table.sort_buttons["mood"].description == "mood ↕"
        assert table.sort_buttons["n"].description == "n ▲" and table.sort_buttons["n"].tooltip == "sort by n"
        table.sort("tokens", ascending=False)
        tokens = (grid["input_tokens"] + grid["output_tokens"]).tolist()
        assert [tokens[i] for i in table.visible()] == sorted(tokens, reverse=True)
        table.sort(None)
        assert table.visible() == list(range(6))
        table.sort("nothing")
        assert "No column 'nothing' to sort by" in table.error.message


def test_the_filter_box_matches_shown_cells_in_any_case_and_exports_what_is_shown(tmp_path: Path) -> None:
    client, grid = checked_grid(tmp_path)
    with client:
        table = RunsTable(grid, client)
        table.filter.value = "ANGRY"
        assert table.visible() == [1, 5] and list(table.open_buttons) == [1, 5] and table.note.value == ""
        table.filter.value = "cut off"  # the status cell's mark is a shown cell
        assert table.visible() == [3]
        table.filter.value = "⚠"  # a check that raised
        assert table.visible() == [1, 5]
        table.sort("n", ascending=False)
        export = table.to_pandas()
        assert list(export.index) == [5, 1] and export["mood"].tolist() == ["angry", "angry"]
        assert list(export.columns) == list(grid.columns)
        table.filter.value = "<b>nothing"
        assert table.visible() == [] and table.open_buttons == {}
        assert text(table.note.value) == "no line matches '<b>nothing'" and "<b>" not in table.note.value
        assert table.to_pandas().empty


def test_failed_only_with_nothing_failed_says_so_and_closes_the_opened_line(tmp_path: Path) -> None:
    client, grid = checked_grid(tmp_path)
    with client:
        table = RunsTable(grid, client)
        table.open(2)
        assert table.detail.children
        table.failed_only.value = True
        assert text(table.note.value) == "no failed lines"
        assert table.opened is None and table.view is None and table.detail.children == ()
        table.failed_only.value = False
        assert table.note.value == "" and len(table.open_buttons) == 6

        table.open(3)
        table.turn(1)  # paging keeps the opened line (under the last line), filtering out closes it
        assert table.opened == 3
        table.filter.value = "happy"
        assert table.opened is None and table.visible() == [2]


def test_tokens_and_latency_cells_use_the_views_labels(tmp_path: Path) -> None:
    from llamabook.views import latency_label, tokens_label

    client, grid = checked_grid(tmp_path)
    with client:
        table = RunsTable(grid, client)
        record = table._records[0]
        assert lines_of(table, "tokens")[0] == tokens_label(record, unit="") == (
            f"{grid['input_tokens'][0]} in / {grid['output_tokens'][0]} out"
        )
        assert lines_of(table, "latency")[0] == latency_label(record)
        assert tokens_label({"input_tokens": None, "output_tokens": 4}) == "? in / 4 out tokens"
        assert tokens_label({"input_tokens": None, "output_tokens": None}) is None


def test_short_words_never_break_and_headers_wrap_after_underscores() -> None:
    from llamabook.views import breakable, clamped_cell, header_cell, header_label
    from llamabook.widgets.run_cells import header_text

    assert breakable("autumn angry smollm2-135m-instruct") == ["autumn angry smollm2-135m-instruct"]
    assert breakable("x" * 40, every=16) == ["x" * 16, "x" * 16, "x" * 8]
    assert "".join(breakable("a " + "y" * 33)) == "a " + "y" * 33
    assert "<wbr>" not in clamped_cell("autumn") and text(clamped_cell("autumn")) == "autumn"
    head = header_cell("check_mentions_error")
    assert head.count("<wbr>") == 2 and text(head) == "check_mentions_error"
    # a header button's plain-text label wraps at the same places: a zero-width space after each underscore
    assert header_label("check_mentions_error") == "check_\u200bmentions_\u200berror"
    assert header_text("output_text", None) == "output_\u200btext ↕" and header_text("mood", False) == "mood ▼"
    assert header_label("x" * 20) == "x" * 16 + "\u200b" + "x" * 4  # a long word still wraps
    assert active_parts(header_cell("<img src=x onerror=alert(1)>")) == []


def test_a_sort_button_outlives_redraws_so_a_click_on_it_is_never_lost(tmp_path: Path) -> None:
    """Each redraw used to make new header buttons and close the old ones: a click that reached a
    just-closed button (a line opened a moment before) did nothing."""
    client, grid = checked_grid(tmp_path)
    with client:
        table = RunsTable(grid, client)
        button = table.sort_buttons["mood"]
        button.click()
        assert table.sort_buttons["mood"] is button and button.comm is not None and button.description == "mood ▲"
        table.open(0)  # a redraw
        assert table.sort_buttons["mood"] is button and button.comm is not None
        button.click()
        assert table.sort_by == ("mood", False) and button.description == "mood ▼"
        table.all_columns.value = True  # more columns: the same header for mood, new ones for the rest
        assert table.sort_buttons["mood"] is button and button.comm is not None


def test_a_grid_with_repeats_shows_its_repeat_after_the_model_sortable_and_filterable(quick_client: lb.Client) -> None:
    quick_client.prompts.save("weather", "Weather in {{city}}?")
    grid = quick_client.grid("weather", [{"city": "Cork"}, {"city": "Sligo"}], repeats=3, progress=False)
    grid["latency_s"] = pd.array([1.0] * len(grid), dtype="Float64")  # no digit of the CPU's in the filter's haystack
    table = RunsTable(grid, quick_client)
    assert table.own_columns == ["city"]  # the grid's repeat is not one of the row's variables
    assert table.columns == ["city", "version", "model", "repeat", "output_text", "tokens", "latency_s"]
    assert [header_name(table.sort_buttons[name]) for name in ("model", "repeat")] == ["model", "repeat"]
    assert [text(cell.value) for cell in cells(table, "repeat")] == ["0", "1", "2", "0", "1", "2"]
    table.sort_buttons["repeat"].click()
    assert table.sort_by == ("repeat", True) and table.visible() == [0, 3, 1, 4, 2, 5]  # stable within a repeat
    table.sort("repeat", ascending=False)
    assert table.visible() == [2, 5, 1, 4, 0, 3]
    table.sort(None)
    table.filter.value = "2"
    assert table.visible() == [2, 5]
    plain = RunsTable(grid[grid["repeat"] == 0].drop(columns=["repeat"]), all_columns=True)
    assert "repeat" not in plain.columns  # a grid without repeats has no repeat column, even with all columns
