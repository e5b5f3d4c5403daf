"""LangChain integration for GLM-5.2 on AnyFast.

>>> from langchain_anyfast import ChatAnyFast
>>> model = ChatAnyFast(model="glm-5.2", api_key="...")  # doctest: +SKIP
>>> model.invoke("Hello").content  # doctest: +SKIP
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from langchain_anyfast.chat_models import ChatAnyFast

__all__ = ["ChatAnyFast"]


def __getattr__(name: str) -> Any:
    # Loaded on first access, langchain-core's base class first, rather than while this package
    # initialises: measured on CPython 3.11, running langchain-core's import a few frames deeper
    # (inside this package's initialisation) cost 50-100 ms more, for the same modules.
    if name == "ChatAnyFast":
        import langchain_core.language_models.chat_models  # noqa: F401

        from langchain_anyfast.chat_models import ChatAnyFast

        return ChatAnyFast
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
