"""``%llama`` and ``%%llama``: prompts, responses and grids from notebook cells.

Load with ``%load_ext llamabook``. The magics only parse arguments, call the :class:`Client`
and display what comes back; every rule (templates, typing of values, strict checks)
is the client's. Nothing heavy is imported and no client is created until a magic runs.

Cell magic::

    %%llama [-m MODEL] [-i TEXT] [--var name=value ...] [--save NAME] [--schema NAME] [-o NAME]
    You are a {{tone}} assistant. Summarise {{doc}}.

The cell body is a template: ``{{name}}`` is a placeholder, everything else (``$x``,
``{x}``, code) is literal text. Values come from ``--var`` first, then from the notebook's
variables; a DataFrame is sent as CSV text. The body is stored as a prompt (reused while
it is unchanged; ``--save NAME`` names it, and a changed body under the same name becomes
a new version: :meth:`Client.prompts.save`). With ``-p REF`` (``tutor``, ``tutor@2``,
``pmpt_…@2``) a saved prompt is used and the body is the input instead. ``--over DF``
runs the template for every row of the DataFrame ``DF`` with ``client.grid``. ``--schema NAME``
(a notebook variable holding a pydantic model class or a JSON-schema dict) constrains the answer to
it: saved with the body's prompt version as its default schema, or used for this call with ``-p``.

Line magic: ``%llama models | prompts | files | responses | config | use TARGET | diff A B``.
Prompt names live in the home database, one table per backend.
"""

from __future__ import annotations

import argparse
import html
import json
import shlex
import sys
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import PurePath
from typing import TYPE_CHECKING, Any

from IPython.core.error import UsageError
from IPython.core.magic import Magics, line_cell_magic, magics_class, needs_local_scope
from IPython.core.magic_arguments import argument, magic_arguments
from IPython.display import display

from .errors import LlamabookError, OutputInvalid
from .templates import placeholders
from .throttle import Throttle

if TYPE_CHECKING:
    from IPython.core.interactiveshell import InteractiveShell

    from .client import Client
    from .types import Prompt, Response

FORMATS = ("markdown", "text", "json")
UPDATES_PER_SECOND = 10
LAST = "_llama"
SUBCOMMANDS = ("models", "prompts", "files", "responses", "config", "use", "cassette", "label", "diff", "help")
RECORD_MODES = ("new", "none", "all")
LINE_USAGE = """\
%llama models | prompts | files | responses   show them as a DataFrame
%llama config                                 backend, server and version, base_url / home, model
%llama use embedded [home=PATH]               switch to the embedded backend
%llama use home=PATH                          the embedded backend with data under PATH
%llama use http://HOST:PORT [home=PATH] [model=ID]   a Llama Stack / OGX server
%llama cassette PATH [--record new|none|all]  record model/server calls to PATH, replay them later
%llama cassette off                           stop recording and replaying
%llama label REF LABEL [VERSION]              point LABEL at a version (REF's, else the default)
%llama label REF LABEL --remove               take LABEL off;  %llama label REF   its label history
%llama diff REF REF                           what changed between two versions, e.g. tutor@1 tutor@2
%%llama --help                                the cell magic's options"""
CELL_DESCRIPTION = """\
Run the cell through the Responses API. The body is a template: {{name}} placeholders take
their values from --var, else from the notebook's variables (a DataFrame is sent as CSV);
$x, {x} and code stay literal text. The body is stored as a prompt, reused while unchanged.
With -p a saved prompt runs and the body is the input. --schema NAME makes the answer JSON
following the schema in variable NAME (a pydantic model class or a JSON-schema dict): it is
saved with the body's prompt version (used again whenever that version runs), or, with -p,
used for this call; the parsed object is shown after the answer."""
CELL_EXAMPLES = """\
examples:
  %%llama --save tutor --var tone=kind -i "What is the capital of Ireland?"
  You are a {{tone}} geography tutor.

  %%llama -p tutor@1 --var tone=friendly -o answer
  What is the capital of France?

  %%llama --over cities --max-tokens 32
  Name one landmark in {{city}}.

  %%llama --save extract --schema Invoice -o invoice
  Extract the invoice number and total from {{doc}}."""


