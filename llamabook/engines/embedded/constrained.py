"""Constrained decoding for the embedded model: a JSON Schema held to token by token, with llguidance.

llguidance (the library llama.cpp itself uses for ``--json-schema`` when built with it) compiles a
schema into a grammar and computes, at each step, which tokens of the vocabulary may come next.
It covers number bounds, ``multipleOf``, string lengths and ``pattern`` (anchored or not), array
lengths, ``enum``/``const``, ``anyOf``/``oneOf``/``allOf``, ``$ref``/``$defs`` and recursive schemas,
and the string formats in :data:`FORMATS`; an object is closed unless it says otherwise
(:func:`_for_generation`). What it can't hold (``uniqueItems``, ``not``,
``if``/``then``/``else``, ``contains``, …) is named, with its place in the schema, before any call
(:func:`limits`); that needs no model, so a replay never loads llama-cpp-python.

Decoding is driven by a logits processor (:class:`SchemaMask`): a fresh matcher per call follows
the tokens the model writes and masks the ones the schema forbids. For greedy decoding the model's
own best token is checked first and the full mask is computed only when that token is refused:
the same bytes, less work. Output has no free whitespace (``", "`` and ``": "`` between items), and
a number has at most :data:`MAX_DIGITS` digits before and after its point (and
:data:`MAX_EXPONENT_DIGITS` in its exponent), so a greedy small model can't loop on blanks or digits. Every output is still validated with jsonschema.
"""

from __future__ import annotations

import functools
import json
import re
import threading
import warnings
from collections.abc import Iterator
from typing import Any

from ..._lazy import load
from ...errors import InvalidRequest, InvalidTool

#: How a schema is compiled: no free whitespace, and the separators of ``json.dumps``.
COMPILE_OPTIONS = {"whitespace_flexible": False, "item_separator": ", ", "key_separator": ": "}
#: The string formats llguidance holds output to (measured on llguidance 1.9.1); another one is
#: refused when the output validator checks it, and left out of the grammar when it doesn't.
FORMATS = frozenset({"date", "time", "date-time", "duration", "email", "hostname", "ipv4", "ipv6", "uri", "uuid"})
#: The keywords llguidance can't hold output to (measured on llguidance 1.9.1), named before any call.
UNHELD = (
    "uniqueItems", "not", "if", "then", "else", "contains", "minContains", "maxContains", "dependentSchemas",
    "dependentRequired", "propertyNames", "unevaluatedProperties", "unevaluatedItems", "$dynamicRef",
)  # fmt: skip
#: How many times a recursive schema may contain itself in one output.
RECURSION_DEPTH = 3
#: Compiled matchers kept per tokenizer (least recently used dropped first).
MATCHER_CACHE_SIZE = 64


def grammar(schema: dict[str, Any]) -> str:
    """The llguidance grammar that holds output to ``schema``; :class:`InvalidRequest` naming what it can't hold.

    Computed once per schema, keyed by its JSON text with the key order kept (that order is the
    order in which the model writes an object's properties).
    """
    compiled, problems = _compiled(json.dumps(schema, ensure_ascii=False))
    if problems:
        shown = "; ".join(problems[:5]) + (f"; and {len(problems) - 5} more" if len(problems) > 5 else "")
        raise InvalidRequest(
            f"The embedded model decodes with a grammar made from the JSON Schema (llguidance), and that grammar "
            f"can't express: {shown}. Leave these out of the schema (and check them on output_parsed yourself), "
            "or use a server backend."
        )
    return compiled


def limits(schema: dict[str, Any]) -> list[str]:
    """What in ``schema`` the grammar can't hold output to, one line each with its place (``[]``: nothing)."""
    return list(_compiled(json.dumps(schema, ensure_ascii=False))[1])


@functools.lru_cache(maxsize=256)
def _compiled(schema_json: str) -> tuple[str, tuple[str, ...]]:
    llguidance = load("llguidance")
    given = json.loads(schema_json)
    try:
        text = llguidance.LLMatcher.grammar_from_json_schema(_for_generation(given), defaults=COMPILE_OPTIONS)
    except ValueError as exc:
        return "", (f"a schema llguidance can't read ({exc})",)
    failed, messages = llguidance.LLMatcher.validate_grammar_with_warnings(text)
    return text, tuple(_explained(messages[0], given)) if failed else ()


