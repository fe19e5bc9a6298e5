"""Backends: where prompts, files and responses live (local SQLite, or a server)."""
