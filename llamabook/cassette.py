"""Cassettes: record model and server calls to a text file once, replay them anywhere.

A cassette is a JSON Lines file. Its first line is a header; every other line is one
interaction: a ``kind`` (``generation``, ``models`` or ``http``), the request as it
is matched (shown readably, with long inline data shortened), the ``key`` that matches it
(a hash of the full request) and what came back. Replaying needs neither the model nor the
server. Nothing secret is written: request headers are never kept, and known API keys and
``Bearer`` tokens are scrubbed from every line before it is written (``scrub``).

Modes (``record=``; ``$LLAMABOOK_RECORD`` overrides it when set):

* ``"new"``  replay what is recorded, record (append) what is not;
* ``"none"`` replay only: a request that is not recorded raises :class:`CassetteMiss`;
* ``"all"``  record everything again (the file is rewritten from scratch).

Identical requests replay in the order they were recorded. Once they are used up, ``"new"``
runs the request live (and records it); ``"none"`` replays the last recording again for a
``repeatable`` request (a model generation, an HTTP ``GET``) and misses any other one. One :class:`Cassette` object serves every client in the
process that names the same file, so two clients (a notebook's and the magics') share it.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import threading
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .errors import CassetteMiss, InvalidRequest

MODES = ("new", "none", "all")
DEFAULT_MODE = "new"
FORMAT_VERSION = 1
_HEADER = {"llamabook_cassette": FORMAT_VERSION}
#: The header of an HTTP answer replayed from a cassette (set by the HTTP backend's cassette transport,
#: never recorded, never sent): a response made from it is ``replayed`` (see :func:`replayed_http`).
REPLAYED_HEADER = "x-llamabook-replayed"
_BEARER = re.compile(r"(?i)(bearer\s+)[A-Za-z0-9._~+/=-]+")
_OPENAI_KEY = re.compile(r"\bsk-[A-Za-z0-9_-]{16,}")


def canonical(value: Any) -> str:
    """The JSON text used for keys: sorted keys, no spaces, exact unicode."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)


def request_key(kind: str, material: Any) -> str:
    """The key of a request: a hash of its kind and its full (unshortened) content."""
    return hashlib.sha256(f"{kind}\n{canonical(material)}".encode()).hexdigest()[:32]


@dataclass
class _Queue:
    entries: list[dict[str, Any]] = field(default_factory=list)
    used: int = 0


@dataclass
class CassetteStats:
    """What a cassette did in this process (``client.cassette.cassette.stats``)."""

    replayed: int = 0
    recorded: int = 0
    missed: int = 0


class Cassette:
    """One cassette file and the replay position of each recorded request.

    Use :func:`open_cassette` rather than the constructor: it returns the one object per
    file that every client in the process shares.
    """

    def __init__(self, path: Path) -> None:
        self.path = path
        self._lock = threading.Lock()
        self._queues: dict[str, _Queue] = {}
        #: replaced whole (never changed in place), so scrub() can read it while add_secrets() runs
        self._secrets: frozenset[str] = frozenset()
        self._rewritten = False
        self.stats = CassetteStats()
        self._load()

    def __repr__(self) -> str:
        return f"Cassette({str(self.path)!r})"

    # ---- reading -------------------------------------------------------------------------
    def _load(self) -> None:
        if not self.path.exists():
            return
        with self.path.open(encoding="utf-8") as lines:
            for number, line in enumerate(lines, 1):
                if not line.strip():
                    continue
                try:
                    entry = json.loads(line)
                except json.JSONDecodeError as exc:
                    raise InvalidRequest(
                        f"Cassette {self.path} line {number} is not JSON ({exc.msg}); fix it or record "
                        "the cassette again with record='all'"
                    ) from None
                if "llamabook_cassette" in entry:
                    if entry["llamabook_cassette"] != FORMAT_VERSION:
                        raise InvalidRequest(
                            f"Cassette {self.path} has format {entry['llamabook_cassette']}; this llamabook "
                            f"reads format {FORMAT_VERSION}. Record it again with record='all'."
                        )
                    continue
                self._queues.setdefault(entry["key"], _Queue()).entries.append(entry)

    # ---- replay and record ---------------------------------------------------------------
    def play(self, kind: str, material: Any, *, mode: str, repeatable: bool) -> dict[str, Any] | None:
        """The recorded answer to this request, or None when it must run live (or miss)."""
        if mode == "all":
            return None
        key = request_key(kind, material)
        with self._lock:
            queue = self._queues.get(key)
            if queue is None or not queue.entries:
                return None
            if queue.used < len(queue.entries):
                entry = queue.entries[queue.used]
                queue.used += 1
            elif repeatable and mode == "none":
                entry = queue.entries[-1]  # polling past the recording: the last state again
            else:
                return None
            self.stats.replayed += 1
            return entry["response"]

    def record(self, kind: str, material: Any, shown: dict[str, Any], response: dict[str, Any], *, mode: str) -> None:
        """Append one interaction (``shown`` is the request as a reader sees it)."""
        entry = {"kind": kind, "key": request_key(kind, material), "request": shown, "response": response}
        line = self.scrub(canonical_line(entry))
        with self._lock:
            if mode == "all" and not self._rewritten:
                self._queues.clear()  # record everything again: what was there goes
                self._write_header()
                self._rewritten = True
            elif not self.path.exists():
                self._write_header()
            with self.path.open("a", encoding="utf-8") as out:
                out.write(line + "\n")
            queue = self._queues.setdefault(entry["key"], _Queue())
            queue.entries.append(json.loads(line))
            queue.used = len(queue.entries)  # a recording made now is not replayed to the same run
            self.stats.recorded += 1

    def _write_header(self) -> None:
        """Start the file afresh with its header line."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with self.path.open("w", encoding="utf-8") as out:
            out.write(canonical_line(_HEADER) + "\n")

    def miss(self, summary: str, hint: str | None = None, shown_path: str | None = None) -> CassetteMiss:
        """The error for a request the cassette cannot answer."""
        with self._lock:
            self.stats.missed += 1
        return CassetteMiss(shown_path or str(self.path), summary, hint)

    # ---- secrets -------------------------------------------------------------------------
    def add_secrets(self, secrets: Iterable[str | None]) -> None:
        """Strings that must never be written (an API key); scrubbed from every line."""
        added = {s for s in secrets if s and len(s) >= 4 and s != "none"}
        with self._lock:
            self._secrets = self._secrets | added

    def scrub(self, text: str) -> str:
        for secret in self._secrets:
            text = text.replace(secret, "<redacted>")
        text = _BEARER.sub(r"\1<redacted>", text)
        return _OPENAI_KEY.sub("<redacted>", text)


def canonical_line(value: Any) -> str:
    """One JSON line, keys sorted so a re-recording changes only what changed."""
    return json.dumps(value, sort_keys=True, ensure_ascii=False, default=str)


@dataclass(frozen=True)
class Recorder:
    """A cassette as one client uses it: the shared file, and this client's mode."""

    cassette: Cassette
    mode: str
    #: the path as the user gave it (shown; ``path`` is the resolved one)
    given: str = ""
    #: True when ``$LLAMABOOK_RECORD`` chose the mode
    forced: bool = False

    @property
    def path(self) -> Path:
        return self.cassette.path

    def play(self, kind: str, material: Any, *, repeatable: bool) -> dict[str, Any] | None:
        return self.cassette.play(kind, material, mode=self.mode, repeatable=repeatable)

    def record(self, kind: str, material: Any, shown: dict[str, Any], response: dict[str, Any]) -> None:
        self.cassette.record(kind, material, shown, response, mode=self.mode)

    def miss(self, summary: str, hint: str | None = None) -> CassetteMiss:
        """The error for a request the cassette cannot answer, naming the cassette as it was given."""
        return self.cassette.miss(summary, hint, self.given or None)

    def describe(self) -> str:
        """``PATH (record=MODE)``, as ``%llama config`` shows it (the path as it was given)."""
        source = ", from $LLAMABOOK_RECORD" if self.forced else ""
        return f"{self.given or self.cassette.path} (record={self.mode}{source})"


