"""ChatAnyFast against the emulator: a LangGraph ReAct agent, reasoning sent back under a server that
demands it, structured output from a model that ignores the forced tool, faults, prompt caching."""

from __future__ import annotations

import asyncio
import sys
from typing import Any

import pytest
import testkit
from langchain_core.messages import AIMessage, AIMessageChunk, HumanMessage, ToolMessage
from langchain_core.tools import tool
from pydantic import BaseModel

from anyfast_emulator import Emulator
from langchain_anyfast import ChatAnyFast

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning", "ignore::PendingDeprecationWarning")

# The server refuses undocumented fields and tool-calling turns sent back without their reasoning.
STRICT = {"X-AnyFast-Fault": "strict, require_reasoning"}


add, multiply = tool(testkit.add), tool(testkit.multiply)


def _model(emu: Emulator, **kwargs: Any) -> ChatAnyFast:
    kwargs.setdefault("default_headers", STRICT)
    kwargs.setdefault("api_key", emu.api_key)
    return ChatAnyFast(base_url=emu.base_url, **kwargs)


def _assistant_turns(body: dict[str, Any]) -> list[dict[str, Any]]:
    return [m for m in body["messages"] if m["role"] == "assistant"]


def test_tool_loop_sends_reasoning_back(emulator_any: Emulator) -> None:
    model = _model(emulator_any).bind_tools([add, multiply])
    history: list[Any] = [HumanMessage("Please add 3 and 4 with the add tool.")]
    first = model.invoke(history)
    assert first.tool_calls
    assert first.additional_kwargs["reasoning_content"]
    history.append(first)
    for call in first.tool_calls:
        history.append(ToolMessage(str(add.invoke(call["args"])), tool_call_id=call["id"]))
    final = model.invoke(history)
    assert final.content
    second_request = emulator_any.requests[1]
    assert _assistant_turns(second_request)[0]["reasoning_content"] == first.additional_kwargs["reasoning_content"]


def test_streamed_tool_loop_sends_reasoning_back(emulator_any: Emulator) -> None:
    model = _model(emulator_any, tool_stream=True).bind_tools([add, multiply])
    history: list[Any] = [HumanMessage("Multiply 6 by 7 using multiply.")]
    full = testkit.merged(list(model.stream(history)))
    assert isinstance(full, AIMessageChunk)
    assert [c["name"] for c in full.tool_calls] == ["multiply"]
    history += [full, ToolMessage("42", tool_call_id=full.tool_calls[0]["id"])]
    answer = model.invoke(history)
    assert "42" in answer.text
    assert (
        _assistant_turns(emulator_any.requests[1])[0]["reasoning_content"]
        == full.additional_kwargs["reasoning_content"]
    )


def _agent(model: ChatAnyFast) -> Any:
    from langchain.agents import create_agent

    return create_agent(model, [add, multiply])


QUESTION = "Use the add tool for 3 + 4 and the multiply tool for 5 * 6."


def _check_agent_run(messages: list[Any], emu: Emulator) -> None:
    ai_turns = [m for m in messages if isinstance(m, AIMessage)]
    assert ai_turns[0].tool_calls
    assert {c["name"] for c in ai_turns[0].tool_calls} == {"add", "multiply"}
    tools = {"add": add, "multiply": multiply}
    expected = {c["id"]: str(tools[c["name"]].invoke(c["args"])) for c in ai_turns[0].tool_calls}
    assert {m.tool_call_id: m.content for m in messages if isinstance(m, ToolMessage)} == expected
    assert ai_turns[-1].content
    assert not ai_turns[-1].tool_calls
    assert all(m.additional_kwargs.get("reasoning_content") for m in ai_turns)
    last_request = emu.requests[-1]
    assert _assistant_turns(last_request)[0]["reasoning_content"] == ai_turns[0].additional_kwargs["reasoning_content"]


