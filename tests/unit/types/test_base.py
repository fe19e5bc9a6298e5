"""DataFrame views: documented columns and dtypes, also for empty lists."""

from __future__ import annotations

import pandas as pd

import llamabook as lb
from llamabook.types import File, Prompt, Response


def test_empty_lists_still_have_the_documented_columns(client: lb.Client) -> None:
    assert list(client.prompts.list().to_pandas().columns) == list(Prompt.frame_columns)
    assert list(client.files.list().to_pandas().columns) == list(File.frame_columns)
    assert list(client.responses.list().to_pandas().columns) == list(Response.frame_columns)


def test_frames_have_stable_columns_and_dtypes(client: lb.Client) -> None:
    p = client.prompts.create("Say {{word}}.", variables=["word"])
    client.prompts.update(p.prompt_id, prompt="Shout {{word}}.", version=1, variables=["word"], set_as_default=False)
    client.files.create(b"abc", filename="a.txt")
    client.responses.create(input="Hi", prompt=p, variables={"word": "yes"}, max_output_tokens=4)
    client.responses.create(input="Hello", max_output_tokens=4)

    versions = client.prompts.versions(p.prompt_id).to_pandas()
    assert versions["version"].tolist() == [1, 2] and versions["is_default"].tolist() == [True, False]
    assert versions["variables"].tolist() == [["word"], ["word"]]

    files = client.files.list().to_pandas()
    assert files.loc[0, "bytes"] == 3 and str(files["created_at"].dtype) == "datetime64[s, UTC]"

    responses = client.responses.list().to_pandas()
    assert list(responses.columns) == list(Response.frame_columns)
    assert str(responses["prompt_version"].dtype) == "Int64"
    assert responses["prompt_version"].isna().tolist() == [True, False]
    assert (responses["input_tokens"] > 0).all() and responses["latency_s"].dtype == "float64"
    assert isinstance(responses.loc[0, "created_at"], pd.Timestamp)


def test_to_dict_is_flat(client: lb.Client) -> None:
    r = client.responses.create(input="Hi", max_output_tokens=4)
    row = r.to_dict()
    assert set(row) == set(list(Response.frame_columns))
    assert all(not isinstance(v, (dict, list)) for v in row.values())
    assert row["output_text"] == r.output_text


def test_lists_round_trip_through_parquet(client: lb.Client, tmp_path) -> None:
    p = client.prompts.create("Say {{word}}.", variables=["word"])
    client.files.create(b"abc", filename="a.txt")
    client.responses.create(input="Hi", prompt=p, variables={"word": "yes"}, max_output_tokens=4)
    for listed in (client.prompts.versions(p.prompt_id), client.files.list(), client.responses.list()):
        frame = listed.to_pandas()
        path = tmp_path / "x.parquet"
        frame.to_parquet(path)
        back = pd.read_parquet(path)
        pd.testing.assert_frame_equal(back, frame, check_dtype=False)
        assert listed.to_arrow().column_names == list(frame.columns)
