"""Standard content blocks for ChatAnyFast messages (``message.content_blocks``, ``output_version="v1"``).

LangChain picks a translator by ``response_metadata["model_provider"]``. The OpenAI one ignores
``reasoning_content``, so ChatAnyFast registers its own under ``"anyfast"``: a ``reasoning`` block
first, then the text, then tool calls. Streamed tool-call fragments get ``"lc_tc_<n>"`` indexes so
they never share an index with the reasoning and text blocks LangChain numbers 0, 1, ... (sharing
index 0 is how a streamed reasoning block swallows the tool call in other integrations).
"""

from __future__ import annotations

from typing import Any, cast

from langchain_core.messages import AIMessage, AIMessageChunk
from langchain_core.messages import content as types
from langchain_core.messages.block_translators import register_translator

from langchain_anyfast._convert import PROVIDER


def _reasoning_and_text(message: AIMessage) -> list[types.ContentBlock]:
    if not isinstance(message.content, str):
        # List content (v1 blocks or user-built lists): LangChain's generic parsing handles it,
        # including the reasoning in additional_kwargs.
        raise NotImplementedError
    blocks: list[Any] = []
    reasoning = message.additional_kwargs.get("reasoning_content")
    if isinstance(reasoning, str) and reasoning:
        blocks.append({"type": "reasoning", "reasoning": reasoning})
    if message.content:
        blocks.append({"type": "text", "text": message.content})
    return cast("list[types.ContentBlock]", blocks)


def _tool_call_blocks(message: AIMessage) -> list[types.ContentBlock]:
    blocks: list[Any] = [
        {"type": "tool_call", "id": call.get("id"), "name": call["name"], "args": call["args"]}
        for call in message.tool_calls
    ]
    for invalid in message.invalid_tool_calls:
        block: dict[str, Any] = {
            "type": "invalid_tool_call",
            "id": invalid.get("id"),
            "name": invalid.get("name"),
            "args": invalid.get("args"),
            "error": invalid.get("error"),
        }
        blocks.append(block)
    return cast("list[types.ContentBlock]", blocks)


def translate_content(message: AIMessage) -> list[types.ContentBlock]:
    """Blocks of a whole message: reasoning, text, tool calls."""
    return _reasoning_and_text(message) + _tool_call_blocks(message)


def translate_content_chunk(chunk: AIMessageChunk) -> list[types.ContentBlock]:
    """Blocks of a chunk: reasoning and text deltas, tool-call fragments (whole calls once the
    chunk is the merged, last one)."""
    blocks = _reasoning_and_text(chunk)
    if chunk.chunk_position == "last":
        return blocks + _tool_call_blocks(chunk)
    for fragment in chunk.tool_call_chunks:
        tc: dict[str, Any] = {
            "type": "tool_call_chunk",
            "id": fragment.get("id"),
            "name": fragment.get("name"),
            "args": fragment.get("args"),
        }
        if (index := fragment.get("index")) is not None:
            tc["index"] = f"lc_tc_{index}"
        blocks.append(cast("types.ToolCallChunk", tc))
    return blocks


register_translator(PROVIDER, translate_content, translate_content_chunk)
