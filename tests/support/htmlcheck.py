"""Read HTML the way a browser parses its tags, to check that nothing active survived."""

from __future__ import annotations

from html.parser import HTMLParser

#: Tags that run code or change the page around them.
ACTIVE_TAGS = {"script", "iframe", "object", "embed", "style", "link", "meta", "base", "form", "svg", "math"}
URL_ATTRIBUTES = {"href", "src", "action", "formaction", "xlink:href", "srcset", "background", "poster"}


class _Tags(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, dict[str, str]]] = []
        self.text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, {name: value or "" for name, value in attrs}))

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.handle_starttag(tag, attrs)

    def handle_data(self, data: str) -> None:
        self.text.append(data)


def parse(html: str) -> _Tags:
    parser = _Tags()
    parser.feed(html)
    parser.close()
    return parser


def tags(html: str) -> list[tuple[str, dict[str, str]]]:
    """Every start tag with its attributes, in order."""
    return parse(html).tags


def text(html: str) -> str:
    """The text a reader sees (entities decoded)."""
    return "".join(parse(html).text)


def active_parts(html: str) -> list[str]:
    """What could run script: active tags, ``on*`` attributes, ``javascript:``/``vbscript:``/``data:text`` URLs."""
    found = []
    for tag, attrs in tags(html):
        if tag in ACTIVE_TAGS:
            found.append(f"<{tag}>")
        for name, value in attrs.items():
            if name.startswith("on"):
                found.append(f"<{tag} {name}=…>")
            squeezed = "".join(value.split()).lower()
            if name in URL_ATTRIBUTES and squeezed.startswith(("javascript:", "vbscript:", "data:text")):
                found.append(f"<{tag} {name}={value!r}>")
    return found
