"""Prompts on the server (Llama Stack / OGX ``/v1/prompts``), with the same methods as the home's PromptStore.

The HTTP backend picks one of the two once: these server prompts, or the home's store for a
server without a Prompts API (api.openai.com), whose prompts are then rendered on the client.

Differences handled here: versions go as strings and variables as typed objects; an unknown
prompt or version is a 400 "… not found" (translated to PromptNotFound / VersionNotFound);
``is_default`` is right only in ``/versions`` on Llama Stack 0.7 (computed from the default
pointer there), and on OGX also in get, list and set-default, but not in update (measured).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ...errors import PromptNotFound, VersionNotFound
from ...types import Prompt
from .transport import Transport, segment


class ServerPrompts:
    """The server's prompts; ``is_default_from_server`` says whether its ``is_default`` can be trusted
    outside ``/versions`` (asked on first use: it needs the server's version)."""

    def __init__(self, transport: Transport, is_default_from_server: Callable[[], bool]) -> None:
        self._transport = transport
        self._trust_is_default = is_default_from_server

    def _path(self, prompt_id: str, tail: str = "") -> str:
        return f"/prompts/{segment(prompt_id, PromptNotFound)}{tail}"

    def _computed(self, is_default: bool) -> bool | None:
        """``is_default`` as computed here, or None to keep the server's where it is right."""
        return None if self._trust_is_default() else is_default

    def create(self, template: str, variables: list[str]) -> Prompt:
        data = self._transport.json("post", "/prompts", body={"prompt": template, "variables": variables})
        return _prompt(data, is_default=True)  # every server says false here: a new prompt's only version is its default

    def update(self, prompt_id: str, template: str, version: int, variables: list[str], set_as_default: bool) -> Prompt:
        body = {"prompt": template, "version": version, "variables": variables, "set_as_default": set_as_default}
        data = self._transport.json("put", self._path(prompt_id), body=body, prompt_id=prompt_id)
        # Computed on both: OGX 1.5's update answers is_default false even with set_as_default (measured).
        return _prompt(data, is_default=set_as_default)

    def get(self, prompt_id: str, version: int | None = None) -> Prompt:
        if version is None:
            data = self._transport.json("get", self._path(prompt_id), prompt_id=prompt_id)
            return _prompt(data, is_default=self._computed(True))
        for prompt in self.versions(prompt_id):
            if prompt.version == version:
                return prompt
        raise VersionNotFound(f"Prompt {prompt_id} has no version {version}; see prompts.versions({prompt_id!r})")

    def list(self) -> list[Prompt]:
        data = self._transport.json("get", "/prompts")
        return [_prompt(item, is_default=self._computed(True)) for item in data.get("data", [])]

    def versions(self, prompt_id: str) -> list[Prompt]:
        data = self._transport.json("get", self._path(prompt_id, "/versions"), prompt_id=prompt_id)
        return [_prompt(item) for item in data.get("data", [])]

    def set_default(self, prompt_id: str, version: int) -> Prompt:
        path = self._path(prompt_id, "/set-default-version")
        data = self._transport.json("put", path, body={"version": version}, prompt_id=prompt_id, version=version)
        return _prompt(data, is_default=self._computed(True))

    def delete(self, prompt_id: str) -> None:
        self._transport.json("delete", self._path(prompt_id), prompt_id=prompt_id)


def _prompt(data: dict[str, Any], *, is_default: bool | None = None) -> Prompt:
    prompt = Prompt.model_validate(data)
    if is_default is not None:
        prompt.is_default = is_default
    return prompt
