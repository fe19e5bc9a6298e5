"""MkDocs hook: fill ``<!-- generate: NAME -->`` markers in the pages from llamabook itself.

* ``magics-cell-help`` / ``magics-line-help``: what ``%%llama --help`` and ``%llama help`` print,
  run through a real IPython shell with the extension loaded;
* ``errors-tree`` / ``errors-table``: the exception hierarchy of ``llamabook.errors``, with the
  advice below (an exception without advice fails the build, so the page cannot fall behind);
* ``frame-columns`` / ``grid-columns``: the DataFrame columns and dtypes from
  each wire type's ``frame_columns`` and ``llamabook.types.grid_rows`` (the grid's result columns, with their
  descriptions; ``tests/unit/types/test_grid_rows.py`` keeps the page using this table).

An unknown marker fails the build too.
"""

from __future__ import annotations

import functools
import inspect
import io
import os
import re
import tempfile
from collections.abc import Callable
from contextlib import redirect_stdout
from typing import Any

from mkdocs.exceptions import PluginError

MARKER = re.compile(r"^<!-- generate: ([a-z-]+) -->$", re.MULTILINE)
HELP_COLUMNS = "100"  # argparse wraps help to $COLUMNS

#: What to do about each llamabook exception (kept here, next to the generated table).
ADVICE: dict[str, str] = {
    "LlamabookError": "Catch this to handle every llamabook error in one place.",
    "CheckErrorWarning": "A warning, not in the table: read `check_<name>_error`, fix the check (or what it needs), "
    "then `checks.apply(grid, …)` again.",
    "ToolLoopWarning": "A warning, not in the table: a tool of `responses.run` raised (the model was sent its error "
    "text; fix the function or its docstring) or the loop stopped at `max_tool_rounds` (raise it, or read "
    "`response.tool_calls`).",
    "InputError": "Fix the arguments named in the message; nothing was stored or sent, so just call again.",
    "InvalidRequest": "Correct the argument the message names (purpose, order, limit, id shape, option…).",
    "UndeclaredVariables": "Add the names to `variables=` when creating the prompt, or remove the placeholders.",
    "MissingVariables": "Pass a value for each name in `variables=` (or `--var name=…`), or use `strict=False` "
    "to keep the placeholders as literal text.",
    "UnknownVariables": "Remove the extra names, or add them to the prompt with `prompts.update(…, variables=[…])`.",
    "InvalidVariable": "Pass a `str`, number, `Path`, `bytes`, PIL image, `File`, or a typed dict / `lb.Input*`.",
    "UnsupportedInput": "Pick a model that accepts the input (`client.models.list()` shows `accepts`), or pass "
    "`describe_images=True` (images) / leave `pdf_to_text` unset (PDFs).",
    "FileTooLarge": "Upload a smaller file, or raise the limit with `Client(max_file_bytes=…)` where the server allows it.",
    "NotFound": "Catch this for any unknown id; list what exists with `.list()`.",
    "PromptNotFound": "Check the id (`client.prompts.list()`); on a server, prompts are per server.",
    "VersionNotFound": "Use an existing version: `client.prompts.versions(prompt_id)`.",
    "FileNotFound": "Check the id (`client.files.list()`); upload the file again if it was deleted.",
    "ResponseNotFound": "Check the id (`client.responses.list()`); responses made with `store=False` are not kept.",
    "ModelNotFound": "Use a model id from `client.models.list()` (or `%llama models`).",
    "VersionConflict": "Re-read the prompt (`prompts.retrieve`) and pass `version=` the latest version it shows.",
    "EngineError": "Retry if `.retryable` (429, 5xx, timeouts; `client.grid` retries these itself); "
    "`.response`, when set, is the stored failed response.",
    "CassetteMiss": "Record the call: run once with `record=\"new\"` (or `$LLAMABOOK_RECORD=new`) where the model "
    "or server is available, commit the cassette; or `record=\"all\"` to record the whole session again.",
    "ModelRejectedInput": "Declare the model text-only, `Client(..., model_accepts={model: [\"text\"]})`, so PDFs go "
    "as their text (and pass `describe_images=True` for images); or register the model on the server with "
    "`metadata: {input_modalities: [text]}`.",
    "OutputFormatUnsupported": "Leave `text=` out and check the output yourself (`lb.checks.json_schema`), or use a "
    "model whose inference provider supports `response_format` `json_schema`; a judge falls back to a plain "
    "yes/no answer by itself.",
    "BatchesUnsupported": "Run the grid with the default `executor=\"threads\"`; or write the requests for another "
    "engine with `executor=\"jsonl\", path=…`; or enable the server's Batches API (`batches` in its run config's "
    "`apis`, provider `inline::reference`).",
    "BatchStalled": "The plan is kept: run the same grid again (with a larger `batch_stall=` / `batch_timeout=`) to "
    "go on waiting, or with `resume=False` to submit afresh; `client.batches.forget(batch_id)` drops the plan and "
    "`client.batches.cancel(batch_id)` stops the batch on the server.",
    "OutputInvalid": "Read `.errors` (field paths) and `.raw`; make the prompt or schema clearer, or the fields "
    "optional. If `.cut_off`, raise `max_output_tokens`. `.response` is the stored response with the raw text.",
    "GateFailed": "Read the message (each failing check and why) and `.table`; ask more rows or repeats to "
    "narrow the intervals, improve the version, or lower the bar in `require=` if it was set too high.",
    "InvalidTool": "Fix the tool the message names: give each parameter a JSON type hint (no `*args`), give "
    "tools unique names (`lb.function_tool(fn, name=…)`), and name only a listed tool in `tool_choice`.",
    "ToolsUnsupported": "Leave `tools=` (and `function_call_output` items) out on the embedded model, or run the "
    "request on a server whose model takes tools.",
    "ToolArgumentsInvalid": "Read the call's `.arguments` as text; ask for the call again, or with "
    "`tool_choice` naming the tool.",
    "ToolChoiceIgnored": "The server's inference provider ignored `tool_choice`: name the function, "
    "`tool_choice={\"type\": \"function\", \"name\": …}` (llama-cpp-python's server honours that), or use a "
    "provider that supports `\"required\"` (no setting of llama-cpp-python's server does behind Llama Stack or "
    "OGX); `.response` keeps the text answer (see Servers, Tools).",
    "EngineUnavailable": "Install the missing extra (e.g. `pip install 'llamabook[embedded]'`) or start / "
    "reach the server named in the message, then retry.",
}


