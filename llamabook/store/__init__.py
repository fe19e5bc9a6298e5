"""The home database: the one owner of ``<home>/llamabook.db`` and ``<home>/files/``.

Every table and every SQL statement lives in this package: prompts and their versions,
files (metadata here, bytes in the blob store), responses, prompt names, labels and default
output schemas, the grid's run log, human labels (annotations), and what the home keeps of a
server's files and responses.
"""

from __future__ import annotations

from functools import cached_property
from pathlib import Path

from .annotations import Annotation, AnnotationStore
from .batches import GridBatch, GridBatchStore
from .blobs import BlobStore, sha256_hex
from .database import Database
from .files import FileStore
from .labels import LabelStore
from .names import NameStore, import_aliases_file
from .prompts import PromptStore
from .remote import RemoteRecords
from .responses import ResponseStore
from .runs import RunLog
from .schemas import PromptSchemaStore, StoredSchema
from .writer import Unit, Writer

DB_FILE = "llamabook.db"


class Store:
    """Everything kept under one home directory."""

    def __init__(self, home: Path) -> None:
        self.home = Path(home).expanduser()
        self.db = Database(self.home / DB_FILE)
        import_aliases_file(self.home, self.db)

    @cached_property
    def prompts(self) -> PromptStore:
        return PromptStore(self.db)

    @cached_property
    def files(self) -> FileStore:
        return FileStore(self.db, BlobStore(self.home / "files"))

    @cached_property
    def responses(self) -> ResponseStore:
        return ResponseStore(self.db)

    @cached_property
    def runs(self) -> RunLog:
        return RunLog(self.db)

    @cached_property
    def batches(self) -> GridBatchStore:
        return GridBatchStore(self.db)

    @cached_property
    def annotations(self) -> AnnotationStore:
        """Human labels, by call (run-log key) and name."""
        return AnnotationStore(self.db)

    def names(self, scope: str) -> NameStore:
        """The prompt names of one backend ("local", or a server's base URL)."""
        return NameStore(self.db, scope)

    def labels(self, scope: str) -> LabelStore:
        """The prompt labels of one backend ("local", or a server's base URL)."""
        return LabelStore(self.db, scope)

    def schemas(self, scope: str) -> PromptSchemaStore:
        """The default output schemas of one backend's prompt versions ("local", or a server's base URL)."""
        return PromptSchemaStore(self.db, scope)

    def remote(self, server: str) -> RemoteRecords:
        """What this home keeps of the server at ``server``."""
        return RemoteRecords(self.db, server)

    def close(self) -> None:
        self.db.close()


__all__ = [
    "Annotation",
    "AnnotationStore",
    "Database",
    "GridBatch",
    "GridBatchStore",
    "LabelStore",
    "NameStore",
    "PromptSchemaStore",
    "PromptStore",
    "RemoteRecords",
    "RunLog",
    "Store",
    "StoredSchema",
    "Unit",
    "Writer",
    "sha256_hex",
]
