"""Turn neutral media parts into what an engine accepts.

An engine declares what it accepts (``text``, ``image``, ``file``). Images go to an
image-capable engine as ``data:`` URLs; for a text-only engine they are an error unless
the caller opts into a short text description. PDFs become text with ``pypdf`` when the
engine cannot take file parts (or when asked to). Everything here runs before a single
token is generated, so a bad input never leaves half a response behind.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import io
import mimetypes
import threading
from collections import OrderedDict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from ._lazy import load
from .errors import InvalidVariable, UnsupportedInput

#: Reads a stored file: returns (content, filename).
FileReader = Callable[[str], "tuple[bytes, str]"]


@dataclass(frozen=True)
class MediaOptions:
    """How to treat media for one request."""

    accepts: frozenset[str]
    model: str
    describe_images: bool = False
    pdf_to_text: bool | None = None  # None: only when the engine cannot take files


@dataclass
class MediaBlob:
    name: str
    filename: str
    mime: str
    data: bytes | None  # None when only a URL is known
    url: str | None = None
    file_id: str | None = None


def sniff_mime(data: bytes, filename: str | None = None) -> str:
    """MIME type from magic bytes, falling back to the filename."""
    if data.startswith(b"%PDF"):
        return "application/pdf"
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if data.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if data[:6] in (b"GIF87a", b"GIF89a"):
        return "image/gif"
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "image/webp"
    if filename:
        guessed = mimetypes.guess_type(filename)[0]
        if guessed:
            return guessed
    return "application/octet-stream"


def describe_image(blob: MediaBlob) -> str:
    """A one-line text stand-in for an image, for text-only models."""
    details = [blob.filename, blob.mime]
    if blob.data is not None:
        details.append(f"{len(blob.data):,} bytes")
        size = image_size(blob.data)
        if size:
            details.append(f"{size[0]}x{size[1]} pixels")
    elif blob.url:
        details.append(blob.url)
    return f"[Image {blob.name}: " + ", ".join(details) + "]"


def image_size(data: bytes) -> tuple[int, int] | None:
    try:
        with load("PIL.Image").open(io.BytesIO(data)) as image:
            return image.size
    except Exception:  # not an image Pillow can read: describe without dimensions
        return None


_PDF_TEXTS: OrderedDict[str, tuple[str, int]] = OrderedDict()  # sha256 -> (text, pages), newest last
_PDF_TEXTS_KEPT = 16
_pdf_texts_lock = threading.Lock()


def pdf_text(data: bytes) -> tuple[str, int]:
    """Extract the text of a PDF with pypdf; returns (text, page count).

    The last few results are kept by content hash: a PDF variable is read once to check it
    before upload and again when the messages are built.
    """
    key = hashlib.sha256(data).hexdigest()
    with _pdf_texts_lock:
        if key in _PDF_TEXTS:
            _PDF_TEXTS.move_to_end(key)
            return _PDF_TEXTS[key]
    result = _extract_pdf_text(data)
    with _pdf_texts_lock:
        _PDF_TEXTS[key] = result
        while len(_PDF_TEXTS) > _PDF_TEXTS_KEPT:
            _PDF_TEXTS.popitem(last=False)
    return result


def _extract_pdf_text(data: bytes) -> tuple[str, int]:
    try:
        reader = load("pypdf").PdfReader(io.BytesIO(data))
        if reader.is_encrypted and not reader.decrypt(""):
            raise InvalidVariable("The PDF is encrypted (password-protected): decrypt it first, e.g. with pypdf")
        pages = [page.extract_text() or "" for page in reader.pages]
    except InvalidVariable:
        raise
    except Exception as exc:
        raise InvalidVariable(f"Could not read the PDF: {exc}. Check that the file is a valid PDF.") from exc
    return "\n\n".join(p.strip() for p in pages).strip(), len(pages)


def data_url(mime: str, data: bytes) -> str:
    return f"data:{mime};base64,{base64.b64encode(data).decode('ascii')}"


def _decode_data(value: str, filename: str) -> tuple[bytes, str]:
    try:
        if value.startswith("data:"):
            header, _, payload = value.partition(",")
            mime = header[5:].split(";")[0] or sniff_mime(b"", filename)
            return base64.b64decode(payload, validate=True), mime
        raw = base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise InvalidVariable(f"file_data of {filename!r} is not valid base64 or a data: URL") from exc
    return raw, sniff_mime(raw, filename)


def load_blob(part: dict[str, Any], read_file: FileReader) -> MediaBlob:
    """Fetch the bytes behind a neutral media part."""
    name = part.get("name", "attachment")
    if part.get("file_id"):
        data, filename = read_file(part["file_id"])
        filename = part.get("filename") or filename
        return MediaBlob(name, filename, sniff_mime(data, filename), data, file_id=part["file_id"])
    filename = part.get("filename") or name
    if part.get("file_data"):
        data, mime = _decode_data(part["file_data"], filename)
        return MediaBlob(name, filename, mime, data)
    url = part.get("image_url") or part.get("file_url")
    if url and url.startswith("data:"):
        data, mime = _decode_data(url, filename)
        return MediaBlob(name, filename, mime, data)
    return MediaBlob(name, filename, mimetypes.guess_type(url or "")[0] or "application/octet-stream", None, url=url)


def adapt_part(part: dict[str, Any], options: MediaOptions, read_file: FileReader) -> dict[str, Any]:
    """One neutral part → one engine-ready chat content part."""
    kind = part.get("type")
    if kind == "text":
        return part
    blob = load_blob(part, read_file)
    if kind == "input_image":
        if "image" in options.accepts:
            url = data_url(blob.mime, blob.data) if blob.data is not None else blob.url
            return {"type": "image_url", "image_url": {"url": url, "detail": part.get("detail", "auto")}}
        if options.describe_images:
            return {"type": "text", "text": describe_image(blob)}
        raise UnsupportedInput(
            f"Model {options.model!r} is text-only and cannot see image {blob.name!r}. "
            "Use a model that accepts images (see client.models.list()), or pass "
            "describe_images=True to send a short text description of the image instead.",
            model=options.model,
            kind="image",
        )
    if kind == "input_file":
        wants_text = options.pdf_to_text if options.pdf_to_text is not None else "file" not in options.accepts
        if not wants_text:
            url = data_url(blob.mime, blob.data) if blob.data is not None else blob.url
            return {"type": "file", "file": {"file_data": url, "filename": blob.filename}}
        return {"type": "text", "text": file_as_text(blob, options.model)}
    raise InvalidVariable(f"Unknown content part type {kind!r}")


def file_as_text(blob: MediaBlob, model: str) -> str:
    if blob.data is None:
        raise UnsupportedInput(
            f"Model {model!r} cannot read file {blob.name!r} by URL. Download it and pass the bytes or a Path.",
            model=model,
            kind="file",
        )
    if blob.mime == "application/pdf":
        text, pages = pdf_text(blob.data)
        return f"[File {blob.name}: {blob.filename}, {pages} page(s)]\n{text}"
    if blob.mime.startswith("text/") or blob.mime in ("application/json", "application/csv"):
        try:
            text = blob.data.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise InvalidVariable(
                f"File {blob.filename!r} is not UTF-8 text (byte {exc.start} cannot be decoded); "
                "save it as UTF-8, or pass its text as a str"
            ) from None
        return f"[File {blob.name}: {blob.filename}]\n{text}"
    raise UnsupportedInput(
        f"Model {model!r} cannot take file {blob.filename!r} ({blob.mime}): only PDFs and text files "
        "can be turned into text. Convert it first, or use a model that accepts file parts.",
        model=model,
        kind="file",
    )


def adapt_messages(
    messages: Sequence[dict[str, Any]], options: MediaOptions, read_file: FileReader
) -> list[dict[str, Any]]:
    """Engine-ready messages; a message whose parts are all text becomes one string."""
    adapted: list[dict[str, Any]] = []
    for message in messages:
        content = message["content"]
        if isinstance(content, str):
            adapted.append(dict(message))
            continue
        parts = [adapt_part(p, options, read_file) for p in content]
        if all(p["type"] == "text" for p in parts):
            adapted.append({"role": message["role"], "content": "\n\n".join(p["text"] for p in parts)})
        else:
            adapted.append({"role": message["role"], "content": parts})
    return adapted


def redact_inline_data(messages: Sequence[dict[str, Any]], limit: int = 120) -> list[dict[str, Any]]:
    """A copy fit for storage: long ``data:`` URLs are shortened to their header and size."""

    def shorten(value: Any) -> Any:
        if isinstance(value, str) and value.startswith("data:") and len(value) > limit:
            header = value.split(",", 1)[0]
            return f"{header},<{len(value) - len(header) - 1} base64 chars>"
        if isinstance(value, dict):
            return {k: shorten(v) for k, v in value.items()}
        if isinstance(value, list):
            return [shorten(v) for v in value]
        return value

    return [shorten(m) for m in messages]
