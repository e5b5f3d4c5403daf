"""Do-nothing models: what each framework's own machinery costs when the chunks cost nothing else.

The models live in :mod:`benchmarks.floor_langchain` and :mod:`benchmarks.floor_llama_index`.

Both build each framework object per chunk from an already-parsed chunk, the cheapest way pydantic
allows (:func:`bare`: no validation, no default lookups), because no adapter can yield an object it
has not built, and because what the framework then does with the objects is its own cost: LangChain's
stream loop keeps every chunk for the final merge, so a long stream pays for garbage collection over
a growing heap. (Prebuilt chunks would hide that: measured so, langchain-core's loop alone is a flat
~5 us/chunk.)

``FloorChatModel`` is a LangChain ``BaseChatModel`` whose ``_stream`` yields a
``ChatGenerationChunk`` per chunk (content, reasoning in ``additional_kwargs``, tool-call chunks,
usage on the last one), so a timed ``stream()`` measures langchain-core's loop: callbacks, metadata,
the list it keeps, and the merge.

``FloorLLM`` is a LlamaIndex ``CustomLLM`` whose ``stream_chat`` (under the framework's own
``llm_chat_callback``, which dispatches an instrumentation event per chunk) yields the
``ChatResponse``\\ s LlamaIndex's contract asks for: a message holding the cumulative reasoning and
text (a ``ThinkingBlock`` and a ``TextBlock``), the delta, the raw chunk.
"""

from __future__ import annotations

from typing import Any, TypeVar

from pydantic import BaseModel

_M = TypeVar("_M", bound=BaseModel)
_new = object.__new__
_set = object.__setattr__


def bare(cls: type[_M], fields: dict[str, Any]) -> _M:
    """``cls(**fields)`` without validation or default lookups; ``fields`` must name every field
    (:func:`check_fields` says so, should a framework release add one)."""
    obj = _new(cls)
    _set(obj, "__dict__", fields)
    _set(obj, "__pydantic_fields_set__", set(fields))
    _set(obj, "__pydantic_extra__", {} if cls.model_config.get("extra") == "allow" else None)
    _set(obj, "__pydantic_private__", None)
    return obj


def check_fields(*objects: BaseModel) -> None:
    for obj in objects:
        assert set(vars(obj)) == set(type(obj).model_fields), type(obj)