def test_langgraph_react_agent(emulator_any: Emulator) -> None:
    agent = _agent(_model(emulator_any))
    result = agent.invoke({"messages": [("user", QUESTION)]})
    _check_agent_run(result["messages"], emulator_any)


async def test_langgraph_react_agent_async(emulator_any: Emulator) -> None:
    agent = _agent(_model(emulator_any))
    result = await agent.ainvoke({"messages": [("user", QUESTION)]})
    _check_agent_run(result["messages"], emulator_any)


def test_langgraph_stream_mode_messages_shows_reasoning(emulator: Emulator) -> None:
    agent = _agent(_model(emulator))
    reasoning: list[str] = []
    text: list[str] = []
    for message, metadata in agent.stream({"messages": [("user", QUESTION)]}, stream_mode="messages"):
        if isinstance(message, AIMessageChunk):
            assert metadata["langgraph_node"] == "model"  # create_agent's node that calls the model
            reasoning.append(message.additional_kwargs.get("reasoning_content", ""))
            text.append(message.text)
    assert len([r for r in reasoning if r]) > 5  # live, piece by piece
    assert "".join(text)


def test_langgraph_stream_mode_messages_one_id_per_model_call(emulator: Emulator) -> None:
    agent = _agent(_model(emulator))
    ids: list[str | None] = []
    final: dict[str, Any] = {}
    for mode, part in agent.stream({"messages": [("user", QUESTION)]}, stream_mode=["messages", "values"]):
        if mode == "values":
            final = part
        elif isinstance(part[0], AIMessageChunk) and (not ids or ids[-1] != part[0].id):
            ids.append(part[0].id)
    assert len(ids) == 2  # a tool-calling turn, then the answer: one id each, never repeated
    assert len(set(ids)) == 2
    assert [m.id for m in final["messages"] if isinstance(m, AIMessage)] == ids  # the merged messages too
    assert all(isinstance(i, str) and not i.startswith("lc_") for i in ids)  # the server's ids


@pytest.mark.skipif(
    sys.version_info < (3, 11),
    reason="create_agent's model node awaits the model without passing its config, and before Python 3.11 "
    "asyncio does not carry it along, so LangGraph has no messages to stream (a documented LangChain limit)",
)
async def test_langgraph_astream_mode_messages_shows_reasoning(emulator_openai: Emulator) -> None:
    agent = _agent(_model(emulator_openai))
    pieces = [
        message.additional_kwargs.get("reasoning_content", "")
        async for message, _ in agent.astream({"messages": [("user", QUESTION)]}, stream_mode="messages")
        if isinstance(message, AIMessageChunk)
    ]
    assert len([p for p in pieces if p]) > 5


class Sum(BaseModel):
    """The sum of two numbers."""

    a: int
    b: int
    total: int


@pytest.mark.parametrize("fence", [0, 1])
def test_forced_tool_answered_in_text_still_parses(emulator: Emulator, fence: int) -> None:
    headers = {"X-AnyFast-Fault": f"strict, ignore_tool_choice;fence={fence}"}
    structured = _model(emulator, default_headers=headers).with_structured_output(Sum, include_raw=True)
    result = structured.invoke("Add 2 and 3; give a, b and total.")
    assert result["raw"].tool_calls == []
    assert result["parsing_error"] is None
    assert isinstance(result["parsed"], Sum)


@pytest.mark.parametrize("method", ["function_calling", "json_mode", "json_schema"])
def test_structured_output_methods(emulator_any: Emulator, method: str) -> None:
    structured = _model(emulator_any).with_structured_output(Sum, method=method)
    prompt = "Add 2 and 3. Answer in JSON with keys a, b and total."
    assert isinstance(structured.invoke(prompt), Sum)
    assert isinstance(list(structured.stream(prompt))[-1], Sum)


class Outcome(BaseModel):
    """What to tell the user."""

    result: int


