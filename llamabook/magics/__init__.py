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

Line magic: ``%llama models | prompts | files | responses | config | use TARGET | cassette | label | diff``.
Prompt names live in the home database, one table per backend.

By job: :mod:`.session` (the client the magics use), :mod:`.parsing` (one argparse parser for
the cell's options, one with a subparser per line command), :mod:`.values` (``{{placeholder}}``
values from ``--var`` and the notebook), :mod:`.prompt_choice` (the body or ``-p REF``),
:mod:`.cell` (a cell run), :mod:`.over` (``--over``: the grid), :mod:`.streaming` and
:mod:`.bundles` (what is displayed), :mod:`.commands` (the line commands) and :mod:`.extension`
(the IPython magic, and the one-line display of bad input). This module only names them.
"""

from ..throttle import Throttle  # the stream's rate limit, importable from here as before
from .bundles import body_bundle, fields_bundle, note_bundle, parsed_bundle
from .cell import LAST, run_cell
from .commands import COMMANDS, config_rows, describe_client, run_command
from .extension import (
    LlamaMagics, help_without_body, input_error_line, load_ipython_extension, show_input_error,
    unload_ipython_extension,
)  # fmt: skip
from .parsing import (
    CELL_DESCRIPTION, CELL_EXAMPLES, FORMATS, LINE_USAGE, RECORD_MODES, SUBCOMMANDS, cell_help, cell_parser,
    line_help, line_parser, parse_cell_options, parse_line, split_line,
)  # fmt: skip
from .prompt_choice import CellPrompt, choose_prompt
from .session import current_client, get_client, make_client, set_client
from .streaming import UPDATES_PER_SECOND, show_stream
from .values import Values, collect_values, parse_vars, schema_variable, values_for

__all__ = [
    "CELL_DESCRIPTION",
    "CELL_EXAMPLES",
    "COMMANDS",
    "FORMATS",
    "LAST",
    "LINE_USAGE",
    "RECORD_MODES",
    "SUBCOMMANDS",
    "UPDATES_PER_SECOND",
    "CellPrompt",
    "LlamaMagics",
    "Throttle",
    "Values",
    "body_bundle",
    "cell_help",
    "cell_parser",
    "choose_prompt",
    "collect_values",
    "config_rows",
    "current_client",
    "describe_client",
    "fields_bundle",
    "get_client",
    "help_without_body",
    "input_error_line",
    "line_help",
    "line_parser",
    "load_ipython_extension",
    "make_client",
    "note_bundle",
    "parse_cell_options",
    "parse_line",
    "parse_vars",
    "parsed_bundle",
    "run_cell",
    "run_command",
    "schema_variable",
    "set_client",
    "show_input_error",
    "show_stream",
    "split_line",
    "unload_ipython_extension",
    "values_for",
]
