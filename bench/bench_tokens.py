"""Embedded-engine tokens/s through llamabook vs llama-cpp-python called directly.

Three sides run the same request (fixed prompt, greedy, fixed ``max_output_tokens``,
same model file, n_ctx, n_threads and seed):

* ``llamabook stream``  — ``client.responses.create(..., stream=True)``, events consumed;
* ``llamabook``         — ``client.responses.create(...)`` (non-stream);
* ``direct``            — its own ``llama_cpp.Llama``: ``reset()`` then
  ``create_chat_completion(stream=True, temperature=0)`` on the messages llamabook sent.

Each sample is wall time from the call to the last token (prompt evaluation included, as
a user sees it). Output tokens are counted the same way on every side: the model's
``n_tokens`` after the last chunk minus after the first one (llamabook's ``usage``).
Process CPU time is recorded too (it leaves out time spent waiting for a CPU, not
slowdowns from shared caches or hypervisor steal); the goal is judged on wall time.
One untimed warm-up of each side, then the sides are interleaved for several rounds (a
fresh seeded shuffle of the order every round, so no side always follows the same one).
Reported: medians, min–max, the ratio llamabook/direct of the medians and the median of
per-round ratios. Greedy decoding makes all outputs identical; the script checks that.

    .venv/bin/python bench/bench_tokens.py [--rounds 5] [--max-tokens 128] [--threads N]
"""

from __future__ import annotations

import argparse
import os
import random
import shutil
import statistics
import tempfile
import time
from collections.abc import Callable
from typing import Any

from _common import machine_info, table, write_json

PROMPT = "Write a short story about a robot who learns to paint."
GOAL = 0.95

Sample = tuple[float, float, int, str]  # wall seconds, process CPU seconds, output tokens, text


def llamabook_side(client: Any, max_tokens: int, stream: bool) -> Callable[[], Sample]:
    def run() -> Sample:
        start, cpu = time.perf_counter(), time.process_time()
        if stream:
            events = client.responses.create(input=PROMPT, max_output_tokens=max_tokens, stream=True)
            for _ in events:
                pass
            response = events.response
        else:
            response = client.responses.create(input=PROMPT, max_output_tokens=max_tokens)
        elapsed, cpu = time.perf_counter() - start, time.process_time() - cpu
        return elapsed, cpu, response.usage.output_tokens, response.output_text

    return run


