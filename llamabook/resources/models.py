"""``client.models``: what this backend can run."""

from __future__ import annotations

from ..backends.base import Backend
from ..errors import ModelNotFound
from ..types import Model, ObjectList


class Models:
    def __init__(self, backend: Backend) -> None:
        self._backend = backend

    def list(self) -> ObjectList[Model]:
        """Every model, with what it accepts (``text``, ``image``, ``file``)."""
        return ObjectList(self._backend.list_models(), Model)

    def retrieve(self, model_id: str) -> Model:
        for model in self._backend.list_models():
            if model.id == model_id:
                return model
        available = [m.id for m in self._backend.list_models()]
        raise ModelNotFound(f"Model {model_id!r} is not available here; choose one of {available}")

    def default(self) -> str:
        """The model used when ``model=`` is not given."""
        return self._backend.default_model()
