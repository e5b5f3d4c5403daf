"""Tools: every tool_choice form on the wire, parallel calls, streamed fragments, and reasoning sent
back across a tool loop."""

from __future__ import annotations

from typing import Any

import pytest
import testkit
from langchain_core.messages import AIMessageChunk, HumanMessage, ToolMessage
from langchain_core.tools import tool
from pydantic import BaseModel, Field

from langchain_anyfast import ChatAnyFast

add, multiply = tool(testkit.add), tool(testkit.multiply)


class GetWeather(BaseModel):
    """Get the current weather in a city."""

    city: str = Field(description="The city, e.g. Florence")


ADD_SCHEMA = {
    "type": "function",
    "function": {
        "name": "add",
        "description": "Add two integers.",
        "parameters": {
            "type": "object",
            "properties": {"a": {"type": "integer"}, "b": {"type": "integer"}},
            "required": ["a", "b"],
        },
    },
}


def test_tools_on_the_wire(server: Any, model: ChatAnyFast, glm: Any) -> None:
    server.json(glm.completion())
    model.bind_tools([add, GetWeather]).invoke("Hi")
    tools = server.requests[0]["tools"]
    assert tools[0] == ADD_SCHEMA
    assert tools[1]["function"]["name"] == "GetWeather"
    assert tools[1]["function"]["parameters"]["properties"]["city"]["description"] == "The city, e.g. Florence"
    assert "tool_choice" not in server.requests[0]
    assert "parallel_tool_calls" not in server.requests[0]


@pytest.mark.parametrize(
    ("choice", "wire"),
    [
        ("auto", "auto"),
        ("none", "none"),
        ("any", "required"),
        ("required", "required"),
        (True, "required"),
        ("add", {"type": "function", "function": {"name": "add"}}),
        (
            {"type": "function", "function": {"name": "multiply"}},
            {"type": "function", "function": {"name": "multiply"}},
        ),
    ],
)
def test_every_tool_choice_form_on_the_wire(server: Any, model: ChatAnyFast, glm: Any, choice: Any, wire: Any) -> None:
    server.json(glm.completion())
    model.bind_tools([add, multiply], tool_choice=choice).invoke("Hi")
    assert server.requests[0]["tool_choice"] == wire


def test_docstring_descriptions_are_sent_alike_on_every_python(server: Any, model: ChatAnyFast, glm: Any) -> None:
    # Python 3.13 strips the docstring's indentation at compile time, 3.10-3.12 keep it: the body is the same.
    @tool
    def documented(a: int, b: int) -> int:
        """Add two numbers.

        Args:
            a: the first
            b: the second
        """
        return a + b

    server.json(glm.completion())
    model.bind_tools([documented]).invoke("Hi")
    description = server.requests[0]["tools"][0]["function"]["description"]
    assert description == "Add two numbers.\n\nArgs:\n    a: the first\n    b: the second"


def test_tool_choice_true_with_one_tool_names_it(server: Any, model: ChatAnyFast, glm: Any) -> None:
    server.json(glm.completion())
    model.bind_tools([add], tool_choice=True).invoke("Hi")
    assert server.requests[0]["tool_choice"] == {"type": "function", "function": {"name": "add"}}


def test_bad_tool_choice_fails_at_bind_time(model: ChatAnyFast) -> None:
    with pytest.raises(ValueError, match="names no bound tool"):
        model.bind_tools([add], tool_choice="subtract")


def test_parallel_tool_calls(server: Any, model: ChatAnyFast, glm: Any) -> None:
    calls = [glm.tool_call("add", {"a": 2, "b": 3}, "c0"), glm.tool_call("multiply", {"a": 2, "b": 3}, "c1")]
    server.json(glm.completion("", tool_calls=calls, finish_reason="tool_calls"))
    server.json(glm.completion("", tool_calls=calls, finish_reason="tool_calls"))
    both = model.bind_tools([add, multiply]).invoke("2+3 and 2*3")
    assert [c["name"] for c in both.tool_calls] == ["add", "multiply"]
    # Not an API field: nothing is sent, and the answer is held to one call.
    one = model.bind_tools([add, multiply], parallel_tool_calls=False).invoke("2+3 and 2*3")
    assert "parallel_tool_calls" not in server.requests[1]
    assert [c["name"] for c in one.tool_calls] == ["add"]


