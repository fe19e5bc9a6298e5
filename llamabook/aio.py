"""``AsyncClient``: the Client's surface with ``await``.

Calls run on worker threads (the embedded backend is SQLite plus a CPU-bound model), so
they never block the event loop, including a running Jupyter kernel's loop.
"""

from __future__ import annotations

import asyncio
import functools
import inspect
import threading
from collections.abc import AsyncIterator, Callable, Coroutine
from pathlib import Path
from typing import TYPE_CHECKING, Any, Concatenate, ParamSpec, TypeVar

from .client import Client
from .resources import Annotations, Batches, Files, Models, Prompts, Responses
from .resources.responses import PinnedPrompt, ResponseStream, ToolLoopStream
from .types import Response, StreamEvent, ToolLoopEvent

if TYPE_CHECKING:
    from .backends.base import ServerInfo
    from .cassette import Recorder

_DONE = object()


class AsyncResponseStream:
    """``async for event in stream``; ``.response`` holds the final response once done.

    Wraps a :class:`ResponseStream` (``create(stream=True)``) or a :class:`ToolLoopStream`
    (``run(stream=True)``, whose events include ``tool.call`` and ``tool.result``).
    """

    def __init__(self, stream: ResponseStream | ToolLoopStream) -> None:
        self._stream = stream
        self._stop = threading.Event()
        self._worker: asyncio.Future[None] | None = None

    @property
    def response(self) -> Response | None:
        return self._stream.response

    @property
    def text(self) -> str:
        return self._stream.text

    @property
    def error(self) -> BaseException | None:
        """:attr:`ResponseStream.error`: the engine's error, or the :class:`~llamabook.OutputInvalid` of the output."""
        return self._stream.error

    async def __aiter__(self) -> AsyncIterator[StreamEvent | ToolLoopEvent]:
        loop = asyncio.get_running_loop()
        queue: asyncio.Queue[Any] = asyncio.Queue()

        def pump() -> None:
            try:
                for event in self._stream:
                    loop.call_soon_threadsafe(queue.put_nowait, event)
                    if self._stop.is_set():
                        self._stream.close()
                        break
            except BaseException as exc:  # surfaced in the consumer
                loop.call_soon_threadsafe(queue.put_nowait, exc)
            finally:
                loop.call_soon_threadsafe(queue.put_nowait, _DONE)

        worker = self._worker = loop.run_in_executor(None, pump)
        try:
            while (item := await queue.get()) is not _DONE:
                if isinstance(item, BaseException):
                    raise item
                yield item
        finally:
            self._stop.set()
            await worker

    async def until_done(self) -> Response:
        async for _ in self:
            pass
        assert self.response is not None
        return self.response

    async def close(self) -> None:
        """Stop generating; when this returns the partial response is stored as ``incomplete``."""
        self._stop.set()
        if self._worker is not None:
            await self._worker  # it closes the stream at its next event
        else:
            self._stream.close()


_P = ParamSpec("_P")
_R = TypeVar("_R")


def _awaited(method: Callable[Concatenate[Any, _P], _R]) -> Callable[Concatenate[Any, _P], Coroutine[Any, Any, _R]]:
    """The async twin of a sync method: its parameters and docstring (``help()``, IDEs, type checkers), run
    on a worker thread by the sync object the twin's owner wraps."""
    name = method.__name__

    @functools.wraps(method)
    async def twin(self: Any, /, *args: _P.args, **kwargs: _P.kwargs) -> _R:
        return await asyncio.to_thread(getattr(self._sync, name), *args, **kwargs)

    return twin


def _twin_of(
    method: Callable[Concatenate[Any, _P], Any],
) -> Callable[[Callable[..., Coroutine[Any, Any, _R]]], Callable[Concatenate[Any, _P], Coroutine[Any, Any, _R]]]:
    """Give a hand-written twin (one that returns something else) ``method``'s parameters, keeping its own docstring."""

    def give(twin: Callable[..., Coroutine[Any, Any, _R]]) -> Callable[Concatenate[Any, _P], Coroutine[Any, Any, _R]]:
        twin.__signature__ = _signature(method, inspect.signature(twin).return_annotation)  # type: ignore[attr-defined]
        return twin

    return give


