"""Run-log keys: one cell's request as canonical JSON, hashed.

Existing run logs and committed cassettes depend on these bytes: ``json.dumps`` with
``sort_keys=True``, ``default=str`` and its other defaults (``ensure_ascii``, ``", "`` and ``": "``).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from ..errors import LlamabookError
from ..inputs import classify
from ..schemas import ResolvedSchema

if TYPE_CHECKING:
    from .task import Task


def cache_key(task: Task, options: Mapping[str, Any], schema: ResolvedSchema | None = None) -> str:
    """The run-log key of one cell: the SHA-256 of its request (:func:`keyed_request`) as sorted JSON."""
    request = keyed_request(task, options, schema)
    return hashlib.sha256(json.dumps(request, sort_keys=True, default=str).encode()).hexdigest()


def cache_keys(tasks: Sequence[Task], options: Mapping[str, Any], schema: ResolvedSchema | None = None) -> list[str]:
    """Every task's run-log key, in order (see :func:`cache_key`)."""
    return [cache_key(task, options, schema) for task in tasks]


def keyed_request(task: Task, options: Mapping[str, Any], schema: ResolvedSchema | None) -> dict[str, Any]:
    """What makes one cell's call: model, options, schema (only with one), template, variables and, past
    the first, which repeat it is (so repeat 0 has the key the same cell has in a grid without repeats)."""
    request: dict[str, Any] = {
        "model": task.model,
        "options": dict(options),
        "template": task.prompt.prompt,
        "variables": {name: fingerprint(name, value) for name, value in task.values.items()},
    }
    if schema is not None:
        request["schema"] = {"name": schema.name, "json_schema": schema.json_schema}
    if task.repeat:
        request["repeat"] = task.repeat
    return request


def repeat_seed(first_key: str, repeat: int) -> int:
    """The embedded model's seed for ``repeat`` (≥ 1) of the cell whose repeat 0 has the run-log key ``first_key``.

    A pure function of the two, so the same grid samples the same on every machine and every run;
    repeat 0 keeps the engine's own seed, as a grid without repeats has it.
    """
    digest = hashlib.sha256(f"{first_key}:{repeat}".encode()).digest()
    return int.from_bytes(digest[:4], "big") & 0x7FFFFFFF


def _plain_text(value: Any) -> str | None:
    """The text a str, int, float or bool becomes (as ``inputs.classify`` types it); None for anything else."""
    kind = type(value)
    if kind is str:
        return value
    if kind is int or kind is float or kind is bool:
        return str(value)
    return None


def fingerprint(name: str, value: Any) -> Any:
    """A variable as its key sees it: the typed variable ``classify`` makes of it, or its bytes' SHA-256.

    A value that can't be typed keeps its ``repr``: its call fails again, and failures are not logged.
    """
    text = _plain_text(value)
    if text is not None:  # what classify() + model_dump(mode="json") give, without them
        return {"type": "input_text", "text": text}
    try:
        item = classify(name, value)
    except LlamabookError:
        return repr(value)
    if item.variable is not None:
        return item.variable.model_dump(mode="json")
    return {"sha256": hashlib.sha256(item.data or b"").hexdigest(), "kind": item.kind}
