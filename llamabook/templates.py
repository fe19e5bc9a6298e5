"""The server's ``{{placeholder}}`` rule: discovery, validation and rendering.

Llama Stack treats a template as plain text with placeholders matching
``{{\\s*(\\w+)\\s*}}``: no Jinja, no expressions, nothing is ever evaluated. ``{% x %}``,
``{{ a.b }}`` and ``{{a-b}}`` are literal text; ``{{ 9z }}`` is a placeholder. Rendering is
one substitution pass, so a value containing ``{{x}}`` is never expanded again.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping

from .errors import MissingVariables, UndeclaredVariables, UnknownVariables

PLACEHOLDER = re.compile(r"{{\s*(\w+)\s*}}")


def placeholders(template: str) -> list[str]:
    """Names used in ``template``, in order of first appearance, without duplicates."""
    return list(dict.fromkeys(PLACEHOLDER.findall(template or "")))


def check_declared(template: str, variables: Iterable[str]) -> None:
    """Raise :class:`UndeclaredVariables` if the template uses a name not in ``variables``."""
    declared = list(variables)
    undeclared = [name for name in placeholders(template) if name not in declared]
    if undeclared:
        raise UndeclaredVariables(undeclared, declared)


def check_supplied(
    declared: Iterable[str],
    supplied: Iterable[str],
    *,
    strict: bool = True,
    prompt_id: str | None = None,
    named: str | None = None,
) -> None:
    """Check supplied variable names against the declared ones.

    An undeclared name is always an error (the server rejects it too). With ``strict``,
    a declared name without a value is an error as well; without it, the placeholder is
    left as literal text, as the server does. ``named`` is the prompt as its user wrote it
    (``types.refs.written_as``), which the errors show instead of ``prompt_id``.
    """
    declared_list = list(declared)
    supplied_list = list(supplied)
    unknown = [name for name in supplied_list if name not in declared_list]
    if unknown:
        raise UnknownVariables(unknown, declared_list, prompt_id, named=named)
    if strict:
        missing = [name for name in declared_list if name not in supplied_list]
        if missing:
            raise MissingVariables(missing, prompt_id, named=named)


def render(template: str, values: Mapping[str, str] | Callable[[str], str | None]) -> str:
    """Substitute placeholders in one pass; names without a value stay as written.

    ``values`` is a mapping of name to text, or a function returning the text for a
    name (or ``None`` to leave the placeholder alone).
    """
    lookup = values if callable(values) else values.get

    def substitute(match: re.Match[str]) -> str:
        replacement = lookup(match.group(1))
        return match.group(0) if replacement is None else str(replacement)

    return PLACEHOLDER.sub(substitute, template or "")
