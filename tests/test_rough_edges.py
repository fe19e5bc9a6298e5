"""Rough edges a newcomer hit (issue 12): cut-off answers, line breaks, a stopped stream's usage."""

from __future__ import annotations

import pytest
from IPython.core.interactiveshell import InteractiveShell
from IPython.utils.capture import capture_output

import llamabook as lb
from llamabook import magics, views
from llamabook.widgets import PromptEditor

LONG = "Write a long story about a dragon who learns to fly."
TIMEOUT = 120


@pytest.mark.model
def test_an_answer_cut_off_at_max_output_tokens_says_so_everywhere(client: lb.Client, ip: InteractiveShell) -> None:
    r = client.responses.create(input=LONG, max_output_tokens=8)
    assert r.status == "incomplete"  # as Llama Stack 0.7.3 reports it (tests/test_contract.py)
    assert r.cut_off and r.incomplete_details == {"reason": "length"}
    assert client.responses.retrieve(r.id).cut_off  # stored with the response
    assert views.CUT_OFF_MARK in views.response_text(r)
    assert views.CUT_OFF_MARK in views.response_html(r)
    assert ("stopped", views.CUT_OFF_MARK) in views.usage_rows(r)
    assert views.CUT_OFF_MARK in views.status_badge(r.status, cut_off=True)

    whole = client.responses.create(input="Say hi.", max_output_tokens=200)
    assert not whole.cut_off and whole.incomplete_details is None
    assert views.CUT_OFF_MARK not in views.response_html(whole) + views.response_text(whole)

    grid = client.grid("Tell a long story about {{animal}}.", [{"animal": "a cat"}], max_output_tokens=6, progress=False)
    assert grid["cut_off"].tolist() == [True] and str(grid["cut_off"].dtype) == "boolean"

    magics.set_client(client)
    try:
        with capture_output() as cell:
            ip.run_cell(f'%%llama -i "{LONG}" --max-tokens 8 --no-stream\nBe vivid.')
        assert cell.outputs[-1].data["text/plain"].endswith(views.CUT_OFF_MARK)
    finally:
        magics.set_client(None)

    editor = PromptEditor(client, input=LONG, max_output_tokens=8)
    editor.template.value = "Be vivid about {{thing}}."
    editor.fields["thing"].text.value = "clouds"
    editor.run_button.click()
    assert editor.wait(TIMEOUT) and editor.status.value == "incomplete"
    assert editor.footer.value.endswith(views.CUT_OFF_MARK)


def test_single_line_breaks_in_model_output_stay_line_breaks() -> None:
    html = views.safe_markdown_html("Roses are red,\nviolets are blue.\n\nNew paragraph.")
    assert "Roses are red,<br>\nviolets are blue." in html
    assert html.count("<p>") == 2


@pytest.mark.model
def test_a_stopped_stream_still_counts_its_input_tokens(client: lb.Client) -> None:
    stream = client.responses.create(input=LONG, max_output_tokens=200, stream=True)
    for event in stream:
        if event.type == "response.output_text.delta":
            break
    stream.close()
    stored = client.responses.list()[0]
    assert stored.status == "incomplete" and stored.usage.input_tokens > 10


def test_a_grid_checks_its_versions_before_any_call(tmp_path, engine) -> None:
    import pandas as pd

    rows = pd.DataFrame({"country": ["Ireland"]})
    with lb.Client(tmp_path / "home", engine=engine) as client:
        with pytest.raises(lb.InvalidRequest, match=r"a template string runs as a prompt of its own.*pass the Prompt"):
            client.grid("Capital of {{country}}?", rows, versions=[1, 2], progress=False)
        assert list(client.prompts.list()) == []  # nothing stored
        p = client.prompts.create("Capital of {{country}}?", variables=["country"])
        with pytest.raises(lb.VersionNotFound, match=r"has no version 5; it has versions \[1\]"):
            client.grid(p, rows, versions=[1, 5], progress=False)
        assert list(client.responses.list()) == []  # nothing ran


@pytest.mark.model
def test_a_row_with_an_empty_cell_fails_in_the_grids_words_and_keeps_its_columns(client: lb.Client) -> None:
    import pandas as pd

    from llamabook.widgets import RunsTable

    rows = pd.DataFrame({"country": ["Ireland", None], "note": ["first", "second"]})
    grid = client.grid("Capital of {{country}}?", rows, max_output_tokens=4, progress=False)
    error = grid["error"][1]
    assert error.startswith("MissingVariables: ") and "Row 1 has no value in the column(s) 'country'" in error
    assert "variables=" not in error and "strict=False" not in error
    assert grid["attempts"][1] == 0 and len(client.responses.list()) == 1  # nothing was sent for it
    table = RunsTable(grid, client)
    table.open(1)
    shown = table.detail.children[-1].value
    assert "country" in shown and "(empty)" in shown and "second" in shown


def test_panels_have_a_readable_text_fallback_where_widgets_do_not_render(tmp_path, engine) -> None:
    from llamabook.widgets import FilesPanel, PromptEditor, ResponseView
    from llamabook.widgets._common import PANEL_NOTE

    with lb.Client(tmp_path / "home", engine=engine) as client:
        for panel, start in ((FilesPanel(client), "FilesPanel: 0 files"), (ResponseView(), "ResponseView: no response"),
                             (PromptEditor(client), "PromptEditor")):  # fmt: skip
            bundle = panel._repr_mimebundle_()
            plain = (bundle[0] if isinstance(bundle, tuple) else bundle)["text/plain"]
            assert plain.startswith(start) and plain.endswith(f"({PANEL_NOTE})") and "children=" not in plain
