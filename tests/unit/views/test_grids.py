"""A grid's frame in a notebook (``views/grids.py``): a compact table, output_text wide, every value escaped."""

from __future__ import annotations

import pandas as pd
import pytest
from IPython.core.interactiveshell import InteractiveShell

import llamabook as lb
from llamabook.grid.frame import GRID_MARK
from llamabook.views import grids
from support.htmlcheck import active_parts, tags, text

HOSTILE = '<img src=x onerror="alert(1)">\nsecond <script>alert(2)</script> line'


@pytest.fixture
def grid(quick_client: lb.Client) -> pd.DataFrame:
    rows = pd.DataFrame({"city": ["Paris", "Dublin"], "note": [HOSTILE, "plain"]})
    return quick_client.grid(
        "Line one about {{city}}.\nLine two: {{note}}", rows, progress=False, checks={"dub": lb.checks.contains("Dublin")}
    )


def test_a_grid_shows_a_compact_set_of_columns_and_the_frame_keeps_them_all(grid: pd.DataFrame) -> None:
    assert grids.MARK == GRID_MARK
    html = grids.grid_html(grid)
    assert html is not None
    headers = [attrs["data-column"] for tag, attrs in tags(html) if tag == "th"]
    assert headers == ["city", "note", "version", "model", "status", "output_text", "check_dub"]
    assert {"prompt_id", "response_id", "input_tokens", "check_dub_error"} <= set(grid.columns)  # the frame keeps them
    assert f"7 of {len(grid.columns)} columns shown" in text(html)
    assert "pd.DataFrame(grid)" in text(html)


def test_hostile_output_stays_text_with_its_line_breaks(grid: pd.DataFrame) -> None:
    html = grids.grid_html(grid)
    assert html is not None
    assert active_parts(html) == []
    assert not any(tag in ("img", "script") for tag, _ in tags(html))
    assert '<img src=x onerror="alert(1)">' in text(html) and "<script>alert(2)</script>" in text(html)
    outputs = html.split('class="llamabook-grid-output"')[1:]
    assert len(outputs) == 2 and all("white-space:pre-wrap" in o.split(">")[0] for o in outputs)
    assert "Line one about Paris.\nLine two: &lt;img" in html  # the line break itself is kept, not shown as \n


def test_other_frames_are_not_grids(grid: pd.DataFrame) -> None:
    assert grids.grid_html(pd.DataFrame({"output_text": ["x"]})) is None
    assert grids.grid_html(grid[["city", "output_text"]]) is None  # a selection of columns: pandas shows it
    assert grids.grid_html(pd.DataFrame(grid)) is None  # pandas' constructor drops attrs: every column
    assert grids.grid_html(grid.head(1)) is not None


def test_missing_values_are_empty_and_checks_are_marks(grid: pd.DataFrame) -> None:
    failed = grid.copy()
    failed.loc[0, "error"] = "EngineError: boom"
    failed["check_dub"] = pd.array([None, True], dtype="boolean")
    html = grids.grid_html(failed)
    assert html is not None
    headers = [attrs["data-column"] for tag, attrs in tags(html) if tag == "th"]
    assert headers[-2:] == ["error", "check_dub"]  # error only when a row has one
    assert "<NA>" not in text(html) and "nan" not in text(html).split() and "✓" in text(html)


def test_load_ext_shows_grids_compactly_and_leaves_other_frames_and_text_to_pandas(
    ip: InteractiveShell, grid: pd.DataFrame
) -> None:
    plain = pd.DataFrame({"a": [1]})
    html = ip.display_formatter.formatters["text/html"]
    enabled, html.enabled = html.enabled, True  # the test shell is a terminal: HTML is off there
    try:
        assert 'class="llamabook-grid"' in html(grid)
        assert html(plain) == plain._repr_html_()  # every other DataFrame: pandas
        assert ip.display_formatter.formatters["text/plain"](grid) == repr(grid)  # text/plain unchanged
        ip.run_line_magic("unload_ext", "llamabook")
        try:
            assert html(grid) == grid._repr_html_()
        finally:
            ip.run_line_magic("load_ext", "llamabook")
        assert 'class="llamabook-grid"' in html(grid)
    finally:
        html.enabled = enabled


def test_a_running_kernel_shows_grids_compactly_without_load_ext_and_keeps_a_printer_of_its_own(
    ip: InteractiveShell, grid: pd.DataFrame
) -> None:
    from llamabook.views.grids import frame_html, show_grids_as_pandas, show_grids_in_running_kernel

    html = ip.display_formatter.formatters["text/html"]
    enabled, html.enabled = html.enabled, True
    try:
        show_grids_as_pandas(ip)  # as a kernel that never loaded the extension
        assert html(grid) == grid._repr_html_()
        show_grids_in_running_kernel()  # what `import llamabook` does in a running kernel
        assert 'class="llamabook-grid"' in html(grid)
        show_grids_as_pandas(ip)

        def mine(frame: pd.DataFrame) -> str:
            return "<p>my own table</p>"

        html.for_type(pd.DataFrame, mine)  # someone's own DataFrame printer: left in place
        show_grids_in_running_kernel()
        assert html(grid) == "<p>my own table</p>" and html.type_printers[pd.DataFrame] is mine
        html.type_printers.pop(pd.DataFrame)
    finally:
        html.enabled = enabled
        show_grids_in_running_kernel()
        assert html.type_printers.get(pd.DataFrame) is frame_html
