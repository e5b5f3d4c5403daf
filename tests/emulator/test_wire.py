"""The wire layer: both stream dialects have the recorded shapes, and the core's own parser folds
every stream back into exactly the non-streaming answer."""

from __future__ import annotations

import json
from typing import Any

import pytest

from anyfast_core.accumulate import StreamAccumulator
from anyfast_core.response import parse_chunk
from anyfast_core.sse import DONE, SSEDecoder
from anyfast_core.types import ChatCompletion
from anyfast_emulator.answer import Answer, PlannedCall
from anyfast_emulator.heuristics.brain import think
from anyfast_emulator.wire import CREATED, WireOptions, completion_body, stream_chunks, stream_events

CALLS = (
    PlannedCall("call_a", "add", '{"a": 2, "b": 3}'),
    PlannedCall("call_m", "multiply", '{"a": 2, "b": 3}'),
)
ANSWERS = {
    "text": Answer(
        id="r1",
        model="glm-5.2",
        reasoning="Think, then speak.",
        content="Hello there!",
        prompt_tokens=9,
        completion_tokens=9,
        reasoning_tokens=5,
    ),
    "tools": Answer(
        id="r2",
        model="glm-5.2",
        reasoning="Two tools.",
        tool_calls=CALLS,
        finish_reason="tool_calls",
        prompt_tokens=20,
        completion_tokens=30,
        cached_tokens=12,
    ),
    "no_reasoning": Answer(id="r3", model="glm-5.2", content="Plain.", prompt_tokens=3, completion_tokens=2),
    "unicode": Answer(
        id="r4",
        model="glm-5.2",
        content="你好, “quotes” and émoji 🎉",
        tool_calls=(PlannedCall("c", "f", '{"名": "值"}'),),
        finish_reason="tool_calls",
    ),
}

OPTIONS = [
    WireOptions(dialect="glm"),
    WireOptions(dialect="glm", tool_stream=True),
    WireOptions(dialect="glm", glm_newlines=True, reasoning_tokens=True),
    WireOptions(dialect="openai", include_usage=True),
    WireOptions(dialect="openai", include_usage=True, tool_stream=True),
    WireOptions(dialect="openai", include_usage=False),
]


def fold(events: list[bytes]) -> ChatCompletion:
    decoder, accumulator = SSEDecoder(), StreamAccumulator()
    payloads = decoder.feed(b"".join(events)) + decoder.flush()
    assert payloads[-1] == DONE
    for payload in payloads[:-1]:
        accumulator.add(parse_chunk(payload))
    return accumulator.result()


def essentials(completion: ChatCompletion, *, strip_newlines: bool = False) -> dict[str, Any]:
    message = completion.message
    content = message.content or ""
    return {
        "content": content.lstrip("\n") if strip_newlines else content,
        "reasoning": message.reasoning_content or None,
        "calls": [(c.id, c.function.name, json.loads(c.function.arguments)) for c in message.tool_calls or ()],
        "finish": completion.finish_reason,
        "usage": completion.usage.model_dump(exclude_none=True) if completion.usage else None,
    }


@pytest.mark.parametrize(
    "options",
    OPTIONS,
    ids=lambda o: f"{o.dialect}-ts{int(o.tool_stream)}-u{int(o.include_usage)}-n{int(o.glm_newlines)}",
)
@pytest.mark.parametrize("kind", list(ANSWERS))
def test_core_parser_folds_every_stream_into_the_whole_answer(kind: str, options: WireOptions) -> None:
    answer = ANSWERS[kind]
    whole = ChatCompletion.model_validate(completion_body(answer, options))
    streamed = fold(stream_events(answer, options))
    expected = essentials(whole, strip_newlines=options.glm_newlines)
    if options.dialect == "openai" and not options.include_usage:
        expected["usage"] = None
    assert essentials(streamed, strip_newlines=options.glm_newlines) == expected
    assert streamed.id == answer.id
    assert streamed.created == CREATED


