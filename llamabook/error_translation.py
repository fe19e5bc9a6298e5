"""Server and transport failures → llamabook's typed errors: the one place this is decided.

Every HTTP path goes through here: the HTTP backend (Llama Stack 0.7, OGX 1.x, OpenAI, over the
openai SDK) and the OpenAI-compatible engine (over :mod:`llamabook.engines.http_json`). The
rules, in the order they are tried:

1. **What the status says, with what the call addressed.** 401/403 → a key problem; 404 → the
   ``NotFound`` of the object the call named (``prompt_id``, ``file_id``, ``response_id``,
   ``model`` in the context), or, in a stream where no id was named, of the object the message
   starts with; 413 → too large; 408/409/429/5xx keep their status, so they can be retried.
2. **Message text, only where no status or field tells** (both servers answer 400, or a 200
   stream, for all of these). Each rule reads both servers' wordings:

   ==========================  ======================================  ===========================================
   error                       Llama Stack 0.7.3                       OGX 1.5
   ==========================  ======================================  ===========================================
   VersionConflict             ``'1' is not the latest prompt          ``Invalid value for 'version': 1. Must be
                               version … Use the latest version '2'``  the latest prompt version '2'.``
   VersionNotFound             ``Prompt pmpt_…:99 not found`` (400)    ``Prompt version '99' not found in prompt …``
   PromptNotFound etc.         ``Prompt pmpt_… not found`` (400)       404 ``Prompt 'pmpt_…' not found. …``
   UndeclaredVariables         ``… undeclared variables: ['x']``       the same, then a pydantic dump
   UnknownVariables            ``Invalid value for 'prompt.variables': x. Variable not defined in prompt …`` (both)
   ModelRejectedInput          the upstream's validation dump of a ``file`` / ``image_url`` content part (both)
   OutputFormatUnsupported     the upstream's validation dump of ``response_format`` ``json_schema`` (both)
   ==========================  ======================================  ===========================================
3. **Otherwise the status alone:** 400/422 → :class:`InvalidRequest`, anything else → :class:`EngineError`.
   Both servers' 400s about tools land here, with the field named (``tools.0.function.parameters:
   Input should be a valid dictionary``; ``… but no corresponding function_call`` for an orphan
   ``function_call_output``). A ``tool_choice`` the server *ignores* comes back as a 200: the HTTP
   backend's stream reader makes that :class:`~llamabook.ToolChoiceIgnored`.

No I/O happens here, and nothing is imported from higher layers: the openai SDK's exceptions are
recognised only when the SDK is already imported (otherwise none can exist).
"""

from __future__ import annotations

import ast
import json
import re
import sys
from collections.abc import Mapping
from typing import Any

from .errors import (
    CassetteMiss,
    EngineError,
    EngineUnavailable,
    FileNotFound,
    InvalidRequest,
    LlamabookError,
    ModelNotFound,
    ModelRejectedInput,
    NotFound,
    OutputFormatUnsupported,
    PromptNotFound,
    ResponseNotFound,
    UndeclaredVariables,
    UnknownVariables,
    VersionConflict,
    VersionNotFound,
)

#: the response header the cassette transport marks its misses with (never sent by a server)
CASSETTE_MISS_HEADER = "x-llamabook-cassette-miss"


# ---- what the transports raise -------------------------------------------------------------
class HTTPStatusError(Exception):
    """A server answered with a status >= 400 (``body`` is its decoded JSON, or text)."""

    def __init__(self, status: int, body: Any, headers: Any) -> None:
        super().__init__(f"HTTP {status}")
        self.status = status
        self.body = body
        self.headers = headers

    @property
    def retry_after(self) -> float | None:
        """Retry-After in seconds, if the server sent one (seconds form only)."""
        return retry_after_seconds(self.headers.get("retry-after") if self.headers is not None else None)

    @property
    def message(self) -> str:
        return message_of(self.body) or f"HTTP {self.status}"


class ConnectError(Exception):
    """The server could not be reached, or the connection broke before an answer."""


class TLSError(ConnectError):
    """The TLS handshake failed: an untrusted or mismatched certificate, or no common protocol."""


class ReadTimeout(Exception):
    """The server took longer than the timeout to answer."""


class StreamError(Exception):
    """The server reported an error inside a 200 stream (``body`` is the error object)."""

    def __init__(self, message: str, body: Any = None) -> None:
        super().__init__(message)
        self.body = body


