# %% [markdown]
# # 6 · Widgets: panels for prompts, responses, files and grids
#
# `llamabook.widgets` has four ipywidgets panels (`pip install 'llamabook[widgets]'`):
#
# * `PromptEditor`: write a `{{templated}}` prompt, fill in its variables, save versions, run and stop;
# * `ResponseView`: one response in tabs (output, input, usage and timing, raw JSON);
# * `FilesPanel`: list, upload, preview and delete files;
# * `RunsTable`: a `client.grid` DataFrame with status colours, where you can open any row's response.
#
# In JupyterLab you type and click in them. This notebook does every step **from code** instead,
# so it runs top to bottom and can be tested. Setting a widget's `.value` is what typing does,
# and `.click()` is what a click does. The panels above the code update as it runs. A panel keeps
# only view state: every action goes through the client, and a problem shows up in the panel,
# not as a traceback.

# %%
import html
import os
import re
import tempfile
from pathlib import Path

import pandas as pd

import llamabook as lb
from llamabook.widgets import FilesPanel, PromptEditor, ResponseView, RunsTable

os.environ["LLAMABOOK_HOME"] = tempfile.mkdtemp(prefix="llamabook-notebook-")
os.environ.pop("LLAMABOOK_BASE_URL", None)  # this notebook runs on the embedded model (05 uses a server)
client = lb.Client(cassette="cassettes/06-widgets.jsonl", record="new")  # replays recorded calls (notebook 1)
DATA = Path("data")


def text_of(fragment: str) -> str:
    """The text a reader sees in an HTML fragment (for printing what a panel shows)."""
    return html.unescape(re.sub(r"<[^>]+>", "", fragment)).strip()


# %% [markdown]
# ## PromptEditor
#
# The editor has a template box, one field for each `{{placeholder}}`, the user input, the model
# and a token limit, and the **Save**, **Run** and **Stop** buttons. `max_output_tokens=24`
# keeps the answers short.

# %%
editor = PromptEditor(client, max_output_tokens=24)
editor

# %% [markdown]
# A field appears for each placeholder as the template is typed. The placeholder rule is the
# server's, `{{\s*(\w+)\s*}}`.

# %%
editor.template.value = "You are a {{tone}} geography tutor. Answer in one short sentence."
editor.input.value = "What is the capital of Ireland?"
list(editor.fields)

# %% [markdown]
# If you run it before every field has a value, the panel names the missing one, and nothing
# is stored or generated:

# %%
editor.run()
print(editor.error.message)
print("prompts stored:", len(client.prompts.list()))

# %% [markdown]
# With a value, **Run** saves the template as a prompt (version 1) and streams the answer into
# the panel from a background thread. `run()` returns at once, so the kernel stays free and
# **Stop** keeps working. `wait()` waits for the end. Then `editor.response` is the stored
# `Response`, and the status label shows its status.

# %%
editor.fields["tone"].text.value = "friendly"
editor.run()
editor.wait()
print("status:", editor.status.value)
print("prompt version:", editor.prompt.version)
print(editor.response.output_text)

# %% [markdown]
# If you edit the template, the heading marks it as not saved. **Save** (or the next **Run**)
# stores the edit as version 2 and makes it the default. The version list lets you go back to
# version 1, and **Set as default** moves the default.

# %%
editor.template.value = "You are a {{tone}} geography tutor. Answer in one word."
print(editor.heading.value)
editor.save()
print(editor.status.value)
[label for label, _ in editor.versions.options]

# %% [markdown]
# ## ResponseView
#
# A response in four tabs, for any response. With `client=` it also shows each attached file's
# name, size and thumbnail. The editor shows the same details under *Response details*, without
# the Output tab: its answer is already above.

# %%
view = ResponseView(editor.response, client=client)
view

# %%
print(view.tabs.titles)
print(text_of(view.header.value))

# %% [markdown]
# ## A Response on its own is safe HTML
#
# Without any widget, a `Response` shows as HTML in a notebook: the output, then the input, the
# usage and the raw JSON folded away.

# %%
display(editor.response)

# %% [markdown]
# Model output is text you did not write, so it is never inserted as HTML. It is rendered from
# Markdown **with raw HTML turned off**, then cleaned with an allowlist (nh3). `<script>` and
# `onerror=` stay visible text, `javascript:` links stay plain text, and a Markdown image becomes
# a link, so the page never fetches a URL the model chose. Every panel and the HTML repr use this
# same function:

# %%
from llamabook.views import safe_markdown_html

print(safe_markdown_html(
    "**Bold**, <script>alert(1)</script> <img src=x onerror=alert(1)>, [a link](javascript:alert(1)), "
    "[the docs](https://example.org) and ![a chart](https://example.org/chart.png)."
))

# %% [markdown]
# ## FilesPanel
#
# Upload the two files from `data/`, then open the panel. It lists the newest first, and it has
# an upload button (with a purpose), **Refresh**, and **Preview** and **Delete** on each line.

# %%
invoice = client.files.create(DATA / "invoice.pdf")
photo = client.files.create(DATA / "phone.png")
files = FilesPanel(client)
files

# %%
print(files.status.value)
[(f.filename, f.bytes, f.purpose) for f in files.files]

# %% [markdown]
# **Preview** shows a thumbnail for an image, or the start of the text of a PDF:

# %%
files.preview_buttons[invoice.id].click()
print(text_of(files.preview.value)[:300])

# %% [markdown]
# **Delete** asks once more: the first click turns the button into **Confirm**, and the second
# click deletes the file.

# %%
delete = files.delete_buttons[photo.id]
delete.click()
print(delete.description, "·", files.status.value)
delete.click()
print(files.status.value)
[f.filename for f in files.files]

# %% [markdown]
# ## RunsTable
#
# A `client.grid` result, one line per call. Here it has 2 rows × 2 prompt versions. With
# `concurrency=1` the calls run one at a time, in a fixed order.

# %%
capital = client.prompts.create("What is the capital of {{country}}?", variables=["country"])
capital = client.prompts.update(
    capital.prompt_id,
    prompt="Name the capital of {{country}} in one short sentence.",
    version=1,
    variables=["country"],
)
rows = pd.DataFrame({"country": ["Ireland", "France"]})
grid = client.grid(capital, rows, versions=[1, 2], max_output_tokens=16, concurrency=1, progress=False)
grid[["country", "version", "status", "output_text"]]

# %%
runs = RunsTable(grid, client=client)
runs

# %% [markdown]
# Each line has an open button (`#0`, `#1`, …) and its status in colour. **failed only** shows
# just the failed calls (there are none here). `open(position)`, or a click on `#position`,
# shows that call's response in a `ResponseView` below the table:

# %%
print(runs.summary.value)
runs.failed_only.value = True
print("failed lines:", runs.visible())
runs.failed_only.value = False
runs.open(0)
print(text_of(runs.view.header.value))
print(runs.view.response.output_text)

# %% [markdown]
# Back to the start: [01 · Quickstart](01-quickstart.ipynb). The page *Widgets* of the documentation
# describes each panel's methods and CSS classes.

# %%
client.close()
