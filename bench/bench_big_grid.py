"""A big grid whose calls are all in the run log: a re-run of 100,000 rows (goal: <= 10 s on 2 cores).

First the run log of a fresh home is filled by running the grid once on the scripted test engine
(tests/support/scripted_engine.py: no model; concurrency 16, timed and reported apart). Then, in fresh
processes, rounds interleaved:

* llamabook: the same ``client.grid(...)`` again (after a 10-row warm-up grid in that process): it
  plans the tasks, finds every call in the run log and builds the typed frame, making no call.
  Phases (records, cache keys, run-log lookup, frame; the rest is prompts, models and tasks) come
  from timers around those functions inside that same call. Peak memory: the resident set before
  and after the grid (``ru_maxrss``), and the peak of Python allocations (``tracemalloc``) in a
  second, separately run re-run.
* the same process, after the grid: the old lookup (one ``RunLog.get`` query per row) against
  ``RunLog.get_many`` (chunked ``IN (...)`` queries) on the same keys.
* what a user would write instead: a key per row (``sha256`` of the template and the row's values),
  a dict loaded from their own SQLite cache, ``json.loads`` per row and ``pd.concat`` onto the rows
  (its cache holds the same results, written before the clock starts). It types nothing and checks
  nothing: a floor, not an equal.

    .venv/bin/python bench/bench_big_grid.py [--rows 100000] [--rounds 3] [--home DIR] [--fill-concurrency 16]

``--home DIR`` keeps the filled home there (a later run with the same ``--rows`` reuses it: its fill
makes no call); by default a temporary home is used and removed.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import resource
import shutil
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
import tracemalloc
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import machine_info, table, write_json  # noqa: E402

TEMPLATE = "Summarize {{title}} by {{author}} in {{language}}, in one sentence."
AUTHORS = ["Austen", "Tolstoy", "Achebe", "Murasaki", "Borges", "Woolf", "Mahfouz"]
LANGUAGES = ["English", "French", "Spanish"]
RESULTS = ["output_text", "status", "cut_off", "error", "input_tokens", "output_tokens", "latency_s", "response_id", "attempts"]
GOAL_S = 10.0


def make_rows(n: int) -> Any:
    """``n`` rows: three template variables (one unique per row, two repeating) and a year shown alongside."""
    import pandas as pd

    return pd.DataFrame({
        "title": [f"Book number {i}" for i in range(n)],
        "author": [AUTHORS[i % len(AUTHORS)] for i in range(n)],
        "language": [LANGUAGES[i % len(LANGUAGES)] for i in range(n)],
        "year": [1800 + i % 200 for i in range(n)],
    })  # fmt: skip


def user_key(title: str, author: str, language: str) -> str:
    return hashlib.sha256(json.dumps([TEMPLATE, title, author, language]).encode()).hexdigest()


def status_bytes(field: str) -> int:
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith(field + ":"):
                return int(line.split()[1]) * 1024
    return 0


def rss_bytes() -> int:
    return status_bytes("VmRSS")


def reset_peak_rss() -> bool:
    """Start a new resident-memory high-water mark (Linux >= 4.0); False when this system can't."""
    try:
        with open("/proc/self/clear_refs", "w") as clear:
            clear.write("5")
        return True
    except OSError:
        return False


def peak_rss_bytes() -> int:
    """The resident high-water mark: VmHWM (since the last reset), else ``ru_maxrss``.

    Not ``ru_maxrss`` alone: on Linux a child process inherits its parent's, here the fill's.
    """
    return status_bytes("VmHWM") or resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


def fill(home: Path, n: int, concurrency: int, user_cache: Path) -> dict[str, Any]:
    """Run the grid once (every call on the scripted engine), then write the user's own cache of the same results."""
    import llamabook as lb
    from support.scripted_engine import ScriptedEngine

    rows = make_rows(n)
    engine = ScriptedEngine()
    with lb.Client(home, engine=engine) as client:
        started = time.perf_counter()
        grid = client.grid(TEMPLATE, rows, concurrency=concurrency, progress=False)
        seconds = time.perf_counter() - started
    failed = int((grid["status"] != "completed").sum())
    records = grid[RESULTS].astype(object).where(grid[RESULTS].notna(), None).to_dict(orient="records")
    user_cache.unlink(missing_ok=True)
    with sqlite3.connect(user_cache) as conn:
        conn.execute("CREATE TABLE cache (key TEXT PRIMARY KEY, result TEXT NOT NULL)")
        conn.executemany(
            "INSERT INTO cache VALUES (?, ?)",
            ((user_key(t, a, lang), json.dumps(r)) for t, a, lang, r in zip(rows["title"], rows["author"], rows["language"], records)),
        )
    return {"seconds": seconds, "calls": len(engine.calls), "failed": failed, "concurrency": concurrency}


