"""The stream accumulator: both usage dialects, whole and fragmented tool calls, the GLM quirks."""

from __future__ import annotations

import json
from typing import Any

import pytest
from core_support import chunk, recording

from anyfast_core import StreamAccumulator, ToolCallFragment


def fold(*chunks: dict[str, Any]) -> StreamAccumulator:
    acc = StreamAccumulator()
    for c in chunks:
        acc.add(c)
    return acc


def recorded_chunks(name: str) -> list[dict[str, Any]]:
    lines = recording(name).split(b"\n")
    return [json.loads(line[6:]) for line in lines if line.startswith(b"data: {")]


USAGE = {"prompt_tokens": 10, "completion_tokens": 7, "total_tokens": 17, "prompt_tokens_details": {"cached_tokens": 4}}


def test_glm_dialect_role_on_every_delta_and_usage_in_the_finish_chunk() -> None:
    acc = fold(
        chunk({"role": "assistant", "content": "\n"}),
        chunk({"role": "assistant", "reasoning_content": "Think"}),
        chunk({"role": "assistant", "reasoning_content": "ing", "content": ""}),
        chunk({"role": "assistant", "content": "Hel"}),
        chunk({"role": "assistant", "content": "lo"}),
        chunk({"role": "assistant", "content": ""}, "stop", USAGE),
    )
    result = acc.result()
    assert result.message.content == "\nHello"
    assert result.message.reasoning_content == "Thinking"
    assert result.finish_reason == "stop"
    assert result.usage is not None
    assert (result.usage.prompt_tokens, result.usage.completion_tokens, result.usage.total_tokens) == (10, 7, 17)
    assert result.usage.cached_tokens == 4
    assert result.usage.reasoning_tokens is None
    assert (result.id, result.model, result.created) == ("chatcmpl-1", "glm-5.2", 1)


def test_openai_dialect_usage_in_a_separate_chunk_with_empty_choices() -> None:
    usage = {**USAGE, "completion_tokens_details": {"reasoning_tokens": 5}}
    acc = StreamAccumulator()
    assert acc.add({"object": "chat.completion.chunk", **chunk({"role": "assistant"})}) is None
    assert acc.add(chunk({"content": "Hi"})) is not None
    assert acc.add(chunk({}, "stop")) is None
    assert acc.add(chunk(usage=usage, choices=False)) is None
    result = acc.result()
    assert (result.message.content, result.finish_reason) == ("Hi", "stop")
    assert result.usage is not None
    assert result.usage.reasoning_tokens == 5
    assert result.usage.cached_tokens == 4


def test_no_usage_at_all() -> None:
    result = fold(chunk({"content": "Hi"}), chunk({}, "stop")).result()
    assert result.usage is None
    assert result.message.reasoning_content is None


def test_deltas_report_only_what_is_new() -> None:
    acc = StreamAccumulator()
    assert acc.add(chunk({"role": "assistant"})) is None
    assert acc.add(chunk({"role": "assistant", "content": ""})) is None
    delta = acc.add(chunk({"reasoning_content": "R", "content": ""}))
    assert delta is not None
    assert (delta.reasoning, delta.content, delta.tool_calls) == ("R", "", [])
    delta = acc.add(chunk({"content": "C"}))
    assert delta is not None
    assert (delta.reasoning, delta.content) == ("", "C")
    assert (acc.content, acc.reasoning) == ("C", "R")


def test_whole_tool_calls_in_one_chunk_each_parallel() -> None:
    acc = StreamAccumulator()
    add = {"id": "a", "index": 0, "type": "function", "function": {"name": "add", "arguments": "{}"}}
    mul = {"id": "b", "index": 1, "type": "function", "function": {"name": "mul", "arguments": "{}"}}
    first = acc.add(chunk({"tool_calls": [add]}, "tool_calls"))
    second = acc.add(chunk({"tool_calls": [mul]}))
    acc.add(chunk({"content": ""}, "tool_calls", USAGE))
    assert first is not None
    assert second is not None
    assert first.tool_calls == [ToolCallFragment(0, "a", "add", "{}")]
    assert second.tool_calls == [ToolCallFragment(1, "b", "mul", "{}")]
    calls = acc.result().message.tool_calls
    assert calls is not None
    assert [(c.id, c.function.name, c.function.arguments, c.index) for c in calls] == [
        ("a", "add", "{}", 0),
        ("b", "mul", "{}", 1),
    ]
    # finish_reason repeated on the tool-call chunk and the final chunk counts once.
    assert acc.result().finish_reason == "tool_calls"


