"""The three typed prompt variables and the ``prompt=`` reference of a response."""

from __future__ import annotations

from typing import Annotated, Literal, Union

from pydantic import Field, TypeAdapter, model_validator

from .base import WireModel


class InputText(WireModel):
    type: Literal["input_text"] = "input_text"
    text: str


class InputImage(WireModel):
    type: Literal["input_image"] = "input_image"
    file_id: str | None = None
    image_url: str | None = None
    detail: Literal["low", "high", "auto"] = "auto"

    @model_validator(mode="after")
    def _needs_source(self) -> InputImage:
        if not (self.file_id or self.image_url):
            raise ValueError("input_image needs a file_id or an image_url")
        return self


class InputFile(WireModel):
    type: Literal["input_file"] = "input_file"
    file_id: str | None = None
    file_data: str | None = None
    file_url: str | None = None
    filename: str | None = None

    @model_validator(mode="after")
    def _needs_source(self) -> InputFile:
        if not (self.file_id or self.file_data or self.file_url):
            raise ValueError("input_file needs one of file_id, file_data or file_url")
        return self


Variable = Annotated[Union[InputText, InputImage, InputFile], Field(discriminator="type")]
VARIABLE_ADAPTER: TypeAdapter[Variable] = TypeAdapter(Variable)


class PromptReference(WireModel):
    """``prompt=`` of a Responses request, echoed on the response."""

    id: str
    version: str | None = None
    variables: dict[str, Variable] | None = None
