"""The pure LlamaIndex <-> wire converters, without I/O."""

from __future__ import annotations

import json

import pytest
from llama_index.core.base.llms.types import (
    CacheControl,
    CachePoint,
    ChatMessage,
    ImageBlock,
    MessageRole,
    TextBlock,
    ThinkingBlock,
    ToolCallBlock,
)

from anyfast_core import ChatCompletion, StreamAccumulator
from anyfast_core.construct import Builder
from llama_index_anyfast.utils import (
    chat_response,
    keep_first_tool_call,
    stream_chat_response,
    to_wire_message,
    to_wire_messages,
    tool_choice_param,
    tool_selections,
    usage_kwargs,
)


def test_roles_map_to_the_four_wire_roles() -> None:
    messages = [
        ChatMessage(role=MessageRole.SYSTEM, content="s"),
        ChatMessage(role=MessageRole.DEVELOPER, content="d"),
        ChatMessage(role=MessageRole.USER, content="u"),
        ChatMessage(role=MessageRole.CHATBOT, content="c"),
        ChatMessage(role=MessageRole.TOOL, content="t", additional_kwargs={"tool_call_id": "call_1"}),
    ]
    assert to_wire_messages(messages) == [
        {"role": "system", "content": "s"},
        {"role": "system", "content": "d"},
        {"role": "user", "content": "u"},
        {"role": "assistant", "content": "c"},
        {"role": "tool", "content": "t", "tool_call_id": "call_1"},
    ]


def test_assistant_reasoning_and_tool_calls_go_back() -> None:
    message = ChatMessage(
        role="assistant",
        blocks=[
            ThinkingBlock(content="I need the weather."),
            TextBlock(text="\n\n"),
            ToolCallBlock(tool_call_id="call_1", tool_name="weather", tool_kwargs={"city": "Florence"}),
            ToolCallBlock(tool_call_id="call_2", tool_name="time", tool_kwargs='{"tz": "CET"}'),
        ],
    )
    assert to_wire_message(message) == {
        "role": "assistant",
        "content": "\n\n",
        "tool_calls": [
            {"id": "call_1", "type": "function", "function": {"name": "weather", "arguments": '{"city": "Florence"}'}},
            {"id": "call_2", "type": "function", "function": {"name": "time", "arguments": '{"tz": "CET"}'}},
        ],
        "reasoning_content": "I need the weather.",
    }


def test_assistant_without_text_beside_tool_calls_sends_empty_content() -> None:
    message = ChatMessage(role="assistant", blocks=[ToolCallBlock(tool_call_id="c", tool_name="f", tool_kwargs={})])
    wire = to_wire_message(message)
    assert wire["content"] == ""
    assert wire["tool_calls"][0]["function"]["arguments"] == "{}"


def test_reasoning_from_additional_kwargs_and_legacy_tool_calls() -> None:
    message = ChatMessage(
        role="assistant",
        content="",
        additional_kwargs={
            "reasoning_content": "thought",
            "tool_calls": [{"id": "c1", "type": "function", "function": {"name": "f", "arguments": {"x": 1}}}],
        },
    )
    wire = to_wire_message(message)
    assert wire["reasoning_content"] == "thought"
    assert wire["tool_calls"] == [{"id": "c1", "type": "function", "function": {"name": "f", "arguments": '{"x": 1}'}}]


def test_thinking_only_assistant_message_keeps_empty_content() -> None:
    wire = to_wire_message(ChatMessage(role="assistant", blocks=[ThinkingBlock(content="hm")]))
    assert wire == {"role": "assistant", "content": "", "reasoning_content": "hm"}


def test_several_text_blocks_join_like_message_content() -> None:
    message = ChatMessage(
        role="user",
        blocks=[TextBlock(text="a"), CachePoint(cache_control=CacheControl(type="ephemeral")), TextBlock(text="b")],
    )
    assert to_wire_message(message) == {"role": "user", "content": message.content}


def test_media_blocks_become_parts_named_by_kind_for_the_core_to_refuse() -> None:
    message = ChatMessage(role="user", blocks=[TextBlock(text="What is this?"), ImageBlock(url="https://x.test/a.png")])
    parts = [{"type": "text", "text": "What is this?"}, {"type": "image"}]
    assert to_wire_message(message) == {"role": "user", "content": parts}


@pytest.mark.parametrize(
    ("tool_choice", "tool_required", "wire"),
    [
        (None, False, None),
        (None, True, "required"),
        ("auto", False, "auto"),
        ("none", False, "none"),
        ("required", True, "required"),
        ("lookup", False, {"type": "function", "function": {"name": "lookup"}}),
        ("lookup", True, {"type": "function", "function": {"name": "lookup"}}),
        ({"type": "function", "function": {"name": "x"}}, False, {"type": "function", "function": {"name": "x"}}),
    ],
)
def test_tool_choice_param(tool_choice: object, tool_required: bool, wire: object) -> None:
    assert tool_choice_param(tool_choice, tool_required) == wire  # type: ignore[arg-type]


@pytest.mark.parametrize("tool_choice", ["auto", "none"])
def test_tool_required_contradicting_tool_choice_raises(tool_choice: str) -> None:
    with pytest.raises(ValueError, match="contradicts"):
        tool_choice_param(tool_choice, tool_required=True)


def test_usage_kwargs_names_and_optional_details() -> None:
    completion = ChatCompletion.model_validate(
        {
            "usage": {
                "prompt_tokens": 10,
                "completion_tokens": 5,
                "total_tokens": 15,
                "prompt_tokens_details": {"cached_tokens": 4},
                "completion_tokens_details": {"reasoning_tokens": 3},
            }
        }
    )
    assert usage_kwargs(completion.usage) == {
        "prompt_tokens": 10,
        "completion_tokens": 5,
        "total_tokens": 15,
        "cached_tokens": 4,
        "reasoning_tokens": 3,
    }
    assert usage_kwargs(None) == {}


