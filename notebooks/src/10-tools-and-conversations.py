# %% [markdown]
# # 10 · Tools and conversations
#
# A Responses answer can be more than text: the model can ask for a **function call**, and a
# conversation goes on from an earlier answer with `previous_response_id`. This notebook gives the
# embedded model a Python function as a tool, runs the tool loop, checks the chosen tool and its
# arguments over a grid, and continues a conversation from a cell.

# %%
import json
import os
import tempfile
from typing import Literal

import pandas as pd

import llamabook as lb
from llamabook import checks

os.environ["LLAMABOOK_HOME"] = tempfile.mkdtemp(prefix="llamabook-notebook-")
os.environ.pop("LLAMABOOK_BASE_URL", None)  # the embedded model
client = lb.Client(cassette="cassettes/10-tools-and-conversations.jsonl", record="new")

# %% [markdown]
# ## A Python function as a tool
#
# A tool is a plain function. Its JSON schema comes from the signature, the type hints and the
# docstring (through pydantic); a parameter without a type hint, `*args`, or a type with no JSON
# schema is refused before anything is sent.

# %%
WEATHER = {"Cork": (11, "rain"), "Sligo": (9, "wind"), "Paris": (17, "sun"), "Rome": (21, "sun")}


def get_weather(city: str, unit: Literal["C", "F"] = "C") -> str:
    """The weather in a city today.

    Args:
        city: the city's name.
        unit: degrees Celsius (C) or Fahrenheit (F).
    """
    degrees, sky = WEATHER.get(city, (15, "cloud"))
    return f"{degrees if unit == 'C' else round(degrees * 9 / 5 + 32)}°{unit}, {sky}"


def get_time(zone: str) -> str:
    """The local time in a time zone."""
    return "12:00"


print(json.dumps(lb.function_tool(get_weather).wire, indent=1))

# %% [markdown]
# ## One answer that calls the tool
#
# `tool_choice="required"` makes the model answer with a call: on the embedded model the call is
# decoded under the tools' schemas, so its arguments always parse and validate. (The 135M model
# never chose a tool by itself under `"auto"` in our measurement: 0 of 20 prompts that needed one.
# A larger model on a server does.) The answer shows the call as a step.

# %%
asked = client.responses.create(
    input="What is the weather in Cork?", tools=[get_weather, get_time], tool_choice="required", max_output_tokens=48
)
call = asked.tool_calls[0]
print(call.name, call.parsed_arguments())
asked

# %% [markdown]
# ## The loop
#
# `client.responses.run` does the rest: it runs each function the model asks for, here in the
# notebook's process, sends the results back (a `function_call_output` item, with
# `previous_response_id`), and repeats until the model answers in text (at most `max_tool_rounds`).
# `tool_choice` goes with the first request only. A function that raises sends its error text back
# instead, and the loop goes on.

# %%
final = client.responses.run(
    input="What is the weather in Cork?", tools=[get_weather, get_time], tool_choice="required", max_output_tokens=48
)
print(final.output_text)

# %% [markdown]
# The whole conversation, turn by turn (`client.responses.thread`): the question, the call and
# its arguments, the result sent back, and the answer.

# %%
client.responses.thread(final.id)

# %% [markdown]
# ## Does it pick the right tool, with the right arguments?
#
# A grid with `tools=` adds `tool_calls` (every call as JSON text) and `tool_name` (the first call's
# name). `checks.called(name, **arguments)` passes when the answer calls that function with those
# arguments; `checks.no_tool_call()` when it answers in text.

# %%
rows = pd.DataFrame({"city": ["Cork", "Sligo", "Paris", "Rome"]})
grid = client.grid(
    "What is the weather in {{city}} today?",
    rows,
    tools=[get_weather, get_time],
    tool_choice="required",
    max_output_tokens=48,
    progress=False,
    checks={
        "weather_tool": checks.called("get_weather"),
        "right_city": checks.called("get_weather", city=checks.column("city")),
    },
)
grid[["city", "tool_name", "tool_calls", "check_weather_tool", "check_right_city"]]

# %% [markdown]
# The 135M model takes `get_time` for two of the four questions: `tool_choice="required"` makes it
# call *a* tool with valid arguments, not the right one. That is what such a grid is for: the checks
# say which rows went wrong, and `lb.scores` gives the rates with their intervals (four rows are
# little evidence: see notebook 9).

# %%
lb.scores(grid)[["version", "calls", "pass_rate_weather_tool", "pass_rate_right_city", "pass_rate_right_city_low"]]

# %% [markdown]
# ## A conversation from cells
#
# `%%llama --continue` sends the cell as the next message of the last response in the notebook;
# `%%llama --tool NAME` gives the model a notebook function and runs the loop.

# %%
%load_ext llamabook
%llama cassette cassettes/10-tools-and-conversations.jsonl

# %%
%%llama --no-stream --max-tokens 32
My name is Ada and I live in Cork. Say hello.

# %%
%%llama --continue --no-stream --max-tokens 32
What is my name?

# %% [markdown]
# The second answer was sent with the first as its history (`previous_response_id`: the *Input* tab
# of `_llama` shows the whole conversation); that the tiny model forgets the name anyway is the model,
# not the plumbing.

# %%
%%llama --tool get_weather --tool-choice required --max-tokens 48 -i "What is the weather in Rome?"
You answer questions about the weather in one sentence.

# %% [markdown]
# Back to the [tutorials](01-quickstart.ipynb).

# %%
client.close()
