"""The ``%%llama`` cell: its body and options through the client, the answer shown and bound.

The cell only checks what the notebook knows (option combinations, variable names), then makes
one client call: the client checks every value, stores the body as a prompt and sends it.
"""

from __future__ import annotations

from argparse import Namespace
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from IPython.core.error import UsageError
from IPython.display import display

from ..errors import OutputInvalid
from .bundles import body_bundle, note_bundle, parsed_bundle
from .over import over_rows, row_columns, run_over
from .prompt_choice import CellPrompt, choose_prompt
from .session import get_client
from .streaming import show_stream
from .values import Values, check_variables, parse_vars, parse_versions, schema_variable, tool_functions, values_for

if TYPE_CHECKING:
    from IPython.core.interactiveshell import InteractiveShell

    from ..client import Client
    from ..types import Response

#: The notebook variable that always holds the last cell's Response (or ``--over`` DataFrame).
LAST = "_llama"


def run_cell(shell: InteractiveShell, args: Namespace, cell: str, local_ns: Mapping[str, Any]) -> None:
    """Run a ``%%llama`` cell with its parsed options: one answer, or a grid with ``--over``.

    Raises :class:`UsageError` for what the notebook gets wrong; llamabook's own errors pass through.
    """
    _check_options(args)
    given = parse_vars(args.var)
    spaces = _namespaces(shell, local_ns)
    schema = schema_variable(args.schema, spaces) if args.schema is not None else None
    client = get_client()
    if args.over is not None:
        versions = parse_versions(args.versions) if args.versions is not None else None
        checks = check_variables(args.check, spaces) if args.check else None
        rows = over_rows(args.over, spaces)
        chosen = choose_prompt(client, args, cell)
        values = values_for(chosen.variables, given, spaces, columns=row_columns(rows), over=args.over)
        frame = run_over(client, args, chosen, values, rows, schema, versions=versions, checks=checks)
        _bind(shell, frame, args.out)
        display(frame)
        return
    chosen = choose_prompt(client, args, cell)
    values = values_for(chosen.variables, given, spaces)
    conversation = _conversation(shell, args, spaces)
    if values.sources:
        display(note_bundle(values.summary()), raw=True)
    if args.tool:
        response, invalid = _run_tools(client, args, chosen, values, schema, conversation), None
    else:
        response, invalid = _answer(shell, client, args, chosen, values, schema, conversation)
    _bind(shell, response, args.out)
    parsed = response.output_parsed
    if parsed is not None:
        display(parsed_bundle(parsed), raw=True)
    from ..views import summary_line

    display(note_bundle(summary_line(response, chosen.name)), raw=True)
    _fail_if_unanswered(response, invalid, args)


def _check_options(args: Namespace) -> None:
    """The option rules argparse cannot say: -o's name, -p with --save, --save's name, what needs --over."""
    if args.out and not args.out.isidentifier():
        raise UsageError(f"-o {args.out!r}: give a Python variable name")
    if args.prompt and args.save:
        raise UsageError("--save stores the cell as a prompt and -p runs a saved one: use one of them")
    if args.save:
        from ..types.refs import check_name  # pydantic loads with the first cell, not with %load_ext

        check_name(args.save)
    if args.over is not None and (args.tool or args.continue_):
        raise UsageError("--tool and --continue are for one answer, not a grid: for a grid with tools use client.grid(..., tools=[…])")
    if args.continue_ and args.save:
        raise UsageError("--continue sends the body as the next message; --save stores a template: use one of them")
    for option, given in (("--versions", args.versions), ("--check", args.check), ("--repeats", args.repeats)):
        if given is not None and args.over is None:
            raise UsageError(f"{option} is for a grid: add --over DF (a DataFrame of the rows to run)")
    if args.versions is not None and not (args.prompt or args.save):
        raise UsageError(
            "--versions compares versions of a saved prompt: add -p NAME (the body is then the input) "
            "or --save NAME (the body is saved as a version of NAME and runs with the listed ones)"
        )


