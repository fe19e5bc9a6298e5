"""Checks run on rows: named checks validated at once (:class:`CheckSet`), their outcomes written
as a frame's columns with one warning for those that raised, and :func:`apply` on a finished grid."""

from __future__ import annotations

import dataclasses
import inspect
import os
import sys
import warnings
from collections.abc import Callable, Iterable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING, Any

from ..errors import CheckErrorWarning, InvalidRequest
from ..frames import none_if_missing
from .check_base import CHECKED_STATUSES, GRID_COLUMNS, Check, CheckInput, JudgeClient, Outcome
from .json_checks import is_json, json_schema
from .judge import Judge, judge
from .text_checks import contains, equals, max_words, regex, similar_to
from .tool_checks import called, no_tool_call

if TYPE_CHECKING:
    import pandas


#: The built-ins by name (a check given as a string is told which one to call).
BUILT_INS: dict[str, Callable[..., Check]] = {
    "contains": contains, "regex": regex, "equals": equals, "max_words": max_words, "is_json": is_json,
    "json_schema": json_schema, "similar_to": similar_to, "judge": judge, "called": called, "no_tool_call": no_tool_call,
}  # fmt: skip

_SUFFIXES = ("_error", "_judge_id")


class CheckSet:
    """Named checks, validated at once: run them on a result, and lay out their columns.

    Every problem is an :class:`~llamabook.InvalidRequest` raised here, before anything runs: a
    name that is not an identifier (it becomes a column), a value that is not a check, a column
    the rows do not have, a judge without ``client``, a judge model the client cannot run.
    ``columns`` are the rows' own columns, when known.
    """

    def __init__(
        self, checks: Mapping[str, Any], *, client: JudgeClient | None = None, columns: Iterable[str] | None = None
    ) -> None:
        if not isinstance(checks, Mapping):
            raise InvalidRequest('checks= is a dict of name → check, e.g. {"polite": checks.judge("Is it polite?")}')
        self.checks: dict[str, Check] = {}
        for name, check in checks.items():
            if not isinstance(name, str) or not name.isidentifier():
                raise InvalidRequest(
                    f"The check name {name!r} becomes the column 'check_{name}': use a Python identifier, e.g. 'has_city'"
                )
            self.checks[name] = _as_check(name, check)
        for name in self.checks:
            for suffix in _SUFFIXES:
                if name.endswith(suffix) and name.removesuffix(suffix) in self.checks:
                    raise InvalidRequest(
                        f"The check names {name.removesuffix(suffix)!r} and {name!r} would share the column "
                        f"'check_{name}': rename one"
                    )
        if columns is not None:
            self._check_columns(set(columns))
        judges = [name for name, c in self.checks.items() if c.needs_client]
        if judges and client is None:
            raise InvalidRequest(f"The check(s) {judges} ask a model: pass client= (checks.apply(grid, checks, client=client))")
        if judges and client is not None:
            self._choose_models(client)

    def _check_columns(self, known: set[str]) -> None:
        for name, check in self.checks.items():
            missing = [c for c in check.reads() if c not in known]
            if missing:
                raise InvalidRequest(
                    f"The check {name!r} reads column(s) {missing} that the rows do not have; they have {sorted(known)}"
                )
        taken = sorted(set(self.column_names()) & known)
        if taken:
            raise InvalidRequest(f"The rows already have column(s) {taken}, which the checks would write: rename them or the checks")

    def _choose_models(self, client: JudgeClient) -> None:
        available = {m.id for m in client.models.list()}
        for name, check in list(self.checks.items()):
            if not isinstance(check, Judge):
                continue
            if check.model is None:  # pinned now: the cache key and every row use the same model
                check = self.checks[name] = dataclasses.replace(check, model=client.models.default())
            if check.model not in available:
                raise InvalidRequest(
                    f"The judge {name!r} uses model {check.model!r}, which is not available here; "
                    f"choose from {sorted(available)}"
                )

    @property
    def needs_client(self) -> bool:
        return any(c.needs_client for c in self.checks.values())

    def column_names(self) -> list[str]:
        """The columns these checks write, in order."""
        names = []
        for name, check in self.checks.items():
            names += [f"check_{name}", f"check_{name}_error"] + ([f"check_{name}_judge_id"] if check.needs_client else [])
        return names

    def run(
        self, row: Mapping[str, Any], result: CheckInput, client: JudgeClient | None, kept: Mapping[str, Any] | None = None
    ) -> dict[str, Outcome]:
        """Every check on one result. ``kept`` are outcomes from the run log by cache key (see :meth:`to_keep`)."""
        outcomes = {}
        for name, check in self.checks.items():
            key = check.cache_key(row, result) if kept else None
            stored = kept.get(key) if kept and key else None
            if isinstance(stored, dict) and set(stored) == {"value", "judge_id"}:
                outcomes[name] = Outcome(stored["value"], None, stored["judge_id"], key)
            else:
                outcomes[name] = check.evaluate(row, result, client)
        return outcomes

    @staticmethod
    def to_keep(outcomes: Mapping[str, Outcome]) -> dict[str, dict[str, Any]]:
        """The outcomes worth keeping in the run log, by cache key: judges' verdicts (not their failures)."""
        return {o.key: {"value": o.value, "judge_id": o.judge_id} for o in outcomes.values() if o.key and o.error is None}

    def add_columns(self, frame: pandas.DataFrame, outcomes: Sequence[Mapping[str, Outcome] | None]) -> pandas.DataFrame:
        """``frame`` with these checks' columns set (replaced when there), one outcome map per row (None: not checked).

        A check that raised is ``<NA>`` with its message in ``check_<name>_error`` (an error is not a
        verdict); when any did, one :class:`~llamabook.CheckErrorWarning` says so (see :func:`error_report`).
        """
        import pandas as pd

        frame = frame.drop(columns=[c for c in self.column_names() if c in frame.columns])
        for name, check in self.checks.items():
            cells = [row.get(name) if row is not None else None for row in outcomes]
            values = [o.value if o is not None and o.error is None else None for o in cells]
            # A declared "float" stays Float64 when every row failed; any number makes it Float64 anyway.
            kind = "float" if check.kind == "float" or any(isinstance(v, float) for v in values) else "boolean"
            if kind == "float":
                values = [None if v is None else float(v) for v in values]
            columns = {
                f"check_{name}": pd.array(values, dtype="boolean" if kind == "boolean" else "Float64"),
                f"check_{name}_error": pd.array([o.error if o is not None else None for o in cells], dtype="string"),
            }
            if check.needs_client:
                judge_ids = [o.judge_id if o is not None else None for o in cells]
                columns[f"check_{name}_judge_id"] = pd.array(judge_ids, dtype="string")
            for column_name, array in columns.items():
                frame[column_name] = array
        report = error_report(self.checks, outcomes)
        if report:
            warnings.warn(report, CheckErrorWarning, stacklevel=_caller_level())
        return frame


