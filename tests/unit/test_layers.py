"""The package's five tiers import one way, and no module imports itself back through others.

Every import counts: at module level, inside functions, under ``TYPE_CHECKING``, and module
names given as strings (the lazy tables of ``llamabook/__init__`` and ``llamabook/widgets``).
The map is also drawn in docs/architecture.md; change both together.
"""

from __future__ import annotations

import ast
from pathlib import Path

import llamabook

PACKAGE = Path(llamabook.__file__).parent

#: Five tiers under the facade, top first. A module imports from its own tier and the tiers below
#: it, never from above. Within a tier modules import each other freely, as long as no import
#: cycle forms (``test_no_import_cycles``). A module's tier is its longest matching prefix.
TIERS: dict[str, list[str]] = {
    "facade": ["llamabook", "llamabook._moved"],  # lazy public names, %load_ext; old module paths
    "notebook face": ["llamabook.magics", "llamabook.widgets", "llamabook.views", "llamabook.throttle"],
    "workflows": ["llamabook.grid", "llamabook.evaluation", "llamabook.frames", "llamabook.schema_columns"],
    "client": ["llamabook.client", "llamabook.aio", "llamabook.resources"],
    "storage and transport": [
        "llamabook.store", "llamabook.backends", "llamabook.engines",
        "llamabook.cassette", "llamabook.error_translation", "llamabook.config",
    ],  # fmt: skip
    "core": [
        "llamabook.types", "llamabook.schemas", "llamabook.errors", "llamabook.templates", "llamabook.rendering",
        "llamabook.inputs", "llamabook.media", "llamabook.media_fallback", "llamabook.diffs",
        "llamabook.partial_json", "llamabook.prices", "llamabook._lazy", "llamabook._version", "llamabook.tools",
    ],  # fmt: skip
}
ORDER = list(TIERS)

#: The imports that go up, each with its reason; both are lazy (inside the one function that needs them).
UPWARD = {
    # a wire type's notebook repr (NotebookRepr._repr_html_) imports the views when first displayed
    ("llamabook.types.base", "llamabook.views.reprs"): "the wire types' reprs",
    # Client.grid is where a grid's options are listed for users; the grid itself runs on the client
    ("llamabook.client", "llamabook.grid"): "the grid's entry point",
    # Prompts.promote moves a label only through the gate, which measures a grid (scores, significance)
    ("llamabook.resources.prompts", "llamabook.evaluation.gate"): "the gate's entry point",
}


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
    """Every module's imports, but the documented upward ones (``UPWARD``)."""
    known = modules()
    edges = {name: imports_of(name, path, is_package, known) for name, (path, is_package) in known.items()}
    for source, target in UPWARD:
        assert target in edges[source], f"UPWARD names {source} -> {target}, which is no import any more"
        edges[source].discard(target)
    return edges


def tier(name: str) -> str:
    """The tier of a module: the one with its longest matching prefix (``llamabook`` itself only as a whole)."""
    best: tuple[str, str] | None = None
    for tier_name, prefixes in TIERS.items():
        for prefix in prefixes:
            matches = name == prefix or (prefix != "llamabook" and name.startswith(prefix + "."))
            if matches and (best is None or len(prefix) > len(best[1])):
                best = (tier_name, prefix)
    assert best is not None, f"{name} is in no tier: add it to TIERS (and docs/architecture.md)"
    return best[0]


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


def test_every_module_has_a_tier() -> None:
    for name in modules():
        tier(name)


def test_no_import_goes_up() -> None:
    wrong = []
    for name, targets in sorted(graph().items()):
        for target in sorted(targets):
            if ORDER.index(tier(target)) < ORDER.index(tier(name)):
                wrong.append(f"{name} ({tier(name)}) -> {target} ({tier(target)})")
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


def test_the_architecture_page_draws_every_tier() -> None:
    page = (PACKAGE.parent / "docs" / "architecture.md").read_text()
    for tier_name, prefixes in TIERS.items():
        assert tier_name in page, f"docs/architecture.md does not name the tier {tier_name!r}"
        for prefix in prefixes[1:] if tier_name == "facade" else prefixes:
            assert prefix.removeprefix("llamabook.") in page, f"docs/architecture.md does not show {prefix}"


def test_the_tier_rule_would_catch_an_upward_import() -> None:
    """The rule above could pass by placing everything alike: check it on known pairs."""
    assert tier("llamabook.types.base") == "core" and tier("llamabook.views.reprs") == "notebook face"
    assert tier("llamabook") == "facade" and tier("llamabook.grid.executors.batch") == "workflows"
    assert ORDER.index(tier("llamabook.store.database")) > ORDER.index(tier("llamabook.client"))


def test_no_caller_probes_a_backend_for_undeclared_attributes() -> None:
    """What callers use of a backend is in the Backend protocol; no ``getattr(…backend…, "x")``."""
    probes = []
    for name, (path, _) in modules().items():
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Call) and getattr(node.func, "id", "") in ("getattr", "hasattr") and node.args:
                if "backend" in ast.unparse(node.args[0]):
                    probes.append(f"{name}: {ast.unparse(node)}")
    assert probes == []