def timed(phases: dict[str, float], name: str, function: Callable[..., Any], keep: dict[str, Any] | None = None) -> Callable[..., Any]:
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        started = time.perf_counter()
        value = function(*args, **kwargs)
        phases[name] = phases.get(name, 0.0) + time.perf_counter() - started
        if keep is not None:
            keep[name] = value
        return value

    return wrapper


def side_grid(home: Path, n: int) -> dict[str, Any]:
    """The re-run, in this fresh process: total and per phase, memory, no call made; then old vs new lookup."""
    import llamabook as lb
    from llamabook.grid import plan, rows as grid_rows, run
    from llamabook.store.runs import RunLog
    from support.scripted_engine import ScriptedEngine

    rows = make_rows(n)
    engine = ScriptedEngine()
    with lb.Client(home, engine=engine) as client:
        client.grid(TEMPLATE, rows.head(10), progress=False)  # warm-up: imports, the prompt, the model list
        phases: dict[str, float] = {}
        kept: dict[str, Any] = {}
        # Timers go where the grid looks the functions up: grid.rows.records (called through its module),
        # grid.keys.cache_keys (as imported by grid.plan), grid.frame.to_frame (as imported by grid.run).
        originals = grid_rows.records, plan.cache_keys, RunLog.get_many, run.to_frame
        grid_rows.records = timed(phases, "records", grid_rows.records)
        plan.cache_keys = timed(phases, "keys", plan.cache_keys, kept)
        RunLog.get_many = timed(phases, "lookup", RunLog.get_many)
        run.to_frame = timed(phases, "frame", run.to_frame)
        rss_before, reset = rss_bytes(), reset_peak_rss()
        started = time.perf_counter()
        grid = client.grid(TEMPLATE, rows, progress=False)
        total = time.perf_counter() - started
        peak = peak_rss_bytes()
        grid_rows.records, plan.cache_keys, RunLog.get_many, run.to_frame = originals
        phases["other (prompts, models, tasks)"] = total - sum(phases.values())
        cached = bool(grid["cached"].all())

        del grid
        tracemalloc.start()
        client.grid(TEMPLATE, rows, progress=False)
        traced_peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()

        log = client.backend.store.runs
        keys = kept["keys"]
        lookups: dict[str, list[float]] = {"per-row get()": [], "get_many()": []}
        for _ in range(2):
            started = time.perf_counter()
            one_by_one = [log.get(key) for key in keys]
            lookups["per-row get()"].append(time.perf_counter() - started)
            started = time.perf_counter()
            many = log.get_many(keys)
            lookups["get_many()"].append(time.perf_counter() - started)
        same = all(many.get(key) == found for key, found in zip(keys, one_by_one))
    return {
        "seconds": total, "phases": phases, "all_cached": cached, "engine_calls": len(engine.calls),
        "rss_before": rss_before, "peak_rss": peak, "peak_rss_reset": reset, "tracemalloc_peak": traced_peak,
        "lookup_s": {k: min(v) for k, v in lookups.items()}, "lookups_agree": same,
    }  # fmt: skip


def side_user(user_cache: Path, n: int) -> dict[str, Any]:
    """What a user would write with their own cache: keys, a dict from SQLite, json.loads, concat."""
    import pandas as pd

    rows = make_rows(n)
    rss_before, reset = rss_bytes(), reset_peak_rss()
    started = time.perf_counter()
    keys = [user_key(t, a, lang) for t, a, lang in zip(rows["title"], rows["author"], rows["language"])]
    with sqlite3.connect(user_cache) as conn:
        cache = dict(conn.execute("SELECT key, result FROM cache"))
    results = [json.loads(cache[key]) for key in keys]
    frame = pd.concat([rows, pd.DataFrame(results)], axis=1)
    seconds = time.perf_counter() - started
    return {"seconds": seconds, "rows": len(frame), "rss_before": rss_before, "peak_rss": peak_rss_bytes(), "peak_rss_reset": reset}


