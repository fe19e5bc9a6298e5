"""A 1,000-call grid against a loopback server with 100 ms latency, at concurrency 50.

Compared in one run with:
* the ideal: calls × latency / concurrency = 2.0 s;
* the bare transport: 50 threads sending the same requests with ``http.client`` and parsing
  the streamed JSON, storing nothing: the floor any Python client reaches on this machine;
* what a user would write without llamabook: the ``openai`` SDK in a 50-thread pool;
* the naive sequential loop (``for row in rows: client.responses.create(...)``), timed on a
  sample of rows and scaled up, since 1,000 × 100 ms would take minutes.

The server is tests/support/faultserver.py in its own process (so its CPU is not the client's),
injecting only the latency. The grid's run log is on (as by default) and every response is
stored; a fresh home each time, so nothing is cached.

    .venv/bin/python bench/bench_grid.py [--calls 1000] [--concurrency 50] [--latency 0.1] [--naive-sample 50] [--rounds 3]

Client CPU per call is the process's CPU time (every thread, the home's writer thread included)
over the calls. To see where it goes, sample a grid with py-spy or yappi (neither is a dependency):
``py-spy record -r 250 -f raw -o grid.txt -- .venv/bin/python bench/bench_grid.py --rounds 1``.
"""

from __future__ import annotations

import argparse
import http.client
import json
import socket
import threading
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.parse
import urllib.request
from collections import deque
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))
sys.path.insert(0, str(Path(__file__).resolve().parent))

import llamabook as lb  # noqa: E402
from _common import machine_info, table, write_json  # noqa: E402
from support.faultserver import MODEL  # noqa: E402

SERVER = Path(__file__).resolve().parent.parent / "tests" / "support" / "faultserver.py"


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
    import pandas  # noqa: F401  (imported once per process, as the grid's first DataFrame would: not per grid)

    with tempfile.TemporaryDirectory() as home, client_for(server, home) as client:
        client.responses.create("warm-up")  # the HTTP client and the model list are set up once
        rows = [{"x": str(i)} for i in range(calls)]
        start, cpu = time.perf_counter(), time.process_time()
        grid = client.grid("item {{x}}", rows, concurrency=concurrency, progress=False)
        return time.perf_counter() - start, time.process_time() - cpu, int((grid["status"] == "completed").sum())


def _body(i: int) -> dict[str, object]:
    return {"model": MODEL, "messages": [{"role": "user", "content": f"item {i}"}], "stream": True}


def _threads(calls: int, concurrency: int, make_call: Callable[[], Callable[[int], None]]) -> tuple[float, float]:
    """Wall and CPU seconds for ``calls`` calls spread over ``concurrency`` threads."""
    todo = deque(range(calls))

    def worker() -> None:
        call = make_call()
        while True:
            try:
                call(todo.popleft())
            except IndexError:
                return

    threads = [threading.Thread(target=worker) for _ in range(concurrency)]
    start, cpu = time.perf_counter(), time.process_time()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return time.perf_counter() - start, time.process_time() - cpu


def run_bare(server: Remote, calls: int, concurrency: int) -> tuple[float, float]:
    """The floor: one kept-alive http.client connection per thread, nothing stored."""
    parts = urllib.parse.urlsplit(server.url)

    def make_call() -> Callable[[int], None]:
        conn = http.client.HTTPConnection(parts.hostname, parts.port)
        conn.connect()
        conn.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

        def call(i: int) -> None:
            conn.request("POST", parts.path + "/chat/completions", body=json.dumps(_body(i)).encode(),
                         headers={"Content-Type": "application/json"})
            for line in conn.getresponse():
                if line.startswith(b"data: {"):
                    json.loads(line[6:])

        return call

    return _threads(calls, concurrency, make_call)


