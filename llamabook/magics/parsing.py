"""What ``%llama`` and ``%%llama`` accept, parsed one way: argparse.

The cell magic's options are one parser (:func:`cell_parser`); the line commands are one parser
with a subparser per command (:func:`line_parser`). Both read shell-like words
(:func:`split_line`) and fail with IPython's :class:`UsageError`, which a notebook shows as one
message without a traceback, instead of argparse's exit.
"""

from __future__ import annotations

import argparse
import itertools
import shlex
from collections.abc import Sequence
from functools import cache
from typing import Any, NoReturn

from IPython.core.error import UsageError

FORMATS = ("markdown", "text", "json")
RECORD_MODES = ("new", "none", "all")
SUBCOMMANDS = ("models", "prompts", "files", "responses", "config", "use", "cassette", "label", "diff", "help")
HELP_WORDS = ("help", "-h", "--help")
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
%llama label REF LABEL [VERSION] --evidence GRID --require CHECK=MIN [--baseline V]
                                              move LABEL only if grid GRID (a notebook variable) shows
                                              CHECK's interval at MIN or above and no regression from V
%llama diff REF REF                           what changed between two versions, e.g. tutor@1 tutor@2
%%llama --help                                the cell magic's options"""
#: What each line command takes, shown under a misuse of it.
USAGES = {
    **{name: f"%llama {name} takes no arguments" for name in ("models", "prompts", "files", "responses", "config")},
    "use": "%llama use embedded [home=PATH]  |  %llama use home=PATH  |  "
    "%llama use http://HOST:PORT [home=PATH] [model=ID]",
    "cassette": "%llama cassette PATH [--record new|none|all]   or   %llama cassette off",
    "label": "%llama label REF LABEL [VERSION] [--evidence GRID --require CHECK=MIN --baseline V]  |  "
    "%llama label REF LABEL --remove  |  %llama label REF",
    "diff": "%llama diff takes two prompt references, e.g. %llama diff tutor@1 tutor@2",
}
CELL_DESCRIPTION = """\
Run the cell through the Responses API. The body is a template: {{name}} placeholders take
their values from --var, else from the notebook's variables (a DataFrame is sent as CSV);
$x, {x} and code stay literal text. The body is stored as a prompt, reused while unchanged.
With -p a saved prompt runs and the body is the input. --schema NAME makes the answer JSON
following the schema in variable NAME (a pydantic model class or a JSON-schema dict): it is
saved with the body's prompt version (used again whenever that version runs), or, with -p,
used for this call; the parsed object is shown after the answer.
--over DF runs the prompt for every row of DataFrame DF (client.grid). --versions 1,2 compares
versions of a saved prompt: with -p NAME those versions run (the body is the input); with
--save NAME the body is saved first (a changed body becomes a new version) and runs alongside
the listed versions. --check NAME=VAR adds a check_NAME column from the check object in notebook
variable VAR (e.g. has_city = lb.checks.contains("Dublin")); nothing is evaluated."""
CELL_EXAMPLES = """\
examples:
  %%llama --save tutor --var tone=kind -i "What is the capital of Ireland?"
  You are a {{tone}} geography tutor.

  %%llama -p tutor@1 --var tone=friendly -o answer
  What is the capital of France?

  %%llama --over cities --max-tokens 32
  Name one landmark in {{city}}.

  %%llama --over cities -p tutor --versions 1,2 --check ok=has_city -o grid
  Answer in one sentence.

  %%llama --save extract --schema Invoice -o invoice
  Extract the invoice number and total from {{doc}}."""


