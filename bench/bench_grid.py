"""A 1,000-call grid against a loopback server with 100 ms latency, at concurrency 50.

Compared in one run with the ideal (calls × latency / concurrency = 2.0 s) and with the naive
sequential loop a user would write (``for row in rows: client.responses.create(...)``; timed
on a sample of rows and scaled up, since 1,000 × 100 ms would take minutes). The server is
tests/faultserver.py in its own process (so its CPU is not the client's), injecting only the latency. The grid's run log is on (as by default);
a fresh home each time, so nothing is cached.

    .venv/bin/python bench/bench_grid.py [--calls 1000] [--concurrency 50] [--latency 0.1] [--naive-sample 50]
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import urllib.request
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))
sys.path.insert(0, str(Path(__file__).resolve().parent))

import llamabook as lb  # noqa: E402
from _common import machine_info, table, write_json  # noqa: E402
from faultserver import MODEL  # noqa: E402

SERVER = Path(__file__).resolve().parent.parent / "tests" / "faultserver.py"


class Remote:
    """The fault server in a subprocess."""

    def __init__(self, latency: float) -> None:
        self.process = subprocess.Popen([sys.executable, str(SERVER), str(latency)], stdout=subprocess.PIPE, text=True)
        self.url = self.process.stdout.readline().strip()

    def stats(self) -> dict[str, int]:
        with urllib.request.urlopen(self.url + "/stats") as answer:
            return json.load(answer)

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(timeout=10)


def client_for(server: Remote, home: str) -> lb.Client:
    engine = lb.OpenAICompatibleEngine(server.url, models=[MODEL], max_retries=0, timeout=30)
    return lb.Client(home, engine=engine)


def run_grid(server: Remote, calls: int, concurrency: int) -> tuple[float, float, int]:
    """Wall seconds, process CPU seconds and completed rows for one grid on a fresh home."""
    with tempfile.TemporaryDirectory() as home, client_for(server, home) as client:
        client.responses.create("warm-up")  # the HTTP client and the model list are set up once
        rows = [{"x": str(i)} for i in range(calls)]
        start, cpu = time.perf_counter(), time.process_time()
        grid = client.grid("item {{x}}", rows, concurrency=concurrency, progress=False)
        return time.perf_counter() - start, time.process_time() - cpu, int((grid["status"] == "completed").sum())


def run_naive(server: Remote, sample: int) -> float:
    """Seconds per call of a plain sequential loop."""
    with tempfile.TemporaryDirectory() as home, client_for(server, home) as client:
        p = client.prompts.create("item {{x}}", variables=["x"])
        client.responses.create("warm-up")
        start = time.perf_counter()
        for i in range(sample):
            client.responses.create(prompt=p, variables={"x": str(i)})
        return (time.perf_counter() - start) / sample


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--calls", type=int, default=1000)
    parser.add_argument("--concurrency", type=int, default=50)
    parser.add_argument("--latency", type=float, default=0.1)
    parser.add_argument("--naive-sample", type=int, default=50)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    info = machine_info()
    server = Remote(args.latency)
    try:
        grids = [run_grid(server, args.calls, args.concurrency) for _ in range(args.rounds)]
        per_call = run_naive(server, args.naive_sample)
        peak = server.stats()["max_in_flight"]
    finally:
        server.stop()
    ideal = args.calls * args.latency / args.concurrency
    wall = statistics.median(g[0] for g in grids)
    cpu = statistics.median(g[1] for g in grids)
    naive = per_call * args.calls
    rows = [
        ["ideal (calls × latency / concurrency)", f"{ideal:.2f}", "1.00×", "—"],
        [f"llamabook grid, concurrency {args.concurrency} (median of {args.rounds})", f"{wall:.2f}",
         f"{wall / ideal:.2f}×", f"{naive / wall:.1f}× faster"],
        [f"naive sequential loop (scaled from {args.naive_sample} calls)", f"{naive:.1f}", f"{naive / ideal:.1f}×", "1.0×"],
    ]
    print(f"{args.calls} calls, server latency {args.latency * 1000:.0f} ms; nproc={info['nproc']}, "
          f"python {info['python']}, load average at start {info['loadavg_at_start']}\n")
    print(table(["run", "seconds", "vs ideal", "vs naive loop"], rows))
    print(f"\ngoal ≤ 1.05× ideal: {'met' if wall / ideal <= 1.05 else 'not met'}; peak calls in flight {peak}; "
          f"client CPU {cpu:.2f} s for {args.calls} calls = {cpu / args.calls * 1000:.2f} ms/call; "
          f"completed rows {[g[2] for g in grids]}")
    write_json("grid", {
        "benchmark": "grid of calls vs ideal and naive loop", "machine": info, "args": vars(args),
        "grid_runs": [{"wall_s": w, "cpu_s": c, "completed": n} for w, c, n in grids],
        "ideal_s": ideal, "naive_per_call_s": per_call, "naive_scaled_s": naive, "peak_in_flight": peak,
    })


if __name__ == "__main__":
    main()
