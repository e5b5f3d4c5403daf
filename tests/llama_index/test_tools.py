"""Tool calling: requests, responses, streaming fragments, and reasoning sent back on the next turn."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import pytest
from llama_index.core.base.llms.types import ChatMessage, ThinkingBlock, ToolCallBlock
from llama_index.core.tools import FunctionTool

from anyfast_core import ChatCompletion
from llama_index_anyfast import AnyFast


def add(a: int, b: int) -> int:
    """Add two numbers"""
    return a + b


def multiply(a: int, b: int) -> int:
    """Multiply two numbers"""
    return a * b


TOOLS = [FunctionTool.from_defaults(fn=add), FunctionTool.from_defaults(fn=multiply)]
SYSTEM = "You are a helpful assistant. Always use both add and multiply at the same time."
QUESTION = "Add and multiply the number 2 and 3"


def test_prepare_chat_with_tools_leaves_history_alone(llm: AnyFast) -> None:
    history = [ChatMessage(role="system", content=SYSTEM)]
    prepared = llm._prepare_chat_with_tools(TOOLS, user_msg=QUESTION, chat_history=history)
    assert len(history) == 1
    assert [m.role.value for m in prepared["messages"]] == ["system", "user"]
    assert [spec["function"]["name"] for spec in prepared["tools"]] == ["add", "multiply"]
    assert prepared["tool_choice"] is None  # the server's default, auto


@pytest.mark.parametrize(
    ("kwargs", "wire"),
    [
        ({}, None),
        ({"tool_required": True}, "required"),
        ({"tool_choice": "multiply"}, {"type": "function", "function": {"name": "multiply"}}),
        ({"tool_choice": "none"}, "none"),
    ],
)
def test_tool_choice_on_the_wire(
    llm: AnyFast, server: Any, glm: SimpleNamespace, kwargs: dict[str, Any], wire: object
) -> None:
    server.json(glm.completion(tool_calls=[("call_1", "multiply", {"a": 2, "b": 3})]))
    llm.chat_with_tools(TOOLS, user_msg=QUESTION, **kwargs)
    request = server.requests[0]
    assert request.get("tool_choice") == wire
    assert [t["function"]["name"] for t in request["tools"]] == ["add", "multiply"]
    assert "parallel_tool_calls" not in request  # not part of AnyFast's API


def documented(a: int, b: int) -> int:
    """Add two numbers.

    Args:
        a: the first
        b: the second
    """
    return a + b


def test_docstring_descriptions_are_sent_alike_on_every_python(llm: AnyFast, server: Any, glm: SimpleNamespace) -> None:
    # Python 3.13 strips the docstring's indentation at compile time, 3.10-3.12 keep it: the body is the same.
    server.json(glm.completion())
    llm.chat_with_tools([FunctionTool.from_defaults(fn=documented)], user_msg=QUESTION)
    description = server.requests[0]["tools"][0]["function"]["description"]
    signature, docstring = description.split("\n", 1)
    assert signature.startswith("documented(")
    assert docstring == "Add two numbers.\n\nArgs:\n    a: the first\n    b: the second"


def test_unknown_tool_choice_name_is_refused_before_sending(llm: AnyFast, server: Any) -> None:
    with pytest.raises(ValueError, match="names no bound tool"):
        llm.chat_with_tools(TOOLS, user_msg=QUESTION, tool_choice="divide")
    with pytest.raises(ValueError, match="contradicts"):
        llm.chat_with_tools(TOOLS, user_msg=QUESTION, tool_choice="auto", tool_required=True)
    assert server.requests == []


def test_single_tool_call_unless_parallel_allowed(llm: AnyFast, server: Any, glm: SimpleNamespace) -> None:
    calls = [("call_1", "add", {"a": 2, "b": 3}), ("call_2", "multiply", {"a": 2, "b": 3})]
    server.json(glm.completion(tool_calls=calls))
    server.json(glm.completion(tool_calls=calls))
    one = llm.chat_with_tools(TOOLS, user_msg=QUESTION)
    both = llm.chat_with_tools(TOOLS, user_msg=QUESTION, allow_parallel_tool_calls=True)
    assert [s.tool_name for s in llm.get_tool_calls_from_response(one)] == ["add"]
    assert [c.function.name for c in one.message.additional_kwargs["tool_calls"]] == ["add"]
    assert [s.tool_name for s in llm.get_tool_calls_from_response(both)] == ["add", "multiply"]


def test_no_tool_call(llm: AnyFast, server: Any, glm: SimpleNamespace) -> None:
    server.json(glm.completion(content="I would rather not."))
    response = llm.chat_with_tools(TOOLS, user_msg=QUESTION)
    assert llm.get_tool_calls_from_response(response, error_on_no_tool_call=False) == []
    with pytest.raises(ValueError, match="I would rather not"):
        llm.get_tool_calls_from_response(response)


@pytest.mark.parametrize("fragments", [False, True], ids=["whole", "tool_stream"])
async def test_streamed_tool_calls_from_every_fragment_and_index(
    make_llm: Any, server: Any, glm: SimpleNamespace, fragments: bool
) -> None:
    llm = make_llm(additional_kwargs={"tool_stream": True} if fragments else {})
    calls = [("call_1", "add", {"a": 2, "b": 3}), ("call_2", "multiply", {"a": 20, "b": 30})]
    server.sse(glm.stream(reasoning="Both at once. ", tool_calls=calls, fragment_tool_calls=fragments))
    pieces = [p async for p in await llm.astream_chat_with_tools(TOOLS, user_msg=QUESTION)]
    # Partial pieces never make get_tool_calls_from_response raise.
    partial = [llm.get_tool_calls_from_response(p, error_on_no_tool_call=False) for p in pieces]
    assert partial[0] == []
    selections = llm.get_tool_calls_from_response(pieces[-1])
    assert [(s.tool_id, s.tool_name, s.tool_kwargs) for s in selections] == [
        ("call_1", "add", {"a": 2, "b": 3}),
        ("call_2", "multiply", {"a": 20, "b": 30}),
    ]
    assert server.requests[0].get("tool_stream") is (True if fragments else None)


def test_recorded_tool_turns_round_trip_like_the_recorded_client(llm: AnyFast, server: Any, recording: Any) -> None:
    """Replay GLM-4.6v's parallel tool calls; the follow-up request must carry what the real client
    sent: the assistant's text, both calls verbatim, and its reasoning."""
    server.recording("zai-glm-4.6v_multi_tool_streaming.1.sse")
    server.recording("zai-glm-4.6v_multi_tool_streaming.2.sse")
    history = [ChatMessage(role="system", content=SYSTEM)]
    first = list(llm.stream_chat_with_tools(TOOLS, user_msg=QUESTION, chat_history=history))[-1]
    assert isinstance(first.message.blocks[0], ThinkingBlock)
    assert [b.tool_name for b in first.message.blocks if isinstance(b, ToolCallBlock)] == ["add", "multiply"]

    history += [ChatMessage(role="user", content=QUESTION), first.message]
    for selection in llm.get_tool_calls_from_response(first):
        result = {"add": add, "multiply": multiply}[selection.tool_name](**selection.tool_kwargs)
        history.append(
            ChatMessage(role="tool", content=str(result), additional_kwargs={"tool_call_id": selection.tool_id})
        )
    final = list(llm.stream_chat_with_tools(TOOLS, chat_history=history))[-1]

    recorded = recording("zai-glm-4.6v_multi_tool_streaming.2.request.json")
    assert server.requests[1]["messages"] == recorded["messages"]
    assert final.message.content
    assert isinstance(final.raw, ChatCompletion)
    assert final.raw.usage is not None
    assert final.additional_kwargs["total_tokens"] == final.raw.usage.total_tokens


