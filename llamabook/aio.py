"""``AsyncClient``: the Client's surface with ``await``.

Calls run on worker threads (the embedded backend is SQLite plus a CPU-bound model), so
they never block the event loop, including a running Jupyter kernel's loop.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import AsyncIterator, Iterable
from pathlib import Path
from typing import Any

from .client import Client
from .resources.responses import ResponseStream
from .types import DeletedObject, File, InputItem, Model, ObjectList, Prompt, Response, StreamEvent

_DONE = object()


class AsyncResponseStream:
    """``async for event in stream``; ``.response`` holds the final response once done."""

    def __init__(self, stream: ResponseStream) -> None:
        self._stream = stream
        self._stop = threading.Event()
        self._worker: asyncio.Future[None] | None = None

    @property
    def response(self) -> Response | None:
        return self._stream.response

    @property
    def text(self) -> str:
        return self._stream.text

    async def __aiter__(self) -> AsyncIterator[StreamEvent]:
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


class _Async:
    def __init__(self, sync: Any) -> None:
        self._sync = sync

    async def _run(self, name: str, *args: Any, **kwargs: Any) -> Any:
        return await asyncio.to_thread(getattr(self._sync, name), *args, **kwargs)


class AsyncPrompts(_Async):
    async def create(self, prompt: str, variables: Iterable[str] | None = None) -> Prompt:
        return await self._run("create", prompt, variables)

    async def update(self, prompt_id: str, **kwargs: Any) -> Prompt:
        return await self._run("update", prompt_id, **kwargs)

    async def retrieve(self, prompt_id: str, version: int | None = None) -> Prompt:
        return await self._run("retrieve", prompt_id, version)

    async def list(self) -> ObjectList[Prompt]:
        return await self._run("list")

    async def versions(self, prompt_id: str) -> ObjectList[Prompt]:
        return await self._run("versions", prompt_id)

    async def set_default_version(self, prompt_id: str, version: int) -> Prompt:
        return await self._run("set_default_version", prompt_id, version)

    async def delete(self, prompt_id: str) -> None:
        return await self._run("delete", prompt_id)


class AsyncFiles(_Async):
    async def create(self, file: Any, purpose: str = "assistants", *, filename: str | None = None) -> File:
        return await self._run("create", file, purpose, filename=filename)

    async def list(self, **kwargs: Any) -> ObjectList[File]:
        return await self._run("list", **kwargs)

    async def retrieve(self, file_id: str) -> File:
        return await self._run("retrieve", file_id)

    async def content(self, file_id: str) -> bytes:
        return await self._run("content", file_id)

    async def delete(self, file_id: str) -> DeletedObject:
        return await self._run("delete", file_id)


class AsyncResponses(_Async):
    async def create(
        self, input: str | list[dict[str, Any]] | None = None, *, stream: bool = False, **kwargs: Any
    ) -> Response | AsyncResponseStream:
        """As :meth:`Responses.create`; with ``stream=True`` returns an :class:`AsyncResponseStream`."""
        if stream:
            sync_stream = await self._run("create", input, stream=True, **kwargs)
            return AsyncResponseStream(sync_stream)
        return await self._run("create", input, **kwargs)

    async def retrieve(self, response_id: str) -> Response:
        return await self._run("retrieve", response_id)

    async def list(self, **kwargs: Any) -> ObjectList[Response]:
        return await self._run("list", **kwargs)

    async def input_items(self, response_id: str, **kwargs: Any) -> ObjectList[InputItem]:
        return await self._run("input_items", response_id, **kwargs)

    async def delete(self, response_id: str) -> DeletedObject:
        return await self._run("delete", response_id)


class AsyncModels(_Async):
    async def list(self) -> ObjectList[Model]:
        return await self._run("list")

    async def retrieve(self, model_id: str) -> Model:
        return await self._run("retrieve", model_id)


class AsyncClient:
    """The same surface as :class:`Client`, awaitable. Takes the same arguments."""

    def __init__(self, home: str | Path | None = None, **kwargs: Any) -> None:
        self.sync = Client(home, **kwargs)
        self.prompts = AsyncPrompts(self.sync.prompts)
        self.files = AsyncFiles(self.sync.files)
        self.responses = AsyncResponses(self.sync.responses)
        self.models = AsyncModels(self.sync.models)

    @property
    def server(self) -> Any:
        """:attr:`Client.server` (a server is asked once, with one short blocking ``GET /v1/version``)."""
        return self.sync.server

    @property
    def cassette(self) -> Any:
        """:attr:`Client.cassette`: the cassette in use, or None."""
        return self.sync.cassette

    def use_cassette(self, cassette: str | Path | None, record: str | None = None) -> Any:
        """:meth:`Client.use_cassette` (no I/O until the next call, so not awaited)."""
        return self.sync.use_cassette(cassette, record)

    async def grid(self, prompt_or_template: Any, rows: Any, **kwargs: Any) -> Any:
        """:meth:`Client.grid`, awaited on a worker thread (its calls run on its own bounded pool)."""
        return await asyncio.to_thread(self.sync.grid, prompt_or_template, rows, **kwargs)

    async def aclose(self) -> None:
        self.sync.close()

    async def __aenter__(self) -> AsyncClient:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()


__all__ = ["AsyncClient", "AsyncResponseStream"]
