"""LangChain's do-nothing chat model; see :mod:`benchmarks.floors`."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any, cast

from langchain_core.callbacks import CallbackManagerForLLMRun
from langchain_core.language_models.chat_models import BaseChatModel
from langchain_core.messages import AIMessage, AIMessageChunk, BaseMessage
from langchain_core.messages.ai import UsageMetadata
from langchain_core.messages.tool import tool_call_chunk
from langchain_core.outputs import ChatGeneration, ChatGenerationChunk, ChatResult
from pydantic import PrivateAttr

from benchmarks.floors import bare, check_fields


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
    """Yields one chunk per parsed chunk given to :meth:`set_chunks`; see :mod:`benchmarks.floors`."""

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


_sample = langchain_chunk({"choices": [{"delta": {"content": "x"}}]})
check_fields(_sample, _sample.message)
