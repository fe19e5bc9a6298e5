"""A grid frame built by hand, shaped as ``client.grid`` returns it: for tests of what reads a grid (no model)."""

from __future__ import annotations

from typing import Any

import pandas as pd


def grid(lines: list[dict[str, Any]], repeats: bool = False) -> pd.DataFrame:
    """A grid frame of ``lines`` (row, version and the result values), one model ``m``, two checks."""
    base = {
        "status": "completed", "error": None, "input_tokens": 10, "output_tokens": 5, "latency_s": 1.0,
        "replayed": False, "response_id": None, "ok": True, "ok_error": None, "quality": 0.5,
    }  # fmt: skip
    records = [{**base, **line} for line in lines]
    frame = pd.DataFrame(
        {
            "row": pd.array([r["row"] for r in records], dtype="int64"),
            "city": [f"city {r['row']}" for r in records],
            "version": pd.array([r["version"] for r in records], dtype="Int64"),
            "model": pd.array(["m"] * len(records), dtype="string"),
            **({"repeat": pd.array([r.get("repeat", 0) for r in records], dtype="Int64")} if repeats else {}),
            "output_text": pd.array([r["output_text"] for r in records], dtype="string"),
            "status": pd.array([r["status"] for r in records], dtype="string"),
            "error": pd.array([r["error"] for r in records], dtype="string"),
            "input_tokens": pd.array([r["input_tokens"] for r in records], dtype="Int64"),
            "output_tokens": pd.array([r["output_tokens"] for r in records], dtype="Int64"),
            "latency_s": pd.array([r["latency_s"] for r in records], dtype="Float64"),
            "replayed": [bool(r["replayed"]) for r in records],
            "response_id": pd.array([r["response_id"] for r in records], dtype="string"),
            "check_ok": pd.array([r["ok"] for r in records], dtype="boolean"),
            "check_ok_error": pd.array([r["ok_error"] for r in records], dtype="string"),
            "check_quality": pd.array([r["quality"] for r in records], dtype="Float64"),
        }
    )
    frame.attrs["llamabook"] = {"grid": {"own": ["city"]}}
    return frame