def _signature(method: Callable[..., Any], returns: Any) -> inspect.Signature:
    """``method``'s signature with another return annotation (what a hand-written twin returns)."""
    return inspect.signature(method).replace(return_annotation=returns)


class _Async:
    def __init__(self, sync: Any) -> None:
        self._sync = sync

    async def _run(self, method: str, /, *args: Any, **kwargs: Any) -> Any:
        """The sync resource's ``method`` on a worker thread (positional-only: ``name=`` is an argument of some)."""
        return await asyncio.to_thread(getattr(self._sync, method), *args, **kwargs)


class AsyncPrompts(_Async):
    """:class:`~llamabook.resources.Prompts`, awaitable."""

    save = _awaited(Prompts.save)
    find_or_create = _awaited(Prompts.find_or_create)
    default_schema = _awaited(Prompts.default_schema)
    locate = _awaited(Prompts.locate)
    get = _awaited(Prompts.get)
    diff = _awaited(Prompts.diff)
    set_label = _awaited(Prompts.set_label)
    promote = _awaited(Prompts.promote)
    remove_label = _awaited(Prompts.remove_label)
    label_history = _awaited(Prompts.label_history)
    names = _awaited(Prompts.names)
    create = _awaited(Prompts.create)
    update = _awaited(Prompts.update)
    retrieve = _awaited(Prompts.retrieve)
    list = _awaited(Prompts.list)
    versions = _awaited(Prompts.versions)
    set_default_version = _awaited(Prompts.set_default_version)
    delete = _awaited(Prompts.delete)


class AsyncFiles(_Async):
    """:class:`~llamabook.resources.Files`, awaitable."""

    create = _awaited(Files.create)
    check = _awaited(Files.check)
    upload_once = _awaited(Files.upload_once)
    list = _awaited(Files.list)
    retrieve = _awaited(Files.retrieve)
    content = _awaited(Files.content)
    delete = _awaited(Files.delete)


class AsyncPinnedPrompt(_Async):
    """:class:`~llamabook.resources.responses.PinnedPrompt`, awaitable: ``await client.responses.pin(…)``."""

    create = _awaited(PinnedPrompt.create)

    @property
    def sync(self) -> PinnedPrompt:
        """The pinned prompt this wraps (its ``prompt_id``, ``version``, ``variables``, ``template``)."""
        return self._sync  # type: ignore[no-any-return]

    def __repr__(self) -> str:
        return f"<AsyncPinnedPrompt {self._sync.prompt_id}{'' if self._sync.version is None else f'@{self._sync.version}'}>"


class AsyncResponses(_Async):
    """:class:`~llamabook.resources.Responses`, awaitable; a stream is an :class:`AsyncResponseStream`."""

    @_twin_of(Responses.create)
    async def create(self, *args: Any, **kwargs: Any) -> Response | AsyncResponseStream:
        """As :meth:`Responses.create`; with ``stream=True`` returns an :class:`AsyncResponseStream`."""
        made = await self._run("create", *args, **kwargs)
        return AsyncResponseStream(made) if isinstance(made, ResponseStream) else made

    @_twin_of(Responses.pin)
    async def pin(self, *args: Any, **kwargs: Any) -> AsyncPinnedPrompt:
        """As :meth:`Responses.pin` (the version is read on a worker thread); its ``create`` is awaited."""
        return AsyncPinnedPrompt(await self._run("pin", *args, **kwargs))

    @_twin_of(Responses.run)
    async def run(self, *args: Any, **kwargs: Any) -> Response | AsyncResponseStream:
        """As :meth:`Responses.run`, the functions run on a worker thread; with ``stream=True`` an
        :class:`AsyncResponseStream` of its events (``tool.call`` and ``tool.result`` included)."""
        made = await self._run("run", *args, **kwargs)
        return AsyncResponseStream(made) if isinstance(made, ToolLoopStream) else made

    thread = _awaited(Responses.thread)
    prepare = _awaited(Responses.prepare)
    check_variables = _awaited(Responses.check_variables)
    retrieve = _awaited(Responses.retrieve)
    list = _awaited(Responses.list)
    input_items = _awaited(Responses.input_items)
    delete = _awaited(Responses.delete)


