"""The pure LangChain <-> wire converters, without any I/O."""

from __future__ import annotations

import copy
import json
import pickle

import pytest
from langchain_core.messages import (
    AIMessage,
    AIMessageChunk,
    ChatMessage,
    FunctionMessage,
    HumanMessage,
    SystemMessage,
    ToolMessage,
)

from anyfast_core import ChatCompletion, StreamDelta, ToolCallFragment, Usage
from langchain_anyfast._convert import (
    chunk_from_wire,
    last_chunk_from_wire,
    message_from_wire,
    messages_to_wire,
    tool_choice_to_wire,
    usage_from_wire,
)


def test_basic_roles_to_wire() -> None:
    wire = messages_to_wire(
        [SystemMessage("Be brief."), HumanMessage("Hi"), AIMessage("Hello"), ChatMessage(role="user", content="Again")]
    )
    assert wire == [
        {"role": "system", "content": "Be brief."},
        {"role": "user", "content": "Hi"},
        {"role": "assistant", "content": "Hello"},
        {"role": "user", "content": "Again"},
    ]


def test_reasoning_goes_back_from_additional_kwargs() -> None:
    message = AIMessage(
        "",
        additional_kwargs={"reasoning_content": "I should look it up."},
        tool_calls=[{"name": "weather", "args": {"city": "Zürich"}, "id": "call_1"}],
    )
    assert messages_to_wire([message]) == [
        {
            "role": "assistant",
            "content": "",
            "reasoning_content": "I should look it up.",
            "tool_calls": [
                {"id": "call_1", "type": "function", "function": {"name": "weather", "arguments": '{"city": "Zürich"}'}}
            ],
        }
    ]


def test_reasoning_goes_back_from_v1_blocks() -> None:
    message = AIMessage(
        content=[
            {"type": "reasoning", "reasoning": "Think "},
            {"type": "reasoning", "reasoning": "twice."},
            {"type": "text", "text": "Done."},
            {"type": "tool_call", "id": "c1", "name": "f", "args": {}},
        ],
        tool_calls=[{"name": "f", "args": {}, "id": "c1"}],
        response_metadata={"output_version": "v1"},
    )
    wire = messages_to_wire([message])[0]
    assert wire["content"] == "Done."
    assert wire["reasoning_content"] == "Think twice."
    assert wire["tool_calls"][0]["function"] == {"name": "f", "arguments": "{}"}


def test_anthropic_style_tool_use_history() -> None:
    message = AIMessage(
        content=[
            {"type": "text", "text": "Hmm let me think about that"},
            {"type": "tool_use", "input": {"fav_color": "green"}, "id": "foo", "name": "color_picker"},
        ],
        tool_calls=[{"name": "color_picker", "args": {"fav_color": "green"}, "id": "foo"}],
    )
    wire = messages_to_wire([message, ToolMessage("That's a great pick!", tool_call_id="foo")])
    assert wire[0] == {
        "role": "assistant",
        "content": "Hmm let me think about that",
        "tool_calls": [
            {
                "id": "foo",
                "type": "function",
                "function": {"name": "color_picker", "arguments": '{"fav_color": "green"}'},
            }
        ],
    }
    assert wire[1] == {"role": "tool", "tool_call_id": "foo", "content": "That's a great pick!"}


def test_anthropic_thinking_blocks_go_back_as_reasoning() -> None:
    message = AIMessage(
        [{"type": "thinking", "thinking": "A greeting.", "signature": "sig"}, {"type": "text", "text": "Hello!"}]
    )
    assert messages_to_wire([message]) == [
        {"role": "assistant", "content": "Hello!", "reasoning_content": "A greeting."}
    ]


def test_invalid_tool_call_goes_back_verbatim() -> None:
    message = AIMessage("", invalid_tool_calls=[{"name": "f", "args": "{oops", "id": "c9", "error": "bad"}])
    assert messages_to_wire([message])[0]["tool_calls"] == [
        {"id": "c9", "type": "function", "function": {"name": "f", "arguments": "{oops"}}
    ]


def test_tool_message_contents() -> None:
    text_list = ToolMessage(content=[{"type": "text", "text": "a"}, "b"], tool_call_id="1")
    other = ToolMessage(content=[{"type": "json", "json": {"x": "é"}}], tool_call_id="2")
    error = ToolMessage("Error: missing 'b'", tool_call_id="3", status="error")
    wire = messages_to_wire([text_list, other, error])
    assert wire[0]["content"] == "ab"
    assert json.loads(wire[1]["content"]) == [{"type": "json", "json": {"x": "é"}}]
    assert "é" in wire[1]["content"]
    assert wire[2] == {"role": "tool", "tool_call_id": "3", "content": "Error: missing 'b'"}


