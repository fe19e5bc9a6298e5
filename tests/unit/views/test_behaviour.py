"""A behaviour diff's HTML (``llamabook.views.behaviour``): the word diff marked, flips, errors, deltas, all inert."""

from __future__ import annotations

import re
from pathlib import Path

import pandas as pd

import llamabook as lb
from llamabook import views
from llamabook.evaluation.behaviour_diff import BehaviourDiff
from llamabook.views.behaviour import behaviour_diff_html, behaviour_view_cell_html, deltas, shown_keys
from support.hand_grid import grid
from support.htmlcheck import URL_ATTRIBUTES, active_parts, tags, text

IMG = "<img src=x onerror=alert(1)>"
STYLE = "<style>body{display:none}</style>"
HOSTILE_ERROR = 'ValueError: <img src=z onerror="alert(3)">'


def hostile_diff() -> BehaviourDiff:
    return lb.behaviour_diff(hostile_diff_grid(), baseline=1, candidate=2, prices={"m": (1.0, 2.0)})


def hostile_diff_grid() -> pd.DataFrame:
    """Row 0: hostile text moved around (ok flips pass→fail); row 1: the check raised, hostile message, replayed."""
    frame = grid([
        {"row": 0, "version": 1, "output_text": f"Plain {IMG} text"},
        {"row": 0, "version": 2, "output_text": f"Plain {STYLE} text {IMG}", "ok": False},
        {"row": 1, "version": 1, "output_text": "Calm."},
        {"row": 1, "version": 2, "output_text": "Calm.", "ok": None, "ok_error": HOSTILE_ERROR, "replayed": True,
         "latency_s": None},
    ])  # fmt: skip
    frame["city"] = [IMG, IMG, STYLE, STYLE]
    return frame


def test_hostile_output_stays_text_and_changes_are_marked() -> None:
    diff = hostile_diff()
    html = diff._repr_html_()
    assert html == behaviour_diff_html(diff) and views.repr_text(diff) == diff.summary()
    assert active_parts(html) == [] and not re.search(r"<(img|style|script)\b", html)
    shown = text(html)
    assert f"Plain {IMG} text" not in shown  # the diff, not either side whole …
    assert IMG in shown and STYLE in shown  # … and the hostile text is there, as text
    assert diff.pairs[0].segments == (
        ("equal", "Plain <"), ("insert", "style>body{display:none}</style> text <"),
        ("equal", "img src=x onerror=alert(1)>"), ("delete", " text"),
    )  # fmt: skip
    assert [t for t, _ in tags(html) if t in ("ins", "del")] == ["ins", "del"]
    classes = {attrs.get("class") for tag, attrs in tags(html) if tag in ("ins", "del")}
    assert classes == {"llamabook-ins", "llamabook-del"}
    # Every style attribute is one of the templates' own: nothing from the data reaches one.
    assert all("alert" not in attrs.get("style", "") and "display:none" not in attrs.get("style", "") for _, attrs in tags(html))
    assert "✓→ ✗ ok" in shown.replace("\u00a0", " ")  # the flip, with the check marks
    assert f"⚠ ok raised on the candidate: {HOSTILE_ERROR}" in shown  # an error, never a flip
    assert [a["class"] for t, a in tags(html) if "llamabook-check-error" == a.get("class")] == ["llamabook-check-error"]
    assert "latency replayed" in shown and "tokens 0" in shown
    headers = [text(f"<x>{h}</x>") for h in re.findall(r"<th[^>]*>(.*?)</th>", html)]
    assert headers == ["row", "city", "output", "checks", "deltas"]  # one model: its key column says nothing


def test_a_key_that_varies_is_shown() -> None:
    frame = pd.concat([hostile_diff_grid(), hostile_diff_grid().assign(model="n")], ignore_index=True)
    diff = lb.behaviour_diff(frame, baseline=1, candidate=2)
    assert shown_keys(diff) == ["row", "model"] and ">model</th>" in diff._repr_html_()


def test_deltas_are_signed_and_say_replayed() -> None:
    diff = hostile_diff()
    first, second = diff.pairs
    assert deltas(first) == [("tokens", "0"), ("cost", "$0.000000"), ("latency", "0.00 s")]
    assert deltas(second)[2] == ("latency", "replayed")
    no_prices = lb.behaviour_diff(hostile_diff_grid(), baseline=1, candidate=2)
    assert deltas(no_prices.pairs[1]) == [("tokens", "0"), ("latency", "replayed")]  # no cost without prices
    frame = grid([
        {"row": 0, "version": 1, "output_text": "a", "output_tokens": 9, "latency_s": 2.0},
        {"row": 0, "version": 2, "output_text": "b", "output_tokens": 4, "latency_s": 2.5},
    ])  # fmt: skip
    pair = lb.behaviour_diff(frame, baseline=1, candidate=2, prices={"m": (0.0, 1_000_000.0)}).pairs[0]
    assert deltas(pair) == [("tokens", "−5"), ("cost", "−$5.000000"), ("latency", "+0.50 s")]


def test_the_view_cells_render_each_part_and_refuse_an_unknown_one() -> None:
    pair = hostile_diff().pairs[0]
    cells = {part: behaviour_view_cell_html(pair, part) for part in ("diff", "checks", "deltas")}
    assert all(active_parts(html) == [] and "line-height:normal" in html for html in cells.values())
    assert "<ins class=\"llamabook-ins\"" in cells["diff"] and "llamabook-behaviour-flip" in cells["checks"]
    try:
        behaviour_view_cell_html(pair, "<b>")
    except ValueError as problem:
        assert "not '<b>'" in str(problem)
    else:
        raise AssertionError("an unknown part rendered")


def test_an_empty_diff_says_nothing_changed() -> None:
    frame = grid([{"row": 0, "version": 1, "output_text": "a"}, {"row": 0, "version": 2, "output_text": "a"}])
    html = lb.behaviour_diff(frame, baseline=1, candidate=2, only_changes=True)._repr_html_()
    assert "No pairs: nothing changed between v1 and v2." in text(html) and "<table" not in html


def test_save_html_writes_one_inert_self_contained_file(tmp_path: Path) -> None:
    path = hostile_diff().save_html(tmp_path / "diff.html")
    assert path == tmp_path / "diff.html" and [p.name for p in tmp_path.iterdir()] == ["diff.html"]
    page = path.read_text(encoding="ascii")  # ASCII with character references
    assert page.startswith("<!DOCTYPE html>") and "<title>llamabook behaviour diff</title>" in page
    assert active_parts(page) == [] and not re.search(r"<(img|style|script|link|iframe)\b", page)
    assert [v for _, attrs in tags(page) for k, v in attrs.items() if k in URL_ATTRIBUTES] == []
    assert IMG in text(page) and "&#10003;" in page  # ✓ as a character reference
