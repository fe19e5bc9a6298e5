"""Per-call overhead of llamabook's HTTP backend vs the raw ``openai`` SDK, same Llama Stack server.

The script starts the real servers the tests use (llama-cpp-python's server with SmolLM2,
and ``llama stack run`` from ``.lls-venv`` routed to it) on loopback in a temporary
directory, and stops them at the end. Two clients talk to that one server:

* ``llamabook`` — ``lb.Client(home, base_url=server.url, model_accepts={MODEL: ["text"]})``
  (its own temporary home: SQLite cache of remote files and response traces, as usual);
* ``openai``    — ``openai.OpenAI(base_url=server.url + "/v1", api_key="none")``.

Operations, each like-for-like:

* ``files.retrieve``   — ``client.files.retrieve(id)`` vs ``sdk.files.retrieve(id)``;
* ``prompts.retrieve`` — ``client.prompts.retrieve(id)`` (default version) vs
  ``sdk.get(f"/prompts/{id}", cast_to=object)``;
* ``responses.create`` — ``client.responses.create(input=..., temperature=0, max_output_tokens=16)``
  (non-stream; llamabook always streams internally) vs ``sdk.responses.create(..., stream=True)``
  fully consumed; ``sdk.responses.create(...)`` non-stream is timed too, for context.

Each sample is the wall time of one call; the client process's CPU time is recorded too
(the servers run in other processes, so it is the client-side cost alone). After an
untimed warm-up, the cheap calls run for N rounds (every round runs the four op/side
pairs once, in a fresh seeded shuffle) and the responses for M rounds the same way.
Reported per side: median and p90; per operation: the ratio llamabook/openai of the
medians (goal ≤ 1.10), the median of per-round ratios, and the absolute overhead
(difference of medians, wall and CPU) in ms. Greedy decoding makes every response text
identical; the script checks that.

    .venv/bin/python bench/bench_http.py [--rounds 200] [--response-rounds 20] [--max-tokens 16] [--warmup 20]
"""

from __future__ import annotations

import argparse
import os
import random
import shutil
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from _common import machine_info, table, write_json

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))
from support.servers import llama_stack_missing, start_llama_cpp, start_llama_stack  # noqa: E402

MODEL = "llamacpp/smollm2"
ALIAS = "smollm2"
API_KEY = "sk-test-secret"
INPUT = "Say hello in one short sentence."
GOAL = 1.10

Sample = tuple[float, float]  # wall seconds, client process CPU seconds


def timed(call: Callable[[], Any]) -> Callable[[], tuple[Sample, Any]]:
    def run() -> tuple[Sample, Any]:
        start, cpu = time.perf_counter(), time.process_time()
        result = call()
        return (time.perf_counter() - start, time.process_time() - cpu), result

    return run


def p90(values: list[float]) -> float:
    return statistics.quantiles(values, n=10, method="inclusive")[-1]


def run_rounds(sides: dict[str, Callable[[], tuple[Sample, Any]]], rounds: int, seed: int,
               results: dict[str, list[Any]] | None = None) -> dict[str, list[Sample]]:
    """``rounds`` rounds; each runs every side once in a fresh seeded shuffle."""
    names = list(sides)
    samples: dict[str, list[Sample]] = {name: [] for name in names}
    order = random.Random(seed)
    for _ in range(rounds):
        for name in order.sample(names, len(names)):
            sample, result = sides[name]()
            samples[name].append(sample)
            if results is not None:
                results[name].append(result)
    return samples


def summarize(runs: list[Sample]) -> dict[str, float]:
    wall = [s for s, _ in runs]
    cpu = [c for _, c in runs]
    return {
        "median_ms": statistics.median(wall) * 1e3,
        "p90_ms": p90(wall) * 1e3,
        "min_ms": min(wall) * 1e3,
        "max_ms": max(wall) * 1e3,
        "median_cpu_ms": statistics.median(cpu) * 1e3,
        "p90_cpu_ms": p90(cpu) * 1e3,
    }