@pytest.mark.parametrize("mode", ["invoke", "ainvoke", "stream"])
async def test_agent_response_format_takes_the_tool_strategy(emulator: Emulator, mode: str) -> None:
    # The profile says there is no native structured output (no json_schema response format), so
    # create_agent forces a call to a tool shaped like the schema, which this API supports.
    from langchain.agents import create_agent

    agent = create_agent(_model(emulator), [add, multiply], response_format=Outcome)
    question = {"messages": [("user", "Add 2 and 3 with the add tool.")]}
    if mode == "invoke":
        result = agent.invoke(question)
    elif mode == "ainvoke":
        result = await agent.ainvoke(question)
    else:
        result = [state for state in agent.stream(question, stream_mode="values")][-1]
    assert isinstance(result["structured_response"], Outcome)
    first, last = emulator.requests[0], emulator.requests[-1]
    assert [c["function"]["name"] for c in _assistant_turns(last)[0]["tool_calls"]] == ["add"]  # a tool turn first
    assert [m["content"] for m in last["messages"] if m["role"] == "tool"] == ["5"]
    for request in (first, last):
        assert "response_format" not in request
        assert request["tool_choice"] == "required"
        assert [tool["function"]["name"] for tool in request["tools"]] == ["add", "multiply", "Outcome"]


async def test_agent_provider_strategy_chosen_explicitly_works(emulator: Emulator) -> None:
    # Asked for by name, LangChain's provider strategy sends a json_schema response format: ChatAnyFast
    # sends json_object with the schema in the system prompt, and the answer after the tool turn parses.
    from langchain.agents import create_agent
    from langchain.agents.structured_output import ProviderStrategy

    agent = create_agent(_model(emulator), [add, multiply], response_format=ProviderStrategy(Outcome))
    result = await agent.ainvoke({"messages": [("user", "Add 2 and 3 with the add tool.")]})
    assert isinstance(result["structured_response"], Outcome)
    last = emulator.requests[-1]
    assert last["messages"][-1]["role"] == "tool"
    assert last["response_format"] == {"type": "json_object"}
    assert '"result"' in last["messages"][0]["content"]


def test_cached_prompt_tokens_are_reported(emulator: Emulator) -> None:
    model = _model(emulator)
    prompt = "Summarise: " + "the station logged a reading. " * 40
    first = model.invoke(prompt)
    second = model.invoke(prompt)
    assert first.usage_metadata is not None
    assert second.usage_metadata is not None
    assert first.usage_metadata["input_token_details"]["cache_read"] == 0
    assert second.usage_metadata["input_token_details"]["cache_read"] > 0


def test_one_instance_across_event_loops(emulator: Emulator) -> None:
    model = _model(emulator)
    for _ in range(2):
        assert asyncio.run(model.ainvoke("Hello")).content
    assert len(emulator.requests) == 2


def test_abandoned_streams_give_their_connection_back(emulator: Emulator) -> None:
    import httpx

    # One connection and no patience: a stream left open by `break` would starve the next request.
    http = httpx.Client(limits=httpx.Limits(max_connections=1))
    model = _model(emulator, http_client=http, timeout=httpx.Timeout(5.0, pool=0.5), max_retries=0)
    for _ in range(3):
        for _chunk in model.stream("Tell me a story"):
            break
    assert model.invoke("Hello").content
    http.close()


async def test_abandoned_async_streams_give_their_connection_back(emulator: Emulator) -> None:
    import httpx

    http = httpx.AsyncClient(limits=httpx.Limits(max_connections=1))
    model = _model(emulator, http_async_client=http, timeout=httpx.Timeout(5.0, pool=0.5), max_retries=0)
    for _ in range(3):
        stream = model.astream("Tell me a story")
        async for _chunk in stream:
            break
        await stream.aclose()  # async generators are closed explicitly (or when the loop collects them)
    assert (await model.ainvoke("Hello")).content
    await http.aclose()
