"""Checks over grid results: ``client.grid(..., checks={"name": check})`` and :func:`apply`.

A check looks at one successful result of a grid and says whether it passes (True/False) or
how well (a number, e.g. a similarity from 0 to 1). It is called as ``check(row, result)``:

* ``row`` is a dict of the grid row's own columns (those of ``rows``, as the grid shows them:
  scalars as they are, other values as text; a missing value is None);
* ``result`` is a :class:`CheckInput`: the call's result columns that a check sees, as
  :class:`~llamabook.types.grid_rows.GridResult` marks them (``prompt_id``, ``version``, ``model``,
  ``output_text``, ``status``, ``cut_off``, ``input_tokens``, ``output_tokens``, ``latency_s``,
  ``response_id``, ``cached``, ``attempts``).

Built-ins take literals, or :func:`column` to read the value from the row instead, e.g.
``contains(column("expected"))``. A plain function ``(row, result) -> bool | float`` is a check
too. :func:`judge` asks a model a yes/no question about the answer, through the same client.

Each check ``name`` adds the columns ``check_<name>`` (dtype ``boolean``, or ``Float64`` for a
check that returns numbers) and ``check_<name>_error`` (``string``: why the check could not
decide, null when it could); a judge adds ``check_<name>_judge_id`` (``string``: the id of the
judge's own response). Rows whose call failed or was cancelled get null checks.

**An error is not a verdict.** A check that raises (or returns something that is not a verdict,
or a judge whose call fails or whose answer is not a yes/no verdict) does not stop the grid and
does not count as a fail: its ``check_<name>`` is missing (``<NA>``), never False, and its message
is in ``check_<name>_error``. :func:`llamabook.evaluation.scores.scores` leaves such rows out of the rates
and counts them, and a grid or :func:`apply` whose checks raised warns once
(:class:`~llamabook.CheckErrorWarning`) with how many rows each check raised on and its first message.
"""

from __future__ import annotations

import dataclasses
import difflib
import hashlib
import inspect
import json
import numbers
import os
import re
import sys
import warnings
import weakref
from collections.abc import Callable, Iterable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

from .. import schemas
from ..errors import CheckErrorWarning, InvalidRequest, OutputFormatUnsupported, OutputInvalid
from ..frames import none_if_missing
from ..templates import placeholders, render
from ..types.grid_rows import ROW, ResultColumn, read_by, result_dtypes

if TYPE_CHECKING:
    import pandas

#: The structured-output format a judge's verdict is constrained to.
VERDICT_FORMAT: dict[str, Any] = {
    "format": {
        "type": "json_schema",
        "name": "verdict",
        "strict": True,
        "schema": {
            "type": "object",
            "properties": {"verdict": {"type": "string", "enum": ["yes", "no"]}},
            "required": ["verdict"],
            "additionalProperties": False,
        },
    }
}

#: Statuses of a call that checks run on; other rows (failed, cancelled) get null checks.
CHECKED_STATUSES = ("completed", "incomplete")


class _CreatesResponses(Protocol):
    def create(self, *args: Any, **kwargs: Any) -> Any: ...


class _ListsModels(Protocol):
    def list(self) -> Any: ...

    def default(self) -> str: ...


class JudgeClient(Protocol):
    """What a judge needs of a client (a :class:`~llamabook.Client` is one)."""

    @property
    def responses(self) -> _CreatesResponses: ...

    @property
    def models(self) -> _ListsModels: ...


def _optional(kind: Callable[[Any], Any]) -> Callable[[Any], Any]:
    return lambda value: None if value is None else kind(value)


def _cell_reader(column: ResultColumn) -> Callable[[Any], Any]:
    """How :meth:`CheckInput.from_values` turns a cell (missing: None already) into the field's Python value."""
    if column.name == "output_text":
        return lambda value: value or ""  # a check always gets text
    if column.type == "bool":
        return bool  # a missing cut_off or cached is False
    return {"int | None": _optional(int), "float | None": _optional(float)}.get(column.type, lambda value: value)


#: The result columns a check sees, and how each is read from a grid row.
_SEEN: tuple[tuple[str, Callable[[Any], Any]], ...] = tuple((c.name, _cell_reader(c)) for c in read_by("checks"))


def _from_values(cls: type, values: Mapping[str, Any]) -> Any:
    """From a grid row (a dict, or a DataFrame row's values): missing cells become None, numbers plain Python."""
    return cls(**{name: read(none_if_missing(values.get(name))) for name, read in _SEEN})


