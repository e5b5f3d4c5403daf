"""Cassette-backed runs: recorded HTTP traffic (emulator by default; the live API with
``ANYFAST_RECORD_TARGET=live``) replayed through AnyFast, so the adapter is checked against fixed bytes."""

from __future__ import annotations

from typing import Any

import pytest
from llama_index.core.base.llms.types import ChatMessage, ThinkingBlock
from llama_index.core.prompts import PromptTemplate
from llama_index.core.tools import FunctionTool
from llama_index.core.types import PydanticProgramMode
from pydantic import BaseModel

from llama_index_anyfast import AnyFast

pytestmark = pytest.mark.vcr


from testkit import add, multiply  # noqa


class Warranty(BaseModel):
    frame_years: int
    motor_years: int


@pytest.fixture
def llm(record_target: Any) -> AnyFast:
    return AnyFast(api_key=record_target.api_key, api_base=record_target.base_url, max_tokens=2048)


def test_chat_and_stream(llm: AnyFast) -> None:
    messages = [ChatMessage(role="user", content="Hello")]
    whole = llm.chat(messages)
    pieces = list(llm.stream_chat(messages))
    assert isinstance(whole.message.blocks[0], ThinkingBlock)
    assert whole.message.content
    assert pieces[-1].message.content == "".join(p.delta or "" for p in pieces)
    assert "".join(p.additional_kwargs.get("thinking_delta", "") for p in pieces)
    assert pieces[-1].additional_kwargs["total_tokens"] == pieces[-1].raw.usage.total_tokens


async def test_tool_loop_sends_reasoning_back(llm: AnyFast) -> None:
    tool = FunctionTool.from_defaults(fn=multiply)
    history = [ChatMessage(role="user", content="What is 6 * 7? Use the multiply tool.")]
    first = await llm.achat_with_tools([tool], chat_history=history)
    (call,) = llm.get_tool_calls_from_response(first)
    history += [
        first.message,
        ChatMessage(
            role="tool", content=str(multiply(**call.tool_kwargs)), additional_kwargs={"tool_call_id": call.tool_id}
        ),
    ]
    pieces = [p async for p in await llm.astream_chat_with_tools([tool], chat_history=history)]
    assert "42" in (pieces[-1].message.content or "")
    assert isinstance(first.message.blocks[0], ThinkingBlock)
    # The recorded second request matched only because it carried the first turn's reasoning.
    assert first.message.blocks[0].content


@pytest.mark.parametrize("mode", ["function", "llm"])
def test_structured_predict(record_target: Any, mode: str) -> None:
    llm = AnyFast(
        api_key=record_target.api_key, api_base=record_target.base_url, pydantic_program_mode=PydanticProgramMode(mode)
    )
    prompt = PromptTemplate("Extract the warranty terms: {text}")
    result = llm.structured_predict(Warranty, prompt, text="Frame warranty: 10 years. Motor warranty: 3 years.")
    assert isinstance(result, Warranty)
