"""Every case of tests/support/bad_inputs.py: the typed error, its message, and nothing stored changed.

Each case runs on its own copy of one seeded home (prompt versions, files, a response, a run
log row, a prompt name). The home is snapshotted before and after (every table row, every file's
hash); they must be equal, except where the catalogue says the attempt
is itself recorded (a failed response). A widget case must also raise nothing and show no
traceback, and show its typed error in the panel's error area.
"""

from __future__ import annotations

import io
import shutil
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from types import SimpleNamespace
from typing import Any
from unittest import mock

import pandas as pd
import pytest
from IPython.core.interactiveshell import InteractiveShell
from IPython.utils.capture import capture_output

import llamabook as lb
from llamabook import magics
from llamabook.backends.http import HttpBackend
from llamabook.engines.embedded import EmbeddedEngine
from llamabook.widgets import FilesPanel, PromptEditor, ResponseView, RunsTable
from support.bad_inputs import (
    CASES, CLIENT_CASES, MAGIC_CASES, WIDGET_CASES, BadInput, docs_table, make_bad_media, markdown_table,
)  # fmt: skip
from support.servers import free_port
from support.storecheck import diff, snapshot
from support.widgets import file_item

TEMPLATE = "Summarise {{doc}} for {{name}}."


@dataclass
class Seed:
    home: Path
    media: SimpleNamespace
    ids: dict[str, Any]


@pytest.fixture(scope="module")
def seed(tmp_path_factory: pytest.TempPathFactory, engine: EmbeddedEngine) -> Seed:
    """A home with two prompt versions, four files, a response, a run-log row and a prompt name."""
    folder = tmp_path_factory.mktemp("bad-inputs")
    home = folder / "seed"
    media = make_bad_media(folder / "media")
    with lb.Client(home, engine=engine) as client:
        prompt = client.prompts.create(TEMPLATE, variables=["doc", "name"])
        client.prompts.update(prompt.prompt_id, prompt=TEMPLATE + " Briefly.", version=1, variables=["doc", "name"])
        notes = client.files.create(b"Meeting notes: ship on Friday.\n", filename="notes.txt")
        invoice = client.files.create(media.pdf, filename="invoice.pdf")
        broken = client.files.create(media.corrupt_pdf, filename="broken.pdf")
        photo = client.files.create(media.png, filename="photo.png")
        response = client.responses.create(prompt=prompt.prompt_id, variables={"doc": notes, "name": "Ann"}, max_output_tokens=2)
        grid = client.grid(prompt.prompt_id, [{"doc": "a", "name": "b"}], max_output_tokens=1, progress=False)
        client.prompts.save("tutor", TEMPLATE + " Briefly.", ["doc", "name"])  # names version 2's prompt
    # Every connection closed with the client (the grid's too), so the copies below see a still file.
    assert not (home / "llamabook.db-wal").exists()
    assert list(grid["status"]) == ["incomplete"] and grid["cut_off"].all()  # one token: cut off
    ids = {"pid": prompt.prompt_id, "notes": notes, "invoice": invoice, "broken": broken, "photo": photo,
           "resp": response.id, "grid": grid}  # fmt: skip
    return Seed(home, media, ids)




def upload(source: Path | bytes, name: str | None = None) -> tuple[dict[str, Any], ...]:
    """What a FileUpload's value holds after the browser sent ``source`` (a path, or bytes and a name)."""
    if isinstance(source, Path):
        return file_item(name or source.name, source.read_bytes())
    assert name is not None, "upload(bytes) needs a name"
    return file_item(name, source)


def get_weather(city: str) -> str:
    """The weather now in a city (a function tool for the tool cases)."""
    return f"{city}: 12 C"


def read_stream(stream: io.BytesIO) -> str:
    """A function tool whose parameter's type has no JSON Schema."""
    return stream.read().decode()


