"""Responses on the embedded backend with the real tiny model; an answer cut off at ``max_output_tokens`` says so
in the views, a grid, the magics and the PromptEditor."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from IPython.core.interactiveshell import InteractiveShell
from IPython.utils.capture import capture_output
from PIL import Image

import llamabook as lb
from llamabook import magics, views
from llamabook.widgets import PromptEditor

QUESTION = "What is the capital of Ireland?"
FOUR_VARS = "You are {{name}}, a {{role}} at {{company}}. Answer in a {{tone}} tone."
LONG = "Write a long story about a dragon who learns to fly."
TIMEOUT = 120


def test_capital_of_ireland_mentions_dublin(client: lb.Client) -> None:
    r = client.responses.create(input=QUESTION)
    assert r.status == "completed"
    assert r.id.startswith("resp_")
    assert "Dublin" in r.output_text
    assert r.usage.input_tokens > 10 and r.usage.output_tokens > 3
    assert r.usage.total_tokens == r.usage.input_tokens + r.usage.output_tokens
    assert r.latency_s > 0
    assert r.model == "smollm2-135m-instruct"


def test_four_variable_prompt_is_rendered_as_the_first_system_message(client: lb.Client) -> None:
    p = client.prompts.create(FOUR_VARS, variables=["name", "company", "role", "tone"])
    r = client.responses.create(
        input=QUESTION,
        instructions="Answer in one sentence.",
        prompt={
            "id": p.prompt_id,
            "version": "1",
            "variables": {
                "name": {"type": "input_text", "text": "Alice"},
                "company": {"type": "input_text", "text": "ACME"},
                "role": {"type": "input_text", "text": "geographer"},
                "tone": {"type": "input_text", "text": "friendly"},
            },
        },
    )
    assert r.rendered_messages == [
        {"role": "system", "content": "You are Alice, a geographer at ACME. Answer in a friendly tone."},
        {"role": "system", "content": "Answer in one sentence."},
        {"role": "user", "content": QUESTION},
    ]
    assert r.prompt.id == p.prompt_id and r.prompt.version == "1"
    assert r.prompt.variables["tone"].text == "friendly"
    assert r.output_text.strip()
    stored = client.responses.retrieve(r.id)
    assert stored.rendered_messages == r.rendered_messages
    assert stored.trace.prompt_version == 1
    assert stored.model_dump() == r.model_dump()


def test_plain_values_and_the_default_version_is_resolved_and_recorded(client: lb.Client) -> None:
    p = client.prompts.create("Say hi to {{name}}.", variables=["name"])
    client.prompts.update(p.prompt_id, prompt="Say bye to {{name}}.", version=1, variables=["name"])
    r = client.responses.create(input="Go.", prompt=p.prompt_id, variables={"name": "Bob"})
    assert r.prompt.version == "2"
    assert r.rendered_messages[0]["content"] == "Say bye to Bob."
    pinned = client.responses.create(input="Go.", prompt=p, variables={"name": 7})
    assert pinned.prompt.version == "1" and pinned.rendered_messages[0]["content"] == "Say hi to 7."
    at = client.responses.create(input="Go.", prompt=f"{p.prompt_id}@1", variables={"name": "Cy"})
    assert at.prompt.version == "1"


def test_strict_check_runs_before_anything_is_stored(client: lb.Client) -> None:
    p = client.prompts.create(FOUR_VARS, variables=["name", "company", "role", "tone"])
    with pytest.raises(lb.MissingVariables) as missing:
        client.responses.create(input=QUESTION, prompt=p, variables={"name": "Alice"})
    assert missing.value.names == ["company", "role", "tone"]
    with pytest.raises(lb.UnknownVariables, match="'nope'"):
        client.responses.create(input=QUESTION, prompt=p, variables={"nope": "x"}, strict=False)
    with pytest.raises(lb.InvalidVariable, match="'name'"):
        client.responses.create(input=QUESTION, prompt=p, variables={"name": {"text": "no type"}}, strict=False)
    with pytest.raises(lb.InvalidVariable, match="set"):
        client.responses.create(input=QUESTION, prompt=p, variables={"name": {1, 2}}, strict=False)
    assert client.responses.list() == [] and client.files.list() == []


def test_variable_errors_name_the_prompt_as_the_user_wrote_it(quick_client: lb.Client) -> None:
    """``prompt="haiku"``: the message says ``haiku``, not the 52-character id; the id only when it was given."""
    client = quick_client
    first = client.prompts.save("haiku", "A {{mood}} haiku about {{topic}}.")
    pid = first.prompt_id
    advice = "Pass them in variables=, or use strict=False to leave the placeholders as literal text."
    for given, shown in [("haiku", "haiku"), ("haiku@1", "haiku@1"), (first, "haiku@1"), (pid, pid),
                         ({"id": pid, "version": "1"}, f"{pid}@1")]:  # fmt: skip
        with pytest.raises(lb.MissingVariables) as missing:
            client.responses.create(prompt=given, variables={"topic": "tides"})
        assert str(missing.value) == f"Missing value for variable(s) 'mood' of prompt {shown}. {advice}"
        assert missing.value.prompt_id == pid
    with pytest.raises(lb.UnknownVariables) as unknown:
        client.responses.create(prompt="haiku", variables={"topic": "tides", "mood": "calm", "tone": "dry"})
    assert str(unknown.value) == (
        "Variable(s) 'tone' not defined in prompt haiku; it declares ['mood', 'topic']. "
        "Remove them or add them with prompts.update(...)."
    )
    with pytest.raises(lb.MissingVariables, match=r"^Missing value for variable\(s\) 'mood' of prompt haiku@1\. "):
        client.responses.pin("haiku@1").create({"topic": "tides"})
    with pytest.raises(lb.VersionNotFound) as version:
        client.responses.create(prompt="haiku@9", variables={"topic": "tides", "mood": "calm"})
    assert str(version.value) == "Prompt haiku has no version 9; see client.prompts.versions('haiku')"
    assert list(client.responses.list()) == []


def test_strict_false_leaves_missing_placeholders_literal(client: lb.Client) -> None:
    p = client.prompts.create("Hi {{name}} from {{company}}.", variables=["name", "company"])
    r = client.responses.create(input="Hello", prompt=p, variables={"name": "{{company}}"}, strict=False, max_output_tokens=8)
    assert r.rendered_messages[0]["content"] == "Hi {{company}} from {{company}}."
    bare = client.responses.create(input="Hello", prompt=p, strict=False, max_output_tokens=8)
    assert bare.rendered_messages[0]["content"] == "Hi {{name}} from {{company}}."


def test_bad_ids_and_versions(client: lb.Client) -> None:
    p = client.prompts.create("x {{a}}", variables=["a"])
    with pytest.raises(lb.PromptNotFound):
        client.responses.create(input="q", prompt="pmpt_" + "0" * 48)
    with pytest.raises(lb.VersionNotFound):
        client.responses.create(input="q", prompt={"id": p.prompt_id, "version": "7"}, variables={"a": "1"})
    with pytest.raises(lb.InvalidRequest, match="whole number"):
        client.responses.create(input="q", prompt={"id": p.prompt_id, "version": "latest"}, variables={"a": "1"})
    with pytest.raises(lb.ModelNotFound, match="gpt-9"):
        client.responses.create(input="q", model="gpt-9")
    with pytest.raises(lb.ResponseNotFound):
        client.responses.retrieve("resp_missing")
    assert client.responses.list() == []


def test_image_for_text_only_model_fails_before_upload_unless_described(client: lb.Client, data: Path) -> None:
    p = client.prompts.create(
        "Describe {{product_name}}: {{description}}. Photo: {{product_photo}}",
        variables=["product_name", "description", "product_photo"],
    )
    values = {"product_name": "Phone X", "description": "a red phone", "product_photo": data / "phone.jpeg"}
    with pytest.raises(lb.UnsupportedInput) as caught:
        client.responses.create(input="Analyze this", prompt=p, variables=values)
    assert "smollm2-135m-instruct" in str(caught.value) and "describe_images=True" in str(caught.value)
    assert client.files.list() == [] and client.responses.list() == []

    r = client.responses.create(input="Analyze this", prompt=p, variables=values, describe_images=True, max_output_tokens=24)
    assert r.rendered_messages[0]["content"] == "Describe Phone X: a red phone. Photo: [Image: product_photo]"
    media = r.rendered_messages[-1]
    assert media["role"] == "user"
    assert media["content"].startswith("[Image product_photo: phone.jpeg, image/jpeg,")
    assert "64x48 pixels" in media["content"]
    photo = r.prompt.variables["product_photo"]
    assert photo.type == "input_image"
    assert client.files.content(photo.file_id) == (data / "phone.jpeg").read_bytes()

    # the same bytes again (here as a PIL image of the png) reuse one upload per content
    image = Image.open(data / "phone.png")
    client.responses.create(input="A", prompt=p, variables={**values, "product_photo": image}, describe_images=True, max_output_tokens=4)
    client.responses.create(input="B", prompt=p, variables={**values, "product_photo": image}, describe_images=True, max_output_tokens=4)
    assert len(client.files.list()) == 2


def test_pdf_variable_becomes_text_for_the_embedded_model(client: lb.Client, data: Path) -> None:
    invoice = client.files.create(data / "invoice.pdf")
    p = client.prompts.create("Read the invoice {{doc}} and answer.", variables=["doc"])
    r = client.responses.create(input="Who is billed?", prompt=p, variables={"doc": invoice}, max_output_tokens=32)
    assert r.rendered_messages[0]["content"] == "Read the invoice [File: doc] and answer."
    assert r.rendered_messages[1] == {"role": "user", "content": "Who is billed?"}
    attached = r.rendered_messages[2]["content"]
    assert attached.startswith("[File doc: invoice.pdf, 1 page(s)]") and "Dublin Bicycle Co." in attached
    assert r.prompt.variables["doc"].file_id == invoice.id
    assert len(client.files.list()) == 1  # the File object is used as is, not re-uploaded


def test_streaming_events_and_the_stored_response(client: lb.Client) -> None:
    stream = client.responses.create(input=QUESTION, stream=True)
    events = list(stream)
    types = [e.type for e in events]
    assert types[:4] == [
        "response.created",
        "response.in_progress",
        "response.output_item.added",
        "response.content_part.added",
    ]
    assert types[-3:] == ["response.content_part.done", "response.output_item.done", "response.completed"]
    deltas = [e.delta for e in events if e.type == "response.output_text.delta"]
    assert len(deltas) > 3
    final = events[-1].response
    assert "".join(deltas) == final.output_text == stream.text
    assert [e.sequence_number for e in events] == list(range(len(events)))
    assert events[0].response.status == "in_progress" and final.status == "completed"
    stored = client.responses.retrieve(final.id)
    assert stored.output_text == final.output_text and stored.usage == final.usage


def test_closing_a_stream_early_stores_an_incomplete_response(client: lb.Client) -> None:
    stream = client.responses.create(input="Write a long story about a dragon.", stream=True)
    for event in stream:
        if event.type == "response.output_text.delta":
            break
    stream.close()
    [stored] = client.responses.list()
    assert stored.status == "incomplete"
    assert stored.incomplete_details == {"reason": "cancelled"}


def test_list_input_items_and_delete(client: lb.Client) -> None:
    first = client.responses.create(input="Say one.", max_output_tokens=4)
    second = client.responses.create(input=[{"role": "user", "content": "Say two."}], max_output_tokens=4)
    assert [r.id for r in client.responses.list()] == [second.id, first.id]
    assert [r.id for r in client.responses.list(order="asc")] == [first.id, second.id]
    assert [r.id for r in client.responses.list(after=second.id)] == [first.id]
    [item] = client.responses.input_items(first.id)
    assert item.role == "user" and item.content == [{"type": "input_text", "text": "Say one."}]
    assert client.responses.input_items(second.id)[0].content == [{"type": "input_text", "text": "Say two."}]
    deleted = client.responses.delete(first.id)
    assert (deleted.id, deleted.object, deleted.deleted) == (first.id, "response", True)
    assert [r.id for r in client.responses.list()] == [second.id]
    with pytest.raises(lb.ResponseNotFound):
        client.responses.delete(first.id)


def test_previous_response_continues_the_conversation(client: lb.Client) -> None:
    first = client.responses.create(input="My name is Zorblat.", instructions="Be brief.", max_output_tokens=16)
    second = client.responses.create(input="What is my name?", previous_response_id=first.id, max_output_tokens=16)
    roles = [m["role"] for m in second.rendered_messages]
    assert roles == ["user", "assistant", "user"]  # earlier system messages are not replayed
    assert second.rendered_messages[0]["content"] == "My name is Zorblat."
    assert second.previous_response_id == first.id


def test_same_request_gives_same_bytes_in_any_order_and_process(client: lb.Client, tmp_path: Path) -> None:
    prompts = ["Name a fruit.", QUESTION]
    forward = [client.responses.create(input=q, max_output_tokens=24).output_text for q in prompts]
    backward = [client.responses.create(input=q, max_output_tokens=24).output_text for q in reversed(prompts)]
    assert forward == list(reversed(backward))
    script = (
        "import json, sys, llamabook as lb\n"
        "c = lb.Client(sys.argv[1])\n"
        "print(json.dumps([c.responses.create(input=q, max_output_tokens=24).output_text for q in json.loads(sys.argv[2])]))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", script, str(tmp_path / "other"), json.dumps(prompts)],
        capture_output=True, text=True, check=True, timeout=120,
    )
    assert json.loads(out.stdout) == forward


def test_a_dataframe_variable_is_sent_as_csv(client: lb.Client) -> None:
    import pandas as pd

    p = client.prompts.create("Summarise this table:\n{{table}}", variables=["table"])
    frame = pd.DataFrame({"city": ["Dublin", "Cork"], "people": [1_200_000, 220_000]})
    r = client.responses.create(input="Which city is larger?", prompt=p, variables={"table": frame}, max_output_tokens=8)
    assert r.rendered_messages[0]["content"] == "Summarise this table:\ncity,people\nDublin,1200000\nCork,220000\n"


def test_a_stream_that_ends_without_a_final_event_is_a_typed_error() -> None:
    from llamabook.resources.responses import ResponseStream

    with pytest.raises(lb.EngineError, match="ended without a final event"):
        ResponseStream(iter([])).until_done()


@pytest.mark.model
def test_an_answer_cut_off_at_max_output_tokens_says_so_everywhere(client: lb.Client, ip: InteractiveShell) -> None:
    r = client.responses.create(input=LONG, max_output_tokens=8)
    assert r.status == "incomplete"  # as Llama Stack 0.7.3 reports it (tests/integration/test_server_contract.py)
    assert r.cut_off and r.incomplete_details == {"reason": "length"}
    assert client.responses.retrieve(r.id).cut_off  # stored with the response
    assert views.CUT_OFF_MARK in views.response_text(r)
    assert views.CUT_OFF_MARK in views.response_html(r)
    assert ("stopped", views.CUT_OFF_MARK) in views.usage_rows(r)
    assert views.CUT_OFF_MARK in views.status_badge(r.status, cut_off=True)

    whole = client.responses.create(input="Say hi.", max_output_tokens=200)
    assert not whole.cut_off and whole.incomplete_details is None
    assert views.CUT_OFF_MARK not in views.response_html(whole) + views.response_text(whole)

    grid = client.grid("Tell a long story about {{animal}}.", [{"animal": "a cat"}], max_output_tokens=6, progress=False)
    assert grid["cut_off"].tolist() == [True] and str(grid["cut_off"].dtype) == "boolean"

    magics.set_client(client)
    try:
        with capture_output() as cell:
            ip.run_cell(f'%%llama -i "{LONG}" --max-tokens 8 --no-stream\nBe vivid.')
        assert cell.outputs[-1].data["text/plain"].endswith(views.CUT_OFF_MARK)
    finally:
        magics.set_client(None)

    editor = PromptEditor(client, input=LONG, max_output_tokens=8)
    editor.template.value = "Be vivid about {{thing}}."
    editor.fields["thing"].text.value = "clouds"
    editor.run_button.click()
    assert editor.wait(TIMEOUT) and editor.status.value == f"incomplete: {views.CUT_OFF_MARK}"
    assert editor.footer.value.endswith(views.CUT_OFF_MARK)


@pytest.mark.model
def test_a_stopped_stream_still_counts_its_input_tokens(client: lb.Client) -> None:
    stream = client.responses.create(input=LONG, max_output_tokens=200, stream=True)
    for event in stream:
        if event.type == "response.output_text.delta":
            break
    stream.close()
    stored = client.responses.list()[0]
    assert stored.status == "incomplete" and stored.usage.input_tokens > 10
