"""Security properties, each tried against real parts.

* Templates never run code, and variable values are never rendered again.
* File ids never reach outside the file store (local), nor another route (server).
* SQL is parametrized: no user value is ever formatted into a statement, and hostile text
  is stored and read back intact.
* API keys never reach the home (database, run log, files), printed or logged output, the
  magics' output, error messages, reprs or cassettes: checked against the real llama-cpp server
  (which needs its key) and the real Llama Stack server (given a fake key).
"""

from __future__ import annotations

import ast
import hashlib
import logging
import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from IPython.core.interactiveshell import InteractiveShell
from IPython.utils.capture import capture_output

import llamabook as lb
from llamabook import magics
from support.faultserver import MODEL, FaultServer
from support.servers import LLAMA_CPP_KEY, Server
from support.storecheck import diff, snapshot

PACKAGE = Path(lb.__file__).parent
FAKE_KEY = "sk-llamabook-test-SECRET123"
SERVER_MODEL = "llamacpp/smollm2"

SSTI = [
    "{{ ''.__class__.__mro__[1].__subclasses__() }}",
    "{{7*7}} {{ 7*'7' }}",
    "{% import os %}{{ os.system('touch PWNED') }}",
    "{{ __import__('os').system('touch PWNED') }}",
    "{0.__globals__} {name.__class__} %(name)s %s",
    "{{ name.__class__ }} {{ name|attr('__class__') }} {{ name['x'] }}",
    "${7*7} #{7*7} <%= 7*7 %> @(7*7) {{{name}}}",
]


@pytest.fixture(scope="module")
def echo() -> Iterator[FaultServer]:
    """The loopback stand-in model: it answers ``echo: <last message>``, which is all these tests need."""
    server = FaultServer().start()
    yield server
    server.stop()


@pytest.fixture
def client(tmp_path: Path, echo: FaultServer) -> Iterator[lb.Client]:
    engine = lb.OpenAICompatibleEngine(echo.url, models=[MODEL], max_retries=0)
    with lb.Client(tmp_path / "home", engine=engine) as c:
        yield c


# ---- templates never run code ----------------------------------------------------------------


