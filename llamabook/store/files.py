"""File metadata in SQLite, bytes in the content-addressed blob store."""

from __future__ import annotations

import sqlite3
import time

from ..errors import FileNotFound
from ..types import DeletedObject, File, new_file_id
from .blobs import BlobStore, sha256_hex
from .database import Database
from .pages import page

FILE_TTL_S = 365 * 24 * 3600  # the server's default expiry: one year


def _file(row: sqlite3.Row) -> File:
    return File(
        id=row["id"],
        bytes=row["bytes"],
        created_at=row["created_at"],
        expires_at=row["expires_at"],
        filename=row["filename"],
        purpose=row["purpose"],
    )


class FileStore:
    def __init__(self, db: Database, blobs: BlobStore) -> None:
        self.db = db
        self.blobs = blobs

    def create(self, data: bytes, filename: str, purpose: str) -> File:
        file_id = new_file_id()
        created = int(time.time())
        # The blob is written while holding the write lock, so a concurrent delete of the
        # same content cannot remove it between the write and our row.
        with self.db.write() as conn:
            digest = self.blobs.put(data)
            conn.execute(
                "INSERT INTO files (id, filename, bytes, purpose, sha256, created_at, expires_at) "
                "VALUES (?, ?, ?, ?, ?, ?, ?)",
                (file_id, filename, len(data), purpose, digest, created, created + FILE_TTL_S),
            )
        return File(
            id=file_id, bytes=len(data), created_at=created, expires_at=created + FILE_TTL_S, filename=filename, purpose=purpose
        )

    def find(self, digest: str, purpose: str) -> File | None:
        row = self.db.connection().execute(
            "SELECT * FROM files WHERE sha256 = ? AND purpose = ? ORDER BY created_at, id LIMIT 1", (digest, purpose)
        ).fetchone()
        return _file(row) if row else None

    def list(self, purpose: str | None, order: str, limit: int, after: str | None) -> list[File]:
        conn = self.db.connection()
        cursor = None
        if after:
            cursor = conn.execute("SELECT created_at, rowid FROM files WHERE id = ?", (after,)).fetchone()
            if cursor is None:
                raise FileNotFound(f"File {after!r} (the after= cursor) not found")
        # rowid breaks ties within a second: the order of upload
        rows = page(conn, "files", "rowid", equal={"purpose": purpose}, cursor=cursor, order=order, limit=limit)
        return [_file(r) for r in rows]

    def get(self, file_id: str) -> File:
        row = self.db.connection().execute("SELECT * FROM files WHERE id = ?", (file_id,)).fetchone()
        if row is None:
            raise FileNotFound(f"File {file_id!r} not found; see client.files.list()")
        return _file(row)

    def content(self, file_id: str) -> tuple[bytes, str]:
        with self.db.read() as conn:
            row = conn.execute("SELECT sha256, filename FROM files WHERE id = ?", (file_id,)).fetchone()
            if row is None:
                raise FileNotFound(f"File {file_id!r} not found; see client.files.list()")
            try:
                data = self.blobs.get(row["sha256"])
            except FileNotFoundError:
                # A concurrent delete removes the bytes before its row deletion commits.
                raise FileNotFound(f"File {file_id!r} was deleted; see client.files.list()") from None
        if sha256_hex(data) != row["sha256"]:
            raise FileNotFound(f"Stored bytes of {file_id!r} are damaged (hash mismatch); upload the file again")
        return data, row["filename"]

    def delete(self, file_id: str) -> DeletedObject:
        with self.db.write() as conn:
            row = conn.execute("SELECT sha256 FROM files WHERE id = ?", (file_id,)).fetchone()
            if row is None:
                raise FileNotFound(f"File {file_id!r} not found; see client.files.list()")
            conn.execute("DELETE FROM files WHERE id = ?", (file_id,))
            still_used = conn.execute("SELECT 1 FROM files WHERE sha256 = ? LIMIT 1", (row["sha256"],)).fetchone()
            if not still_used:
                self.blobs.remove(row["sha256"])
        return DeletedObject(id=file_id, object="file", deleted=True)