def direct_side(llm: Any, messages: list[dict[str, Any]], max_tokens: int) -> Callable[[], Sample]:
    def run() -> Sample:
        start, cpu = time.perf_counter(), time.process_time()
        llm.reset()
        chunks = llm.create_chat_completion(
            messages=messages, temperature=0.0, top_p=1.0, max_tokens=max_tokens, seed=0, stream=True
        )
        prompt_tokens: int | None = None
        parts: list[str] = []
        finish = None
        for chunk in chunks:
            if prompt_tokens is None:
                prompt_tokens = llm.n_tokens
            choice = chunk["choices"][0]
            finish = choice.get("finish_reason") or finish
            parts.append(choice.get("delta", {}).get("content") or "")
        elapsed, cpu = time.perf_counter() - start, time.process_time() - cpu
        # the last token of a length stop is sampled but never evaluated (same rule as llamabook)
        tokens = llm.n_tokens - (prompt_tokens or 0) + (1 if finish == "length" else 0)
        return elapsed, cpu, tokens, "".join(parts)

    return run


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5, help="timed rounds after the warm-up (default 5)")
    parser.add_argument("--max-tokens", type=int, default=128, help="max_output_tokens (default 128)")
    parser.add_argument("--threads", type=int, help="n_threads for both sides (default: llamabook's default)")
    args = parser.parse_args()
    machine = machine_info()

    if args.threads:
        os.environ["LLAMABOOK_THREADS"] = str(args.threads)
    import llamabook as lb
    from llama_cpp import Llama
    from llamabook.engines import embedded

    threads = embedded.default_threads()
    engine = embedded.EmbeddedEngine(n_threads=threads)  # only read: model path and n_ctx the client uses
    home = tempfile.mkdtemp(prefix="llamabook-bench-home-")
    client = lb.Client(home)

    sides: dict[str, Callable[[], Sample]] = {
        "llamabook stream": llamabook_side(client, args.max_tokens, stream=True),
        "llamabook": llamabook_side(client, args.max_tokens, stream=False),
    }
    warm = client.responses.create(input=PROMPT, max_output_tokens=args.max_tokens)  # loads the model
    messages = warm.rendered_messages
    assert (engine.model_path, engine.n_ctx, threads) in embedded._instances, "llamabook used other settings"
    direct = Llama(model_path=engine.model_path, n_ctx=engine.n_ctx, n_threads=threads, seed=0,
                   verbose=False, logits_all=False)
    sides["direct"] = direct_side(direct, messages, args.max_tokens)

    names = list(sides)
    for name in names:  # warm-up, untimed
        sides[name]()
    samples: dict[str, list[Sample]] = {name: [] for name in names}
    order = random.Random(0)
    for _ in range(args.rounds):
        for name in order.sample(names, len(names)):
            samples[name].append(sides[name]())

    reference = samples["direct"][0][3]
    same_text = all(text == reference for runs in samples.values() for *_, text in runs)
    token_counts = sorted({tokens for runs in samples.values() for _, _, tokens, _ in runs})
    summary: dict[str, dict[str, float]] = {}
    for name, runs in samples.items():
        summary[name] = {
            "median_s": statistics.median(s for s, _, _, _ in runs),
            "median_tokens": statistics.median(t for _, _, t, _ in runs),
            "median_tokens_per_s": statistics.median(t / s for s, _, t, _ in runs),
            "min_tokens_per_s": min(t / s for s, _, t, _ in runs),
            "max_tokens_per_s": max(t / s for s, _, t, _ in runs),
            "median_tokens_per_cpu_s": statistics.median(t / c for _, c, t, _ in runs),
        }
    direct_tps = summary["direct"]["median_tokens_per_s"]
    direct_cpu = summary["direct"]["median_tokens_per_cpu_s"]
    ratios = {name: summary[name]["median_tokens_per_s"] / direct_tps for name in names if name != "direct"}
    cpu_ratios = {name: summary[name]["median_tokens_per_cpu_s"] / direct_cpu for name in names if name != "direct"}
    # Within one round the sides ran back to back, so a per-round ratio cancels slow drifts in machine load.
    paired = {name: statistics.median((t / s) / (td / sd) for (s, _, t, _), (sd, _, td, _)
                                      in zip(samples[name], samples["direct"])) for name in ratios}

    print(f"SmolLM2-135M-Instruct, max_output_tokens={args.max_tokens}, n_threads={threads}, "
          f"{args.rounds} interleaved rounds after warm-up; nproc={machine['nproc']}, "
          f"python {machine['python']}, load average at start {machine['loadavg_at_start']}\n")
    rows = [[name, f"{summary[name]['median_tokens']:g}", f"{summary[name]['median_s']:.3f}",
             f"{summary[name]['median_tokens_per_s']:.2f}",
             f"{summary[name]['min_tokens_per_s']:.1f}–{summary[name]['max_tokens_per_s']:.1f}",
             "1.000" if name == "direct" else f"{ratios[name]:.3f}",
             f"{summary[name]['median_tokens_per_cpu_s']:.2f}",
             "1.000" if name == "direct" else f"{cpu_ratios[name]:.3f}"] for name in names]
    print(table(["side", "output tokens", "median wall s", "median tokens/s", "min–max tokens/s", "ratio vs direct",
                 "median tokens/CPU-s", "CPU ratio"], rows))
    met = all(r >= GOAL for r in ratios.values())
    print(f"\ngoal llamabook/direct ≥ {GOAL} (ratio of medians): {'met' if met else 'NOT met'}; "
          + ", ".join(f"{name} median per-round ratio {r:.3f}" for name, r in paired.items()))
    print(f"load average at end {list(os.getloadavg())}")
    print(f"identical output text on all sides and runs: {same_text}; token counts seen: {token_counts}")

    path = write_json("tokens", {
        "benchmark": "embedded engine tokens/s, llamabook vs direct llama-cpp-python",
        "machine": machine,
        "prompt": PROMPT,
        "messages": messages,
        "max_output_tokens": args.max_tokens,
        "n_threads": threads,
        "n_ctx": engine.n_ctx,
        "model_path": engine.model_path,
        "rounds": args.rounds,
        "samples": {name: [{"wall_s": s, "cpu_s": c, "output_tokens": t} for s, c, t, _ in runs]
                    for name, runs in samples.items()},
        "summary": summary,
        "ratios_vs_direct": ratios,
        "cpu_ratios_vs_direct": cpu_ratios,
        "median_per_round_ratios_vs_direct": paired,
        "loadavg_at_end": list(os.getloadavg()),
        "goal_ratio": GOAL,
        "identical_text": same_text,
        "output_text": reference,
    })
    print(f"wrote {path}")
    direct.close()
    client.close()
    shutil.rmtree(home, ignore_errors=True)


if __name__ == "__main__":
    main()