def _for_generation(schema: Any) -> Any:
    """``schema`` as the grammar holds it: a copy, with two choices made for generation.

    * An object lists its properties unless it says otherwise: one with ``properties`` and no
      ``additionalProperties``, ``patternProperties`` or ``unevaluatedProperties`` is closed (as
      llama.cpp's converter and OpenAI's strict mode do), so the model can't ramble on into keys of
      its own. Not inside ``allOf``, where closing a part would refuse its siblings' properties.
    * A string format neither llguidance nor the output validator checks is an annotation: left out.
    * A recursive schema is unrolled :data:`RECURSION_DEPTH` levels deep (its local ``$ref`` s
      inlined), so a greedy model can't nest forever: deeper, a branch that recurses is refused.
    """
    schema = _inlined(schema, schema, {})  # a copy: the caller's schema is left as it is
    formats = FORMATS | _validator_formats()
    for where, node in subschemas(schema):
        if "format" in node and node["format"] not in formats:
            del node["format"]
        open_keys = ("additionalProperties", "patternProperties", "unevaluatedProperties")
        if "properties" in node and not any(key in node for key in open_keys) and "/allOf/" not in where:
            node["additionalProperties"] = False
    return schema


def _inlined(node: Any, root: Any, entered: dict[str, int]) -> Any:
    """``node`` with its local ``$ref`` s replaced by what they name; a ref entered more than
    :data:`RECURSION_DEPTH` times on the way down becomes ``false`` (no value matches it)."""
    if isinstance(node, list):
        return [_inlined(item, root, entered) for item in node]
    if not isinstance(node, dict):
        return node
    ref = node.get("$ref")
    if isinstance(ref, str) and ref.startswith("#/"):
        if entered.get(ref, 0) >= RECURSION_DEPTH:
            return False
        target = _pointed(root, ref)
        if target is not None:
            rest = {key: value for key, value in node.items() if key not in ("$ref", "$defs", "definitions")}
            inner = _inlined(target, root, {**entered, ref: entered.get(ref, 0) + 1})
            if not rest:
                return inner
            return {"allOf": [inner, _inlined(rest, root, entered)]}
    return {key: value if key in ("$defs", "definitions") else _inlined(value, root, entered) for key, value in node.items()}


def _pointed(root: Any, ref: str) -> Any:
    """What the local JSON pointer ``ref`` (``#/$defs/x``) names in ``root``, or None."""
    node = root
    for part in ref[2:].split("/"):
        part = part.replace("~1", "/").replace("~0", "~")
        if not isinstance(node, dict) or part not in node:
            return None
        node = node[part]
    return node


def _validator_formats() -> frozenset[str]:
    try:
        validators = load("jsonschema.validators")
    except ModuleNotFoundError:  # pragma: no cover - nothing checks formats
        return frozenset()
    return frozenset(validators.Draft202012Validator.FORMAT_CHECKER.checkers)


def _explained(message: str, schema: Any) -> list[str]:
    """llguidance's refusal as lines naming the keyword and where it is."""
    unimplemented = re.match(r"Unimplemented keys: (\[.*\])", message)
    if unimplemented:  # llguidance names the first it meets: name every one, with its place
        keys = [*UNHELD, *(key for key in json.loads(unimplemented.group(1)) if key not in UNHELD)]
        return [f"{key!r} at {where}" for where, node in subschemas(schema) for key in keys if key in node] or [message]
    unknown = re.match(r"Unknown format: (.+)", message)
    if unknown:
        name = unknown.group(1).strip()
        places = [where for where, node in subschemas(schema) if node.get("format") == name]
        return [f"'format' at {where} (the string format {name!r}; it holds {', '.join(sorted(FORMATS))})" for where in places] or [message]
    return [" ".join(message.split())]  # e.g. a pattern it can't parse, a $ref it can't follow


#: Keywords whose value is a map of name → schema, a list of schemas, or one schema.
_SCHEMA_MAPS = ("properties", "patternProperties", "$defs", "definitions", "dependentSchemas")
_SCHEMA_LISTS = ("anyOf", "oneOf", "allOf", "prefixItems")
_SCHEMA_VALUES = (
    "items", "additionalProperties", "additionalItems", "not", "if", "then", "else", "contains", "propertyNames",
    "unevaluatedItems", "unevaluatedProperties",
)  # fmt: skip


