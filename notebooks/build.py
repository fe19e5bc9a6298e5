"""Build the tutorial notebooks from ``notebooks/src/*.py`` and execute them, so they are saved with outputs.

    python notebooks/build.py                  # every notebook
    python notebooks/build.py 02 04            # those whose name starts with 02 or 04
    python notebooks/build.py --no-execute     # write them without outputs

Each source is in the "percent" format: ``# %%`` starts a code cell and ``# %% [markdown]``
a Markdown cell whose lines are written as ``# text``; ``# %% tags=["nbval-ignore-output"]``
gives a cell tags (a cell magic must be a cell's first line, so it cannot follow a
``# NBVAL_IGNORE_OUTPUT`` comment). Magic lines (``%%llama``) stay as
they are, so a source is not meant to be run as a script. Cells get stable ids and no
timing metadata, so a rebuild changes a notebook only where an output changed. The same goes
for widgets (notebook 06): the saved widget state keeps the models the outputs show (and the
models they refer to), under ids numbered in the order they are shown instead of the kernel's
random ones.

Execution uses nbclient with this interpreter's kernel, in ``notebooks/`` (so ``data/``
and ``local_stack.py`` are found), with ``LLAMABOOK_BASE_URL`` removed from the kernel's
environment: every run starts from the same state and gives the same outputs.
"""

from __future__ import annotations

import argparse
import hashlib
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
WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"
WIDGET_STATE = "application/vnd.jupyter.widget-state+json"
MODEL_REF = "IPY_MODEL_"


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


def stable_widget_state(nb: nbformat.NotebookNode, name: str) -> None:
    """Keep only the widget models the outputs show (and those they refer to), with stable ids.

    The kernel gives every widget a random model id, so each run would rewrite all of them.
    Here the models are renumbered in the order the outputs show them (depth first through
    ``IPY_MODEL_…`` references), and models no output reaches (widgets replaced while the
    notebook ran) are left out: a saved notebook still renders every widget it shows.
    """
    saved = nb.metadata.get("widgets", {}).get(WIDGET_STATE)
    if not saved:
        return
    state = saved["state"]
    order: list[str] = []

    def visit(model_id: str) -> None:
        if model_id in state and model_id not in order:
            order.append(model_id)
            walk(state[model_id]["state"])

    def walk(value: object) -> None:
        if isinstance(value, str) and value.startswith(MODEL_REF):
            visit(value[len(MODEL_REF) :])
        elif isinstance(value, list):
            for item in value:
                walk(item)
        elif isinstance(value, dict):
            for key in sorted(value):
                walk(value[key])

    views = [
        output["data"][WIDGET_VIEW]
        for cell in nb.cells
        for output in cell.get("outputs", [])
        if WIDGET_VIEW in output.get("data", {})
    ]
    for view in views:
        visit(view.get("model_id") or "")
    new = {old: hashlib.sha256(f"{name}/{index}".encode()).hexdigest()[:32] for index, old in enumerate(order)}

    def renamed(value: object) -> object:
        if isinstance(value, str) and value.startswith(MODEL_REF):
            old = value[len(MODEL_REF) :]
            return MODEL_REF + new.get(old, old)
        if isinstance(value, list):
            return [renamed(item) for item in value]
        if isinstance(value, dict):
            return {key: renamed(item) for key, item in value.items()}
        return value

    for view in views:
        if view.get("model_id") in new:
            view["model_id"] = new[view["model_id"]]
    saved["state"] = nbformat.from_dict({new[old]: renamed(state[old]) for old in order})


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
            stable_widget_state(nb, source.stem)
        nbformat.validate(nb)
        nbformat.write(nb, target)
        took = "" if args.no_execute else f" (executed in {time.monotonic() - started:.1f} s)"
        print(f"wrote {target.relative_to(HERE.parent)}{took}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