def _conversation(shell: InteractiveShell, args: Namespace, spaces: tuple[Mapping[str, Any], ...]) -> dict[str, Any]:
    """What a cell adds to its request: ``previous_response_id`` (``--continue``) and ``tools`` (``--tool``)."""
    extra: dict[str, Any] = {}
    if args.continue_:
        from ..types import Response

        last = shell.user_ns.get(LAST)
        if not isinstance(last, Response):
            raise UsageError(f"--continue continues the last response in the notebook ({LAST}), and there is none: run a %%llama cell first")
        extra["previous_response_id"] = last.id
    if args.tool:
        extra["tools"] = tool_functions(args.tool, spaces)
        if args.tool_choice is not None:
            extra["tool_choice"] = args.tool_choice
    elif args.tool_choice is not None:
        raise UsageError("--tool-choice says how the --tool functions are used: add --tool NAME")
    return extra


def _request(args: Namespace, chosen: CellPrompt, values: Values, schema: Any, extra: Mapping[str, Any]) -> dict[str, Any]:
    """The keyword arguments of the cell's call, for ``create`` and ``run`` alike."""
    return {
        "input": chosen.input,
        "model": args.model,
        "variables": values.values,
        "instructions": args.instructions,
        "max_output_tokens": args.max_tokens,
        "temperature": args.temperature,
        **({"schema": schema} if schema is not None else {}),
        **chosen.call_arguments(),
        **extra,
    }


def _run_tools(client: Client, args: Namespace, chosen: CellPrompt, values: Values, schema: Any, extra: Mapping[str, Any]) -> Response:
    """``--tool``: the tool loop (``client.responses.run``), then the whole conversation shown as a thread."""
    response = client.responses.run(**_request(args, chosen, values, schema, extra))
    display(client.responses.thread(response.id))
    return response


def _answer(
    shell: InteractiveShell, client: Client, args: Namespace, chosen: CellPrompt, values: Values, schema: Any,
    extra: Mapping[str, Any],
) -> tuple[Response, OutputInvalid | None]:  # fmt: skip
    """Send the cell and show the answer (streamed unless --no-stream); also the schema error, if any."""
    try:
        # One call checks every value, stores the body as a prompt (with its schema), and sends it.
        result = client.responses.create(stream=not args.no_stream, **_request(args, chosen, values, schema, extra))
    except OutputInvalid as exc:  # the answer is shown and bound all the same, then the cell fails
        if exc.response is None:
            raise
        display(body_bundle(exc.response.output_text, args.format, exc.response), raw=True)
        return exc.response, exc
    if args.no_stream:
        display(body_bundle(result.output_text, args.format, result), raw=True)
        return result, None
    response = show_stream(shell, result, args.format)
    return response, result.error if isinstance(result.error, OutputInvalid) else None


def _fail_if_unanswered(response: Response, invalid: OutputInvalid | None, args: Namespace) -> None:
    """Fail the cell, after the answer is shown and bound, when it broke its schema or the model failed."""
    if invalid is not None:
        if args.debug:
            raise invalid
        raise UsageError(f"{invalid} (the response is in {args.out or LAST})")
    if response.status == "failed":
        message = response.error.message if response.error else "generation failed"
        if args.debug:
            from ..errors import EngineError

            raise EngineError(message)
        raise UsageError(f"The model failed: {message} (the failed response is in {args.out or LAST})")


def _namespaces(shell: InteractiveShell, local_ns: Mapping[str, Any]) -> tuple[Mapping[str, Any], ...]:
    """Where notebook variables are looked up: the caller's locals (a magic inside a function), then the user's."""
    return (local_ns, shell.user_ns) if local_ns is not shell.user_ns else (shell.user_ns,)


def _bind(shell: InteractiveShell, value: Any, out: str | None) -> None:
    shell.user_ns[LAST] = value
    if out:
        shell.user_ns[out] = value
