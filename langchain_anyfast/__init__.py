"""LangChain integration for GLM-5.2 on AnyFast.

>>> from langchain_anyfast import ChatAnyFast
>>> model = ChatAnyFast(model="glm-5.2", api_key="...")  # doctest: +SKIP
>>> model.invoke("Hello").content  # doctest: +SKIP
"""

from langchain_anyfast.chat_models import ChatAnyFast

__all__ = ["ChatAnyFast"]