class Tracebacks:
    """Stands in for IPython where ipywidgets shows a handler's exception as a traceback; keeps them."""

    def __init__(self) -> None:
        self.shown: list[BaseException] = []

    def showtraceback(self, *args: Any, **kwargs: Any) -> None:
        self.shown.append(sys.exc_info()[1])


def notebook(media: SimpleNamespace) -> dict[str, Any]:
    """The notebook variables the magic cells see."""
    from PIL import Image

    return {
        "answer_count": 42,
        "cities": pd.DataFrame({"city": ["Cork", "Lyon"]}),
        "picture": Image.new("RGB", (8, 8), "teal"),
        "a_set": {1, 2},
        "locked_pdf": media.locked_path,
    }


class Namespace:
    """The names a case's code sees; every client it opens is closed afterwards."""

    def __init__(self, home: Path, seed: Seed, engine: EmbeddedEngine) -> None:
        self.home, self.engine, self.opened = home, engine, []
        self.names: dict[str, Any] = {
            "lb": lb, "Path": Path, "io": io, "home": home, "bad": seed.media, **seed.ids,
            "client": self.open(lb.Client(home, engine=engine)),
            "small": self.open(lb.Client(home, engine=engine, max_file_bytes=100)),
            "remote": self.remote, "server": self.server,
            "DOWN": f"http://127.0.0.1:{free_port()}/v1",
            "pd": pd, "PromptEditor": PromptEditor, "FilesPanel": FilesPanel, "RunsTable": RunsTable,
            "ResponseView": ResponseView, "upload": upload, "get_weather": get_weather, "read_stream": read_stream,
        }  # fmt: skip

    def open(self, client: lb.Client) -> lb.Client:
        self.opened.append(client)
        return client

    def remote(self, url: str, key: str | None = None) -> lb.Client:
        engine = lb.OpenAICompatibleEngine(url, api_key=key, max_retries=0, timeout=30)
        return self.open(lb.Client(self.home, engine=engine))

    def server(self, url: str) -> lb.Client:
        return self.open(lb.Client(backend=HttpBackend(url, home=self.home, max_retries=0)))

    def close(self) -> None:
        for client in self.opened:
            client.close()


@pytest.fixture
def space(tmp_path: Path, seed: Seed, engine: EmbeddedEngine) -> Iterator[Namespace]:
    home = tmp_path / "home"
    shutil.copytree(seed.home, home)
    names = Namespace(home, seed, engine)
    yield names
    names.close()


def raised_by(case: BadInput, space: Namespace, request: pytest.FixtureRequest) -> BaseException | None:
    """Run the case's code; the exception it raised, or None."""
    names = space.names
    if case.needs == "llama_cpp":
        names["LLAMA_CPP"] = request.getfixturevalue("llama_cpp_server").url + "/v1"
    if case.area == "widgets":
        # A button handler's exception never reaches .click()'s caller: ipywidgets shows it as a
        # traceback through IPython (or logs it). Record those as escaped too.
        tracebacks = Tracebacks()
        with mock.patch("ipywidgets.widgets.widget.get_ipython", lambda: tracebacks):
            try:
                exec(case.code, names)  # statements, exactly as the docs table shows them
            except Exception as exc:
                return exc
        return tracebacks.shown[0] if tracebacks.shown else None
    if case.area != "magics":
        try:
            eval(case.code, names)  # the catalogue's own code, exactly as the docs table shows it
        except Exception as exc:
            return exc
        return None
    ip: InteractiveShell = request.getfixturevalue("ip")
    variables = notebook(names["bad"])
    ip.user_ns.update(variables)
    magics.set_client(names["client"])
    try:
        with capture_output():
            result = ip.run_cell(case.code)
        return result.error_in_exec or result.error_before_exec
    finally:
        magics.set_client(None)
        for name in [*variables, magics.LAST]:
            ip.user_ns.pop(name, None)


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_bad_input_gets_its_typed_error_and_changes_nothing(
    case: BadInput, space: Namespace, request: pytest.FixtureRequest
) -> None:
    home = space.home
    if case.panel:
        space.names["panel"] = eval(case.panel, space.names)
    if case.setup:
        exec(case.setup, space.names)
    before = snapshot(home)
    error = raised_by(case, space, request)
    if case.area == "widgets":
        assert error is None, f"escaped the panel: {type(error).__name__}: {error}"
        shown_in_panel(case, space.names)
    space.close()  # everything written is on disk before the second snapshot
    after = snapshot(home)
    if case.area != "widgets":
        assert error is not None, f"{case.code!r} raised nothing"
        assert type(error) is case.error, f"{type(error).__name__}: {error}"
        assert case.fragment in str(error), str(error)
    changes = diff(before, after)
    if case.stored == "nothing":
        assert changes == []
    else:
        assert case.stored == "one failed response"
        assert changes == ["table responses: 1 row(s) added or changed, 0 removed"]
        new = [row for row in after["rows"]["responses"] if row not in before["rows"]["responses"]]
        assert new[0][4] == "failed"  # the status column: the attempt is recorded as failed
        assert getattr(error, "response", None) is not None and error.response.status == "failed"