_open: dict[Path, Cassette] = {}
_open_lock = threading.Lock()


def open_cassette(path: str | os.PathLike[str] | Cassette, record: str | None = None) -> Recorder:
    """The process's cassette at ``path`` with the mode to use it in.

    ``$LLAMABOOK_RECORD``, when set, wins over ``record`` (so CI can force replay of a
    notebook that says ``record="new"``); with neither, the mode is ``"new"``.
    Raises :class:`~llamabook.InvalidRequest` for an unknown mode or an unreadable file.
    """
    mode = resolve_mode(record)
    if isinstance(path, Cassette):
        return Recorder(path, mode, forced=bool(os.environ.get("LLAMABOOK_RECORD")))
    if not isinstance(path, (str, os.PathLike)) or not str(path):
        raise InvalidRequest(f"cassette must be a file path, not {path!r}")
    resolved = Path(path).expanduser().resolve()
    if resolved.is_dir():
        raise InvalidRequest(f"cassette {path} is a folder; name a file such as {Path(path) / 'session.jsonl'}")
    with _open_lock:
        cassette = _open.get(resolved)
        if cassette is None:
            cassette = _open[resolved] = Cassette(resolved)
    return Recorder(cassette, mode, str(path), forced=bool(os.environ.get("LLAMABOOK_RECORD")))


def resolve_mode(record: str | None) -> str:
    """The mode in effect: ``$LLAMABOOK_RECORD``, else ``record``, else ``"new"``."""
    from_env = os.environ.get("LLAMABOOK_RECORD") or None
    mode = from_env or record or DEFAULT_MODE
    if mode not in MODES:
        where = "$LLAMABOOK_RECORD" if from_env else "record="
        raise InvalidRequest(f"{where} must be one of {', '.join(repr(m) for m in MODES)}, not {mode!r}")
    return mode


def from_environment(cassette: Any, record: str | None) -> Recorder | None:
    """The recorder a new client uses: ``cassette=``, else ``$LLAMABOOK_CASSETTE``, else none."""
    path = cassette if cassette is not None else (os.environ.get("LLAMABOOK_CASSETTE") or None)
    if path is None:
        if record is not None:
            resolve_mode(record)  # still reject a bad mode
        return None
    return open_cassette(path, record)


def forget(path: str | os.PathLike[str]) -> None:
    """Drop the process's copy of a cassette (the next open reads the file again)."""
    with _open_lock:
        _open.pop(Path(path).expanduser().resolve(), None)


def replayed_http(response: Any) -> bool:
    """Whether an HTTP response (or an SDK stream, which holds its response as ``.response``) was replayed
    from a cassette rather than sent by a server."""
    http = getattr(response, "response", response)
    headers = getattr(http, "headers", None)
    return headers is not None and headers.get(REPLAYED_HEADER) == "1"


def summarize(text: str, limit: int = 60) -> str:
    """The first characters of a request's input, on one line."""
    flat = " ".join(str(text).split())
    return repr(flat if len(flat) <= limit else flat[: limit - 1] + "…")