# ---- the client the magics use -------------------------------------------------------------


@dataclass
class _Slot:
    client: Client | None = None
    owned: bool = False  # created here, so closed here when replaced


_slot = _Slot()


def get_client() -> Client:
    """The magics' client, created on first use (``lb.Client()``: ``$LLAMABOOK_HOME`` / ``$LLAMABOOK_BASE_URL``)."""
    if _slot.client is None:
        from .client import Client

        _slot.client, _slot.owned = Client(), True
    return _slot.client


def set_client(client: Client | None, *, owned: bool = False) -> None:
    """Use ``client`` in the magics (``None``: a default client on next use).

    A client the magics created themselves is closed when replaced; one passed here is
    closed only if ``owned=True``.
    """
    previous, was_owned = _slot.client, _slot.owned
    _slot.client, _slot.owned = client, owned and client is not None
    if was_owned and previous is not None and previous is not client:
        previous.close()


# ---- values for placeholders ---------------------------------------------------------------------


@dataclass
class Values:
    """Variable values for one run, and where each came from (for the display)."""

    values: dict[str, Any] = field(default_factory=dict)
    sources: dict[str, str] = field(default_factory=dict)

    def summary(self) -> str:
        return "values: " + ", ".join(f"{name} = {source}" for name, source in self.sources.items())


def parse_vars(items: Iterable[str] | None) -> dict[str, str]:
    """``["name=value", ...]`` from ``--var`` into a dict."""
    given: dict[str, str] = {}
    for item in items or ():
        name, sep, value = item.partition("=")
        name = name.strip()
        if not sep or not name.isidentifier():
            raise UsageError(f"--var {item!r}: write --var name=value (name: letters, digits, '_')")
        given[name] = value
    return given


def collect_values(names: Iterable[str], given: Mapping[str, str], *namespaces: Mapping[str, Any]) -> Values:
    """Values for ``names``: ``--var`` first, then the first namespace that has the name.

    Values are passed as they are: the client types them (a DataFrame becomes its CSV).
    Raises :class:`UsageError` naming every name without a value.
    """
    found = Values()
    missing = []
    for name in names:
        if name in given:
            found.values[name], found.sources[name] = given[name], f"{describe(given[name])} (--var)"
            continue
        space = next((ns for ns in namespaces if name in ns), None)
        if space is None:
            missing.append(name)
            continue
        found.values[name], found.sources[name] = space[name], describe(space[name])
    if missing:
        listed = ", ".join(missing)
        how = " ".join(f"--var {name}=..." for name in missing)
        raise UsageError(f"No value for {listed}: define {listed} in the notebook, or pass {how}")
    return found


VALUE_CHARS = 40


def describe(value: Any) -> str:
    """A short description of a value: the text itself (shortened), 'Path x.pdf', 'PIL image 64x64', ..."""
    from .inputs import is_dataframe  # the client's own test of what it turns into CSV

    kind = type(value)
    if is_dataframe(value):
        return f"DataFrame {value.shape[0]}x{value.shape[1]} as CSV"
    if isinstance(value, PurePath):
        return f"Path {value.name}"
    if isinstance(value, (bytes, bytearray, memoryview)):
        return f"bytes ({len(value):,})"
    if kind.__module__.startswith("PIL.") and hasattr(value, "size"):
        return f"PIL image {value.size[0]}x{value.size[1]}"
    if kind.__name__ == "File" and kind.__module__.startswith("llamabook"):
        return f"File {value.filename}"
    if isinstance(value, (str, int, float)) and not isinstance(value, bool):
        shown = repr(value)
        return shown if len(shown) <= VALUE_CHARS else shown[: VALUE_CHARS - 2] + "…" + shown[0]
    return kind.__name__