def subschemas(schema: Any, where: str = "#") -> Iterator[tuple[str, dict[str, Any]]]:
    """Every schema dict in ``schema`` (itself first) with its JSON pointer, ``$ref`` not followed."""
    if not isinstance(schema, dict):
        return
    yield where, schema
    for key in _SCHEMA_MAPS:
        if isinstance(schema.get(key), dict):
            for name, child in schema[key].items():
                yield from subschemas(child, f"{where}/{key}/{name}")
    for key in _SCHEMA_LISTS:
        if isinstance(schema.get(key), list):
            for index, child in enumerate(schema[key]):
                yield from subschemas(child, f"{where}/{key}/{index}")
    for key in _SCHEMA_VALUES:
        child = schema.get(key)
        if isinstance(child, list):  # items as a tuple (older drafts)
            for index, item in enumerate(child):
                yield from subschemas(item, f"{where}/{key}/{index}")
        else:
            yield from subschemas(child, f"{where}/{key}")


class Tokenizer:
    """llguidance's view of one model's vocabulary, built once (about 0.2 s) and its matchers cached."""

    def __init__(self, llm: Any) -> None:
        llamacpp = load("llguidance.llamacpp")
        np = load("numpy")
        with warnings.catch_warnings():  # llama-cpp-python's vocabulary calls warn that they are deprecated
            warnings.simplefilter("ignore")
            self.tokens = llamacpp.lltokenizer_from_vocab(llm._model.vocab)
        #: the tokens that start with a digit (those that would make a number longer)
        self.digits = np.array(
            [self.tokens.decode_bytes([t])[:1].isdigit() for t in range(self.tokens.vocab_size)], dtype=bool
        )
        self._matchers: dict[str, Any] = {}
        self._lock = threading.Lock()

    def matcher(self, grammar_text: str) -> Any:
        """A fresh matcher for one call: a copy of the one compiled for ``grammar_text``."""
        with self._lock:
            compiled = self._matchers.pop(grammar_text, None)
            if compiled is None:
                compiled = load("llguidance").LLMatcher(self.tokens, grammar_text, log_level=0)
            self._matchers[grammar_text] = compiled  # most recently used last
            while len(self._matchers) > MATCHER_CACHE_SIZE:
                self._matchers.pop(next(iter(self._matchers)))
            return compiled.deep_copy()


#: The most digits a number's whole part, or its fraction, may have (as llama.cpp's converter
#: wrote numbers), and its exponent (a double's fits in 3): a greedy model can't write 1.1111… or
#: 1E+0000… forever where the schema sets no bound.
MAX_DIGITS = 15
MAX_EXPONENT_DIGITS = 3
#: A number being written at the end of the output: after ``:``, ``[`` or ``,`` (not inside a word).
_NUMBER_AT_END = re.compile(rb"[:\[,]\s*-?([0-9]*)(?:\.([0-9]*))?(?:[eE][-+]?([0-9]*))?$")


def _number_is_full(tail: bytes) -> bool:
    """Whether the output ends in a number with as many digits as it may have in the part being written."""
    found = _NUMBER_AT_END.search(tail)
    if found is None:
        return False
    whole, fraction, exponent = (len(part) if part is not None else None for part in found.groups())
    if exponent is not None:
        return exponent >= MAX_EXPONENT_DIGITS
    return (fraction if fraction is not None else whole) >= MAX_DIGITS  # type: ignore[operator]


class SchemaMask:
    """A llama-cpp-python logits processor that keeps one call's tokens to a grammar.

    It is called before each token is sampled, with the tokens so far (the prompt, then what was
    generated): it moves the matcher past the newly generated token, then leaves the logits as they
    are when the greedy choice is allowed, or sets every forbidden token's logit to -inf. If the
    matcher fails (which a correct mask never lets happen), only the end of text is left allowed
    and ``error`` says why, for the engine to raise once the call ends.
    """

    def __init__(self, tokenizer: Tokenizer, grammar_text: str, *, greedy: bool) -> None:
        self.tokenizer = tokenizer
        self.matcher = tokenizer.matcher(grammar_text)
        self.eos = tokenizer.tokens.eos_token
        self.greedy = greedy
        self.error: str | None = None
        self._seen: int | None = None
        self._tail = b""  # the output's last bytes, to see a number being written
        #: steps, and the steps that needed the full mask (the greedy choice was refused, or sampling)
        self.steps = self.masked = 0

    def __call__(self, input_ids: Any, logits: Any) -> Any:
        np = load("numpy")
        count = len(input_ids)
        if self._seen is not None and count > self._seen and self.error is None:
            new = [int(t) for t in input_ids[self._seen : count]]
            if self.matcher.consume_tokens(new):
                self._tail = (self._tail + self.tokenizer.tokens.decode_bytes(new))[-64:]
            else:
                self.error = self.matcher.get_error() or "a token the grammar does not allow"
        self._seen = count
        self.steps += 1
        if self.error is not None:
            logits[:] = -np.inf
            logits[self.eos] = 0.0
            return logits
        full = _number_is_full(self._tail)
        if self.greedy and not full and self.matcher.validate_tokens([int(np.argmax(logits))]) == 1:
            return logits
        self.masked += 1
        refused = np.frombuffer(self.matcher.compute_logit_bias(), dtype=np.uint8)[: len(logits)] == 0
        if full and not (refused | self.tokenizer.digits[: len(logits)]).all():
            refused |= self.tokenizer.digits[: len(logits)]  # end the number (when the grammar lets it end)
        logits[refused] = -np.inf
        return logits


