"""Base model and list type shared by the wire objects."""

from __future__ import annotations

from collections.abc import Collection, Iterable
from typing import TYPE_CHECKING, Any, Generic, TypeVar

from pydantic import BaseModel, ConfigDict

from .._presenters import present

if TYPE_CHECKING:
    import pandas
    import pyarrow


class WireModel(BaseModel):
    """A wire object: unknown server fields are kept, so nothing a server sends is lost."""

    model_config = ConfigDict(extra="allow", populate_by_name=True)

    def to_dict(self) -> dict[str, Any]:
        """A flat dict of scalar columns (the row this object becomes in a DataFrame)."""
        return self.model_dump(mode="json")


class NotebookRepr:
    """Rich display in notebooks (JupyterLab, Notebook 7, VS Code, nbconvert), with a text/plain form.

    The HTML is built by :mod:`llamabook.views` (imported on first display, jinja2 with
    autoescaping); without the ``widgets`` extra only text/plain is offered.
    """

    def _repr_html_(self) -> str | None:
        return present("html", self)

    def _repr_mimebundle_(
        self, include: Collection[str] | None = None, exclude: Collection[str] | None = None
    ) -> dict[str, str]:
        return present("mimebundle", self, include, exclude)


T = TypeVar("T", bound=WireModel)


class ObjectList(list[T], Generic[T]):
    """A plain list of wire objects that can also become a DataFrame."""

    def __init__(self, items: Iterable[T] = (), item_type: type[T] | None = None) -> None:
        super().__init__(items)
        self.item_type = item_type

    def to_dicts(self) -> list[dict[str, Any]]:
        return [item.to_dict() for item in self]

    def to_pandas(self) -> pandas.DataFrame:
        """One row per object, with the documented stable columns (see ``llamabook.frames``)."""
        return present("to_pandas", self, self.item_type)

    def to_arrow(self) -> pyarrow.Table:
        """The same columns as :meth:`to_pandas`, as a pyarrow Table (write it with pyarrow.parquet)."""
        import pyarrow

        return pyarrow.Table.from_pandas(self.to_pandas(), preserve_index=False)
