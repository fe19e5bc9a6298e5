"""How often the embedded 135M model calls a tool when asked, with ``tool_choice="auto"``.

Two tools are offered (``get_weather(city)`` and ``convert_currency(amount, from_currency,
to_currency)``) with llamabook's documented tool prompt (``llamabook.rendering.plain_tool_messages``)
and the "text or a call" grammar (``llamabook.engines.embedded.constrained.tool_grammar``). 20
prompts clearly need one of them, 10 need neither. Each goes through
``lb.Client(home, engine=EmbeddedEngine())``::

    client.responses.create(input=..., tools=[get_weather, convert_currency], tool_choice="auto",
                            max_output_tokens=48)

(greedy; 48 tokens: whether the answer is a call is decided by its first token). Reported: for the
prompts that need a tool, how many answers are a call and how many call the right tool; for the
others, how many call a tool anyway. Then the same 20 with ``tool_choice="required"``: how many
arguments validate against the tool's schema (all of them, by construction) and how many name the
right tool.

Run: ``.venv/bin/python bench/bench_tool_calls.py`` (494 s on 2 cores shared with other work).

Measured 2026-12-06 (llama-cpp-python 0.3.36, the AVX2 build, llguidance 1.9.1)::

    auto, needs a tool:    0/20 answers are a call, 0 call the right tool
    auto, needs no tool:   0/10 answers are a call []
    required, needs a tool: 20/20 arguments validate, 18 name the right tool

Under ``"auto"`` the 135M model answers in text every time (it makes the weather up, or writes
Python); three rewordings of the instruction (stronger, with an example call) also gave 0 of 10.
Ask with ``"required"`` or the tool's name on this model.
"""

from __future__ import annotations

import json
import sys
import tempfile
import time

import llamabook as lb
from llamabook.engines.embedded import EmbeddedEngine
from llamabook.schemas import validate


def get_weather(city: str) -> str:
    """The weather now in a city.

    Args:
        city: the city's name, e.g. Paris
    """
    return "12 C"


def convert_currency(amount: float, from_currency: str, to_currency: str) -> str:
    """Convert an amount of money from one currency to another at today's rate."""
    return "1.0"


NEEDS_TOOL = [
    ("What's the weather in Paris?", "get_weather"),
    ("Is it raining in London right now?", "get_weather"),
    ("How hot is it in Madrid today?", "get_weather"),
    ("Tell me the current weather in Tokyo.", "get_weather"),
    ("Do I need an umbrella in Dublin today?", "get_weather"),
    ("What is the temperature in Berlin now?", "get_weather"),
    ("Weather in New York, please.", "get_weather"),
    ("Is it sunny in Rome?", "get_weather"),
    ("Check the weather for Sydney.", "get_weather"),
    ("How cold is it in Oslo at the moment?", "get_weather"),
    ("Convert 100 US dollars to euros.", "convert_currency"),
    ("How many yen is 50 euros?", "convert_currency"),
    ("What is 20 GBP in USD?", "convert_currency"),
    ("Change 75 euros into Swiss francs.", "convert_currency"),
    ("How much is 1000 rupees in dollars?", "convert_currency"),
    ("Convert 12.5 USD to GBP.", "convert_currency"),
    ("I have 300 Canadian dollars; how many euros is that?", "convert_currency"),
    ("What's 45 dollars in Mexican pesos?", "convert_currency"),
    ("Please convert 9 euros to dollars.", "convert_currency"),
    ("How much is 250 Australian dollars in yen?", "convert_currency"),
]
NO_TOOL = [
    "What is the capital of Ireland?",
    "Write a haiku about the sea.",
    "What is 7 + 5?",
    "Say hello in French.",
    "Who wrote Hamlet?",
    "Give me a synonym for happy.",
    "Summarise: the cat sat on the mat all day.",
    "What colour is the sky?",
    "Name three fruits.",
    "How many legs does a spider have?",
]
MAX_OUTPUT_TOKENS = 48


def main() -> None:
    tools = [get_weather, convert_currency]
    schemas = {tool.name: tool.parameters for tool in map(lb.function_tool, tools)}
    started = time.perf_counter()
    with tempfile.TemporaryDirectory() as home, lb.Client(home, engine=EmbeddedEngine()) as client:

        def ask(text: str, choice: str) -> lb.Response:
            return client.responses.create(input=text, tools=tools, tool_choice=choice, max_output_tokens=MAX_OUTPUT_TOKENS)

        auto = [(ask(text, "auto"), want) for text, want in NEEDS_TOOL]
        called = [r for r, _ in auto if r.tool_calls]
        right = [r for r, want in auto if r.tool_calls and r.tool_calls[0].name == want]
        stray = [text for text in NO_TOOL if ask(text, "auto").tool_calls]
        required = [(ask(text, "required"), want) for text, want in NEEDS_TOOL]
        valid = [r for r, _ in required if r.tool_calls and _validates(r.tool_calls[0], schemas)]
        named_right = [r for r, want in required if r.tool_calls and r.tool_calls[0].name == want]
    print(f'auto, needs a tool:    {len(called)}/{len(NEEDS_TOOL)} answers are a call, {len(right)} call the right tool')
    for response, _ in auto:
        shown = response.tool_calls[0].model_dump_json(include={"name", "arguments"}) if response.tool_calls else response.output_text
        print(f"    {shown[:90]!r}")
    print(f"auto, needs no tool:   {len(stray)}/{len(NO_TOOL)} answers are a call {stray}")
    print(f'required, needs a tool: {len(valid)}/{len(NEEDS_TOOL)} arguments validate, {len(named_right)} name the right tool')
    print(f"{time.perf_counter() - started:.1f} s in all")


def _validates(call: lb.FunctionCall, schemas: dict[str, dict]) -> bool:
    """The arguments parse as JSON and validate against the tool's schema (jsonschema, not the grammar)."""
    try:
        arguments = json.loads(call.arguments)
    except ValueError:
        return False
    return not validate(arguments, schemas[call.name])


if __name__ == "__main__":
    sys.exit(main())
