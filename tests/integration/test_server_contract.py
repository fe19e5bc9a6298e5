"""One contract, three backends: the embedded backend, a real Llama Stack 0.7.3 and a real OGX 1.5.0.

Every test here runs unchanged against all three, and asserts the same observable results.
The servers' model is SmolLM2 behind llama-cpp-python's server, registered as text-only
(``input_modalities: [text]`` in ``ci/*-run.yaml``, read from ``/v1/models``: no client-side
declaration), so images are sent as descriptions and PDFs as text on every backend.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import pytest

import llamabook as lb
from llamabook.engines.embedded import EmbeddedEngine
from support.servers import Server

QUESTION = "What is the capital of Ireland?"
FOUR = "You are {{name}}, a {{role}} at {{company}}. Answer in a {{tone}} tone."
SERVER_MODEL = "llamacpp/smollm2"


@pytest.fixture(params=["embedded", "llama-stack", "ogx"])
def backend(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[lb.Client]:
    """A client on each backend, with an empty local home."""
    if request.param == "embedded":
        engine: EmbeddedEngine = request.getfixturevalue("engine")
        client = lb.Client(tmp_path / "home", engine=engine)
    else:
        server: Server = request.getfixturevalue("llama_stack_server" if request.param == "llama-stack" else "ogx_server")
        client = lb.Client(tmp_path / "home", base_url=server.url)
    with client:
        yield client


def ask(client: lb.Client, **kwargs: object) -> lb.Response:
    """Greedy and short on every backend, so runs are quick and comparable."""
    return client.responses.create(temperature=0, max_output_tokens=48, **kwargs)


# ---- prompts ---------------------------------------------------------------------------------


def test_prompt_lifecycle(backend: lb.Client) -> None:
    p = backend.prompts.create("Hello {{ name }}!", variables=["name"])
    assert re.fullmatch(r"pmpt_[0-9a-f]{48}", p.prompt_id)
    assert (p.version, p.variables, p.is_default) == (1, ["name"], True)
    p2 = backend.prompts.update(p.prompt_id, prompt="Hi {{name}} of {{co}}", version=1, variables=["name", "co"])
    assert (p2.version, p2.is_default, p2.variables) == (2, True, ["name", "co"])
    p3 = backend.prompts.update(p.prompt_id, prompt="Yo {{name}}", version=2, variables=["name"], set_as_default=False)
    assert (p3.version, p3.is_default) == (3, False)
    assert backend.prompts.retrieve(p.prompt_id).version == 2
    old = backend.prompts.retrieve(p.prompt_id, 1)
    assert (old.prompt, old.is_default) == ("Hello {{ name }}!", False)
    assert [(v.version, v.is_default) for v in backend.prompts.versions(p.prompt_id)] == [(1, False), (2, True), (3, False)]
    assert backend.prompts.set_default_version(p.prompt_id, 3).is_default
    assert [(x.prompt_id, x.version, x.is_default) for x in backend.prompts.list() if x.prompt_id == p.prompt_id] == [
        (p.prompt_id, 3, True)
    ]
    backend.prompts.delete(p.prompt_id)
    with pytest.raises(lb.PromptNotFound):
        backend.prompts.retrieve(p.prompt_id)


def test_named_prompts_save_reuse_version_and_resolve_refs(backend: lb.Client) -> None:
    """One save rule on every backend; on a server the names are kept in the home, keyed by the server."""
    first = backend.prompts.save("tutor", "You are a {{tone}} tutor.")
    assert (first.version, first.variables, first.name) == (1, ["tone"], "tutor")
    assert backend.prompts.save("tutor", "You are a {{tone}} tutor.").version == 1  # unchanged: reused
    second = backend.prompts.save("tutor", "You are a {{tone}} teacher.")
    assert (second.prompt_id, second.version, second.is_default) == (first.prompt_id, 2, True)
    assert backend.prompts.save("tutor", "You are a {{tone}} tutor.").version == 1  # an old text: its version
    assert backend.prompts.get("tutor").version == 2  # ... and the default stays where it was
    assert backend.prompts.get("tutor@1").prompt == "You are a {{tone}} tutor."
    assert backend.prompts.get(f"{first.prompt_id}@2").name == "tutor"
    assert [v.version for v in backend.prompts.versions("tutor")] == [1, 2]
    assert backend.prompts.set_default_version("tutor", 1).is_default
    frame = backend.prompts.list().to_pandas()
    assert frame.set_index("prompt_id").loc[first.prompt_id, "name"] == "tutor"
    answer = ask(backend, prompt="tutor@2", variables={"tone": "kind"}, input=QUESTION)
    assert (answer.prompt.id, answer.prompt.version) == (first.prompt_id, "2")
    ran = ask(backend, template="Say {{word}}.", name="sayer", variables={"word": "hi"})
    assert backend.prompts.get("sayer").prompt_id == ran.prompt.id
    backend.prompts.set_label("tutor", "production", version=2)  # labels: kept in the home, per server
    assert backend.prompts.get("tutor@production").version == 2
    assert backend.prompts.get("tutor").version == 1  # the server's default pointer stays the server's
    assert [v.labels for v in backend.prompts.versions("tutor")] == [[], ["production"]]
    labelled = ask(backend, prompt="tutor@production", variables={"tone": "kind"}, input=QUESTION)
    assert labelled.prompt.version == "2"
    scope = backend.backend.scope
    assert scope == ("local" if backend.server.kind == "embedded" else backend.backend.base_url)
    backend.prompts.delete("tutor")
    assert "tutor" not in backend.prompts.names()
    with pytest.raises(lb.PromptNotFound, match="No prompt named 'tutor'"):
        backend.prompts.get("tutor")


def test_prompt_errors(backend: lb.Client) -> None:
    with pytest.raises(lb.UndeclaredVariables) as undeclared:
        backend.prompts.create("{{name}} {{other}}", variables=["name"])
    assert undeclared.value.names == ["other"]  # nothing more: no 'type', 'value_error' or 'prompt_id' (OGX's dump)
    p = backend.prompts.create("x {{a}}", variables=["a"])
    backend.prompts.update(p.prompt_id, prompt="y {{a}}", version=1, variables=["a"])
    with pytest.raises(lb.VersionConflict) as conflict:
        backend.prompts.update(p.prompt_id, prompt="z {{a}}", version=1, variables=["a"])
    assert conflict.value.latest == 2
    with pytest.raises(lb.VersionNotFound):
        backend.prompts.retrieve(p.prompt_id, 9)
    with pytest.raises(lb.VersionNotFound):
        backend.prompts.set_default_version(p.prompt_id, 99)
    with pytest.raises(lb.PromptNotFound):
        backend.prompts.retrieve("pmpt_" + "0" * 48)
    # the server drops the connection after a prompt error; the next call still works
    assert backend.prompts.retrieve(p.prompt_id).version == 2


# ---- files -----------------------------------------------------------------------------------


def test_file_lifecycle(backend: lb.Client, data: Path) -> None:
    pdf = (data / "invoice.pdf").read_bytes()
    f = backend.files.create(data / "invoice.pdf")
    assert re.fullmatch(r"file-[0-9a-f]{32}", f.id)
    assert (f.filename, f.bytes, f.purpose, f.object) == ("invoice.pdf", len(pdf), "assistants", "file")
    assert backend.files.retrieve(f.id).id == f.id
    assert backend.files.content(f.id) == pdf
    png = backend.files.create((data / "phone.png").read_bytes(), filename="phone.png")
    assert backend.files.content(png.id) == (data / "phone.png").read_bytes()
    listed = [x.id for x in backend.files.list()]
    assert f.id in listed and png.id in listed
    deleted = backend.files.delete(f.id)
    assert (deleted.id, deleted.deleted) == (f.id, True)
    with pytest.raises(lb.FileNotFound):
        backend.files.retrieve(f.id)
    with pytest.raises(lb.InvalidRequest, match="purpose"):
        backend.files.create(b"x", filename="x.txt", purpose="pictures")


def test_each_backend_says_what_it_is_and_takes_its_own_file_purposes(
    backend: lb.Client, request: pytest.FixtureRequest
) -> None:
    server = backend.server
    assert server.kind == request.node.callspec.params["backend"]
    assert server.version == {"embedded": lb.__version__, "llama-stack": "0.7.3", "ogx": "1.5.0"}[server.kind]
    assert str(server).startswith({"embedded": "embedded", "llama-stack": "Llama Stack 0.7.3 at http://127.0.0.1:",
                                   "ogx": "OGX 1.5.0 at http://127.0.0.1:"}[server.kind])
    newer = ("fine-tune", "vision", "user_data", "evals")  # OpenAI's; OGX takes them, Llama Stack 0.7 does not
    if server.kind == "llama-stack":
        assert server.file_purposes == ("assistants", "batch")
        with pytest.raises(lb.InvalidRequest, match="'assistants', 'batch'.* on Llama Stack 0.7.3"):
            backend.files.create(b"x", filename="x.txt", purpose="user_data")
        return
    assert set(newer) <= set(server.file_purposes)
    for purpose in newer:
        f = backend.files.create(purpose.encode(), filename=f"{purpose}.txt", purpose=purpose)
        assert backend.files.retrieve(f.id).purpose == purpose
        assert [x.id for x in backend.files.list(purpose=purpose)] == [f.id]


# ---- responses: the three flows -----------------------------------------------------------------


def test_flow_four_text_variables(backend: lb.Client) -> None:
    p = backend.prompts.create(FOUR, variables=["name", "company", "role", "tone"])
    typed = {
        "name": {"type": "input_text", "text": "Alice"},
        "company": {"type": "input_text", "text": "ACME"},
        "role": {"type": "input_text", "text": "geographer"},
        "tone": {"type": "input_text", "text": "friendly"},
    }
    r = ask(backend, input=QUESTION, prompt={"id": p.prompt_id, "version": "1", "variables": typed})
    assert (r.status == "completed" or r.cut_off) and r.output_text.strip()
    assert r.prompt.id == p.prompt_id and r.prompt.version == "1"
    assert {k: v.text for k, v in r.prompt.variables.items()} == {k: v["text"] for k, v in typed.items()}
    assert r.rendered_messages[0] == {
        "role": "system",
        "content": "You are Alice, a geographer at ACME. Answer in a friendly tone.",
    }
    assert r.rendered_messages[1:] == [{"role": "user", "content": QUESTION}]
    assert r.usage.output_tokens > 0 and r.latency_s > 0
    items = backend.responses.input_items(r.id)
    assert [(i.role, i.content) for i in items] == [("user", [{"type": "input_text", "text": QUESTION}])]
    again = backend.responses.retrieve(r.id)
    assert (again.output_text, again.status, again.prompt.version) == (r.output_text, r.status, "1")
    assert again.rendered_messages == r.rendered_messages
    assert r.id in [x.id for x in backend.responses.list()]
    assert backend.responses.delete(r.id).deleted
    with pytest.raises(lb.ResponseNotFound):
        backend.responses.retrieve(r.id)


def test_flow_default_version_is_resolved_and_recorded(backend: lb.Client) -> None:
    p = backend.prompts.create("Say hi to {{name}}.", variables=["name"])
    backend.prompts.update(p.prompt_id, prompt="Say bye to {{name}}.", version=1, variables=["name"])
    r = ask(backend, input="Go.", prompt={"id": p.prompt_id}, variables={"name": "Bob"})
    assert r.prompt.version == "2"  # the server alone would echo null here
    assert r.rendered_messages[0]["content"] == "Say bye to Bob."


def test_a_prompt_alone_needs_no_input(backend: lb.Client) -> None:
    p = backend.prompts.create("Name the capital of {{country}}.", variables=["country"])
    r = ask(backend, prompt=p, variables={"country": "France"})
    assert (r.status == "completed" or r.cut_off) and r.output_text.strip()
    assert r.rendered_messages == [{"role": "system", "content": "Name the capital of France."}]
    assert backend.responses.input_items(r.id) == []


def test_flow_product_image(backend: lb.Client, data: Path) -> None:
    photo = backend.files.create(data / "phone.png")
    p = backend.prompts.create(
        "Write an ad for {{product_name}}: {{description}}. Photo: {{product_photo}}",
        variables=["product_name", "description", "product_photo"],
    )
    variables = {
        "product_name": {"type": "input_text", "text": "Phone X"},
        "description": {"type": "input_text", "text": "a small red phone"},
        "product_photo": {"type": "input_image", "file_id": photo.id},
    }
    with pytest.raises(lb.UnsupportedInput, match="describe_images=True"):
        ask(backend, input="Analyze this", prompt={"id": p.prompt_id, "version": "1", "variables": variables})
    r = ask(
        backend,
        input="Analyze this",
        prompt={"id": p.prompt_id, "version": "1", "variables": variables},
        describe_images=True,
    )
    assert (r.status == "completed" or r.cut_off) and r.output_text.strip()
    assert r.rendered_messages[0]["content"] == "Write an ad for Phone X: a small red phone. Photo: [Image: product_photo]"
    assert r.rendered_messages[-1]["content"].startswith("[Image product_photo: phone.png, image/png, 139 bytes, 64x48 pixels]")
    echoed = r.prompt.variables["product_photo"]
    assert (echoed.type, echoed.file_id) == ("input_image", photo.id)
    assert [i.content for i in backend.responses.input_items(r.id)] == [[{"type": "input_text", "text": "Analyze this"}]]


def test_flow_pdf_invoice(backend: lb.Client, data: Path) -> None:
    p = backend.prompts.create("You check invoices. The invoice: {{invoice}}", variables=["invoice"])
    r = ask(backend, input="Who is billed?", prompt=p, variables={"invoice": data / "invoice.pdf"})
    assert (r.status == "completed" or r.cut_off) and r.output_text.strip()
    assert r.rendered_messages[0]["content"] == "You check invoices. The invoice: [File: invoice]"
    assert r.rendered_messages[1] == {"role": "user", "content": "Who is billed?"}
    assert "Dublin Bicycle Co." in r.rendered_messages[2]["content"]
    invoice = r.prompt.variables["invoice"]
    assert invoice.type == "input_file"
    assert backend.files.content(invoice.file_id) == (data / "invoice.pdf").read_bytes()
    # the same bytes are uploaded once per backend
    again = ask(backend, input="Total?", prompt=p, variables={"invoice": data / "invoice.pdf"})
    assert again.prompt.variables["invoice"].file_id == invoice.file_id


def test_streaming(backend: lb.Client) -> None:
    stream = backend.responses.create(input=QUESTION, stream=True, temperature=0, max_output_tokens=32)
    events = list(stream)
    types = [e.type for e in events]
    assert types[:2] == ["response.created", "response.in_progress"]
    assert types[-1] == "response.completed" and "response.output_text.done" not in types
    deltas = "".join(e.delta for e in events if e.type == "response.output_text.delta")
    assert deltas and deltas == events[-1].response.output_text == stream.text
    assert backend.responses.retrieve(events[-1].response.id).output_text == deltas


def test_response_errors(backend: lb.Client) -> None:
    p = backend.prompts.create("x {{a}}", variables=["a"])
    with pytest.raises(lb.PromptNotFound):
        ask(backend, input="q", prompt="pmpt_" + "0" * 48)
    with pytest.raises(lb.VersionNotFound):
        ask(backend, input="q", prompt={"id": p.prompt_id, "version": "5"}, variables={"a": "1"})
    with pytest.raises(lb.UnknownVariables, match="nope"):
        ask(backend, input="q", prompt=p, variables={"a": "1", "nope": "2"})
    with pytest.raises(lb.MissingVariables, match="'a'"):
        ask(backend, input="q", prompt=p)
    with pytest.raises(lb.ModelNotFound):
        ask(backend, input="q", model="no-such-model")
    with pytest.raises(lb.ResponseNotFound):
        backend.responses.retrieve("resp_" + "0" * 8)
    assert backend.responses.list(limit=5) == [] or all(r.prompt is None or r.prompt.id != p.prompt_id for r in backend.responses.list(limit=5))


def test_an_answer_cut_off_at_max_output_tokens(backend: lb.Client) -> None:
    r = backend.responses.create(input="Write a long story about a dragon.", temperature=0, max_output_tokens=16)
    assert (r.status, r.incomplete_details, r.cut_off) == ("incomplete", {"reason": "length"}, True)
    assert backend.responses.retrieve(r.id).cut_off
    short = backend.responses.create(input=QUESTION, temperature=0, max_output_tokens=64)
    assert short.status == "completed" and not short.cut_off


def test_a_grid_judge_asks_the_same_backend_and_its_verdict_parses(backend: lb.Client) -> None:
    """The judge's yes/no schema goes to every backend (a grammar on the embedded model, text.format on a server)."""
    from llamabook import checks

    rows = [{"country": "Ireland"}]
    grid = backend.grid(
        "What is the capital of {{country}}? Answer in one short sentence.", rows, progress=False,
        max_output_tokens=24, temperature=0,
        checks={"mentions": checks.contains("Dublin"), "on_topic": checks.judge("Does the answer name a city?")},
    )  # fmt: skip
    row = grid.iloc[0]
    assert row["status"] in ("completed", "incomplete") and row["check_mentions"] == ("Dublin" in row["output_text"])
    judged = backend.responses.retrieve(row["check_on_topic_judge_id"])
    error = None if pd.isna(row["check_on_topic_error"]) else row["check_on_topic_error"]
    if backend.server.kind == "embedded":  # held to the schema by a grammar: it always parses
        assert judged.text["format"]["type"] == "json_schema" and error is None
        assert checks.parse_verdict(judged.output_text) is bool(row["check_on_topic"])
    else:  # the servers' llama-cpp upstream refuses a json_schema response_format: asked as text, parsed strictly
        assert judged.text["format"]["type"] == "text"
        if error is None:
            assert checks.parse_verdict(judged.output_text) is bool(row["check_on_topic"])
        else:
            assert "not {\"verdict\": \"yes\"}" in error and pd.isna(row["check_on_topic"])  # an error, not a verdict
    with pytest.raises(lb.OutputFormatUnsupported if backend.server.kind != "embedded" else AssertionError):
        answer = ask(backend, input="Is Dublin a city? Reply yes or no.", text=checks.VERDICT_FORMAT)
        assert False, f"held to the schema on {backend.server.kind}: {answer.output_text}"
