"""A schema's top-level fields as typed DataFrame columns (``client.grid(..., schema=...)``).

Each top-level property of the (object) schema becomes one column; the column's kind follows
from the property's schema (``$ref``, ``anyOf`` with ``null`` and ``type: [..., "null"]`` are
looked through):

* ``string`` (also an ``enum`` / ``const`` of strings) → pandas ``string``; ``integer`` → ``Int64``;
  ``number`` → ``Float64``; ``boolean`` → ``boolean``.
* an ``array`` whose ``items`` have one of these kinds → an Arrow list column
  (``pd.ArrowDtype(pa.list_(...))``); an ``object`` with ``properties`` → an Arrow struct
  column with those properties (undeclared keys are not kept in it; ``output_text`` has them).
  Nested to any depth.
* anything else → its JSON text in a ``string`` column: a free-form object (no ``properties``,
  or only ``additionalProperties``), an object without properties, an array without ``items``
  or of mixed types, a field of several types, a recursive ``$ref``, a nested property whose name
  is not a plain word (letters, digits, ``_``), which Arrow's type names could not carry back.

pandas up to 3.1 can't read list and struct columns back from Parquet by itself (pandas#57411:
``data type 'list<item: string>[pyarrow]' not understood``); :func:`register_parquet_types` teaches
it to, and runs whenever a grid builds such a column. pandas and pyarrow are imported lazily.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from .errors import InvalidRequest
from .types.grid_rows import placed_after, result_columns

if TYPE_CHECKING:
    import pandas

    from .schemas import ResolvedSchema

#: The scalar kinds and their pandas dtypes.
SCALAR_DTYPES = {"string": "string", "integer": "Int64", "number": "Float64", "boolean": "boolean"}
#: A nested property name Arrow's type names carry back unchanged (see :func:`parse_arrow_type`).
PLAIN_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


@dataclass(frozen=True)
class Shape:
    """What a value of a schema looks like as a column: ``kind`` is a scalar kind, ``list``, ``struct`` or ``json``."""

    kind: str
    items: Shape | None = None  # list: the items' shape
    fields: tuple[tuple[str, Shape], ...] = ()  # struct: (name, shape) per declared property


@dataclass(frozen=True)
class FieldColumn:
    """One top-level field of a schema and the grid column that holds it."""

    field: str
    column: str
    shape: Shape

    @property
    def dtype(self) -> Any:
        """The column's pandas dtype (a dtype name, or a ``pd.ArrowDtype`` for lists and structs)."""
        if self.shape.kind in ("list", "struct"):
            import pandas as pd

            return pd.ArrowDtype(arrow_type(self.shape))
        return SCALAR_DTYPES.get(self.shape.kind, "string")

    def array(self, values: Sequence[Any]) -> Any:
        """A pandas array of this column from the fields' JSON values (None: a null cell)."""
        import pandas as pd

        if self.shape.kind in ("list", "struct"):
            import pyarrow as pa

            register_parquet_types()
            converted = [None if v is None else _arrow_value(v, self.shape) for v in values]
            return pd.arrays.ArrowExtensionArray(pa.array(converted, type=arrow_type(self.shape)))
        return pd.array([None if v is None else _scalar(v, self.shape.kind) for v in values], dtype=self.dtype)


def field_columns(resolved: ResolvedSchema, prefix: str = "", given: Any = None) -> list[FieldColumn]:
    """The columns of ``resolved``'s top-level fields, named ``prefix + field``.

    In the order of ``given`` (the user's dict or pydantic class: the resolved schema's keys may be
    sorted), else the resolved schema's. Raises :class:`~llamabook.InvalidRequest` unless the schema
    is an object with ``properties``.
    """
    schema = resolved.json_schema
    top, _ = _look_through(schema, schema, frozenset())
    properties = top.get("properties") if isinstance(top, Mapping) else None
    if not isinstance(properties, Mapping) or not properties:
        raise InvalidRequest(
            "A grid's schema must be an object with properties (one column per property), such as "
            "{'type': 'object', 'properties': {'city': {'type': 'string'}}}, or a pydantic model with fields"
        )
    columns = [FieldColumn(str(name), f"{prefix}{name}", shape_of(sub, schema)) for name, sub in properties.items()]
    order = _given_order(given)
    return sorted(columns, key=lambda c: order.index(c.field) if c.field in order else len(order))