class AsyncModels(_Async):
    """:class:`~llamabook.resources.Models`, awaitable."""

    list = _awaited(Models.list)
    retrieve = _awaited(Models.retrieve)
    default = _awaited(Models.default)


class AsyncBatches(_Async):
    """:class:`~llamabook.resources.Batches`, awaitable."""

    list = _awaited(Batches.list)
    forget = _awaited(Batches.forget)
    cancel = _awaited(Batches.cancel)


class AsyncAnnotations(_Async):
    """:class:`~llamabook.resources.Annotations`, awaitable."""

    set = _awaited(Annotations.set)
    get = _awaited(Annotations.get)
    delete = _awaited(Annotations.delete)
    list = _awaited(Annotations.list)
    attach = _awaited(Annotations.attach)


def _constructor(make: Callable[_P, Client]) -> classmethod[Any, _P, Any]:
    """An async client's twin of the sync constructor ``make`` (a classmethod of :class:`Client`): the same
    parameters and docstring, and the async client around what it makes."""

    @functools.wraps(make)
    def construct(cls: type[AsyncClient], /, *args: _P.args, **kwargs: _P.kwargs) -> AsyncClient:
        return cls._on(make(*args, **kwargs))

    # make's parameters with its cls, as construct has; it returns an AsyncClient
    construct.__signature__ = _signature(make.__func__, "AsyncClient")  # type: ignore[attr-defined]
    return classmethod(construct)


class AsyncClient:
    """The same surface as :class:`Client`, awaitable. Takes the same arguments, and has the same
    constructors: ``AsyncClient.embedded(…)``, ``AsyncClient.connect(base_url, …)``."""

    def __init__(self, home: str | Path | None = None, **kwargs: Any) -> None:
        self._wrap(Client(home, **kwargs))

    def _wrap(self, sync: Client) -> None:
        self.sync = sync
        self.backend = sync.backend
        self.prompts = AsyncPrompts(sync.prompts)
        self.files = AsyncFiles(sync.files)
        self.responses = AsyncResponses(sync.responses)
        self.models = AsyncModels(sync.models)
        self.batches = AsyncBatches(sync.batches)
        self.annotations = AsyncAnnotations(sync.annotations)

    @property
    def server(self) -> ServerInfo:
        """:attr:`Client.server` (a server is asked once, with one short blocking ``GET /v1/version``)."""
        return self.sync.server

    @property
    def cassette(self) -> Recorder | None:
        """:attr:`Client.cassette`: the cassette in use, or None."""
        return self.sync.cassette

    def use_cassette(self, cassette: str | Path | None, record: str | None = None) -> Recorder | None:
        """:meth:`Client.use_cassette` (no I/O until the next call, so not awaited)."""
        return self.sync.use_cassette(cassette, record)

    @classmethod
    def _on(cls, sync: Client) -> AsyncClient:
        """An async client around ``sync``."""
        made = cls.__new__(cls)
        made._wrap(sync)
        return made

    @property
    def _sync(self) -> Client:
        """The sync client, as the derived twins (``grid``) find it."""
        return self.sync

    #: :meth:`Client.embedded`: the embedded backend whatever ``$LLAMABOOK_BASE_URL`` says
    embedded = _constructor(Client.embedded)
    #: :meth:`Client.connect`: the server at ``base_url`` (nothing is sent until the first call)
    connect = _constructor(Client.connect)
    #: :meth:`Client.grid`, awaited on a worker thread (its calls run on its own bounded pool)
    grid = _awaited(Client.grid)

    async def aclose(self) -> None:
        self.sync.close()

    async def __aenter__(self) -> AsyncClient:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()


__all__ = ["AsyncAnnotations", "AsyncClient", "AsyncResponseStream"]
