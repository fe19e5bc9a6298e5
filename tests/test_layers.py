"""The package's layers import one way, and no module imports itself back through others.

Every import counts: at module level, inside functions, under ``TYPE_CHECKING``, and module
names given as strings (the lazy tables of ``llamabook/__init__`` and ``llamabook/widgets``).
The map is also drawn in docs/architecture.md; change both together.
"""

from __future__ import annotations

import ast
from pathlib import Path

import llamabook

PACKAGE = Path(llamabook.__file__).parent

#: Top first. A module may import modules of lower layers, and of its own group in its layer
#: (``llamabook.types.events`` → ``llamabook.types.base``), never a sibling group or a higher layer.
LAYERS: list[list[str]] = [
    ["llamabook"],  # the facade: lazy names and %load_ext
    ["llamabook._moved"],  # old module paths of moved names (a table of strings: it reads as imports)
    ["llamabook.magics", "llamabook.widgets"],
    ["llamabook.views"],
    ["llamabook.aio"],
    ["llamabook.client"],
    ["llamabook.grid"],  # plan → executors → cells → frame
    ["llamabook.evaluation"],  # checks, scores, compare: read results, never run a grid
    ["llamabook.frames", "llamabook.schema_columns"],
    ["llamabook.resources"],
    ["llamabook.backends"],
    ["llamabook.store"],
    ["llamabook.engines"],
    ["llamabook.rendering", "llamabook.inputs", "llamabook.media_fallback", "llamabook.diffs"],
    ["llamabook.templates", "llamabook.media"],
    ["llamabook.cassette", "llamabook.error_translation", "llamabook.config", "llamabook.throttle"],
    ["llamabook.types"],
    ["llamabook.schemas"],  # below types: Response.output_parsed re-parses with it
    ["llamabook.errors", "llamabook._version", "llamabook._lazy", "llamabook._presenters", "llamabook.partial_json"],
]


def modules() -> dict[str, tuple[Path, bool]]:
    """Every module of the package: name → (file, is a package ``__init__``)."""
    found = {}
    for path in PACKAGE.rglob("*.py"):
        parts = list(path.with_suffix("").relative_to(PACKAGE.parent).parts)
        is_package = parts[-1] == "__init__"
        found[".".join(parts[:-1] if is_package else parts)] = (path, is_package)
    return found


def imports_of(name: str, path: Path, is_package: bool, known: dict[str, tuple[Path, bool]]) -> set[str]:
    """The package's modules that ``name`` imports, in any way."""
    here = name.split(".") if is_package else name.split(".")[:-1]
    targets: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            targets.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = here[: len(here) - node.level + 1] if node.level else []
            prefix = ".".join(base + ([node.module] if node.module else []))
            for alias in node.names:
                full = f"{prefix}.{alias.name}" if prefix else alias.name
                targets.add(full if full in known else prefix)
        elif isinstance(node, ast.Call) and getattr(node.func, "id", getattr(node.func, "attr", "")) == "import_module":
            targets.update(_strings(node.args, known))
        elif isinstance(node, ast.Dict):  # a lazy table: {"Client": "llamabook.client", ...}
            targets.update(_strings(node.values, known))
    resolved = set()
    for target in targets:
        while target and target not in known:  # ``from .x import name``: the module is x
            target = target.rpartition(".")[0]
        if target.startswith("llamabook") and target != name:
            resolved.add(target)
    return resolved


def _strings(nodes: list[ast.expr | None], known: dict[str, tuple[Path, bool]]) -> set[str]:
    return {n.value for n in nodes if isinstance(n, ast.Constant) and isinstance(n.value, str) and n.value in known}


def graph() -> dict[str, set[str]]:
    known = modules()
    return {name: imports_of(name, path, is_package, known) for name, (path, is_package) in known.items()}


def place(name: str) -> tuple[int, str]:
    """(layer index, group) of a module: its longest matching group prefix."""
    best: tuple[int, str] | None = None
    for index, groups in enumerate(LAYERS):
        for group in groups:
            if (name == group or name.startswith(group + ".")) and (best is None or len(group) > len(best[1])):
                best = (index, group)
    assert best is not None, f"{name} is in no layer: add it to LAYERS (and docs/architecture.md)"
    return best


def cycles(edges: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected groups of more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for other in edges.get(node, ()):
            if other not in index:
                visit(other)
                low[node] = min(low[node], low[other])
            elif other in on_stack:
                low[node] = min(low[node], index[other])
        if low[node] == index[node]:
            group = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                group.append(member)
                if member == node:
                    break
            if len(group) > 1:
                found.append(sorted(group))

    for node in sorted(edges):
        if node not in index:
            visit(node)
    return found


def test_every_module_has_a_layer() -> None:
    for name in modules():
        place(name)


def test_no_import_goes_up_or_sideways() -> None:
    wrong = []
    for name, targets in sorted(graph().items()):
        layer, group = place(name)
        for target in sorted(targets):
            target_layer, target_group = place(target)
            if target_layer < layer or (target_layer == layer and target_group != group):
                wrong.append(f"{name} -> {target}")
    assert wrong == []


def test_no_import_cycles() -> None:
    assert cycles(graph()) == []


def test_the_checker_sees_every_kind_of_import(tmp_path: Path) -> None:
    """The rules above could pass by seeing nothing: check the reader on each kind of import."""
    source = (
        "from typing import TYPE_CHECKING\n"
        "from . import errors\n"
        "from .types import Prompt\n"
        "if TYPE_CHECKING:\n    from .client import Client\n"
        "def later():\n    import llamabook.views\n    return {'x': 'llamabook.frames'}\n"
    )
    path = tmp_path / "probe.py"
    path.write_text(source)
    known = modules()
    seen = imports_of("llamabook.probe", path, False, known)
    assert seen == {"llamabook.errors", "llamabook.types", "llamabook.client", "llamabook.views", "llamabook.frames"}
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]


def test_the_architecture_page_draws_every_layer() -> None:
    page = (PACKAGE.parent / "docs" / "architecture.md").read_text()
    for groups in LAYERS[1:]:
        for group in groups:
            assert group.removeprefix("llamabook.") in page, f"docs/architecture.md does not show {group}"


def test_no_caller_probes_a_backend_for_undeclared_attributes() -> None:
    """What callers use of a backend is in the Backend protocol; no ``getattr(…backend…, "x")``."""
    probes = []
    for name, (path, _) in modules().items():
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Call) and getattr(node.func, "id", "") in ("getattr", "hasattr") and node.args:
                if "backend" in ast.unparse(node.args[0]):
                    probes.append(f"{name}: {ast.unparse(node)}")
    assert probes == []
