"""``%%llama --over DF``: the cell's prompt for every row of a DataFrame, through ``client.grid``."""

from __future__ import annotations

from argparse import Namespace
from collections.abc import Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from IPython.core.error import UsageError
from IPython.display import display

from .bundles import note_bundle

if TYPE_CHECKING:
    from ..client import Client
    from .prompt_choice import CellPrompt
    from .values import Values


def over_rows(name: str, namespaces: Iterable[Mapping[str, Any]]) -> Any:
    """The notebook variable ``--over NAME`` names."""
    space = next((ns for ns in namespaces if name in ns), None)
    if space is None:
        raise UsageError(f"--over {name}: no variable named {name} in the notebook")
    return space[name]


def row_columns(rows: Any) -> list[str]:
    """The variables every row gives: a DataFrame's columns, or the keys of a list of dicts."""
    if hasattr(rows, "columns"):
        return [str(c) for c in rows.columns]
    if isinstance(rows, list) and all(isinstance(r, Mapping) for r in rows):
        return sorted({str(k) for r in rows for k in r})
    raise UsageError("--over needs a DataFrame or a list of dicts (one dict of variables per row)")


def run_over(
    client: Client,
    args: Namespace,
    chosen: CellPrompt,
    values: Values,
    rows: Any,
    schema: Any = None,
    *,
    versions: Sequence[int] | None = None,
    checks: Mapping[str, Any] | None = None,
) -> Any:
    """The grid's DataFrame: ``chosen`` for every row, with ``values`` the same in each.

    With ``--schema`` the body is saved with it, and the grid adds a column per field (``client.grid(schema=)``).
    ``versions`` (``--versions``) are the versions of ``-p``'s prompt that run; with ``--save`` the
    body's own version (saved first) runs with them (:func:`grid_versions`). ``checks``
    (``--check``) go to ``client.grid(checks=)``.
    """
    # The model and the values common to every row are checked before the body is stored.
    client.responses.check_variables(values.values, model=args.model)
    prompt = chosen.prompt or client.prompts.save(chosen.name, chosen.template or "", schema=schema)
    if versions is not None:
        versions = grid_versions(versions, None if chosen.prompt is not None else prompt.version)
    if values.sources:
        display(note_bundle(values.summary()), raw=True)
        rows = _with_constants(rows, values.values)
    options = {
        "input": chosen.input,
        "instructions": args.instructions,
        "max_output_tokens": args.max_tokens,
        "temperature": args.temperature,
    }
    return client.grid(
        prompt,
        rows=rows,
        models=[args.model] if args.model else None,
        concurrency=args.concurrency,
        progress=not args.no_progress,
        **({"repeats": args.repeats} if args.repeats is not None else {}),
        **({"versions": versions} if versions is not None else {}),
        **({"checks": dict(checks)} if checks else {}),
        **({"schema": schema} if schema is not None else {}),
        **{k: v for k, v in options.items() if v is not None},
    )


def grid_versions(listed: Sequence[int], body_version: int | None) -> list[int]:
    """The versions a ``--versions`` grid runs: ``listed``; with ``--save``, the body's version with them, in order."""
    if body_version is None:
        return list(listed)
    return sorted({*listed, body_version})


def _with_constants(rows: Any, constants: Mapping[str, Any]) -> Any:
    """Every row plus the values that are the same for all rows (from --var or the notebook)."""
    if hasattr(rows, "assign"):
        return rows.assign(**{name: [value] * len(rows) for name, value in constants.items()})
    return [{**row, **constants} for row in rows]