def compare(summary: dict[str, dict[str, float]], samples: dict[str, list[Sample]], side: str, ref: str) -> dict[str, float]:
    """side vs ref: ratio of medians, median per-round ratio, overhead (difference of medians)."""
    a, b = summary[side], summary[ref]
    return {
        "ratio_of_medians": a["median_ms"] / b["median_ms"],
        "median_per_round_ratio": statistics.median(x / y for (x, _), (y, _) in zip(samples[side], samples[ref])),
        "overhead_ms": a["median_ms"] - b["median_ms"],
        "cpu_ratio_of_medians": a["median_cpu_ms"] / b["median_cpu_ms"],
        "cpu_overhead_ms": a["median_cpu_ms"] - b["median_cpu_ms"],
    }


def stream_text(sdk: Any, max_tokens: int) -> str:
    """The raw SDK's streamed call, consumed to the end; the final text from ``response.completed``."""
    text = None
    with sdk.responses.create(model=MODEL, input=INPUT, temperature=0, max_output_tokens=max_tokens,
                              stream=True) as stream:
        for event in stream:
            if event.type in ("response.completed", "response.incomplete"):
                text = event.response.output_text
    return text or ""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=200, help="timed rounds of the cheap calls (default 200)")
    parser.add_argument("--response-rounds", type=int, default=20, help="timed rounds of responses.create (default 20)")
    parser.add_argument("--max-tokens", type=int, default=16, help="max_output_tokens (default 16)")
    parser.add_argument("--warmup", type=int, default=20, help="untimed rounds of the cheap calls first (default 20)")
    args = parser.parse_args()
    machine = machine_info()

    missing = llama_stack_missing()
    if missing:
        sys.exit(f"Cannot start the Llama Stack server: {missing}")
    import openai

    import llamabook as lb
    from llamabook.engines.embedded import default_model_path

    scratch = Path(tempfile.mkdtemp(prefix="llamabook-bench-http-"))
    servers = []
    client = sdk = None
    try:
        (scratch / "llama-cpp").mkdir()
        (scratch / "llama-stack").mkdir()
        started = time.perf_counter()
        llama_cpp = start_llama_cpp(scratch / "llama-cpp", default_model_path(), ALIAS, API_KEY)
        servers.append(llama_cpp)
        stack = start_llama_stack(scratch / "llama-stack", llama_cpp.url, API_KEY)
        servers.append(stack)
        startup_s = time.perf_counter() - started

        client = lb.Client(scratch / "home", base_url=stack.url, model_accepts={MODEL: ["text"]})
        sdk = openai.OpenAI(base_url=stack.url + "/v1", api_key="none")
        file_id = client.files.create(("bench.txt", b"llamabook http bench\n" * 8)).id
        prompt_id = client.prompts.create("Say hello to {{name}}.", variables=["name"]).prompt_id

        # Both sides return the same object: checked once, untimed.
        assert client.files.retrieve(file_id).id == sdk.files.retrieve(file_id).id == file_id
        raw_prompt = sdk.get(f"/prompts/{prompt_id}", cast_to=object)
        assert client.prompts.retrieve(prompt_id).prompt == raw_prompt["prompt"]

        cheap: dict[str, Callable[[], tuple[Sample, Any]]] = {
            "files.retrieve llamabook": timed(lambda: client.files.retrieve(file_id)),
            "files.retrieve openai": timed(lambda: sdk.files.retrieve(file_id)),
            "prompts.retrieve llamabook": timed(lambda: client.prompts.retrieve(prompt_id)),
            "prompts.retrieve openai": timed(lambda: sdk.get(f"/prompts/{prompt_id}", cast_to=object)),
        }
        n = args.max_tokens
        responses: dict[str, Callable[[], tuple[Sample, Any]]] = {
            "responses.create llamabook": timed(lambda: client.responses.create(
                input=INPUT, temperature=0, max_output_tokens=n).output_text),
            "responses.create openai stream": timed(lambda: stream_text(sdk, n)),
            "responses.create openai non-stream": timed(lambda: sdk.responses.create(
                model=MODEL, input=INPUT, temperature=0, max_output_tokens=n).output_text),
        }

        run_rounds(cheap, args.warmup, seed=1)  # warm-up: connections, first-use imports, server caches
        run_rounds(responses, 1, seed=2)
        samples = run_rounds(cheap, args.rounds, seed=0)
        texts: dict[str, list[str]] = {name: [] for name in responses}
        samples.update(run_rounds(responses, args.response_rounds, seed=0, results=texts))
    finally:
        if client is not None:
            client.close()
        if sdk is not None:
            sdk.close()
        for server in reversed(servers):
            server.stop()
        shutil.rmtree(scratch, ignore_errors=True)  # a start failure already printed the server log's tail
    loadavg_end = list(os.getloadavg())

    summary = {name: summarize(runs) for name, runs in samples.items()}
    pairs = {
        "files.retrieve": ("files.retrieve llamabook", "files.retrieve openai"),
        "prompts.retrieve": ("prompts.retrieve llamabook", "prompts.retrieve openai"),
        "responses.create": ("responses.create llamabook", "responses.create openai stream"),
    }
    comparisons = {op: compare(summary, samples, side, ref) for op, (side, ref) in pairs.items()}
    context = compare(summary, samples, "responses.create openai non-stream", "responses.create openai stream")
    all_texts = [t for runs in texts.values() for t in runs]
    same_text = len(set(all_texts)) == 1

    print(f"Loopback Llama Stack 0.7.3 server ({MODEL} via llama-cpp-python, SmolLM2-135M); "
          f"{args.rounds} interleaved rounds of the cheap calls and {args.response_rounds} of responses.create "
          f"(max_output_tokens={args.max_tokens}) after warm-up; nproc={machine['nproc']}, "
          f"python {machine['python']}, openai {openai.__version__}, "
          f"load average at start {machine['loadavg_at_start']}\n")
    rows = []
    for name in samples:
        s = summary[name]
        rows.append([name, len(samples[name]), f"{s['median_ms']:.2f}", f"{s['p90_ms']:.2f}",
                     f"{s['median_cpu_ms']:.2f}"])
    print(table(["side", "calls", "median ms", "p90 ms", "median client CPU ms"], rows))
    print()
    rows = []
    for op, (side, ref) in pairs.items():
        c = comparisons[op]
        rows.append([op, ref.split(" ", 1)[1], f"{c['ratio_of_medians']:.3f}×", f"{c['median_per_round_ratio']:.3f}×",
                     f"{c['overhead_ms']:+.2f}", f"{c['cpu_overhead_ms']:+.2f}",
                     "met" if c["ratio_of_medians"] <= GOAL else "NOT met"])
    rows.append(["(context) openai non-stream", "openai stream", f"{context['ratio_of_medians']:.3f}×",
                 f"{context['median_per_round_ratio']:.3f}×", f"{context['overhead_ms']:+.2f}",
                 f"{context['cpu_overhead_ms']:+.2f}", "—"])
    print(table(["operation", "llamabook vs", "ratio of medians", "median per-round ratio", "overhead ms (wall)",
                 "overhead ms (client CPU)", f"goal ≤ {GOAL:.2f}×"], rows))
    print(f"\nload average at end {loadavg_end}; servers started in {startup_s:.1f} s")
    print(f"identical response text on all sides and runs: {same_text} ({all_texts[0]!r})")

    path = write_json("http", {
        "benchmark": "HTTP per-call overhead, llamabook vs the raw openai SDK on one loopback Llama Stack server",
        "machine": machine,
        "openai_version": openai.__version__,
        "model": MODEL,
        "input": INPUT,
        "max_output_tokens": args.max_tokens,
        "rounds": args.rounds,
        "response_rounds": args.response_rounds,
        "warmup_rounds": args.warmup,
        "samples": {name: [{"wall_s": s, "cpu_s": c} for s, c in runs] for name, runs in samples.items()},
        "summary": summary,
        "comparisons": comparisons,
        "context_nonstream_vs_stream": context,
        "loadavg_at_end": loadavg_end,
        "goal_ratio_max": GOAL,
        "identical_text": same_text,
        "output_text": all_texts[0],
    })
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