def test_fragmented_tool_calls_with_tool_stream() -> None:
    acc = fold(
        chunk({"tool_calls": [{"index": 0, "id": "c1", "type": "function", "function": {"name": "weather"}}]}),
        chunk({"tool_calls": [{"index": 0, "function": {"arguments": '{"loc'}}]}),
        chunk({"tool_calls": [{"index": 1, "id": "c2", "type": "function", "function": {"name": "time"}}]}),
        chunk({"tool_calls": [{"index": 0, "function": {"arguments": 'ation": "Rome"}'}}]}),
        chunk({"tool_calls": [{"index": 1, "function": {"arguments": '{"tz": "CET"}'}}]}),
        chunk({}, "tool_calls"),
    )
    calls = acc.tool_calls()
    assert [(c.id, c.function.name, json.loads(c.function.arguments)) for c in calls] == [
        ("c1", "weather", {"location": "Rome"}),
        ("c2", "time", {"tz": "CET"}),
    ]


def test_fragment_deltas_name_only_the_first_piece() -> None:
    acc = StreamAccumulator()
    first = acc.add(chunk({"tool_calls": [{"index": 0, "id": "c1", "function": {"name": "f", "arguments": ""}}]}))
    later = acc.add(chunk({"tool_calls": [{"index": 0, "function": {"arguments": "{}"}}]}))
    assert first is not None
    assert later is not None
    assert first.tool_calls == [ToolCallFragment(0, "c1", "f", "")]
    assert later.tool_calls == [ToolCallFragment(0, None, None, "{}")]


def test_index_reused_with_a_new_id_is_a_new_call() -> None:
    acc = fold(
        chunk({"tool_calls": [{"index": 0, "id": "a", "function": {"name": "f", "arguments": '{"x": 1}'}}]}),
        chunk({"tool_calls": [{"index": 0, "id": "b", "function": {"name": "g", "arguments": '{"y"'}}]}),
        chunk({"tool_calls": [{"index": 0, "function": {"arguments": ": 2}"}}]}),
    )
    assert [(c.id, c.function.name, c.function.arguments, c.index) for c in acc.tool_calls()] == [
        ("a", "f", '{"x": 1}', 0),
        ("b", "g", '{"y": 2}', 1),
    ]


def test_a_fresh_id_on_every_fragment_stays_one_call() -> None:
    """Some GLM servers put a new id on every argument fragment of one call (same index, name only on
    the first): a new call starts with a new index or a new name, not with a new id."""
    pieces = ['{"loc', 'ation": "Flo', 'rence"', "}"]
    acc = fold(
        chunk({"tool_calls": [{"index": 0, "id": "call_1", "type": "function",
                               "function": {"name": "weather", "arguments": ""}}]}),
        *[chunk({"tool_calls": [{"index": 0, "id": f"call_{n}", "function": {"arguments": piece}}]})
          for n, piece in enumerate(pieces, start=2)],
        chunk({}, "tool_calls"),
    )  # fmt: skip
    (call,) = acc.result().message.tool_calls or []
    assert (call.id, call.function.name, call.function.arguments) == ("call_1", "weather", '{"location": "Florence"}')


def test_a_new_name_at_a_used_index_is_a_new_call() -> None:
    acc = fold(
        chunk({"tool_calls": [{"index": 0, "function": {"name": "add", "arguments": '{"a": 1}'}}]}),
        chunk({"tool_calls": [{"index": 0, "function": {"name": "multiply", "arguments": '{"b": 2}'}}]}),
    )
    assert [(c.function.name, c.function.arguments) for c in acc.tool_calls()] == [
        ("add", '{"a": 1}'),
        ("multiply", '{"b": 2}'),
    ]


def test_reasoning_field_is_reasoning() -> None:
    acc = fold(chunk({"reasoning": "Hm, "}), chunk({"reasoning": "easy."}), chunk({"content": "4"}, "stop"))
    assert (acc.result().message.reasoning_content, acc.result().message.content) == ("Hm, easy.", "4")


def test_reasoning_content_wins_over_a_duplicate_reasoning_field() -> None:
    acc = fold(chunk({"reasoning_content": "Hm.", "reasoning": "Hm."}), chunk({"content": "4"}, "stop"))
    assert acc.result().message.reasoning_content == "Hm."


