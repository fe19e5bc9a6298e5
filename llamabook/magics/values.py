"""Values for a cell's ``{{placeholders}}``: from ``--var``, else from the notebook's variables.

Values are passed on as they are; the client types them (a DataFrame becomes its CSV). What is
checked here is what only the notebook knows: which names exist, and what ``--schema NAME`` holds.
"""

from __future__ import annotations

import sys
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from IPython.core.error import UsageError


@dataclass
class Values:
    """Variable values for one run, and where each came from (for the display)."""

    values: dict[str, Any] = field(default_factory=dict)
    sources: dict[str, str] = field(default_factory=dict)

    def summary(self) -> str:
        """``values: name = source, ...``: the note shown above the answer."""
        return "values: " + ", ".join(f"{name} = {source}" for name, source in self.sources.items())


def parse_vars(items: Iterable[str] | None) -> dict[str, str]:
    """``["name=value", ...]`` from ``--var`` into a dict."""
    given: dict[str, str] = {}
    for item in items or ():
        name, sep, value = item.partition("=")
        name = name.strip()
        if not sep or not name.isidentifier():
            raise UsageError(f"--var {item!r}: write --var name=value (name: letters, digits, '_')")
        given[name] = value
    return given


def values_for(
    names: list[str],
    given: Mapping[str, str],
    namespaces: Iterable[Mapping[str, Any]],
    columns: Iterable[str] = (),
    over: str | None = None,
) -> Values:
    """The values of a prompt's variables ``names``; names in ``columns`` (of ``--over``'s rows, ``over``) need none.

    Raises :class:`UsageError` for a ``--var`` the prompt has no placeholder for.
    """
    unknown = [name for name in given if name not in names]
    if unknown:
        raise UsageError(f"--var {', '.join(unknown)}: the prompt has no such placeholder (it uses {names})")
    columns = list(columns)
    taken = set(columns)
    return collect_values([name for name in names if name not in taken], given, *namespaces, over=over, columns=columns)


def collect_values(
    names: Iterable[str],
    given: Mapping[str, str],
    *namespaces: Mapping[str, Any],
    over: str | None = None,
    columns: Sequence[str] = (),
) -> Values:
    """Values for ``names``: ``--var`` first, then the first namespace that has the name.

    Values are passed as they are: the client types them (a DataFrame becomes its CSV).
    Raises :class:`UsageError` naming every name without a value; with ``over`` (the ``--over``
    variable, whose rows have ``columns``), saying that its rows have no such column either.
    """
    from ..inputs import describe  # typed as the client types them; pydantic loads with the first cell, not %load_ext

    found = Values()
    missing = []
    for name in names:
        if name in given:
            found.values[name], found.sources[name] = given[name], f"{describe(given[name])} (--var)"
            continue
        space = next((ns for ns in namespaces if name in ns), None)
        if space is None:
            missing.append(name)
            continue
        found.values[name], found.sources[name] = space[name], describe(space[name])
    if missing:
        raise UsageError(no_value(missing, over, columns))
    return found


#: How many of the ``--over`` rows' columns a message lists.
LISTED_COLUMNS = 20


def no_value(missing: Sequence[str], over: str | None = None, columns: Sequence[str] = ()) -> str:
    """The message for placeholders ``missing`` without a value; with ``--over``, its rows' columns first.

    A name can come from a column of ``--over``'s rows (one value per row) or, the same in every
    row, from the notebook or ``--var``: with ``--over`` the message offers both.
    """
    listed = ", ".join(missing)
    how = " ".join(f"--var {name}=..." for name in missing)
    constant = f"define {listed} in the notebook, or pass {how}"
    if over is None:
        return f"No value for {listed}: {constant}"
    which = f"column {missing[0]!r}" if len(missing) == 1 else f"columns {', '.join(map(repr, missing))}"
    have = ", ".join(columns[:LISTED_COLUMNS]) or "none"
    more = f", and {len(columns) - LISTED_COLUMNS} more" if len(columns) > LISTED_COLUMNS else ""
    add = "that column" if len(missing) == 1 else "those columns"
    return (
        f"No value for {listed}: --over {over} has no {which} (columns: {have}{more}). "
        f"Add {add} to {over}, or give every row the same value: {constant}"
    )


def parse_versions(text: str) -> list[int]:
    """``--versions 1,2`` as ``[1, 2]``: positive whole numbers, each once."""
    words = [word.strip() for word in text.split(",")]
    if not all(word.isdigit() and int(word) >= 1 for word in words):
        raise UsageError(f"--versions {text!r}: give version numbers separated by commas, e.g. --versions 1,2")
    versions = [int(word) for word in words]
    if len(set(versions)) != len(versions):
        raise UsageError(f"--versions {text!r}: each version once")
    return versions


