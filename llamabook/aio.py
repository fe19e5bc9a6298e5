"""``AsyncClient``: the Client's surface with ``await``.

Calls run on worker threads (the embedded backend is SQLite plus a CPU-bound model), so
they never block the event loop, including a running Jupyter kernel's loop.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import AsyncIterator, Iterable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .client import Client
from .resources.responses import ResponseStream
from .types import Batch, DeletedObject, File, InputItem, LabelMove, Model, ObjectList, Prompt, Response, StreamEvent

if TYPE_CHECKING:
    import pandas

    from .backends.base import ServerInfo
    from .cassette import Recorder
    from .diffs import PromptDiff
    from .engines.base import Engine
    from .schemas import ResolvedSchema
    from .store import GridBatch
    from .resources.files import FileInput
    from .types.refs import PromptRef
    from .types.requests import ResponseRequest

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

    @property
    def error(self) -> BaseException | None:
        """:attr:`ResponseStream.error`: the engine's error, or the :class:`~llamabook.OutputInvalid` of the output."""
        return self._stream.error

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

    async def _run(self, method: str, /, *args: Any, **kwargs: Any) -> Any:
        """The sync resource's ``method`` on a worker thread (positional-only: ``name=`` is an argument of some)."""
        return await asyncio.to_thread(getattr(self._sync, method), *args, **kwargs)


class AsyncPrompts(_Async):
    """:class:`~llamabook.resources.Prompts`, awaitable."""

    async def save(
        self,
        name: str | None,
        template: str,
        variables: Iterable[str] | None = None,
        *,
        base_version: int | None = None,
        schema: Any = None,
    ) -> Prompt:
        return await self._run("save", name, template, variables, base_version=base_version, schema=schema)

    async def find_or_create(self, prompt: str, variables: Iterable[str] | None = None) -> Prompt:
        return await self._run("find_or_create", prompt, variables)

    async def default_schema(self, ref: str | Prompt | PromptRef) -> ResolvedSchema | None:
        return await self._run("default_schema", ref)

    async def locate(self, ref: str | Prompt | PromptRef) -> tuple[str, int | None]:
        return await self._run("locate", ref)

    async def get(self, ref: str | Prompt | PromptRef) -> Prompt:
        return await self._run("get", ref)

    async def diff(self, a: str | Prompt | PromptRef, b: str | Prompt | PromptRef) -> PromptDiff:
        return await self._run("diff", a, b)

    async def set_label(self, ref: str | Prompt, label: str, version: int | None = None) -> Prompt:
        return await self._run("set_label", ref, label, version)

    async def remove_label(self, ref: str | Prompt, label: str) -> None:
        return await self._run("remove_label", ref, label)

    async def label_history(self, ref: str | Prompt) -> ObjectList[LabelMove]:
        return await self._run("label_history", ref)

    async def names(self) -> dict[str, str]:
        return await self._run("names")

    async def create(self, prompt: str, variables: Iterable[str] | None = None, *, name: str | None = None) -> Prompt:
        return await self._run("create", prompt, variables, name=name)

    async def update(
        self,
        ref: str | Prompt,
        *,
        prompt: str,
        version: int,
        variables: Iterable[str] | None = None,
        set_as_default: bool = True,
    ) -> Prompt:
        return await self._run(
            "update", ref, prompt=prompt, version=version, variables=variables, set_as_default=set_as_default
        )

    async def retrieve(self, prompt_id: str, version: int | None = None) -> Prompt:
        return await self._run("retrieve", prompt_id, version)

    async def list(self) -> ObjectList[Prompt]:
        return await self._run("list")

    async def versions(self, ref: str | Prompt) -> ObjectList[Prompt]:
        return await self._run("versions", ref)

    async def set_default_version(self, ref: str | Prompt, version: int) -> Prompt:
        return await self._run("set_default_version", ref, version)

    async def delete(self, ref: str | Prompt) -> None:
        return await self._run("delete", ref)


