"""``client.prompts``: versioned, named prompt templates."""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any

from ..backends.base import Backend
from ..diffs import PromptDiff, diff_prompts, label_for
from ..errors import InvalidRequest, PromptNotFound, VersionNotFound
from ..schemas import ResolvedSchema, resolve
from ..templates import placeholders
from ..types import LabelMove, ObjectList, Prompt
from ..types.refs import PromptRef, check_label, check_name, missing_versions, version_number, written_as, written_name

if TYPE_CHECKING:
    import pandas

    from ..store import LabelStore, NameStore, PromptSchemaStore


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


def _schema_key(json_schema: dict[str, Any] | None) -> str | None:
    """What makes two schemas the same for the save rule (key order aside)."""
    return None if json_schema is None else json.dumps(json_schema, sort_keys=True)


def _version(version: int) -> int:
    if not isinstance(version, int):
        raise InvalidRequest(f"version must be a whole number from 1 up, not {version!r}")
    return version_number(version)


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


def _parse_for_lookup(ref: str) -> PromptRef:
    try:
        return PromptRef.parse(ref)
    except InvalidRequest:
        if isinstance(ref, str) and "@" not in ref:  # not a name nor an id: nothing has it
            raise PromptNotFound(
                f"{ref!r} is not a valid id or prompt name (letters, digits, '_', '-' and '.'), so nothing has it"
            ) from None
        raise