def test_inlined_think_block_is_reasoning_split_anywhere() -> None:
    text = '<think>The user wants {"a": 1}.</think>\n\n{"b": 2}'
    for size in range(1, len(text) + 1):
        acc = StreamAccumulator()
        deltas = [acc.add(chunk({"content": text[i : i + size]})) for i in range(0, len(text), size)]
        tail = acc.finish()
        shown = [d for d in [*deltas, tail] if d is not None]
        message = acc.result().message
        assert (message.reasoning_content, message.content) == ('The user wants {"a": 1}.', '{"b": 2}'), size
        assert "".join(d.content for d in shown) == '{"b": 2}'
        assert "".join(d.reasoning for d in shown) == 'The user wants {"a": 1}.'


def test_same_id_repeated_on_fragments_stays_one_call() -> None:
    acc = fold(
        chunk({"tool_calls": [{"index": 0, "id": "a", "function": {"name": "f", "arguments": "{"}}]}),
        chunk({"tool_calls": [{"index": 0, "id": "a", "function": {"arguments": "}"}}]}),
    )
    assert [(c.id, c.function.arguments) for c in acc.tool_calls()] == [("a", "{}")]


def test_missing_index_falls_back_to_position_and_object_arguments_become_json() -> None:
    acc = fold(
        chunk(
            {
                "tool_calls": [
                    {"id": "a", "function": {"name": "f", "arguments": {"x": 1}}},
                    {"id": "b", "function": {"name": "g", "arguments": None}},
                ]
            }
        )
    )
    assert [(c.id, c.function.arguments) for c in acc.tool_calls()] == [("a", '{"x": 1}'), ("b", "")]


def test_unknown_finish_reason_passes_through() -> None:
    assert fold(chunk({"content": "x"}, "brand_new_reason")).result().finish_reason == "brand_new_reason"


def test_reasoning_only_answer_has_empty_content() -> None:
    # Recorded GLM defect: reasoning, then `stop` with no content at all.
    result = fold(chunk({"reasoning_content": "Hmm"}), chunk({"content": ""}, "stop")).result()
    assert (result.message.content, result.message.reasoning_content) == ("", "Hmm")


def test_cumulative_reads_mid_stream() -> None:
    acc = StreamAccumulator()
    for i in range(50):
        acc.add(chunk({"content": str(i % 10)}))
        assert len(acc.content) == i + 1
    assert acc.chunks == 50


@pytest.mark.parametrize(
    ("name", "content", "reasoning_start", "calls", "finish", "usage"),
    [
        (
            "zai-glm-4.5_tool_streaming.1.sse",
            "\n\n",
            "The user is asking for the weather in Florence, Italy.",
            [("call_51a97502d6444997b56fd204", "weather", {"location": "Florence,Italy"})],
            "tool_calls",
            (179, 70, 249, 43),
        ),
        (
            "zai-glm-4.5_tool_streaming.2.sse",
            "\n\nThe current weather in Florence, Italy is 40°C (104°F).",
            'The weather function returned "40 C"',
            [],
            "stop",
            (207, 96, 303, 43),
        ),
        (
            "zai-glm-4.6v_multi_tool_streaming.1.sse",
            "\nI'll add and multiply the numbers 2 and 3 for you.\n",
            "\nThe user wants me to both add and multiply",
            [
                ("call_4be9c6251abb4f3fbc1956bd", "add", {"a": 2, "b": 3}),
                ("call_29207bee5b434b86830450d2", "multiply", {"a": 2, "b": 3}),
            ],
            "tool_calls",
            (282, 145, 427, 258),
        ),
        (
            "zai-glm-4.6v_multi_tool_streaming.2.sse",
            "\nThe results are:\n- **Addition**: 2 + 3 = 5\n- **Multiplication**: 2 \u00d7 3 = 6",
            "\nThe results are:",
            [],
            "stop",
            (440, 73, 513, 258),
        ),
    ],
)
def test_recorded_glm_streams(
    name: str,
    content: str,
    reasoning_start: str,
    calls: list[tuple[str, str, dict[str, Any]]],
    finish: str,
    usage: tuple[int, int, int, int],
) -> None:
    result = fold(*recorded_chunks(name)).result()
    assert result.message.content is not None
    assert result.message.content.startswith(content)
    assert result.message.reasoning_content is not None
    assert result.message.reasoning_content.startswith(reasoning_start)
    got = [(c.id, c.function.name, json.loads(c.function.arguments)) for c in result.message.tool_calls or []]
    assert got == calls
    assert result.finish_reason == finish
    assert result.usage is not None
    assert (
        result.usage.prompt_tokens,
        result.usage.completion_tokens,
        result.usage.total_tokens,
        result.usage.cached_tokens,
    ) == usage