def test_glm_dialect_shape() -> None:
    chunks = stream_chunks(ANSWERS["tools"], WireOptions(dialect="glm"))
    assert all("object" not in c for c in chunks)
    deltas = [c["choices"][0]["delta"] for c in chunks]
    assert all(d.get("role") == "assistant" for d in deltas if "tool_calls" not in d)
    reasoning = [d["reasoning_content"] for d in deltas if "reasoning_content" in d]
    assert reasoning == ["Two", " tools", "."]  # one token per delta
    calls = [c for c in chunks if "tool_calls" in c["choices"][0]["delta"]]
    assert [len(c["choices"][0]["delta"]["tool_calls"]) for c in calls] == [1, 1]  # each call whole, alone
    assert calls[0]["choices"][0]["finish_reason"] == "tool_calls"  # repeated on the first call, as recorded
    assert "finish_reason" not in calls[1]["choices"][0]
    final = chunks[-1]
    assert final["choices"]
    assert final["choices"][0]["finish_reason"] == "tool_calls"
    assert final["usage"]["prompt_tokens_details"] == {"cached_tokens": 12}


def test_openai_dialect_shape() -> None:
    chunks = stream_chunks(ANSWERS["text"], WireOptions(dialect="openai", include_usage=True))
    assert all(c["object"] == "chat.completion.chunk" for c in chunks)
    roles = [c["choices"][0]["delta"].get("role") for c in chunks if c["choices"]]
    assert roles[0] == "assistant"
    assert not any(roles[1:])
    assert chunks[-2]["choices"][0] == {"index": 0, "delta": {}, "finish_reason": "stop"}
    assert chunks[-1]["choices"] == []
    assert chunks[-1]["usage"]["total_tokens"] == 18
    assert all("usage" not in c for c in stream_chunks(ANSWERS["text"], WireOptions(dialect="openai")))


def test_fragmented_tool_calls() -> None:
    chunks = stream_chunks(ANSWERS["tools"], WireOptions(tool_stream=True))
    fragments = [c["choices"][0]["delta"]["tool_calls"][0] for c in chunks if "tool_calls" in c["choices"][0]["delta"]]
    opening = fragments[0]
    assert opening == {"id": "call_a", "index": 0, "type": "function", "function": {"name": "add", "arguments": ""}}
    assert all(set(f) == {"index", "function"} for f in fragments[1:] if "id" not in f)
    first_call = "".join(f["function"]["arguments"] for f in fragments if f["index"] == 0)
    assert first_call == '{"a": 2, "b": 3}'


def test_non_streaming_bodies() -> None:
    glm = completion_body(ANSWERS["tools"], WireOptions(dialect="glm", glm_newlines=True))
    assert glm["request_id"] == glm["id"]
    assert glm["choices"][0]["message"]["content"] == "\n\n"
    assert glm["choices"][0]["message"]["tool_calls"][1]["index"] == 1
    openai = completion_body(ANSWERS["tools"], WireOptions(dialect="openai"))
    assert "request_id" not in openai
    assert openai["choices"][0]["message"]["content"] is None
    no_reasoning = completion_body(ANSWERS["no_reasoning"], WireOptions())
    assert "reasoning_content" not in no_reasoning["choices"][0]["message"]
    detailed = completion_body(ANSWERS["text"], WireOptions(reasoning_tokens=True))
    assert detailed["usage"]["completion_tokens_details"] == {"reasoning_tokens": 5}


def test_recorded_request_gets_the_recorded_kind_of_answer() -> None:
    """The recorded GLM request (two tools, "use both") gets the recorded calls, in a recorded-shaped stream."""
    request = {
        "model": "glm-4.6v",
        "messages": [
            {
                "role": "system",
                "content": "You are a helpful assistant. Always use both add and multiply at the same time.",
            },
            {"role": "user", "content": "Add and multiply the number 2 and 3"},
        ],
        "tools": [
            {
                "type": "function",
                "function": {
                    "name": n,
                    "description": f"{n} two numbers",
                    "parameters": {
                        "type": "object",
                        "properties": {"a": {"type": "integer"}, "b": {"type": "integer"}},
                        "required": ["a", "b"],
                    },
                },
            }
            for n in ("add", "multiply")
        ],
        "stream": True,
        "stream_options": {"include_usage": True},
    }
    answer = think(request)
    streamed = fold(stream_events(answer, WireOptions()))
    calls = [(c.function.name, c.function.arguments) for c in streamed.message.tool_calls or ()]
    assert calls == [("add", '{"a": 2, "b": 3}'), ("multiply", '{"a": 2, "b": 3}')]
    assert streamed.model == "glm-4.6v"
