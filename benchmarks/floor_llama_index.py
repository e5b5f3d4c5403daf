"""LlamaIndex's do-nothing LLM; see :mod:`benchmarks.floors`."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

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

from benchmarks.floors import bare, check_fields


class FloorLLM(CustomLLM):
    """Streams ``ChatResponse``\\ s built from the chunks given to :meth:`set_chunks` (parsed before
    the clock starts)."""

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


check_fields(
    bare(ThinkingBlock, {"block_type": "thinking", "content": "", "num_tokens": None, "additional_information": {}}),
    bare(TextBlock, {"block_type": "text", "text": ""}),
)
