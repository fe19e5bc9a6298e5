"""Function tools for the Responses API: Python callables as tools, and ``tools=`` / ``tool_choice=`` checked.

A tool is sent in the Responses API's wire form (OpenAI, Llama Stack and OGX share it)::

    {"type": "function", "name": "get_weather", "description": "…", "parameters": {…}, "strict": False}

:func:`function_tool` makes one from a callable: the JSON Schema of its parameters comes from the
signature and the type hints, through pydantic (:func:`pydantic.create_model`), and the
description from the docstring (its first paragraph; each parameter's from an ``Args:`` /
``Parameters`` / ``:param x:`` section). :func:`check_tools` turns what ``responses.create(tools=…,
tool_choice=…)`` was given into a :class:`ToolSet`: the wire tools, the wire ``tool_choice`` and the
callables by name (for the client's tool loop). Everything wrong raises :class:`~llamabook.InvalidTool`
before anything is stored or sent. No I/O here.
"""

from __future__ import annotations

import inspect
import re
import typing
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import pydantic
from pydantic import Field, PrivateAttr
from pydantic.json_schema import GenerateJsonSchema

from .errors import InvalidRequest, InvalidTool
from .schemas import check_schema
from .types.base import WireModel

#: What a function's name may hold on the wire (OpenAI: letters, digits, ``_`` and ``-``, up to 64).
_NAME = re.compile(r"[A-Za-z0-9_-]{1,64}")
#: The ``tool_choice`` modes; any other string names a function.
CHOICE_MODES = ("auto", "none", "required")


class FunctionTool(WireModel):
    """A function tool in the Responses API's wire form.

    Made by :func:`function_tool` from a callable (which it keeps, for the tool loop, as
    :attr:`function`), or read from the wire form (then :attr:`function` is None).
    """

    type: Literal["function"] = "function"
    name: str
    description: str | None = None
    #: the JSON Schema of the arguments: an object whose properties are the parameters
    parameters: dict[str, Any] = Field(default_factory=lambda: {"type": "object", "properties": {}})
    strict: bool | None = Field(default=None, strict=True)
    _function: Callable[..., Any] | None = PrivateAttr(default=None)
    _arguments: type[pydantic.BaseModel] | None = PrivateAttr(default=None)

    @property
    def function(self) -> Callable[..., Any] | None:
        """The Python callable this tool was made from, or None for a tool given in its wire form."""
        return self._function

    @property
    def arguments_model(self) -> type[pydantic.BaseModel] | None:
        """The pydantic model of the callable's parameters (validates and converts a call's arguments)."""
        return self._arguments

    @property
    def wire(self) -> dict[str, Any]:
        """The tool as sent: ``description`` left out when there is none."""
        return self.model_dump(mode="json", exclude_none=True)


@dataclass(frozen=True)
class ToolSet:
    """``tools=`` and ``tool_choice=`` of one request, checked.

    ``wire`` are the tools as sent, ``choice`` the ``tool_choice`` as sent (None: not sent, the
    server's default ``"auto"``), ``tools`` the :class:`FunctionTool` objects and ``functions`` the
    Python callables by tool name (tools given in wire form have none).
    """

    tools: tuple[FunctionTool, ...] = ()
    choice: str | dict[str, Any] | None = None
    functions: Mapping[str, Callable[..., Any]] = field(default_factory=dict)

    @property
    def wire(self) -> list[dict[str, Any]] | None:
        """The tools as sent, or None when there are none."""
        return [tool.wire for tool in self.tools] or None

    @property
    def names(self) -> list[str]:
        return [tool.name for tool in self.tools]


class _NoTitles(GenerateJsonSchema):
    """pydantic's JSON Schema without a ``title`` per parameter (the name says it; fewer tokens for the model)."""

    def field_title_should_be_set(self, schema: Any) -> bool:
        return False


