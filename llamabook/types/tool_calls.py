"""The Responses API's function-call items: a call the model asks for (an output item) and its result (an input item).

Their wire form is OpenAI's, which Llama Stack and OGX share::

    {"type": "function_call", "call_id": "call_1", "name": "get_weather", "arguments": "{\"city\": \"Cork\"}",
     "id": "fc_1", "status": "completed"}
    {"type": "function_call_output", "call_id": "call_1", "output": "12 °C, rain"}
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any, Literal, Union

from ..errors import ToolArgumentsInvalid
from .base import WireModel


class FunctionCall(WireModel):
    """An output item: the model asks for a call of the function ``name`` with ``arguments`` (JSON text).

    The answer goes back as a :class:`FunctionCallOutput` with the same ``call_id``.
    """

    type: Literal["function_call"] = "function_call"
    call_id: str
    name: str
    #: the arguments as the model wrote them: JSON text of an object (read them with :meth:`parsed_arguments`)
    arguments: str = ""
    id: str | None = None
    status: str | None = None

    def parsed_arguments(self) -> dict[str, Any]:
        """The arguments as a dict; :class:`~llamabook.ToolArgumentsInvalid` when they are not a JSON object.

        Empty ``arguments`` (a function without parameters, as some servers send it) are ``{}``.
        """
        if not self.arguments.strip():
            return {}
        try:
            value = json.loads(self.arguments)
        except ValueError as exc:
            raise ToolArgumentsInvalid(self.name, self.call_id, self.arguments, f"not JSON ({exc})") from None
        if not isinstance(value, dict):
            raise ToolArgumentsInvalid(self.name, self.call_id, self.arguments, f"a JSON {type(value).__name__}")
        return value


class FunctionCallOutput(WireModel):
    """An input item: the result of the call ``call_id``, as text (or content parts), sent back to the model."""

    type: Literal["function_call_output"] = "function_call_output"
    call_id: str
    output: Union[str, list[dict[str, Any]]]
    id: str | None = None
    status: str | None = None


#: The ``type`` of the input items that are not messages: a call (echoed back) and a call's result.
TOOL_ITEM_TYPES = ("function_call", "function_call_output")


def has_tool_items(input: Any) -> bool:
    """True when a request's ``input`` (a str, or a list of items) holds tool items, not only messages."""
    return isinstance(input, (list, tuple)) and any(
        isinstance(item, Mapping) and item.get("type") in TOOL_ITEM_TYPES for item in input
    )
