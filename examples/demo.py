"""A two-minute tour on the embedded model: prompt, PDF, streamed response, DataFrame.

Run with ``make demo`` (or ``python examples/demo.py``). Data goes to ``$LLAMABOOK_HOME``
(default: ./.llamabook-demo here, so your own store is left alone).
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import llamabook as lb

HERE = Path(__file__).parent


def main() -> None:
    home = os.environ.get("LLAMABOOK_HOME", str(HERE.parent / ".llamabook-demo"))
    client = lb.Client(home)
    print(f"store: {home}   models: {[m.id for m in client.models.list()]}")

    prompt = client.prompts.create(
        "You are {{name}}, an accounts assistant at {{company}}. Use the attached invoice {{invoice}}.",
        variables=["name", "company", "invoice"],
    )
    print(f"prompt {prompt.prompt_id} v{prompt.version}: {prompt.prompt}")

    invoice = client.files.create(HERE / "invoice.pdf")
    print(f"uploaded {invoice.filename} as {invoice.id} ({invoice.bytes} bytes)")

    stream = client.responses.create(
        input="Who is billed on this invoice, and what is the total?",
        prompt=prompt,
        variables={"name": "Ada", "company": "ACME", "invoice": invoice},
        max_output_tokens=96,
        stream=True,
    )
    print("\n--- streaming ---")
    for event in stream:
        if event.type == "response.output_text.delta":
            sys.stdout.write(event.delta)
            sys.stdout.flush()
    response = stream.response
    assert response is not None
    print("\n--- done ---")
    print(f"status={response.status} tokens in/out={response.usage.input_tokens}/{response.usage.output_tokens} "
          f"latency={response.latency_s:.2f}s")
    print("\nwhat the model saw:")
    for message in response.rendered_messages:
        print(f"  [{message['role']}] {str(message['content'])[:100]!r}")

    plain = client.responses.create(input="What is the capital of Ireland?", max_output_tokens=48)
    print(f"\nWhat is the capital of Ireland? -> {plain.output_text}")

    import pandas as pd

    with pd.option_context("display.width", 200, "display.max_columns", None, "display.max_colwidth", 40):
        print("\nresponses.list().to_pandas():")
        print(client.responses.list().to_pandas()[["id", "status", "prompt_version", "output_tokens", "latency_s", "output_text"]])
    client.close()


if __name__ == "__main__":
    main()
