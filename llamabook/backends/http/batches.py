"""A server's Batches API (``/v1/batches``): submit a JSONL file of requests, follow it, read its files."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ...errors import BatchesUnsupported, EngineError, InvalidRequest, NotFound
from ...types import Batch, File
from .transport import Transport, segment

#: The only window the reference provider of Llama Stack / OGX accepts (OpenAI's too).
COMPLETION_WINDOW = "24h"


class ServerBatches:
    """The batch jobs of one server; ``upload`` stores an input file with purpose ``batch``."""

    def __init__(self, transport: Transport, upload: Callable[[bytes, str, str], File], label: Callable[[], str]) -> None:
        self._transport = transport
        self._upload = upload
        self._label = label
        self._checked = False

    def check(self) -> None:
        """Raise :class:`BatchesUnsupported` if the server has no Batches API (asked once: ``GET /v1/batches``)."""
        if self._checked:
            return
        try:
            self._transport.json("get", "/batches", query={"limit": 1})
        except (NotFound, InvalidRequest) as exc:
            raise self._unsupported(exc) from None
        except EngineError as exc:
            if exc.status_code in (404, 405, 501):
                raise self._unsupported(exc) from None
            raise
        self._checked = True

    def submit(self, jsonl: bytes, filename: str, endpoint: str, metadata: dict[str, str]) -> Batch:
        """Upload ``jsonl`` (purpose ``batch``) and create a batch of it."""
        self.check()
        uploaded = self._upload(jsonl, filename, "batch")
        body = {"input_file_id": uploaded.id, "endpoint": endpoint, "completion_window": COMPLETION_WINDOW, "metadata": metadata}
        return Batch.model_validate(self._transport.json("post", "/batches", body=body))

    def retrieve(self, batch_id: str) -> Batch:
        segment(batch_id, NotFound)
        return Batch.model_validate(self._transport.json("get", f"/batches/{batch_id}", batch_id=batch_id))

    def cancel(self, batch_id: str) -> Batch:
        segment(batch_id, NotFound)
        return Batch.model_validate(self._transport.json("post", f"/batches/{batch_id}/cancel", batch_id=batch_id))

    def content(self, file_id: str) -> bytes:
        """A batch's output or error file."""
        return self._transport.call(lambda sdk: sdk.files.content(file_id), file_id=file_id).content

    def _unsupported(self, cause: Exception) -> BatchesUnsupported:
        return BatchesUnsupported(
            f"{self._label()} has no Batches API (GET /v1/batches: {cause}). Run the grid with executor='threads', or "
            "enable batches on the server (its run config's apis: [..., batches] with provider inline::reference)."
        )


def as_batch(value: Any) -> Batch:
    return Batch.model_validate(value)
