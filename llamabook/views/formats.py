"""Plain formats the views and the widgets share: sizes, times, thumbnails, template segments, status colours."""

from __future__ import annotations

import base64
import io
import time

from ..templates import PLACEHOLDER


STATUS_COLOURS = {
    "completed": "#1a7f37",
    "failed": "#cf222e",
    "incomplete": "#9a6700",
    "cancelled": "#9a6700",
    "in_progress": "#0969da",
    "queued": "#6e7781",
}


# ---- small helpers -----------------------------------------------------------------------------


def human_size(size: int | None) -> str:
    """``1234567`` → ``'1.2 MB'`` (decimal units, as file browsers show them)."""
    if size is None:
        return ""
    value = float(size)
    for unit in ("B", "KB", "MB", "GB"):
        if value < 1000 or unit == "GB":
            return f"{int(value)} B" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1000
    return f"{size} B"  # pragma: no cover


def when(timestamp: int | float | None) -> str:
    """A Unix timestamp as ``YYYY-MM-DD HH:MM:SS UTC``."""
    if timestamp is None:
        return ""
    return time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime(timestamp))


def thumbnail(data: bytes, max_px: int = 96) -> str | None:
    """A PNG ``data:`` URL of the image scaled to fit ``max_px``, or None if it is not an image."""
    try:
        from PIL import Image

        with Image.open(io.BytesIO(data)) as image:
            image.thumbnail((max_px, max_px))
            if image.mode not in ("RGB", "RGBA", "L", "LA", "P"):
                image = image.convert("RGBA")
            out = io.BytesIO()
            image.save(out, format="PNG")
    except Exception:  # not an image Pillow can read: show no thumbnail
        return None
    return "data:image/png;base64," + base64.b64encode(out.getvalue()).decode("ascii")


def template_segments(template: str) -> list[tuple[str, str]]:
    """``("text", ...)`` and ``("var", "{{name}}")`` pieces, to highlight placeholders safely."""
    pieces: list[tuple[str, str]] = []
    last = 0
    for match in PLACEHOLDER.finditer(template or ""):
        if match.start() > last:
            pieces.append(("text", template[last : match.start()]))
        pieces.append(("var", match.group(0)))
        last = match.end()
    if last < len(template or ""):
        pieces.append(("text", template[last:]))
    return pieces


#: How a response cut off at its token limit is marked, in every view.
CUT_OFF_MARK = "cut off at max_output_tokens"
#: What every view shows where a latency would be, for an answer replayed from a cassette (it has none).
REPLAYED_MARK = "replayed"
