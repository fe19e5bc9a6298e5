"""Base model and list type shared by the wire objects."""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping
from types import ModuleType
from typing import TYPE_CHECKING, Any, ClassVar, Generic, TypeVar

from pydantic import BaseModel, ConfigDict

if TYPE_CHECKING:
    import pandas
    import pyarrow

#: Columns holding Unix seconds, which a DataFrame shows as ``datetime64[s, UTC]``.
TIMESTAMP_COLUMNS = ("created_at", "expires_at", "moved_at")


class WireModel(BaseModel):
    """A wire object: unknown server fields are kept, so nothing a server sends is lost."""

    model_config = ConfigDict(extra="allow", populate_by_name=True)

    #: The columns of this object's DataFrame row, in order (``ObjectList.to_pandas``); empty: ``to_dict``'s keys.
    frame_columns: ClassVar[tuple[str, ...]] = ()
    #: The dtypes of the columns that have a fixed one (timestamps are ``datetime64[s, UTC]``; the rest object).
    frame_dtypes: ClassVar[Mapping[str, str]] = {}

    def to_dict(self) -> dict[str, Any]:
        """A flat dict of scalar columns (the row this object becomes in a DataFrame)."""
        return self.model_dump(mode="json")


class NotebookRepr:
    """Rich display in notebooks (JupyterLab, Notebook 7, VS Code, nbconvert), with a text/plain form.

    The text and HTML come from :mod:`llamabook.views.reprs` (jinja2 with autoescaping), which
    shows this object with its view named by :attr:`notebook_view`. Without the ``widgets`` extra
    only text/plain is offered.
    """

    #: The view that shows this object: a key of ``llamabook.views.reprs.VIEWS``.
    notebook_view: ClassVar[str]

    def _repr_html_(self) -> str | None:
        return _views().repr_html(self)

    def _repr_mimebundle_(
        self, include: Collection[str] | None = None, exclude: Collection[str] | None = None
    ) -> dict[str, str]:
        return _views().repr_mimebundle(self, include, exclude)


def _views() -> ModuleType:
    """``llamabook.views.reprs``, imported on first display.

    The one import from the core up to the notebook face (``tests/unit/test_layers.py`` allows it and
    no other): the wire types sit below everything, yet each knows how it looks in a notebook.
    """
    from ..views import reprs

    return reprs


T = TypeVar("T", bound=WireModel)


class ObjectList(list[T], Generic[T]):
    """A plain list of wire objects that can also become a DataFrame."""

    def __init__(self, items: Iterable[T] = (), item_type: type[T] | None = None) -> None:
        super().__init__(items)
        self.item_type = item_type

    def to_dicts(self) -> list[dict[str, Any]]:
        return [item.to_dict() for item in self]

    def to_pandas(self) -> pandas.DataFrame:
        """One row per object, with the item type's documented columns and dtypes (also when empty)."""
        import pandas as pd

        kind = self.item_type or (type(self[0]) if self else None)
        columns = list(kind.frame_columns) if kind is not None and kind.frame_columns else None
        rows: list[dict[str, Any]] = self.to_dicts()
        frame = pd.DataFrame(rows, columns=columns) if columns else pd.DataFrame(rows)
        for name, dtype in kind.frame_dtypes.items() if kind is not None else ():
            frame[name] = frame[name].astype(dtype)
        for name in TIMESTAMP_COLUMNS:
            if name in frame.columns:
                frame[name] = pd.to_datetime(frame[name], unit="s", utc=True).astype("datetime64[s, UTC]")
        return frame

    def to_arrow(self) -> pyarrow.Table:
        """The same columns as :meth:`to_pandas`, as a pyarrow Table (write it with pyarrow.parquet)."""
        import pyarrow

        return pyarrow.Table.from_pandas(self.to_pandas(), preserve_index=False)
