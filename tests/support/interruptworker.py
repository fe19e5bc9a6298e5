"""A grid to interrupt with real SIGINTs: run by tests/integration/test_interrupts.py.

``python interruptworker.py HOME`` runs a 24-row grid at ``concurrency=3`` on a scripted engine
whose answers take about 0.3 s, printing ``call <text>`` as each call starts (the test sends SIGINT
on cue). When the grid returns it prints one JSON line: the rows' statuses, the calls the engine
started, the responses and run-log rows in the home right away and again 1.5 s later (so a write
landing after the return shows), and after the client closed.
"""

from __future__ import annotations

import json
import sqlite3
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # tests/: support is a package there

import llamabook as lb  # noqa: E402
from support.scripted_engine import ScriptedEngine, echo  # noqa: E402

ROWS = [{"x": f"item {n}"} for n in range(24)]


def counts(home: Path) -> dict[str, int]:
    with sqlite3.connect(home / "llamabook.db") as db:
        return {
            "logged": db.execute("SELECT COUNT(*) FROM grid_results").fetchone()[0],
            "responses": db.execute("SELECT COUNT(*) FROM responses").fetchone()[0],
        }


def main() -> None:
    home = Path(sys.argv[1])
    started: list[str] = []

    def answer(messages: list[dict[str, Any]]) -> str:
        text = echo(messages)
        started.append(text)
        print("call", text, flush=True)
        return text

    engine = ScriptedEngine(answer=answer, delay_s=0.1)  # "echo: item n" streams in 3 words: 0.3 s
    client = lb.Client(home, engine=engine)
    grid = client.grid("{{x}}", ROWS, concurrency=3, progress=False)
    right_away = counts(home)
    time.sleep(1.5)  # a call dropped in flight finishes meanwhile: it must write nothing
    later = counts(home)
    client.close()
    time.sleep(0.5)
    print(json.dumps({
        "status": grid["status"].tolist(),
        "calls": started,
        "right_away": right_away,
        "later": later,
        "closed": counts(home),
    }), flush=True)


if __name__ == "__main__":
    main()