#: What a check sees of one grid result: the result columns of its grid row that are marked ``checks`` in
#: :class:`~llamabook.types.grid_rows.GridResult`, with their Python types. A frozen dataclass, made with
#: keyword arguments (or :meth:`CheckInput.from_values`).
CheckInput = dataclasses.make_dataclass(
    "CheckInput",
    [(column.name, column.type) for column in read_by("checks")],
    frozen=True,
    kw_only=True,
    namespace={
        "__module__": __name__,
        "__doc__": "What a check sees of one grid result: the result columns of its grid row ("
        + ", ".join(f"``{name}``" for name, _ in _SEEN)
        + ").",
        "from_values": classmethod(_from_values),
    },
)


#: The columns of a grid frame that are not the row's own (the result columns, and ``row``).
GRID_COLUMNS = frozenset({ROW.name, *result_dtypes()})


@dataclass(frozen=True)
class Column:
    """A value read from the row's column ``name``, in place of a literal (see :func:`column`)."""

    name: str


def column(name: str) -> Column:
    """Read a built-in check's value from the row's column ``name``: ``contains(column("expected"))``."""
    if not isinstance(name, str) or not name:
        raise InvalidRequest(f"column() takes a column name, not {name!r}")
    return Column(name)


@dataclass(frozen=True)
class Outcome:
    """One check on one row: its value, or why it has none; a judge's response id; a judge's cache key."""

    value: bool | float | None
    error: str | None = None
    judge_id: str | None = None
    key: str | None = None


class Check:
    """Base of the checks: ``check(row, result)`` returns True/False or a number.

    ``kind`` is ``"float"`` for a score (its column is Float64 even when no row could be scored),
    else None: a check returning numbers gets a Float64 column, True/False a boolean one.
    ``needs_client`` is True for a check that calls a model (a :func:`judge`).
    """

    needs_client: bool = False
    kind: str | None = None

    def __call__(self, row: Mapping[str, Any], result: CheckInput) -> bool | float:
        raise NotImplementedError

    def reads(self) -> list[str]:
        """The row's columns this check reads (checked against the rows before anything runs)."""
        return [v.name for v in vars(self).values() if isinstance(v, Column)]

    def cache_key(self, row: Mapping[str, Any], result: CheckInput) -> str | None:
        """A key under which this check's outcome may be kept in the run log (None: never kept, run again)."""
        return None

    def evaluate(self, row: Mapping[str, Any], result: CheckInput, client: JudgeClient | None) -> Outcome:
        """Run the check; whatever it raises or returns that is not a verdict becomes the outcome's error."""
        try:
            return Outcome(_verdict(self(row, result)))
        except Exception as exc:  # a check's bug or an odd row: no verdict here (an error, not a fail), the grid goes on
            return Outcome(None, _describe(exc))


def _verdict(value: Any) -> bool | float:
    if isinstance(value, bool) or getattr(getattr(value, "dtype", None), "kind", "") == "b":  # numpy.bool_ too
        return bool(value)
    if isinstance(value, numbers.Real):
        return float(value)
    raise TypeError(f"a check returns True/False or a number, not {type(value).__name__} {value!r:.60}")