def run_sdk_pool(server: Remote, calls: int, concurrency: int) -> tuple[float, float]:
    """What a user would write: the openai SDK in a thread pool, collecting the text."""
    import openai

    sdk = openai.OpenAI(base_url=server.url, api_key="none", max_retries=0)
    texts: list[str] = []

    def call(i: int) -> None:
        stream = sdk.chat.completions.create(model=MODEL, messages=_body(i)["messages"], stream=True)  # type: ignore[arg-type]
        texts.append("".join(c.choices[0].delta.content or "" for c in stream if c.choices))

    call(-1)  # warm-up: the SDK's first call builds its HTTP client
    start, cpu = time.perf_counter(), time.process_time()
    with ThreadPoolExecutor(concurrency) as pool:
        list(pool.map(call, range(calls)))
    return time.perf_counter() - start, time.process_time() - cpu


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
        # Interleaved rounds, so a change in the machine's load hits every contender alike.
        bare, sdk, grids = [], [], []
        for _ in range(args.rounds):
            bare.append(run_bare(server, args.calls, args.concurrency))
            sdk.append(run_sdk_pool(server, args.calls, args.concurrency))
            grids.append(run_grid(server, args.calls, args.concurrency))
        per_call = run_naive(server, args.naive_sample)
        peak = server.stats()["max_in_flight"]
    finally:
        server.stop()
    ideal = args.calls * args.latency / args.concurrency
    wall = statistics.median(g[0] for g in grids)
    cpu = statistics.median(g[1] for g in grids)
    bare_wall = statistics.median(b[0] for b in bare)
    sdk_wall = statistics.median(b[0] for b in sdk)
    naive = per_call * args.calls

    def row(name: str, seconds: float, cpu_s: float | None) -> list[str]:
        return [name, f"{seconds:.2f}", f"{seconds / ideal:.2f}×", f"{seconds / bare_wall:.2f}×",
                f"{cpu_s / args.calls * 1000:.2f}" if cpu_s is not None else "—"]

    rounds = f"median of {args.rounds}"
    rows = [
        ["ideal (calls × latency / concurrency)", f"{ideal:.2f}", "1.00×", "—", "—"],
        row(f"bare transport: http.client, {args.concurrency} threads, nothing stored ({rounds})", bare_wall,
            statistics.median(b[1] for b in bare)),
        row(f"openai SDK in a {args.concurrency}-thread pool ({rounds})", sdk_wall, statistics.median(b[1] for b in sdk)),
        row(f"llamabook grid, concurrency {args.concurrency}, run log + stored responses ({rounds})", wall, cpu),
        row(f"naive sequential loop (scaled from {args.naive_sample} calls)", naive, None),
    ]
    print(f"{args.calls} calls, server latency {args.latency * 1000:.0f} ms; nproc={info['nproc']}, "
          f"python {info['python']}, load average at start {info['loadavg_at_start']}\n")
    print(table(["run", "seconds", "vs ideal", "vs bare transport", "client CPU ms/call"], rows))
    print(f"\ngrid rounds (s): {[round(g[0], 2) for g in grids]}; bare rounds (s): {[round(b[0], 2) for b in bare]}")
    print(f"goal ≤ 1.10× the bare transport: {'met' if wall / bare_wall <= 1.10 else 'not met'} ({wall / bare_wall:.2f}×); "
          f"≤ 1.05× ideal: {'met' if wall / ideal <= 1.05 else 'not met'} ({wall / ideal:.2f}×); "
          f"{sdk_wall / wall:.2f}× faster than the SDK pool, {naive / wall:.1f}× faster than the loop; "
          f"peak calls in flight {peak}; completed rows {[g[2] for g in grids]}")
    write_json("grid", {
        "benchmark": "grid of calls vs ideal and naive loop", "machine": info, "args": vars(args),
        "grid_runs": [{"wall_s": w, "cpu_s": c, "completed": n} for w, c, n in grids],
        "bare_runs": [{"wall_s": w, "cpu_s": c} for w, c in bare],
        "sdk_pool_runs": [{"wall_s": w, "cpu_s": c} for w, c in sdk],
        "ideal_s": ideal, "naive_per_call_s": per_call, "naive_scaled_s": naive, "peak_in_flight": peak,
    })


if __name__ == "__main__":
    main()