@functools.cache
def _help_shell() -> Any:
    os.environ["COLUMNS"] = HELP_COLUMNS
    os.environ.setdefault("IPYTHONDIR", tempfile.mkdtemp(prefix="llamabook-docs-ipython-"))
    from IPython.core.interactiveshell import InteractiveShell

    shell = InteractiveShell.instance(history_length=0)
    shell.run_line_magic("load_ext", "llamabook")
    return shell


def _printed(action: Callable[[], object]) -> str:
    out = io.StringIO()
    with redirect_stdout(out):
        action()
    return out.getvalue().rstrip()


def _code(text: str) -> str:
    return f"```text\n{text}\n```"


def magics_cell_help() -> str:
    shell = _help_shell()
    return _code(_printed(lambda: shell.run_cell_magic("llama", "--help", "\n")))


def magics_line_help() -> str:
    shell = _help_shell()
    text = _printed(lambda: shell.run_line_magic("llama", "help"))
    return _code(text.split("\n\nusage: %%llama")[0])  # the cell magic's part is shown above


def _error_classes() -> list[type]:
    from llamabook import errors

    return [getattr(errors, name) for name in errors.__all__]


def _error_tree() -> list[tuple[int, type]]:
    """(depth, class) for every llamabook exception, parents before children, siblings by name."""
    classes = _error_classes()
    children: dict[type, list[type]] = {}
    for cls in classes:
        base = next(b for b in cls.__bases__ if issubclass(b, Exception))
        children.setdefault(base, []).append(cls)

    def walk(cls: type, depth: int) -> list[tuple[int, type]]:
        out = [(depth, cls)]
        for child in sorted(children.get(cls, []), key=lambda c: c.__name__):
            out += walk(child, depth + 1)
        return out

    root = next(cls for cls in classes if cls.__name__ == "LlamabookError")
    return walk(root, 0)