#: How much of a check's first error message a :class:`~llamabook.CheckErrorWarning` quotes.
ERROR_QUOTE_CHARS = 200


def error_report(names: Iterable[str], outcomes: Sequence[Mapping[str, Outcome] | None]) -> str | None:
    """The text of the warning for checks that raised, one line per check; None when none did.

    ``2 of 8 checks 'on_topic' raised (no verdict: <NA>, not False); first: ImportError: …; see check_on_topic_error``
    """
    checked = [row for row in outcomes if row is not None]
    lines = []
    for name in names:
        errors = [row[name].error for row in checked if name in row and row[name].error is not None]
        if errors:
            first = str(errors[0])
            if len(first) > ERROR_QUOTE_CHARS:
                first = first[: ERROR_QUOTE_CHARS - 1] + "…"
            lines.append(
                f"{len(errors)} of {len(checked)} checks {name!r} raised (no verdict: <NA>, not False); "
                f"first: {first}; see check_{name}_error"
            )
    return "\n".join(lines) or None


#: llamabook's own folder (this module is in llamabook/evaluation/)
_PACKAGE = os.path.dirname(os.path.dirname(os.path.abspath(__file__))) + os.sep


def _caller_level() -> int:
    """``warnings.warn``'s stacklevel naming the first caller outside llamabook (the user's grid or apply line)."""
    frame, level = sys._getframe(1), 1
    while frame.f_back is not None and os.path.abspath(frame.f_code.co_filename).startswith(_PACKAGE):
        frame, level = frame.f_back, level + 1
    return level


