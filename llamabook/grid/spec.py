"""What a grid is asked for: its options as one value (:class:`GridSpec`) and what it needs of a client."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol

from ..types.grid_rows import result_dtypes

if TYPE_CHECKING:
    from ..backends.base import Backend
    from ..resources import Models, Prompts, Responses


class GridClient(Protocol):
    """What a grid needs of a client (a :class:`~llamabook.Client` is one)."""

    backend: Backend
    prompts: Prompts
    responses: Responses
    models: Models


#: Result columns after the row's own columns, with their pandas dtypes (those every grid has, from
#: :class:`~llamabook.types.grid_rows.GridResult`).
RESULT_COLUMNS: dict[str, str] = result_dtypes()

#: the response options a grid takes (``input`` and a part of :class:`~llamabook.types.requests.ResponseOptions`)
RESPONSE_OPTIONS = (
    "input", "instructions", "temperature", "top_p", "max_output_tokens", "describe_images", "pdf_to_text", "tools",
    "tool_choice",
)  # fmt: skip


@dataclass(frozen=True)
class GridSpec:
    """Every option of a grid besides the prompt and the rows, as one value (see :meth:`llamabook.Client.grid`).

    ``Client.grid``'s signature lists them for users and makes this from its arguments
    (``types.requests.from_arguments``: a test keeps the two lists equal); ``run_grid`` reads it,
    and ``AsyncClient.grid`` is derived from ``Client.grid``. ``path`` … ``resume`` belong to one
    executor each (:mod:`llamabook.grid.executors`).
    """

    versions: Sequence[int] | None = None
    models: Sequence[str] | None = None
    repeats: int = 1
    concurrency: int = 4
    progress: bool = True
    cache: bool = True
    retries: int = 3
    checks: Mapping[str, Any] | None = None
    schema: Any = None
    schema_prefix: str | None = None
    executor: str = "threads"
    path: Any = None
    batch_output: Any = None
    batch_timeout: float | None = None
    batch_stall: float | None = None
    resume: bool = True
    #: the response options (``RESPONSE_OPTIONS``) exactly as given: the run-log key reads them
    options: Mapping[str, Any] = field(default_factory=dict)
