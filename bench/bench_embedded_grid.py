"""The embedded grid on one model context against the pool (one context per core), in one run.

The same grid both times: 8 rows × ``--max-tokens`` (96) tokens, concurrency 4, greedy, a fresh
home each time (nothing cached). Each side runs in its own process (the pool is process-wide),
rounds interleaved; the model is loaded and warmed before the clock starts. Also measured: the
resident memory one more context adds (the weights are memory-mapped and shared; its KV cache
and compute buffers are not), and whether both sides give the same bytes.

    .venv/bin/python bench/bench_embedded_grid.py [--rounds 3] [--max-tokens 96] [--pool N]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import machine_info, table, write_json  # noqa: E402

ROWS = ["Ireland", "France", "Italy", "Spain", "Japan", "Kenya", "Chile", "Norway"]
TEMPLATE = "Write a short paragraph about {{country}}: its capital, its food and its weather."


def rss_bytes() -> int:
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    return 0


def side(contexts: int, max_tokens: int) -> dict[str, object]:
    """One grid with ``contexts`` contexts, in this process: seconds, tokens, answers, memory."""
    import llamabook as lb
    from llamabook.engines.embedded import EmbeddedEngine

    engine = EmbeddedEngine(contexts=contexts)
    engine.llama()  # the first context, loaded before the clock
    before = rss_bytes()
    with lb.Client(tempfile.mkdtemp(prefix="llamabook-bench-"), engine=engine) as client:
        client.responses.create(input="Warm up.", max_output_tokens=4)
        rows = [{"country": c} for c in ROWS]
        started = time.perf_counter()
        grid = client.grid(TEMPLATE, rows, concurrency=4, max_output_tokens=max_tokens, progress=False)
        seconds = time.perf_counter() - started
    return {
        "contexts": contexts,
        "contexts_loaded": len(engine.pool().contexts),
        "seconds": seconds,
        "output_tokens": int(grid["output_tokens"].sum()),
        "answers": list(grid["output_text"]),
        "rss_first_context": before,
        "rss_after": rss_bytes(),
    }


def run_side(contexts: int, max_tokens: int) -> dict[str, object]:
    out = subprocess.run(
        [sys.executable, __file__, "--side", str(contexts), "--max-tokens", str(max_tokens)],
        capture_output=True, text=True, check=True, env={**os.environ, "LLAMABOOK_THREADS": "1"},
    )  # fmt: skip
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--max-tokens", type=int, default=96)
    parser.add_argument("--pool", type=int, default=os.cpu_count() or 1, help="contexts on the pool side (default: cores)")
    parser.add_argument("--side", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.side is not None:
        print(json.dumps(side(args.side, args.max_tokens)))
        return

    started = time.monotonic()
    samples: dict[int, list[dict[str, object]]] = {1: [], args.pool: []}
    for _ in range(args.rounds):
        for contexts in samples:
            samples[contexts].append(run_side(contexts, args.max_tokens))
    rate = {c: [s["output_tokens"] / s["seconds"] for s in runs] for c, runs in samples.items()}  # type: ignore[operator]
    median = {c: statistics.median(r) for c, r in rate.items()}
    ratio = median[args.pool] / median[1]
    pool_runs = samples[args.pool]
    extra_rss = statistics.median(
        (int(s["rss_after"]) - int(s["rss_first_context"])) / max(1, int(s["contexts_loaded"]) - 1) for s in pool_runs
    )
    same = all(s["answers"] == samples[1][0]["answers"] for runs in samples.values() for s in runs)

    print(f"## Embedded grid: 1 context vs a pool of {args.pool} ({len(ROWS)} rows × {args.max_tokens} tokens, concurrency 4)\n")
    print(table(
        ["contexts", "median tok/s", "runs (tok/s)", "contexts loaded"],
        [[c, f"{median[c]:.1f}", ", ".join(f"{r:.1f}" for r in rate[c]), samples[c][0]["contexts_loaded"]] for c in samples],
    ))  # fmt: skip
    print(f"\npool / one context: **{ratio:.2f}×** (goal ≥ 1.6× on 2 cores, ≥ 0.8 × cores on bigger machines)")
    print(f"memory per extra context (resident, weights shared): {extra_rss / 2**20:.0f} MiB")
    print(f"same bytes on every side and round: {same}")
    result = {
        "benchmark": "embedded grid, one context vs the pool",
        "machine": machine_info(),
        "rows": len(ROWS), "max_output_tokens": args.max_tokens, "concurrency": 4, "threads_per_context": 1,
        "samples": samples, "median_tokens_per_s": median, "ratio": ratio,
        "extra_context_rss_bytes": extra_rss, "same_bytes": same, "wall_s": time.monotonic() - started,
    }  # fmt: skip
    print(f"\nwrote {write_json('embedded_grid', result)} in {result['wall_s']:.0f} s")


if __name__ == "__main__":
    main()