def schema_variable(name: str, namespaces: Iterable[Mapping[str, Any]]) -> Any:
    """The schema ``--schema NAME`` names: a pydantic model class or a JSON-schema dict, checked.

    Raises :class:`UsageError` naming ``NAME`` when no notebook variable has that name, when it
    holds something else, or when it is not a valid schema, before anything is stored or sent.
    """
    from .errors import InvalidRequest
    from .schemas import resolve

    if not name.isidentifier():
        raise UsageError(f"--schema {name!r}: give the name of a notebook variable holding a model class or a dict")
    space = next((ns for ns in namespaces if name in ns), None)
    if space is None:
        raise UsageError(
            f"--schema {name}: no variable named {name} in the notebook; define it first, "
            "e.g. class Invoice(BaseModel): ... or a dict {'type': 'object', 'properties': {...}}"
        )
    value = space[name]
    if not isinstance(value, Mapping) and not (isinstance(value, type) and _is_pydantic_class(value)):
        what = f"the class {value.__name__}" if isinstance(value, type) else f"a {type(value).__name__}"
        raise UsageError(f"--schema {name}: {name} is {what}, not a pydantic model class or a JSON-schema dict")
    try:
        resolve(value)
    except InvalidRequest as exc:
        raise UsageError(f"--schema {name}: {exc}") from None
    return value


def _is_pydantic_class(cls: type) -> bool:
    pydantic = sys.modules.get("pydantic")  # a pydantic class means pydantic is already imported
    return pydantic is not None and issubclass(cls, pydantic.BaseModel)


# ---- displays ---------------------------------------------------------------------------------------


def body_bundle(text: str, fmt: str, response: Response | None = None) -> dict[str, Any]:
    """The MIME bundle of an answer: Markdown, plain text, or the response's JSON.

    Markdown goes out as HTML made by the views' one sanitizing path, never as ``text/markdown``:
    JupyterLab renders that with raw HTML allowed, so a model's ``<img onerror>`` or ``<style>``
    would run (and a saved notebook is trusted, so it would run again when reopened).
    """
    if fmt == "json" and response is not None:
        data = response.model_dump(mode="json")
        return {"application/json": data, "text/plain": json.dumps(data, indent=2)}
    if fmt == "markdown":
        try:
            from .views import safe_markdown_html
        except ImportError:  # without the widgets extra (markdown-it-py, nh3): plain text only
            return {"text/plain": text}
        return {"text/html": safe_markdown_html(text), "text/plain": text}
    return {"text/plain": text}


def parsed_bundle(parsed: Any) -> dict[str, Any]:
    """The MIME bundle of a validated structured answer: its JSON, pretty as text and as ``application/json``."""
    data = parsed.model_dump(mode="json") if hasattr(parsed, "model_dump") else parsed
    bundle: dict[str, Any] = {"text/plain": json.dumps(data, indent=2, ensure_ascii=False)}
    if isinstance(data, (dict, list)):  # what front ends render as a JSON tree
        bundle["application/json"] = data
    return bundle


def note_bundle(line: str) -> dict[str, str]:
    """A small one-line note (values used, footer): escaped HTML, so a file name stays text."""
    return {"text/plain": line, "text/html": f"<sub>{html.escape(line)}</sub>"}


def _updatable(shell: InteractiveShell) -> bool:
    """Whether displays can be updated in place (a kernel, or captured); not a terminal."""
    from IPython.core.displaypub import DisplayPublisher

    return type(shell.display_pub) is not DisplayPublisher


def fields_bundle(partial: Any) -> dict[str, Any]:
    """The MIME bundle of a structured output still streaming: its fields so far (escaped HTML) and as JSON text."""
    text = json.dumps(partial, indent=2, ensure_ascii=False)
    try:
        from .views import fields_html
    except ImportError:  # without the widgets extra (jinja2): plain text only
        return {"text/plain": text}
    return {"text/html": fields_html(partial), "text/plain": text}