class UsageParser(argparse.ArgumentParser):
    """An argparse parser that raises :class:`UsageError` instead of printing and exiting.

    ``-h``/``--help`` is not added: the magics print their help themselves.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, add_help=False, **kwargs)

    def error(self, message: str) -> NoReturn:
        raise UsageError(message)


class CommandParser(UsageParser):
    """One line command's parser: a misuse names the command and shows what it takes.

    Options may sit anywhere among the command's words (``label tutor --remove production``),
    which plain argparse refuses once a positional has been read: the words are parsed with
    argparse's intermixed parsing, and none may be left over.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._intermixing = False

    def error(self, message: str) -> NoReturn:
        raise misuse(self.prog.removeprefix("%llama "), message)

    def parse_known_args(  # type: ignore[override]
        self, args: Sequence[str] | None = None, namespace: argparse.Namespace | None = None
    ) -> tuple[argparse.Namespace, list[str]]:
        if self._intermixing:  # the intermixed parse calls back here for its two passes
            return super().parse_known_args(args, namespace)
        self._intermixing = True
        try:
            return self.parse_intermixed_args(args, namespace), []
        finally:
            self._intermixing = False


def misuse(command: str, problem: str) -> UsageError:
    """The error for a line command used wrongly: ``%llama CMD: problem`` and what CMD takes."""
    return UsageError(f"%llama {command}: {problem}\n{USAGES[command]}")


def split_line(line: str, magic: str) -> list[str]:
    """Shell-like words of a magic's line, quotes removed (``-i "two words"`` is one value)."""
    try:
        return shlex.split(line)
    except ValueError as exc:
        raise UsageError(f"{magic} {line}: {exc} (check the quotes)") from None


def parse_cell_options(line: str) -> argparse.Namespace:
    """The options of a ``%%llama`` line (the words after ``%%llama``)."""
    argv = split_line(line, "%%llama")
    check_var_words(argv)
    return cell_parser().parse_args(argv)


def check_var_words(argv: Sequence[str]) -> None:
    """``--var tone friendly``: a :class:`UsageError` showing ``--var tone=friendly``, not argparse's
    "unrecognized arguments: friendly" (the cell takes no words of its own, so they can only be meant as the value)."""
    for index, word in enumerate(argv):
        if word == "--var" and index + 1 < len(argv):
            name, rest = argv[index + 1], index + 2
        elif word.startswith("--var="):
            name, rest = word.removeprefix("--var="), index + 1
        else:
            continue
        if "=" in name or name.startswith("-"):
            continue
        stray = list(itertools.takewhile(lambda w: not w.startswith("-"), argv[rest:]))
        if stray:  # quoted when it must be: --var 'tone=very friendly'
            raise UsageError(f"--var takes NAME=VALUE: write --var {shlex.quote(name + '=' + ' '.join(stray))}")


def parse_line(line: str) -> argparse.Namespace:
    """A ``%llama`` line as ``command`` plus that command's arguments (``help`` when empty).

    A first word that names no command fails here, before argparse, with the list of commands.
    """
    argv = split_line(line, "%llama")
    if not argv or argv[0] in HELP_WORDS:
        return argparse.Namespace(command="help", debug=False)
    if argv[0] not in SUBCOMMANDS:
        known = ", ".join(SUBCOMMANDS)
        raise UsageError(f"%llama {argv[0]}: unknown command; use one of {known} (or %%llama for a cell)")
    return line_parser().parse_args(argv)


def cell_help() -> str:
    """What ``%%llama --help`` prints."""
    return cell_parser().format_help().rstrip()


def line_help() -> str:
    """What ``%llama help`` prints: the line commands, then the cell magic's help."""
    return f"{LINE_USAGE}\n\n{cell_help()}"


