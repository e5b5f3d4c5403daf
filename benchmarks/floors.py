"""Do-nothing models: what each framework's own machinery costs when the chunks cost nothing else.

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

from collections.abc import Iterator, Sequence
from typing import Any, TypeVar, cast

from langchain_core.callbacks import CallbackManagerForLLMRun
from langchain_core.language_models.chat_models import BaseChatModel
from langchain_core.messages import AIMessage, AIMessageChunk, BaseMessage
from langchain_core.messages.ai import UsageMetadata
from langchain_core.messages.tool import tool_call_chunk
from langchain_core.outputs import ChatGeneration, ChatGenerationChunk, ChatResult
from llama_index.core.base.llms.types import (
    ChatMessage,
    ChatResponse,
    ChatResponseGen,
    CompletionResponse,
    CompletionResponseGen,
    LLMMetadata,
    MessageRole,
    TextBlock,
    ThinkingBlock,
)
from llama_index.core.llms.callbacks import llm_chat_callback, llm_completion_callback
from llama_index.core.llms.custom import CustomLLM
from pydantic import BaseModel, PrivateAttr

_M = TypeVar("_M", bound=BaseModel)


_new = object.__new__
_set = object.__setattr__
_MISSING = object()


def bare(cls: type[_M], fields: dict[str, Any]) -> _M:
    """``cls(**fields)`` without validation or default lookups; ``fields`` must name every field."""
    obj = _new(cls)
    _set(obj, "__dict__", fields)
    _set(obj, "__pydantic_fields_set__", set(fields))
    _set(obj, "__pydantic_extra__", {} if cls.model_config.get("extra") == "allow" else None)
    _set(obj, "__pydantic_private__", None)
    return obj


def langchain_chunk(chunk: dict[str, Any]) -> ChatGenerationChunk:
    """One parsed wire chunk as the LangChain chunk a lean adapter would yield."""
    choice = (chunk.get("choices") or [{}])[0]
    delta = choice.get("delta") or {}
    reasoning = delta.get("reasoning_content")
    content = delta.get("content") or ""
    calls = [
        tool_call_chunk(
            name=(c.get("function") or {}).get("name"),
            args=(c.get("function") or {}).get("arguments"),
            id=c.get("id"),
            index=c.get("index"),
        )
        for c in delta.get("tool_calls") or []
    ]
    usage = chunk.get("usage")
    message = bare(
        AIMessageChunk,
        {
            "content": content,
            "additional_kwargs": {"reasoning_content": reasoning} if reasoning else {},
            "response_metadata": {},
            "type": "AIMessageChunk",
            "name": None,
            "id": None,
            "tool_calls": [],
            "invalid_tool_calls": [],
            "usage_metadata": cast(
                "UsageMetadata | None",
                {
                    "input_tokens": usage["prompt_tokens"],
                    "output_tokens": usage["completion_tokens"],
                    "total_tokens": usage["total_tokens"],
                }
                if usage
                else None,
            ),
            "tool_call_chunks": calls,
            "chunk_position": None,
        },
    )
    finish = choice.get("finish_reason")
    return bare(
        ChatGenerationChunk,
        {
            "text": content,
            "generation_info": {"finish_reason": finish} if finish else None,
            "type": "ChatGenerationChunk",
            "message": message,
        },
    )


class FloorChatModel(BaseChatModel):
    """Yields one chunk per parsed chunk given to :meth:`set_chunks`; see the module docstring."""

    _chunks: list[dict[str, Any]] = PrivateAttr(default_factory=list)

    def set_chunks(self, chunks: list[dict[str, Any]]) -> None:
        self._chunks = chunks

    @property
    def _llm_type(self) -> str:
        return "benchmark-floor"

    def _generate(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> ChatResult:
        return ChatResult(generations=[ChatGeneration(message=AIMessage(content=""))])

    def _stream(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> Iterator[ChatGenerationChunk]:
        for chunk in self._chunks:
            yield langchain_chunk(chunk)


class FloorLLM(CustomLLM):
    """Streams ``ChatResponse``\\ s built from ``self.chunks`` (parsed before the clock starts)."""

    _chunks: list[dict[str, Any]] = PrivateAttr(default_factory=list)

    def set_chunks(self, chunks: list[dict[str, Any]]) -> None:
        self._chunks = chunks

    @property
    def metadata(self) -> LLMMetadata:
        return LLMMetadata(is_chat_model=True, model_name="benchmark-floor")

    @llm_completion_callback()
    def complete(self, prompt: str, formatted: bool = False, **kwargs: Any) -> CompletionResponse:
        return CompletionResponse(text="")

    @llm_completion_callback()
    def stream_complete(self, prompt: str, formatted: bool = False, **kwargs: Any) -> CompletionResponseGen:
        yield CompletionResponse(text="", delta="")

    @llm_chat_callback()
    def stream_chat(self, messages: Sequence[ChatMessage], **kwargs: Any) -> ChatResponseGen:
        chunks = self._chunks

        def gen() -> ChatResponseGen:
            content = reasoning = ""
            for chunk in chunks:
                delta = chunk["choices"][0]["delta"]
                piece = delta.get("content") or ""
                thought = delta.get("reasoning_content") or ""
                content += piece
                reasoning += thought
                blocks: list[Any] = []
                if reasoning:
                    fields = {"block_type": "thinking", "content": reasoning, "num_tokens": None}
                    blocks.append(bare(ThinkingBlock, {**fields, "additional_information": {}}))
                blocks.append(bare(TextBlock, {"block_type": "text", "text": content}))
                message = bare(ChatMessage, {"role": MessageRole.ASSISTANT, "additional_kwargs": {}, "blocks": blocks})
                yield bare(
                    ChatResponse,
                    {
                        "message": message,
                        "raw": chunk,
                        "delta": piece,
                        "logprobs": None,
                        "additional_kwargs": {"thinking_delta": thought} if thought else {},
                    },
                )

        return gen()


def _check_fields() -> None:
    """:func:`bare` needs every field named: fail loudly if a framework release adds one."""
    generation = langchain_chunk({"choices": [{"delta": {"content": "x"}}]})
    thinking = bare(
        ThinkingBlock, {"block_type": "thinking", "content": "", "num_tokens": None, "additional_information": {}}
    )
    objects: list[BaseModel] = [generation, generation.message, thinking]
    for obj in objects:
        assert set(vars(obj)) == set(type(obj).model_fields), type(obj)


_check_fields()