def show_stream(shell: InteractiveShell, events: Any, fmt: str) -> Response:
    """Show a response stream as it arrives (throttled updates, or plain text in a terminal).

    With a schema, a live display shows the fields filling in (``events.partial``), not the raw text.
    """
    live = _updatable(shell)
    handle = display(body_bundle("", "text"), raw=True, display_id=True) if live else None
    throttle = Throttle(UPDATES_PER_SECOND)
    draft = "markdown" if fmt == "markdown" else "text"
    try:
        for event in events:
            if event.type != "response.output_text.delta":
                continue
            if handle is None:
                sys.stdout.write(event.delta)
                sys.stdout.flush()
            elif throttle.ready():
                partial = getattr(events, "partial", None)
                handle.update(fields_bundle(partial) if partial is not None else body_bundle(events.text + " ▌", draft), raw=True)
    except KeyboardInterrupt:
        events.close()  # stored as incomplete
        raise
    response = events.response
    if handle is not None:
        handle.update(body_bundle(response.output_text, fmt, response), raw=True)
    elif fmt == "json":
        print("\n" + json.dumps(response.model_dump(mode="json"), indent=2))
    else:
        print()
    return response


# ---- the magics --------------------------------------------------------------------------------------


@dataclass
class CellPrompt:
    """What a cell runs: a saved prompt (``-p``) or its body as a template, and the input sent with it."""

    prompt: Prompt | None
    template: str | None
    name: str | None
    input: str | None

    @property
    def variables(self) -> list[str]:
        return list(self.prompt.variables) if self.prompt is not None else placeholders(self.template or "")

    def call_arguments(self) -> dict[str, Any]:
        """``prompt=`` or ``template=``/``name=`` for :meth:`Responses.create`."""
        if self.prompt is not None:
            return {"prompt": self.prompt}
        return {"template": self.template, "name": self.name}


