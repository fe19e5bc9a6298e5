"""AsyncClient on the embedded model, driven by plain ``asyncio.run`` (no pytest plugin)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import TypeVar

import pytest

import llamabook as lb
from llamabook.engines.embedded import EmbeddedEngine

pytestmark = pytest.mark.model

QUESTION = "What is the capital of Ireland?"
T = TypeVar("T")


def run(tmp_path: Path, engine: EmbeddedEngine, body: Callable[[lb.AsyncClient], Awaitable[T]]) -> T:
    """Run ``body(client)`` on a fresh event loop with an AsyncClient over ``tmp_path``."""

    async def main() -> T:
        async with lb.AsyncClient(tmp_path, engine=engine) as client:
            return await body(client)

    return asyncio.run(main())


def test_prompts_create_update_and_versions(tmp_path: Path, engine: EmbeddedEngine) -> None:
    async def body(client: lb.AsyncClient) -> tuple[lb.Prompt, lb.Prompt, list[lb.Prompt], lb.Prompt]:
        p = await client.prompts.create("Hello {{name}}!", variables=["name"])
        p2 = await client.prompts.update(
            p.prompt_id, prompt="Hi {{name}} from {{org}}", version=1, variables=["name", "org"]
        )
        versions = list(await client.prompts.versions(p.prompt_id))
        return p, p2, versions, await client.prompts.retrieve(p.prompt_id)

    p, p2, versions, current = run(tmp_path, engine, body)
    assert (p.version, p.variables) == (1, ["name"])
    assert (p2.prompt_id, p2.version, p2.variables, p2.is_default) == (p.prompt_id, 2, ["name", "org"], True)
    assert [(v.version, v.prompt, v.is_default) for v in versions] == [
        (1, "Hello {{name}}!", False),
        (2, "Hi {{name}} from {{org}}", True),
    ]
    assert current == p2


def test_files_round_trip_exact_bytes(tmp_path: Path, engine: EmbeddedEngine) -> None:
    payload = bytes(range(256)) + b"\r\n\x00 end"

    async def body(client: lb.AsyncClient) -> tuple[lb.File, bytes, list[lb.File]]:
        f = await client.files.create(payload, filename="all-bytes.bin")
        return f, await client.files.content(f.id), list(await client.files.list())

    f, content, listed = run(tmp_path, engine, body)
    assert content == payload
    assert (f.filename, f.bytes, f.purpose) == ("all-bytes.bin", len(payload), "assistants")
    assert [x.id for x in listed] == [f.id]


def test_create_answers_and_is_stored(tmp_path: Path, engine: EmbeddedEngine) -> None:
    async def body(client: lb.AsyncClient) -> tuple[lb.Response, lb.Response]:
        r = await client.responses.create(QUESTION)
        return r, await client.responses.retrieve(r.id)

    r, stored = run(tmp_path, engine, body)
    assert isinstance(r, lb.Response) and r.status == "completed"
    assert "Dublin" in r.output_text
    assert r.usage.input_tokens > 10 and r.usage.output_tokens > 3
    assert stored.output_text == r.output_text and stored.usage == r.usage


def test_stream_deltas_add_up_to_the_stored_response(tmp_path: Path, engine: EmbeddedEngine) -> None:
    async def body(client: lb.AsyncClient) -> tuple[list[str], list[str], lb.AsyncResponseStream, lb.Response]:
        stream = await client.responses.create(QUESTION, stream=True)
        assert isinstance(stream, lb.AsyncResponseStream)
        types: list[str] = []
        deltas: list[str] = []
        async for event in stream:
            types.append(event.type)
            if event.type == "response.output_text.delta":
                deltas.append(event.delta)
        assert stream.response is not None
        return types, deltas, stream, await client.responses.retrieve(stream.response.id)

    types, deltas, stream, stored = run(tmp_path, engine, body)
    assert types[0] == "response.created" and types[-1] == "response.completed"
    assert len(deltas) > 3
    final = stream.response
    assert final is not None and final.status == "completed"
    assert "".join(deltas) == final.output_text == stream.text == stored.output_text
    assert "Dublin" in final.output_text


def test_closing_a_stream_early_stores_it_as_incomplete(tmp_path: Path, engine: EmbeddedEngine) -> None:
    async def body(client: lb.AsyncClient) -> tuple[str, list[lb.Response]]:
        stream = await client.responses.create("Tell a long story about a dragon.", stream=True, max_output_tokens=200)
        assert isinstance(stream, lb.AsyncResponseStream)
        async for event in stream:
            if event.type == "response.output_text.delta" and len(stream.text) > 10:
                break
        await stream.close()
        return stream.text, list(await client.responses.list())  # listed right after close()

    text, listed = run(tmp_path, engine, body)
    assert [(r.status, r.incomplete_details) for r in listed] == [("incomplete", {"reason": "cancelled"})]
    assert listed[0].output_text.startswith(text) and 0 < listed[0].usage.output_tokens < 200


def test_gather_runs_three_creates_and_stores_each(tmp_path: Path, engine: EmbeddedEngine) -> None:
    questions = [QUESTION, "What is the capital of France?", "Name a colour."]

    async def body(client: lb.AsyncClient) -> tuple[list[lb.Response], list[lb.Response]]:
        made = await asyncio.gather(*(client.responses.create(q, max_output_tokens=16) for q in questions))
        return list(made), list(await client.responses.list())

    made, listed = run(tmp_path, engine, body)
    assert len({r.id for r in made}) == 3
    assert {r.id for r in listed} == {r.id for r in made}
    for question, r in zip(questions, made):  # each answer belongs to its own question
        assert r.rendered_messages[-1] == {"role": "user", "content": question}
        assert r.output_text.strip() and r.usage.output_tokens > 0


def test_generation_does_not_block_the_event_loop(tmp_path: Path, engine: EmbeddedEngine) -> None:
    async def body(client: lb.AsyncClient) -> dict[str, tuple[float, float, list[float]]]:
        ticks: list[float] = []
        stop = asyncio.Event()

        async def ticker() -> None:
            while not stop.is_set():
                ticks.append(time.perf_counter())
                await asyncio.sleep(0.01)

        await client.responses.create("Hi", max_output_tokens=2)  # model loaded before timing
        task = asyncio.create_task(ticker())
        windows: dict[str, tuple[float, float, list[float]]] = {}
        prompt = "Write four sentences about the sea."
        start = time.perf_counter()
        await client.responses.create(prompt, max_output_tokens=48)
        windows["create"] = (start, time.perf_counter(), [])
        start = time.perf_counter()
        stream = await client.responses.create(prompt, max_output_tokens=48, stream=True)
        assert isinstance(stream, lb.AsyncResponseStream)
        await stream.until_done()
        windows["stream"] = (start, time.perf_counter(), [])
        stop.set()
        await task
        for begin, end, inside in windows.values():
            inside.extend(t for t in ticks if begin <= t <= end)
        return windows

    for name, (begin, end, inside) in run(tmp_path, engine, body).items():
        elapsed = end - begin
        assert elapsed > 0.15, f"{name}: generation too quick ({elapsed:.3f} s) to show anything"
        assert len(inside) >= 5, f"{name}: {len(inside)} ticks in {elapsed:.3f} s"
        longest = max(b - a for a, b in zip([begin, *inside], [*inside, end]))
        assert longest < elapsed / 2, f"{name}: loop stalled {longest:.3f} s of {elapsed:.3f} s"
