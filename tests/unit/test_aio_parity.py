"""Every public method of the Client and its resources has an AsyncClient twin with the same signature.

A twin is a coroutine function, except where the list below says why not. A method added to the
Client without its twin (or with other parameters) fails here, not in a user's notebook.
"""

from __future__ import annotations

import asyncio
import inspect
from pathlib import Path
from typing import Any

import pytest

import llamabook as lb
from llamabook.aio import (
    AsyncAnnotations, AsyncBatches, AsyncClient, AsyncFiles, AsyncModels, AsyncPrompts, AsyncResponses,
)  # fmt: skip
from llamabook.client import Client
from llamabook.resources import Annotations, Batches, Files, Models, Prompts, Responses
from support.scripted_engine import ScriptedEngine

PAIRS = [(Client, AsyncClient), (Prompts, AsyncPrompts), (Files, AsyncFiles), (Responses, AsyncResponses), (Models, AsyncModels),
         (Batches, AsyncBatches), (Annotations, AsyncAnnotations)]

#: (sync class, name) → why its twin differs
DIFFERENT = {
    (Client, "close"): "awaitable as AsyncClient.aclose() (and `async with`), as httpx names it",
}
#: twins that are not coroutine functions, and why
NOT_AWAITED = {
    (Client, "use_cassette"): "it only swaps the recorder; no I/O happens until the next call",
    (Client, "embedded"): "a constructor (classmethod), as AsyncClient() itself is",
    (Client, "connect"): "a constructor (classmethod) that sends nothing, as AsyncClient() itself is",
    (Client, "server"): "a property: one short GET /v1/version, asked once and kept",
    (Client, "cassette"): "a property: the recorder in use, no I/O",
}
#: public names only the async side has
ASYNC_ONLY = {"aclose", "sync"}


def public(cls: type) -> dict[str, Any]:
    return {name: value for name, value in vars(cls).items() if not name.startswith("_")}


def parameters(function: Any) -> list[tuple[str, Any, Any]]:
    """(name, kind, default) of each parameter, ``self``/``cls`` left out."""
    target = function.fget if isinstance(function, property) else getattr(function, "__func__", function)
    params = list(inspect.signature(target).parameters.values())[1:]
    return [(p.name, p.kind, p.default) for p in params]


@pytest.mark.parametrize(("sync_cls", "async_cls"), PAIRS, ids=[s.__name__ for s, _ in PAIRS])
def test_every_public_method_has_an_async_twin_with_the_same_signature(sync_cls: type, async_cls: type) -> None:
    twins = public(async_cls)
    for name, method in public(sync_cls).items():
        if (sync_cls, name) in DIFFERENT:
            continue
        assert name in twins, f"{async_cls.__name__} lacks {name}() of {sync_cls.__name__}"
        twin = twins[name]
        assert parameters(twin) == parameters(method), f"{async_cls.__name__}.{name} differs from {sync_cls.__name__}.{name}"
        awaited = inspect.iscoroutinefunction(getattr(twin, "__func__", twin))
        assert awaited is ((sync_cls, name) not in NOT_AWAITED), f"{async_cls.__name__}.{name}: awaitable or not?"
    extra = set(twins) - set(public(sync_cls)) - ASYNC_ONLY
    assert extra == set(), f"{async_cls.__name__} has methods the sync side lacks: {sorted(extra)}"


def test_the_listed_exceptions_exist_and_are_explained() -> None:
    for (cls, name), why in {**DIFFERENT, **NOT_AWAITED}.items():
        assert name in public(cls) and len(why) > 20
    assert inspect.iscoroutinefunction(AsyncClient.aclose)


def test_an_async_twin_calls_its_sync_method_with_the_same_arguments(tmp_path: Path) -> None:
    """The twins forward what they are given: the same prompt, name and version come back."""

    async def main() -> None:
        async with AsyncClient.embedded(tmp_path / "home", engine=ScriptedEngine()) as client:
            saved = await client.prompts.save("tutor", "Be {{tone}}.")
            again = await client.prompts.save("tutor", "Be {{tone}}.")
            newer = await client.prompts.save("tutor", "Be very {{tone}}.")
            got = await client.prompts.get("tutor@1")
            assert (saved.version, again.version, newer.version, got.prompt) == (1, 1, 2, "Be {{tone}}.")
            assert await client.prompts.locate("tutor") == (saved.prompt_id, None)
            assert await client.prompts.names() == {"tutor": saved.prompt_id}
            file = await client.files.upload_once(b"notes", "notes.txt")
            assert (await client.files.upload_once(b"notes", "other.txt")).id == file.id
            assert await client.models.default() == (await client.models.list())[0].id
            request = await client.responses.prepare(prompt="tutor", variables={"tone": "kind"})
            assert request.prompt is not None and request.prompt.version == "2"
            with pytest.raises(lb.InvalidVariable, match="cannot type"):
                await client.responses.check_variables({"x": object()})

    asyncio.run(main())
