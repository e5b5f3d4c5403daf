"""AnyFast against the loopback emulator: real HTTP, real SSE, the emulator's recorded requests."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from llama_index.core.agent.workflow import AgentStream, FunctionAgent, ToolCallResult
from llama_index.core.base.llms.types import ChatMessage, ThinkingBlock
from llama_index.core.callbacks import CallbackManager, TokenCountingHandler
from llama_index.core.prompts import PromptTemplate
from llama_index.core.types import PydanticProgramMode
from pydantic import BaseModel

from anyfast_core import (
    ChatCompletion,
)
from anyfast_emulator import Emulator
from llama_index_anyfast import AnyFast

# llama-index-workflows builds agents with inspect.getmembers, which touches pydantic's deprecated
# attributes on every agent: noise from the framework, not from this package.
pytestmark = pytest.mark.filterwarnings(
    "ignore::pydantic.warnings.PydanticDeprecatedSince20", "ignore::pydantic.warnings.PydanticDeprecatedSince211"
)

HELLO = [ChatMessage(role="user", content="Hello")]


from testkit import add, multiply  # noqa


class Warranty(BaseModel):
    frame_years: int
    motor_years: int


STRICT = {"X-AnyFast-Fault": "strict,require_reasoning"}
"""400 for any undocumented request field, and for a tool-calling turn sent back without its reasoning."""


@pytest.fixture
def llm(emulator: Emulator) -> Iterator[AnyFast]:
    with httpx.Client(headers=STRICT) as sync_client:
        yield AnyFast(
            api_key=emulator.api_key,
            api_base=emulator.base_url,
            http_client=sync_client,
            async_http_client=httpx.AsyncClient(headers=STRICT),
        )


def test_the_environment_configures_it(emulator: Emulator, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ANYFAST_API_KEY", emulator.api_key)
    monkeypatch.setenv("ANYFAST_BASE_URL", emulator.base_url)
    assert AnyFast().complete("Hello").text == "Hello! How can I help you today?"


def test_sync_methods(llm: AnyFast, emulator: Emulator) -> None:
    response = llm.chat(HELLO)
    assert isinstance(response.message.blocks[0], ThinkingBlock)
    assert response.message.content == "Hello! How can I help you today?"
    assert response.additional_kwargs["total_tokens"] == response.raw.usage.total_tokens > 0

    pieces = list(llm.stream_chat(HELLO))
    assert "".join(p.delta or "" for p in pieces) == response.message.content
    assert "".join(p.additional_kwargs.get("thinking_delta", "") for p in pieces) == response.message.blocks[0].content
    assert isinstance(pieces[-1].raw, ChatCompletion)

    assert llm.complete("Hello").text == response.message.content
    assert pieces[-1].message.content == list(llm.stream_complete("Hello"))[-1].text
    assert [r["stream"] for r in emulator.requests] == [False, True, False, True]


async def test_async_methods(llm: AnyFast) -> None:
    response = await llm.achat(HELLO)
    pieces = [p async for p in await llm.astream_chat(HELLO)]
    assert pieces[-1].message.content == response.message.content
    assert pieces[-1].message.blocks[0].content == response.message.blocks[0].content
    assert (await llm.acomplete("Hello")).text == response.message.content
    completions = [p async for p in await llm.astream_complete("Hello")]
    assert completions[-1].text == response.message.content


def test_thinking_off(emulator: Emulator) -> None:
    llm = AnyFast(api_key=emulator.api_key, api_base=emulator.base_url, thinking=False)
    response = llm.chat(HELLO)
    assert not any(isinstance(b, ThinkingBlock) for b in response.message.blocks)
    assert emulator.requests[0]["thinking"] == {"type": "disabled"}


def test_token_counts_equal_the_servers(emulator: Emulator) -> None:
    counter = TokenCountingHandler(tokenizer=lambda text: list(text))
    llm = AnyFast(api_key=emulator.api_key, api_base=emulator.base_url, callback_manager=CallbackManager([counter]))
    whole = llm.chat(HELLO)
    last = list(llm.stream_chat(HELLO))[-1]
    usages = [whole.raw.usage, last.raw.usage]
    assert [c.prompt_token_count for c in counter.llm_token_counts] == [u.prompt_tokens for u in usages]
    assert [c.completion_token_count for c in counter.llm_token_counts] == [u.completion_tokens for u in usages]


@pytest.mark.parametrize("streaming", [True, False], ids=["streaming", "whole"])
async def test_function_agent_sends_reasoning_back(llm: AnyFast, emulator: Emulator, streaming: bool) -> None:
    agent = FunctionAgent(tools=[add, multiply], llm=llm, streaming=streaming)
    handler = agent.run(user_msg="What is 2 + 3 and 2 * 3? Use the add and multiply tools.")
    events = [event async for event in handler.stream_events()]
    result: Any = await handler

    results = sorted((e.tool_name, e.tool_output.content) for e in events if isinstance(e, ToolCallResult))
    assert results == [("add", "5"), ("multiply", "6")]
    assert "5" in str(result.response.content)
    assert "6" in str(result.response.content)
    if streaming:
        assert any(isinstance(e, AgentStream) and e.thinking_delta for e in events)
    _, second = emulator.requests
    assistant = next(m for m in second["messages"] if m["role"] == "assistant")
    assert assistant["reasoning_content"]
    assert sorted(c["function"]["name"] for c in assistant["tool_calls"]) == ["add", "multiply"]
    assert {m["tool_call_id"] for m in second["messages"] if m["role"] == "tool"} == {
        c["id"] for c in assistant["tool_calls"]
    }


@pytest.mark.parametrize("mode", ["function", "llm"])
def test_structured_predict_in_both_modes(emulator: Emulator, mode: str) -> None:
    llm = AnyFast(api_key=emulator.api_key, api_base=emulator.base_url, pydantic_program_mode=PydanticProgramMode(mode))
    prompt = PromptTemplate("Extract the warranty terms: {text}")
    result = llm.structured_predict(Warranty, prompt, text="Frame warranty: 10 years. Motor warranty: 3 years.")
    assert isinstance(result, Warranty)
    (request,) = emulator.requests
    if mode == "function":
        assert request["tool_choice"] == "required"
    else:
        assert request["response_format"] == {"type": "json_object"}


@pytest.mark.parametrize("fence", [0, 1])
def test_forced_tool_call_answered_in_text_still_parses(emulator: Emulator, fence: int) -> None:
    headers = {"X-AnyFast-Fault": f"strict, ignore_tool_choice;fence={fence}"}
    with httpx.Client(headers=headers) as http:
        llm = AnyFast(api_key=emulator.api_key, api_base=emulator.base_url, http_client=http)
        prompt = PromptTemplate("Extract the warranty terms: {text}")
        result = llm.structured_predict(Warranty, prompt, text="Frame warranty: 10 years. Motor warranty: 3 years.")
    assert isinstance(result, Warranty)
    assert emulator.requests[0]["tool_choice"] == "required"


def test_one_instance_across_event_loops(emulator: Emulator) -> None:
    # A model used from two asyncio.run calls must neither hang nor send a request twice.
    llm = AnyFast(api_key=emulator.api_key, api_base=emulator.base_url)
    first = asyncio.run(llm.achat(HELLO))
    second = asyncio.run(llm.achat(HELLO))
    assert first.message.content == second.message.content
    assert len(emulator.requests) == 2


def test_reasoning_tokens_and_cached_prefix(emulator: Emulator) -> None:
    with Emulator(reasoning_tokens=True) as emu:
        llm = AnyFast(api_key=emu.api_key, api_base=emu.base_url)
        llm.chat(HELLO)
        response = llm.chat(HELLO)
    thinking = response.message.blocks[0]
    assert isinstance(thinking, ThinkingBlock)
    assert thinking.num_tokens == response.raw.usage.reasoning_tokens > 0
    assert response.additional_kwargs["cached_tokens"] > 0