@magics_class
class LlamaMagics(Magics):
    """``%llama`` (line: models, prompts, files, responses, config, use) and ``%%llama`` (cell)."""

    @magic_arguments()
    @argument("-h", "--help", action="store_true", help="show this help")
    @argument("-m", "--model", help="model id (default: the backend's default; see %%llama models)")
    @argument("-p", "--prompt", metavar="REF",
              help="run a saved prompt (a name or pmpt_ id, optional @version); the cell body is then the input")
    @argument("--save", metavar="NAME", help="store the body as prompt NAME (a changed body becomes a new version)")
    @argument("--schema", metavar="NAME", help="a notebook variable holding a pydantic model class or a "
              "JSON-schema dict: the answer is JSON following it (saved with the body's prompt version; "
              "with -p, for this call)")
    @argument("--var", action="append", metavar="NAME=VALUE", help="a variable's value (repeatable); "
              "others come from the notebook's variables")
    @argument("-i", "--input", metavar="TEXT", help="the user input sent with the prompt")
    @argument("--instructions", metavar="TEXT", help="instructions (a system message after the prompt)")
    @argument("-o", "--out", metavar="NAME", help="also bind the Response (or the --over DataFrame) to NAME; "
              "the last one is always in _llama")
    @argument("--no-stream", action="store_true", help="show the answer only when it is complete")
    @argument("-f", "--format", choices=FORMATS, default="markdown", help="how to show the answer")
    @argument("--over", metavar="DF", help="run for every row of DataFrame DF (client.grid); binds the result DataFrame")
    @argument("--max-tokens", type=int, metavar="N", help="max_output_tokens")
    @argument("-t", "--temperature", type=float, metavar="T", help="sampling temperature (0 = greedy, repeatable answers)")
    @argument("--concurrency", type=int, default=4, metavar="N", help="with --over: calls in flight at once (default 4)")
    @argument("--no-progress", action="store_true", help="with --over: no progress bar")
    @argument("--debug", action="store_true", help="raise errors with their traceback")
    @needs_local_scope
    @line_cell_magic
    def llama(self, line: str, cell: str | None = None, local_ns: Mapping[str, Any] | None = None) -> None:
        """Run a {{template}} cell through the Responses API, or manage llamabook from one line.

        %%llama [options]  -- the body is a template: {{name}} placeholders; $x, {x} and code stay literal.
        %llama models|prompts|files|responses|config|use ...  -- see %llama help.
        """
        if cell is None:
            self._line(line)
            return
        args = self.llama.parser.parse_args(split_line(line, "%%llama"))
        if args.help:
            print(self.cell_help())
            return
        try:
            self._cell(args, cell, local_ns or {})
        except LlamabookError as exc:
            if args.debug:
                raise
            raise UsageError(str(exc)) from None

    def cell_help(self) -> str:
        return self.llama.parser.format_help().rstrip()

    # ---- cell ------------------------------------------------------------------------------------------

    def _namespaces(self, local_ns: Mapping[str, Any]) -> tuple[Mapping[str, Any], ...]:
        return (local_ns, self.shell.user_ns) if local_ns is not self.shell.user_ns else (self.shell.user_ns,)

    def _bind(self, value: Any, out: str | None) -> None:
        self.shell.user_ns[LAST] = value
        if out:
            self.shell.user_ns[out] = value

    def _cell(self, args: Any, cell: str, local_ns: Mapping[str, Any]) -> None:
        if args.out and not args.out.isidentifier():
            raise UsageError(f"-o {args.out!r}: give a Python variable name")
        if args.prompt and args.save:
            raise UsageError("--save stores the cell as a prompt and -p runs a saved one: use one of them")
        if args.save:
            from .types.refs import check_name  # pydantic loads with the first cell, not with %load_ext

            check_name(args.save)
        given = parse_vars(args.var)
        spaces = self._namespaces(local_ns)
        schema = schema_variable(args.schema, spaces) if args.schema is not None else None
        client = get_client()
        if args.over is not None:
            self._grid(client, args, cell, given, spaces, schema)
            return
        chosen = self._chosen(client, args, cell)
        values = self._values(chosen, given, spaces, columns=())
        if values.sources:
            display(note_bundle(values.summary()), raw=True)
        invalid: OutputInvalid | None = None
        try:
            # One call checks every value, stores the body as a prompt (with its schema), and sends it.
            result = client.responses.create(
                input=chosen.input,
                model=args.model,
                variables=values.values,
                instructions=args.instructions,
                max_output_tokens=args.max_tokens,
                temperature=args.temperature,
                stream=not args.no_stream,
                **({"schema": schema} if schema is not None else {}),
                **chosen.call_arguments(),
            )
        except OutputInvalid as exc:  # the answer is shown and bound all the same, then the cell fails
            if exc.response is None:
                raise
            invalid, result = exc, exc.response
        if args.no_stream or invalid is not None:
            response = result
            display(body_bundle(response.output_text, args.format, response), raw=True)
        else:
            response = show_stream(self.shell, result, args.format)
            invalid = result.error if isinstance(result.error, OutputInvalid) else None
        self._bind(response, args.out)
        parsed = response.output_parsed
        if parsed is not None:
            display(parsed_bundle(parsed), raw=True)
        from .views import summary_line

        display(note_bundle(summary_line(response, chosen.name)), raw=True)
        if invalid is not None:
            if args.debug:
                raise invalid
            raise UsageError(f"{invalid} (the response is in {args.out or LAST})")
        if response.status == "failed":
            message = response.error.message if response.error else "generation failed"
            if args.debug:
                from .errors import EngineError

                raise EngineError(message)
            raise UsageError(f"The model failed: {message} (the failed response is in {args.out or LAST})")

    def _chosen(self, client: Client, args: Any, cell: str) -> CellPrompt:
        """``-p REF``: the stored prompt version, the body being the input; else the body as a template."""
        body = cell.strip()
        if args.prompt:
            if body and args.input is not None:
                raise UsageError("With -p the cell body is the input: give the input in the body or with -i, not both")
            prompt = client.prompts.get(args.prompt)
            return CellPrompt(prompt, None, prompt.name, body or args.input)
        if not body:
            raise UsageError("The cell is empty: write a {{template}} in it, or run a saved prompt with -p NAME")
        return CellPrompt(None, body, args.save, args.input)

    def _values(
        self,
        chosen: CellPrompt,
        given: Mapping[str, str],
        spaces: tuple[Mapping[str, Any], ...],
        columns: Iterable[str],
    ) -> Values:
        """The values of the prompt's variables; names in ``columns`` (the ``--over`` DataFrame's) need none."""
        names = chosen.variables
        unknown = [name for name in given if name not in names]
        if unknown:
            raise UsageError(f"--var {', '.join(unknown)}: the prompt has no such placeholder (it uses {names})")
        taken = set(columns)
        return collect_values([name for name in names if name not in taken], given, *spaces)

    def _grid(
        self,
        client: Client,
        args: Any,
        cell: str,
        given: Mapping[str, str],
        spaces: tuple[Mapping[str, Any], ...],
        schema: Any = None,
    ) -> None:
        """``--over DF``: the prompt for every row of DF via ``client.grid``; displays and binds the DataFrame.

        With ``--schema`` the body is saved with it, and the grid adds a column per field (``client.grid(schema=)``).
        """
        space = next((ns for ns in spaces if args.over in ns), None)
        if space is None:
            raise UsageError(f"--over {args.over}: no variable named {args.over} in the notebook")
        rows = space[args.over]
        chosen = self._chosen(client, args, cell)
        values = self._values(chosen, given, spaces, columns=_columns(rows))
        # The model and the values common to every row are checked before the body is stored.
        client.responses.check_variables(values.values, model=args.model)
        prompt = chosen.prompt or client.prompts.save(chosen.name, chosen.template or "", schema=schema)
        if values.sources:
            display(note_bundle(values.summary()), raw=True)
            rows = _with_constants(rows, values.values)
        options = {
            "input": chosen.input,
            "instructions": args.instructions,
            "max_output_tokens": args.max_tokens,
            "temperature": args.temperature,
        }
        frame = client.grid(
            prompt,
            rows=rows,
            models=[args.model] if args.model else None,
            concurrency=args.concurrency,
            progress=not args.no_progress,
            **({"schema": schema} if schema is not None else {}),
            **{k: v for k, v in options.items() if v is not None},
        )
        self._bind(frame, args.out)
        display(frame)

    # ---- line ------------------------------------------------------------------------------------------

    def _line(self, line: str) -> None:
        argv = split_line(line, "%llama")
        command, rest = (argv[0], argv[1:]) if argv else ("help", [])
        if command in ("help", "-h", "--help"):
            print(f"{LINE_USAGE}\n\n{self.cell_help()}")
            return
        if command not in SUBCOMMANDS:
            raise UsageError(f"%llama {command}: unknown command; use one of {', '.join(SUBCOMMANDS)} (or %%llama for a cell)")
        debug = "--debug" in rest
        rest = [a for a in rest if a != "--debug"]
        try:
            getattr(self, f"_cmd_{command}")(rest)
        except LlamabookError as exc:
            if debug:
                raise
            raise UsageError(str(exc)) from None

    def _no_args(self, command: str, rest: list[str]) -> None:
        if rest:
            raise UsageError(f"%llama {command} takes no arguments, got {' '.join(rest)}")

    def _cmd_models(self, rest: list[str]) -> None:
        self._no_args("models", rest)
        display(get_client().models.list().to_pandas())

    def _cmd_files(self, rest: list[str]) -> None:
        self._no_args("files", rest)
        display(get_client().files.list().to_pandas())

    def _cmd_responses(self, rest: list[str]) -> None:
        self._no_args("responses", rest)
        display(get_client().responses.list().to_pandas())

    def _cmd_prompts(self, rest: list[str]) -> None:
        """Prompts (default versions), their ``name`` first."""
        self._no_args("prompts", rest)
        frame = get_client().prompts.list().to_pandas()
        display(frame[["name", *(c for c in frame.columns if c != "name")]])

    def _cmd_config(self, rest: list[str]) -> None:
        self._no_args("config", rest)
        print("\n".join(f"{key:<9} {value}" for key, value in config_rows(get_client())))

    def _cmd_use(self, rest: list[str]) -> None:
        target, options = _use_arguments(rest)
        previous = _slot.client.cassette if _slot.client is not None else None
        client = make_client(target, options.get("home"), options.get("model"))
        if previous is not None:  # the cassette stays on when the backend changes
            client.use_cassette(previous.path, previous.mode)
        set_client(client, owned=True)
        print(f"llamabook: using {describe_client(client)}")

    def _cmd_label(self, rest: list[str]) -> None:
        usage = "%llama label REF LABEL [VERSION]  |  %llama label REF LABEL --remove  |  %llama label REF"
        remove = "--remove" in rest
        words = [w for w in rest if w != "--remove"]
        if not 1 <= len(words) <= 3 or (remove and len(words) != 2) or (len(words) == 1 and remove):
            raise UsageError(f"%llama label: {usage}")
        client = get_client()
        if len(words) == 1:
            display(client.prompts.label_history(words[0]).to_pandas())
            return
        ref, label = words[0], words[1]
        if remove:
            client.prompts.remove_label(ref, label)
            print(f"llamabook: {label} removed from {ref}")
            return
        if len(words) == 3 and not words[2].isdigit():
            raise UsageError(f"%llama label: the version is a whole number, not {words[2]!r}\n{usage}")
        labelled = client.prompts.set_label(ref, label, int(words[2]) if len(words) == 3 else None)
        print(f"llamabook: {label} → {labelled.prompt_id}@{labelled.version}" + (f" ({labelled.name})" if labelled.name else ""))

    def _cmd_diff(self, rest: list[str]) -> None:
        """Two prompt references: their diff, changes marked inline."""
        if len(rest) != 2:
            raise UsageError("%llama diff takes two prompt references, e.g. %llama diff tutor@1 tutor@2")
        display(get_client().prompts.diff(rest[0], rest[1]))

    def _cmd_cassette(self, rest: list[str]) -> None:
        path, record = _cassette_arguments(rest)
        client = get_client()
        if path is None:
            client.use_cassette(None)
            print("llamabook: no cassette; model calls run live")
            return
        recorder = client.use_cassette(path, record)
        assert recorder is not None
        print(f"llamabook: cassette {recorder.describe()}")


