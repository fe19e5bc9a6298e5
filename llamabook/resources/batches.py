"""``client.batches``: the plans this home keeps of grids run as batches, and the server's batch jobs.

A grid run with ``executor="batch"`` records which server batch holds its requests (its *plan*),
so the same grid call after a dead kernel follows that batch instead of submitting another. These
methods show those plans, drop one (:meth:`Batches.forget`), and cancel a batch on the server.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..backends.base import Backend
from ..errors import NotFound

if TYPE_CHECKING:
    from ..store import GridBatch
    from ..types import Batch


class Batches:
    def __init__(self, backend: Backend) -> None:
        self._backend = backend

    def list(self) -> list[GridBatch]:
        """The plans of this backend's batch and JSONL grids kept in the home, newest first.

        Each has ``batch_id``, ``status`` (the last one seen), ``requests``, ``created_at`` and
        ``merged`` (True once its results are in the run log, or its batch ended without them).
        """
        store = self._backend.store
        return store.batches.list(self._backend.scope) if store is not None else []

    def forget(self, batch_id: str) -> None:
        """Drop the home's plan that follows server batch ``batch_id``: its grid's next run submits afresh.

        The batch itself is left as it is on the server (see :meth:`cancel`). Raises
        :class:`~llamabook.NotFound` if no plan in this home follows that batch.
        """
        store = self._backend.store
        if store is None or not store.batches.forget(batch_id):
            kept = [plan.batch_id for plan in self.list() if plan.batch_id]
            raise NotFound(
                f"No grid plan in this home follows batch {batch_id!r}"
                + (f"; the plans follow {kept} (client.batches.list())" if kept else "; it keeps none")
            )

    def cancel(self, batch_id: str) -> Batch:
        """Ask the server to cancel batch ``batch_id``; returns the batch (usually ``cancelling``).

        The plan stays: the grid's next run ends its wait once the server reports the batch
        ``cancelled`` (or leaves it ``cancelling`` past ``batch_stall``), keeps what it returned and
        fails the other rows; the run after submits them afresh. Raises
        :class:`~llamabook.BatchesUnsupported` where there is no Batches API.
        """
        return self._backend.batch_jobs().cancel(batch_id)


__all__ = ["Batches"]
