"""Plain Python values → typed prompt variables.

Typing happens in two steps so that bad input fails before anything is uploaded:
:func:`classify` looks at a value (reading a path's bytes, encoding a PIL image) and says
what it is; :func:`materialize` then uploads media once per content (reusing the file id
of identical bytes) and returns the wire variable.

=================================  ==================================================
value                              becomes
=================================  ==================================================
``str``, ``int``, ``float``        ``input_text`` (a ``str`` is always text, never a path)
pandas DataFrame                   ``input_text``: its CSV (no index)
``pathlib.Path``                   uploaded; ``input_image`` if an image, else ``input_file``
``bytes`` / binary file object     the same, typed by magic bytes
PIL image                          encoded as PNG, uploaded, ``input_image``
:class:`~llamabook.types.File`     ``input_image`` or ``input_file`` by its filename
typed dict / variable model        validated and used as is
=================================  ==================================================
"""

from __future__ import annotations

import io
import os
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path, PurePath
from typing import Any, Literal

from pydantic import ValidationError

from ._lazy import load
from .errors import FileTooLarge, InvalidRequest, InvalidVariable
from .media import sniff_mime
from .types import VARIABLE_ADAPTER, File, InputFile, InputImage, InputText, Variable

Kind = Literal["text", "image", "file"]

_EXTENSIONS = {"image/png": ".png", "image/jpeg": ".jpg", "image/gif": ".gif", "image/webp": ".webp", "application/pdf": ".pdf"}


@dataclass
class Classified:
    """A value whose kind is known; media bytes not yet uploaded."""

    name: str
    kind: Kind
    variable: Variable | None = None
    data: bytes | None = None
    filename: str | None = None
    source: str = ""  # a short description for messages and displays


def kind_of(variable: Variable) -> Kind:
    if isinstance(variable, InputImage):
        return "image"
    if isinstance(variable, InputFile):
        return "file"
    return "text"


def classify(name: str, value: Any, *, max_bytes: int | None = None) -> Classified:
    """Decide what ``value`` is without uploading anything. Raises :class:`InvalidVariable`."""
    if isinstance(value, (InputText, InputImage, InputFile)):
        return Classified(name, kind_of(value), variable=value, source=value.type)
    if isinstance(value, dict):
        try:
            variable = VARIABLE_ADAPTER.validate_python(value)
        except ValidationError as exc:
            raise InvalidVariable(
                f"Variable {name!r}: {value!r} is not a typed variable ({_first_error(exc)}). Use "
                "{'type': 'input_text', 'text': ...}, input_image with file_id/image_url, or input_file "
                "with file_id/file_data/file_url - or just pass a str, Path, bytes or PIL image."
            ) from None
        return Classified(name, kind_of(variable), variable=variable, source=variable.type)
    if isinstance(value, str):
        return Classified(name, "text", variable=InputText(text=value), source="str")
    if isinstance(value, (int, float, Decimal)):
        return Classified(name, "text", variable=InputText(text=str(value)), source=type(value).__name__)
    if is_dataframe(value):
        rows, columns = value.shape
        text = value.to_csv(index=False)
        return Classified(name, "text", variable=InputText(text=text), source=f"DataFrame {rows}x{columns} as CSV")
    if isinstance(value, File):
        kind: Kind = "image" if value.mime_type.startswith("image/") else "file"
        variable = InputImage(file_id=value.id) if kind == "image" else InputFile(file_id=value.id, filename=value.filename)
        return Classified(name, kind, variable=variable, source=f"file {value.id} ({value.filename})")
    if isinstance(value, PurePath):
        path = Path(value).expanduser()
        if not path.is_file():
            raise InvalidVariable(f"Variable {name!r}: no file at {str(path)!r}. Check the path.")
        _check_size(path.stat().st_size, max_bytes, path.name)
        return _from_bytes(name, path.read_bytes(), path.name, source=f"path {path}")
    if isinstance(value, (bytes, bytearray, memoryview)):
        return _from_bytes(name, bytes(value), None, source=f"{len(value):,} bytes", max_bytes=max_bytes)
    if _is_pil_image(value):
        buffer = io.BytesIO()
        value.save(buffer, format="PNG")
        return _from_bytes(name, buffer.getvalue(), f"{name}.png", source=f"PIL image {value.size[0]}x{value.size[1]}", max_bytes=max_bytes)
    if hasattr(value, "read"):
        data = value.read()
        if not isinstance(data, bytes):
            raise InvalidVariable(f"Variable {name!r}: open the file in binary mode ('rb')")
        filename = os.path.basename(getattr(value, "name", "") or "") or None
        return _from_bytes(name, data, filename, source=f"file object {filename or ''}".strip(), max_bytes=max_bytes)
    raise InvalidVariable(
        f"Variable {name!r} is a {type(value).__name__}, which llamabook cannot type. Pass a str (text), "
        "a pathlib.Path, bytes, a PIL image, a File, or a typed dict like {'type': 'input_text', 'text': ...}."
    )


