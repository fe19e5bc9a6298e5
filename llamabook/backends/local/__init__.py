"""The embedded backend: SQLite + a content-addressed file store + a local engine."""

from .backend import LocalBackend

__all__ = ["LocalBackend"]
