"""GLM-5.2 on AnyFast for LlamaIndex.

>>> from llama_index_anyfast import AnyFast
>>> AnyFast.class_name()
'AnyFast'
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from llama_index_anyfast.tokenizer import glm_tokenizer

if TYPE_CHECKING:
    from llama_index_anyfast.base import AnyFast

__all__ = ["AnyFast", "glm_tokenizer"]


def __getattr__(name: str) -> Any:
    # Loaded on first access, llama-index-core's base class first, rather than while this package
    # initialises: measured on CPython 3.11, running the framework's import a few frames deeper
    # (inside this package's initialisation) cost tens of milliseconds more, for the same modules.
    if name == "AnyFast":
        import llama_index.core.llms.function_calling  # noqa: F401

        from llama_index_anyfast.base import AnyFast

        return AnyFast
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
