"""SIGKILL at random points, again and again: the home opens, passes ``PRAGMA integrity_check``,
keeps every invariant after each kill, and resumes to exactly the expected rows.

Each writer is forked from tests/support/crashworker.py (imports done and warmed up once, so a fork
writes within milliseconds) and does one round of work: a grid against the fault server (real
HTTP, small latency) while a second thread uploads files and creates prompts. The test kills
it after a random delay and checks the database on disk; the next writer resumes the round,
and a writer that finishes before its kill moves the work to the next round. At the end one
run in this process finishes the last round and the totals are checked exactly.
"""

from __future__ import annotations

import json
import os
import random
import signal
import sqlite3
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import pytest

import llamabook as lb
from llamabook.store.database import Database
from support.crashworker import MODEL, TEMPLATE, grid_rows, payload, write_files_and_prompts
from support.faultserver import FaultServer
from support.storecheck import integrity

SUPPORT = Path(__file__).resolve().parents[1] / "support"
KILLS = 50
ROWS = 40  # grid rows per round
FILES = 25  # files, and prompts, per round
CONCURRENCY = 4
DELAY_S = (0.01, 0.25)  # from fork to SIGKILL


def check_invariants(home: Path) -> dict[str, int]:
    """What must hold after any crash: counts of what is stored, or an assertion error."""
    db = home / "llamabook.db"
    if not db.exists():  # killed before the first write
        return {"responses": 0, "logged": 0, "files": 0, "prompts": 0}
    assert integrity(db) == "ok"
    conn = sqlite3.connect(db)
    try:
        created = {row[0] for row in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
        if "schema_migrations" not in created:  # killed while migrating: nothing of it may remain
            assert created == set()
            return {"responses": 0, "logged": 0, "files": 0, "prompts": 0}
        assert created >= {"prompts", "prompt_versions", "files", "responses", "grid_results"}
        responses = dict(conn.execute("SELECT id, status FROM responses").fetchall())
        logged = [row[0] for row in conn.execute("SELECT response_id FROM grid_results")]
        # Every logged call points at its stored, completed response (the log is written after it).
        assert all(responses.get(rid) == "completed" for rid in logged)
        assert len(set(logged)) == len(logged)
        files = conn.execute("SELECT filename, sha256 FROM files").fetchall()
        names = Counter(name for name, _ in files)
        assert all(count == 1 for count in names.values()), "a file row was duplicated"
        for name, digest in files:  # no row without its bytes
            blob = home / "files" / digest[:2] / digest
            assert blob.read_bytes() == payload(int(name[2:6])), name
        prompts = conn.execute("SELECT COUNT(*) FROM prompts").fetchone()[0]
        versions = conn.execute("SELECT COUNT(*) FROM prompt_versions").fetchone()[0]
        assert prompts == versions  # a prompt and its first version commit together
        templates = Counter(row[0] for row in conn.execute("SELECT template FROM prompt_versions"))
        assert all(count == 1 for count in templates.values()), "a prompt was duplicated"
    finally:
        conn.close()
    return {"responses": len(responses), "logged": len(logged), "files": len(files), "prompts": prompts}


def test_sigkill_at_random_points_loses_and_duplicates_nothing(
    tmp_path: Path, record_property: pytest.RecordProperty
) -> None:
    server = FaultServer(latency_s=0.005).start()
    home = tmp_path / "home"
    spec = {"home": str(home), "url": server.url, "rows": ROWS, "files": FILES, "concurrency": CONCURRENCY}
    env = {k: v for k, v in os.environ.items() if k != "LLAMABOOK_BASE_URL"}
    env["OPENBLAS_NUM_THREADS"] = "1"  # the forking process must stay single-threaded
    zygote = subprocess.Popen(
        [sys.executable, str(SUPPORT / "crashworker.py"), json.dumps(spec)],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, env=env,
    )  # fmt: skip
    rng = random.Random(7)
    killed, round_no, progress = 0, 0, []
    try:
        assert zygote.stdin is not None and zygote.stdout is not None
        for _ in range(3 * KILLS):
            zygote.stdin.write(f"go {round_no}\n")
            zygote.stdin.flush()
            pid = int(zygote.stdout.readline())
            time.sleep(rng.uniform(*DELAY_S))
            os.kill(pid, signal.SIGKILL)  # our own unreaped child: the pid cannot have been reused
            zygote.stdin.write("reap\n")
            zygote.stdin.flush()
            ended = json.loads(zygote.stdout.readline())
            assert ended["signal"] == signal.SIGKILL or ended["exit"] == 0, ended  # killed, or done cleanly
            if ended["signal"] == signal.SIGKILL:
                killed += 1
            else:
                round_no += 1  # this round is complete: the next writer starts the next one
            progress.append(check_invariants(home))
            if killed == KILLS:
                break
    finally:
        if zygote.stdin:
            zygote.stdin.close()
        zygote.wait(timeout=30)
    assert killed == KILLS and round_no >= 1  # writers were killed mid-work, and work still got done
    assert progress[-1]["logged"] > 0

    calls_before = {marker: len(times) for marker, times in server.calls.items()}
    engine = lb.OpenAICompatibleEngine(server.url, models=[MODEL], max_retries=0)
    rounds = round_no + 1  # the last round may be unfinished: finish it here
    rows, files_total = rounds * ROWS, rounds * FILES
    with lb.Client(home, engine=engine) as client:  # opens and migrates as usual
        write_files_and_prompts(client, files_total)
        grid = client.grid(TEMPLATE, grid_rows(rows), concurrency=CONCURRENCY, progress=False)
        files = client.files.list(limit=10_000)
        prompts = client.prompts.list()
    server.stop()
    final = check_invariants(home)

    # Exactly the work asked for: every grid cell once, completed; every file and prompt once.
    expected = Counter([f"row {r}" for r in range(rows)] + [f"f-{i:04d}.bin" for i in range(files_total)]
                       + [f"prompt {i}" for i in range(files_total)])  # fmt: skip
    found = Counter([f"row {r}" for r in grid.loc[grid["status"] == "completed", "row"]]
                    + [f.filename for f in files] + [p.prompt for p in prompts if p.prompt != TEMPLATE])  # fmt: skip
    lost, duplicated = sum((expected - found).values()), sum((found - expected).values())
    record_property("crash_kills", killed)
    record_property("crash_rows_checked", sum(expected.values()))
    record_property("crash_rows_lost", lost)
    record_property("crash_rows_duplicated", duplicated)
    assert (lost, duplicated) == (0, 0)
    assert list(grid["row"]) == list(range(rows))
    assert (grid["output_text"] == [f"echo: item {r}" for r in grid["row"]]).all()
    assert final["logged"] == rows and final["files"] == final["prompts"] - 1 == files_total
    assert [p.prompt for p in prompts].count(TEMPLATE) == 1
    # Rows logged before the last kill came from the log: no finished call was made again.
    cached = set(grid.loc[grid["cached"], "row"])
    assert len(cached) == progress[-1]["logged"]
    assert all(len(server.calls[f"item {r}"]) == calls_before.get(f"item {r}", 0) for r in cached)
    # A call is repeated only if a kill caught it in flight (answered, not yet logged).
    repeated = sum(max(0, len(times) - 1) for times in server.calls.values())
    record_property("crash_calls_repeated", repeated)
    assert repeated <= killed * CONCURRENCY
    reopened = Database(home / "llamabook.db")
    assert reopened.schema_version() > 0
    reopened.close()
