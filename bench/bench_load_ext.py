"""``%load_ext llamabook`` on a cold kernel-like process, beside ``%load_ext jupyter_ai_magics``.

Every sample is one fresh ``python -c`` that imports IPython's ``InteractiveShell`` and
creates the shell (not timed, as a kernel has done before the first cell runs), then times
``shell.run_line_magic("load_ext", EXT)`` alone. Each side runs once first so its bytecode
is written, then N timed runs are interleaved (one of each side per round, in a fresh seeded
shuffle every round). The goal (< 150 ms) is judged on the median in the project's venv.

jupyter-ai-magics is not a llamabook dependency: it is installed into a throwaway venv
(``--ai-venv``, kept between runs; ``--no-ai`` skips it). If that install fails, the output
says so. In that venv llamabook is measured too (from this checkout, on ``PYTHONPATH``), so
both extensions are also compared on the same interpreter and IPython version.

    .venv/bin/python bench/bench_load_ext.py [--runs 7] [--ai-venv DIR] [--no-ai]
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import venv
from dataclasses import dataclass, field
from pathlib import Path

from _common import machine_info, table, write_json

ROOT = Path(__file__).resolve().parent.parent
GOAL_MS = 150.0
HEAVY = ("pandas", "numpy", "openai", "llama_cpp", "pydantic", "PIL", "langchain", "httpx")
DEFAULT_AI_VENV = Path(tempfile.gettempdir()) / "llamabook-bench-jupyter-ai"

# Runs in the fresh process; prints one JSON line.
PROBE = """
import json, os, sys, time
from IPython.core.interactiveshell import InteractiveShell
shell = InteractiveShell.instance()
before = set(sys.modules)
start = time.perf_counter()
shell.run_line_magic("load_ext", {ext!r})
elapsed = time.perf_counter() - start
new = set(sys.modules) - before
magics = shell.magics_manager.magics
print(json.dumps({{
    "s": elapsed,
    "modules": len(new),
    "heavy": sorted({{m.split(".")[0] for m in new}} & set({heavy!r})),
    "cell_magics": sorted(set(magics["cell"]) & {{"llama", "ai"}}),
    "home_created": os.path.exists(os.environ["LLAMABOOK_HOME"]),
}}))
"""


@dataclass
class Side:
    """One extension loaded by one interpreter."""

    name: str
    python: str
    extension: str
    env: dict[str, str]
    samples: list[float] = field(default_factory=list)
    probe: dict = field(default_factory=dict)

    def run_once(self) -> dict:
        code = PROBE.format(ext=self.extension, heavy=HEAVY)
        result = subprocess.run([self.python, "-c", code], env=self.env, capture_output=True, text=True, check=False)
        if result.returncode != 0:
            raise SystemExit(f"{self.name}: the probe failed:\n{result.stderr[-2000:]}")
        return json.loads(result.stdout.strip().splitlines()[-1])


def ai_python(venv_dir: Path, timeout: float) -> tuple[str | None, str]:
    """The throwaway venv's python with jupyter-ai-magics installed, or None and why not."""
    python = venv_dir / "bin" / "python"
    check = [str(python), "-c", "import importlib.util as u, sys; sys.exit(u.find_spec('jupyter_ai_magics') is None)"]
    if python.exists() and subprocess.run(check, capture_output=True).returncode == 0:
        return str(python), f"reused {venv_dir}"
    print(f"installing jupyter-ai-magics into a throwaway venv at {venv_dir} (once; up to {timeout:.0f} s) ...", flush=True)
    try:
        venv.create(venv_dir, with_pip=True, clear=True)
        subprocess.run([str(python), "-m", "pip", "install", "-q", "--disable-pip-version-check", "jupyter-ai-magics"],
                       check=True, timeout=timeout, capture_output=True, text=True)
    except subprocess.TimeoutExpired:
        return None, f"pip install jupyter-ai-magics took over {timeout:.0f} s"
    except subprocess.CalledProcessError as exc:
        lines = (exc.stderr or "").strip().splitlines()
        return None, "pip install jupyter-ai-magics failed: " + (lines[-1] if lines else f"exit {exc.returncode}")
    except OSError as exc:
        return None, f"could not create the venv: {exc}"
    if subprocess.run(check, capture_output=True).returncode != 0:
        return None, "jupyter_ai_magics is not importable after the install"
    return str(python), f"installed into {venv_dir}"


