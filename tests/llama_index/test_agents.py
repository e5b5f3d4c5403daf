"""LlamaIndex agents over AnyFast: FunctionAgent (streaming and not), ReActAgent, AgentWorkflow."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import pytest
from llama_index.core.agent.workflow import (
    AgentStream,
    AgentWorkflow,
    FunctionAgent,
    ReActAgent,
    ToolCallResult,
)

from llama_index_anyfast import AnyFast

# llama-index-workflows builds agents with inspect.getmembers, which touches pydantic's deprecated
# attributes on every agent: noise from the framework, not from this package.
pytestmark = pytest.mark.filterwarnings(
    "ignore::pydantic.warnings.PydanticDeprecatedSince20", "ignore::pydantic.warnings.PydanticDeprecatedSince211"
)


from testkit import add, multiply  # noqa


QUESTION = "What are 2 + 3 and 2 * 3?"
FIRST_THOUGHT = "I should call add and multiply together. "
SECOND_THOUGHT = "Both results are in: 5 and 6. "
ANSWER = "2 + 3 = 5 and 2 * 3 = 6."
CALLS = [("call_add", "add", {"a": 2, "b": 3}), ("call_mul", "multiply", {"a": 2, "b": 3})]


async def _run(workflow: Any) -> tuple[Any, list[Any]]:
    handler = workflow.run(user_msg=QUESTION)
    events = [event async for event in handler.stream_events()]
    return await handler, events


def _check_second_request(server: Any) -> None:
    """The second turn sends the tool-calling turn back whole: reasoning, calls, then both results."""
    assert len(server.requests) == 2
    messages = server.requests[1]["messages"]
    assistant = next(m for m in messages if m["role"] == "assistant")
    assert assistant["reasoning_content"] == FIRST_THOUGHT
    assert [c["function"]["name"] for c in assistant["tool_calls"]] == ["add", "multiply"]
    tools = [m for m in messages if m["role"] == "tool"]
    assert [(m["tool_call_id"], m["content"]) for m in tools] == [("call_add", "5"), ("call_mul", "6")]


@pytest.mark.parametrize("streaming", [True, False], ids=["streaming", "whole"])
async def test_function_agent_with_two_tools(llm: AnyFast, server: Any, glm: SimpleNamespace, streaming: bool) -> None:
    if streaming:
        server.sse(glm.stream(reasoning=FIRST_THOUGHT, tool_calls=CALLS))
        server.sse(glm.stream(reasoning=SECOND_THOUGHT, content=ANSWER))
    else:
        server.json(glm.completion(reasoning=FIRST_THOUGHT, tool_calls=CALLS))
        server.json(glm.completion(reasoning=SECOND_THOUGHT, content=ANSWER))
    agent = FunctionAgent(tools=[add, multiply], llm=llm, streaming=streaming)

    result, events = await _run(agent)

    assert str(result.response.content) == ANSWER
    # The workflow runs the two calls concurrently, so their results may come in either order; the
    # order they go back to the model in is checked on the second request below.
    assert sorted((e.tool_name, e.tool_output.content) for e in events if isinstance(e, ToolCallResult)) == [
        ("add", "5"),
        ("multiply", "6"),
    ]
    streamed = [e for e in events if isinstance(e, AgentStream)]
    if streaming:
        assert "".join(e.thinking_delta or "" for e in streamed) == FIRST_THOUGHT + SECOND_THOUGHT
        assert "".join(e.delta for e in streamed) == ANSWER
    _check_second_request(server)


async def test_agent_workflow_from_functions(llm: AnyFast, server: Any, glm: SimpleNamespace) -> None:
    server.sse(glm.stream(reasoning=FIRST_THOUGHT, tool_calls=CALLS))
    server.sse(glm.stream(reasoning=SECOND_THOUGHT, content=ANSWER))
    workflow = AgentWorkflow.from_tools_or_functions([add, multiply], llm=llm)
    assert isinstance(workflow.agents[next(iter(workflow.agents))], FunctionAgent)

    result, events = await _run(workflow)

    assert str(result.response.content) == ANSWER
    assert any(isinstance(e, AgentStream) and e.thinking_delta for e in events)
    _check_second_request(server)


async def test_react_agent(llm: AnyFast, server: Any, glm: SimpleNamespace) -> None:
    server.sse(
        glm.stream(
            reasoning="The user wants a product. ",
            content='Thought: I need the multiply tool.\nAction: multiply\nAction Input: {"a": 6, "b": 7}',
        )
    )
    server.sse(glm.stream(reasoning="The tool said 42. ", content="Thought: I can answer now.\nAnswer: 42"))
    agent = ReActAgent(tools=[add, multiply], llm=llm)

    handler = agent.run(user_msg="What is 6 times 7?")
    events = [event async for event in handler.stream_events()]
    result: Any = await handler

    assert str(result.response.content) == "42"
    assert [e.tool_output.content for e in events if isinstance(e, ToolCallResult)] == ["42"]
    thinking = "".join(e.thinking_delta or "" for e in events if isinstance(e, AgentStream))
    assert thinking == "The user wants a product. The tool said 42. "
    # The ReAct transcript (not the reasoning) is what the parser saw: it lives in the text blocks.
    second = server.requests[1]["messages"]
    assert "Observation: 42" in second[-1]["content"]