def function_tool(
    fn: Callable[..., Any], *, name: str | None = None, description: str | None = None, strict: bool = False
) -> FunctionTool:
    """A :class:`FunctionTool` from a Python callable: its name, docstring and parameters' JSON Schema.

    Every parameter needs a type hint pydantic can make a JSON Schema of (str, int, float, bool,
    ``Literal``, ``Enum``, ``Optional``, lists and dicts of those, pydantic models, …); a parameter
    with a default is not required. The description is the docstring's first paragraph, and each
    parameter's description comes from its ``Args:`` (Google), ``Parameters`` (NumPy) or ``:param x:``
    (reST) entry. ``strict=True`` asks the server for strict schema adherence: every parameter must
    then be required, and no other property is allowed. ``*args``, ``**kwargs``, positional-only
    parameters and hints without a JSON Schema raise :class:`~llamabook.InvalidTool`, naming the parameter.

    >>> def get_weather(city: str, unit: Literal["C", "F"] = "C") -> str:
    ...     '''The weather now in a city.'''
    >>> function_tool(get_weather).parameters["required"]
    ['city']
    """
    if not callable(fn) or isinstance(fn, type):
        raise InvalidTool(f"A tool is a function (or its wire dict), not {type(fn).__name__}: {fn!r}")
    tool_name = name if name is not None else getattr(fn, "__name__", None)
    if not isinstance(tool_name, str) or not _NAME.fullmatch(tool_name):
        raise InvalidTool(
            f"The tool name {tool_name!r} can't be sent: a name has 1-64 letters, digits, '_' or '-'. "
            "Use a def with such a name, or give one: lb.function_tool(fn, name='get_weather')",
            tool=tool_name if isinstance(tool_name, str) else None,
        )
    summary, documented = _docstring(inspect.getdoc(fn) or "")
    model = _arguments_model(fn, tool_name, documented)
    parameters = _parameters_schema(model, tool_name)
    if strict:
        _make_strict(parameters, tool_name)
    tool = FunctionTool(
        name=tool_name, description=description if description is not None else summary or None,
        parameters=parameters, strict=strict,
    )  # fmt: skip
    tool._function, tool._arguments = fn, model
    return tool


def _arguments_model(fn: Callable[..., Any], name: str, documented: Mapping[str, str]) -> type[pydantic.BaseModel]:
    """The pydantic model of ``fn``'s parameters; each parameter checked for a JSON Schema first, to name it."""
    try:
        signature = inspect.signature(fn)
    except (TypeError, ValueError) as exc:
        raise InvalidTool(f"The signature of tool {name!r} can't be read ({exc}); wrap it in a def", tool=name) from None
    try:
        hints = typing.get_type_hints(fn, include_extras=True)
    except Exception as exc:  # noqa: BLE001 - a forward reference that doesn't resolve, say
        raise InvalidTool(
            f"The type hints of tool {name!r} can't be resolved: {exc}. Import the types they name where {name} is defined",
            tool=name,
        ) from None
    fields: dict[str, Any] = {}
    for parameter in signature.parameters.values():
        where = f"Parameter {parameter.name!r} of tool {name!r}"
        if parameter.kind in (parameter.VAR_POSITIONAL, parameter.VAR_KEYWORD):
            star = "*" if parameter.kind is parameter.VAR_POSITIONAL else "**"
            raise InvalidTool(
                f"{where} is {star}{parameter.name}: a tool's arguments are named, one JSON property each. "
                "List the parameters the model may pass, each with a type hint", tool=name,
            )  # fmt: skip
        if parameter.kind is parameter.POSITIONAL_ONLY:
            raise InvalidTool(f"{where} is positional-only; the model passes arguments by name: drop the '/'", tool=name)
        if parameter.name not in hints:
            raise InvalidTool(f"{where} has no type hint; annotate it, e.g. {parameter.name}: str", tool=name)
        hint = hints[parameter.name]
        adapter = _schemable(hint, where, name)
        default = ... if parameter.default is parameter.empty else parameter.default
        if default is not ...:
            _check_default(adapter, default, where, name)
        fields[parameter.name] = (hint, Field(default, description=documented.get(parameter.name)))
    try:
        return pydantic.create_model(f"{name}_arguments", **fields)
    except Exception as exc:  # noqa: BLE001 - e.g. a default the type refuses, a reserved field name
        raise InvalidTool(f"The parameters of tool {name!r} can't become a pydantic model: {exc}", tool=name) from None


def _schemable(hint: Any, where: str, name: str) -> pydantic.TypeAdapter[Any]:
    """A TypeAdapter of the type hint ``hint``; :class:`InvalidTool` when pydantic can't make its JSON Schema."""
    try:
        adapter: pydantic.TypeAdapter[Any] = pydantic.TypeAdapter(hint)
        adapter.json_schema()
    except Exception as exc:  # noqa: BLE001 - PydanticSchemaGenerationError, PydanticInvalidForJsonSchema, …
        shown = getattr(hint, "__name__", None) or repr(hint)
        reason = (str(exc).splitlines() or [type(exc).__name__])[0].split(". ")[0].rstrip(".")
        raise InvalidTool(
            f"{where} is typed {shown}, which has no JSON Schema ({reason}). Use a JSON type: str, int, float, "
            "bool, Literal, an Enum, list[...] / dict[str, ...] of those, or a pydantic model",
            tool=name,
        ) from None
    return adapter


