# %% [markdown]
# # 8 · From PDF invoices to a DataFrame
#
# A folder of PDF invoices becomes one row per invoice, with typed columns, by giving the grid a
# **schema**: a pydantic model. The embedded model decodes under a grammar made from that
# schema (llguidance, token by token), so every answer is JSON that validates — number bounds and
# patterns included — even from a 135M-parameter model. Whether the *values* are right is another
# matter, so the last step checks the totals with pandas.

# %%
import os
import tempfile
from pathlib import Path

import pandas as pd
from pydantic import BaseModel, Field

import llamabook as lb

os.environ["LLAMABOOK_HOME"] = tempfile.mkdtemp(prefix="llamabook-notebook-")
os.environ.pop("LLAMABOOK_BASE_URL", None)  # this notebook runs on the embedded model (05 uses a server)
client = lb.Client(cassette="cassettes/08-invoices-to-data.jsonl", record="new")  # replays recorded calls (notebook 1)

# %% [markdown]
# ## The invoices and the schema
#
# Four one-page PDFs (made with `tests/support/pdfmaker.py`); the model reads their text. The schema says
# what a valid invoice looks like, and the grammar holds the model to all of it: an invoice number
# of the form `INV-1234` (a `pattern`), totals and amounts of at least 0 and quantities of at least
# 1 (`ge=`), bounded string lengths and at most four items (which also keep a small model from
# writing until `max_output_tokens`; a cut-off answer is reported as such, never half-parsed).

# %%
invoices = pd.DataFrame({"invoice": sorted(Path("data/invoices").glob("*.pdf"))})
invoices["file"] = invoices["invoice"].map(lambda p: p.name)
invoices[["file"]]


# %%
class LineItem(BaseModel):
    description: str = Field(max_length=40)
    quantity: int = Field(ge=1)
    amount: float = Field(ge=0)


class Invoice(BaseModel):
    invoice_number: str = Field(pattern=r"^INV-[0-9]+$", max_length=12)
    billed_to: str = Field(max_length=40)
    total: float = Field(ge=0)
    line_items: list[LineItem] = Field(max_length=4)  # bounds keep a small model from rambling


# %% [markdown]
# ## One call per invoice, one typed column per field
#
# `schema=Invoice` adds `invoice_number`, `billed_to`, `total` and `line_items` (an Arrow list of
# structs) next to `output_text`, plus `valid`. A row whose answer didn't validate would keep its
# raw text and its error, with nulls in the fields.

# %%
grid = client.grid(
    "You are an accounts clerk. Read the invoice {{invoice}} and fill in its fields.",
    invoices,
    schema=Invoice,
    max_output_tokens=400,
    progress=False,
)
grid[["file", "valid", "invoice_number", "billed_to", "total", "error"]]

# %%
grid[["file", "line_items"]]

# %% [markdown]
# ## Check the totals
#
# The schema makes the output parse; it can't make the model add up. pandas can:

# %%
checked = grid[["file", "total"]].copy()
checked["sum_of_line_items"] = grid["line_items"].map(
    lambda items: round(sum(i["amount"] for i in items), 2), na_action="ignore"  # an invalid row has no items
)
checked["adds_up"] = (checked["total"] - checked["sum_of_line_items"]).abs() < 0.01
checked

# %% [markdown]
# Every row parsed and has the right types, and most totals and names were read correctly, but a
# 135M model does not itemise reliably: this is the check to keep (or a larger model on a server,
# with `schema=` the same).

# %% [markdown]
# The frame round-trips through Parquet, list and struct columns included:

# %%
path = Path(tempfile.mkdtemp()) / "invoices.parquet"
grid.to_parquet(path)
again = pd.read_parquet(path)
again[["invoice_number", "total"]].equals(grid[["invoice_number", "total"]]), str(again["line_items"].dtype)

# %% [markdown]
# One invoice through the Responses API, with the parsed object:

# %%
response = client.responses.create(
    input="Fill in the invoice's fields.",
    prompt=client.prompts.save(None, "You are an accounts clerk. Here is an invoice: {{invoice}}"),
    variables={"invoice": Path("data/invoices/INV-1002.pdf")},
    schema=Invoice,
    max_output_tokens=256,
)
response.output_parsed

# %%
client.close()
