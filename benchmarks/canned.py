"""The canned responses the benchmark server sends, built deterministically as bytes.

Pure functions: the server process and the runner build the same bytes independently, so the runner
can feed a framework's do-nothing model exactly the chunks the server streams.

Scenarios (the first path segment of a base URL, e.g. ``http://127.0.0.1:PORT/s2k/v1``):

- ``json``: one non-streaming completion with reasoning, content and usage;
- ``s2k`` / ``s20k``: a GLM-style stream of 2 000 / 20 000 chunks, reasoning first then content, the
  last chunk carrying ``finish_reason`` and ``usage`` (GLM style), then ``data: [DONE]``;
- ``short``: one non-streaming completion of a few words, no reasoning (a label, as a classifier
  answers: the throughput benchmark's call);
- ``tool``: reasoning, then one tool call streamed in fragments (``tool_stream`` style: id and name
  first, then pieces of the arguments), then ``finish_reason: tool_calls`` with usage.
"""

from __future__ import annotations

import json
from typing import Any

MODEL = "glm-5.2"
COMPLETION_ID = "20261125164500bench0000000000000"
CREATED = 1764089100
TOOL_NAME = "get_weather"
TOOL_CALL_ID = "call_bench_0001"

_WORDS = (
    "the", "user", "asks", "about", "weather", "in", "Florence", "so", "I", "should", "check", "the",
    "forecast", "and", "answer", "with", "a", "short", "summary", "of", "temperature", "wind", "and",
    "rain", "for", "today", "and", "tomorrow", "keeping", "it", "friendly", "and", "precise",
)  # fmt: skip

STREAM_SIZES = {"s2k": 2_000, "s20k": 20_000}
TOOL_REASONING_CHUNKS = 50
TOOL_ARGUMENT_FRAGMENTS = 300


def _word(i: int) -> str:
    return " " + _WORDS[i % len(_WORDS)]


def _chunk(
    delta: dict[str, Any], finish_reason: str | None = None, usage: dict[str, Any] | None = None
) -> dict[str, Any]:
    choice: dict[str, Any] = {"index": 0, "delta": {"role": "assistant", **delta}}
    if finish_reason:
        choice["finish_reason"] = finish_reason
    chunk: dict[str, Any] = {"id": COMPLETION_ID, "created": CREATED, "model": MODEL, "choices": [choice]}
    if usage:
        chunk["usage"] = usage
    return chunk


def _usage(completion_tokens: int) -> dict[str, Any]:
    return {
        "prompt_tokens": 42,
        "completion_tokens": completion_tokens,
        "total_tokens": 42 + completion_tokens,
        "prompt_tokens_details": {"cached_tokens": 8},
    }


def stream_chunks(n: int) -> list[dict[str, Any]]:
    """``n`` chunks: the first half reasoning, then content, the last one finishing with usage."""
    half = n // 2
    chunks = [_chunk({"reasoning_content": _word(i)}) for i in range(half)]
    chunks += [_chunk({"content": _word(i)}) for i in range(half, n - 1)]
    chunks.append(_chunk({"content": "."}, finish_reason="stop", usage=_usage(n)))
    return chunks


def tool_arguments() -> str:
    """The tool call's arguments as the JSON string the fragments concatenate to."""
    notes = "".join(_word(i) for i in range(TOOL_ARGUMENT_FRAGMENTS * 4 // 6))
    return json.dumps({"location": "Florence, Italy", "unit": "celsius", "notes": notes.strip()})


def tool_chunks() -> list[dict[str, Any]]:
    chunks = [_chunk({"reasoning_content": _word(i)}) for i in range(TOOL_REASONING_CHUNKS)]
    first = {"index": 0, "id": TOOL_CALL_ID, "type": "function", "function": {"name": TOOL_NAME, "arguments": ""}}
    chunks.append(_chunk({"tool_calls": [first]}))
    arguments = tool_arguments()
    size = -(-len(arguments) // TOOL_ARGUMENT_FRAGMENTS)
    for start in range(0, len(arguments), size):
        piece = arguments[start : start + size]
        chunks.append(_chunk({"tool_calls": [{"index": 0, "function": {"arguments": piece}}]}))
    chunks.append(_chunk({}, finish_reason="tool_calls", usage=_usage(len(chunks))))
    return chunks


def completion() -> dict[str, Any]:
    """The non-streaming answer: reasoning and content of a few hundred words, with usage."""
    message = {
        "role": "assistant",
        "reasoning_content": "".join(_word(i) for i in range(300)).strip(),
        "content": "".join(_word(i) for i in range(150)).strip(),
    }
    return _completion(message, _usage(450))


SHORT_ANSWER = "billing"


def short_completion() -> dict[str, Any]:
    """The throughput benchmark's answer: a one-word label with usage, no reasoning."""
    message = {"role": "assistant", "content": SHORT_ANSWER}
    return _completion(message, {"prompt_tokens": 24, "completion_tokens": 1, "total_tokens": 25})


def _completion(message: dict[str, Any], usage: dict[str, Any]) -> dict[str, Any]:
    """A whole answer around ``message``, finished with ``stop``."""
    return {
        "id": COMPLETION_ID,
        "object": "chat.completion",
        "created": CREATED,
        "model": MODEL,
        "choices": [{"index": 0, "finish_reason": "stop", "message": message}],
        "usage": usage,
    }


def encode_sse(chunks: list[dict[str, Any]]) -> bytes:
    """Chunks as an SSE body, compact JSON like the real server, ending in ``data: [DONE]``."""
    events = [b"data: " + json.dumps(c, separators=(",", ":")).encode() + b"\n\n" for c in chunks]
    return b"".join(events) + b"data: [DONE]\n\n"


def scenario_chunks(scenario: str) -> list[dict[str, Any]]:
    """The chunks a streaming scenario sends (for the frameworks' do-nothing models)."""
    if scenario == "tool":
        return tool_chunks()
    return stream_chunks(STREAM_SIZES[scenario])


def bodies() -> dict[str, tuple[bytes, bytes]]:
    """Every scenario's ``(content type, body)``."""
    out = {
        "json": (b"application/json", json.dumps(completion(), separators=(",", ":")).encode()),
        "short": (b"application/json", json.dumps(short_completion(), separators=(",", ":")).encode()),
    }
    for name in (*STREAM_SIZES, "tool"):
        out[name] = (b"text/event-stream", encode_sse(scenario_chunks(name)))
    return out
