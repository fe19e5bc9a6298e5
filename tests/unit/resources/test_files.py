"""Files on the embedded backend: exact bytes, limits, listing."""

from __future__ import annotations

import io
import re
from pathlib import Path

import pytest

import llamabook as lb


def test_upload_path_bytes_and_file_object(client: lb.Client, data: Path) -> None:
    pdf = (data / "invoice.pdf").read_bytes()
    f1 = client.files.create(data / "invoice.pdf")
    f2 = client.files.create(str(data / "phone.png"))
    f3 = client.files.create(b"\x00\x01binary\xff", filename="blob.bin")
    f4 = client.files.create(io.BytesIO(b"hello"), filename="hello.txt")
    f5 = client.files.create(("notes.txt", b"tuple form"))
    assert re.fullmatch(r"file-[0-9a-f]{32}", f1.id)
    assert (f1.filename, f1.bytes, f1.purpose) == ("invoice.pdf", len(pdf), "assistants")
    assert f1.expires_at - f1.created_at == 365 * 24 * 3600
    assert client.files.content(f1.id) == pdf
    assert client.files.content(f2.id) == (data / "phone.png").read_bytes()
    assert client.files.content(f3.id) == b"\x00\x01binary\xff"
    assert client.files.content(f4.id) == b"hello"
    assert client.files.content(f5.id) == b"tuple form"
    assert client.files.retrieve(f1.id) == f1


def test_identical_content_is_stored_once_and_deleted_last(client: lb.Client) -> None:
    a = client.files.create(b"same bytes", filename="a.txt")
    b = client.files.create(b"same bytes", filename="b.txt")
    assert a.id != b.id
    blobs = [p for p in (client.backend.home / "files").rglob("*") if p.is_file()]
    assert len(blobs) == 1
    client.files.delete(a.id)
    assert client.files.content(b.id) == b"same bytes"
    deleted = client.files.delete(b.id)
    assert (deleted.id, deleted.deleted, deleted.object) == (b.id, True, "file")
    assert not [p for p in (client.backend.home / "files").rglob("*") if p.is_file()]


def test_list_order_purpose_and_cursor(client: lb.Client) -> None:
    ids = [client.files.create(bytes([i]), filename=f"{i}.bin").id for i in range(4)]
    batch = client.files.create(b"batch", filename="b.jsonl", purpose="batch")
    listed = [f.id for f in client.files.list()]
    assert listed == [batch.id, *reversed(ids)]  # newest first, upload order within a second
    assert [f.id for f in client.files.list(purpose="batch")] == [batch.id]
    ascending = [f.id for f in client.files.list(order="asc", purpose="assistants")]
    assert ascending == list(reversed([f.id for f in client.files.list(purpose="assistants")]))
    page = client.files.list(order="asc", purpose="assistants", limit=2)
    rest = client.files.list(order="asc", purpose="assistants", after=page[-1].id)
    assert [f.id for f in page] + [f.id for f in rest] == ascending


def test_errors_are_typed_and_nothing_is_written(tmp_path: Path, engine) -> None:
    with lb.Client(tmp_path, engine=engine, max_file_bytes=1000) as small:
        with pytest.raises(lb.FileTooLarge, match="1,000-byte"):
            small.files.create(b"x" * 1001, filename="big.bin")
        big = tmp_path / "big.bin"
        big.write_bytes(b"x" * 5000)
        with pytest.raises(lb.FileTooLarge):
            small.files.create(big)
        with pytest.raises(lb.InvalidRequest, match="purpose"):
            small.files.create(b"x", purpose="pictures")
        with pytest.raises(lb.InvalidRequest, match="No file at"):
            small.files.create(tmp_path / "nope.pdf")
        with pytest.raises(lb.InvalidRequest, match="binary mode"):
            small.files.create(io.StringIO("text"))
        assert small.files.list() == []
        missing = "file-" + "0" * 32
        for call in (small.files.retrieve, small.files.content, small.files.delete):
            with pytest.raises(lb.FileNotFound):
                call(missing)


def test_pdf_text_is_extracted_once_per_content(data: Path) -> None:
    from llamabook import media

    pdf = (data / "invoice.pdf").read_bytes()
    media._PDF_TEXTS.clear()
    first = media.pdf_text(pdf)
    assert "Dublin Bicycle Co." in first[0] and len(media._PDF_TEXTS) == 1
    assert media.pdf_text(bytes(pdf)) is first  # same content: the kept result, not a second parse
    media._PDF_TEXTS.clear()
    for n in range(20):  # older entries than the kept number
        media._PDF_TEXTS[f"k{n}"] = ("", 0)
    assert media.pdf_text(pdf) == first  # a miss: parsed again, then the oldest make room
    assert len(media._PDF_TEXTS) == media._PDF_TEXTS_KEPT and "k0" not in media._PDF_TEXTS
