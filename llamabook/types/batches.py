"""A server's batch job (the OpenAI Batches API object, as Llama Stack, OGX and OpenAI return it)."""

from __future__ import annotations

from typing import Any

from .base import WireModel

#: Statuses after which a batch changes no more.
FINISHED_BATCH_STATUSES = frozenset({"completed", "failed", "cancelled", "expired"})


class BatchCounts(WireModel):
    total: int = 0
    completed: int = 0
    failed: int = 0


class Batch(WireModel):
    """``POST /v1/batches`` and ``GET /v1/batches/{id}``: a batch of requests run by the server."""

    id: str
    status: str
    endpoint: str | None = None
    input_file_id: str | None = None
    output_file_id: str | None = None
    error_file_id: str | None = None
    completion_window: str | None = None
    created_at: int | None = None
    request_counts: BatchCounts | None = None
    #: why the whole batch failed: ``{"data": [{"code", "message", "line", "param"}]}``
    errors: dict[str, Any] | None = None
    metadata: dict[str, str] | None = None

    @property
    def finished(self) -> bool:
        """True once the batch is completed, failed, cancelled or expired."""
        return self.status in FINISHED_BATCH_STATUSES

    @property
    def done_count(self) -> int:
        """Requests finished so far (completed or failed)."""
        counts = self.request_counts or BatchCounts()
        return counts.completed + counts.failed

    def failure_text(self) -> str:
        """What the server said of a failed batch, in one line."""
        found = [e for e in (self.errors or {}).get("data") or [] if isinstance(e, dict)]
        said = "; ".join(
            f"{e.get('message') or e.get('code')}" + (f" (line {e['line']})" if e.get("line") is not None else "") for e in found
        )
        return said or f"the server gave no reason (status {self.status})"
