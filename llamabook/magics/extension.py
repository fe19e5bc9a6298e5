"""``%load_ext llamabook``: the ``%llama`` / ``%%llama`` magic, registered with IPython.

The magic parses its line (:mod:`.parsing`) and hands a cell to :mod:`.cell`, a line to
:mod:`.commands`. A llamabook error becomes IPython's one-line ``UsageError``, unless ``--debug``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from IPython.core.error import UsageError
from IPython.core.magic import Magics, line_cell_magic, magics_class, needs_local_scope

from ..errors import LlamabookError
from .cell import run_cell
from .commands import run_command
from .parsing import cell_help, parse_cell_options, parse_line

if TYPE_CHECKING:
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
                run_command(args)
            elif args.help:
                print(cell_help())
            else:
                run_cell(self.shell, args, cell, local_ns or {})
        except LlamabookError as exc:
            if args.debug:
                raise
            raise UsageError(str(exc)) from None


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