class AsyncFiles(_Async):
    """:class:`~llamabook.resources.Files`, awaitable."""

    async def create(self, file: FileInput, purpose: str = "assistants", *, filename: str | None = None) -> File:
        return await self._run("create", file, purpose, filename=filename)

    async def check(self, data: bytes, filename: str) -> None:
        return await self._run("check", data, filename)

    async def upload_once(self, data: bytes, filename: str, purpose: str = "assistants") -> File:
        return await self._run("upload_once", data, filename, purpose)

    async def list(
        self, *, purpose: str | None = None, order: str = "desc", limit: int = 10_000, after: str | None = None
    ) -> ObjectList[File]:
        return await self._run("list", purpose=purpose, order=order, limit=limit, after=after)

    async def retrieve(self, file_id: str) -> File:
        return await self._run("retrieve", file_id)

    async def content(self, file_id: str) -> bytes:
        return await self._run("content", file_id)

    async def delete(self, file_id: str) -> DeletedObject:
        return await self._run("delete", file_id)


class AsyncResponses(_Async):
    """:class:`~llamabook.resources.Responses`, awaitable; a stream is an :class:`AsyncResponseStream`."""

    async def create(
        self,
        input: str | list[dict[str, Any]] | None = None,
        *,
        model: str | None = None,
        prompt: Any = None,
        variables: Mapping[str, Any] | None = None,
        template: str | None = None,
        name: str | None = None,
        instructions: str | None = None,
        stream: bool = False,
        strict: bool = True,
        temperature: float | None = None,
        top_p: float | None = None,
        max_output_tokens: int | None = None,
        metadata: Mapping[str, str] | None = None,
        previous_response_id: str | None = None,
        store: bool = True,
        describe_images: bool = False,
        pdf_to_text: bool | None = None,
        text: Mapping[str, Any] | None = None,
        schema: Any = None,
    ) -> Response | AsyncResponseStream:
        """As :meth:`Responses.create`; with ``stream=True`` returns an :class:`AsyncResponseStream`."""
        options = dict(
            model=model, prompt=prompt, variables=variables, template=template, name=name, instructions=instructions,
            strict=strict, temperature=temperature, top_p=top_p, max_output_tokens=max_output_tokens, metadata=metadata,
            previous_response_id=previous_response_id, store=store, describe_images=describe_images,
            pdf_to_text=pdf_to_text, text=text, schema=schema,
        )  # fmt: skip
        if stream:
            return AsyncResponseStream(await self._run("create", input, stream=True, **options))
        return await self._run("create", input, **options)

    async def prepare(
        self,
        input: str | list[dict[str, Any]] | None = None,
        *,
        model: str | None = None,
        prompt: Any = None,
        variables: Mapping[str, Any] | None = None,
        template: str | None = None,
        name: str | None = None,
        strict: bool = True,
        describe_images: bool = False,
        pdf_to_text: bool | None = None,
        text: Mapping[str, Any] | None = None,
        schema: Any = None,
        **options: Any,
    ) -> ResponseRequest:
        return await self._run(
            "prepare", input, model=model, prompt=prompt, variables=variables, template=template, name=name,
            strict=strict, describe_images=describe_images, pdf_to_text=pdf_to_text, text=text, schema=schema,
            **options,
        )  # fmt: skip

    async def check_variables(
        self,
        variables: Mapping[str, Any],
        *,
        model: str | None = None,
        describe_images: bool = False,
        pdf_to_text: bool | None = None,
    ) -> None:
        return await self._run(
            "check_variables", variables, model=model, describe_images=describe_images, pdf_to_text=pdf_to_text
        )

    async def retrieve(self, response_id: str) -> Response:
        return await self._run("retrieve", response_id)

    async def list(
        self, *, limit: int = 50, order: str = "desc", after: str | None = None, model: str | None = None
    ) -> ObjectList[Response]:
        return await self._run("list", limit=limit, order=order, after=after, model=model)

    async def input_items(self, response_id: str, *, limit: int = 20, order: str = "desc") -> ObjectList[InputItem]:
        return await self._run("input_items", response_id, limit=limit, order=order)

    async def delete(self, response_id: str) -> DeletedObject:
        return await self._run("delete", response_id)


