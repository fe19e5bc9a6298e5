"""``%load_ext llamabook``: the ``%llama`` / ``%%llama`` magic, registered with IPython.

The magic parses its line (:mod:`.parsing`) and hands a cell to :mod:`.cell`, a line to
:mod:`.commands`. A llamabook error becomes IPython's one-line ``UsageError``, unless ``--debug``.
Bad input through the Python API (an :class:`~llamabook.InputError` raised in a cell) is shown
the same way, as one line and a hint how to see the traceback (:func:`show_input_error`); every
other error keeps its traceback.
"""

from __future__ import annotations

import sys
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from IPython.core.error import UsageError
from IPython.core.magic import Magics, line_cell_magic, magics_class, needs_local_scope

from ..errors import InputError, LlamabookError
from ..views.grids import show_grids_as_pandas, show_grids_compactly
from .cell import run_cell
from .commands import run_command
from .parsing import cell_help, parse_cell_options, parse_line

if TYPE_CHECKING:
    from types import TracebackType

    from IPython.core.interactiveshell import InteractiveShell


@magics_class
class LlamaMagics(Magics):
    """``%llama`` (line: models, prompts, files, responses, config, use, ...) and ``%%llama`` (cell)."""

    @needs_local_scope
    @line_cell_magic
    def llama(self, line: str, cell: str | None = None, local_ns: Mapping[str, Any] | None = None) -> None:
        """Run a {{template}} cell through the Responses API, or manage llamabook from one line.

        %%llama [options]  -- the body is a template: {{name}} placeholders; $x, {x} and code stay literal.
        %llama models|prompts|files|responses|config|use ...  -- see %llama help.
        %%llama --help  -- the cell magic's options.
        """
        args = parse_line(line) if cell is None else parse_cell_options(line)
        try:
            if cell is None:
                run_command(args, (local_ns, self.shell.user_ns) if local_ns is not None else (self.shell.user_ns,))
            elif args.help:
                print(cell_help())
            else:
                run_cell(self.shell, args, cell, local_ns or {})
        except LlamabookError as exc:
            if args.debug:
                setattr(exc, FULL_TRACEBACK, True)  # --debug: shown with its traceback, not as one line
                raise
            raise UsageError(str(exc)) from None


#: The errors shown as one line: llamabook's errors about the caller's input.
SHORT_ERRORS = (InputError,)
#: What follows the line: how to see the whole traceback.
TRACEBACK_HINT = "(%tb shows the full traceback)"
#: Set on an error (``--debug``) that is to be shown with its traceback all the same.
FULL_TRACEBACK = "_llamabook_full_traceback"


def input_error_line(error: BaseException) -> str:
    """``MissingVariables: <message> (%tb shows the full traceback)``: how a cell shows an input error."""
    return f"{type(error).__name__}: {error} {TRACEBACK_HINT}"


def show_input_error(
    shell: InteractiveShell,
    etype: type[BaseException],
    value: BaseException,
    tb: TracebackType | None,
    tb_offset: int | None = None,
) -> list[str]:
    """IPython's custom exception handler for :data:`SHORT_ERRORS`: the error as one line of text.

    It is shown as IPython shows any error (an ``error`` output in a notebook, whose traceback is
    drawn as text, never HTML: a message may hold a file name or a template's words). The
    exception is kept where ``%tb`` and ``%debug`` find it.
    """
    if getattr(value, FULL_TRACEBACK, False):
        shell.showtraceback((etype, value, tb), tb_offset=tb_offset)
        return []
    sys.last_type, sys.last_value, sys.last_traceback = etype, value, tb  # what %tb and %debug read
    if sys.version_info >= (3, 12):
        sys.last_exc = value
    shown = [input_error_line(value)]
    shell._showtraceback(etype, value, shown)  # the kernel's error output (ename, evalue, these lines)
    return shown


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
    """Register ``%llama`` / ``%%llama``, show llamabook's input errors as one line (:func:`show_input_error`),
    and show a grid's DataFrame as a compact table (:func:`~llamabook.views.grids.show_grids_compactly`,
    which ``import llamabook`` in a running kernel has already done).

    A custom exception handler someone else set is left in place (IPython holds one).
    """
    ipython.register_magics(LlamaMagics)
    show_grids_compactly(ipython)
    if help_without_body not in ipython.input_transformers_cleanup:
        ipython.input_transformers_cleanup.append(help_without_body)
    if ipython.custom_exceptions in ((), SHORT_ERRORS):
        ipython.set_custom_exc(SHORT_ERRORS, show_input_error)


def unload_ipython_extension(ipython: InteractiveShell) -> None:
    """Remove ``%llama`` / ``%%llama``, the one-line input errors and the grid display (the client is kept for a later load)."""
    for kind in ("line", "cell"):
        ipython.magics_manager.magics[kind].pop("llama", None)
    if help_without_body in ipython.input_transformers_cleanup:
        ipython.input_transformers_cleanup.remove(help_without_body)
    show_grids_as_pandas(ipython)
    if ipython.custom_exceptions == SHORT_ERRORS:
        ipython.set_custom_exc((), None)
