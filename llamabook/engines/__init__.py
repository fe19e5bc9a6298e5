"""Text generation for the local backend: the embedded tiny model, or any OpenAI-compatible server."""

from .base import ConstrainedEngine, Engine, Generation, GenerationOptions

__all__ = ["ConstrainedEngine", "Engine", "Generation", "GenerationOptions"]


def __getattr__(name: str):  # engines import their runtimes lazily
    if name == "EmbeddedEngine":
        from .embedded import EmbeddedEngine

        return EmbeddedEngine
    if name == "OpenAICompatibleEngine":
        from .openai_compatible import OpenAICompatibleEngine

        return OpenAICompatibleEngine
    raise AttributeError(name)