def run_side(side: str, path: Path, n: int) -> dict[str, Any]:
    out = subprocess.run(
        [sys.executable, __file__, "--side", side, "--path", str(path), "--rows", str(n)], capture_output=True, text=True, check=True
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--fill-concurrency", type=int, default=16)
    parser.add_argument("--home", type=Path, help="keep (or reuse) the filled home here")
    parser.add_argument("--side", choices=["grid", "user"], help=argparse.SUPPRESS)
    parser.add_argument("--path", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.side == "grid":
        print(json.dumps(side_grid(args.path, args.rows)))
        return
    if args.side == "user":
        print(json.dumps(side_user(args.path, args.rows)))
        return

    machine = machine_info()
    started = time.monotonic()
    home = args.home or Path(tempfile.mkdtemp(prefix="llamabook-bench-big-"))
    user_cache = home / "user_cache.db"
    try:
        filled = fill(home, args.rows, args.fill_concurrency, user_cache)
        samples: dict[str, list[dict[str, Any]]] = {"grid": [], "user": []}
        for _ in range(args.rounds):
            samples["grid"].append(run_side("grid", home, args.rows))
            samples["user"].append(run_side("user", user_cache, args.rows))
    finally:
        if args.home is None:
            shutil.rmtree(home, ignore_errors=True)

    grid, user = samples["grid"], samples["user"]
    median = {side: statistics.median(s["seconds"] for s in runs) for side, runs in samples.items()}
    phases = {name: statistics.median(s["phases"][name] for s in grid) for name in grid[0]["phases"]}
    lookup = {name: statistics.median(s["lookup_s"][name] for s in grid) for name in grid[0]["lookup_s"]}
    memory = {
        "rss_before_grid": statistics.median(s["rss_before"] for s in grid),
        "peak_rss_grid": statistics.median(s["peak_rss"] for s in grid),
        "tracemalloc_peak": statistics.median(s["tracemalloc_peak"] for s in grid),
        "rss_before_user": statistics.median(s["rss_before"] for s in user),
        "peak_rss_user": statistics.median(s["peak_rss"] for s in user),
        "peak_is_of_the_rerun_alone": all(s["peak_rss_reset"] for s in grid + user),
    }
    no_call = all(s["engine_calls"] == 0 and s["all_cached"] for s in grid)
    mib = 2**20

    print(f"## Big grid re-run: {args.rows:,} rows, every call in the run log\n")
    print(f"fill (first run, scripted engine, concurrency {filled['concurrency']}): {filled['seconds']:.1f} s, "
          f"{filled['calls']:,} calls, {filled['failed']} failed\n")  # fmt: skip
    print(table(
        ["side", "median s", "runs (s)"],
        [["llamabook re-run (plan + log + frame)", f"{median['grid']:.2f}", ", ".join(f"{s['seconds']:.2f}" for s in grid)],
         ["user's own cache (keys, dict, json, concat)", f"{median['user']:.2f}", ", ".join(f"{s['seconds']:.2f}" for s in user)]],
    ))  # fmt: skip
    print(f"\nllamabook / user's cache: **{median['grid'] / median['user']:.2f}×**; "
          f"goal ≤ {GOAL_S:.0f} s: {'met' if median['grid'] <= GOAL_S else 'NOT met'}; no call made: {no_call}\n")  # fmt: skip
    print(table(["phase", "median s"], [[name, f"{seconds:.3f}"] for name, seconds in phases.items()]))
    print()
    print(table(
        ["run-log lookup of the same keys", "s (best of 2)"], [[name, f"{seconds:.3f}"] for name, seconds in lookup.items()]
    ))  # fmt: skip
    print(f"\nper-row get() / get_many(): **{lookup['per-row get()'] / lookup['get_many()']:.1f}×**; same results: "
          f"{all(s['lookups_agree'] for s in grid)}")  # fmt: skip
    since = "during the re-run" if memory["peak_is_of_the_rerun_alone"] else "over the whole process"
    print()
    print(table(
        ["memory (MiB)", "resident before", f"peak resident {since}", "peak Python allocations (tracemalloc)"],
        [["llamabook re-run", f"{memory['rss_before_grid'] / mib:.0f}", f"{memory['peak_rss_grid'] / mib:.0f}",
          f"{memory['tracemalloc_peak'] / mib:.0f}"],
         ["user's own cache", f"{memory['rss_before_user'] / mib:.0f}", f"{memory['peak_rss_user'] / mib:.0f}", ""]],
    ))  # fmt: skip
    result = {
        "benchmark": "big grid re-run from the run log", "machine": machine, "rows": args.rows, "template": TEMPLATE,
        "fill": filled, "samples": samples, "median_s": median, "ratio_to_user_cache": median["grid"] / median["user"],
        "phases_median_s": phases, "lookup_median_s": lookup, "memory_bytes": memory, "goal_s": GOAL_S,
        "goal_met": median["grid"] <= GOAL_S, "no_call": no_call, "wall_s": time.monotonic() - started,
    }  # fmt: skip
    print(f"\nwrote {write_json('big_grid', result)} in {result['wall_s']:.0f} s")


if __name__ == "__main__":
    main()
