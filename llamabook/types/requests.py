"""A Responses request after the Client has checked it: what a backend is asked to run."""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

from .ids import new_response_id
from .responses import Response
from .variables import PromptReference


@dataclass
class ResponseRequest:
    """A Responses request after the Client has checked it (prompt version resolved, variables typed)."""

    model: str
    input: str | list[dict[str, Any]] | None = None
    instructions: str | None = None
    prompt: PromptReference | None = None
    temperature: float | None = None
    top_p: float | None = None
    max_output_tokens: int | None = None
    metadata: dict[str, str] | None = None
    previous_response_id: str | None = None
    store: bool = True
    #: the Responses API's ``text`` as given, e.g. ``{"format": {"type": "json_schema", "name": …, "schema": {…}}}``
    text: dict[str, Any] | None = None
    #: the prompt as the user gave it, recorded with the response when ``prompt`` was rewritten
    #: (media a model can't take replaced by text: see ``llamabook.media_fallback``)
    given_prompt: PromptReference | None = None
    # llamabook options, not sent to servers
    prompt_template: str | None = None
    describe_images: bool = False
    pdf_to_text: bool | None = None

    def new_response(self, status: str, *, model: str | None = None, prompt: PromptReference | None = None) -> Response:
        """A response to this request, not yet generated: a new id, now, and the request's options echoed."""
        return Response(
            id=new_response_id(),
            created_at=int(time.time()),
            status=status,  # type: ignore[arg-type]
            model=model or self.model,
            prompt=prompt or self.prompt,
            instructions=self.instructions,
            previous_response_id=self.previous_response_id,
            temperature=self.temperature,
            top_p=self.top_p,
            max_output_tokens=self.max_output_tokens,
            metadata=self.metadata,
            store=self.store,
            text=self.text if self.text is not None else {"format": {"type": "text"}},
        )

    @property
    def json_schema(self) -> dict[str, Any] | None:
        """The JSON Schema the output must follow, or None for free text.

        ``json_object`` (JSON mode: any JSON object) is the schema ``{"type": "object"}``.
        """
        fmt = (self.text or {}).get("format") or {}
        if fmt.get("type") == "json_schema":
            return fmt["schema"]
        if fmt.get("type") == "json_object":
            return {"type": "object"}
        return None
