"""First uses from many threads at once, in a fresh interpreter: run by tests/integration/test_first_use_races.py.

``python raceworker.py PATH [HOME] [CASSETTE]`` starts :data:`THREADS` threads, the n-th after
``n * STAGGER_S`` seconds (0-40 ms apart in all, as a server's answers arrive), each through one
lazy path of llamabook on its first use in this process; then prints one JSON line: what each
thread got, the errors it met, and the heavy packages this process imported. Nothing is imported
before the threads start but llamabook itself (and, for the grids, what a grid needs up front).

PATH is one of:

* ``schema``: jsonschema's first use through four doors in turn (validate, grammar limits, a
  schema check, a ``json_schema`` check): unguarded, 4 of 6 processes met a half-imported module;
* ``load``: ``_lazy.load`` of jsonschema's modules in turn (the guard itself: unguarded, it fails);
* ``grammar``: the grammar's ``limits`` of a schema (llguidance and jsonschema), and the
  modules constrained decoding loads (llguidance, its llama.cpp bridge; a tokenizer needs the model: not here);
* ``judge_grid``: a grid whose judge answers arrive 10-30 ms apart from a scripted engine, every verdict yes;
* ``json_schema_grid``: the same grid with a ``json_schema`` check instead of a judge;
* ``replay``: a judge grid on the embedded model replayed from CASSETTE, with ``llama_cpp`` made
  unimportable: a replay must never need it.
"""

from __future__ import annotations

import json
import random
import sys
import threading
import time
import traceback
from pathlib import Path
from typing import Any

THREADS = 16
STAGGER_S = 0.0025  # 16 threads over 40 ms
SCHEMA = {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]}
VERDICT_SCHEMA = {"type": "object", "properties": {"verdict": {"type": "string", "enum": ["yes", "no"]}}, "required": ["verdict"]}
TOPICS = [f"topic {n}" for n in range(8)]
HEAVY = ("jsonschema", "llguidance", "llama_cpp", "pandas", "openai", "pypdf", "PIL")


def staggered(action: Any) -> tuple[list[Any], list[str]]:
    """``action(n)`` on :data:`THREADS` threads, the n-th started ``n * STAGGER_S`` after the first."""
    results: list[Any] = [None] * THREADS
    errors: list[str] = []

    def run(n: int) -> None:
        time.sleep(n * STAGGER_S)
        try:
            results[n] = action(n)
        except BaseException as exc:  # noqa: BLE001 - every failure is the finding
            errors.append("".join(traceback.format_exception_only(type(exc), exc)).strip())

    threads = [threading.Thread(target=run, args=(n,)) for n in range(THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return results, errors


def schema_path() -> tuple[list[Any], list[str]]:
    """Threads reach jsonschema through different doors in turn, as a grid's calls and checks do."""
    from llamabook import checks, schemas
    from llamabook.engines.embedded.constrained import limits

    doors = [
        lambda n: schemas.validate({"city": n}, SCHEMA),  # a json_schema check, a structured output
        lambda n: limits(VERDICT_SCHEMA),  # the embedded grammar's limits (a judge's verdict)
        lambda n: schemas.check_schema(SCHEMA) or [],  # a schema= given to a call
        lambda n: checks.json_schema(SCHEMA).schema == SCHEMA and [],  # a check built on a worker
    ]
    return staggered(lambda n: doors[n % len(doors)](n))


def load_path() -> tuple[list[Any], list[str]]:
    """``_lazy.load`` itself, through a package's different modules in turn: each comes back whole."""
    from llamabook._lazy import load

    doors = [("jsonschema.exceptions", "SchemaError"), ("jsonschema", "Draft202012Validator"),
             ("jsonschema.validators", "Draft3Validator"), ("jsonschema._format", "FormatChecker")]

    def whole(n: int) -> bool:
        name, attribute = doors[n % len(doors)]
        return hasattr(load(name), attribute)

    return staggered(whole)


def grammar_path() -> tuple[list[Any], list[str]]:
    """The grammar's limits, and the modules constrained decoding loads, through their different doors in turn."""
    from llamabook._lazy import load
    from llamabook.engines.embedded.constrained import limits

    doors = [
        lambda n: limits(VERDICT_SCHEMA),
        lambda n: [] if hasattr(load("llguidance"), "LLMatcher") else ["no LLMatcher"],
        lambda n: [] if hasattr(load("llguidance.llamacpp"), "lltokenizer_from_vocab") else ["no tokenizer bridge"],
    ]
    return staggered(lambda n: doors[n % len(doors)](n))


def _server_like_engine() -> Any:
    """A scripted engine whose answers come 10-30 ms apart, a verdict yes for a judge and an echo otherwise."""
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # tests/: support is a package there
    from support.scripted_engine import ScriptedEngine, echo

    gate = threading.Lock()
    clock = {"next": 0.0}

    def answer(messages: list[dict[str, Any]]) -> str:
        with gate:  # each answer 10-30 ms after the one before, as a server's arrive
            now = time.monotonic()
            clock["next"] = max(now, clock["next"]) + random.uniform(0.010, 0.030)
            wait = clock["next"] - now
        time.sleep(wait)
        last = str(messages[-1]["content"])
        return '{"verdict": "yes"}' if "verdict" in last else echo(messages)

    return ScriptedEngine(answer=answer)


def grid_path(home: str, check: str) -> tuple[list[Any], list[str]]:
    import llamabook as lb
    from llamabook import checks

    chosen = (
        checks.judge("Is the answer about {{topic}}?") if check == "judge"
        else checks.json_schema({"type": "string"})  # echo text is not JSON: False, never an error
    )
    with lb.Client(home, engine=_server_like_engine()) as client:
        grid = client.grid("Write about {{topic}}.", [{"topic": t} for t in TOPICS], concurrency=8, progress=False,
                           checks={"c": chosen})
        return _grid_outcome(grid)


def replay_path(home: str, cassette: str) -> tuple[list[Any], list[str]]:
    sys.modules["llama_cpp"] = None  # type: ignore[assignment]  # any import of it now fails
    import llamabook as lb
    from llamabook import checks

    with lb.Client(home, cassette=cassette, record="none") as client:
        grid = client.grid(
            "Write about {{topic}}.", [{"topic": t} for t in TOPICS[:4]], concurrency=8, progress=False,
            max_output_tokens=8, checks={"c": checks.judge("Is the answer about {{topic}}?")},
        )
        return _grid_outcome(grid)


def _grid_outcome(grid: Any) -> tuple[list[Any], list[str]]:
    import pandas as pd  # the grid made its frame with it: already imported

    values = [None if pd.isna(v) else bool(v) for v in grid["check_c"].astype(object)]
    errors = [str(e) for e in grid["check_c_error"].dropna()] + [str(e) for e in grid["error"].dropna()]
    return values, errors


def main() -> None:
    path, rest = sys.argv[1], sys.argv[2:]
    started = time.perf_counter()
    if path == "schema":
        results, errors = schema_path()
    elif path == "load":
        results, errors = load_path()
    elif path == "grammar":
        results, errors = grammar_path()
    elif path in ("judge_grid", "json_schema_grid"):
        results, errors = grid_path(rest[0], path.removesuffix("_grid"))
    elif path == "replay":
        results, errors = replay_path(rest[0], rest[1])
    else:
        raise SystemExit(f"unknown path {path!r}")
    imported = sorted(name for name in HEAVY if sys.modules.get(name) is not None)
    print(json.dumps({"results": results, "errors": errors, "imported": imported,
                      "seconds": round(time.perf_counter() - started, 3)}, default=str))


if __name__ == "__main__":
    main()