def _describe(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {exc}"


def _value(value: Any, row: Mapping[str, Any]) -> Any:
    """A literal as it is; a :class:`Column` as the row's value (raises when the cell is empty)."""
    if not isinstance(value, Column):
        return value
    cell = none_if_missing(row.get(value.name))
    if cell is None:
        raise ValueError(f"this row has no value in column {value.name!r}")
    return cell


def _text(value: Any, row: Mapping[str, Any]) -> str:
    cell = _value(value, row)
    return cell if isinstance(cell, str) else str(cell)


def _fold(text: str, ignore_case: bool) -> str:
    return text.casefold() if ignore_case else text


def _literal(function: str, value: Any, types: tuple[type, ...], what: str) -> None:
    if not isinstance(value, (Column, *types)) or isinstance(value, bool) and bool not in types:
        raise InvalidRequest(f"{function}() takes {what} or checks.column('name'), not {type(value).__name__} {value!r:.60}")


@dataclass(frozen=True)
class Contains(Check):
    text: str | Column
    ignore_case: bool = False

    def __call__(self, row: Mapping[str, Any], result: CheckInput) -> bool:
        return _fold(_text(self.text, row), self.ignore_case) in _fold(result.output_text, self.ignore_case)


@dataclass(frozen=True)
class Regex(Check):
    pattern: str | Column
    ignore_case: bool = False

    def __call__(self, row: Mapping[str, Any], result: CheckInput) -> bool:
        flags = re.IGNORECASE if self.ignore_case else 0
        return re.search(_text(self.pattern, row), result.output_text, flags) is not None


@dataclass(frozen=True)
class Equals(Check):
    value: Any
    ignore_case: bool = False
    strip: bool = True

    def __call__(self, row: Mapping[str, Any], result: CheckInput) -> bool:
        expected, got = _text(self.value, row), result.output_text
        if self.strip:
            expected, got = expected.strip(), got.strip()
        return _fold(expected, self.ignore_case) == _fold(got, self.ignore_case)


@dataclass(frozen=True)
class MaxWords(Check):
    limit: int | Column

    def __call__(self, row: Mapping[str, Any], result: CheckInput) -> bool:
        limit = _value(self.limit, row)
        if isinstance(limit, bool) or not isinstance(limit, numbers.Integral):
            raise TypeError(f"max_words needs a whole number of words, the row has {limit!r}")
        return len(result.output_text.split()) <= int(limit)


@dataclass(frozen=True)
class IsJson(Check):
    def __call__(self, row: Mapping[str, Any], result: CheckInput) -> bool:
        try:
            json.loads(result.output_text)
        except ValueError:
            return False
        return True


@dataclass(frozen=True)
class JsonSchema(Check):
    schema: Mapping[str, Any]

    def __call__(self, row: Mapping[str, Any], result: CheckInput) -> bool:
        try:
            instance = json.loads(result.output_text)
        except ValueError:
            return False
        return not schemas.validate(instance, self.schema)


@dataclass(frozen=True)
class SimilarTo(Check):
    text: str | Column
    at_least: float | None = None

    @property
    def kind(self) -> str | None:  # type: ignore[override]
        return "float" if self.at_least is None else None

    def __call__(self, row: Mapping[str, Any], result: CheckInput) -> bool | float:
        ratio = difflib.SequenceMatcher(None, _text(self.text, row), result.output_text).ratio()
        return ratio if self.at_least is None else ratio >= self.at_least


@dataclass(frozen=True)
class Judge(Check):
    """A yes/no question about the answer, asked of a model through the grid's client."""

    question: str
    model: str | None = None
    needs_client = True

    def reads(self) -> list[str]:
        return placeholders(self.question)

    def __call__(self, row: Mapping[str, Any], result: CheckInput) -> bool:
        raise InvalidRequest("A judge asks a model: run it through client.grid(checks=…) or checks.apply(…, client=client)")

    def ask(self, row: Mapping[str, Any], result: CheckInput) -> str:
        """The judge's input for this row: the question (its ``{{column}}`` placeholders filled) and the answer."""
        question = render(self.question, lambda name: _text(Column(name), row))
        return (
            "You check an answer against a question about it.\n\n"
            f"Question: {question}\n\n"
            f"The answer:\n<<<\n{result.output_text}\n>>>\n\n"
            'Reply with {"verdict": "yes"} or {"verdict": "no"} and nothing else.'
        )

    def cache_key(self, row: Mapping[str, Any], result: CheckInput) -> str | None:
        try:
            asked = self.ask(row, result)
        except ValueError:
            return None  # an empty cell: it fails again, nothing to keep
        return hashlib.sha256(json.dumps([asked, self.model, VERDICT_FORMAT], sort_keys=True).encode()).hexdigest()

    def evaluate(self, row: Mapping[str, Any], result: CheckInput, client: JudgeClient | None) -> Outcome:
        if client is None:
            return Outcome(None, "InvalidRequest: a judge needs a client")
        try:
            asked = self.ask(row, result)
            response = _ask_judge(client, asked, self.model)
        except Exception as exc:  # the judge's call failed: no verdict (an error, not a fail), the grid goes on
            failed = getattr(exc, "response", None)
            return Outcome(None, _describe(exc), getattr(failed, "id", None))
        try:
            return Outcome(parse_verdict(response.output_text), None, response.id, self.cache_key(row, result))
        except ValueError as exc:
            return Outcome(None, _describe(exc), response.id)


#: Clients whose server refused the verdict's JSON schema (OutputFormatUnsupported): asked as plain text.
_UNCONSTRAINED: weakref.WeakSet[Any] = weakref.WeakSet()


def _ask_judge(client: JudgeClient, asked: str, model: str | None) -> Any:
    """The judge's response, its verdict held to the yes/no schema where the backend can do that.

    A server whose inference provider refuses a JSON schema is asked again without one, and from
    then on (per client) without one: its verdict is still parsed strictly, so an answer that is
    not one is an error (no verdict: ``<NA>``, not a no) with its message.
    """
    options = {"input": asked, "model": model, "temperature": 0, "max_output_tokens": 16}
    if client not in _UNCONSTRAINED:
        try:
            return client.responses.create(**options, text=VERDICT_FORMAT)
        except OutputInvalid as exc:  # parse_verdict judges the raw text (a bare yes / no passes)
            return exc.response
        except OutputFormatUnsupported:
            _UNCONSTRAINED.add(client)
    return client.responses.create(**options)


def parse_verdict(text: str) -> bool:
    """A judge's output as True (yes) or False (no): ``{"verdict": "yes"|"no"}``, or the bare word alone.

    Anything else raises ValueError: no guessing from a sentence that contains "yes".
    """
    word = text.strip()
    if word.lower() in ("yes", "no"):
        return word.lower() == "yes"
    try:
        data = json.loads(word)
    except ValueError:
        data = None
    if isinstance(data, dict) and set(data) == {"verdict"} and data["verdict"] in ("yes", "no"):
        return data["verdict"] == "yes"
    shown = text if len(text) <= 100 else text[:99] + "…"
    raise ValueError(f'the judge answered {shown!r}, not {{"verdict": "yes"}} or {{"verdict": "no"}} (or a bare yes / no)')


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


def contains(text: str | Column, *, ignore_case: bool = False) -> Check:
    """True when the output contains ``text`` (a literal, or ``column("name")``)."""
    _literal("contains", text, (str,), "a str")
    return Contains(text, ignore_case)


def regex(pattern: str | Column, *, ignore_case: bool = False) -> Check:
    """True when ``pattern`` (a Python regular expression) matches somewhere in the output (``re.search``)."""
    _literal("regex", pattern, (str,), "a regular expression (str)")
    if isinstance(pattern, str):
        try:
            re.compile(pattern)
        except re.error as exc:
            raise InvalidRequest(f"regex({pattern!r}) is not a valid regular expression: {exc}") from None
    return Regex(pattern, ignore_case)


def equals(value: str | int | float | Column, *, ignore_case: bool = False, strip: bool = True) -> Check:
    """True when the output is exactly ``value`` (compared as text; surrounding whitespace ignored with ``strip``)."""
    _literal("equals", value, (str, int, float), "a str or number")
    return Equals(value, ignore_case, strip)


def max_words(limit: int | Column) -> Check:
    """True when the output has at most ``limit`` words (split on whitespace)."""
    _literal("max_words", limit, (int,), "a whole number")
    if isinstance(limit, int) and limit < 0:
        raise InvalidRequest(f"max_words() takes a limit of 0 or more words, not {limit}")
    return MaxWords(limit)


def is_json() -> Check:
    """True when the whole output parses as JSON (surrounding whitespace allowed, no code fences)."""
    return IsJson()


def json_schema(schema: Mapping[str, Any]) -> Check:
    """True when the output is JSON that ``schema`` (a JSON Schema dict) accepts; the schema is checked now."""
    schemas.check_schema(schema)
    return JsonSchema(schema)


def similar_to(text: str | Column, *, at_least: float | None = None) -> Check:
    """How similar the output is to ``text``: difflib's ratio, 0.0 to 1.0 (no model involved).

    With ``at_least`` the check is True/False instead: whether the ratio reaches it.
    """
    _literal("similar_to", text, (str,), "a str")
    is_ratio = isinstance(at_least, numbers.Real) and not isinstance(at_least, bool) and 0 <= at_least <= 1
    if at_least is not None and not is_ratio:
        raise InvalidRequest(f"similar_to(at_least=…) is a ratio from 0 to 1, not {at_least!r}")
    return SimilarTo(text, None if at_least is None else float(at_least))


def judge(question: str, model: str | None = None) -> Judge:
    """Ask a model ``question`` (yes/no) about each answer: True for yes, False for no.

    The question may use the row's columns as ``{{placeholders}}``: ``"Does it name {{capital}}?"``.
    ``model`` is the judge's model (default: the client's default model), checked before the grid
    runs. The call is ``client.responses.create(input=…, model=model, temperature=0,
    max_output_tokens=16, text=VERDICT_FORMAT)``: the verdict is constrained to ``{"verdict": "yes"|"no"}``
    and parsed strictly (:func:`parse_verdict`); anything else is an error, not a no: ``<NA>`` with that message.
    """
    if not isinstance(question, str) or not question.strip():
        raise InvalidRequest("judge() takes a yes/no question about the answer, e.g. 'Is the answer polite?'")
    if model is not None and (not isinstance(model, str) or not model):
        raise InvalidRequest(f"judge(model=…) is a model id from client.models.list(), not {model!r}")
    return Judge(question, model)


BUILT_INS: dict[str, Callable[..., Check]] = {
    "contains": contains, "regex": regex, "equals": equals, "max_words": max_words, "is_json": is_json,
    "json_schema": json_schema, "similar_to": similar_to, "judge": judge,
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


__all__ = [
    "Check", "CheckInput", "CheckSet", "Column", "Judge", "JudgeClient", "VERDICT_FORMAT", "apply", "column",
    "contains", "equals", "is_json", "json_schema", "judge", "max_words", "parse_verdict", "regex", "similar_to",
]  # fmt: skip
