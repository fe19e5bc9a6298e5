"""A comparison's HTML with repeats: repeat 0's output, each check's tally, and the N outputs in a
``<details>`` element, every one of them text (a hostile output stays inert).

Without repeats the HTML is tested in tests/unit/evaluation/test_scores.py (and must not change).
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from llamabook.evaluation.compare import compare
from llamabook.views import CHECK_COLOURS
from llamabook.views.comparisons import cell_parts, compare_view_cell_html, comparison_html
from support.hand_grid import grid as hand_grid
from support.htmlcheck import active_parts, tags, text

HOSTILE = "<img src=x onerror=alert(1)>"


def grid_with_a_hostile_repeat() -> pd.DataFrame:
    lines = [
        {"row": 0, "version": 1, "repeat": 0, "output_text": "calm", "ok": True},
        {"row": 0, "version": 1, "repeat": 1, "output_text": HOSTILE, "ok": False},
        {"row": 0, "version": 1, "repeat": 2, "output_text": None, "status": "failed", "error": "<b>boom</b>",
         "ok": None, "quality": None},
    ]  # fmt: skip
    return hand_grid(lines, repeats=True)


def test_a_cell_with_repeats_shows_repeat_zero_the_tallies_and_its_outputs_in_details(tmp_path: Path) -> None:
    comparison = compare(grid_with_a_hostile_repeat())
    html = comparison_html(comparison)
    assert active_parts(html) == []
    assert not any(tag == "img" for tag, _ in tags(html))
    assert HOSTILE in text(html) and "&lt;img src=x onerror=alert(1)&gt;" in html  # shown, escaped
    assert "<b>boom</b>" in text(html)
    names = [tag for tag, _ in tags(html)]
    assert names.count("details") == 1 and names.count("summary") == 1
    details = html[html.index("<details") : html.index("</details>")]
    assert "3 outputs</summary>" in details
    assert details.count('class="llamabook-repeat"') == 3
    assert [f"repeat {r}" in details for r in range(3)] == [True, True, True]
    before = html[: html.index("<details")]  # the cell itself: repeat 0's output and the tallies
    cell = before[before.index('class="llamabook-compare-cell"') :]
    assert "calm" in text(cell) and HOSTILE not in text(cell)
    tally = f'<span class="llamabook-tally-mixed" title="ok: 1 of 2 passed · 3 repeats" style="color:{CHECK_COLOURS["mixed"]};'
    assert tally in cell and "1/2 ✓ ok</span>" in cell
    assert "0.50 n=2 quality" in text(cell)  # the failed repeat has no score
    saved = comparison.save_html(tmp_path / "repeats.html").read_text(encoding="ascii")
    assert saved.count("<details") == 1 and active_parts(saved) == [] and HOSTILE in text(saved)


def test_a_check_that_raised_in_a_repeat_is_counted_apart_in_amber() -> None:
    lines = [
        {"row": 0, "version": 1, "repeat": 0, "output_text": "a", "ok": None, "ok_error": "judge <down>"},
        {"row": 0, "version": 1, "repeat": 1, "output_text": "b", "ok": True},
    ]
    comparison = compare(hand_grid(lines, repeats=True))
    html = compare_view_cell_html(*cell_parts(comparison, 0, comparison.columns[0]))
    assert f'<span style="color:{CHECK_COLOURS["error"]};">⚠1</span> ok</span>' in html
    assert "1/1 ✓ " in html
    assert "judge <down>" in text(html) and active_parts(html) == []  # its message, in repeat 0 under details


def test_without_repeats_a_cell_has_no_details() -> None:
    comparison = compare(hand_grid([{"row": 0, "version": 1, "output_text": "a"}]))
    html = comparison_html(comparison)
    assert "<details" not in html and "llamabook-tally" not in html
    assert "✓ ok" in text(html)


# ---- the summary under the table (a <tfoot>): intervals, counts, verdicts -----------------------------------


def two_versions(ok_v1: list[object], ok_v2: list[object], check: str = "ok") -> pd.DataFrame:
    """Versions 1 and 2 over len(ok_v1) rows; a str is a check that raised (its message)."""
    lines = [
        {"row": row, "version": version, "output_text": f"v{version} {row}",
         "ok": None if isinstance(value, str) else value, "ok_error": value if isinstance(value, str) else None}
        for version, values in ((1, ok_v1), (2, ok_v2)) for row, value in enumerate(values)
    ]  # fmt: skip
    frame = hand_grid(lines).drop(columns=["check_quality"])
    return frame.rename(columns={"check_ok": f"check_{check}", "check_ok_error": f"check_{check}_error"})


def footer_of(html: str) -> str:
    return html[html.index("<tfoot") : html.index("</tfoot>") + len("</tfoot>")]


def test_the_footer_shows_each_columns_rates_intervals_counts_and_its_verdict() -> None:
    t, f = True, False
    html = comparison_html(compare(two_versions([t, t, t, t], [t, f, f, "judge down"], check="names_capital")))
    assert html.count("<tfoot") == 1 and html.index("</tbody>") < html.index("<tfoot") < html.index("</table>")
    footer = footer_of(html)
    cells = [attrs for tag, attrs in tags(footer) if tag == "td"]
    assert len(cells) == 3 and cells[0]["colspan"] == "2"  # the label over row and city, then one per column
    shown = [text(part[part.index(">") + 1 : part.index("</td>")]) for part in footer.split("<td")[1:]]
    assert shown == [
        "checks",
        "baselinenames_capital 1.00 [0.51, 1.00] n=4",  # Wilson: 4 of 4
        "names_capital 0.33 [0.06, 0.79] n=3 ⚠1 no evidence",  # 1 of 3 judged; the one that raised apart
    ]
    assert f'style="white-space:nowrap;color:{CHECK_COLOURS["error"]};">⚠1</span>' in footer
    grey = CHECK_COLOURS["none"]
    assert f'class="llamabook-verdict-no-evidence" style="white-space:nowrap;color:{grey};">no evidence</span>' in footer
    assert active_parts(html) == []


def test_a_worse_column_is_red_with_its_p_value() -> None:
    html = comparison_html(compare(two_versions([True] * 6, [False] * 6)))  # 6 discordant pairs: p = 2 · ½⁶
    assert f'class="llamabook-verdict-worse" style="white-space:nowrap;color:{CHECK_COLOURS["fail"]};">worse p=0.0312</span>' in html


def test_the_footer_is_escaped() -> None:
    hostile_check = "x<img src=x onerror=alert(1)>"  # a check's name reaches the footer as text
    html = comparison_html(compare(two_versions([True, False], [True, True], check=hostile_check)))
    footer = footer_of(html)
    assert hostile_check in text(footer) and "&lt;img src=x onerror=alert(1)&gt;" in footer
    assert not any(tag == "img" for tag, _ in tags(html)) and active_parts(html) == []
    apart = two_versions([True, False], [True, True], check="ok")
    apart = apart[(apart["version"] == 1) & (apart["row"] == 0) | (apart["version"] == 2) & (apart["row"] == 1)]
    refused = footer_of(comparison_html(compare(apart)))  # no row in common: no verdict, why as an escaped tooltip
    notes = [attrs for tag, attrs in tags(refused) if tag == "div" and attrs.get("class") == "llamabook-compare-note"]
    assert [n.get("title", "")[:40] for n in notes] == ["", "significance(): check 'ok' has no result"]
    assert "no verdict" in text(refused) and "evidence" not in text(refused)


def test_without_checks_there_is_no_footer() -> None:
    plain = two_versions([True], [False]).drop(columns=["check_ok", "check_ok_error"])
    html = comparison_html(compare(plain))
    assert "<tfoot" not in html and "llamabook-compare-footer" not in html
    assert html.count("<tr>") == 2  # the header and the one row
