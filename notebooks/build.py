"""Build the tutorial notebooks from ``notebooks/src/*.py`` and execute them, so they are saved with outputs.

    python notebooks/build.py                  # every notebook
    python notebooks/build.py 02 04            # those whose name starts with 02 or 04
    python notebooks/build.py --no-execute     # write them without outputs

Each source is in the "percent" format: ``# %%`` starts a code cell and ``# %% [markdown]``
a Markdown cell whose lines are written as ``# text``; ``# %% tags=["nbval-ignore-output"]``
gives a cell tags (a cell magic must be a cell's first line, so it cannot follow a
``# NBVAL_IGNORE_OUTPUT`` comment). Magic lines (``%%llama``) stay as
they are, so a source is not meant to be run as a script. Cells get stable ids and no
timing metadata, so a rebuild changes a notebook only where an output changed.

Execution uses nbclient with this interpreter's kernel, in ``notebooks/`` (so ``data/``
and ``local_stack.py`` are found), with ``LLAMABOOK_BASE_URL`` removed from the kernel's
environment: every run starts from the same state and gives the same outputs.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import sys
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import nbformat
from nbclient import NotebookClient

HERE = Path(__file__).resolve().parent
SOURCES = HERE / "src"
CELL_TIMEOUT_S = 600
TAGS = re.compile(r"tags=(\[.*\])")
KERNEL_SPEC = {"name": "python3", "display_name": "Python 3 (ipykernel)", "language": "python"}


@dataclass
class Cell:
    kind: str  # "code" or "markdown"
    source: str
    tags: list[str]


def parse(text: str) -> list[Cell]:
    """The cells of a percent-format source; ``# %% tags=["nbval-ignore-output"]`` sets cell tags."""
    cells: list[tuple[str, list[str], list[str]]] = []
    for line in text.splitlines():
        if line.startswith("# %%"):
            tags = TAGS.search(line)
            kind = "markdown" if "[markdown]" in line else "code"
            cells.append((kind, json.loads(tags.group(1)) if tags else [], []))
        elif cells:
            cells[-1][2].append(line)
    parsed = []
    for kind, tags, lines in cells:
        if kind == "markdown":
            lines = [line[2:] if line.startswith("# ") else line.lstrip("#") for line in lines]
        source = "\n".join(lines).strip("\n")
        if source:
            parsed.append(Cell(kind, source, tags))
    return parsed


def notebook(source: Path) -> nbformat.NotebookNode:
    """The notebook (without outputs) of one source file."""
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = dict(KERNEL_SPEC)
    nb.metadata["language_info"] = {"name": "python"}
    for index, parsed in enumerate(parse(source.read_text())):
        new = nbformat.v4.new_markdown_cell if parsed.kind == "markdown" else nbformat.v4.new_code_cell
        cell = new(parsed.source)
        cell["id"] = f"{source.stem[:2]}-{index:02d}"
        if parsed.tags:
            cell.metadata["tags"] = parsed.tags
        nb.cells.append(cell)
    return nb


@contextmanager
def kernel_environment(keep_base_url: bool) -> Iterator[None]:
    """The kernel inherits this environment; without ``LLAMABOOK_BASE_URL`` unless ``keep_base_url``."""
    saved = None if keep_base_url else os.environ.pop("LLAMABOOK_BASE_URL", None)
    try:
        yield
    finally:
        if saved is not None:
            os.environ["LLAMABOOK_BASE_URL"] = saved


def execute(nb: nbformat.NotebookNode, cwd: Path = HERE, keep_base_url: bool = False) -> nbformat.NotebookNode:
    """Run every cell in a fresh kernel (this interpreter's ``python3``); a cell error raises
    ``nbclient.exceptions.CellExecutionError``, leaving the outputs so far in ``nb``."""
    with kernel_environment(keep_base_url):
        client = NotebookClient(
            nb,
            timeout=CELL_TIMEOUT_S,
            kernel_name="python3",
            resources={"metadata": {"path": str(cwd)}},
            record_timing=False,
        )
        client.execute()
    nb.metadata["kernelspec"] = dict(KERNEL_SPEC)
    nb.metadata["language_info"] = {"name": "python"}
    return nb


def selected(names: Sequence[str]) -> list[Path]:
    """The sources whose name starts with one of ``names`` (all of them when none is given)."""
    sources = sorted(SOURCES.glob("[0-9][0-9]-*.py"))
    if not names:
        return sources
    chosen = [s for s in sources if any(s.stem.startswith(n) for n in names)]
    if not chosen:
        raise SystemExit(f"no notebook source matches {list(names)}; have {[s.stem for s in sources]}")
    return chosen


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("names", nargs="*", help="notebook name prefixes (default: all)")
    parser.add_argument("--no-execute", action="store_true", help="write the notebooks without running them")
    args = parser.parse_args(argv)
    for source in selected(args.names):
        target = HERE / f"{source.stem}.ipynb"
        nb = notebook(source)
        started = time.monotonic()
        if not args.no_execute:
            execute(nb)
        nbformat.validate(nb)
        nbformat.write(nb, target)
        took = "" if args.no_execute else f" (executed in {time.monotonic() - started:.1f} s)"
        print(f"wrote {target.relative_to(HERE.parent)}{took}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
