"""Run the tutorial notebooks without a browser and save the results.

    python notebooks/run_headless.py                      # all of them, into build/notebooks/
    python notebooks/run_headless.py 01 03 --out DIR      # some of them, elsewhere

Each notebook in ``notebooks/`` runs top to bottom in a fresh kernel (nbclient), on the embedded
model; notebook 05 uses ``$LLAMABOOK_BASE_URL`` if it is set, else it starts a local OGX
server and stops it at the end. Each result is written as ``NAME.ipynb`` (with its outputs) and,
when nbconvert is installed, ``NAME.html``. The committed notebooks are not changed. The exit
status is 1 if any notebook failed (its partial result is still written).
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Sequence
from pathlib import Path

import nbformat

from build import HERE, execute

DEFAULT_OUT = HERE.parent / "build" / "notebooks"


def last_line(text: str) -> str:
    """The last non-empty line of an error message (nbclient ends it with ``ename: evalue``)."""
    lines = [line for line in text.splitlines() if line.strip()]
    return lines[-1] if lines else ""


def to_html(nb: nbformat.NotebookNode, target: Path) -> Path | None:
    """Write ``nb`` as a standalone HTML page, or return None without nbconvert."""
    try:
        from nbconvert import HTMLExporter
    except ImportError:
        return None
    body, _ = HTMLExporter().from_notebook_node(nb)
    target.write_text(body, encoding="utf-8")
    return target


def run(path: Path, out: Path) -> tuple[bool, float, list[Path]]:
    """Execute one notebook into ``out``; (succeeded, seconds, files written)."""
    nb = nbformat.read(path, as_version=4)
    started = time.monotonic()
    ok = True
    try:
        execute(nb, cwd=HERE, keep_base_url=True)
    except Exception as exc:  # a failing cell: keep going, report it, save what ran
        ok = False
        print(f"  {path.name}: {type(exc).__name__}: {last_line(str(exc))}")
    took = time.monotonic() - started
    written = [out / path.name]
    nbformat.write(nb, written[0])
    html = to_html(nb, out / f"{path.stem}.html")
    if html is not None:
        written.append(html)
    return ok, took, written


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("names", nargs="*", help="notebook name prefixes (default: all)")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help=f"results folder (default: {DEFAULT_OUT})")
    args = parser.parse_args(argv)
    notebooks = sorted(HERE.glob("[0-9][0-9]-*.ipynb"))
    if args.names:
        notebooks = [n for n in notebooks if any(n.name.startswith(p) for p in args.names)]
    if not notebooks:
        print("no notebook matches", args.names, file=sys.stderr)
        return 2
    args.out.mkdir(parents=True, exist_ok=True)
    failed = []
    for path in notebooks:
        print(f"running {path.name} ...", flush=True)
        ok, took, written = run(path, args.out)
        print(f"  {'ok' if ok else 'FAILED'} in {took:.1f} s -> {', '.join(str(w) for w in written)}", flush=True)
        if not ok:
            failed.append(path.name)
    print(f"\n{len(notebooks) - len(failed)} of {len(notebooks)} notebooks ran; results in {args.out.resolve()}")
    if failed:
        print("failed:", ", ".join(failed))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
