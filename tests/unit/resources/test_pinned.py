"""Pinning a prompt version for many calls (``client.responses.pin``), and the options written once.

A pinned prompt runs with the same checks and request as ``responses.create(prompt=…)``, without
reading the version again; ``ResponseOptions`` and ``GridSpec`` are the one list of the options
that ``create``/``prepare`` and ``Client.grid`` show users, and the async twins are derived from them.
"""

from __future__ import annotations

import asyncio
import dataclasses
import inspect
from pathlib import Path
from typing import Any

import pytest

import llamabook as lb
from llamabook.aio import AsyncClient, AsyncPinnedPrompt
from llamabook.grid import GridSpec
from llamabook.resources import Responses
from llamabook.resources.responses import PinnedPrompt
from llamabook.types.requests import ResponseOptions
from support.scripted_engine import ScriptedEngine

RUN = ["self", "input", "model", "prompt", "variables", "template", "name"]  # what create runs, not how


def keyword_defaults(function: Any) -> dict[str, Any]:
    return {name: p.default for name, p in inspect.signature(function).parameters.items() if p.kind is p.KEYWORD_ONLY}


def test_create_lists_exactly_the_response_options_with_their_defaults() -> None:
    shown = {k: v for k, v in keyword_defaults(Responses.create).items() if k not in RUN and k != "stream"}
    defaults = {f.name: f.default for f in dataclasses.fields(ResponseOptions)}
    assert shown == defaults


def test_prepare_shows_the_parameters_of_create_but_stream() -> None:
    create = inspect.signature(Responses.create).parameters
    prepare = inspect.signature(Responses.prepare)
    assert list(prepare.parameters) == [name for name in create if name != "stream"]
    assert prepare.return_annotation == "ResponseRequest"


def test_the_grid_lists_exactly_the_grid_spec() -> None:
    parameters = inspect.signature(lb.Client.grid).parameters
    shown = {name: p.default for name, p in parameters.items() if p.kind is p.KEYWORD_ONLY}
    spec = {f.name: f.default for f in dataclasses.fields(GridSpec) if f.name != "options"}
    assert shown == spec
    assert parameters["options"].kind is inspect.Parameter.VAR_KEYWORD


def test_a_pinned_prompt_makes_the_same_request_as_create(quick_client: lb.Client, scripted: ScriptedEngine) -> None:
    saved = quick_client.prompts.save("tutor", "Explain {{topic}} kindly.")
    pinned = quick_client.responses.pin("tutor")
    assert (pinned.prompt_id, pinned.version, pinned.variables, pinned.template) == (
        saved.prompt_id, 1, ["topic"], "Explain {{topic}} kindly.",
    )  # fmt: skip
    direct = quick_client.responses.create(prompt="tutor@1", variables={"topic": "tides"}, instructions="Be brief.")
    again = pinned.create({"topic": "tides"}, instructions="Be brief.")
    assert again.output_text == direct.output_text
    assert scripted.calls[-1].messages == scripted.calls[-2].messages
    assert again.prompt.id == saved.prompt_id and again.prompt.version == "1"
    assert repr(pinned) == f"<PinnedPrompt {saved.prompt_id}@1>"


def test_a_pin_holds_its_version_and_reads_it_only_once(quick_client: lb.Client, monkeypatch: pytest.MonkeyPatch) -> None:
    quick_client.prompts.save("tutor", "Explain {{topic}}.")
    pinned = quick_client.responses.pin("tutor")
    quick_client.prompts.save("tutor", "Explain {{topic}} in detail.")  # version 2 is the default now
    reads: list[Any] = []
    store = quick_client.backend.prompts
    monkeypatch.setattr(store, "get", lambda *a, **k: reads.append(a) or pytest.fail("read again"))
    answers = [pinned.create({"topic": topic}) for topic in ("tides", "rust", "bees")]
    assert [r.prompt.version for r in answers] == ["1", "1", "1"]
    assert reads == []


def test_a_pinned_prompt_checks_as_create_does(quick_client: lb.Client) -> None:
    quick_client.prompts.save("tutor", "Explain {{topic}}.")
    pinned = quick_client.responses.pin("tutor")
    with pytest.raises(lb.MissingVariables):
        pinned.create({})
    with pytest.raises(lb.InvalidRequest, match="temperature must be a number between 0 and 2"):
        pinned.create({"topic": "tides"}, temperature=5)
    with pytest.raises(TypeError, match="stream"):
        pinned.create({"topic": "tides"}, stream=True)
    with pytest.raises(lb.InvalidRequest, match="not both"):
        pinned.create({"topic": "tides"}, options=ResponseOptions(), temperature=0)


def test_one_options_value_serves_many_calls(quick_client: lb.Client) -> None:
    quick_client.prompts.save("tutor", "Explain {{topic}}.")
    pinned = quick_client.responses.pin("tutor")
    options = ResponseOptions(max_output_tokens=2, metadata={"run": "a"})
    answers = [pinned.create({"topic": topic}, options=options) for topic in ("tides", "rust")]
    assert [(r.max_output_tokens, r.metadata, r.cut_off) for r in answers] == [(2, {"run": "a"}, True)] * 2


def test_prepare_refuses_an_option_it_does_not_know(quick_client: lb.Client) -> None:
    with pytest.raises(TypeError, match=r"prepare\(\) got unexpected keyword argument\(s\) \['stream'\]"):
        quick_client.responses.prepare(input="hi", stream=True)


def test_pinning_is_awaitable_and_so_is_its_create(tmp_path: Path) -> None:
    async def main() -> None:
        async with AsyncClient.embedded(tmp_path / "home", engine=ScriptedEngine()) as client:
            await client.prompts.save("tutor", "Explain {{topic}}.")
            pinned = await client.responses.pin("tutor@1")
            assert isinstance(pinned, AsyncPinnedPrompt) and isinstance(pinned.sync, PinnedPrompt)
            response = await pinned.create({"topic": "tides"}, temperature=0)
            assert response.prompt.version == "1" and "tides" in response.output_text

    asyncio.run(main())
    assert inspect.iscoroutinefunction(AsyncPinnedPrompt.create)
    assert inspect.signature(AsyncPinnedPrompt.create) == inspect.signature(PinnedPrompt.create)
