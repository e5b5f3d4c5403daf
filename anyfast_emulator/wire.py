"""An :class:`~anyfast_emulator.answer.Answer` on the wire: JSON bodies and SSE events, in the two
stream dialects seen in the wild. Pure functions over plain data.

``glm`` (what real GLM traffic looks like): no ``object`` in chunks, ``role`` repeated on every delta,
one-token reasoning deltas, each tool call whole in one chunk (the first one carrying
``finish_reason``), and ``usage`` in the final chunk whose ``choices`` are not empty.

``openai`` (what AnyFast's gateway may add): ``object: chat.completion.chunk``, ``role`` on the first
delta only, ``finish_reason: null`` until the finish chunk, then a separate ``choices: []`` chunk with
``usage`` when ``stream_options.include_usage`` is set.

>>> from anyfast_emulator.answer import Answer
>>> events = stream_events(Answer(id="x", model="glm-5.2", content="Hi"), WireOptions())
>>> events[-1]
b'data: [DONE]\\n\\n'
"""

from __future__ import annotations

import json
from dataclasses import dataclass, replace
from typing import Any, Literal

from anyfast_emulator.answer import Answer, PlannedCall
from anyfast_emulator.tokens import pieces

CREATED = 1767225600
"""The fixed ``created`` timestamp (2026-01-01T00:00:00Z): bodies carry no wall-clock time."""

Dialect = Literal["glm", "openai"]
DIALECTS: tuple[str, ...] = ("glm", "openai")
DONE_EVENT = b"data: [DONE]\n\n"


@dataclass(frozen=True, slots=True)
class WireOptions:
    """How to write one answer.

    ``tool_stream`` fragments tool-call arguments; ``include_usage`` adds the OpenAI-style usage chunk
    (the GLM dialect always reports usage in its finish chunk); ``reasoning_tokens`` adds
    ``completion_tokens_details``; ``glm_newlines`` reproduces GLM's leading ``"\\n"`` content deltas
    (``"\\n\\n"`` before non-streamed content). Carriers seen from other upstreams and gateways:
    ``reasoning_field`` names the reasoning's key (``reasoning`` instead of ``reasoning_content``),
    ``think_tags`` inlines it at the start of the content as ``<think>…</think>``, and ``fresh_tool_ids``
    gives every tool-call argument fragment a new ``id``.
    """

    dialect: Dialect = "glm"
    tool_stream: bool = False
    include_usage: bool = False
    reasoning_tokens: bool = False
    glm_newlines: bool = False
    reasoning_field: str = "reasoning_content"
    think_tags: bool = False
    fresh_tool_ids: bool = False


def usage_body(answer: Answer, options: WireOptions) -> dict[str, Any]:
    usage: dict[str, Any] = {
        "prompt_tokens": answer.prompt_tokens,
        "completion_tokens": answer.completion_tokens,
        "total_tokens": answer.total_tokens,
        "prompt_tokens_details": {"cached_tokens": answer.cached_tokens},
    }
    if options.reasoning_tokens:
        usage["completion_tokens_details"] = {"reasoning_tokens": answer.reasoning_tokens}
    return usage


def _tool_call(call: PlannedCall, index: int) -> dict[str, Any]:
    return {
        "id": call.id,
        "index": index,
        "type": "function",
        "function": {"name": call.name, "arguments": call.arguments},
    }


def inline_reasoning(answer: Answer, options: WireOptions) -> Answer:
    """With ``think_tags``: the reasoning moved into the content as a leading ``<think>…</think>`` block.

    >>> inline_reasoning(Answer(id="x", model="m", reasoning="Hm.", content="Hi"), WireOptions(think_tags=True)).content
    '<think>Hm.</think>Hi'
    """
    if not options.think_tags or not answer.reasoning:
        return answer
    return replace(answer, content=f"<think>{answer.reasoning}</think>{answer.content}", reasoning="")


