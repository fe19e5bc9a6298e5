"""Bad input in a real JupyterLab: one line of text saying what to change; other errors keep their traceback.

After ``%load_ext llamabook``, a ``client.grid`` cell whose DataFrame lacks a column the prompt needs
shows one line (``MissingVariables: … rows has no column 'mood' …``), no traceback; a ``%%llama --over``
cell with a missing column names the DataFrame's columns; ``1/0`` still shows its traceback. A column
name of hostile markup rides along in the message and must stay text. A scripted engine stands in for
the model (nothing is sent: every error comes before a call); the client, the magics, the kernel and
JupyterLab's renderers are the real ones. The failing cells are tagged ``raises-exception``, so Run All
goes on past them.
"""

from __future__ import annotations

import pytest

from ._requires import require_browser

require_browser()

from playwright.sync_api import Page, expect  # noqa: E402

pytestmark = pytest.mark.browser

HOSTILE = '<img src=x onerror="window.__pwned=1">'

SETUP = f"""\
import tempfile
import pandas as pd
import llamabook as lb, llamabook.magics

class Scripted:
    name = "scripted"
    def models(self):
        return [lb.Model(id="scripted-model", owned_by="tests", engine="scripted", accepts=["text"])]
    def generate(self, model, messages, options):
        raise AssertionError("nothing is sent for bad input")

%load_ext llamabook
client = lb.Client(tempfile.mkdtemp(), engines=[Scripted()])
llamabook.magics.set_client(client)
client.prompts.save("haiku", "A {{{{mood}}}} haiku about {{{{topic}}}}.")
df = pd.DataFrame({{"topic": ["tides"], "mood": ["calm"], {HOSTILE!r}: ["x"]}})
cities = pd.DataFrame({{"city": ["Paris"], "country": ["France"]}})
print("ready")"""

GRID = 'client.grid("haiku", df[["topic", ' + repr(HOSTILE) + "]], progress=False)"
OVER = "%%llama --over cities\nName a street of {{town}} in {{country}}."
OTHER = "1/0"
VAR = "%%llama --var tone friendly\nA {{tone}} greeting."

GRID_LINE = (
    "MissingVariables: Missing value for variable(s) 'mood' of prompt haiku: rows has no column 'mood' "
    f"(columns: topic, {HOSTILE}). Add that column to rows. (%tb shows the full traceback)"
)
VAR_LINE = "UsageError: --var takes NAME=VALUE: write --var tone=friendly"
OVER_LINE = (
    "UsageError: No value for town: --over cities has no column 'town' (columns: city, country). Add that column "
    "to cities, or give every row the same value: define town in the notebook, or pass --var town=..."
)


def write_tagged(lab, name: str, *cells: tuple[str, bool]) -> str:  # type: ignore[no-untyped-def]
    """A notebook of code cells; those marked True are tagged ``raises-exception`` (Lab's Run All goes on past them)."""
    import nbformat

    name = lab.write_notebook(name, *(source for source, _ in cells))
    path = lab.root / name
    nb = nbformat.read(path, as_version=4)
    for cell, (_, raises) in zip(nb.cells, cells):
        if raises:
            cell.metadata["tags"] = ["raises-exception"]
    nbformat.write(nb, path)
    return name


def test_bad_input_is_one_line_of_text_and_other_errors_keep_their_traceback(lab, lab_page: Page, record) -> None:
    page = lab_page
    name = write_tagged(
        lab,
        "error-messages.ipynb",
        (SETUP, False),
        (GRID, True),
        (OVER, True),
        (OTHER, True),
        ('print("done")', False),
        (VAR, True),  # last: a UsageError stops Run All in Lab even when tagged
    )
    panel = lab.open_and_run_all(page, name)
    cells = panel.locator(".jp-Cell")
    expect(cells.nth(4).locator(".jp-OutputArea-output")).to_have_text("done")
    expect(cells.nth(0).locator(".jp-OutputArea-output")).to_have_text("ready")
    record.lap("all cells ran")

    grid = cells.nth(1).locator(".jp-OutputArea-output")
    expect(grid).to_have_count(1)
    expect(grid).to_have_text(GRID_LINE)  # the hostile column name is there, as text
    shown = grid.text_content() or ""
    assert "has no column 'mood'" in shown and "Traceback" not in shown and "\n" not in shown.strip()
    assert "variables=" not in shown and "strict=False" not in shown and "pmpt_" not in shown

    over = cells.nth(2).locator(".jp-OutputArea-output")
    expect(over).to_have_count(1)
    expect(over).to_have_text(OVER_LINE)

    other = cells.nth(3).locator(".jp-OutputArea-output")
    expect(other).to_contain_text("Traceback")
    expect(other).to_contain_text("ZeroDivisionError")
    assert "%tb shows" not in (other.first.text_content() or "")

    var = cells.nth(5).locator(".jp-OutputArea-output")
    expect(var).to_have_count(1)
    expect(var).to_have_text(VAR_LINE)  # not argparse's "unrecognized arguments: friendly"

    # a message may hold a column name or a template's words: text, never live HTML
    assert page.evaluate("typeof window.__pwned") == "undefined"
    outputs = panel.locator(".jp-OutputArea-output")
    assert outputs.evaluate_all("els => els.flatMap(el => [...el.querySelectorAll('img,script,iframe')]).length") == 0
    record.lap("checked")