def _given_order(given: Any) -> list[str]:
    """The top-level property names of a user's schema, in the order they were written."""
    try:
        if isinstance(given, type) and hasattr(given, "model_json_schema"):
            given = given.model_json_schema()
        properties = given.get("properties") if isinstance(given, Mapping) else None
    except Exception:  # the resolved schema was made from it already: its order is only a nicety
        return []
    return [str(name) for name in properties] if isinstance(properties, Mapping) else []


def shape_of(schema: Any, root: Mapping[str, Any], seen: frozenset[str] = frozenset()) -> Shape:
    """The column shape of ``schema`` (a part of ``root``, whose ``$ref`` targets it may name)."""
    schema, seen = _look_through(schema, root, seen)
    if not isinstance(schema, Mapping):
        return Shape("json")
    kind = _kind(schema)
    if kind in SCALAR_DTYPES:
        return Shape(kind)
    if kind == "array":
        items = schema.get("items")
        if not isinstance(items, Mapping) or "prefixItems" in schema:
            return Shape("json")
        inner = shape_of(items, root, seen)
        return Shape("json") if inner.kind == "json" else Shape("list", items=inner)
    if kind == "object":
        properties = schema.get("properties")
        if not isinstance(properties, Mapping) or not properties or not all(PLAIN_NAME.fullmatch(str(n)) for n in properties):
            return Shape("json")
        return Shape("struct", fields=tuple((str(name), shape_of(sub, root, seen)) for name, sub in properties.items()))
    return Shape("json")


def arrow_type(shape: Shape) -> Any:
    """The pyarrow type of a shape (a ``json`` part is its JSON text, a string)."""
    import pyarrow as pa

    if shape.kind == "list" and shape.items is not None:
        return pa.list_(arrow_type(shape.items))
    if shape.kind == "struct":
        return pa.struct([pa.field(name, arrow_type(sub)) for name, sub in shape.fields])
    return {"integer": pa.int64(), "number": pa.float64(), "boolean": pa.bool_()}.get(shape.kind, pa.string())


def parse_arrow_type(text: str) -> Any:
    """The pyarrow type named by ``text`` as pyarrow writes it (``list<item: struct<a: int64>>``).

    Only what :func:`arrow_type` makes: lists, structs with plain field names, and flat types.
    Raises ``ValueError`` for anything else.
    """
    import pyarrow as pa

    def read(at: int) -> tuple[Any, int]:
        match = re.compile(r"(large_list|list|struct)<|[a-z0-9_]+").match(text, at)
        if match is None:
            raise ValueError(f"no pyarrow type at {text[at:]!r}")
        if not match.group(0).endswith("<"):
            return pa.type_for_alias(match.group(0)), match.end()
        container, at, fields = match.group(1), match.end(), []
        while not text.startswith(">", at):
            name = PLAIN_NAME.match(text, at)
            if name is None or not text.startswith(": ", name.end()):
                raise ValueError(f"no field name at {text[at:]!r}")
            value, at = read(name.end() + 2)
            fields.append(pa.field(name.group(0), value))
            at += 2 if text.startswith(", ", at) else 0
        if container == "struct":
            return pa.struct(fields), at + 1
        if len(fields) != 1:
            raise ValueError(f"a list has one item type: {text!r}")
        return (pa.large_list if container == "large_list" else pa.list_)(fields[0]), at + 1

    found, end = read(0)
    if end != len(text):
        raise ValueError(f"unexpected {text[end:]!r} after a pyarrow type")
    return found


_registered = False


def register_parquet_types() -> None:
    """Let ``pd.read_parquet`` read back the list and struct columns of a grid (pandas#57411).

    pandas records such a column's dtype as text (``list<item: string>[pyarrow]``) and can't parse
    it; this registers a parser for the types a grid makes. Idempotent; run by every grid that makes
    a list or struct column, so call it yourself only in a process that reads a grid's Parquet file
    before making one.
    """
    global _registered
    if _registered:
        return
    import pandas as pd

    class _NestedArrowType(pd.api.extensions.ExtensionDtype):
        """Not a dtype of its own: finds the ``pd.ArrowDtype`` a nested type's text names."""

        name = "llamabook-nested-arrow"
        type = object

        @classmethod
        def construct_from_string(cls, string: str) -> Any:
            if not isinstance(string, str) or not string.endswith("[pyarrow]") or not string.startswith(("list<", "struct<", "large_list<")):
                raise TypeError(f"not a nested pyarrow type: {string!r}")
            try:
                return pd.ArrowDtype(parse_arrow_type(string.removesuffix("[pyarrow]")))
            except (ValueError, KeyError) as exc:
                raise TypeError(str(exc)) from None

        @classmethod
        def construct_array_type(cls) -> Any:  # pragma: no cover - never an array's dtype
            raise NotImplementedError

    pd.api.extensions.register_extension_dtype(_NestedArrowType)
    _registered = True


