"""Any OpenAI-compatible chat-completions server: llama-cpp-python's, Ollama, vLLM, OpenAI.

Speaks ``/models`` and streaming ``/chat/completions`` through :mod:`.http_json` (standard
library only, so this engine needs no extra package). A JSON Schema in the options is sent in
OpenAI's form, ``response_format={"type": "json_schema", "json_schema": {"name", "schema",
"strict"}}`` (OpenAI, vLLM, Ollama), unless the server is declared (``schema_form="json_object"``)
or found to want llama-cpp-python's ``{"type": "json_object", "schema": ...}``: with the default
``schema_form="auto"``, a server that refuses the first form as a malformed request (llama-cpp-python's
answers HTTP 500 naming ``response_format.type``; nothing was generated) is sent the second, and the
engine keeps to it. The API key is held in memory only and never appears in messages, logs or the
database.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Iterable, Iterator
from typing import Any

from ..config import check_base_url
from ..error_translation import from_exception
from ..errors import EngineError, EngineUnavailable, InvalidRequest, OutputFormatUnsupported
from ..types.models import Model
from .base import Generation, GenerationOptions
from .http_json import JSONClient

#: How a JSON Schema is sent: found out on the first request (``auto``), or as declared.
SCHEMA_FORMS = ("auto", "json_schema", "json_object")


def response_format(schema: dict[str, Any], form: str) -> dict[str, Any]:
    """``response_format`` for ``schema``: OpenAI's ``json_schema`` form, or llama-cpp-python's ``json_object`` one."""
    if form == "json_object":
        return {"type": "json_object", "schema": schema}
    return {"type": "json_schema", "json_schema": {"name": "output", "schema": schema, "strict": True}}


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
        schema_form: str = "auto",
    ) -> None:
        if schema_form not in SCHEMA_FORMS:
            raise InvalidRequest(f"schema_form must be one of {list(SCHEMA_FORMS)}, not {schema_form!r}")
        self.base_url = check_base_url(base_url, "http(s)://host:port/v1")
        #: how a JSON Schema is sent (``auto`` until the first request with one finds out)
        self.schema_form = schema_form
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
        if options.seed is not None:  # Chat Completions takes one (best effort on OpenAI's side)
            body["seed"] = options.seed
        form = self.schema_form  # as sent: concurrent calls may find the form out meanwhile
        if options.json_schema is not None:
            body["response_format"] = response_format(options.json_schema, form)
        # Connect now: an unreachable server raises EngineUnavailable before the backend records anything.
        try:
            events = self._stream(body, model)
        except OutputFormatUnsupported:  # the translator's type: the server refused the form itself, nothing generated
            if options.json_schema is None or form != "auto":
                raise
            self._found_form("json_object")  # llama-cpp-python's server: its form from now on
            body["response_format"] = response_format(options.json_schema, "json_object")
            events = self._stream(body, model)
        else:
            if options.json_schema is not None and form == "auto":
                self._found_form("json_schema", only_if_unknown=True)  # taken: OpenAI's form
        generation = Generation()
        generation.start(self._deltas(events, model, body, generation))
        return generation

    def _found_form(self, form: str, *, only_if_unknown: bool = False) -> None:
        with self._http_lock:
            if not only_if_unknown or self.schema_form == "auto":
                self.schema_form = form

    def _stream(self, body: dict[str, Any], model: str) -> Iterator[dict[str, Any]]:
        return self._call(
            lambda h: h.stream("/chat/completions", {**body, "stream": True, "stream_options": {"include_usage": True}}),
            model=model,
        )

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
