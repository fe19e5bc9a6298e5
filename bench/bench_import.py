"""Cold-import time of ``llamabook`` vs ``openai`` vs ``llm``, each in a fresh interpreter.

Every sample is the wall time of one ``python -c 'import X'`` subprocess (nothing
subtracted). Each command runs once first so its bytecode is written, then N timed runs
are interleaved (one of each command per round, in a fresh seeded shuffle every round). The bare
interpreter start (``python -c pass``) is measured the same way, and the ratios are given
both on the raw medians and on import-only time (median minus the bare-start median); the
goal (≥ 10×) is judged on the raw medians, the stricter of the two.

    .venv/bin/python bench/bench_import.py [--runs 7]
"""

from __future__ import annotations

import argparse
import os
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

from _common import machine_info, table, write_json

COMMANDS: dict[str, str] = {
    "python -c pass": "pass",
    "import llamabook": "import llamabook",
    "import openai": "import openai",
    "import llm": "import llm",
}
GOAL = 10.0


def run_once(code: str, env: dict[str, str]) -> float:
    """Wall seconds of one fresh interpreter running ``code``."""
    start = time.perf_counter()
    subprocess.run([sys.executable, "-c", code], env=env, check=True,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=7, help="timed runs per command (default 7)")
    args = parser.parse_args()
    machine = machine_info()

    scratch = tempfile.mkdtemp(prefix="llamabook-bench-")
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONDONTWRITEBYTECODE", "PYTHONSTARTUP")}
    env.update(LLAMABOOK_HOME=os.path.join(scratch, "home"), LLM_USER_PATH=os.path.join(scratch, "llm"))

    names = list(COMMANDS)
    try:
        for name in names:  # writes bytecode; not timed
            run_once(COMMANDS[name], env)
        samples: dict[str, list[float]] = {name: [] for name in names}
        order = random.Random(0)
        for _ in range(args.runs):
            for name in order.sample(names, len(names)):
                samples[name].append(run_once(COMMANDS[name], env))
    finally:
        shutil.rmtree(scratch, ignore_errors=True)

    med = {name: statistics.median(values) for name, values in samples.items()}
    bare = med["python -c pass"]
    only = {name: med[name] - bare for name in names}
    lb, lb_only = med["import llamabook"], only["import llamabook"]
    ratios = {
        other: {"raw": med[f"import {other}"] / lb, "import_only": only[f"import {other}"] / lb_only}
        for other in ("openai", "llm")
    }

    rows = [[f"`{name}`", f"{med[name] * 1000:.1f}", f"{min(samples[name]) * 1000:.1f}",
             f"{max(samples[name]) * 1000:.1f}", "—" if name == "python -c pass" else f"{only[name] * 1000:.1f}"]
            for name in names]
    print(f"Cold imports, {args.runs} interleaved runs each; nproc={machine['nproc']}, "
          f"python {machine['python']}, load average at start {machine['loadavg_at_start']}\n")
    print(table(["command", "median ms", "min ms", "max ms", "import-only ms (median − bare)"], rows))
    print()
    print(table(["ratio", "raw medians", "import-only", f"goal ≥ {GOAL:g}×"],
                [[f"{other}/llamabook", f"{r['raw']:.2f}×", f"{r['import_only']:.2f}×",
                  "met" if r["raw"] >= GOAL else "not met"] for other, r in ratios.items()]))

    path = write_json("import", {
        "benchmark": "cold import, fresh subprocess per sample",
        "machine": machine,
        "python_executable": sys.executable,
        "runs": args.runs,
        "samples_s": samples,
        "median_s": med,
        "import_only_median_s": {n: v for n, v in only.items() if n != "python -c pass"},
        "ratios_vs_llamabook": ratios,
        "goal_ratio": GOAL,
    })
    print(f"\nwrote {path}")


if __name__ == "__main__":
    main()