def _check_default(adapter: pydantic.TypeAdapter[Any], default: Any, where: str, name: str) -> None:
    """The default must be a value of the parameter's type (the schema sends it as the default)."""
    try:
        adapter.validate_python(default)
    except pydantic.ValidationError:
        raise InvalidTool(
            f"{where} defaults to {default!r}, which is not a value of its type hint; "
            "fix the default, or widen the hint (e.g. int | None = None)",
            tool=name,
        ) from None


def _parameters_schema(model: type[pydantic.BaseModel], name: str) -> dict[str, Any]:
    try:
        schema = model.model_json_schema(schema_generator=_NoTitles)
    except Exception as exc:  # noqa: BLE001 - checked per parameter already; the whole may still fail
        raise InvalidTool(f"The parameters of tool {name!r} have no JSON Schema: {exc}", tool=name) from None
    schema.pop("title", None)
    schema.setdefault("properties", {})
    return schema


def _make_strict(parameters: dict[str, Any], name: str) -> None:
    optional = [key for key in parameters["properties"] if key not in parameters.get("required", [])]
    if optional:
        raise InvalidTool(
            f"strict=True needs every parameter of tool {name!r} required, but {optional} have defaults: "
            "drop the defaults, or leave strict=False",
            tool=name,
        )
    parameters["additionalProperties"] = False


# ---- docstrings -----------------------------------------------------------------------------

_HEADERS = ("Args", "Arguments", "Parameters", "Params", "Keyword Args", "Keyword Arguments", "Other Parameters")
_REST = re.compile(r"^:param\s+(?:[^:]*\s)?(\w+)\s*:\s*(.*)$")
_GOOGLE = re.compile(r"^\*{0,2}(\w+)\s*(?:\([^)]*\))?\s*:\s*(.*)$")
_NUMPY = re.compile(r"^\*{0,2}(\w+)\s*(?::.*)?$()")


def _docstring(doc: str) -> tuple[str, dict[str, str]]:
    """(the first paragraph as one line, each documented parameter's description)."""
    lines = doc.splitlines()
    first: list[str] = []
    for line in lines:
        text = line.strip()
        if not text or text.rstrip(":") in _HEADERS or _REST.match(text):
            if first or text:
                break
            continue
        first.append(text)
    return " ".join(first), _parameter_docs(lines)


def _indent(line: str) -> int:
    return len(line) - len(line.lstrip())


def _parameter_docs(lines: Sequence[str]) -> dict[str, str]:
    """Each parameter's description from reST ``:param x:`` lines, a Google ``Args:`` or a NumPy ``Parameters`` section."""
    found: dict[str, str] = {}
    for index, raw in enumerate(lines):
        text, indent = raw.strip(), _indent(raw)
        if rest := _REST.match(text):
            found[rest.group(1)] = _joined([rest.group(2)], _block(lines, index + 1, indent))
        elif text.endswith(":") and text[:-1] in _HEADERS:  # Google
            body = _block(lines, index + 1, indent)
            entry = min((_indent(line) for line in body if line.strip()), default=0)
            _entries(body, entry, found, lambda line: _GOOGLE.match(line.strip()))
        elif text in _HEADERS and index + 1 < len(lines) and set(lines[index + 1].strip()) == {"-"}:  # NumPy
            body = []
            for line in lines[index + 2 :]:
                if line.strip() and set(line.strip()) == {"-"}:  # the underline of the next section
                    body.pop()
                    break
                body.append(line)
            _entries(body, indent, found, lambda line: _NUMPY.match(line.strip()))
    return {name: description for name, description in found.items() if description}


def _block(lines: Sequence[str], start: int, indent: int) -> list[str]:
    """The lines from ``start`` indented deeper than ``indent`` (blank lines inside kept)."""
    block = []
    for line in lines[start:]:
        if line.strip() and _indent(line) <= indent:
            break
        block.append(line)
    return block


def _entries(body: Sequence[str], entry: int, found: dict[str, str], match: Callable[[str], Any]) -> None:
    """Entries at indent ``entry`` (``match`` gives the name and the text on its line); deeper lines continue one."""
    name, parts = None, []
    for line in body:
        head = match(line) if line.strip() and _indent(line) == entry else None
        if head:
            if name is not None:
                found[name] = _joined(parts, [])
            name, parts = head.group(1), [head.group(2)]
        elif name is not None:
            parts.append(line)
    if name is not None:
        found[name] = _joined(parts, [])


def _joined(first: Sequence[str], more: Sequence[str]) -> str:
    return " ".join(part.strip() for part in [*first, *more] if part.strip())


# ---- tools= and tool_choice= ----------------------------------------------------------------


