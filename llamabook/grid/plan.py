"""A grid's plan: its tasks (row × version × model × repeat), each with its run-log key and, when logged, its result.

Everything a user can get wrong is checked here, before anything is stored or sent: the rows, the
models, the prompt versions and their variables, the checks and the schema's columns.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from ..errors import InvalidRequest
from ..evaluation.checks import CHECKED_STATUSES, CheckSet
from ..schema_columns import FieldColumn, field_columns
from ..schemas import ResolvedSchema, resolve
from ..templates import placeholders
from ..tools import check_tools
from ..types import Prompt
from ..types.grid_rows import ROW, result_columns
from ..types.refs import looks_like_ref, missing_versions, written_as, written_name
from . import rows as grid_rows
from .keys import cache_keys, repeat_seed
from .spec import RESPONSE_OPTIONS, GridClient, GridSpec
from .task import Task

if TYPE_CHECKING:
    from ..store import RunLog


@dataclass
class Plan:
    """The tasks of one grid and how they are called, checked and laid out."""

    tasks: list[Task]
    #: the response options, with the resolved schema under ``"schema"`` when there is one
    options: dict[str, Any]
    checks: CheckSet | None
    #: the schema's field columns (None without a schema)
    fields: list[FieldColumn] | None
    #: calls per cell (``repeats=``)
    repeats: int = 1
    #: the calls offer tools (``tools=``): the frame has ``tool_calls`` and ``tool_name``
    tools: bool = False

    def fresh(self) -> list[Task]:
        """The tasks with no result yet (not in the run log): the calls to make."""
        return [task for task in self.tasks if not task.result]

    def unchecked(self) -> list[Task]:
        """The answered tasks the checks haven't seen (logged rows, a batch's answers)."""
        if self.checks is None:
            return []
        return [t for t in self.tasks if t.checks is None and t.result.get("status") in CHECKED_STATUSES]


def make_plan(client: GridClient, prompt_or_template: Any, rows: Any, spec: GridSpec, *, models_here: bool = True) -> Plan:
    """The grid's tasks with their keys, checked before any call; ``models_here``: its models are this backend's."""
    options = dict(spec.options)
    unknown = set(options) - set(RESPONSE_OPTIONS)
    if unknown:
        raise InvalidRequest(f"grid() does not take {sorted(unknown)}; response options are {list(RESPONSE_OPTIONS)}")
    if spec.concurrency < 1:
        raise InvalidRequest(f"concurrency must be at least 1, not {spec.concurrency}")
    repeats = check_repeats(spec.repeats)
    if "tools" in options or "tool_choice" in options:  # checked, and keyed by their wire form (a function has no stable text)
        toolset = check_tools(options.get("tools"), options.get("tool_choice"))
        options.update({"tools": toolset.wire, **({"tool_choice": toolset.choice} if toolset.choice is not None else {})})
    records = grid_rows.records(rows)
    model_ids = _models(client, spec.models, models_here)
    if options.get("tools") and models_here:  # a model that can't take tools: said before any call
        for model in model_ids:
            client.backend.check_tools(options["tools"], options.get("tool_choice"), model)
    checks = CheckSet(spec.checks, client=client, columns=set().union(*records) if records else None) if spec.checks is not None else None
    resolved = resolve(spec.schema) if spec.schema is not None else None
    fields = _schema_fields(resolved, spec.schema, spec.schema_prefix, records, checks)
    prompts = _prompt_versions(client, prompt_or_template, spec.versions, records)
    named = {prompt.version: _written(prompt_or_template, prompt, spec.versions) for prompt in prompts}
    # A row's shown values are computed once and shared (read only) by its versions × models × repeats.
    tasks = [
        Task(index, grid_rows.declared(record, prompt), shown, prompt, model, repeat, named=named[prompt.version])
        for index, (record, shown) in enumerate(zip(records, map(grid_rows.shown, records)))
        for prompt in prompts
        for model in model_ids
        for repeat in range(repeats)
    ]
    for task, key in zip(tasks, cache_keys(tasks, options, resolved)):
        task.key = key
    if repeats > 1:
        _seed_repeats(tasks, seeded=client.backend.capabilities.seeds)
    return Plan(tasks, {**options, "schema": resolved} if resolved else options, checks, fields, repeats, "tools" in options)


def _seed_repeats(tasks: list[Task], seeded: bool) -> None:
    """Give each repeat past the first its seed, from its cell's first key (tasks are in repeat order per cell).

    Only where the backend samples with a seed (the embedded one); a server is sent the same request
    each time, as the Responses API has no seed.
    """
    first = ""
    for task in tasks:
        if task.repeat == 0:
            first = task.key
        elif seeded:
            task.seed = repeat_seed(first, task.repeat)


def check_repeats(repeats: Any) -> int:
    """``repeats`` as an int of at least 1, or :class:`~llamabook.InvalidRequest` saying what it takes."""
    if isinstance(repeats, bool) or not isinstance(repeats, int) or repeats < 1:
        raise InvalidRequest(
            f"repeats takes a whole number of calls per cell, 1 or more (e.g. repeats=5), not {repeats!r}"
        )
    return repeats


def look_up(tasks: Sequence[Task], log: RunLog) -> None:
    """Give each task its logged result (``cached=True``), read in chunked ``IN (…)`` queries, not one per row."""
    logged = log.get_many(task.key for task in tasks)
    for task in tasks:
        found = logged.get(task.key)
        if not found:
            task.result = {}
        elif "cached" in found:  # a second cell with the same key (or an odd entry): a copy of its own
            task.result = {**found, "cached": True}
        else:  # a fresh dict from get_many: used as it is, so 100,000 results aren't held twice
            found["cached"] = True
            task.result = found


def _models(client: GridClient, models: Sequence[str] | None, models_here: bool) -> list[str]:
    model_ids = list(models) if models else [client.models.default()]
    if not models_here:  # e.g. requests written for another engine: its model names aren't this backend's
        return model_ids
    available = {m.id for m in client.models.list()}
    missing = [m for m in model_ids if m not in available]
    if missing:
        raise InvalidRequest(f"models {missing} are not available here; choose from {sorted(available)}")
    return model_ids


def _prompt_versions(
    client: GridClient, prompt_or_template: Any, versions: Sequence[int] | None, records: list[dict[str, Any]]
) -> list[Prompt]:
    """The prompt versions the grid runs, each checked against the rows' columns."""
    if isinstance(prompt_or_template, str) and not looks_like_ref(prompt_or_template):
        grid_rows.check_columns(placeholders(prompt_or_template), records, None)  # before the template is stored
        if versions and list(versions) != [1]:
            raise InvalidRequest(
                f"versions={list(versions)}: a template string runs as a prompt of its own, which has only "
                "version 1. To compare versions, pass the Prompt (or its name or 'pmpt_…' id) with versions=[…]."
            )
    prompts = _read_versions(client, prompt_or_template, versions)
    for prompt in prompts:
        grid_rows.check_columns(prompt.variables, records, prompt.prompt_id, _written(prompt_or_template, prompt, versions))
    return prompts


