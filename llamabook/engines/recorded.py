"""An engine that records its generations to a cassette, or replays them without a model.

The local backend wraps each of its engines in a :class:`RecordedEngine` when a client has
a cassette. A request is the model, the exact messages the engine would get and the
sampling options (with the JSON Schema of constrained decoding, when there is one); a
replayed generation yields the recorded deltas, usage and finish reason, and never loads
the model (``llama_cpp`` is not even imported); it says so (``Generation.replayed``), and the
response made from it is ``replayed``, with no latency.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from dataclasses import asdict
from typing import Any

from ..cassette import Recorder, summarize
from ..media import redact_inline_data
from ..types.models import Model
from .base import Engine, Generation, GenerationOptions, check_output_schema, check_tools


class RecordedEngine:
    """``inner`` behind a cassette: same name and models, generations replayed when recorded."""

    def __init__(self, inner: Engine, recorder: Recorder) -> None:
        self.inner = inner
        self.recorder = recorder
        self.name = inner.name
        self._models: list[Model] | None = None
        self._models_lock = threading.Lock()  # the listing is played (or recorded) once, not once per thread

    def __repr__(self) -> str:
        return f"RecordedEngine({self.inner!r}, {self.recorder.describe()})"

    def models(self) -> list[Model]:
        """The inner engine's models, recorded once per cassette (replayed, they need no server)."""
        with self._models_lock:
            return list(self._listed())

    def _listed(self) -> list[Model]:
        if self._models is None:
            material = {"engine": self.name}
            recorded = self.recorder.play("models", material, repeatable=True)
            if recorded is not None:
                self._models = [Model.model_validate(m) for m in recorded["models"]]
            else:
                # Listing models is not a model call: in "none" mode an engine that can list offline may.
                self._models = self.inner.models()
                if self.recorder.mode != "none":
                    listed = {"models": [m.model_dump(mode="json") for m in self._models]}
                    self.recorder.record("models", material, material, listed)
        return self._models

    def check_output_schema(self, schema: dict[str, Any]) -> None:
        """The inner engine's check when it constrains its output (it needs no model: a replay loads none)."""
        check_output_schema(self.inner, schema)

    def check_tools(
        self, tools: list[dict[str, Any]] | None, tool_choice: str | dict[str, Any] | None, model: str
    ) -> None:
        """The inner engine's check of the tools (:class:`ToolsUnsupported` when it takes none)."""
        check_tools(self.inner, tools, tool_choice, model)

    def generate(self, model: str, messages: list[dict[str, Any]], options: GenerationOptions) -> Generation:
        material = {"engine": self.name, "model": model, "messages": messages, "options": _keyed_options(options)}
        recorded = self.recorder.play("generation", material, repeatable=True)
        if recorded is not None:
            return _replayed(recorded)
        if self.recorder.mode == "none":
            raise self.recorder.miss(f"a generation by {model} for {summarize(_last_text(messages))}")
        shown = {**material, "messages": redact_inline_data(messages), "options": asdict(options)}
        if options.json_schema is None:
            shown["options"].pop("json_schema")
        for name in ("seed", "tools", "tool_choice"):
            if shown["options"][name] is None:
                shown["options"].pop(name)
        live = self.inner.generate(model, messages, options)
        generation = Generation()
        generation.start(self._recording(live, generation, material, shown))
        return generation

    def _recording(
        self, live: Generation, outer: Generation, material: dict[str, Any], shown: dict[str, Any]
    ) -> Iterator[str]:
        deltas: list[str] = []
        try:
            for delta in live:
                deltas.append(delta)
                yield delta
        except GeneratorExit:
            live.close()  # stopped by the caller: stop the model too
            raise
        finally:
            outer.input_tokens, outer.output_tokens = live.input_tokens, live.output_tokens
            outer.finish_reason, outer.usage_source = live.finish_reason, live.usage_source
        # Only a generation that ran to its end is recorded: a stopped or failed one is not an answer.
        self.recorder.record(
            "generation",
            material,
            shown,
            {
                "deltas": deltas,
                "input_tokens": live.input_tokens,
                "output_tokens": live.output_tokens,
                "finish_reason": live.finish_reason,
                "usage_source": live.usage_source,
            },
        )


def _keyed_options(options: GenerationOptions) -> dict[str, Any]:
    """The options as a generation's key has them.

    Without a schema (nor a seed, tools or a tool choice) they are what they were before those
    existed, so older cassettes still replay. A schema is keyed as its JSON text: its key order is the order of the keys the
    model writes, which a sorted canonical form would lose.
    """
    keyed = asdict(options)
    for name in ("seed", "tools", "tool_choice"):  # unset: keyed as before they could be given
        if keyed[name] is None:
            del keyed[name]
    schema = keyed.pop("json_schema")
    if schema is not None:
        keyed["json_schema"] = json.dumps(schema, ensure_ascii=False)
    return keyed


def _replayed(recorded: dict[str, Any]) -> Generation:
    generation = Generation(iter(list(recorded["deltas"])))
    generation.input_tokens = recorded.get("input_tokens")
    generation.output_tokens = recorded.get("output_tokens")
    generation.finish_reason = recorded.get("finish_reason")
    generation.usage_source = recorded.get("usage_source") or "model"
    generation.replayed = True
    return generation


def _last_text(messages: list[dict[str, Any]]) -> str:
    """The text of the last user message (or of the last message), for a miss's summary."""
    users = [m for m in messages if m.get("role") == "user"] or messages[-1:]
    content = users[-1].get("content") if users else ""
    if isinstance(content, list):
        return " ".join(p.get("text", "") for p in content if isinstance(p, dict))
    return str(content or "")