async def test_reasoning_goes_back_with_tool_results(llm: AnyFast, server: Any, recording: Any) -> None:
    server.recording("zai-glm-4.5_tool.1.json")
    server.recording("zai-glm-4.5_tool.2.json")
    weather = FunctionTool.from_defaults(fn=lambda location: "40 C", name="weather", description="Get weather")
    first = await llm.achat_with_tools([weather], user_msg="What's the weather in Florence,Italy?")
    (selection,) = llm.get_tool_calls_from_response(first)
    history = [
        ChatMessage(role="user", content="What's the weather in Florence,Italy?"),
        first.message,
        ChatMessage(role="tool", content="40 C", additional_kwargs={"tool_call_id": selection.tool_id}),
    ]
    await llm.achat_with_tools([weather], chat_history=history)
    assistant = server.requests[1]["messages"][1]
    assert (
        assistant["reasoning_content"]
        == recording("zai-glm-4.5_tool.1.json")["choices"][0]["message"]["reasoning_content"]
    )
    assert assistant["tool_calls"] == [
        {
            "id": "call_-8303649628005950554",
            "type": "function",
            "function": {"name": "weather", "arguments": '{"location": "Florence,Italy"}'},
        }
    ]
    assert server.requests[1]["messages"][2] == {
        "role": "tool",
        "content": "40 C",
        "tool_call_id": "call_-8303649628005950554",
    }