# ---- tools: one call under the tools' schemas, or text or a call ----------------------------


def call_schema(tools: list[dict[str, Any]], named: str | None = None) -> dict[str, Any]:
    """The JSON Schema of one call: ``{"name": <a tool's name>, "arguments": <its parameters>}``.

    One branch per tool (``name`` a ``const``), in an ``anyOf`` when there are several; only the
    ``named`` tool when there is one. Each tool's local ``$ref`` s are inlined first, so they still
    point at its own ``$defs`` once its schema sits under ``arguments``.
    """
    branches = []
    for tool in tools:
        if named is not None and tool["name"] != named:
            continue
        parameters = tool.get("parameters") or {"type": "object", "properties": {}}
        inlined = _inlined(parameters, parameters, {})
        arguments = {key: value for key, value in inlined.items() if key not in ("$defs", "definitions")}
        branches.append({
            "type": "object",
            "properties": {"name": {"const": tool["name"]}, "arguments": arguments},
            "required": ["name", "arguments"],
            "additionalProperties": False,
        })  # fmt: skip
    return branches[0] if len(branches) == 1 else {"anyOf": branches}


#: In ``"auto"``, the text branch: anything that doesn't start with ``{`` or a blank (a ``{`` starts a call).
TEXT_RULE = r"/[^{\s][\s\S]*/"


def tool_grammar(
    tools: list[dict[str, Any]] | None, tool_choice: str | dict[str, Any] | None, output_schema: dict[str, Any] | None = None
) -> str | None:
    """The grammar of an answer with ``tools``; None when nothing holds it (no tools, ``"none"``).

    ``"required"`` or a named function: exactly one call (:func:`call_schema` through :func:`grammar`).
    ``"auto"`` (or no choice): an llguidance Lark grammar ``start: call | text``, where ``call`` is that
    schema (``%json``) and ``text`` is :data:`TEXT_RULE`; with an output schema, ``text`` is an answer
    under it instead. :class:`InvalidRequest` names what of the tools' schemas the grammar can't hold.
    """
    if not tools or tool_choice == "none":
        return None
    named = tool_choice.get("name") if isinstance(tool_choice, dict) else None
    for tool in tools:  # each tool's own schema first, so the refusal names the tool and the place in it
        problems = limits(tool.get("parameters") or {"type": "object", "properties": {}})
        if problems:
            shown = "; ".join(problems[:5]) + (f"; and {len(problems) - 5} more" if len(problems) > 5 else "")
            raise InvalidTool(
                f"The embedded model decodes a call of tool {tool['name']!r} under a grammar made from its "
                f"parameters' JSON Schema (llguidance), and that grammar can't express: {shown}. Leave these out "
                "of the schema (and check them in the function), or use a server backend.",
                tool=tool["name"],
            )
    schema = call_schema(tools, named)
    held = grammar(schema)
    if named is not None or tool_choice == "required":
        return held
    return _auto_grammar(schema, output_schema)


def _auto_grammar(schema: dict[str, Any], output_schema: dict[str, Any] | None) -> str:
    text = f"%json {_lark_json(output_schema)}" if output_schema is not None else TEXT_RULE
    return f"start: call | text\ncall: %json {_lark_json(schema)}\ntext: {text}\n"


def _lark_json(schema: dict[str, Any]) -> str:
    """``schema`` as a Lark ``%json`` body: as :func:`grammar` holds it, with the same compile options."""
    held = _for_generation(schema)
    held["x-guidance"] = COMPILE_OPTIONS
    return json.dumps(held, ensure_ascii=False)