# Printed help: the cell magic's name, and plain argparse layout (the docstring keeps IPython's).
LlamaMagics.llama.parser.prog = "%%llama"
LlamaMagics.llama.parser.formatter_class = argparse.RawDescriptionHelpFormatter
LlamaMagics.llama.parser.description = CELL_DESCRIPTION
LlamaMagics.llama.parser.epilog = CELL_EXAMPLES


def split_line(line: str, magic: str) -> list[str]:
    """Shell-like words of a magic's line, quotes removed (``-i "two words"`` is one value)."""
    try:
        return shlex.split(line)
    except ValueError as exc:
        raise UsageError(f"{magic} {line}: {exc} (check the quotes)") from None


def _columns(rows: Any) -> list[str]:
    if hasattr(rows, "columns"):
        return [str(c) for c in rows.columns]
    if isinstance(rows, list) and all(isinstance(r, Mapping) for r in rows):
        return sorted({str(k) for r in rows for k in r})
    raise UsageError("--over needs a DataFrame or a list of dicts (one dict of variables per row)")


def _with_constants(rows: Any, constants: Mapping[str, Any]) -> Any:
    """Every row plus the values that are the same for all rows (from --var or the notebook)."""
    if hasattr(rows, "assign"):
        return rows.assign(**{name: [value] * len(rows) for name, value in constants.items()})
    return [{**row, **constants} for row in rows]