def check_variables(items: Iterable[str], namespaces: Iterable[Mapping[str, Any]]) -> dict[str, Any]:
    """``--check NAME=VAR ...`` as ``{NAME: check}``: each VAR a notebook variable holding a check.

    Nothing is evaluated: VAR is a name looked up in the notebook. A check is a
    :class:`~llamabook.evaluation.checks.Check` (``lb.checks.contains(...)``, ``lb.checks.judge(...)``, …)
    or a function ``(row, result) -> bool | float``. Anything else, a missing variable or a name
    given twice raises :class:`UsageError` before anything is stored or sent.
    """
    import inspect

    from ..evaluation.check_base import Check

    spaces = list(namespaces)
    checks: dict[str, Any] = {}
    for item in items:
        name, sep, var = (part.strip() for part in item.partition("="))
        if not sep or not name.isidentifier() or not var.isidentifier():
            raise UsageError(
                f"--check {item!r}: write --check NAME=VAR, VAR a notebook variable holding a check, "
                "e.g. has_city = lb.checks.contains('Dublin') and --check city=has_city"
            )
        if name in checks:
            raise UsageError(f"--check {name}: two checks named {name}; give each its own name")
        space = next((ns for ns in spaces if var in ns), None)
        if space is None:
            raise UsageError(
                f"--check {name}={var}: no variable named {var} in the notebook; define it first, "
                f"e.g. {var} = lb.checks.contains('Dublin')"
            )
        value = space[var]
        if not isinstance(value, Check) and not (inspect.isfunction(value) or inspect.ismethod(value)):
            what = f"the class {value.__name__}" if isinstance(value, type) else f"a {type(value).__name__}"
            raise UsageError(
                f"--check {name}={var}: {var} is {what}, not a check; use one of lb.checks (contains, regex, "
                "equals, max_words, is_json, json_schema, similar_to, judge) or a function (row, result) -> bool | float"
            )
        checks[name] = value
    return checks


def tool_functions(names: Iterable[str], namespaces: Iterable[Mapping[str, Any]]) -> list[Any]:
    """``--tool NAME ...`` as the notebook functions they name (nothing is evaluated: each NAME is looked up).

    A missing name, something that isn't a function, or a name given twice raises :class:`UsageError`
    before anything is sent; the tool's schema is made (and checked) by ``client.responses.run``.
    """
    spaces = list(namespaces)
    found: dict[str, Any] = {}
    for name in names:
        if not name.isidentifier():
            raise UsageError(f"--tool {name!r}: give the name of a notebook function, e.g. --tool get_weather")
        if name in found:
            raise UsageError(f"--tool {name}: named twice")
        space = next((ns for ns in spaces if name in ns), None)
        if space is None:
            raise UsageError(f"--tool {name}: no function named {name} in the notebook; define it first (def {name}(…): …)")
        if not callable(space[name]) or isinstance(space[name], type):
            raise UsageError(f"--tool {name}: {name} is a {type(space[name]).__name__}, not a function")
        found[name] = space[name]
    return list(found.values())


def schema_variable(name: str, namespaces: Iterable[Mapping[str, Any]]) -> Any:
    """The schema ``--schema NAME`` names: a pydantic model class or a JSON-schema dict, checked.

    Raises :class:`UsageError` naming ``NAME`` when no notebook variable has that name, when it
    holds something else, or when it is not a valid schema, before anything is stored or sent.
    """
    from ..errors import InvalidRequest
    from ..schemas import resolve

    if not name.isidentifier():
        raise UsageError(f"--schema {name!r}: give the name of a notebook variable holding a model class or a dict")
    space = next((ns for ns in namespaces if name in ns), None)
    if space is None:
        raise UsageError(
            f"--schema {name}: no variable named {name} in the notebook; define it first, "
            "e.g. class Invoice(BaseModel): ... or a dict {'type': 'object', 'properties': {...}}"
        )
    value = space[name]
    if not isinstance(value, Mapping) and not (isinstance(value, type) and _is_pydantic_class(value)):
        what = f"the class {value.__name__}" if isinstance(value, type) else f"a {type(value).__name__}"
        raise UsageError(f"--schema {name}: {name} is {what}, not a pydantic model class or a JSON-schema dict")
    try:
        resolve(value)
    except InvalidRequest as exc:
        raise UsageError(f"--schema {name}: {exc}") from None
    return value


def _is_pydantic_class(cls: type) -> bool:
    pydantic = sys.modules.get("pydantic")  # a pydantic class means pydantic is already imported
    return pydantic is not None and issubclass(cls, pydantic.BaseModel)
