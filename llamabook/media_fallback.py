"""Text stand-ins for media, for a server-side model that cannot take them.

A Llama Stack server sends image and file variables to its model as content parts; a
text-only model behind it fails or ignores them. When the chosen model is declared
text-only, the client rewrites the request the way the embedded backend renders it: the
variable becomes the placeholder text the server would have written (``[Image: name]`` /
``[File: name]``), and one user message with the description or the PDF's text is appended
after the input — so the model sees the same messages on both backends.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from typing import Any

from .types.requests import ResponseRequest
from .media import MediaOptions, adapt_part
from .types import InputFile, InputImage, InputItem, InputText, PromptReference

FileReader = Callable[[str], "tuple[bytes, str]"]

FALLBACK_MESSAGE_ID = "msg_llamabook_media_as_text"


def needs_fallback(variable: Any, options: MediaOptions) -> bool:
    if isinstance(variable, InputImage):
        return "image" not in options.accepts
    if isinstance(variable, InputFile):
        return options.pdf_to_text if options.pdf_to_text is not None else "file" not in options.accepts
    return False


def rewrite(request: ResponseRequest, options: MediaOptions, read_file: FileReader) -> ResponseRequest:
    """The request with media a text-only model cannot take replaced by text."""
    prompt = request.prompt
    if prompt is None or not prompt.variables:
        return request
    variables = dict(prompt.variables)
    texts: list[str] = []
    for name, value in prompt.variables.items():
        if not needs_fallback(value, options):
            continue
        kind = "Image" if isinstance(value, InputImage) else "File"
        part = {"name": name, **value.model_dump(exclude_none=True)}
        texts.append(adapt_part(part, options, read_file)["text"])
        variables[name] = InputText(text=f"[{kind}: {name}]")
    if not texts:
        return request
    extra = {
        "type": "message",
        "id": FALLBACK_MESSAGE_ID,
        "role": "user",
        # a plain string: chat templates of small local models do not render content-part lists
        "content": "\n\n".join(texts),
    }
    base = [{"role": "user", "content": request.input}] if isinstance(request.input, str) else list(request.input or [])
    return replace(
        request,
        input=[*base, extra],
        prompt=PromptReference(id=prompt.id, version=prompt.version, variables=variables),
        given_prompt=prompt,
    )


def as_given(items: list[InputItem]) -> list[InputItem]:
    """A request's input items as the user gave them: without the message :func:`rewrite` added."""
    return [item for item in items if item.id != FALLBACK_MESSAGE_ID]