def _use_arguments(argv: list[str]) -> tuple[str, dict[str, str]]:
    """``embedded`` / ``http(s)://…`` and ``home=…``, ``model=…`` from ``%llama use``."""
    target = ""
    options: dict[str, str] = {}
    for token in argv:
        key, sep, value = token.partition("=")
        if sep and key in ("home", "model") and value:
            options[key] = value
        elif token in ("embedded", "local") and not target:
            target = "embedded"
        elif token.startswith(("http://", "https://")) and not target:
            target = token
        else:
            raise UsageError(f"%llama use: cannot read {token!r}\n{LINE_USAGE}")
    if not target and "home" not in options:
        raise UsageError(f"%llama use needs a target\n{LINE_USAGE}")
    if "model" in options and not target.startswith("http"):
        raise UsageError("%llama use: model= is for a server; the embedded backend has one model")
    return target or "embedded", options


def _cassette_arguments(argv: list[str]) -> tuple[str | None, str | None]:
    """``PATH [--record MODE]`` or ``off`` from ``%llama cassette``."""
    usage = "%llama cassette PATH [--record new|none|all]   or   %llama cassette off"
    record: str | None = None
    words: list[str] = []
    tokens = iter(argv)
    for token in tokens:
        if token == "--record" or token.startswith("--record="):
            record = token.partition("=")[2] or next(tokens, "")
            if record not in RECORD_MODES:
                raise UsageError(f"%llama cassette: --record takes new, none or all, not {record!r}\n{usage}")
        elif token.startswith("-"):
            raise UsageError(f"%llama cassette: unknown option {token}\n{usage}")
        else:
            words.append(token)
    if len(words) != 1:
        raise UsageError(f"%llama cassette needs one path (or off)\n{usage}")
    if words[0] == "off":
        if record is not None:
            raise UsageError(f"%llama cassette off takes no --record\n{usage}")
        return None, None
    return words[0], record


