"""``client.files``: uploads, listed and read back byte for byte."""

from __future__ import annotations

import os
from pathlib import Path, PurePath
from typing import IO, Any, Union

from ..backends.base import Backend
from ..store.blobs import sha256_hex
from ..errors import FileTooLarge, InvalidRequest
from ..types import DeletedObject, File, ObjectList
from .listing import check_listing

FileInput = Union[str, PurePath, bytes, IO[bytes], "tuple[str, bytes]"]


class Files:
    """Upload, list, read and delete files (OpenAI-compatible Files API)."""

    def __init__(self, backend: Backend) -> None:
        self._backend = backend

    def create(self, file: FileInput, purpose: str = "assistants", *, filename: str | None = None) -> File:
        """Upload a path, bytes, a binary file object or a ``(filename, bytes)`` tuple."""
        self._check_purpose(purpose)
        data, name = self._read(file, filename)
        return self._backend.upload_file(data, name, purpose)

    def check(self, data: bytes, filename: str) -> None:
        """Raise what :meth:`create` would for these bytes (empty, over the size limit); upload nothing."""
        self._bytes(data, filename)

    def upload_once(self, data: bytes, filename: str, purpose: str = "assistants") -> File:
        """Upload unless identical bytes are already stored with this purpose; return that file."""
        existing = self._backend.find_file(sha256_hex(data), purpose)
        return existing or self._backend.upload_file(data, filename, purpose)

    def list(
        self, *, purpose: str | None = None, order: str = "desc", limit: int = 10_000, after: str | None = None
    ) -> ObjectList[File]:
        """Files, newest first by default; ``after`` is a file id cursor."""
        if purpose is not None:
            self._check_purpose(purpose)
        check_listing(order, limit)
        return ObjectList(self._backend.list_files(purpose, order, limit, after), File)

    def retrieve(self, file_id: str) -> File:
        return self._backend.get_file(file_id)

    def content(self, file_id: str) -> bytes:
        """The file's exact bytes."""
        return self._backend.file_content(file_id)

    def delete(self, file_id: str) -> DeletedObject:
        return self._backend.delete_file(file_id)

    def _check_purpose(self, purpose: str) -> None:
        server = self._backend.server_info()
        if purpose not in server.file_purposes:
            raise InvalidRequest(
                f"purpose must be one of {list(server.file_purposes)} on {server.label}, not {purpose!r}"
            )

    def _read(self, file: Any, filename: str | None) -> tuple[bytes, str]:
        limit = self._backend.max_file_bytes()
        if isinstance(file, (str, PurePath)):
            path = Path(file).expanduser()
            if not path.is_file():
                raise InvalidRequest(f"No file at {str(path)!r}; check the path")
            name = filename or path.name
            if path.stat().st_size > limit:
                raise FileTooLarge(path.stat().st_size, limit, name)
            return self._bytes(path.read_bytes(), name)
        if isinstance(file, tuple) and len(file) == 2:
            name, data = file
            return self._bytes(data, filename or name)
        if isinstance(file, (bytes, bytearray, memoryview)):
            return self._bytes(bytes(file), filename or "upload.bin")
        if hasattr(file, "read"):
            data = file.read()
            if not isinstance(data, bytes):
                raise InvalidRequest("Open the file in binary mode ('rb') before uploading it")
            return self._bytes(data, filename or os.path.basename(getattr(file, "name", "") or "") or "upload.bin")
        raise InvalidRequest(
            f"Cannot upload a {type(file).__name__}: pass a path, bytes, a binary file object or (filename, bytes)"
        )

    def _bytes(self, data: Any, name: str) -> tuple[bytes, str]:
        if not isinstance(data, (bytes, bytearray, memoryview)):
            raise InvalidRequest(f"File content must be bytes, not {type(data).__name__}")
        limit = self._backend.max_file_bytes()
        if len(data) > limit:
            raise FileTooLarge(len(data), limit, name)
        if not len(data):
            raise InvalidRequest(f"File {str(name)!r} is empty (0 bytes); upload a file with content")
        return bytes(data), str(name)