def check_tools(tools: Any, tool_choice: Any = None) -> ToolSet:
    """``tools=`` and ``tool_choice=`` as a :class:`ToolSet`; :class:`~llamabook.InvalidTool` for anything wrong.

    ``tools`` is a list of callables, :class:`FunctionTool` objects or wire dicts
    (``{"type": "function", "name", "description", "parameters", "strict"}``); None or ``[]``: no tools.
    ``tool_choice`` is ``"auto"``, ``"none"``, ``"required"``, a tool's name, or the Responses form
    ``{"type": "function", "name": …}``; None: not sent (the server's default, ``"auto"``).
    """
    if tools is None or (isinstance(tools, (list, tuple)) and not tools):
        if tool_choice is not None:
            raise InvalidTool(f"tool_choice={tool_choice!r} needs tools=: give the tools it chooses among")
        return ToolSet()
    if not isinstance(tools, (list, tuple)):
        raise InvalidTool(f"tools= is a list of functions (or wire dicts), not {type(tools).__name__}")
    made = [_one_tool(tool, index) for index, tool in enumerate(tools)]
    seen: dict[str, int] = {}
    for index, tool in enumerate(made):
        if tool.name in seen:
            raise InvalidTool(
                f"Two tools are named {tool.name!r} (tools[{seen[tool.name]}] and tools[{index}]); names must be "
                f"unique: rename one, e.g. lb.function_tool(fn, name='{tool.name}_2')",
                tool=tool.name,
            )
        seen[tool.name] = index
    functions = {tool.name: tool.function for tool in made if tool.function is not None}
    return ToolSet(tuple(made), _choice(tool_choice, list(seen)), functions)


def _one_tool(tool: Any, index: int) -> FunctionTool:
    if isinstance(tool, FunctionTool):
        return tool
    if isinstance(tool, Mapping):
        return _wire_tool(tool, index)
    if callable(tool) and not isinstance(tool, type):
        return function_tool(tool)
    raise InvalidTool(f"tools[{index}] is a {type(tool).__name__}; give a function, lb.function_tool(fn) or a wire dict")


def _wire_tool(tool: Mapping[str, Any], index: int) -> FunctionTool:
    """A tool given as its wire dict, its shape checked (the parameters must be a JSON Schema of an object)."""
    kind = tool.get("type")
    if kind != "function":
        raise InvalidTool(
            f"tools[{index}] has type {kind!r}; only function tools are sent: "
            "{'type': 'function', 'name': …, 'description': …, 'parameters': {…}}"
        )
    name = tool.get("name")
    if "function" in tool and name is None:  # the Chat Completions form
        raise InvalidTool(
            f"tools[{index}] is in the Chat Completions form ({{'function': {{…}}}}); the Responses API takes "
            "the function's fields at the top: {'type': 'function', 'name': …, 'parameters': {…}}"
        )
    if not isinstance(name, str) or not _NAME.fullmatch(name):
        raise InvalidTool(f"tools[{index}] has name {name!r}; a name has 1-64 letters, digits, '_' or '-'")
    parameters = tool.get("parameters", {"type": "object", "properties": {}})
    try:
        check_schema(parameters)
    except InvalidRequest as exc:
        raise InvalidTool(f"The parameters of tool {name!r} are not a JSON Schema: {exc}", tool=name) from None
    if parameters.get("type") != "object":
        raise InvalidTool(
            f"The parameters of tool {name!r} must be the schema of an object ({{'type': 'object', 'properties': …}}), "
            f"not type {parameters.get('type')!r}",
            tool=name,
        )
    try:
        return FunctionTool.model_validate({**tool, "parameters": parameters})
    except pydantic.ValidationError as exc:
        raise InvalidTool(f"tools[{index}] ({name!r}) is not a function tool: {exc.errors()[0]['msg']}", tool=name) from None


def _choice(choice: Any, names: list[str]) -> str | dict[str, Any] | None:
    """``tool_choice`` as sent; a function it names must be one of ``names``."""
    if choice is None or choice in CHOICE_MODES:
        return choice
    if isinstance(choice, str):
        named = choice
    elif isinstance(choice, Mapping) and choice.get("type") == "function" and isinstance(choice.get("name"), str):
        named = choice["name"]
    elif isinstance(choice, Mapping) and isinstance((choice.get("function") or {}).get("name"), str):
        raise InvalidTool(
            "tool_choice is in the Chat Completions form; the Responses API takes "
            f"{{'type': 'function', 'name': {choice['function']['name']!r}}}"
        )
    else:
        raise InvalidTool(
            f"tool_choice={choice!r} is not a choice: give 'auto', 'none', 'required', a tool's name, "
            "or {'type': 'function', 'name': …}"
        )
    if named not in names:
        raise InvalidTool(f"tool_choice names {named!r}, which is not one of the tools {names}", tool=named)
    return {"type": "function", "name": named}
