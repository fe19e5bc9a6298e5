"""A Llama Stack / OGX server, or any OpenAI-compatible Responses server, over HTTP."""

from .backend import HttpBackend

__all__ = ["HttpBackend"]
