"""Run every tutorial notebook live and say how far its answers are from its cassette.

    python notebooks/live_check.py            # all of them
    python notebooks/live_check.py 01 05      # those whose name starts with 01 or 05

``make test-notebooks`` replays the committed cassettes, so it proves the stored outputs, not
that the code still runs against a real model and server. This runs each notebook on a copy
(``build/notebooks-live/``, next to links to ``data/`` and ``local_stack.py``) with
``$LLAMABOOK_RECORD=all``: every model call runs on the embedded model and notebook 05 starts
a real OGX server. The fresh recordings are then compared with the committed cassettes.
Different answers are reported, not failed on: a native build, another CPU or another server
release may word them differently. The exit status is 1 only if a cell failed.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import nbformat

from build import HERE, execute

OUT = HERE.parent / "build" / "notebooks-live"


def answers(path: Path) -> dict[str, list[str]]:
    """Model answers in a cassette, in recorded order: a generation's by its request key; a
    server's by position (its requests name ids the server issues anew on every run)."""
    found: dict[str, list[str]] = {}
    if not path.exists():
        return found
    for line in path.read_text(encoding="utf-8").splitlines():
        entry = json.loads(line) if line.strip() else {}
        text = _answer(entry)
        if text is not None:
            key = entry["key"] if entry["kind"] == "generation" else "POST /v1/responses"
            found.setdefault(key, []).append(text)
    return found


def _answer(entry: dict[str, Any]) -> str | None:
    if entry.get("kind") == "generation":
        return "".join(entry["response"]["deltas"])
    request = entry.get("request", {})
    if entry.get("kind") != "http" or request.get("method") != "POST" or request.get("path") != "/v1/responses":
        return None
    response = entry["response"]
    for block in response.get("sse", []):
        for line in block.splitlines():
            if line.startswith("data:") and '"response.completed"' in line:
                final = json.loads(line[5:])["response"]
                return "".join(
                    part.get("text", "") for item in final.get("output", []) for part in item.get("content", []) or []
                )
    return None


def compare(committed: Path, live: Path) -> dict[str, int]:
    """How many live answers match the committed ones (same request, same position)."""
    old, new = answers(committed), answers(live)
    counts = {"answers": 0, "same": 0, "different": 0, "not_in_cassette": 0}
    for key, texts in new.items():
        for index, text in enumerate(texts):
            counts["answers"] += 1
            before = old.get(key, [])
            if index >= len(before):
                counts["not_in_cassette"] += 1
            elif before[index] == text:
                counts["same"] += 1
            else:
                counts["different"] += 1
    return counts


def prepare(out: Path) -> None:
    """A working copy: the notebooks' helpers and data linked, the cassettes copied (they are rewritten)."""
    if out.exists():
        shutil.rmtree(out)
    out.mkdir(parents=True)
    for name in ("data", "local_stack.py", "build.py"):
        (out / name).symlink_to(HERE / name)
    shutil.copytree(HERE / "cassettes", out / "cassettes")


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("names", nargs="*", help="notebook name prefixes (default: all)")
    args = parser.parse_args(argv)
    notebooks = sorted(HERE.glob("[0-9][0-9]-*.ipynb"))
    if args.names:
        notebooks = [n for n in notebooks if any(n.name.startswith(p) for p in args.names)]
    prepare(OUT)
    os.environ["LLAMABOOK_RECORD"] = "all"
    os.environ.pop("LLAMABOOK_CASSETTE", None)
    report: dict[str, Any] = {}
    failed = []
    for path in notebooks:
        nb = nbformat.read(path, as_version=4)
        started = time.monotonic()
        error = None
        try:
            execute(nb, cwd=OUT)
        except Exception as exc:  # a failing cell: report it, keep going
            error = f"{type(exc).__name__}: {str(exc).strip().splitlines()[-1] if str(exc).strip() else ''}"
            failed.append(path.name)
        nbformat.write(nb, OUT / path.name)
        cassette = f"cassettes/{path.stem}.jsonl"
        counts = compare(HERE / cassette, OUT / cassette)
        report[path.name] = {**counts, "seconds": round(time.monotonic() - started, 1), "error": error}
        status = "FAILED: " + error if error else "ran"
        print(
            f"{path.name}: {status} in {report[path.name]['seconds']} s; {counts['answers']} model answers, "
            f"{counts['different']} differ from {cassette}, {counts['not_in_cassette']} not in it",
            flush=True,
        )
    (OUT / "report.json").write_text(json.dumps(report, indent=2) + "\n")
    total = sum(r["answers"] for r in report.values())
    differ = sum(r["different"] + r["not_in_cassette"] for r in report.values())
    print(f"live run: {len(notebooks) - len(failed)} of {len(notebooks)} notebooks ran; "
          f"{differ} of {total} model answers differ from the cassettes (reported, not failed on)")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