def _written(given: Any, prompt: Prompt, versions: Sequence[int] | None) -> str | None:
    """A version the grid runs as its user named it: ``haiku`` or ``haiku@2`` as given, each of ``versions=`` by
    its number (``haiku@1``, ``haiku@2``); None for a template string (no prompt to the user)."""
    if isinstance(given, str) and not looks_like_ref(given):
        return None
    if versions:
        return written_as(written_name(given), prompt.version)
    return written_as(given)


def _read_versions(client: GridClient, prompt_or_template: Any, versions: Sequence[int] | None) -> list[Prompt]:
    if isinstance(prompt_or_template, str) and not looks_like_ref(prompt_or_template):
        prompt = client.prompts.save(None, prompt_or_template)
        prompt_id, pinned = prompt.prompt_id, prompt.version
    elif isinstance(prompt_or_template, (str, Prompt)):
        prompt_id, pinned = client.prompts.locate(prompt_or_template)
    else:
        raise InvalidRequest(
            "grid() takes a Prompt, a prompt reference ('tutor', 'tutor@2', 'pmpt_…', 'pmpt_…@2') or a template string"
        )
    versions = versions or ([pinned] if pinned is not None else None)
    if not versions:
        return [client.prompts.retrieve(prompt_id)]
    stored = {p.version: p for p in client.prompts.versions(prompt_id)}
    unknown = [v for v in versions if v not in stored]
    if unknown:  # all versions checked before any call, with one listing
        raise missing_versions(prompt_or_template, unknown, stored)
    return [stored[v] for v in versions]


def _schema_fields(
    resolved: ResolvedSchema | None, given: Any, prefix: str | None, records: list[dict[str, Any]], checking: CheckSet | None
) -> list[FieldColumn] | None:
    """The schema's field columns, checked against the grid's and the rows' columns (before any call)."""
    if resolved is None:
        if prefix is not None:
            raise InvalidRequest("schema_prefix= names the columns of a schema's fields: give schema= too, or leave it out")
        return None
    if prefix is not None and (not isinstance(prefix, str) or not prefix):
        raise InvalidRequest(f"schema_prefix must be a non-empty string such as 'x_', not {prefix!r}")
    fields = field_columns(resolved, prefix or "", given)
    grid = [column.name for column in (ROW, *result_columns("always", "schema"))]  # row, valid and the result columns
    taken = {*grid, *(checking.column_names() if checking is not None else ()), *set().union(*records)}
    clashes = [f.column for f in fields if f.column in taken]
    if clashes:
        advice = (
            f"choose another schema_prefix than {prefix!r}"
            if prefix
            else f"pass schema_prefix='x_' (columns {', '.join('x_' + f.field for f in fields)}) or rename them in the schema"
        )
        raise InvalidRequest(
            f"The schema's field column(s) {', '.join(map(repr, clashes))} would collide with the grid's or the rows' "
            f"columns of the same name: {advice}"
        )
    return fields
