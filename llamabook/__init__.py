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
    GateFailed,
    InputError,
    InvalidRequest,
    InvalidTool,
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
    ToolArgumentsInvalid,
    ToolChoiceIgnored,
    ToolLoopWarning,
    ToolsUnsupported,
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
    "agreement": "llamabook.evaluation.agreement",
    "behaviour_diff": "llamabook.evaluation.behaviour_diff",
    "scores": "llamabook.evaluation.scores",
    "significance": "llamabook.evaluation.significance",
    "assert_no_regression": "llamabook.evaluation.significance",
    "FunctionCall": "llamabook.types",
    "FunctionTool": "llamabook.tools",
    "function_tool": "llamabook.tools",
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
    from .evaluation.agreement import agreement
    from .evaluation.behaviour_diff import behaviour_diff
    from .evaluation.compare import Comparison, compare
    from .diffs import PromptDiff
    from .evaluation.scores import scores
    from .evaluation.significance import assert_no_regression, significance
    from .types import LabelMove
    from .types.refs import PromptRef
    from .tools import FunctionTool, function_tool
    from .types import FunctionCall


__getattr__, __dir__ = lazy_attributes(__name__, _LAZY, globals(), modules=_LAZY_MODULES)
_moved.install()  # old module paths (llamabook.batch, llamabook.checks, …) still import, with a DeprecationWarning


def _show_grids_compactly() -> None:
    """In a running IPython kernel, a grid's DataFrame shows as a compact table (every other one as pandas shows it)."""
    import sys

    if "IPython" in sys.modules:  # a plain script or a worker never pays for the views
        from .views.grids import show_grids_in_running_kernel

        show_grids_in_running_kernel()


_show_grids_compactly()


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
    "FunctionCall",
    "FunctionTool",
    "GateFailed",
    "InputError",
    "InputFile",
    "InputImage",
    "InputText",
    "InvalidRequest",
    "InvalidTool",
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
    "ToolArgumentsInvalid",
    "ToolChoiceIgnored",
    "ToolLoopWarning",
    "ToolsUnsupported",
    "UndeclaredVariables",
    "UnknownVariables",
    "UnsupportedInput",
    "VersionConflict",
    "VersionNotFound",
    "agreement",
    "assert_no_regression",
    "behaviour_diff",
    "checks",
    "compare",
    "function_tool",
    "scores",
    "significance",
    "__version__",
]