def shown_in_panel(case: BadInput, names: dict[str, Any]) -> None:
    """The panel's error area reads ``<ErrorClass>: …`` with the fragment, rendered, and ``holds`` holds."""
    from support.htmlcheck import text

    panel = names["panel"]
    if isinstance(panel, PromptEditor):
        assert panel.wait(30), "a run is still going"
    message, prefix = panel.error.message, f"{case.error.__name__}: "
    assert message.startswith(prefix) and case.fragment in message, message
    assert "llamabook-error" in panel.error._dom_classes and prefix.strip() in text(panel.error.value)
    if case.holds:
        assert eval(case.holds, names), f"{case.holds} is false"


def test_the_catalogue_is_large_unique_and_documented() -> None:
    assert len(CLIENT_CASES) >= 40 and len(MAGIC_CASES) >= 20 and len(WIDGET_CASES) >= 10
    assert len({c.id for c in CASES}) == len(CASES)
    assert all(c.area in ("client", "connection", "magics", "widgets") for c in CASES)
    assert all(c.area == "widgets" or not (c.panel or c.holds) for c in CASES)
    assert docs_table() == markdown_table(), "docs/reliability.md is stale: run python tests/support/bad_inputs.py"


def test_a_case_that_does_not_raise_is_caught(space: Namespace, request: pytest.FixtureRequest) -> None:
    """The harness itself: a valid call is reported as raising nothing, and a wrong type would not pass."""
    fine = BadInput("fine", "client", "a valid call", "client.prompts.retrieve(pid).version", lb.NotFound, "")
    assert raised_by(fine, space, request) is None
    wrong = BadInput("wrong", "client", "", "client.prompts.retrieve(pid, 9)", lb.PromptNotFound, "")
    assert type(raised_by(wrong, space, request)) is not wrong.error  # VersionNotFound, a subclass
    button = FilesPanel(space.names["client"]).refresh_button
    button.on_click(lambda _: 1 / 0)  # a handler that fails unguarded: the notebook would show a traceback
    space.names["button"] = button
    escaped = BadInput("escaped", "widgets", "", "button.click()", lb.InvalidRequest, "")
    assert type(raised_by(escaped, space, request)) is ZeroDivisionError
    before = snapshot(space.home)
    space.names["client"].files.create(b"one byte more", filename="x.txt")
    space.close()
    assert diff(before, snapshot(space.home)) == [
        "table files: 1 row(s) added or changed, 0 removed", f"file {blob_path(b'one byte more')}: added"
    ]


def blob_path(data: bytes) -> str:
    import hashlib

    digest = hashlib.sha256(data).hexdigest()
    return f"files/{digest[:2]}/{digest}"
