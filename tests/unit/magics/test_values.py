"""Values for a cell's ``{{placeholders}}`` as the ``values:`` line shows them: briefly, long ones shortened."""

from __future__ import annotations

from pathlib import Path

from IPython.core.interactiveshell import InteractiveShell

import llamabook as lb
from llamabook import magics
from llamabook.inputs import describe
from support.magics import ok
from support.scripted_engine import ScriptedEngine


def test_values_are_described_briefly(data: Path) -> None:
    from PIL import Image

    assert describe("text") == "'text'" and describe(7) == "7"
    assert describe("x" * 100) == "'" + "x" * 37 + "…'"
    assert describe(data / "invoice.pdf") == "Path invoice.pdf"
    assert describe(b"1234") == "bytes (4)"
    assert describe(Image.new("RGB", (3, 2))) == "PIL image 3x2"


def test_values_line_shows_long_values_shortened(
    ip: InteractiveShell, quick: lb.Client, scripted: ScriptedEngine
) -> None:
    ip.user_ns["story"] = "once upon a time " * 10
    ip.user_ns["year"] = 1999
    ran = ok(ip, "%%llama --no-stream --max-tokens 2\nSummarise {{story}} from {{year}}.")
    line = ran.texts()[0]
    assert line == "values: story = 'once upon a time once upon a time onc…', year = 1999"
    assert [call.system for call in scripted.calls] == [[f"Summarise {'once upon a time ' * 10} from 1999."]]  # whole


def test_a_missing_value_says_where_one_can_come_from() -> None:
    import pytest
    from IPython.core.error import UsageError

    with pytest.raises(UsageError) as plain:
        magics.values_for(["town"], {}, [{}])
    assert str(plain.value) == "No value for town: define town in the notebook, or pass --var town=..."
    with pytest.raises(UsageError) as over:  # --over: its rows' columns first, then one value for every row
        magics.values_for(["city", "town"], {}, [{}], columns=["city", "country"], over="cities")
    assert str(over.value) == (
        "No value for town: --over cities has no column 'town' (columns: city, country). Add that column to cities, "
        "or give every row the same value: define town in the notebook, or pass --var town=..."
    )
    with pytest.raises(UsageError) as several:
        magics.values_for(["town", "mood"], {}, [{}], columns=["city"], over="cities")
    assert str(several.value) == (
        "No value for town, mood: --over cities has no columns 'town', 'mood' (columns: city). Add those columns to "
        "cities, or give every row the same value: define town, mood in the notebook, or pass --var town=... --var mood=..."
    )
    found = magics.values_for(["city", "town"], {"town": "Cork"}, [{}], columns=["city"], over="cities")
    assert found.values == {"town": "Cork"}  # a --var fills what no column has, the same in every row