def completion_body(answer: Answer, options: WireOptions) -> dict[str, Any]:
    """The non-streaming response body."""
    glm = options.dialect == "glm"
    answer = inline_reasoning(answer, options)
    content: str | None = answer.content
    if glm and options.glm_newlines and (answer.content or answer.tool_calls):
        content = "\n\n" + answer.content
    if not glm and not content and answer.tool_calls:
        content = None  # OpenAI sends null beside tool calls
    message: dict[str, Any] = {"role": "assistant", "content": content}
    if answer.reasoning:
        message[options.reasoning_field] = answer.reasoning
    if answer.tool_calls:
        message["tool_calls"] = [_tool_call(c, i) for i, c in enumerate(answer.tool_calls)]
    body: dict[str, Any] = {
        "id": answer.id,
        "object": "chat.completion",
        "created": CREATED,
        "model": answer.model,
        "choices": [{"index": 0, "message": message, "finish_reason": answer.finish_reason}],
        "usage": usage_body(answer, options),
    }
    if glm:
        body["request_id"] = answer.id
    return body


def stream_chunks(answer: Answer, options: WireOptions) -> list[dict[str, Any]]:
    """The chunk dicts of a streamed answer, in order (``[DONE]`` not included)."""
    glm = options.dialect == "glm"
    answer = inline_reasoning(answer, options)
    head: dict[str, Any] = {"id": answer.id} if glm else {"id": answer.id, "object": "chat.completion.chunk"}
    head.update(created=CREATED, model=answer.model)
    chunks: list[dict[str, Any]] = []
    first = True
    # OpenAI puts "usage": null on every chunk but the last when usage was asked for.
    null_usage: dict[str, Any] = {"usage": None} if not glm and options.include_usage else {}

    def delta(fields: dict[str, Any], finish_reason: str | None = None, role: bool = True) -> None:
        nonlocal first
        body: dict[str, Any] = {}
        if (glm and role) or (not glm and first):
            body["role"] = "assistant"
        body.update(fields)
        choice: dict[str, Any] = {"index": 0, "delta": body}
        if finish_reason is not None or not glm:
            choice["finish_reason"] = finish_reason
        chunks.append({**head, "choices": [choice], **null_usage})
        first = False

    if glm and options.glm_newlines:
        delta({"content": "\n"})
    elif not glm:
        delta({"content": ""})
    for piece in pieces(answer.reasoning):
        delta({options.reasoning_field: piece})
    if glm and options.glm_newlines and answer.reasoning and (answer.content or answer.tool_calls):
        delta({"content": "\n"})
    for piece in pieces(answer.content):
        delta({"content": piece})
    for index, call in enumerate(answer.tool_calls):
        if options.tool_stream:
            opening = _tool_call(call, index)
            opening["function"] = {"name": call.name, "arguments": ""}
            delta({"tool_calls": [opening]}, role=False)
            for n, piece in enumerate(pieces(call.arguments), 1):
                fragment: dict[str, Any] = {"index": index, "function": {"arguments": piece}}
                if options.fresh_tool_ids:
                    fragment = {"index": index, "id": f"{call.id}_{n}", "type": "function", **fragment}
                delta({"tool_calls": [fragment]}, role=False)
        else:
            # Real GLM repeats the finish reason on the (first) whole tool-call chunk.
            finish = answer.finish_reason if glm and index == 0 else None
            delta({"tool_calls": [_tool_call(call, index)]}, finish_reason=finish, role=False)
    if glm:
        final: dict[str, Any] = {
            **head,
            "choices": [
                {"index": 0, "finish_reason": answer.finish_reason, "delta": {"role": "assistant", "content": ""}}
            ],
            "usage": usage_body(answer, options),
        }
        chunks.append(final)
    else:
        chunks.append(
            {**head, "choices": [{"index": 0, "delta": {}, "finish_reason": answer.finish_reason}], **null_usage}
        )
        if options.include_usage:
            chunks.append({**head, "choices": [], "usage": usage_body(answer, options)})
    return chunks


def encode_event(chunk: dict[str, Any]) -> bytes:
    return b"data: " + dumps(chunk) + b"\n\n"


def stream_events(answer: Answer, options: WireOptions) -> list[bytes]:
    """The SSE events of a streamed answer, ``data: [DONE]`` last."""
    return [encode_event(chunk) for chunk in stream_chunks(answer, options)] + [DONE_EVENT]


def error_body(message: str, *, type: str | None = None, code: str | None = None) -> dict[str, Any]:
    """The wire's error shape: ``{"error": {"message": ..., "type": ..., "code": ...}}``."""
    error: dict[str, Any] = {"message": message}
    if type is not None:
        error["type"] = type
    if code is not None:
        error["code"] = code
    return {"error": error}


def dumps(body: Any) -> bytes:
    return json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode()
