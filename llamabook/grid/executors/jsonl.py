"""``executor="jsonl"``: a grid's calls written as JSONL for another engine, and its answers read back.

The request lines (:mod:`._requests`) are written to ``path`` for another engine (OpenAI's Batch
API, vLLM's ``run-batch``; ``models`` are its names, not checked here), the plan is recorded and
the rows are ``pending``; the same grid with ``batch_output=`` (the engine's output file, or a list
with its error file) reads the answers into the frame.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ... import media_fallback
from ...errors import InvalidRequest
from ...media import MediaOptions
from ...types.requests import ResponseRequest
from ..lines import read_jsonl, result_of, to_jsonl
from ._requests import Requests, fill, merge, request_lines, requests_of, unanswered

if TYPE_CHECKING:
    from ..task import Task
    from ..spec import GridClient, GridSpec
    from . import GridRun

OPTIONS = ("path", "batch_output")
OPTIONS_ABOUT = "the requests written for another engine, and its output"


def make(client: GridClient, spec: GridSpec) -> JsonlExecutor:
    if spec.path is None:
        raise InvalidRequest("executor='jsonl' writes the requests to a file: give path='requests.jsonl'")
    for given in _paths(spec.batch_output):
        if not Path(given).is_file():
            raise InvalidRequest(f"batch_output {str(given)!r} is not a file: give the output file the engine wrote")
    return JsonlExecutor(spec.path, spec.batch_output)


@dataclass
class JsonlExecutor:
    """Writes the requests to ``path``; with ``batch_output``, reads the engine's answers instead."""

    path: Any
    batch_output: Any = None
    models_here: bool = False
    columns: Sequence[str] = ("batch",)

    def run(self, tasks: Sequence[Task], grid: GridRun) -> None:
        requests = requests_of(tasks, grid.client.backend.scope, "jsonl")
        if requests.unique:
            fill(tasks, self._results(requests, grid))

    def _results(self, requests: Requests, grid: GridRun) -> dict[str, dict[str, Any]]:
        backend = grid.client.backend
        plans = backend.store.batches if backend.store is not None else None
        lines = request_lines(grid.client, requests, grid.options, _prepare_for_another_engine)
        if self.batch_output is None:
            Path(self.path).write_bytes(to_jsonl(lines))
            if plans is not None:
                plans.start(requests.plan_key, backend.scope, "jsonl", len(lines), path=str(self.path), status="written")
            note = f"written to {self.path}: run it, then call the same grid with batch_output='output.jsonl'"
            return unanswered(requests, "pending", note)
        answers = _read_outputs(self.batch_output, {task.key for task in requests.unique}, requests.models)
        results = merge(requests, answers, None, grid.options.get("schema"), grid.log)
        if plans is not None:
            plans.set_status(requests.plan_key, "merged", merged=True)
        return results


def _prepare_for_another_engine(
    client: GridClient, reference: dict[str, str], values: dict[str, Any], model: str, options: dict[str, Any]
) -> ResponseRequest:
    """A request checked and typed here for a model this backend doesn't know.

    What that model takes is not known here: media go as they are, except what the options turn into
    text (``describe_images=True``: images as descriptions; ``pdf_to_text=True``: PDFs as their text).
    """
    backend = client.backend

    def read_file(file_id: str) -> tuple[bytes, str]:
        return backend.file_content(file_id), backend.get_file(file_id).filename

    describe, pdf_to_text = bool(options.pop("describe_images", False)), options.pop("pdf_to_text", None)
    # checked on this backend's default model, told that it may describe images and read PDFs
    request = client.responses.prepare(prompt=reference, variables=values, describe_images=True, **options)
    accepts = frozenset({"text", "file"} | (set() if describe else {"image"}))
    return media_fallback.rewrite(request, MediaOptions(accepts, request.model, describe, bool(pdf_to_text)), read_file)


def _read_outputs(given: Any, keys: set[str], models: Mapping[str, str]) -> dict[str, dict[str, Any]]:
    """The answers in another engine's output (and error) files, by ``custom_id``."""
    answers: dict[str, dict[str, Any]] = {}
    for source in _paths(given):
        for line in read_jsonl(Path(source).read_bytes(), str(source)):
            found = result_of(line, None, models=models)
            if found is not None and found[0] in keys:
                answers[found[0]] = found[1]
    if not answers:
        raise InvalidRequest(
            f"batch_output {', '.join(map(str, _paths(given)))} answers none of this grid's requests (no line's "
            "custom_id is one of them): is it the output of the file this grid wrote, for the same rows and options?"
        )
    return answers


def _paths(given: Any) -> list[Any]:
    if given is None:
        return []
    return list(given) if isinstance(given, (list, tuple)) else [given]
