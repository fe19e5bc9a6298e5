"""Values for a cell's ``{{placeholders}}`` as the ``values:`` line shows them: briefly, long ones shortened."""

from __future__ import annotations

from pathlib import Path

from IPython.core.interactiveshell import InteractiveShell

import llamabook as lb
from llamabook import magics
from support.magics import ok
from support.scripted_engine import ScriptedEngine


def test_values_are_described_briefly(data: Path) -> None:
    from PIL import Image

    assert magics.describe("text") == "'text'" and magics.describe(7) == "7"
    assert magics.describe("x" * 100) == "'" + "x" * 37 + "…'"
    assert magics.describe(data / "invoice.pdf") == "Path invoice.pdf"
    assert magics.describe(b"1234") == "bytes (4)"
    assert magics.describe(Image.new("RGB", (3, 2))) == "PIL image 3x2"


def test_values_line_shows_long_values_shortened(
    ip: InteractiveShell, quick: lb.Client, scripted: ScriptedEngine
) -> None:
    ip.user_ns["story"] = "once upon a time " * 10
    ip.user_ns["year"] = 1999
    ran = ok(ip, "%%llama --no-stream --max-tokens 2\nSummarise {{story}} from {{year}}.")
    line = ran.texts()[0]
    assert line == "values: story = 'once upon a time once upon a time onc…', year = 1999"
    assert [call.system for call in scripted.calls] == [[f"Summarise {'once upon a time ' * 10} from 1999."]]  # whole
