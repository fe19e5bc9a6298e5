"""The one path that makes text inert: Markdown rendered with raw HTML off and sanitized with an
allowlist, and every HTML string made by a jinja2 template with autoescaping.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .formats import STATUS_COLOURS, human_size, when

if TYPE_CHECKING:
    import jinja2


#: Tags and attributes model output may keep after Markdown rendering; everything else is dropped.
ALLOWED_TAGS = frozenset(
    "a p br hr em strong del s code pre blockquote ul ol li h1 h2 h3 h4 h5 h6 table thead tbody tr th td".split()
)
ALLOWED_ATTRIBUTES: dict[str, set[str]] = {
    "a": {"href", "title"},
    "ol": {"start"},
    "th": {"style"},
    "td": {"style"},
}
URL_SCHEMES = frozenset({"http", "https", "mailto"})
# ---- Markdown, sanitized ---------------------------------------------------------------------


@lru_cache(maxsize=1)
def _markdown() -> Any:
    from markdown_it import MarkdownIt

    # html=False: raw HTML in the text is shown as text; tables and ~~strike~~ as in GitHub.
    # No images: ![alt](url) stays a link, so model output never makes the page fetch a URL
    # (a known way for injected instructions to send data out).
    # breaks=True: a model's single line breaks stay line breaks (Markdown would join the lines).
    md = MarkdownIt("commonmark", {"html": False, "linkify": False, "breaks": True})
    return md.enable(["table", "strikethrough"]).disable("image")


def safe_markdown_html(text: str) -> str:
    """Model text as HTML that is safe to insert into a page.

    The Markdown is rendered with raw HTML disabled, then cleaned with an allowlist of tags
    and attributes (nh3): no script, no event handlers, no style beyond table alignment, no
    images (``![alt](url)`` becomes a link, so nothing is fetched), and links only to http(s)
    and mailto, opened with ``rel="noopener noreferrer nofollow"``.
    """
    import nh3

    rendered = _markdown().render(text or "")
    return nh3.clean(
        rendered,
        tags=set(ALLOWED_TAGS),
        attributes=ALLOWED_ATTRIBUTES,
        url_schemes=set(URL_SCHEMES),
        filter_style_properties={"text-align"},
        link_rel="noopener noreferrer nofollow",
        strip_comments=True,
    )


# ---- jinja2 ------------------------------------------------------------------------------------


@lru_cache(maxsize=1)
def environment() -> jinja2.Environment:
    """The jinja2 environment of these views: package templates, autoescaping always on."""
    import jinja2

    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(Path(__file__).with_name("templates")),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["size"] = human_size
    env.filters["when"] = when
    env.globals["colour"] = lambda status: STATUS_COLOURS.get(str(status), "#6e7781")
    return env


def render(name: str, **context: Any) -> str:
    """Render one of the package templates (``templates/<name>``) with autoescaping."""
    return environment().get_template(name).render(**context)


def _safe(html: str) -> Any:
    """Mark HTML that was produced by this module (sanitized or rendered) as safe for jinja."""
    from markupsafe import Markup

    return Markup(html)
