"""Writers for tests/integration/test_crashes.py, forked on command so that each starts writing at once.

``python crashworker.py '<json spec>'`` imports everything and warms up once, then for each
``go ROUND`` line on stdin forks a child that does round ROUND of the work (a grid over that
round's rows against the fault server, plus that round's files and prompts from a second
thread), prints the child's pid, and waits for ``reap`` before reaping it and printing how it
ended. The test SIGKILLs the child in between; the next child resumes the same round until
one finishes it. An unreaped child keeps its pid, so the kill can never reach another process.
"""

from __future__ import annotations

import hashlib
import json
import os
import sys
import tempfile
import threading
import traceback
from typing import Any

import pandas  # noqa: F401  (imported before forking: the grid builds its DataFrame with it)

import llamabook as lb

TEMPLATE = "item {{x}}"
MODEL = "fake-model"


def payload(index: int) -> bytes:
    """The exact bytes of the index-th file."""
    seed = f"file {index}".encode()
    return seed + b"\n" + hashlib.sha256(seed).digest() * 16


def grid_rows(stop: int, start: int = 0, prefix: str = "") -> list[dict[str, str]]:
    return [{"x": f"{prefix}{i}"} for i in range(start, stop)]


def write_files_and_prompts(client: lb.Client, stop: int, start: int = 0) -> None:
    """Files ``f-0000.bin``… and prompts ``prompt 0``… for indices [start, stop), each created once.

    Resumes after a crash: what exists is skipped, so nothing is written twice.
    """
    have_files = {f.filename for f in client.files.list(limit=10_000)}
    have_prompts = {p.prompt for p in client.prompts.list()}
    for index in range(start, stop):
        if f"f-{index:04d}.bin" not in have_files:
            client.files.create(payload(index), filename=f"f-{index:04d}.bin")
        if f"prompt {index}" not in have_prompts:
            client.prompts.create(f"prompt {index}")


def work(spec: dict[str, Any], round_no: int, prefix: str = "") -> None:
    """Round ``round_no``: its grid rows and its files/prompts at once, until done (or killed)."""
    rows, files = spec["rows"], spec["files"]
    engine = lb.OpenAICompatibleEngine(spec["url"], models=[MODEL], max_retries=0, timeout=10)
    with lb.Client(spec["home"], engine=engine) as client:
        writer = threading.Thread(
            target=write_files_and_prompts, args=(client, (round_no + 1) * files, round_no * files)
        )
        writer.start()
        cells = grid_rows((round_no + 1) * rows, round_no * rows, prefix)
        client.grid(TEMPLATE, cells, concurrency=spec["concurrency"], progress=False)
        writer.join()


def warm_up(spec: dict[str, Any]) -> None:
    """Run a tiny round once on a scratch home, so lazy imports and caches are ready before forking."""
    with tempfile.TemporaryDirectory() as scratch:
        work({**spec, "home": scratch, "rows": 2, "files": 2}, 0, prefix="warm-up ")


def main(argv: list[str]) -> int:
    spec = json.loads(argv[0])
    warm_up(spec)
    while (command := sys.stdin.readline().split())[:1] == ["go"]:
        round_no = int(command[1])
        pid = os.fork()
        if pid == 0:  # the child: write until killed (or done), never return into this loop
            code = 1
            try:
                work(spec, round_no)
                code = 0
            except BaseException:
                traceback.print_exc()
            finally:
                os._exit(code)
        print(pid, flush=True)
        sys.stdin.readline()  # "reap": the test has sent its SIGKILL (or decided not to)
        _, status = os.waitpid(pid, 0)
        ended = {"signal": os.WTERMSIG(status) if os.WIFSIGNALED(status) else 0,
                 "exit": os.WEXITSTATUS(status) if os.WIFEXITED(status) else None}  # fmt: skip
        print(json.dumps(ended), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