def _from_bytes(name: str, data: bytes, filename: str | None, *, source: str, max_bytes: int | None = None) -> Classified:
    _check_size(len(data), max_bytes, filename or name)
    if not data:
        raise InvalidVariable(f"Variable {name!r}: {filename or 'the value'} is empty (0 bytes); pass a file with content")
    mime = sniff_mime(data, filename)
    filename = filename or name + _EXTENSIONS.get(mime, ".bin")
    kind: Kind = "image" if mime.startswith("image/") else "file"
    if kind == "image":
        check_image(name, data, filename)
    return Classified(name, kind, data=data, filename=filename, source=source)


def check_image(name: str, data: bytes, filename: str) -> None:
    """Decode an image once, so a truncated, corrupt or decompression-bomb image fails before upload."""
    Image = load("PIL.Image")
    try:
        with Image.open(io.BytesIO(data)) as image:
            width, height = image.size
            if width * height > Image.MAX_IMAGE_PIXELS:
                raise Image.DecompressionBombError(f"{width}x{height} pixels")
            image.load()
    except Image.DecompressionBombError as exc:
        raise InvalidVariable(
            f"Variable {name!r}: image {filename!r} is too large to decode ({exc}; the limit is "
            f"{Image.MAX_IMAGE_PIXELS:,} pixels). Resize it first."
        ) from None
    except Exception as exc:  # Pillow raises OSError, SyntaxError, ValueError… for broken data
        raise InvalidVariable(
            f"Variable {name!r}: image {filename!r} cannot be decoded ({type(exc).__name__}: {exc}); "
            "it may be truncated or corrupt. Re-export it."
        ) from None


def check_variable_file(name: str, data: bytes, filename: str) -> str:
    """The MIME type of bytes meant for file variable ``name``: an image that decodes, or a PDF.

    Anything else is an :class:`InvalidRequest` saying what to upload instead; a broken image is
    an :class:`InvalidVariable` (see :func:`check_image`). Nothing is stored.
    """
    mime = sniff_mime(data, filename)
    if not (mime.startswith("image/") or mime == "application/pdf"):
        raise InvalidRequest(f"{filename!r} is {mime}: upload an image (PNG, JPEG, GIF, WebP) or a PDF")
    if mime.startswith("image/"):
        check_image(name, data, filename)  # a truncated or bomb image fails here, not after it is stored
    return mime


def _check_size(size: int, limit: int | None, filename: str) -> None:
    if limit is not None and size > limit:
        raise FileTooLarge(size, limit, filename)


#: How many characters of a text :func:`describe` shows (the rest is cut with "…").
DESCRIBED_CHARS = 40


def describe(value: Any) -> str:
    """A value as a short note says what it is, by the same rules :func:`classify` types it:
    the text itself (shortened), ``'Path x.pdf'``, ``'bytes (1,024)'``, ``'PIL image 64x64'``,
    ``'File x.pdf'``, ``'DataFrame 3x2 as CSV'``, else the type's name. Nothing is read or encoded."""
    if is_dataframe(value):
        return f"DataFrame {value.shape[0]}x{value.shape[1]} as CSV"
    if isinstance(value, PurePath):
        return f"Path {value.name}"
    if isinstance(value, (bytes, bytearray, memoryview)):
        return f"bytes ({len(value):,})"
    if _is_pil_image(value):
        return f"PIL image {value.size[0]}x{value.size[1]}"
    if isinstance(value, File):
        return f"File {value.filename}"
    if isinstance(value, (str, int, float)) and not isinstance(value, bool):
        shown = repr(value)
        return shown if len(shown) <= DESCRIBED_CHARS else shown[: DESCRIBED_CHARS - 2] + "…" + shown[0]
    return type(value).__name__


def is_dataframe(value: Any) -> bool:
    kind = type(value)
    return kind.__name__ == "DataFrame" and kind.__module__.startswith("pandas") and hasattr(value, "to_csv")


def _is_pil_image(value: Any) -> bool:
    module = type(value).__module__ or ""
    return module.startswith("PIL.") and hasattr(value, "save") and hasattr(value, "size")


def _first_error(exc: ValidationError) -> str:
    error = exc.errors()[0]
    return error.get("msg", str(exc))


def materialize(item: Classified, upload: Callable[[bytes, str], File]) -> Variable:
    """The wire variable for a classified value, uploading its bytes if needed."""
    if item.variable is not None:
        return item.variable
    assert item.data is not None and item.filename is not None
    stored = upload(item.data, item.filename)
    if item.kind == "image":
        return InputImage(file_id=stored.id)
    return InputFile(file_id=stored.id, filename=item.filename)