@pytest.mark.parametrize("fragment", [False, True])
@pytest.mark.parametrize("dialect", ["glm", "openai"])
def test_streamed_tool_calls_whole_and_fragmented(
    server: Any, make_model: Any, glm: Any, fragment: bool, dialect: str
) -> None:
    calls = [
        glm.tool_call("GetWeather", {"city": "São Paulo 東京"}, "c0"),
        glm.tool_call("add", {"a": 1, "b": 2}, "c1"),
    ]
    server.sse(
        glm.chunks(
            "",
            reasoning="Two lookups.",
            tool_calls=calls,
            fragment_tools=fragment,
            finish_reason="tool_calls",
            dialect=dialect,
        )
    )
    model = make_model(tool_stream=fragment)
    chunks = list(model.bind_tools([GetWeather, add]).stream("Weather and sum"))
    fragments = [c for c in chunks if c.tool_call_chunks]
    assert len(fragments) > (4 if fragment else 1)
    full = testkit.merged(chunks)
    assert isinstance(full, AIMessageChunk)
    assert full.tool_calls == [
        {"name": "GetWeather", "args": {"city": "São Paulo 東京"}, "id": "c0", "type": "tool_call"},
        {"name": "add", "args": {"a": 1, "b": 2}, "id": "c1", "type": "tool_call"},
    ]
    assert full.response_metadata["finish_reason"] == "tool_calls"
    assert full.additional_kwargs["reasoning_content"] == "Two lookups."
    assert server.requests[0].get("tool_stream", False) is fragment


def test_streamed_parallel_calls_held_to_one(server: Any, model: ChatAnyFast, glm: Any) -> None:
    calls = [glm.tool_call("add", {"a": 1, "b": 2}, "c0"), glm.tool_call("multiply", {"a": 3, "b": 4}, "c1")]
    server.sse(glm.chunks("", tool_calls=calls, fragment_tools=True, finish_reason="tool_calls"))
    chunks = list(model.bind_tools([add, multiply], parallel_tool_calls=False).stream("go"))
    full = testkit.merged(chunks)
    assert [c["name"] for c in full.tool_calls] == ["add"]


def test_reasoning_goes_back_across_a_tool_loop(server: Any, model: ChatAnyFast, glm: Any) -> None:
    """The second request carries the first turn's reasoning_content, beside its tool calls."""
    first_reasoning = "I need the sum first, then the product."
    server.json(
        glm.completion(
            "",
            reasoning=first_reasoning,
            tool_calls=[glm.tool_call("add", {"a": 2, "b": 3}, "c0")],
            finish_reason="tool_calls",
        )
    )
    server.sse(
        glm.chunks(
            "",
            reasoning="Now multiply.",
            tool_calls=[glm.tool_call("multiply", {"a": 5, "b": 4}, "c1")],
            finish_reason="tool_calls",
        )
    )
    server.json(glm.completion("The result is 20.", reasoning="Done."))
    bound = model.bind_tools([add, multiply])
    history: list[Any] = [HumanMessage("What is (2+3)*4?")]
    ai = bound.invoke(history)
    history += [ai, ToolMessage(str(add.invoke(ai.tool_calls[0]["args"])), tool_call_id=ai.tool_calls[0]["id"])]
    chunks = list(bound.stream(history))
    streamed = testkit.merged(chunks)
    history += [streamed, ToolMessage("20", tool_call_id=streamed.tool_calls[0]["id"])]
    final = bound.invoke(history)
    assert final.content == "The result is 20."
    second, third = server.requests[1]["messages"], server.requests[2]["messages"]
    assert second[1]["reasoning_content"] == first_reasoning
    assert second[1]["tool_calls"][0]["function"] == {"name": "add", "arguments": '{"a": 2, "b": 3}'}
    assert second[2] == {"role": "tool", "tool_call_id": "c0", "content": "5"}
    assert [m.get("reasoning_content") for m in third if m["role"] == "assistant"] == [first_reasoning, "Now multiply."]


def test_reasoning_goes_back_from_v1_messages(server: Any, make_model: Any, glm: Any) -> None:
    server.json(
        glm.completion(
            "",
            reasoning="Use add.",
            tool_calls=[glm.tool_call("add", {"a": 1, "b": 1}, "c0")],
            finish_reason="tool_calls",
        )
    )
    server.json(glm.completion("2"))
    model = make_model(output_version="v1").bind_tools([add])
    ai = model.invoke("1+1?")
    assert ai.content[0] == {"type": "reasoning", "reasoning": "Use add."}
    model.invoke([HumanMessage("1+1?"), ai, ToolMessage("2", tool_call_id="c0")])
    assert server.requests[1]["messages"][1]["reasoning_content"] == "Use add."


def test_tools_passed_per_call(server: Any, model: ChatAnyFast, glm: Any) -> None:
    server.json(glm.completion())
    model.invoke("Hi", tools=[add], tool_choice="any")
    assert server.requests[0]["tools"] == [ADD_SCHEMA]
    assert server.requests[0]["tool_choice"] == "required"