def _look_through(schema: Any, root: Mapping[str, Any], seen: frozenset[str]) -> tuple[Any, frozenset[str]]:
    """``schema`` with its ``$ref`` followed and a nullable ``anyOf`` unwrapped; and the refs followed so far.

    ``None`` for a ref that points nowhere or back into itself (a recursive schema: JSON text).
    """
    while True:
        if not isinstance(schema, Mapping):
            return schema, seen
        ref = schema.get("$ref")
        if isinstance(ref, str):
            target = _resolve_ref(ref, root)
            if ref in seen or target is None:
                return None, seen
            seen = seen | {ref}
            schema = {**target, **{k: v for k, v in schema.items() if k != "$ref"}}
            continue
        options = schema.get("anyOf", schema.get("oneOf"))
        if isinstance(options, list):
            kept = [o for o in options if not (isinstance(o, Mapping) and o.get("type") == "null")]
            if len(kept) == 1:
                schema = {**{k: v for k, v in schema.items() if k not in ("anyOf", "oneOf")}, **kept[0]}
                continue
        return schema, seen


def _resolve_ref(ref: str, root: Mapping[str, Any]) -> Any:
    if not ref.startswith("#"):
        return None
    node: Any = root
    for part in ref.removeprefix("#").strip("/").split("/") if ref != "#" else []:
        part = part.replace("~1", "/").replace("~0", "~")
        if not isinstance(node, Mapping) or part not in node:
            return None
        node = node[part]
    return node


def _kind(schema: Mapping[str, Any]) -> str | None:
    """The one JSON type ``schema`` allows (besides null), from ``type``, ``enum`` or ``const``; None when several."""
    declared = schema.get("type")
    if isinstance(declared, list):
        kinds = [t for t in declared if t != "null"]
        declared = kinds[0] if len(kinds) == 1 else None
    if isinstance(declared, str):
        return declared
    values = schema["enum"] if isinstance(schema.get("enum"), list) else [schema["const"]] if "const" in schema else None
    if values:
        kinds = {_json_kind(v) for v in values if v is not None}
        if kinds == {"integer", "number"}:
            return "number"
        return kinds.pop() if len(kinds) == 1 else None
    if isinstance(schema.get("properties"), Mapping):
        return "object"
    if "items" in schema:
        return "array"
    return None


def _json_kind(value: Any) -> str:
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "number"
    if isinstance(value, str):
        return "string"
    return "array" if isinstance(value, list) else "object"


def _scalar(value: Any, kind: str) -> Any:
    """A validated JSON value as the cell of a ``kind`` column (``json``: its JSON text)."""
    if kind == "integer":
        return int(value)
    if kind == "number":
        return float(value)
    if kind in ("string", "boolean"):
        return value
    return json.dumps(value, ensure_ascii=False)


def _arrow_value(value: Any, shape: Shape) -> Any:
    """A validated JSON value as pyarrow takes it for ``shape``'s type."""
    if value is None:
        return None
    if shape.kind == "list" and shape.items is not None:
        return [_arrow_value(v, shape.items) for v in value]
    if shape.kind == "struct":
        return {name: _arrow_value(value.get(name), sub) for name, sub in shape.fields}
    return _scalar(value, shape.kind)


def fields_of(frame: pandas.DataFrame) -> list[str]:
    """A grid frame's schema field columns (in order): those a grid recorded, else those between ``output_text`` and ``valid``."""
    recorded = (frame.attrs.get("llamabook") or {}).get("fields")
    columns = [str(c) for c in frame.columns]
    if isinstance(recorded, list):
        return [c for c in recorded if c in columns]
    (valid,) = (column.name for column in result_columns("schema"))
    after = placed_after(valid)  # output_text
    if after in columns and valid in columns:
        start, end = columns.index(after), columns.index(valid)
        return columns[start + 1 : end] if start < end else []
    return []
