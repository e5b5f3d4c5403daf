"""GLM-5.2 on AnyFast for LlamaIndex.

>>> from llama_index_anyfast import AnyFast
>>> AnyFast.class_name()
'AnyFast'
"""

from llama_index_anyfast.base import AnyFast

__all__ = ["AnyFast"]