@cache
def cell_parser() -> UsageParser:
    """The ``%%llama`` options."""
    parser = UsageParser(
        prog="%%llama",
        description=CELL_DESCRIPTION,
        epilog=CELL_EXAMPLES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    add = parser.add_argument
    add("-h", "--help", action="store_true", help="show this help")
    add("-m", "--model", help="model id (default: the backend's default; see %%llama models)")
    add("-p", "--prompt", metavar="REF",
        help="run a saved prompt (a name or pmpt_ id, optional @version); the cell body is then the input")
    add("--save", metavar="NAME", help="store the body as prompt NAME (a changed body becomes a new version)")
    add("--schema", metavar="NAME", help="a notebook variable holding a pydantic model class or a "
        "JSON-schema dict: the answer is JSON following it (saved with the body's prompt version; "
        "with -p, for this call)")
    add("--var", action="append", metavar="NAME=VALUE", help="a variable's value (repeatable); "
        "others come from the notebook's variables")
    add("-i", "--input", metavar="TEXT", help="the user input sent with the prompt")
    add("--instructions", metavar="TEXT", help="instructions (a system message after the prompt)")
    add("-o", "--out", metavar="NAME", help="also bind the Response (or the --over DataFrame) to NAME; "
        "the last one is always in _llama")
    add("--no-stream", action="store_true", help="show the answer only when it is complete")
    add("-f", "--format", choices=FORMATS, default="markdown", help="how to show the answer")
    add("--over", metavar="DF", help="run for every row of DataFrame DF (client.grid); binds the result DataFrame")
    add("--versions", metavar="N,N", help="with --over: the versions of -p's prompt to run, or with --save the "
        "versions that run alongside the body's own version")
    add("--check", action="append", metavar="NAME=VAR", help="with --over: a check_NAME column from the check "
        "object in notebook variable VAR (repeatable)")
    add("--tool", action="append", metavar="NAME", help="a notebook function the model may call (repeatable): "
        "the cell runs the tool loop (client.responses.run) and shows the conversation")
    add("--tool-choice", metavar="auto|required|none|NAME", help="with --tool: whether (or which) a tool must be "
        "called first (the tiny embedded model calls none under auto: use required)")
    add("--continue", dest="continue_", action="store_true", help="continue from the last response in the "
        "notebook (_llama): the body is the next message")
    add("--repeats", type=int, metavar="N", help="with --over: ask each row N times (a repeat column; "
        "give -t above 0 for the answers to differ)")
    add("--max-tokens", type=int, metavar="N", help="max_output_tokens")
    add("-t", "--temperature", type=float, metavar="T", help="sampling temperature (0 = greedy, repeatable answers)")
    add("--concurrency", type=int, default=4, metavar="N", help="with --over: calls in flight at once (default 4)")
    add("--no-progress", action="store_true", help="with --over: no progress bar")
    add("--debug", action="store_true", help="raise errors with their traceback")
    return parser


@cache
def line_parser() -> UsageParser:
    """The ``%llama`` commands, a subparser each (``help`` is answered before parsing)."""
    parser = UsageParser(prog="%llama")
    commands = parser.add_subparsers(dest="command", prog="%llama", parser_class=CommandParser)
    common = UsageParser()
    common.add_argument("--debug", action="store_true", help="raise errors with their traceback")

    def command(name: str) -> argparse.ArgumentParser:
        return commands.add_parser(name, parents=[common], usage=USAGES[name])

    for name in ("models", "prompts", "files", "responses", "config"):
        command(name)
    command("use").add_argument("words", nargs="*", metavar="embedded|URL|home=PATH|model=ID")
    cassette = command("cassette")
    cassette.add_argument("path", metavar="PATH|off")
    cassette.add_argument("--record", choices=RECORD_MODES)
    label = command("label")
    label.add_argument("ref", metavar="REF")
    label.add_argument("label", nargs="?", metavar="LABEL")
    label.add_argument("version", nargs="?", metavar="VERSION")
    label.add_argument("--remove", action="store_true")
    label.add_argument("--evidence", metavar="GRID")
    label.add_argument("--require", action="append", metavar="CHECK=MIN")
    label.add_argument("--baseline", metavar="VERSION|REF")
    diff = command("diff")
    diff.add_argument("old", metavar="REF")
    diff.add_argument("new", metavar="REF")
    return parser
