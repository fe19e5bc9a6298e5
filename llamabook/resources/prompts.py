"""``client.prompts``: versioned prompt templates."""

from __future__ import annotations

from collections.abc import Iterable

from ..backends.base import Backend
from ..errors import InvalidRequest
from ..types import ObjectList, Prompt


def _names(variables: Iterable[str] | None) -> list[str]:
    if variables is None:
        return []
    if isinstance(variables, str):
        raise InvalidRequest(f"variables must be a list of names, e.g. [{variables!r}], not a string")
    names = list(variables)
    for name in names:
        if not isinstance(name, str) or not name.isidentifier():
            raise InvalidRequest(
                f"variable name {name!r} is not a valid name: use letters, digits and underscores, not starting with a digit"
            )
    if len(set(names)) != len(names):
        raise InvalidRequest(f"variables lists a name twice: {names}")
    return names


def _version(version: int) -> int:
    if isinstance(version, bool) or not isinstance(version, int) or version < 1:
        raise InvalidRequest(f"version must be a whole number from 1 up, not {version!r}")
    return version


#: The longest template accepted (characters): past this, keep the text in a file variable.
MAX_TEMPLATE_CHARS = 1_048_576


def _template(prompt: str) -> str:
    if not isinstance(prompt, str):
        raise InvalidRequest(f"prompt must be the template text (a str), not {type(prompt).__name__}")
    if not prompt.strip():
        raise InvalidRequest("prompt is empty: write the template text, e.g. 'Summarise {{doc}}.'")
    if len(prompt) > MAX_TEMPLATE_CHARS:
        raise InvalidRequest(
            f"prompt is {len(prompt):,} characters, over the {MAX_TEMPLATE_CHARS:,}-character limit; "
            "put long text in a variable instead (e.g. a file: variables={'doc': Path(...)})"
        )
    return prompt


class Prompts:
    """Create, version, list and delete prompt templates."""

    def __init__(self, backend: Backend) -> None:
        self._backend = backend

    def create(self, prompt: str, variables: Iterable[str] | None = None) -> Prompt:
        """Store a new prompt (version 1). Every ``{{name}}`` in it must be listed in ``variables``."""
        return self._backend.create_prompt(_template(prompt), _names(variables))

    def update(
        self,
        prompt_id: str,
        *,
        prompt: str,
        version: int,
        variables: Iterable[str] | None = None,
        set_as_default: bool = True,
    ) -> Prompt:
        """Add a new version. ``version`` must be the latest one (else :class:`VersionConflict`);
        ``variables`` replaces the old list."""
        return self._backend.update_prompt(
            prompt_id, _template(prompt), _version(version), _names(variables), set_as_default
        )

    def find_or_create(self, prompt: str, variables: Iterable[str] | None = None) -> Prompt:
        """The stored prompt whose default version is exactly this template and variables, or a new one.

        Running the same notebook cell or grid again then reuses one prompt instead of piling them up.
        """
        names = _names(variables)
        for stored in self._backend.list_prompts():
            if stored.prompt == prompt and stored.variables == names:
                return stored
        return self.create(prompt, names)

    def retrieve(self, prompt_id: str, version: int | None = None) -> Prompt:
        """One version of a prompt (the default version when ``version`` is None)."""
        return self._backend.get_prompt(prompt_id, None if version is None else _version(version))

    def list(self) -> ObjectList[Prompt]:
        """The default version of every prompt, newest first."""
        return ObjectList(self._backend.list_prompts(), Prompt)

    def versions(self, prompt_id: str) -> ObjectList[Prompt]:
        """Every version of a prompt, oldest first; ``is_default`` marks the default."""
        return ObjectList(self._backend.list_versions(prompt_id), Prompt)

    def set_default_version(self, prompt_id: str, version: int) -> Prompt:
        """Make ``version`` the one used when no version is given."""
        return self._backend.set_default_version(prompt_id, _version(version))

    def delete(self, prompt_id: str) -> None:
        """Delete a prompt and all its versions (stored responses keep their record)."""
        self._backend.delete_prompt(prompt_id)