class AsyncModels(_Async):
    """:class:`~llamabook.resources.Models`, awaitable."""

    async def list(self) -> ObjectList[Model]:
        return await self._run("list")

    async def retrieve(self, model_id: str) -> Model:
        return await self._run("retrieve", model_id)

    async def default(self) -> str:
        return await self._run("default")


class AsyncBatches(_Async):
    """:class:`~llamabook.resources.Batches`, awaitable."""

    async def list(self) -> list[GridBatch]:
        return await self._run("list")

    async def forget(self, batch_id: str) -> None:
        return await self._run("forget", batch_id)

    async def cancel(self, batch_id: str) -> Batch:
        return await self._run("cancel", batch_id)


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
    def embedded(
        cls,
        home: str | Path | None = None,
        *,
        engine: Engine | None = None,
        engines: Sequence[Engine] | None = None,
        max_file_bytes: int | None = None,
        cassette: str | Path | None = None,
        record: str | None = None,
        prices: Mapping[str, tuple[float, float]] | None = None,
    ) -> AsyncClient:
        """:meth:`Client.embedded`: the embedded backend whatever ``$LLAMABOOK_BASE_URL`` says."""
        return cls._on(Client.embedded(
            home, engine=engine, engines=engines, max_file_bytes=max_file_bytes, cassette=cassette, record=record,
            prices=prices,
        ))  # fmt: skip

    @classmethod
    def connect(
        cls,
        base_url: str,
        *,
        api_key: str | None = None,
        home: str | Path | None = None,
        model_accepts: dict[str, list[str]] | None = None,
        model: str | None = None,
        prompts: str = "auto",
        cassette: str | Path | None = None,
        record: str | None = None,
        prices: Mapping[str, tuple[float, float]] | None = None,
    ) -> AsyncClient:
        """:meth:`Client.connect`: the server at ``base_url`` (nothing is sent until the first call)."""
        return cls._on(Client.connect(
            base_url, api_key=api_key, home=home, model_accepts=model_accepts, model=model, prompts=prompts,
            cassette=cassette, record=record, prices=prices,
        ))  # fmt: skip

    @classmethod
    def _on(cls, sync: Client) -> AsyncClient:
        """An async client around ``sync``."""
        made = cls.__new__(cls)
        made._wrap(sync)
        return made

    async def grid(
        self,
        prompt_or_template: Any,
        rows: Any,
        *,
        versions: Sequence[int] | None = None,
        models: Sequence[str] | None = None,
        concurrency: int = 4,
        progress: bool = True,
        cache: bool = True,
        retries: int = 3,
        checks: Mapping[str, Any] | None = None,
        schema: Any = None,
        schema_prefix: str | None = None,
        executor: str = "threads",
        path: str | Path | None = None,
        batch_output: str | Path | Sequence[str | Path] | None = None,
        batch_timeout: float | None = None,
        batch_stall: float | None = None,
        resume: bool = True,
        **options: Any,
    ) -> pandas.DataFrame:
        """:meth:`Client.grid`, awaited on a worker thread (its calls run on its own bounded pool)."""
        return await asyncio.to_thread(
            self.sync.grid, prompt_or_template, rows, versions=versions, models=models, concurrency=concurrency,
            progress=progress, cache=cache, retries=retries, checks=checks, schema=schema,
            schema_prefix=schema_prefix, executor=executor, path=path, batch_output=batch_output,
            batch_timeout=batch_timeout, batch_stall=batch_stall, resume=resume, **options,
        )  # fmt: skip

    async def aclose(self) -> None:
        self.sync.close()

    async def __aenter__(self) -> AsyncClient:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()


__all__ = ["AsyncClient", "AsyncResponseStream"]