def package_version(python: str, name: str) -> str:
    code = f"import importlib.metadata as m; print(m.version({name!r}))"
    result = subprocess.run([python, "-c", code], capture_output=True, text=True)
    return result.stdout.strip() or "?"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=7, help="timed runs per side (default 7)")
    parser.add_argument("--ai-venv", type=Path, default=DEFAULT_AI_VENV, help=f"throwaway venv (default {DEFAULT_AI_VENV})")
    parser.add_argument("--no-ai", action="store_true", help="do not compare with jupyter-ai-magics")
    parser.add_argument("--install-timeout", type=float, default=900, help="seconds for the jupyter-ai-magics install")
    args = parser.parse_args()
    machine = machine_info()

    scratch = tempfile.mkdtemp(prefix="llamabook-bench-")
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONDONTWRITEBYTECODE", "PYTHONSTARTUP", "LLAMABOOK_BASE_URL")}
    env.update(LLAMABOOK_HOME=os.path.join(scratch, "home"), IPYTHONDIR=os.path.join(scratch, "ipython"))
    sides = [Side("llamabook", sys.executable, "llamabook", env)]
    if args.no_ai:
        ai_note = "skipped (--no-ai)"
    else:
        python, ai_note = ai_python(args.ai_venv, args.install_timeout)
        if python:
            from_checkout = {**env, "PYTHONPATH": str(ROOT)}
            sides += [Side("llamabook (jupyter-ai venv)", python, "llamabook", from_checkout),
                      Side("jupyter_ai_magics", python, "jupyter_ai_magics", env)]
            ai_note += f", jupyter-ai-magics {package_version(python, 'jupyter-ai-magics')}"
    print(f"jupyter-ai-magics: {ai_note}")

    try:
        for side in sides:  # writes bytecode; not timed
            side.probe = side.run_once()
        order = random.Random(0)
        for _ in range(args.runs):
            for side in order.sample(sides, len(sides)):
                side.samples.append(side.run_once()["s"])
    finally:
        shutil.rmtree(scratch, ignore_errors=True)

    med = {side.name: statistics.median(side.samples) * 1000 for side in sides}
    versions = {side.name: {"ipython": package_version(side.python, "ipython")} for side in sides}
    print(f"\n%load_ext on a fresh InteractiveShell, {args.runs} interleaved runs each; nproc={machine['nproc']}, "
          f"python {machine['python']}, load average at start {machine['loadavg_at_start']}\n")
    rows = [[f"`%load_ext {side.extension}`" + ("" if side.python == sys.executable else " (jupyter-ai venv)"),
             versions[side.name]["ipython"], f"{med[side.name]:.1f}", f"{min(side.samples) * 1000:.1f}",
             f"{max(side.samples) * 1000:.1f}", side.probe["modules"], ", ".join(side.probe["heavy"]) or "none"]
            for side in sides]
    print(table(["command", "IPython", "median ms", "min ms", "max ms", "modules imported", "heavy modules imported"], rows))
    met = med["llamabook"] < GOAL_MS
    print(f"\n- Goal: llamabook median < {GOAL_MS:g} ms: {'met' if met else 'not met'} ({med['llamabook']:.1f} ms).")
    print(f"- llamabook created no client and no home directory: {not sides[0].probe['home_created']}.")
    ratio = None
    if "jupyter_ai_magics" in med:
        ratio = med["jupyter_ai_magics"] / med["llamabook (jupyter-ai venv)"]
        print(f"- jupyter_ai_magics / llamabook on the same interpreter and IPython: {ratio:.1f}x.")
    else:
        print(f"- jupyter_ai_magics not compared: {ai_note}.")

    path = write_json("load_ext", {
        "benchmark": "%load_ext on a fresh InteractiveShell, fresh subprocess per sample, only the magic timed",
        "machine": machine,
        "runs": args.runs,
        "jupyter_ai_magics": ai_note,
        "sides": {side.name: {"python": side.python, "extension": side.extension, "ipython": versions[side.name]["ipython"],
                              "modules_imported": side.probe["modules"], "heavy_imported": side.probe["heavy"],
                              "samples_s": side.samples} for side in sides},
        "median_ms": med,
        "ratio_jupyter_ai_vs_llamabook_same_venv": ratio,
        "goal_ms": GOAL_MS,
        "goal_met": met,
    })
    print(f"\nwrote {path}")


if __name__ == "__main__":
    main()
