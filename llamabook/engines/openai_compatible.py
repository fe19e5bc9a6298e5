"""Any OpenAI-compatible chat-completions server: llama-cpp-python's, Ollama, vLLM, OpenAI.

The ``openai`` package is imported on first use. The API key is held in memory only and
never appears in messages, logs or the database.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Iterable, Iterator
from typing import Any

from ..errors import EngineError, EngineUnavailable, ModelNotFound
from ..types.models import Model
from .base import Generation, GenerationOptions


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
        self.base_url = base_url.rstrip("/")
        self.name = name
        self._api_key = api_key or os.environ.get("OPENAI_API_KEY") or "not-needed"
        self._model_ids = list(models) if models is not None else None
        self.accepts = list(accepts)
        self.timeout = timeout
        self.max_retries = max_retries
        self._client: Any = None
        self._client_lock = threading.Lock()

    def __repr__(self) -> str:  # never show the key
        return f"OpenAICompatibleEngine(base_url={self.base_url!r}, name={self.name!r})"

    def client(self) -> Any:
        with self._client_lock:
            if self._client is None:
                try:
                    import openai
                except ImportError:
                    raise EngineUnavailable("This engine needs the openai package: pip install 'llamabook[openai]'") from None
                self._client = openai.OpenAI(
                    base_url=self.base_url, api_key=self._api_key, timeout=self.timeout, max_retries=self.max_retries
                )
            return self._client

    def models(self) -> list[Model]:
        ids = self._model_ids
        if ids is None:
            ids = [m.id for m in self._call(lambda c: list(c.models.list()))]
            self._model_ids = ids
        return [Model(id=i, owned_by=self.base_url, engine=self.name, accepts=list(self.accepts)) for i in ids]

    def generate(self, model: str, messages: list[dict[str, Any]], options: GenerationOptions) -> Generation:
        kwargs: dict[str, Any] = {"temperature": options.temperature}
        if options.max_output_tokens:
            kwargs["max_tokens"] = options.max_output_tokens
        if options.top_p is not None:
            kwargs["top_p"] = options.top_p
        # Connect now: an unreachable server raises EngineUnavailable before the backend records anything.
        stream = self._call(
            lambda c: c.chat.completions.create(
                model=model, messages=messages, stream=True, stream_options={"include_usage": True}, **kwargs
            ),
            model=model,
        )
        generation = Generation()
        generation.start(self._deltas(stream, model, messages, kwargs, generation))
        return generation

    def _deltas(
        self, stream: Any, model: str, messages: list[dict[str, Any]], kwargs: dict[str, Any], generation: Generation
    ) -> Iterator[str]:
        chunks = 0
        try:
            for chunk in stream:
                if getattr(chunk, "usage", None):
                    generation.input_tokens = chunk.usage.prompt_tokens
                    generation.output_tokens = chunk.usage.completion_tokens
                for choice in chunk.choices or ():
                    if choice.finish_reason:
                        generation.finish_reason = choice.finish_reason
                    text = choice.delta.content if choice.delta else None
                    if text:
                        chunks += 1
                        yield text
        except Exception as exc:
            raise self._translate(exc, model) from exc
        finally:
            close = getattr(stream, "close", None)
            if close:
                close()
        if generation.output_tokens is None:  # no usage in the stream (llama-cpp-python's server)
            generation.output_tokens = chunks  # such servers stream one token per chunk
            generation.usage_source = "chunks"
            generation.input_tokens = self._prompt_tokens(model, messages, kwargs)

    def _prompt_tokens(self, model: str, messages: list[dict[str, Any]], kwargs: dict[str, Any]) -> int:
        """The server's own prompt token count, from a one-token non-streamed request; 0 if unknown.

        Servers that omit usage from streams still report it for plain requests, and the prompt
        was just evaluated, so a server that reuses its KV cache answers in milliseconds.
        """
        try:
            quick = self.client().with_options(max_retries=0, timeout=min(self.timeout, 30.0))
            answer = quick.chat.completions.create(
                model=model, messages=messages, stream=False, **{**kwargs, "max_tokens": 1}
            )
            return int(answer.usage.prompt_tokens) if answer.usage else 0
        except Exception:  # best effort: the response itself has already succeeded
            return 0

    def _call(self, action: Any, model: str | None = None) -> Any:
        try:
            return action(self.client())
        except Exception as exc:
            raise self._translate(exc, model) from exc

    def _translate(self, exc: Exception, model: str | None) -> Exception:
        import openai

        if isinstance(exc, openai.APIConnectionError):
            return EngineUnavailable(f"Could not reach {self.base_url}: is the server running? ({type(exc).__name__})")
        if isinstance(exc, openai.NotFoundError) and model:
            return ModelNotFound(f"{self.base_url} has no model {model!r}; see client.models.list()")
        if isinstance(exc, openai.APIStatusError):
            return EngineError(
                f"{self.base_url} answered {exc.status_code}: {_message(exc)}",
                status_code=exc.status_code,
                retry_after=_retry_after(exc),
            )
        if isinstance(exc, EngineError):
            return exc
        return EngineError(f"{self.base_url}: {type(exc).__name__}: {exc}")


def _retry_after(exc: Any) -> float | None:
    """Retry-After in seconds, if the server sent one (seconds form only)."""
    headers = getattr(getattr(exc, "response", None), "headers", None) or {}
    value = headers.get("retry-after")
    try:
        return max(0.0, float(value)) if value is not None else None
    except ValueError:
        return None


def _message(exc: Any) -> str:
    body = getattr(exc, "body", None)
    if isinstance(body, dict):
        error = body.get("error")
        if isinstance(error, dict) and error.get("message"):
            return str(error["message"])
        if body.get("detail"):
            return str(body["detail"])
    return str(getattr(exc, "message", exc))
