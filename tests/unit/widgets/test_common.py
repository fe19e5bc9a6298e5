"""What every panel shares (``llamabook.widgets._common``): a widget model a front end can show, redraws that
close what they replace, and a readable text fallback where widgets do not render."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

import llamabook as lb
from llamabook.widgets import FilesPanel, PromptEditor, ResponseView, RunsTable


def test_every_panel_opens_its_widget_model_so_a_front_end_can_show_it(client: lb.Client) -> None:
    """ipywidgets' Widget.__init__ calls self.open() to open the comm; a panel method named open must keep that."""
    lines = pd.DataFrame({"country": ["Ireland"], "status": ["completed"]})
    for panel in (PromptEditor(client), ResponseView(), FilesPanel(client), RunsTable(lines)):
        name = type(panel).__name__
        assert panel.comm is not None, f"{name} has no comm"
        assert panel._repr_mimebundle_()["application/vnd.jupyter.widget-view+json"]["model_id"], name
        assert panel.error.message == "", f"{name}: {panel.error.message}"


def test_redrawing_panels_closes_the_widgets_they_replace(client: lb.Client, data: Path) -> None:
    from ipywidgets.widgets.widget import _instances

    client.files.create(data / "invoice.pdf")
    panel = FilesPanel(client)
    runs = RunsTable(pd.DataFrame({"row": [0, 1], "status": ["failed", "failed"], "error": ["x", "y"]}))
    panel.refresh()
    runs.open(0)
    before = len(_instances)
    for _ in range(5):
        panel.refresh()
        runs.open(1)
        runs.open(0)
    assert len(_instances) == before  # each redraw closed what it replaced
    assert all(cell.comm is not None for cell in panel.table.children)


def test_panels_have_a_readable_text_fallback_where_widgets_do_not_render(tmp_path, engine) -> None:
    from llamabook.widgets import FilesPanel, PromptEditor, ResponseView
    from llamabook.widgets._common import PANEL_NOTE

    with lb.Client(tmp_path / "home", engine=engine) as client:
        for panel, start in ((FilesPanel(client), "FilesPanel: 0 files"), (ResponseView(), "ResponseView: no response"),
                             (PromptEditor(client), "PromptEditor")):  # fmt: skip
            bundle = panel._repr_mimebundle_()
            plain = (bundle[0] if isinstance(bundle, tuple) else bundle)["text/plain"]
            assert plain.startswith(start) and plain.endswith(f"({PANEL_NOTE})") and "children=" not in plain