def test_non_text_blocks_stay_parts_for_the_core_to_refuse() -> None:
    image = {"type": "image", "url": "https://example.com/b.png"}
    message = HumanMessage(content=[{"type": "text", "text": "What is this?"}, image])
    assert messages_to_wire([message])[0]["content"] == [{"type": "text", "text": "What is this?"}, image]


def test_unsupported_messages_raise() -> None:
    with pytest.raises(ValueError, match="FunctionMessage"):
        messages_to_wire([FunctionMessage(name="f", content="x")])
    with pytest.raises(ValueError, match="role 'critic'"):
        messages_to_wire([ChatMessage(role="critic", content="x")])


@pytest.mark.parametrize(
    ("choice", "wire"),
    [
        ("auto", "auto"),
        ("none", "none"),
        ("any", "required"),
        ("required", "required"),
        (True, {"type": "function", "function": {"name": "add"}}),
        (False, "none"),
        ("add", {"type": "function", "function": {"name": "add"}}),
        ({"type": "function", "function": {"name": "add"}}, {"type": "function", "function": {"name": "add"}}),
        ({"type": "tool", "name": "add"}, {"type": "function", "function": {"name": "add"}}),
        ({"name": "add"}, {"type": "function", "function": {"name": "add"}}),
        (None, None),
    ],
)
def test_tool_choice_forms(choice: object, wire: object) -> None:
    assert tool_choice_to_wire(choice, ["add"]) == wire


def test_tool_choice_true_with_several_tools_requires_a_call() -> None:
    assert tool_choice_to_wire(True, ["add", "mul"]) == "required"


@pytest.mark.parametrize("choice", ["subtract", {"type": "function", "function": {"name": "nope"}}, 3, {"x": 1}])
def test_bad_tool_choice_raises(choice: object) -> None:
    with pytest.raises(ValueError, match="tool_choice"):
        tool_choice_to_wire(choice, ["add"])


def test_usage_details_only_when_reported() -> None:
    assert usage_from_wire(None) is None
    plain = usage_from_wire(Usage(prompt_tokens=3, completion_tokens=4, total_tokens=7))
    assert plain == {"input_tokens": 3, "output_tokens": 4, "total_tokens": 7}
    detailed = usage_from_wire(
        Usage.model_validate(
            {
                "prompt_tokens": 100,
                "completion_tokens": 50,
                "total_tokens": 150,
                "prompt_tokens_details": {"cached_tokens": 40},
                "completion_tokens_details": {"reasoning_tokens": 30},
            }
        )
    )
    assert detailed == {
        "input_tokens": 100,
        "output_tokens": 50,
        "total_tokens": 150,
        "input_token_details": {"cache_read": 40},
        "output_token_details": {"reasoning": 30},
    }


def test_message_from_wire_keeps_bad_arguments_as_invalid_calls() -> None:
    completion = ChatCompletion.model_validate(
        {
            "id": "x1",
            "model": "glm-5.2",
            "choices": [
                {
                    "finish_reason": "tool_calls",
                    "message": {
                        "content": "",
                        "tool_calls": [
                            {"id": "a", "function": {"name": "f", "arguments": '{"q": "日本"}'}},
                            {"id": "b", "function": {"name": "g", "arguments": "{not json"}},
                            {"id": "c", "function": {"name": "h", "arguments": "[1]"}},
                            {"id": "d", "function": {"name": "k", "arguments": ""}},
                        ],
                    },
                }
            ],
        }
    )
    message = message_from_wire(completion, "glm-5.2")
    assert [(c["name"], c["args"]) for c in message.tool_calls] == [("f", {"q": "日本"}), ("k", {})]
    assert [c["name"] for c in message.invalid_tool_calls] == ["g", "h"]
    assert message.response_metadata == {
        "model_name": "glm-5.2",
        "finish_reason": "tool_calls",
        "id": "x1",
        "model_provider": "anyfast",
    }
    assert message.usage_metadata is None
    first_only = message_from_wire(completion, "glm-5.2", first_call_only=True)
    assert [c["name"] for c in first_only.tool_calls] == ["f"]
    assert first_only.invalid_tool_calls == []


def test_chunks_from_wire() -> None:
    reasoning = chunk_from_wire(StreamDelta(reasoning="Hm"))
    assert reasoning is not None
    assert isinstance(reasoning.message, AIMessageChunk)
    assert reasoning.message.content == ""
    assert reasoning.message.additional_kwargs == {"reasoning_content": "Hm"}
    assert reasoning.message.response_metadata == {"model_provider": "anyfast"}
    text = chunk_from_wire(StreamDelta(content="Hi"))
    assert text is not None
    assert text.text == "Hi"
    assert text.message.additional_kwargs == {}
    calls = chunk_from_wire(
        StreamDelta(tool_calls=[ToolCallFragment(0, "c0", "add", '{"a"'), ToolCallFragment(1, "c1", "mul", "")])
    )
    assert calls is not None
    assert [(c["index"], c["name"], c["args"]) for c in calls.message.tool_call_chunks] == [
        (0, "add", '{"a"'),
        (1, "mul", None),
    ]
    only_first = chunk_from_wire(StreamDelta(tool_calls=[ToolCallFragment(1, None, None, "1}")]), first_call_only=True)
    assert only_first is None


