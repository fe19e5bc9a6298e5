"""Any OpenAI-compatible chat-completions server: llama-cpp-python's, Ollama, vLLM, OpenAI.

Speaks ``/models`` and streaming ``/chat/completions`` through :mod:`.http_json` (standard
library only, so this engine needs no extra package). A JSON Schema in the options is sent
as ``response_format={"type": "json_object", "schema": ...}``, the form llama-cpp-python's
server constrains decoding with. The API key is held in memory only and never appears in
messages, logs or the database.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Iterable, Iterator
from typing import Any

from ..config import check_base_url
from ..error_translation import from_exception
from ..errors import EngineError, EngineUnavailable
from ..types.models import Model
from .base import Generation, GenerationOptions
from .http_json import JSONClient


class OpenAICompatibleEngine:
    """Chat completions over HTTP. ``accepts`` says what the server's models take (default text only)."""

    def __init__(
        self,
        base_url: str,
        api_key: str | None = None,
        *,
        models: Iterable[str] | None = None,
        accepts: Iterable[str] = ("text",),
        name: str = "openai-compatible",
        timeout: float = 600.0,
        max_retries: int = 2,
    ) -> None:
        self.base_url = check_base_url(base_url, "http(s)://host:port/v1")
        self.name = name
        self._api_key = api_key or os.environ.get("OPENAI_API_KEY") or None
        self._model_ids = list(models) if models is not None else None
        self.accepts = list(accepts)
        self.timeout = timeout
        self.max_retries = max_retries
        self._http: JSONClient | None = None
        self._http_lock = threading.Lock()

    def __repr__(self) -> str:  # never show the key
        return f"OpenAICompatibleEngine(base_url={self.base_url!r}, name={self.name!r})"

    def http(self) -> JSONClient:
        """The engine's HTTP client (created on first use)."""
        with self._http_lock:
            if self._http is None:
                try:
                    self._http = JSONClient(
                        self.base_url, self._api_key, timeout=self.timeout, max_retries=self.max_retries
                    )
                except ValueError as exc:
                    raise EngineUnavailable(f"Bad base_url {self.base_url!r}: use http(s)://host:port/v1") from exc
            return self._http

    def models(self) -> list[Model]:
        ids = self._model_ids
        if ids is None:
            listing = self._call(lambda h: h.get("/models"))
            data = listing.get("data") if isinstance(listing, dict) else None
            if not isinstance(data, list):
                raise EngineError(f"{self.base_url}/models did not answer with an OpenAI model list")
            ids = [str(m["id"]) for m in data if isinstance(m, dict) and "id" in m]
            self._model_ids = ids
        return [Model(id=i, owned_by=self.base_url, engine=self.name, accepts=list(self.accepts)) for i in ids]

    def generate(self, model: str, messages: list[dict[str, Any]], options: GenerationOptions) -> Generation:
        body: dict[str, Any] = {"model": model, "messages": messages, "temperature": options.temperature}
        if options.max_output_tokens:
            body["max_tokens"] = options.max_output_tokens
        if options.top_p is not None:
            body["top_p"] = options.top_p
        if options.json_schema is not None:
            # llama-cpp-python's server (0.3.x) constrains decoding to this form's schema; it answers
            # HTTP 500 to OpenAI's {"type": "json_schema", "json_schema": {...}} form.
            body["response_format"] = {"type": "json_object", "schema": options.json_schema}
        # Connect now: an unreachable server raises EngineUnavailable before the backend records anything.
        events = self._call(
            lambda h: h.stream("/chat/completions", {**body, "stream": True, "stream_options": {"include_usage": True}}),
            model=model,
        )
        generation = Generation()
        generation.start(self._deltas(events, model, body, generation))
        return generation

    def _deltas(
        self, events: Iterator[dict[str, Any]], model: str, body: dict[str, Any], generation: Generation
    ) -> Iterator[str]:
        chunks = 0
        try:
            for event in events:
                usage = event.get("usage")
                if usage:
                    generation.input_tokens = usage.get("prompt_tokens")
                    generation.output_tokens = usage.get("completion_tokens")
                for choice in event.get("choices") or ():
                    if choice.get("finish_reason"):
                        generation.finish_reason = choice["finish_reason"]
                    text = (choice.get("delta") or {}).get("content")
                    if text:
                        chunks += 1
                        yield text
        except Exception as exc:
            raise from_exception(exc, base_url=self.base_url, model=model, mid_stream=True) from exc
        finally:
            close = getattr(events, "close", None)
            if close:
                close()
        if generation.output_tokens is None:  # no usage in the stream (llama-cpp-python's server)
            generation.output_tokens = chunks  # such servers stream one token per chunk
            generation.usage_source = "chunks"
            generation.input_tokens = self._prompt_tokens(body)

    def _prompt_tokens(self, body: dict[str, Any]) -> int:
        """The server's own prompt token count, from a one-token non-streamed request; 0 if unknown.

        Servers that omit usage from streams still report it for plain requests, and the prompt
        was just evaluated, so a server that reuses its KV cache answers in milliseconds.
        """
        try:
            answer = self.http().post(
                "/chat/completions", {**body, "max_tokens": 1}, timeout=min(self.timeout, 30.0), retries=0
            )
            usage = answer.get("usage") if isinstance(answer, dict) else None
            return int(usage["prompt_tokens"]) if usage else 0
        except Exception:  # best effort: the response itself has already succeeded
            return 0

    def _call(self, action: Any, model: str | None = None) -> Any:
        try:
            return action(self.http())
        except Exception as exc:
            raise from_exception(exc, base_url=self.base_url, model=model) from exc