# ---- message-text rules (see the table above) ----------------------------------------------
_STALE = re.compile(r"is not the latest prompt version|Must be the latest prompt version")
_LATEST = re.compile(r"(?:Use the latest version|Must be the latest prompt version) '(\d+)'")
_GIVEN = re.compile(r"'(\d+)' is not the latest|Invalid value for 'version': (\d+)")
_NO_VERSION = re.compile(r":\d+ not found|version '?\d+'? not found", re.IGNORECASE)
# The first [...] after the phrase: OGX appends a pydantic dump that quotes other names.
_UNDECLARED = re.compile(r"undeclared variables:?\s*\[([^\]]*)\]")
_UNKNOWN_VARIABLE = re.compile(r"'prompt\.variables':\s*'?(\w+)'?\.\s*Variable not defined in prompt")
# llama-cpp-python's server validates each content part against text | image_url; a part of
# another type fails with a literal_error naming the allowed tags and the rejected input.
_REJECTED_PART = re.compile(
    r"literal_error.*?'loc': \('body', 'messages', \d+.*?'content'.*?'input': '(file|input_file|image_url|input_image)'",
    re.DOTALL,
)
_NOT_FOUND = re.compile(r"\bnot found\b", re.IGNORECASE)
# The same validation dump for the response_format a json_schema text.format became upstream.
_REJECTED_FORMAT = re.compile(r"literal_error.*?'response_format'.*?'input': 'json_schema'", re.DOTALL)


def typed_error(message: str, status: int | None = None, *, base_url: str, retry_after: float | None = None,
                **context: Any) -> LlamabookError:
    """The typed error for a server's error ``message`` and ``status`` (None inside a stream).

    ``context`` names what the call addressed: ``prompt_id``, ``version``, ``file_id``,
    ``response_id``, ``model``; with it, a 404 becomes the right ``NotFound``.
    """
    if status in (401, 403):
        return EngineError(f"{base_url} answered {status}: {message} (check the API key)", status_code=status)
    if status == 404:
        return _not_found(message, status, base_url, context)
    if status == 413:
        return InvalidRequest(f"{base_url} refused the request as too large: {message}")
    if (by_text := _from_text(message, base_url, context)) is not None:
        return by_text
    if status in (400, 422):
        return InvalidRequest(f"The server rejected the request: {message}")
    said = f"answered {status}" if status else "reported an error"
    return EngineError(f"{base_url} {said}: {message}", status_code=status, retry_after=retry_after)


def _from_text(message: str, base_url: str, context: dict[str, Any]) -> LlamabookError | None:
    if _STALE.search(message) and context.get("prompt_id"):
        given, latest = _GIVEN.search(message), _LATEST.search(message)
        number = next((g for g in given.groups() if g), None) if given else None
        return VersionConflict(context["prompt_id"], int(number) if number else -1, int(latest.group(1)) if latest else -1)
    if "undeclared variables" in message:
        listed = _UNDECLARED.search(message)
        names = re.findall(r"'(\w+)'", listed.group(1) if listed else message.split("undeclared variables", 1)[1])
        return UndeclaredVariables(names)
    if unknown := _UNKNOWN_VARIABLE.search(message):
        return UnknownVariables([unknown.group(1)], prompt_id=context.get("prompt_id"))
    if _REJECTED_FORMAT.search(message):
        return OutputFormatUnsupported(context.get("model"))
    if rejected := _REJECTED_PART.search(message):
        kind = "image" if "image" in rejected.group(1) else "file"
        return ModelRejectedInput(context.get("model"), kind)
    if _NOT_FOUND.search(message):
        return _not_found(message, None, base_url, context)
    return None


def _not_found(message: str, status: int | None, base_url: str, context: dict[str, Any]) -> LlamabookError:
    """The ``NotFound`` of the object the message names, else of the one the call addressed."""
    named = message.lstrip("'\" ").split(" ", 1)[0].lower()
    if named == "prompt" or (named not in ("file", "response", "model") and context.get("prompt_id")):
        if _NO_VERSION.search(message):
            return VersionNotFound(f"{message}; see prompts.versions()")
        return PromptNotFound(f"{message}; see client.prompts.list()")
    if named == "file" or (named not in ("response", "model") and context.get("file_id")):
        return FileNotFound(message)
    if named == "response" or (named != "model" and context.get("response_id")):
        return ResponseNotFound(message)
    if named == "model" or context.get("model"):
        model = context.get("model")
        return ModelNotFound(f"{message}; see client.models.list()" if model is None else
                             f"The server has no model {model!r} ({message}); see client.models.list()")
    if status is not None:  # a path the server does not serve (a base URL without /v1, say)
        return EngineError(f"{base_url} answered {status}: {message}", status_code=status)
    return NotFound(message)