def errors_tree() -> str:
    lines = []
    for depth, cls in _error_tree():
        builtin = [b.__name__ for b in cls.__bases__ if b.__module__ == "builtins" and b is not Exception]
        also = f"  (also a {', '.join(builtin)})" if builtin else ""
        lines.append("    " * depth + cls.__name__ + also)
    return _code("\n".join(lines))


def errors_table() -> str:
    rows = ["| exception | derives from | raised when | what to do |", "|---|---|---|---|"]
    missing = [cls.__name__ for cls in _error_classes() if cls.__name__ not in ADVICE]
    if missing:
        raise PluginError(f"docs/hooks/generate.py: add ADVICE for {missing} (new exceptions in llamabook/errors.py)")
    for _, cls in _error_tree():
        base = ", ".join(b.__name__ for b in cls.__bases__)
        when = (inspect.getdoc(cls) or "").split("\n\n")[0].replace("\n", " ")
        rows.append(f"| `{cls.__name__}` | {base} | {when} | {ADVICE[cls.__name__]} |")
    return "\n".join(rows)


def frame_columns() -> str:
    from llamabook.types import File, Model, Prompt, Response
    from llamabook.types.base import TIMESTAMP_COLUMNS

    listings = [
        (Prompt, ["client.prompts.list()", "client.prompts.versions(prompt_id)"]),
        (File, ["client.files.list()"]),
        (Response, ["client.responses.list()"]),
        (Model, ["client.models.list()"]),
    ]
    parts = []
    for kind, where in listings:
        rows = ["| column | dtype |", "|---|---|"]
        for column in kind.frame_columns:
            dtype = kind.frame_dtypes.get(column) or ("datetime64[s, UTC]" if column in TIMESTAMP_COLUMNS else "object")
            rows.append(f"| `{column}` | `{dtype}` |")
        calls = ", ".join(f"`{call}.to_pandas()`" for call in where)
        parts.append(f"### {kind.__name__} lists\n\n{calls}\n\n" + "\n".join(rows))
    return "\n\n".join(parts)


#: How the grid-columns table says when a column is there (``ResultColumn.when``).
WHEN = {
    "always": "always", "schema": "with `schema=`", "batch": "with `executor=\"batch\"` / `\"jsonl\"`", "repeats": "with `repeats=` above 1",
    "tools": "with `tools=`",
}
#: How it names the parts that read a column (``ResultColumn.read_by``), in this order.
READERS = {"checks": "checks", "scores": "`scores()`", "compare": "`compare()`"}


def grid_columns() -> str:
    from llamabook.types.grid_rows import ROW, result_columns

    rows = [
        "| column | dtype | in the frame | what it is | read by |",
        "|---|---|---|---|---|",
        "| *the row's own columns* | *as given* | always | the columns of `rows` | |",
    ]
    for column in (ROW, *result_columns()):
        readers = ", ".join(text for reader, text in READERS.items() if reader in column.read_by)
        rows.append(f"| `{column.name}` | `{column.dtype}` | {WHEN[column.when]} | {column.description} | {readers} |")
    return "\n".join(rows)


GENERATORS: dict[str, Callable[[], str]] = {
    "magics-cell-help": magics_cell_help,
    "magics-line-help": magics_line_help,
    "errors-tree": errors_tree,
    "errors-table": errors_table,
    "frame-columns": frame_columns,
    "grid-columns": grid_columns,
}


def on_page_markdown(markdown: str, page: Any, config: Any, files: Any) -> str:
    """Replace each marker line with what its generator returns."""

    def replace(match: re.Match[str]) -> str:
        generator = GENERATORS.get(match.group(1))
        if generator is None:
            raise PluginError(f"{page.file.src_path}: unknown marker {match.group(0)}; known: {sorted(GENERATORS)}")
        return generator()

    return MARKER.sub(replace, markdown)
