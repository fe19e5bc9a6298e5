"""The ``%llama`` line commands, one function each, run on their parsed arguments (:mod:`.parsing`)."""

from __future__ import annotations

from argparse import Namespace
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from IPython.display import display

from ..errors import LlamabookError
from .parsing import line_help, misuse
from .session import current_client, get_client, make_client, set_client

if TYPE_CHECKING:
    from ..client import Client


def run_command(args: Namespace, namespaces: Sequence[Mapping[str, Any]] = ()) -> None:
    """Run a parsed ``%llama`` line (``args.command`` and its arguments); ``namespaces``: the notebook's
    variables, for a command that names one (``label --evidence GRID``)."""
    args.namespaces = list(namespaces)
    COMMANDS[args.command](args)


def show_help(args: Namespace) -> None:
    """``%llama help``: the line commands, then the cell magic's options."""
    print(line_help())


def show_models(args: Namespace) -> None:
    """``%llama models``: the models as a DataFrame."""
    display(get_client().models.list().to_pandas())


def show_files(args: Namespace) -> None:
    """``%llama files``: the stored files as a DataFrame."""
    display(get_client().files.list().to_pandas())


def show_responses(args: Namespace) -> None:
    """``%llama responses``: the stored responses as a DataFrame."""
    display(get_client().responses.list().to_pandas())


def show_prompts(args: Namespace) -> None:
    """``%llama prompts``: prompts (default versions) as a compact table, their ``name`` first.

    One line per prompt: the template on one line (shortened with "…"), a missing name or no
    labels as an empty cell (:func:`llamabook.views.prompts.prompt_list_html`).
    ``client.prompts.list().to_pandas()`` is the DataFrame.
    """
    frame = get_client().prompts.list().to_pandas()
    frame = frame[["name", *(c for c in frame.columns if c != "name")]]
    from ..views.prompts import prompt_list_html, prompt_list_text

    bundle = {"text/plain": prompt_list_text(frame)}
    try:
        bundle["text/html"] = prompt_list_html(frame)
    except ImportError:  # jinja2 missing (no 'widgets' extra): the text alone
        pass
    display(bundle, raw=True)


def show_config(args: Namespace) -> None:
    """``%llama config``: backend, server, home, model, cassette (an API key only as set / not set)."""
    print("\n".join(f"{key:<9} {value}" for key, value in config_rows(get_client())))


def use(args: Namespace) -> None:
    """``%llama use embedded|URL [home=PATH] [model=ID]``: a new client for the magics; the cassette stays on."""
    target, options = _use_words(args.words)
    current = current_client()
    previous = current.cassette if current is not None else None
    client = make_client(target, options.get("home"), options.get("model"))
    if previous is not None:
        client.use_cassette(previous.path, previous.mode)
    set_client(client, owned=True)
    print(f"llamabook: using {describe_client(client)}")


def cassette(args: Namespace) -> None:
    """``%llama cassette PATH [--record MODE]`` records and replays model/server calls; ``off`` stops."""
    if args.path == "off":
        if args.record is not None:
            raise misuse("cassette", "off takes no --record")
        get_client().use_cassette(None)
        print("llamabook: no cassette; model calls run live")
        return
    recorder = get_client().use_cassette(args.path, args.record)
    assert recorder is not None
    print(f"llamabook: cassette {recorder.describe()}")


def label(args: Namespace) -> None:
    """``%llama label REF LABEL [VERSION]`` points a label; ``--remove`` takes it off; ``REF`` alone: its history."""
    if args.remove and (args.label is None or args.version is not None):
        raise misuse("label", "--remove takes REF and LABEL")
    if args.version is not None and not args.version.isdigit():
        raise misuse("label", f"the version is a whole number, not {args.version!r}")
    gated = args.evidence is not None or args.require or args.baseline is not None
    if gated and (args.label is None or args.remove):
        raise misuse("label", "--evidence, --require and --baseline gate a move: give REF and LABEL")
    prompts = get_client().prompts
    if gated:
        version = int(args.version) if args.version is not None else None
        labelled = prompts.promote(args.ref, args.label, version, **_gate_options(args))
        named = f" ({labelled.name})" if labelled.name else ""
        print(f"llamabook: {args.label} → {labelled.prompt_id}@{labelled.version}{named} (through the gate; see %llama label {args.ref})")
    elif args.label is None:
        display(prompts.label_history(args.ref).to_pandas())
    elif args.remove:
        prompts.remove_label(args.ref, args.label)
        print(f"llamabook: {args.label} removed from {args.ref}")
    else:
        labelled = prompts.set_label(args.ref, args.label, int(args.version) if args.version is not None else None)
        named = f" ({labelled.name})" if labelled.name else ""
        print(f"llamabook: {args.label} → {labelled.prompt_id}@{labelled.version}{named}")


def _gate_options(args: Namespace) -> dict[str, Any]:
    """``--evidence GRID --require CHECK=MIN --baseline V`` as ``promote``'s keywords (GRID a notebook variable)."""
    options: dict[str, Any] = {}
    if args.evidence is not None:
        space = next((ns for ns in args.namespaces if args.evidence in ns), None)
        if space is None:
            raise misuse("label", f"--evidence {args.evidence}: no variable named {args.evidence} in the notebook")
        options["evidence"] = space[args.evidence]
    if args.require:
        options["require"] = dict(map(_requirement, args.require))
    if args.baseline is not None:
        options["baseline"] = int(args.baseline) if args.baseline.isdigit() else args.baseline
    return options


def _requirement(item: str) -> tuple[str, float]:
    """``CHECK=MIN`` of ``--require`` as ``(CHECK, MIN)``."""
    name, sep, minimum = (part.strip() for part in item.partition("="))
    try:
        if sep and name:
            return name, float(minimum)
    except ValueError:
        pass
    raise misuse("label", f"--require {item!r}: write --require CHECK=MIN, e.g. --require has_city=0.8")


def diff(args: Namespace) -> None:
    """``%llama diff REF REF``: what changed between two prompt versions, marked inline."""
    display(get_client().prompts.diff(args.old, args.new))


COMMANDS: dict[str, Callable[[Namespace], None]] = {
    "models": show_models,
    "prompts": show_prompts,
    "files": show_files,
    "responses": show_responses,
    "config": show_config,
    "use": use,
    "cassette": cassette,
    "label": label,
    "diff": diff,
    "help": show_help,
}


def _use_words(words: list[str]) -> tuple[str, dict[str, str]]:
    """``embedded`` / ``http(s)://…`` and ``home=…``, ``model=…`` from ``%llama use``."""
    target = ""
    options: dict[str, str] = {}
    for word in words:
        key, sep, value = word.partition("=")
        if sep and key in ("home", "model") and value:
            options[key] = value
        elif word in ("embedded", "local") and not target:
            target = "embedded"
        elif word.startswith(("http://", "https://")) and not target:
            target = word
        else:
            raise misuse("use", f"cannot read {word!r}")
    if not target and "home" not in options:
        raise misuse("use", "needs a target")
    if "model" in options and not target.startswith("http"):
        raise misuse("use", "model= is for a server; the embedded backend has one model")
    return target or "embedded", options


def describe_client(client: Client) -> str:
    """Which backend a client is on, and where: what ``%llama use`` prints."""
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
