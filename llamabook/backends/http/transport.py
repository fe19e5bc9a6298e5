"""One HTTP client to a server, through the openai SDK (one connection pool, one retry policy).

Files and Responses use the SDK's typed methods; ``/v1/prompts`` and ``/v1/version`` (which
the SDK doesn't know) its generic request methods. No ``llama-stack-client``: its version
header makes a server of another minor version answer 426. Every failure leaves here as a
typed llamabook error (:mod:`llamabook.error_translation`).
"""

from __future__ import annotations

import re
import threading
from typing import Any

from ..._lazy import load
from ...cassette import Recorder
from ...error_translation import cassette_miss, from_exception
from ...errors import EngineError, EngineUnavailable, InvalidRequest, LlamabookError, NotFound


class Transport:
    """The SDK client of one server (``base_url`` without ``/v1``), made on first use."""

    def __init__(self, base_url: str, *, api_key: str | None, timeout: float, max_retries: int) -> None:
        self.base_url = base_url
        self._api_key = api_key or "none"
        self._timeout = timeout
        self._max_retries = max_retries
        self._sdk: Any = None
        self._lock = threading.Lock()
        self.cassette: Recorder | None = None

    @property
    def has_api_key(self) -> bool:
        """Whether a key is configured (the key itself is never shown)."""
        return self._api_key != "none"

    def use_cassette(self, recorder: Recorder | None) -> None:
        """Record or replay every exchange through ``recorder`` (None: stop); the key is kept out of it."""
        with self._lock:
            if recorder is not None:
                recorder.cassette.add_secrets([self._api_key])
            if self._sdk is not None:
                self._sdk.close()
            self._sdk, self.cassette = None, recorder

    def sdk(self) -> Any:
        with self._lock:
            if self._sdk is None:
                try:
                    openai = load("openai")
                except ModuleNotFoundError:
                    raise EngineUnavailable("The HTTP backend needs openai: pip install 'llamabook[openai]'") from None
                options: dict[str, Any] = {}
                if self.cassette is not None:
                    from ..cassette_transport import recording_http_client

                    options["http_client"] = recording_http_client(self.cassette)
                self._sdk = openai.OpenAI(
                    base_url=self.base_url + "/v1",
                    api_key=self._api_key,
                    timeout=self._timeout,
                    max_retries=self._max_retries,
                    **options,
                )
            return self._sdk

    def call(self, action: Any, **context: Any) -> Any:
        """``action(sdk)``, its failure translated; ``context`` names the object addressed (``file_id=…``)."""
        try:
            return action(self.sdk())
        except LlamabookError:
            raise
        except Exception as exc:
            raise from_exception(exc, base_url=self.base_url, **context) from exc

    def json(
        self, method: str, path: str, *, body: Any = None, query: dict[str, Any] | None = None, **context: Any
    ) -> Any:
        """A JSON request to ``/v1{path}``."""

        def send(sdk: Any) -> Any:
            options = {"params": query} if query else {}
            if method == "get":
                return sdk.get(path, cast_to=object, options=options)
            if method == "delete":
                return sdk.delete(path, cast_to=object)
            return getattr(sdk, method)(path, body=body, cast_to=object)

        return self.call(send, **context)

    def version(self) -> str | None:
        """The server's ``GET /v1/version``, or None for a server without it (api.openai.com)."""
        try:
            data = self.json("get", "/version")
        except (NotFound, InvalidRequest):
            return None
        except EngineError as exc:
            if exc.status_code in (404, 405):
                return None
            raise
        version = data.get("version") if isinstance(data, dict) else None
        return str(version) if version else None

    def has_prompts_api(self) -> bool:
        """Whether ``GET /v1/prompts`` exists (a 404 or 405 says it doesn't)."""
        openai = load("openai")
        try:
            self.sdk().get("/prompts", cast_to=object)
        except openai.NotFoundError:
            return False
        except openai.APIStatusError as exc:
            if cassette_miss(exc) is not None:
                raise from_exception(exc, base_url=self.base_url) from exc
            return exc.status_code != 405
        except Exception as exc:
            raise from_exception(exc, base_url=self.base_url) from exc
        return True

    def close(self) -> None:
        if self._sdk is not None:
            self._sdk.close()


_ID = re.compile(r"[A-Za-z0-9_-]+")


def segment(object_id: Any, missing: type[LlamabookError]) -> str:
    """An id that is safe as one URL path segment; any other value cannot name an object.

    Server ids are letters, digits, ``_`` and ``-``; a ``/``, ``..``, ``?`` or ``%`` in an id
    would address another route (``files/../responses/…``), so it raises ``missing`` instead.
    """
    if not isinstance(object_id, str) or not _ID.fullmatch(object_id):
        raise missing(f"{object_id!r} is not a valid id (letters, digits, '_' and '-' only), so nothing has it")
    return object_id