@pytest.mark.parametrize("payload", SSTI, ids=[f"ssti-{i}" for i in range(len(SSTI))])
def test_template_injection_is_literal_text(client: lb.Client, payload: str, tmp_path: Path, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    template = f"Hello {{{{name}}}}. {payload}"
    p = client.prompts.create(template, variables=["name"])
    response = client.responses.create(prompt=p, variables={"name": "Ann"}, input="hi")
    expected = template.replace("{{name}}", "Ann")  # only {{name}} is a placeholder, substituted once
    assert response.rendered_messages[0] == {"role": "system", "content": expected}
    assert not (tmp_path / "PWNED").exists()
    assert client.prompts.retrieve(p.prompt_id).prompt == template


def test_values_are_never_rendered_again(client: lb.Client) -> None:
    p = client.prompts.create("A={{a}} B={{b}}", variables=["a", "b"])
    values = {"a": "{{b}}", "b": "{{ a }} {0} {a!r} %(a)s {% raw %}"}
    response = client.responses.create(prompt=p, variables=values, input="hi")
    assert response.rendered_messages[0]["content"] == "A={{b}} B={{ a }} {0} {a!r} %(a)s {% raw %}"


def test_magic_cells_are_templates_not_code(client: lb.Client, ip: InteractiveShell, tmp_path: Path) -> None:
    magics.set_client(client)
    ip.user_ns["who"] = "{{who}} {{ __import__('os').getcwd() }}"
    try:
        cell = "%%llama --no-stream -i hi\nHi {{who}}. {{ ''.__class__ }} {0.__globals__} ${who} {who}\n"
        with capture_output():
            result = ip.run_cell(cell)
        assert result.error_in_exec is None
        system = ip.user_ns["_llama"].rendered_messages[0]["content"]
    finally:
        magics.set_client(None)
        ip.user_ns.pop("who", None)
        ip.user_ns.pop("_llama", None)
    assert system == "Hi {{who}} {{ __import__('os').getcwd() }}. {{ ''.__class__ }} {0.__globals__} ${who} {who}"




# ---- file ids stay in the file store -------------------------------------------------------------


def test_file_ids_never_reach_outside_the_store(client: lb.Client, tmp_path: Path) -> None:
    home = client.backend.home
    secret = tmp_path / "secret.txt"
    secret.write_bytes(b"outside the home")
    stored = client.files.create(b"inside", filename="inside.txt")
    digest = hashlib.sha256(b"inside").hexdigest()
    hostile = [
        "../../etc/passwd", "/etc/passwd", str(secret), "../secret.txt", "..", ".", "files/../llamabook.db",
        "llamabook.db", digest, f"{digest[:2]}/{digest}", f"files/{digest[:2]}/{digest}", "%2e%2e%2fsecret.txt",
        stored.id + "\x00", "\x00", stored.id + "/../" + stored.id, stored.id.upper(), " " + stored.id, "",
    ]  # fmt: skip
    before = snapshot(home)
    for file_id in hostile:
        for action in (client.files.retrieve, client.files.content, client.files.delete):
            with pytest.raises(lb.FileNotFound):
                action(file_id)
    assert diff(before, snapshot(home)) == [] and secret.read_bytes() == b"outside the home"
    assert client.files.content(stored.id) == b"inside"


def test_hostile_filenames_are_metadata_only(client: lb.Client, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    work = tmp_path / "work" / "dir"
    work.mkdir(parents=True)
    monkeypatch.chdir(work)  # where a relative filename would land if it were ever used as a path

    def outside() -> list[Path]:
        return sorted(p for p in tmp_path.rglob("*") if p.relative_to(tmp_path).parts[0] != "home")

    outside_before = outside()
    absolute = tmp_path / "absolute.txt"
    names = ["../../escaped.txt", str(absolute), "nul\x00byte.txt", "..", "a/b/c.txt", "C:\\win.txt", "é ü 文.txt"]
    made = {name: client.files.create(name.encode("utf-8") + b"!", filename=name) for name in names}
    for name, f in made.items():
        assert client.files.retrieve(f.id).filename == name
        assert client.files.content(f.id) == name.encode("utf-8") + b"!"
    blobs = [p for p in (client.backend.home / "files").rglob("*") if p.is_file()]
    assert len(blobs) == len(names)
    assert all(p.name == hashlib.sha256(p.read_bytes()).hexdigest() for p in blobs)  # named by content only
    assert outside() == outside_before and not absolute.exists()


def test_server_ids_cannot_address_another_route(tmp_path: Path, llama_stack_server: Server) -> None:
    """``files/../responses/<id>`` must not delete a response, nor ``prompts/../files/<id>`` a file."""
    with lb.Client(tmp_path / "home", base_url=llama_stack_server.url, model_accepts={SERVER_MODEL: ["text"]}) as c:
        f = c.files.create(b"keep me", filename="keep.txt")
        p = c.prompts.create("Keep {{x}}", variables=["x"])
        r = c.responses.create(input="Say hi.", max_output_tokens=16)
        for hostile in (f"../responses/{r.id}", f"..%2Fresponses%2F{r.id}", "..", f"{f.id}/../{f.id}", f.id + "\x00"):
            with pytest.raises(lb.FileNotFound, match="not a valid id"):
                c.files.delete(hostile)
            with pytest.raises(lb.FileNotFound):
                c.files.content(hostile)
        for hostile in (f"../files/{f.id}", f"../responses/{r.id}", f"{p.prompt_id}/../x", f"{p.prompt_id}?v=1"):
            with pytest.raises(lb.PromptNotFound, match="not a valid id"):
                c.prompts.delete(hostile)
        for hostile in (f"../files/{f.id}", f"../prompts/{p.prompt_id}", f"{r.id}#x"):
            with pytest.raises(lb.ResponseNotFound, match="not a valid id"):
                c.responses.delete(hostile)
        assert c.files.content(f.id) == b"keep me"
        assert c.prompts.retrieve(p.prompt_id).prompt == "Keep {{x}}"
        assert c.responses.retrieve(r.id).output_text == r.output_text


# ---- SQL is parametrized --------------------------------------------------------------------------

#: Formatted SQL that was reviewed: each interpolates only text built from constants in its function
#: (a "?"-placeholder WHERE clause, ASC/DESC, a comparison operator, a constant), never a user value.
REVIEWED_SQL = {
    ("store/database.py", "BUSY_TIMEOUT_MS"),
    ("store/database.py", "statement"),  # a statement of the MIGRATIONS constant
    ("store/prompts.py", "_SELECT"),  # a literal SELECT … JOIN prefix
    ("store/pages.py", "statement"),  # table, tiebreak and columns are the callers' constants; values are bound
    ("store/runs.py", "marks"),  # "?,?,…": one placeholder per key of a get_many chunk; the keys are bound
    ("store/annotations.py", "_SELECT"),  # a literal SELECT … FROM annotations prefix
    ("store/annotations.py", "statement"),  # _IN: the _SELECT prefix and a constant column name
    ("store/annotations.py", "marks"),  # "?,?,…": one placeholder per key of a chunk; the keys are bound
}  # fmt: skip
SQL_METHODS = {"execute", "executemany", "executescript"}


def formatted_sql(path: Path) -> list[tuple[str, str]]:
    """(file, interpolated expression) for every SQL call whose statement is not a plain literal."""
    found = []
    for node in ast.walk(ast.parse(path.read_text())):
        if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr in SQL_METHODS):
            continue
        if not node.args:
            continue
        statement = node.args[0]
        parts = _literal_parts(statement)
        if parts is None:
            found.append((str(path.relative_to(PACKAGE)), ast.unparse(statement)))
        else:
            found += [(str(path.relative_to(PACKAGE)), expr) for expr in parts]
    return found


def _literal_parts(node: ast.expr) -> list[str] | None:
    """The expressions interpolated into a statement; None when it is not a (f-)string at all."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return []
    if isinstance(node, ast.JoinedStr):
        return [ast.unparse(v.value) for v in node.values if isinstance(v, ast.FormattedValue)]
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add):
        left, right = _literal_parts(node.left), _literal_parts(node.right)
        return None if left is None or right is None else left + right
    if isinstance(node, ast.Name):
        return [node.id]  # a statement held in a variable: listed so that it is reviewed
    return None  # .format(), % formatting, a call…


def test_sql_lives_only_in_the_store() -> None:
    """One owner of the home database: every SQL call is under llamabook/store/."""
    calls = {
        str(path.relative_to(PACKAGE))
        for path in PACKAGE.rglob("*.py")
        for node in ast.walk(ast.parse(path.read_text()))
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr in SQL_METHODS
    }
    assert {"store/prompts.py", "store/names.py", "store/remote.py", "store/runs.py"} <= calls
    assert sorted(c for c in calls if not c.startswith("store/")) == []
    assert not any("sqlite3" in path.read_text() for path in PACKAGE.rglob("*.py") if "store" not in path.parts)


def test_no_user_value_is_formatted_into_sql() -> None:
    found = {item for path in sorted(PACKAGE.rglob("*.py")) for item in formatted_sql(path)}
    unreviewed = found - REVIEWED_SQL
    assert not unreviewed, f"SQL built from values: {sorted(unreviewed)}; use ? placeholders"
    assert REVIEWED_SQL <= found, "a reviewed entry no longer exists: remove it from REVIEWED_SQL"
    # The scan does find formatting: it is not vacuous.
    sample = ast.parse('conn.execute(f"SELECT * FROM t WHERE id = {user}")\nc.execute("x %s" % y)\n')
    calls = [n for n in ast.walk(sample) if isinstance(n, ast.Call) and getattr(n.func, "attr", "") == "execute"]
    assert [_literal_parts(c.args[0]) for c in calls] == [["user"], None]


HOSTILE = [
    "'); DROP TABLE prompts; --",
    "Robert'); DROP TABLE files;--",
    "\" OR \"1\"=\"1",
    "' OR '1'='1",
    "x\x00y",
    "%s %d ? ?1 :name @name $1",
    "\\'; SELECT * FROM sqlite_master; --",
    "🦙 日本語 \u202e reversed",
]


def test_hostile_text_is_stored_and_read_back_intact(client: lb.Client) -> None:
    home = client.backend.home
    tables_before = _tables(home)
    for text in HOSTILE:
        p = client.prompts.create(text + " {{v}}", variables=["v"])
        assert client.prompts.retrieve(p.prompt_id).prompt == text + " {{v}}"
        f = client.files.create(text.encode("utf-8"), filename=text + ".txt")
        assert (client.files.retrieve(f.id).filename, client.files.content(f.id)) == (text + ".txt", text.encode("utf-8"))
        r = client.responses.create(prompt=p, variables={"v": text}, input=text, metadata={"k": text}, instructions=text)
        stored = client.responses.retrieve(r.id)
        assert (stored.metadata, stored.instructions, stored.output_text) == ({"k": text}, text, f"echo: {text}")
        assert stored.rendered_messages[0]["content"] == f"{text} {text}"
        grid = client.grid(p, [{"v": text}], progress=False)
        assert grid.loc[0, "v"] == text and grid.loc[0, "output_text"] == f"echo: {text} {text}"
        for lookup in (client.prompts.retrieve, client.files.retrieve, client.responses.retrieve):
            with pytest.raises(lb.NotFound):
                lookup(text)
    assert _tables(home) == tables_before
    assert len(client.prompts.list()) == len(client.files.list()) == len(HOSTILE)
    assert len(client.responses.list()) == 2 * len(HOSTILE)  # one call each, and one grid row each


def _tables(home: Path) -> list[str]:
    with sqlite3.connect(home / "llamabook.db") as conn:
        names = [row[0] for row in conn.execute("SELECT name FROM sqlite_master ORDER BY name")]
    conn.close()
    return names


# ---- API keys are never written or shown ----------------------------------------------------------


def everything_written(home: Path) -> bytes:
    """Every byte under the home: the database, its WAL, the file store, aliases.json."""
    return b"".join(p.read_bytes() for p in sorted(home.rglob("*")) if p.is_file())


def shown(*objects: Any) -> str:
    """repr and str of objects, and of exceptions' whole chains."""
    parts = []
    for obj in objects:
        parts += [repr(obj), str(obj)]
        cause = getattr(obj, "__cause__", None) or getattr(obj, "__context__", None)
        while isinstance(cause, BaseException):
            parts += [repr(cause), str(cause)]
            cause = cause.__cause__ or cause.__context__
    return "\n".join(parts)


def exercise(client: lb.Client, ip: InteractiveShell, model: str) -> tuple[list[Any], lb.Response]:
    """Prompts, files, responses (plain and streamed), a grid, errors and the magics.

    Returns everything to inspect, and the first response (proof the server answered).
    """
    kept: list[Any] = [client, client.backend, *getattr(client.backend, "engines", [])]
    p = client.prompts.create("Answer {{q}} briefly.", variables=["q"])
    f = client.files.create(b"notes about llamas\n", filename="notes.txt")
    r = client.responses.create(prompt=p, variables={"q": "hi"}, input="Say hi.", max_output_tokens=16, model=model)
    stream = client.responses.create(input="Say yes.", max_output_tokens=16, stream=True, model=model)
    events = list(stream)
    grid = client.grid(p, [{"q": "one"}, {"q": "two"}], models=[model], max_output_tokens=16, progress=False)
    kept += [p, f, r, events[-1], grid.to_string(), client.prompts.list(), client.responses.list(), client.models.list()]
    for bad in (lambda: client.responses.create(input="x", model="gpt-9"),
                lambda: client.prompts.retrieve("pmpt_" + "0" * 48),
                lambda: client.files.content("file-" + "0" * 32)):  # fmt: skip
        with pytest.raises(lb.LlamabookError) as caught:
            bad()
        kept.append(caught.value)
    magics.set_client(client)
    try:
        with capture_output() as captured:
            cell = ip.run_cell(f"%%llama -m {model} --max-tokens 16 -i hi --var tone=dry\nBe {{{{tone}}}}.")
            ip.run_line_magic("llama", "config")
            ip.run_line_magic("llama", "models")
        assert cell.error_in_exec is None, cell.error_in_exec
        kept += [captured.stdout, captured.stderr, [o.data for o in captured.outputs], ip.user_ns.pop("_llama")]
    finally:
        magics.set_client(None)
    return kept, r


def assert_no_key(
    keys: list[str], home: Path, kept: list[Any], capfd: pytest.CaptureFixture[str], logged: list[logging.LogRecord]
) -> None:
    """None of ``keys`` under the home, in stdout/stderr, in the log records or in what was kept."""
    written = everything_written(home)
    out, err = capfd.readouterr()
    text = "\n".join([out, err, *(r.getMessage() for r in logged), *(str(r.args) for r in logged), shown(*kept)])
    assert written and len(text) > 1000, "almost nothing to search: the check would be vacuous"
    for key in keys:
        assert key.encode() not in written
        assert key not in text


def test_the_llama_cpp_key_is_used_but_never_written_or_shown(
    tmp_path: Path, llama_cpp_server: Server, ip: InteractiveShell, capfd: pytest.CaptureFixture[str],
    caplog: pytest.LogCaptureFixture,
) -> None:  # fmt: skip
    caplog.set_level(logging.DEBUG)
    home = tmp_path / "home"
    engine = lb.OpenAICompatibleEngine(llama_cpp_server.url + "/v1", api_key=LLAMA_CPP_KEY)
    cassette = home / "cassette.jsonl"  # under the home, so the search below covers it
    with lb.Client(home, engine=engine, cassette=cassette, record="all") as client:
        kept, answered = exercise(client, ip, "smollm2")
        assert answered.output_text  # the server demands the key and answered, so the key was sent
    assert cassette.read_text().count('"kind": "generation"') >= 4
    wrong = lb.OpenAICompatibleEngine(llama_cpp_server.url + "/v1", api_key=FAKE_KEY)
    with lb.Client(home, engine=wrong) as other, pytest.raises(lb.EngineError, match="401") as refused:
        other.models.list()
    kept.append(refused.value)
    assert_no_key([LLAMA_CPP_KEY, FAKE_KEY], home, kept, capfd, caplog.records)


@pytest.mark.parametrize("server_fixture", ["llama_stack_server", "ogx_server"])
def test_a_llama_stack_key_is_never_written_or_shown(
    tmp_path: Path, server_fixture: str, request: pytest.FixtureRequest, ip: InteractiveShell,
    capfd: pytest.CaptureFixture[str], caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch,
) -> None:  # fmt: skip
    llama_stack_server: Server = request.getfixturevalue(server_fixture)
    caplog.set_level(logging.DEBUG)
    home = tmp_path / "home"
    accepts = {SERVER_MODEL: ["text"]}
    cassette = home / "cassette.jsonl"  # every HTTP exchange, under the home: searched below
    with lb.Client(home, base_url=llama_stack_server.url, api_key=FAKE_KEY, model_accepts=accepts,
                   cassette=cassette, record="all") as client:  # fmt: skip
        kept, answered = exercise(client, ip, SERVER_MODEL)
        assert answered.status == "completed" or answered.cut_off  # the server answered (it samples)
    assert cassette.read_text().count('"kind": "http"') >= 10
    monkeypatch.setenv("LLAMABOOK_API_KEY", FAKE_KEY)
    with capture_output() as used:
        ip.run_line_magic("llama", f"use {llama_stack_server.url} home={home} model={SERVER_MODEL}")
        ip.run_line_magic("llama", "config")
        ip.run_line_magic("llama", "prompts")
    kept += [used.stdout, [o.data for o in used.outputs], magics.get_client(), magics.get_client().backend]
    assert "set (hidden)" in used.stdout
    magics.set_client(None)
    assert any(r.name.startswith(("openai", "httpx", "httpcore")) for r in caplog.records)  # the SDK did log
    assert_no_key([FAKE_KEY], home, kept, capfd, caplog.records)
