"""llamabook: Llama Stack-style Prompts, Files and Responses from Jupyter.

``import llamabook`` is cheap: the client, the wire types and every heavy runtime
(pandas, openai, llama_cpp, ipywidgets, IPython) load on first use. ``%load_ext llamabook``
registers the ``%llama`` / ``%%llama`` magics (``llamabook.magics``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from . import _moved
from ._lazy import lazy_attributes
from .errors import (
    BatchStalled,
    BatchesUnsupported,
    CassetteMiss,
    CheckErrorWarning,
    EngineError,
    EngineUnavailable,
    FileNotFound,
    FileTooLarge,
    InputError,
    InvalidRequest,
    InvalidVariable,
    LlamabookError,
    MissingVariables,
    ModelNotFound,
    ModelRejectedInput,
    NotFound,
    OutputFormatUnsupported,
    OutputInvalid,
    PromptNotFound,
    ResponseNotFound,
    UndeclaredVariables,
    UnknownVariables,
    UnsupportedInput,
    VersionConflict,
    VersionNotFound,
)

from ._version import __version__

_LAZY = {
    "Client": "llamabook.client",
    "AsyncClient": "llamabook.aio",
    "ResponseStream": "llamabook.resources.responses",
    "AsyncResponseStream": "llamabook.aio",
    "EmbeddedEngine": "llamabook.engines.embedded",
    "OpenAICompatibleEngine": "llamabook.engines.openai_compatible",
    "Prompt": "llamabook.types",
    "File": "llamabook.types",
    "Response": "llamabook.types",
    "Model": "llamabook.types",
    "InputText": "llamabook.types",
    "InputImage": "llamabook.types",
    "InputFile": "llamabook.types",
    "PromptRef": "llamabook.types.refs",
    "PromptReference": "llamabook.types",
    "ObjectList": "llamabook.types",
    "LabelMove": "llamabook.types",
    "PromptDiff": "llamabook.diffs",
    "Comparison": "llamabook.evaluation.compare",
    "compare": "llamabook.evaluation.compare",
    "scores": "llamabook.evaluation.scores",
}
#: submodules that are part of the public surface, loaded on first use (``lb.checks.contains(...)``)
_LAZY_MODULES = {"checks": "llamabook.evaluation.checks"}

if TYPE_CHECKING:
    from .aio import AsyncClient, AsyncResponseStream
    from .client import Client
    from .engines.embedded import EmbeddedEngine
    from .engines.openai_compatible import OpenAICompatibleEngine
    from .resources.responses import ResponseStream
    from .types import File, InputFile, InputImage, InputText, Model, ObjectList, Prompt, PromptReference, Response
    from .evaluation import checks
    from .evaluation.compare import Comparison, compare
    from .diffs import PromptDiff
    from .evaluation.scores import scores
    from .types import LabelMove
    from .types.refs import PromptRef


__getattr__, __dir__ = lazy_attributes(__name__, _LAZY, globals(), modules=_LAZY_MODULES)
_moved.install()  # old module paths (llamabook.batch, llamabook.checks, …) still import, with a DeprecationWarning


def load_ipython_extension(ipython: Any) -> None:
    """``%load_ext llamabook``: register the ``%llama`` / ``%%llama`` magics (IPython is imported only here)."""
    from .magics import load_ipython_extension as load

    load(ipython)


def unload_ipython_extension(ipython: Any) -> None:
    """``%unload_ext llamabook``: remove the magics."""
    from .magics import unload_ipython_extension as unload

    unload(ipython)


__all__ = [
    "AsyncClient",
    "AsyncResponseStream",
    "BatchStalled",
    "BatchesUnsupported",
    "CassetteMiss",
    "CheckErrorWarning",
    "Client",
    "Comparison",
    "EmbeddedEngine",
    "EngineError",
    "EngineUnavailable",
    "File",
    "FileNotFound",
    "FileTooLarge",
    "InputError",
    "InputFile",
    "InputImage",
    "InputText",
    "InvalidRequest",
    "InvalidVariable",
    "LabelMove",
    "LlamabookError",
    "MissingVariables",
    "Model",
    "ModelNotFound",
    "ModelRejectedInput",
    "NotFound",
    "ObjectList",
    "OpenAICompatibleEngine",
    "OutputFormatUnsupported",
    "OutputInvalid",
    "Prompt",
    "PromptDiff",
    "PromptNotFound",
    "PromptRef",
    "PromptReference",
    "Response",
    "ResponseNotFound",
    "ResponseStream",
    "UndeclaredVariables",
    "UnknownVariables",
    "UnsupportedInput",
    "VersionConflict",
    "VersionNotFound",
    "checks",
    "compare",
    "scores",
    "__version__",
]
