"""Pydantic models of the wire objects (no I/O)."""

from .base import ObjectList, WireModel
from .batches import FINISHED_BATCH_STATUSES, Batch, BatchCounts
from .events import (
    STREAM_EVENT_ADAPTER,
    TERMINAL_EVENTS,
    ContentPartAdded,
    ContentPartDone,
    OutputItemAdded,
    OutputItemDone,
    OutputTextDelta,
    ResponseCompleted,
    ResponseCreated,
    ResponseFailed,
    ResponseIncomplete,
    ResponseInProgress,
    StreamEvent,
)
from .files import LLAMA_STACK_PURPOSES, OPENAI_PURPOSES, PURPOSES, DeletedObject, File
from .ids import new_file_id, new_message_id, new_prompt_id, new_response_id
from .models import Model
from .prompts import LabelMove, Prompt
from .responses import (
    InputItem,
    OutputMessage,
    OutputText,
    Response,
    ResponseError,
    ResponseTrace,
    Usage,
)
from .tool_calls import TOOL_ITEM_TYPES, FunctionCall, FunctionCallOutput
from .variables import VARIABLE_ADAPTER, InputFile, InputImage, InputText, PromptReference, Variable

__all__ = [
    "FINISHED_BATCH_STATUSES",
    "Batch",
    "BatchCounts",
    "LLAMA_STACK_PURPOSES",
    "OPENAI_PURPOSES",
    "PURPOSES",
    "STREAM_EVENT_ADAPTER",
    "TERMINAL_EVENTS",
    "TOOL_ITEM_TYPES",
    "ContentPartAdded",
    "ContentPartDone",
    "DeletedObject",
    "File",
    "FunctionCall",
    "FunctionCallOutput",
    "InputFile",
    "InputImage",
    "InputItem",
    "InputText",
    "LabelMove",
    "Model",
    "ObjectList",
    "OutputItemAdded",
    "OutputItemDone",
    "OutputMessage",
    "OutputText",
    "OutputTextDelta",
    "Prompt",
    "PromptReference",
    "Response",
    "ResponseCompleted",
    "ResponseCreated",
    "ResponseError",
    "ResponseFailed",
    "ResponseInProgress",
    "ResponseIncomplete",
    "ResponseTrace",
    "StreamEvent",
    "Usage",
    "VARIABLE_ADAPTER",
    "Variable",
    "WireModel",
    "new_file_id",
    "new_message_id",
    "new_prompt_id",
    "new_response_id",
]