class Prompts:
    """Create, name, version, list and delete prompt templates.

    Wherever a prompt is asked for, a reference is accepted: ``"pmpt_…"``, ``"pmpt_…@2"``,
    a name (``"tutor"``), ``"tutor@2"`` or a label (``"tutor@production"``), or a :class:`Prompt`.
    Names and labels are kept in the home database, per backend (a server's Prompts API has
    neither; its default pointer stays the server's). So is a version's default output schema.
    """

    def __init__(self, backend: Backend) -> None:
        self._backend = backend
        store = backend.store
        self._names: NameStore | None = store.names(backend.scope) if store is not None else None
        self._labels: LabelStore | None = store.labels(backend.scope) if store is not None else None
        self._schemas: PromptSchemaStore | None = store.schemas(backend.scope) if store is not None else None
        # the pydantic classes versions were saved with in this process: parsed outputs are their instances
        self._models: dict[tuple[str, int], type] = {}

    # ---- the save rule -----------------------------------------------------------------------
    def save(
        self,
        name: str | None,
        template: str,
        variables: Iterable[str] | None = None,
        *,
        base_version: int | None = None,
        schema: Any = None,
    ) -> Prompt:
        """The prompt version holding exactly ``template`` (and ``schema``): reused if stored, else stored now.

        With a ``name`` (or a ``pmpt_…`` id): a new prompt under that name; the version whose
        template and variables are these, if the prompt has one; else a new version, made the
        default. With ``name=None`` the template is keyed by its content: the prompt whose
        default version is this template is reused, else a new one is made (running the same
        notebook cell or grid again reuses one prompt instead of piling them up).
        ``variables`` defaults to the template's ``{{placeholders}}``. ``base_version`` is the
        version an edit was made on: if the prompt has a newer one, :class:`VersionConflict`.

        ``schema`` (a pydantic model class or a JSON-schema dict) is the version's default output
        schema: a response from it without a schema of its own is constrained to it. It is part of
        what is matched: the same template with another schema (or without one) is another version.
        It is kept in the home database, per backend (the Prompts API has no such field).
        """
        text = _template(template)
        names = _names(placeholders(text) if variables is None else variables)
        wanted = self._check_schema(schema)
        if name is None:
            return self._by_content(text, names, wanted)
        ref = PromptRef.parse(name)
        if ref.version is not None or ref.label is not None:
            raise InvalidRequest(f"save() takes a name or a prompt id without '@' (it makes the versions), not {name!r}")
        prompt_id = self._find(ref)
        try:
            history = self._backend.prompts.versions(prompt_id) if prompt_id is not None else None
        except PromptNotFound:
            if ref.is_id:
                raise
            history = None  # the named prompt was deleted since: the name goes to a new prompt
        if prompt_id is None or history is None:
            created = self._with_schema(self._backend.prompts.create(text, names), wanted)
            if ref.name is not None and self._names is not None:
                self._names.set(ref.name, created.prompt_id)
            return self._named(created)
        for stored in self._named_all(history):
            if stored.prompt == text and stored.variables == names and self._same_schema(stored, wanted):
                return self._remember(stored, wanted)
        on = base_version if base_version is not None else (history[-1].version if history else 1)
        updated = self._backend.prompts.update(prompt_id, text, _version(on), names, True)
        return self._named(self._with_schema(updated, wanted))

    def find_or_create(self, prompt: str, variables: Iterable[str] | None = None) -> Prompt:
        """``save(None, prompt, variables)``: the prompt whose default version is this template, or a new one."""
        return self.save(None, prompt, [] if variables is None else variables)

    def _by_content(self, template: str, names: list[str], wanted: ResolvedSchema | None) -> Prompt:
        for stored in self._named_all(self._backend.prompts.list()):
            if stored.prompt == template and stored.variables == names and self._same_schema(stored, wanted):
                return self._remember(stored, wanted)
        return self._named(self._with_schema(self._backend.prompts.create(template, names), wanted))

    # ---- default output schemas -----------------------------------------------------------------
    def default_schema(self, ref: str | Prompt | PromptRef) -> ResolvedSchema | None:
        """The default output schema of the prompt version ``ref`` names, or None when it has none.

        Its ``model`` is the pydantic class it was saved with when that happened in this client;
        else (a schema read back from the home) None, and outputs parse to dicts.
        """
        if self._schemas is None:
            return None
        prompt_id, version = self.locate(ref)
        if version is None:
            version = self._backend.prompts.get(prompt_id, None).version
        stored = self._schemas.get(prompt_id, version)
        if stored is None:
            return None
        model = self._models.get((prompt_id, version))
        return ResolvedSchema(name=stored.name, json_schema=stored.json_schema, model=model)

    def _check_schema(self, schema: Any) -> ResolvedSchema | None:
        if schema is None:
            return None
        resolved = resolve(schema)
        if self._schemas is None:
            raise InvalidRequest(
                "A prompt's default schema is kept in the home database: give the client a home directory, "
                "or pass schema= to responses.create instead"
            )
        return resolved

    def _same_schema(self, prompt: Prompt, wanted: ResolvedSchema | None) -> bool:
        return _schema_key(prompt.schema) == _schema_key(wanted.json_schema if wanted is not None else None)

    def _with_schema(self, prompt: Prompt, wanted: ResolvedSchema | None) -> Prompt:
        """Give a just-stored version its schema (a new version has none yet)."""
        if wanted is not None and self._schemas is not None:
            self._schemas.set(prompt.prompt_id, prompt.version, wanted.name, wanted.json_schema)
        return self._remember(prompt, wanted)

    def _remember(self, prompt: Prompt, wanted: ResolvedSchema | None) -> Prompt:
        if wanted is not None and wanted.model is not None:
            self._models[(prompt.prompt_id, prompt.version)] = wanted.model
        return prompt

    # ---- references --------------------------------------------------------------------------
    def locate(self, ref: str | Prompt | PromptRef) -> tuple[str, int | None]:
        """(prompt id, version or None) of a reference; a name nothing has is :class:`PromptNotFound`."""
        if isinstance(ref, Prompt):
            return ref.prompt_id, ref.version
        parsed = ref if isinstance(ref, PromptRef) else _parse_for_lookup(ref)
        prompt_id = self._find(parsed)
        if prompt_id is None:
            raise PromptNotFound(
                f"No prompt named {parsed.target!r} here; save one with client.prompts.save({parsed.target!r}, …) "
                "or see client.prompts.list()"
            )
        if parsed.label is None:
            return prompt_id, parsed.version
        version = self._labels.version(prompt_id, parsed.label) if self._labels is not None else None
        if version is None:
            raise VersionNotFound(
                f"{parsed.target} has no label {parsed.label!r}; set it with "
                f"client.prompts.set_label({parsed.target!r}, {parsed.label!r}, version=…)"
            )
        return prompt_id, version

    def _find(self, ref: PromptRef) -> str | None:
        if ref.is_id:
            return ref.target
        return self._names.get(ref.target) if self._names is not None else None

    def get(self, ref: str | Prompt | PromptRef) -> Prompt:
        """The prompt version a reference names (the default version when it names no version)."""
        prompt_id, version = self.locate(ref)
        return self._named(self._read(ref, prompt_id, version))

    def _read(self, ref: str | Prompt | PromptRef, prompt_id: str, version: int | None) -> Prompt:
        """The stored version ``ref`` locates (the default for None); a missing one named as ``ref`` was written."""
        try:
            return self._backend.prompts.get(prompt_id, version)
        except VersionNotFound:
            raise missing_versions(ref, [version]) from None

    def diff(self, a: str | Prompt | PromptRef, b: str | Prompt | PromptRef) -> PromptDiff:
        """What changed from version ``a`` to ``b`` (any two references, e.g. ``"tutor@1"``, ``"tutor@2"``):
        the unified diff, the variables added and removed; notebooks show the changes inline."""
        old, new = self.get(a), self.get(b)
        return diff_prompts(old, new, a_label=label_for(a, old), b_label=label_for(b, new))

    # ---- labels ------------------------------------------------------------------------------
    def set_label(self, ref: str | Prompt, label: str, version: int | None = None) -> Prompt:
        """Point ``label`` (e.g. ``"production"``) at ``version``: the version ``ref`` names when not given,
        else the default. The move is recorded (:meth:`label_history`); returns the labelled version."""
        check_label(label)
        prompt_id, pinned = self.locate(ref)
        target = self._read(ref, prompt_id, _version(version) if version is not None else pinned)
        self._label_store().move(prompt_id, label, target.version)
        return self._named(target)

    def promote(
        self,
        ref: str | Prompt,
        label: str,
        version: int | None = None,
        *,
        evidence: pandas.DataFrame | None = None,
        require: Mapping[str, float] | None = None,
        baseline: Any = None,
        confidence: float = 0.95,
        alpha: float = 0.05,
    ) -> Prompt:
        """Point ``label`` at a version (as :meth:`set_label`) only if the evidence says it is good enough.

        ``evidence`` is a grid (``client.grid(…, versions=[…], checks=…)``) that ran the version.
        ``require`` is ``{check: minimum}``: the lower end of each check's interval (at ``confidence``)
        must reach its minimum on every model. ``baseline`` (a version, a ref such as
        ``"tutor@production"``, a model, or ``{"version": …, "model": …}``) is compared with the
        version on the same rows (:func:`llamabook.significance` at ``alpha``): the version must not
        be significantly worse on any check. Otherwise :class:`~llamabook.GateFailed` is raised, with
        the table, and nothing moves. The move is kept in :meth:`label_history` with its ``evidence``
        (what was measured). Bad arguments raise :class:`~llamabook.InvalidRequest` before anything
        is measured or moved. See ``llamabook.evaluation.gate``.
        """
        from ..evaluation.gate import check_require, gate_failed, run_gate  # the workflow's entry point

        check_label(label)
        if evidence is None:
            if require is not None or baseline is not None:
                raise InvalidRequest("require= and baseline= are measured on evidence=: pass the grid that ran the version")
            return self.set_label(ref, label, version)
        check_require(require, None)
        prompt_id, pinned = self.locate(ref)
        target = self._read(ref, prompt_id, _version(version) if version is not None else pinned)
        outcome = run_gate(
            evidence, prompt_id=prompt_id, version=target.version, require=require,
            baseline=self._baseline(baseline), confidence=confidence, alpha=alpha,
        )  # fmt: skip
        if not outcome.passed:
            raise gate_failed(outcome, written_as(written_name(ref), target.version), label)
        self._label_store().move(prompt_id, label, target.version, evidence=outcome.evidence)
        return self._named(target)

    def _baseline(self, baseline: Any) -> Any:
        """A baseline as the gate takes it: a prompt ref (``"tutor@production"``, ``"tutor@1"``) as its version number."""
        if isinstance(baseline, (str, Prompt)) and (isinstance(baseline, Prompt) or "@" in baseline):
            return self.get(baseline).version
        return baseline

    def remove_label(self, ref: str | Prompt, label: str) -> None:
        """Take ``label`` off the prompt (the move is recorded); :class:`VersionNotFound` if it has no such label."""
        check_label(label)
        prompt_id, _ = self.locate(ref)
        if self._label_store().move(prompt_id, label, None) is None:
            name = written_name(ref)
            raise VersionNotFound(f"{name} has no label {label!r}; see client.prompts.versions({name!r})")

    def label_history(self, ref: str | Prompt) -> ObjectList[LabelMove]:
        """Every move of the prompt's labels, oldest first: label, from and to version (None: unset), when."""
        prompt_id, _ = self.locate(ref)
        return ObjectList(self._labels.history(prompt_id) if self._labels is not None else [], LabelMove)

    def _label_store(self) -> LabelStore:
        if self._labels is None:
            raise InvalidRequest("Labels are kept in the home database: give the client a home directory")
        return self._labels

    def names(self) -> dict[str, str]:
        """Every prompt name of this backend → its prompt id."""
        return self._names.all() if self._names is not None else {}

    # ---- the Prompts API ---------------------------------------------------------------------
    def create(self, prompt: str, variables: Iterable[str] | None = None, *, name: str | None = None) -> Prompt:
        """Store a new prompt (version 1). Every ``{{name}}`` in it must be listed in ``variables``.

        ``name`` also names it (a name already in use then names this new prompt).
        """
        if name is not None:
            check_name(name)
        created = self._backend.prompts.create(_template(prompt), _names(variables))
        if name is not None and self._names is not None:
            self._names.set(name, created.prompt_id)
        return self._named(created)

    def update(
        self,
        ref: str | Prompt,
        *,
        prompt: str,
        version: int,
        variables: Iterable[str] | None = None,
        set_as_default: bool = True,
    ) -> Prompt:
        """Add a new version. ``version`` must be the latest one (else :class:`VersionConflict`);
        ``variables`` replaces the old list."""
        prompt_id, _ = self.locate(ref)
        updated = self._backend.prompts.update(prompt_id, _template(prompt), _version(version), _names(variables), set_as_default)
        return self._named(updated)

    def retrieve(self, prompt_id: str, version: int | None = None) -> Prompt:
        """One version of a prompt by id (the default version when ``version`` is None): the wire-level call."""
        return self._named(self._backend.prompts.get(prompt_id, None if version is None else _version(version)))

    def list(self) -> ObjectList[Prompt]:
        """The default version of every prompt, newest first, with its ``name``."""
        return ObjectList(self._named_all(self._backend.prompts.list()), Prompt)

    def versions(self, ref: str | Prompt) -> ObjectList[Prompt]:
        """Every version of a prompt, oldest first; ``is_default`` marks the default."""
        prompt_id, _ = self.locate(ref)
        return ObjectList(self._named_all(self._backend.prompts.versions(prompt_id)), Prompt)

    def set_default_version(self, ref: str | Prompt, version: int) -> Prompt:
        """Make ``version`` the one used when no version is given."""
        prompt_id, _ = self.locate(ref)
        try:
            return self._named(self._backend.prompts.set_default(prompt_id, _version(version)))
        except VersionNotFound:
            raise missing_versions(ref, [version]) from None

    def delete(self, ref: str | Prompt) -> None:
        """Delete a prompt, all its versions and its names (stored responses keep their record)."""
        prompt_id, _ = self.locate(ref)
        self._backend.prompts.delete(prompt_id)
        if self._names is not None:
            self._names.forget_prompt(prompt_id)
        if self._labels is not None:
            self._labels.forget_prompt(prompt_id)
        if self._schemas is not None:
            self._schemas.forget_prompt(prompt_id)

    # ---- names on the returned prompts ---------------------------------------------------------
    def _named(self, prompt: Prompt) -> Prompt:
        return self._named_all([prompt])[0]

    def _named_all(self, prompts: list[Prompt]) -> list[Prompt]:
        by_prompt = self._names.by_prompt() if self._names is not None else {}
        labels = self._labels.of_prompts() if self._labels is not None else {}
        schemas = self._schemas.of_prompts() if self._schemas is not None else {}
        for prompt in prompts:
            prompt.name = ", ".join(by_prompt.get(prompt.prompt_id, ())) or None
            prompt.labels = list(labels.get((prompt.prompt_id, prompt.version), ()))
            stored = schemas.get((prompt.prompt_id, prompt.version))
            prompt.schema = stored.json_schema if stored is not None else None
        return prompts