def stream_event_error(event: dict[str, Any], *, base_url: str, **context: Any) -> LlamabookError:
    """The typed error of an error event inside a 200 stream, in either shape.

    OGX sends ``{"type": "error", "code": "404", "message": …}``; Llama Stack 0.7.3 and
    OpenAI-compatible servers send ``{"error": {"message", "code"?}}``.
    """
    inner = event.get("error") if isinstance(event.get("error"), dict) else event
    code = str(inner.get("code") or "")
    message = str(inner.get("message") or "an error event in the stream")
    return typed_error(message, int(code) if code.isdigit() else None, base_url=base_url, **context)


# ---- exceptions ------------------------------------------------------------------------------
def from_exception(exc: BaseException, *, base_url: str, **context: Any) -> LlamabookError:
    """Any failure of an HTTP call (ours, the openai SDK's, or already typed) → the typed error.

    ``context["mid_stream"]`` marks a failure after the answer had started.
    """
    if isinstance(exc, LlamabookError):
        return exc
    if (miss := cassette_miss(exc)) is not None:
        return miss
    mid_stream = context.pop("mid_stream", False)
    if isinstance(exc, TLSError):
        return EngineError(f"TLS with {base_url} failed ({exc}); for a private CA, point SSL_CERT_FILE at its certificate")
    if isinstance(exc, ConnectError):
        if mid_stream:  # the answer had started: the server did not vanish, the connection broke
            return EngineUnavailable(f"{base_url} dropped the connection mid-answer ({exc}); try again")
        return EngineUnavailable(f"Could not reach {base_url}: is the server running? ({exc})")
    if isinstance(exc, ReadTimeout):
        return EngineUnavailable(f"{base_url} timed out: {exc}; raise the timeout= if it is just slow")
    if isinstance(exc, HTTPStatusError):
        return typed_error(exc.message, exc.status, base_url=base_url, retry_after=exc.retry_after, **context)
    if isinstance(exc, StreamError):
        body = exc.body if isinstance(exc.body, dict) else {"message": str(exc)}
        return stream_event_error({"error": body}, base_url=base_url, **context)
    if (sdk := _from_openai_sdk(exc, base_url, context)) is not None:
        return sdk
    return EngineError(f"{base_url}: {type(exc).__name__}: {exc}")


def _from_openai_sdk(exc: BaseException, base_url: str, context: dict[str, Any]) -> LlamabookError | None:
    openai = sys.modules.get("openai")
    if openai is None or not isinstance(exc, openai.OpenAIError):
        return None
    if isinstance(exc, openai.APITimeoutError):
        return EngineUnavailable(f"{base_url} timed out; raise the timeout= if it is just slow")
    if isinstance(exc, openai.APIConnectionError):
        return EngineUnavailable(f"Could not reach {base_url}: is the server running? ({type(exc).__name__})")
    body = getattr(exc, "body", None)
    message = message_of(body) or str(getattr(exc, "message", None) or exc)
    if isinstance(exc, openai.APIStatusError):
        wait = retry_after_seconds(exc.response.headers.get("retry-after"))
        return typed_error(message, exc.status_code, base_url=base_url, retry_after=wait, **context)
    # An APIError without a status: the SDK raises it for an ``{"error": …}`` event in a stream.
    code = str(body.get("code", "")) if isinstance(body, dict) else ""
    return typed_error(message, int(code) if code.isdigit() else None, base_url=base_url, **context)


def cassette_miss(exc: BaseException) -> CassetteMiss | None:
    """The cassette's miss, when the answer came from the cassette transport rather than a server."""
    response = getattr(exc, "response", None)
    headers = getattr(response, "headers", None)
    if headers is None or not headers.get(CASSETTE_MISS_HEADER):
        return None
    body = getattr(exc, "body", None) or {}
    body = body.get("error", body) if isinstance(body, dict) else {}
    return CassetteMiss(str(body.get("cassette")), str(body.get("summary")), body.get("hint"))


