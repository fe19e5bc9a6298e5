"""A prompt version as a request runs it (:class:`PromptDraft`), and one read once for many calls (:class:`PinnedPrompt`)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from ..errors import InvalidRequest
from ..schemas import ResolvedSchema
from ..types import Response
from ..types.requests import ResponseOptions
from .arguments import options_given
from .response_stream import ResponseStream

if TYPE_CHECKING:
    from ..store.writer import Unit


@dataclass
class PromptDraft:
    """The prompt version a request runs and the variables given with its reference."""

    prompt_id: str
    version: str | None
    declared: list[str] | None  # None: not known here (a prompt passed through by reference)
    template: str | None
    given: Mapping[str, Any]
    #: the prompt as its user wrote it (``haiku``, ``haiku@2``; ``types.refs.written_as``), for messages
    named: str | None = None


class PinnedPrompt:
    """A prompt version read once, with its default output schema, for many calls: ``client.responses.pin(prompt)``.

    :meth:`create` runs it with the same checks and the same request as
    ``client.responses.create(prompt={"id": …, "version": …}, variables=…)``, without reading the
    version or its schema again (versions never change). A grid pins each of its versions this way.
    ``prompt_id``, ``version`` (None for a prompt a server without a Prompts API takes by
    reference), ``variables`` (None when not known here) and ``template`` say what is pinned.
    """

    __slots__ = ("_run", "draft", "default_schema")

    def __init__(
        self, run: Callable[..., Response | ResponseStream], draft: PromptDraft, default_schema: ResolvedSchema | None
    ) -> None:
        #: ``Responses._create``: how a call of this version is run
        self._run = run
        self.draft = draft
        #: the version's own output schema (sent when a call gives no ``schema``/``text``), or None
        self.default_schema = default_schema

    @property
    def prompt_id(self) -> str:
        return self.draft.prompt_id

    @property
    def version(self) -> int | None:
        return None if self.draft.version is None else int(self.draft.version)

    @property
    def variables(self) -> list[str] | None:
        return None if self.draft.declared is None else list(self.draft.declared)

    @property
    def template(self) -> str | None:
        return self.draft.template

    def create(
        self,
        variables: Mapping[str, Any] | None = None,
        *,
        model: str | None = None,
        input: str | list[dict[str, Any]] | None = None,
        options: ResponseOptions | None = None,
        unit: Unit | None = None,
        **given: Any,
    ) -> Response:
        """Run the pinned version with ``variables`` on ``model``: the :class:`Response` (not streamed).

        The options are those of :meth:`Responses.create` (``temperature``, ``schema``,
        ``describe_images``, …), as keywords or as one :class:`~llamabook.types.requests.ResponseOptions`
        in ``options=`` (made once and reused over many calls), not both. Raises as
        :meth:`Responses.create` does. ``unit`` (a grid's :class:`~llamabook.store.Unit`): the rows this
        call stores join it, to be committed by the grid's writer; None stores them at once.
        """
        if options is None:
            options = options_given("create", given)
        elif given:
            raise InvalidRequest(f"Give options= or the options as keywords ({sorted(given)}), not both")
        return self._run(input, model=model, options=options, pinned=self, variables=variables, unit=unit)  # type: ignore[return-value]

    def __repr__(self) -> str:
        version = "" if self.draft.version is None else f"@{self.draft.version}"
        return f"<PinnedPrompt {self.prompt_id}{version}>"
