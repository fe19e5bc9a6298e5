"""The tool prompt and the plain ChatML form of tool items (llamabook.rendering): the exact text a model gets."""

from __future__ import annotations

from llamabook.rendering import build_messages, parse_tool_call, plain_tool_messages, tool_prompt

WEATHER = {
    "type": "function", "name": "get_weather", "description": "The weather now in a city.",
    "parameters": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]},
}  # fmt: skip
ADD = {"type": "function", "name": "add", "parameters": {"type": "object", "properties": {"a": {"type": "integer"}}}}
TOOL_LINES = (
    'You can call these tools:\n'
    '{"name": "get_weather", "description": "The weather now in a city.", "parameters": {"type": "object", '
    '"properties": {"city": {"type": "string"}}, "required": ["city"]}}\n'
    '{"name": "add", "parameters": {"type": "object", "properties": {"a": {"type": "integer"}}}}\n'
    '\n'
)  # fmt: skip
CALL = {"type": "function_call", "call_id": "call_1", "name": "get_weather", "arguments": '{"city":"Paris"}'}
RESULT = {"type": "function_call_output", "call_id": "call_1", "output": "12 °C, rain"}


def test_the_tool_prompt_lists_each_tool_as_json_and_asks_for_the_call_format() -> None:
    assert tool_prompt([WEATHER, ADD], "auto") == TOOL_LINES + (
        'To call a tool, answer with only a JSON object: {"name": <the tool\'s name>, "arguments": {<its arguments>}}.\n'
        "If no tool is needed, answer in plain text."
    )
    assert tool_prompt([WEATHER, ADD], None) == tool_prompt([WEATHER, ADD], "auto")  # not sent: the default, auto
    assert tool_prompt([WEATHER, ADD], "required") == TOOL_LINES + (
        'Call one of these tools: answer with only a JSON object: {"name": <the tool\'s name>, "arguments": {<its arguments>}}.'
    )
    assert tool_prompt([WEATHER, ADD], {"type": "function", "name": "add"}) == TOOL_LINES + (
        'Call the tool add: answer with only a JSON object: {"name": "add", "arguments": {<its arguments>}}.'
    )


def test_none_or_no_tools_put_nothing_in_the_prompt() -> None:
    assert tool_prompt([WEATHER], "none") is None and tool_prompt(None, "auto") is None
    messages = build_messages("Weather in Paris?")
    assert plain_tool_messages(messages, [WEATHER], "none") == [{"role": "user", "content": "Weather in Paris?"}]


def test_the_tools_join_the_first_system_message_or_become_one() -> None:
    alone = plain_tool_messages(build_messages("Hi"), [WEATHER], "required")
    assert alone == [{"role": "system", "content": tool_prompt([WEATHER], "required")}, {"role": "user", "content": "Hi"}]
    joined = plain_tool_messages(build_messages("Hi", instructions="Be brief."), [WEATHER], "required")
    assert joined[0] == {"role": "system", "content": "Be brief.\n\n" + tool_prompt([WEATHER], "required")}
    assert len(joined) == 2


def test_a_call_and_its_result_become_an_assistant_json_and_a_user_message() -> None:
    messages = build_messages([{"role": "user", "content": "Weather in Paris?"}, CALL, RESULT])
    assert plain_tool_messages(messages) == [
        {"role": "user", "content": "Weather in Paris?"},
        {"role": "assistant", "content": '{"name": "get_weather", "arguments": {"city": "Paris"}}'},
        {"role": "user", "content": "Result of get_weather: 12 °C, rain\nAnswer the question with this result, in one sentence."},  # the call_id is not shown
    ]
    orphan = plain_tool_messages(build_messages([{**RESULT, "call_id": "call_9"}]))
    assert orphan == [{"role": "user", "content": "Result of call call_9: 12 °C, rain\nAnswer the question with this result, in one sentence."}]  # no call names it
    parts = {**RESULT, "output": [{"type": "input_text", "text": "12"}, {"type": "input_text", "text": "rain"}]}
    assert plain_tool_messages(build_messages([CALL, parts]))[-1]["content"] == "Result of get_weather: 12\n\nrain\nAnswer the question with this result, in one sentence."


def test_a_call_is_read_back_only_when_it_is_exactly_one() -> None:
    tools = [WEATHER, ADD]
    assert parse_tool_call(' {"name": "get_weather", "arguments": {"city":"Paris"}}\n', tools) == (
        "get_weather", '{"city": "Paris"}'
    )  # fmt: skip
    assert parse_tool_call('{"name": "add", "arguments": {}}', tools) == ("add", "{}")
    for text in (
        "It is sunny.", '{"name": "get_weather"}', '{"name": "forecast", "arguments": {}}', '{"name": "add", "arguments": 3}',
        '{"name": "add", "arguments": {}, "why": "x"}', '{"name": "add", "arguments": {', "[]",
    ):
        assert parse_tool_call(text, tools) is None, text