def message_of(body: Any) -> str:
    """The message in either error body shape (``{"error": {"message"}}`` or ``{"detail"}``), or ''."""
    if isinstance(body, dict):
        inner = body.get("error", body)
        if isinstance(inner, str) and inner:
            return inner
        if isinstance(inner, dict):
            if inner.get("message"):
                return _unwrapped(str(inner["message"]))
            if inner.get("detail"):
                return _validation_text(inner["detail"])
        if isinstance(body.get("errors"), list):  # Llama Stack 0.7.3's request validation
            return _validation_text(body["errors"])
        return ""
    return str(body)[:500] if body else ""


def _unwrapped(message: str) -> str:
    """Llama Stack 0.7.3 wraps request validation as the text of a Python dict, ``"{'errors': [...]}"``."""
    if message.startswith("{'errors': ["):
        parsed = _literal_dict(message)
        if parsed is not None and isinstance(parsed.get("errors"), list):
            return _validation_text(parsed["errors"])
    return message


def _literal_dict(text: str) -> dict[str, Any] | None:
    """The dict a Python literal's text holds (``"{'a': 1}"``), or None; literals only: nothing in it is run."""
    if not text.startswith("{"):
        return None
    try:
        parsed = ast.literal_eval(text)
    except (ValueError, SyntaxError, MemoryError, RecursionError):
        return None
    return parsed if isinstance(parsed, dict) else None


def _validation_text(detail: Any) -> str:
    """FastAPI's ``[{"loc", "msg"}, …]`` as ``field: message; …``; any other detail as text."""
    if isinstance(detail, list) and all(isinstance(d, dict) and "msg" in d for d in detail):
        return "; ".join(
            f"{'.'.join(str(p) for p in d.get('loc', []) if p != 'body')}: {d['msg']}".lstrip(": ") for d in detail
        )
    return str(detail)


def retry_after_seconds(value: str | None) -> float | None:
    """A Retry-After header in seconds (its seconds form only), or None."""
    try:
        return max(0.0, float(value)) if value is not None else None
    except ValueError:
        return None


# ---- a batch's error lines ---------------------------------------------------------------


def line_error(detail: Any, status: int | None, *, base_url: str | None = None, model: str | None = None) -> LlamabookError:
    """The typed error of a batch output's error line (``detail``: its ``error``, a dict or text;
    ``status``: its HTTP status, None when none was given): the same error as the thread executor's
    call meets for the same cause, with no server traceback or file path in its message.

    Llama Stack and OGX give ``{"type": "request_failed", "message": "Error code: 500 - <the
    upstream's answer>"}`` (the openai SDK's text for an upstream error): that status is the one
    the thread executor's call meets, and the answer is its message.
    """
    text = _line_text(detail)
    wrapped = _WRAPPED.match(str(detail.get("message") or "")) if isinstance(detail, Mapping) else None
    if wrapped is not None:
        status, text = int(wrapped.group(1)), _answer_text(wrapped.group(2))
    return typed_error(server_text(text), status, base_url=base_url, model=model)


def _answer_text(answer: str) -> str:
    """An upstream answer as the SDK printed it: its body's message when it is a Python dict's text."""
    body = _literal_dict(answer)
    return (message_of(body) or answer) if body is not None else answer


def server_text(text: str) -> str:
    """A server's error text with its traceback cut off and any file path of the server replaced."""
    cut = _TRACEBACK.search(text)
    if cut is not None:
        before, after = text[: cut.start()].strip(), text[cut.start() :]
        # nothing said before it: a traceback's last unindented line is the exception
        said = [line for line in after.splitlines() if line.strip() and not line[:1].isspace()]
        text = before or (said[-1] if len(said) > 1 else "")
    return _SERVER_PATH.sub("<server file>", text).strip() or "the server gave no message"


def _line_text(error: Any) -> str:
    if isinstance(error, Mapping):
        kind = error.get("type") or error.get("code")
        message = server_text(str(error.get("message") or error.get("detail") or json.dumps(error, default=str)))
        return f"{kind}: {message}" if kind and kind not in message else message
    return str(error)


#: the openai SDK's text of an upstream error, as Llama Stack / OGX put it in a batch error line
_WRAPPED = re.compile(r"Error code: (\d{3}) - (.*)", re.DOTALL)
#: where a Python traceback starts: its header, or its first ``File "…", line N`` frame
_TRACEBACK = re.compile(r'Traceback \(most recent call last\)|^\s*File "[^"\n]+", line \d+', re.MULTILINE)
#: a path to a source file (``/…/site-packages/x/app.py``, ``C:\\…\\app.py``)
_SERVER_PATH = re.compile(r"(?:[A-Za-z]:)?(?:[\\/][\w.+-]+)+[\\/][\w.+-]+\.pyc?\b")