def _as_check(name: str, check: Any) -> Check:
    if isinstance(check, Check):
        return check
    if isinstance(check, str):
        if check in BUILT_INS:
            hint = f"call it: checks.{check}()" if check == "is_json" else f"call it with its argument: checks.{check}(…)"
            raise InvalidRequest(f"The check {name!r} is the string {check!r}, not a check; {hint}")
        raise InvalidRequest(
            f"The check {name!r} is the string {check!r}, which names no check; pass a check object. "
            f"Built-ins: {', '.join(f'checks.{b}' for b in BUILT_INS)}; or a function (row, result) -> bool | float"
        )
    if not callable(check):
        raise InvalidRequest(
            f"The check {name!r} is a {type(check).__name__}, not callable; pass a check such as "
            "checks.contains('…') or a function (row, result) -> bool | float"
        )
    try:
        inspect.signature(check).bind(None, None)
    except TypeError:
        raise InvalidRequest(f"The check {name!r} must take two arguments, (row, result); {check!r:.80} does not") from None
    except ValueError:
        pass  # no signature to read (some built-in functions): it is tried on each row
    return _Function(check)


class _Function(Check):
    """A plain callable ``(row, result) -> bool | float`` as a check."""

    def __init__(self, function: Callable[[Mapping[str, Any], CheckInput], Any]) -> None:
        self.function = function

    def __call__(self, row: Mapping[str, Any], result: CheckInput) -> bool | float:
        return self.function(row, result)

    def reads(self) -> list[str]:
        return []

    def __repr__(self) -> str:
        return f"<check {getattr(self.function, '__qualname__', self.function)!r}>"


def apply(
    grid: pandas.DataFrame, checks: Mapping[str, Any], client: JudgeClient | None = None, *, concurrency: int = 4
) -> pandas.DataFrame:
    """A copy of a finished ``client.grid(…)`` frame with these checks' columns set (replaced when there).

    Checks run on the rows whose call succeeded (``status`` completed or incomplete); other rows
    get null checks. Checks that need no model call none. A :func:`judge` needs ``client=`` (the
    client to ask; its verdicts are asked again, ``concurrency`` at a time); without it, or with a
    model the client cannot run, :class:`~llamabook.InvalidRequest` is raised before anything runs.
    A check that raises is ``<NA>`` with its message in ``check_<name>_error``; if any did, one
    :class:`~llamabook.CheckErrorWarning` says how often and quotes the first message.
    """
    if not hasattr(grid, "columns") or not {"output_text", "status"} <= set(grid.columns):
        raise InvalidRequest("apply() takes the DataFrame returned by client.grid(…) (it needs output_text and status columns)")
    if concurrency < 1:
        raise InvalidRequest(f"concurrency must be at least 1, not {concurrency}")
    own = [c for c in grid.columns if c not in GRID_COLUMNS and not str(c).startswith("check_")]
    prepared = CheckSet(checks, client=client, columns=own)
    records = grid.to_dict(orient="records")

    def check(record: dict[str, Any]) -> dict[str, Outcome] | None:
        if none_if_missing(record.get("status")) not in CHECKED_STATUSES:
            return None
        row = {c: none_if_missing(record[c]) for c in own}
        return prepared.run(row, CheckInput.from_values(record), client)

    if prepared.needs_client and len(records) > 1:
        with ThreadPoolExecutor(max_workers=concurrency, thread_name_prefix="llamabook-checks") as pool:
            outcomes = list(pool.map(check, records))
    else:
        outcomes = [check(record) for record in records]
    return prepared.add_columns(grid, outcomes)