def make_client(target: str, home: str | None, model: str | None) -> Client:
    """A client on the embedded backend (``target == "embedded"``) or on the server at ``target``."""
    from .client import Client

    if target == "embedded":
        return Client.embedded(home)  # so a $LLAMABOOK_BASE_URL in the environment does not win
    return Client.connect(target, home=home, model=model)


def describe_client(client: Client) -> str:
    backend = client.backend
    if backend.base_url:
        return f"the {backend.name} backend at {backend.base_url}"
    return f"the {backend.name} backend with data under {backend.home or '?'}"


def config_rows(client: Client) -> Iterator[tuple[str, str]]:
    """What ``%llama config`` shows; the API key only as set / not set."""
    backend = client.backend
    yield "backend", backend.name
    try:
        yield "server", client.server.label
    except LlamabookError as exc:
        yield "server", f"unknown ({exc})"
    yield from backend.describe()
    yield "home", str(backend.home or "-")
    try:
        yield "model", client.models.default()
    except LlamabookError as exc:
        yield "model", f"unavailable ({exc})"
    yield "names", f"{len(client.prompts.names())} prompt names for this backend"
    recorder = client.cassette
    yield "cassette", recorder.describe() if recorder else "-"


def help_without_body(lines: list[str]) -> list[str]:
    """An input transformer: a cell of only ``%%llama … --help`` shows the help.

    IPython refuses a cell magic whose body is empty before the magic is called, so such a
    cell is turned into a call with a blank body.
    """
    if lines and lines[0].startswith("%%llama") and not "".join(lines[1:]).strip():
        words = lines[0].split()[1:]
        if "-h" in words or "--help" in words:
            return ['get_ipython().run_cell_magic("llama", "--help", "\\n")\n']
    return lines


def load_ipython_extension(ipython: InteractiveShell) -> None:
    """Register ``%llama`` / ``%%llama``."""
    ipython.register_magics(LlamaMagics)
    if help_without_body not in ipython.input_transformers_cleanup:
        ipython.input_transformers_cleanup.append(help_without_body)


def unload_ipython_extension(ipython: InteractiveShell) -> None:
    """Remove ``%llama`` / ``%%llama`` (the client is kept for a later load)."""
    for kind in ("line", "cell"):
        ipython.magics_manager.magics[kind].pop("llama", None)
    if help_without_body in ipython.input_transformers_cleanup:
        ipython.input_transformers_cleanup.remove(help_without_body)