def test_chat_response_blocks_order_and_reasoning_tokens() -> None:
    completion = ChatCompletion.model_validate(
        {
            "choices": [
                {
                    "message": {
                        "content": "",
                        "reasoning_content": "think",
                        "tool_calls": [{"id": "c", "function": {"name": "f", "arguments": '{"q": "x"}'}}],
                    },
                    "finish_reason": "tool_calls",
                }
            ],
            "usage": {
                "prompt_tokens": 1,
                "completion_tokens": 2,
                "total_tokens": 3,
                "completion_tokens_details": {"reasoning_tokens": 2},
            },
        }
    )
    response = chat_response(completion)
    thinking, call = response.message.blocks
    assert isinstance(thinking, ThinkingBlock)
    assert (thinking.content, thinking.num_tokens) == ("think", 2)
    assert isinstance(call, ToolCallBlock)
    assert call.tool_kwargs == '{"q": "x"}'  # verbatim, to go back unchanged
    assert response.raw is completion
    assert response.additional_kwargs["finish_reason"] == "tool_calls"


def test_stream_piece_is_cumulative_with_answer_only_delta() -> None:
    acc = StreamAccumulator()
    acc.add({"choices": [{"delta": {"reasoning_content": "Let me "}}]})
    delta = acc.add({"choices": [{"delta": {"reasoning_content": "see."}}]})
    assert delta is not None
    piece = stream_chat_response(delta, acc, with_tool_calls=False)
    assert piece.delta == ""
    assert piece.additional_kwargs == {"thinking_delta": "see."}
    assert piece.message.blocks[0].content == "Let me see."  # type: ignore[union-attr]
    delta = acc.add({"choices": [{"delta": {"content": "Hi"}}]})
    assert delta is not None
    piece = stream_chat_response(delta, acc, with_tool_calls=False)
    assert (piece.delta, piece.message.content, piece.additional_kwargs) == ("Hi", "Hi", {})
    # Built without validation, yet a normal message: it serializes and validates like any other.
    assert ChatMessage.model_validate(piece.message.model_dump()).content == "Hi"


def test_tool_selections_tolerate_partial_and_broken_arguments() -> None:
    message = ChatMessage(
        role="assistant",
        blocks=[
            ToolCallBlock(tool_call_id="a", tool_name="f", tool_kwargs='{"city": "Florence", "days": 3'),
            ToolCallBlock(tool_call_id="b", tool_name="g", tool_kwargs="not json at all {"),
            ToolCallBlock(tool_call_id=None, tool_name="h", tool_kwargs=""),
        ],
    )
    selections = tool_selections(message)
    assert [(s.tool_id, s.tool_name) for s in selections] == [("a", "f"), ("b", "g"), ("", "h")]
    assert selections[0].tool_kwargs == {"city": "Florence", "days": 3}
    assert selections[1].tool_kwargs == {}
    assert selections[2].tool_kwargs == {}


def test_keep_first_tool_call() -> None:
    message = ChatMessage(
        role="assistant",
        blocks=[
            ThinkingBlock(content="t"),
            ToolCallBlock(tool_call_id="a", tool_name="f"),
            TextBlock(text="x"),
            ToolCallBlock(tool_call_id="b", tool_name="g"),
        ],
    )
    keep_first_tool_call(message)
    assert [type(b).__name__ for b in message.blocks] == ["ThinkingBlock", "ToolCallBlock", "TextBlock"]
    assert json.loads(json.dumps(message.model_dump()))["blocks"][1]["tool_call_id"] == "a"


@pytest.mark.parametrize("quick", [True, False], ids=["quick", "model_construct"])
def test_streamed_objects_equal_validated_ones(quick: bool, monkeypatch: pytest.MonkeyPatch) -> None:
    """The per-chunk objects are assembled without re-validation, the quick way or (when LlamaIndex's
    fields differ from what the adapter knows) with model_construct: either way they must be exactly
    what validated construction gives (every field present, same values, nothing private left unset)."""
    from llama_index_anyfast import utils
    from llama_index_anyfast.utils import stream_completion_response

    builders = [value for value in vars(utils).values() if isinstance(value, Builder)]
    assert len(builders) == 6
    if quick and not all(builder.fast for builder in builders):
        pytest.skip("this LlamaIndex's fields differ from the adapter's: model_construct only")
    for builder in builders:
        monkeypatch.setattr(builder, "fast", quick)

    acc = StreamAccumulator()
    acc.add({"choices": [{"delta": {"reasoning_content": "hm"}}]})
    acc.add({"choices": [{"delta": {"content": "Hi"}}]})
    delta = acc.add(
        {
            "choices": [
                {"delta": {"tool_calls": [{"index": 0, "id": "c", "function": {"name": "f", "arguments": '{"a"'}}]}}
            ]
        }
    )
    assert delta is not None
    piece = stream_chat_response(delta, acc, with_tool_calls=True)
    built = [piece, piece.message, *piece.message.blocks, stream_completion_response(delta, acc)]
    assert [type(o).__name__ for o in built] == [
        "ChatResponse",
        "ChatMessage",
        "ThinkingBlock",
        "TextBlock",
        "ToolCallBlock",
        "CompletionResponse",
    ]
    for obj in built:
        cls = type(obj)
        assert set(vars(obj)) == set(cls.model_fields), cls
        assert not cls.__private_attributes__, cls
        assert cls(**vars(obj)) == obj, cls  # validated construction from the same values
        assert cls.model_validate_json(obj.model_dump_json()).model_dump_json() == obj.model_dump_json(), cls