def test_last_chunk_carries_the_metadata_once() -> None:
    completion = ChatCompletion.model_validate(
        {
            "id": "x",
            "model": "glm-5.2",
            "choices": [{"finish_reason": "stop", "message": {"content": "Hi"}}],
            "usage": {"prompt_tokens": 1, "completion_tokens": 2, "total_tokens": 3},
        }
    )
    last = last_chunk_from_wire(completion, "glm-5.2")
    assert last.message.chunk_position == "last"
    assert last.message.content == ""
    assert last.message.response_metadata["finish_reason"] == "stop"
    assert last.message.usage_metadata == {"input_tokens": 1, "output_tokens": 2, "total_tokens": 3}


@pytest.mark.parametrize("quick", [True, False], ids=["quick", "model_construct"])
@pytest.mark.parametrize("delta", [StreamDelta(content="Hi"), StreamDelta(reasoning="Hm"), StreamDelta("a", "b")])
def test_fast_chunks_equal_validated_ones(delta: StreamDelta, quick: bool, monkeypatch: pytest.MonkeyPatch) -> None:
    # Both ways of building a chunk (the quick one, and model_construct when langchain-core's fields
    # differ from what the adapter knows) give what the validated constructor gives.
    from langchain_core.outputs import ChatGenerationChunk

    from langchain_anyfast import _convert

    if quick and not (_convert._build_message.fast and _convert._build_generation.fast):
        pytest.skip("this langchain-core's fields differ from the adapter's: model_construct only")
    monkeypatch.setattr(_convert._build_message, "fast", quick)
    monkeypatch.setattr(_convert._build_generation, "fast", quick)
    fast = chunk_from_wire(delta, message_id="chatcmpl-1")
    assert fast is not None
    additional_kwargs = {"reasoning_content": delta.reasoning} if delta.reasoning else {}
    validated = ChatGenerationChunk(
        message=AIMessageChunk(
            content=delta.content,
            additional_kwargs=additional_kwargs,
            response_metadata={"model_provider": "anyfast"},
            id="chatcmpl-1",
        )
    )
    assert fast == validated
    assert fast.message.model_dump() == validated.message.model_dump()
    assert fast.message.model_fields_set == validated.message.model_fields_set
    assert fast.model_fields_set == validated.model_fields_set
    merged = fast + validated
    assert merged.message.content == delta.content * 2
    from langchain_core.load import dumpd

    assert dumpd(fast) == dumpd(validated)
    assert pickle.loads(pickle.dumps(fast)) == validated
    assert copy.deepcopy(fast) == validated


def test_shared_empty_lists_of_plain_chunks_never_leak() -> None:
    # Text and reasoning chunks share their empty tool-call lists (one container fewer per chunk for
    # langchain-core's stream loop to keep): merging must copy them, and changing them must not
    # reach other chunks.
    chunks = [chunk_from_wire(StreamDelta(reasoning="Hm")), chunk_from_wire(StreamDelta(content="Hi"))]
    tool = chunk_from_wire(StreamDelta(tool_calls=[ToolCallFragment(0, "c0", "add", '{"a": 1}')]))
    later = chunk_from_wire(StreamDelta(content="later"))
    assert None not in chunks
    assert tool is not None
    assert later is not None
    plain = [c.message for c in chunks if c is not None]
    merged = plain[0] + plain[1:] + tool.message
    assert merged.tool_calls == [{"name": "add", "args": {"a": 1}, "id": "c0", "type": "tool_call"}]
    merged.tool_calls.append(merged.tool_calls[0])
    merged.invalid_tool_calls.append({"type": "invalid_tool_call", "name": "x", "args": "", "id": None, "error": None})
    text_only = plain[0] + plain[1:]
    text_only.tool_call_chunks.append(tool.message.tool_call_chunks[0])
    text_only.tool_calls.append(merged.tool_calls[0])
    final = AIMessage(**{k: v for k, v in plain[1].__dict__.items() if k != "type"})
    final.tool_calls.append(merged.tool_calls[0])
    for message in [*plain, later.message]:
        assert (message.tool_calls, message.invalid_tool_calls, message.tool_call_chunks) == ([], [], [])
    with pytest.raises(TypeError, match="shared"):
        plain[1].tool_calls.append(merged.tool_calls[0])
    with pytest.raises(TypeError, match="shared"):
        plain[1].tool_call_chunks += [tool.message.tool_call_chunks[0]]
    plain[1].tool_calls = [merged.tool_calls[0]]  # assigning a new list is fine, and stays local
    assert plain[0].tool_calls == []
