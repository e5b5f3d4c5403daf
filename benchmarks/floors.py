"""Do-nothing models: what each framework's own machinery costs when the chunks cost nothing.

``FloorChatModel`` is a LangChain ``BaseChatModel`` whose ``_stream`` yields prebuilt
``ChatGenerationChunk``\\ s (built from the parsed chunks before the clock starts), so a timed
``stream()`` measures langchain-core's stream loop alone: callbacks, metadata, the list it keeps for
the final merge, and the merge.

``FloorLLM`` is a LlamaIndex ``CustomLLM`` whose ``stream_chat`` (under the framework's own
``llm_chat_callback``) yields the cheapest ``ChatResponse``\\ s LlamaIndex's contract allows: a
message holding the cumulative reasoning and text (a ``ThinkingBlock`` and a ``TextBlock``), the
delta, the raw chunk. They cannot be prebuilt: cumulative messages of a 20k-chunk stream would need
gigabytes, so the floor builds each from an already-parsed chunk, as any adapter must.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any, cast

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
from pydantic import PrivateAttr


def langchain_chunk(chunk: dict[str, Any]) -> ChatGenerationChunk:
    """One parsed wire chunk as the LangChain chunk a lean adapter would yield."""
    choices = chunk.get("choices") or [{}]
    delta = choices[0].get("delta") or {}
    kwargs = {"reasoning_content": delta["reasoning_content"]} if delta.get("reasoning_content") else {}
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
    message = AIMessageChunk(
        content=delta.get("content") or "",
        additional_kwargs=kwargs,
        tool_call_chunks=calls,
        usage_metadata=cast(
            "UsageMetadata | None",
            {
                "input_tokens": usage["prompt_tokens"],
                "output_tokens": usage["completion_tokens"],
                "total_tokens": usage["total_tokens"],
            }
            if usage
            else None,
        ),
    )
    finish = choices[0].get("finish_reason")
    return ChatGenerationChunk(message=message, generation_info={"finish_reason": finish} if finish else None)


class FloorChatModel(BaseChatModel):
    """Yields the chunks given to :meth:`set_chunks` (before each timed call); see the module docstring."""

    _prebuilt: list[ChatGenerationChunk] = PrivateAttr(default_factory=list)

    def set_chunks(self, chunks: list[ChatGenerationChunk]) -> None:
        self._prebuilt = chunks

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
        yield from self._prebuilt


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
                content += piece
                reasoning += delta.get("reasoning_content") or ""
                blocks: list[Any] = [ThinkingBlock(content=reasoning)] if reasoning else []
                blocks.append(TextBlock(text=content))
                yield ChatResponse(
                    message=ChatMessage(role=MessageRole.ASSISTANT, blocks=blocks), delta=piece, raw=chunk
                )

        return gen()