def test_predict_and_call_runs_the_tool(llm: AnyFast, server: Any, glm: SimpleNamespace) -> None:
    server.json(glm.completion(reasoning="Multiply.", tool_calls=[("call_9", "multiply", {"a": 6, "b": 7})]))
    response = llm.predict_and_call(TOOLS, user_msg="6 times 7?")
    assert response.response == "42"


def test_a_tool_calling_turn_survives_a_json_round_trip(llm: AnyFast, server: Any, recording: Any) -> None:
    # Chat stores serialize messages; what comes back must go out on the wire unchanged.
    from llama_index_anyfast.utils import to_wire_message

    server.recording("zai-glm-4.6v_multi_tool_streaming.1.sse")
    message = list(llm.stream_chat_with_tools(TOOLS, user_msg=QUESTION))[-1].message
    restored = ChatMessage.model_validate_json(message.model_dump_json())
    assert to_wire_message(restored) == to_wire_message(message)
    assert to_wire_message(message)["tool_calls"][1]["function"]["arguments"] == '{"a":2,"b":3}'


async def test_recorded_glm_45_stream_round_trip_adds_the_reasoning(llm: AnyFast, server: Any, recording: Any) -> None:
    """GLM-4.5's recorded client dropped the reasoning of its tool-calling turn; AnyFast sends it
    back (interleaved thinking wants it), and otherwise the same messages."""
    server.recording("zai-glm-4.5_tool_streaming.1.sse")
    server.recording("zai-glm-4.5_tool_streaming.2.sse")
    weather = FunctionTool.from_defaults(
        fn=lambda location: "40 C", name="weather", description="Get weather information for a location"
    )
    history = [
        ChatMessage(role="system", content="You are a helpful assistant"),
        ChatMessage(role="user", content="What's the weather in Florence,Italy?"),
    ]
    first = [p async for p in await llm.astream_chat_with_tools([weather], chat_history=history)][-1]
    (call,) = llm.get_tool_calls_from_response(first)
    history += [
        first.message,
        ChatMessage(role="tool", content="40 C", additional_kwargs={"tool_call_id": call.tool_id}),
    ]
    final = [p async for p in await llm.astream_chat_with_tools([weather], chat_history=history)][-1]

    sent = server.requests[1]["messages"]
    recorded = recording("zai-glm-4.5_tool_streaming.2.request.json")["messages"]
    thinking = first.message.blocks[0]
    assert isinstance(thinking, ThinkingBlock)
    assert sent[2].pop("reasoning_content") == thinking.content
    assert sent == recorded
    assert "40" in (final.message.content or "")
