"""Both clients against recorded GLM bodies and scripted streams: parsing, streaming, stream failures."""

from __future__ import annotations

import asyncio
import gc
import json
import logging
from collections.abc import Callable
from typing import Any

import httpx
import pytest
from core_support import (
    JSON_HEADERS,
    KEY,
    Body,
    Harness,
    chunk,
    completion_body,
    json_response,
    recording,
    request,
    sse,
    sse_response,
)

from anyfast_core import (
    AnyFastClient,
    AnyFastError,
    AsyncAnyFastClient,
    ContentFilterError,
    ContextWindowExceededError,
    MalformedResponseError,
    MissingAPIKeyError,
    QuotaExceededError,
    RateLimitError,
    StreamEventError,
    StreamInterruptedError,
    UpstreamModelError,
)

# --------------------------------------------------------------------------- non-streaming


def test_recorded_tool_call_answer(harness: Callable[..., Harness]) -> None:
    h = harness(json_response(200, recording("zai-glm-4.5_tool.1.json")))
    completion = h.chat(request(tools=[{"type": "function", "function": {"name": "weather"}}]))
    assert completion.object is None  # the recording has none
    assert completion.id == completion.request_id == "20250926190543de74b873b8e04ebc"
    assert completion.finish_reason == "tool_calls"
    message = completion.message
    assert message.content == "\n\n"
    assert message.reasoning_content is not None
    assert message.reasoning_content.startswith("The user is asking for the weather in Florence")
    assert message.tool_calls is not None
    (call,) = message.tool_calls
    assert (call.id, call.index, call.type) == ("call_-8303649628005950554", 0, "function")
    assert (call.function.name, json.loads(call.function.arguments)) == ("weather", {"location": "Florence,Italy"})
    usage = completion.usage
    assert usage is not None
    assert (usage.prompt_tokens, usage.completion_tokens, usage.total_tokens) == (179, 79, 258)
    assert usage.cached_tokens == 43
    assert usage.reasoning_tokens is None


def test_recorded_answer_after_tool_result(harness: Callable[..., Harness]) -> None:
    completion = harness(json_response(200, recording("zai-glm-4.5_tool.2.json"))).chat()
    assert completion.finish_reason == "stop"
    assert completion.message.content is not None
    assert completion.message.content.startswith("\n\nThe current weather in Florence, Italy is 40°C")
    assert completion.message.tool_calls is None
    assert completion.message.reasoning_content is not None


@pytest.mark.parametrize(
    ("patch", "check"),
    [
        ({"object": "chat.completion"}, lambda c: c.object == "chat.completion"),
        ({"request_id": "r-1"}, lambda c: c.request_id == "r-1"),
        (
            {"choices": [{"index": 0, "message": {"role": "assistant", "content": "x"}}]},
            lambda c: c.finish_reason is None,
        ),
        (
            {"choices": [{"index": 0, "finish_reason": "brand_new", "message": {"role": "assistant", "content": "x"}}]},
            lambda c: c.finish_reason == "brand_new",
        ),
        (
            {
                "usage": {
                    "prompt_tokens": 5,
                    "completion_tokens": 9,
                    "total_tokens": 14,
                    "completion_tokens_details": {"reasoning_tokens": 6},
                }
            },
            lambda c: (c.usage.reasoning_tokens, c.usage.cached_tokens) == (6, None),
        ),
        ({"usage": None}, lambda c: c.usage is None),
        ({"extra_field": {"nested": 1}}, lambda c: c.model_extra["extra_field"] == {"nested": 1}),
        (
            {
                "choices": [
                    {
                        "index": 0,
                        "finish_reason": "tool_calls",
                        "message": {
                            "role": "assistant",
                            "content": "",
                            "tool_calls": [
                                {"id": "c", "type": "function", "function": {"name": "f", "arguments": {"a": 1}}}
                            ],
                        },
                    }
                ]
            },
            lambda c: c.message.tool_calls[0].function.arguments == '{"a": 1}',
        ),
    ],
)
def test_tolerated_completion_variants(
    harness: Callable[..., Harness], patch: dict[str, Any], check: Callable[[Any], bool]
) -> None:
    body = {**completion_body(), **patch}
    assert check(harness(json_response(200, body)).chat())


def test_request_id_from_header_when_the_body_has_none(harness: Callable[..., Harness]) -> None:
    body = completion_body()
    del body["id"]
    assert harness(json_response(200, body, {"x-request-id": "hdr-1"})).chat().request_id == "hdr-1"


def test_request_on_the_wire(harness: Callable[..., Harness]) -> None:
    h = harness(json_response(200, completion_body()), default_headers={"X-Trace": "t-1"})
    h.chat(request(temperature=0.3, tool_stream=True))
    (sent,) = h.server.requests
    assert sent.method == "POST"
    assert str(sent.url) == "https://anyfast.test/v1/chat/completions"
    assert sent.headers["authorization"] == f"Bearer {KEY}"
    assert sent.headers["content-type"] == "application/json"
    assert sent.headers["accept"] == "application/json"
    assert sent.headers["x-trace"] == "t-1"
    assert sent.headers["user-agent"].startswith("anyfast-python/")
    assert h.server.bodies[0] == {
        "model": "glm-5.2",
        "messages": [{"role": "user", "content": "Hi"}],
        "temperature": 0.3,
        "stream": False,
    }


def test_stream_request_on_the_wire(harness: Callable[..., Harness]) -> None:
    h = harness(sse_response(sse(chunk({"content": "x"}, "stop"))))
    h.stream(request(tool_stream=True))
    assert h.server.requests[0].headers["accept"] == "text/event-stream"
    body = h.server.bodies[0]
    assert (body["stream"], body["tool_stream"], body["stream_options"]) == (True, True, {"include_usage": True})


def test_non_ascii_and_unserialisable_bodies(harness: Callable[..., Harness]) -> None:
    h = harness(json_response(200, completion_body()))
    h.chat(request(messages=[{"role": "user", "content": "Grüße 🌍"}]))
    assert b"Gr\xc3\xbc\xc3\x9fe" in h.server.requests[0].content  # UTF-8, not \\u escapes
    with pytest.raises(ValueError, match="not JSON-serialisable"):
        h.chat(request(messages=[{"role": "user", "content": "x", "meta": {1, 2}}]))
    with pytest.raises(ValueError, match="not JSON-serialisable"):
        h.chat(request(messages=[{"role": "user", "content": "x", "score": float("nan")}]))
    assert len(h.server.requests) == 1  # nothing invalid reached the server


# --------------------------------------------------------------------------- hard finish reasons


@pytest.mark.parametrize(
    ("reason", "cls"),
    [
        ("sensitive", ContentFilterError),
        ("model_context_window_exceeded", ContextWindowExceededError),
        ("network_error", UpstreamModelError),
    ],
)
def test_hard_finish_reasons_raise_with_the_partial(
    harness: Callable[..., Harness], reason: str, cls: type[Exception]
) -> None:
    body = completion_body("Partial answ", reason)
    with pytest.raises(cls) as info:
        harness(json_response(200, body)).chat()
    error: Any = info.value
    assert reason in error.message
    assert error.status_code == 200
    assert error.partial.message.content == "Partial answ"
    assert error.request_id == "chatcmpl-1"
    # Streams too: every delta is delivered, then the end raises.
    stream = sse(chunk({"content": "Partial "}), chunk({"content": "answ"}, reason))
    deltas, exc = harness(sse_response(stream)).stream_deltas_then_error()
    assert isinstance(exc, cls)
    assert "".join(d.content for d in deltas) == "Partial answ"
    assert exc.partial.message.content == "Partial answ"  # type: ignore[attr-defined]
    # And the caller may opt out to inspect the answer itself.
    completion = harness(json_response(200, body)).chat(raise_on_finish_reason=False)
    assert completion.finish_reason == reason
    _, completion = harness(sse_response(stream)).stream(raise_on_finish_reason=False)
    assert completion.finish_reason == reason


@pytest.mark.parametrize("reason", ["length", "stop", "something_new"])
def test_other_finish_reasons_do_not_raise(harness: Callable[..., Harness], reason: str) -> None:
    assert harness(json_response(200, completion_body("x", reason))).chat().finish_reason == reason
    _, completion = harness(sse_response(sse(chunk({"content": "x"}, reason)))).stream()
    assert completion.finish_reason == reason


# --------------------------------------------------------------------------- streaming


@pytest.mark.parametrize(
    ("name", "content_start", "calls", "usage"),
    [
        ("zai-glm-4.5_tool_streaming.1.sse", "\n\n", ["weather"], (179, 70, 249, 43)),
        ("zai-glm-4.5_tool_streaming.2.sse", "\n\nThe current weather", [], (207, 96, 303, 43)),
        (
            "zai-glm-4.6v_multi_tool_streaming.1.sse",
            "\nI'll add and multiply",
            ["add", "multiply"],
            (282, 145, 427, 258),
        ),
        ("zai-glm-4.6v_multi_tool_streaming.2.sse", "\nThe results are:", [], (440, 73, 513, 258)),
    ],
)
@pytest.mark.parametrize("piece", [None, 1, 100])
def test_recorded_streams_through_the_client(
    harness: Callable[..., Harness],
    name: str,
    content_start: str,
    calls: list[str],
    usage: tuple[int, int, int, int],
    piece: int | None,
) -> None:
    body = recording(name)
    pieces = [body] if piece is None else [body[i : i + piece] for i in range(0, len(body), piece)]
    deltas, completion = harness(sse_response(Body(pieces))).stream()
    assert completion.message.content is not None
    assert completion.message.content.startswith(content_start)
    assert "".join(d.content for d in deltas) == completion.message.content
    assert "".join(d.reasoning for d in deltas) == completion.message.reasoning_content
    # Reasoning comes first, then the answer: the order on the wire is kept.
    first_content = next((i for i, d in enumerate(deltas) if d.content.strip()), len(deltas))
    assert all(not d.reasoning for d in deltas[first_content:])
    assert [c.function.name for c in completion.message.tool_calls or []] == calls
    assert [f.name for d in deltas for f in d.tool_calls] == calls
    assert completion.usage is not None
    got = (
        completion.usage.prompt_tokens,
        completion.usage.completion_tokens,
        completion.usage.total_tokens,
        completion.usage.cached_tokens,
    )
    assert got == usage
    assert completion.request_id == completion.id != ""


def test_stream_gateway_variants(harness: Callable[..., Harness]) -> None:
    body = (
        b": PING\r\n\r\n"
        b'data:{"id":"x","choices":[{"index":0,"delta":{"role":"assistant","content":"A"}}]}\r\n\r\n'
        b": keep-alive\r\n\r\n"
        b'data: {"id":"x","object":"chat.completion.chunk","choices":[{"index":0,"delta":{"content":"B"},'
        b'"finish_reason":"stop"}]}\r\n\r\n'
        b'data: {"id":"x","choices":[],"usage":{"prompt_tokens":1,"completion_tokens":2,"total_tokens":3}}\r\n\r\n'
        b"data: [DONE]"
    )
    deltas, completion = harness(sse_response(body)).stream()
    assert [d.content for d in deltas] == ["A", "B"]
    assert completion.message.content == "AB"
    assert completion.usage is not None
    assert completion.usage.total_tokens == 3


def test_stream_without_usage(harness: Callable[..., Harness]) -> None:
    _, completion = harness(sse_response(sse(chunk({"content": "x"}), chunk({}, "stop")))).stream()
    assert completion.usage is None


def test_fragmented_parallel_tool_calls_through_the_client(harness: Callable[..., Harness]) -> None:
    body = sse(
        chunk({"reasoning_content": "Two calls."}),
        chunk(
            {"tool_calls": [{"index": 0, "id": "a", "type": "function", "function": {"name": "add", "arguments": ""}}]}
        ),
        chunk({"tool_calls": [{"index": 0, "function": {"arguments": '{"a": '}}]}),
        chunk(
            {"tool_calls": [{"index": 1, "id": "b", "type": "function", "function": {"name": "mul", "arguments": ""}}]}
        ),
        chunk({"tool_calls": [{"index": 0, "function": {"arguments": "2}"}}]}),
        chunk({"tool_calls": [{"index": 1, "function": {"arguments": '{"b": 3}'}}]}),
        chunk({}, "tool_calls", {"prompt_tokens": 1, "completion_tokens": 1, "total_tokens": 2}),
    )
    deltas, completion = harness(sse_response(body)).stream(request(tool_stream=True))
    calls = completion.message.tool_calls
    assert calls is not None
    assert [(c.id, c.function.name, json.loads(c.function.arguments)) for c in calls] == [
        ("a", "add", {"a": 2}),
        ("b", "mul", {"b": 3}),
    ]
    assert sum(len(d.tool_calls) for d in deltas) == 5


def test_a_server_that_ignores_stream_true(harness: Callable[..., Harness]) -> None:
    body = recording("zai-glm-4.5_tool.1.json")
    deltas, completion = harness(json_response(200, body)).stream()
    assert len(deltas) == 1
    assert deltas[0].reasoning.startswith("The user is asking")
    assert [f.name for f in deltas[0].tool_calls] == ["weather"]
    assert completion.finish_reason == "tool_calls"
    assert completion.usage is not None
    assert completion.usage.cached_tokens == 43


def test_accumulator_is_readable_mid_stream(mode: str) -> None:
    body = sse(chunk({"content": "Hel"}), chunk({"content": "lo"}, "stop"))
    client_kwargs: dict[str, Any] = {"api_key": KEY, "base_url": "https://anyfast.test/v1"}
    transport = httpx.MockTransport(lambda _: sse_response(body))
    seen = []
    if mode == "sync":
        client = AnyFastClient(http_client=httpx.Client(transport=transport), **client_kwargs)
        stream = client.stream(request())
        for _ in stream:
            seen.append(stream.accumulator.content)
        with pytest.raises(RuntimeError, match="only once"):
            list(stream)
    else:

        async def run() -> None:
            client = AsyncAnyFastClient(http_client=httpx.AsyncClient(transport=transport), **client_kwargs)
            stream = await client.stream(request())
            async for _ in stream:
                seen.append(stream.accumulator.content)
            with pytest.raises(RuntimeError, match="only once"):
                [d async for d in stream]

        asyncio.run(run())
    assert seen == ["Hel", "Hello"]


def test_completion_before_the_end_is_an_error() -> None:
    transport = httpx.MockTransport(lambda _: sse_response(sse(chunk({"content": "x"}, "stop"))))
    client = AnyFastClient(api_key=KEY, http_client=httpx.Client(transport=transport))
    with client.stream(request()) as stream, pytest.raises(RuntimeError, match="not been read"):
        _ = stream.completion


# --------------------------------------------------------------------------- stream failures


def test_truncated_stream_raises_with_the_partial(harness: Callable[..., Harness]) -> None:
    body = sse(chunk({"reasoning_content": "Think"}), chunk({"content": "Half an ans"}), done=False)
    deltas, exc = harness(sse_response(body, headers={"x-request-id": "req-7"})).stream_deltas_then_error()
    assert isinstance(exc, StreamInterruptedError)
    assert "[DONE]" in exc.message
    assert "req-7" in str(exc)
    assert [d.content for d in deltas] == ["", "Half an ans"]
    assert exc.partial.message.content == "Half an ans"
    assert exc.partial.message.reasoning_content == "Think"
    assert exc.request_id == "req-7"


def test_finish_reason_without_done_is_still_truncated(harness: Callable[..., Harness]) -> None:
    body = sse(chunk({"content": "All"}, "stop"), done=False)
    _, exc = harness(sse_response(body)).stream_deltas_then_error()
    assert isinstance(exc, StreamInterruptedError)


@pytest.mark.parametrize(
    "ending",
    [
        pytest.param(b'data: {"id":"c1","choices":[],"usage":{"prompt_tokens":3,"completion_tokens":2,'
                     b'"total_tokens":5}}\n\ndata: [DONE]\n\n', id="usage-chunk-then-done"),
        pytest.param(b"data: [DONE]\n\n", id="done"),
        pytest.param(b"data: [DONE] \r\n\r\n", id="done-with-trailing-space"),
    ],
)  # fmt: skip
def test_done_without_a_finish_reason_is_truncated(harness: Callable[..., Harness], ending: bytes) -> None:
    """A gateway that loses its upstream mid-stream may still send a usage chunk and [DONE]."""
    body = sse(chunk({"reasoning_content": "Think"}), chunk({"content": "Half an ans"}), done=False) + ending
    deltas, exc = harness(sse_response(body)).stream_deltas_then_error()
    assert isinstance(exc, StreamInterruptedError)
    assert "without a finish reason" in str(exc)
    assert exc.partial.message.content == "Half an ans"
    assert exc.partial.message.reasoning_content == "Think"
    assert [d.content for d in deltas] == ["", "Half an ans"]  # shown as it came, then the error


def test_done_with_trailing_whitespace_finishes_a_stream(harness: Callable[..., Harness]) -> None:
    body = sse(chunk({"content": "All"}, "stop"), done=False) + b"data: [DONE]  \n\n"
    _, completion = harness(sse_response(body)).stream()
    assert (completion.message.content, completion.finish_reason) == ("All", "stop")


@pytest.mark.parametrize("reason", ["abort", "network_error"])
def test_upstream_failure_finish_reasons_raise(harness: Callable[..., Harness], reason: str) -> None:
    _, exc = harness(sse_response(sse(chunk({"content": "Half"}), chunk({}, reason)))).stream_deltas_then_error()
    assert isinstance(exc, UpstreamModelError)
    assert (exc.code, exc.partial.message.content) == (reason, "Half")
    with pytest.raises(UpstreamModelError, match=reason):
        harness(json_response(200, completion_body("Half", reason))).chat()


def test_tool_calls_finish_without_a_tool_call_is_an_error(harness: Callable[..., Harness]) -> None:
    """Recorded from GLM-5.2: ``finish_reason: tool_calls`` and no call anywhere in the stream."""
    body = sse(chunk({"reasoning_content": "I will call the tool."}), chunk({"content": ""}, "tool_calls"))
    _, exc = harness(sse_response(body)).stream_deltas_then_error()
    assert isinstance(exc, UpstreamModelError)
    assert "no tool call" in str(exc)
    assert exc.partial.message.reasoning_content == "I will call the tool."
    with pytest.raises(UpstreamModelError, match="no tool call"):
        harness(json_response(200, completion_body("", "tool_calls"))).chat()


def test_usage_is_always_asked_for_and_handed_over_only_when_wanted(harness: Callable[..., Harness]) -> None:
    usage = {"prompt_tokens": 3, "completion_tokens": 2, "total_tokens": 5}
    body = sse(chunk({"content": "Hi"}, "stop"), chunk(choices=False, usage=usage))
    h = harness(sse_response(body))
    _, completion = h.stream(request(stream_options={"include_usage": False}))
    assert h.server.bodies[0]["stream_options"] == {"include_usage": True}
    assert completion.usage is None
    assert completion.message.content == "Hi"
    h = harness(sse_response(body))
    _, completion = h.stream(request())
    assert h.server.bodies[0]["stream_options"] == {"include_usage": True}
    assert completion.usage is not None
    assert completion.usage.total_tokens == 5


@pytest.mark.parametrize(
    "carrier",
    [
        pytest.param([{"reasoning": "Think "}, {"reasoning": "hard."}, {"content": '{"a": 1}'}], id="reasoning-field"),
        pytest.param([{"content": "<think>Think "}, {"content": "hard.</th"}, {"content": 'ink>\n{"a": 1}'}],
                     id="think-block"),
        pytest.param([{"content": "<"}, {"content": "think>Think hard.<"}, {"content": '/think>{"a": 1}'}],
                     id="think-block-split-at-the-angle"),
    ],
)  # fmt: skip
def test_reasoning_from_any_carrier_never_in_the_answer(
    harness: Callable[..., Harness], carrier: list[dict[str, str]]
) -> None:
    body = sse(*[chunk(delta) for delta in carrier], chunk({}, "stop"))
    deltas, completion = harness(sse_response(body)).stream()
    assert completion.message.reasoning_content == "Think hard."
    assert completion.message.content == '{"a": 1}'
    assert "".join(d.content for d in deltas) == '{"a": 1}'
    assert "".join(d.reasoning for d in deltas) == "Think hard."
    whole = {"content": '<think>Think hard.</think>\n\n{"a": 1}'}
    if "reasoning" in carrier[0]:
        whole = {"content": '{"a": 1}', "reasoning": "Think hard."}
    message = harness(json_response(200, completion_body(**whole))).chat().message
    assert (message.reasoning_content, message.content) == ("Think hard.", '{"a": 1}')


def test_empty_stream_is_truncated(harness: Callable[..., Harness]) -> None:
    _, exc = harness(sse_response(b"")).stream_deltas_then_error()
    assert isinstance(exc, StreamInterruptedError)
    assert exc.partial.message.content == ""


def test_connection_reset_mid_stream(harness: Callable[..., Harness]) -> None:
    body = Body([sse(chunk({"content": "Hel"}), done=False), b'data: {"choi'], httpx.ReadError("reset by peer"))
    deltas, exc = harness(sse_response(body)).stream_deltas_then_error()
    assert isinstance(exc, StreamInterruptedError)
    assert "reset by peer" in exc.message
    assert exc.partial.message.content == "Hel"
    assert [d.content for d in deltas] == ["Hel"]


def test_error_event_mid_stream(harness: Callable[..., Harness]) -> None:
    body = sse(
        chunk({"content": "Hel"}),
        {"error": {"message": "Upstream failed", "type": "server_error"}},
        chunk({"content": "never"}),
    )
    deltas, exc = harness(sse_response(body)).stream_deltas_then_error()
    assert type(exc) is StreamEventError
    assert "Upstream failed" in exc.message
    assert (exc.status_code, exc.code, exc.type) == (200, None, "server_error")
    assert exc.partial.message.content == "Hel"
    assert [d.content for d in deltas] == ["Hel"]


@pytest.mark.parametrize(
    ("event", "cls"),
    [
        (b'{"error":{"code":"1301","message":"Unsafe or sensitive content"},"request_id":"r-5"}', ContentFilterError),
        (b'{"error":{"code":"1261","message":"Prompt exceeds max length"},"request_id":"r-5"}',
         ContextWindowExceededError),
        (b'{"error":{"code":"1305","message":"Rate limit","type":"server_error"},"request_id":"r-5"}', RateLimitError),
        (b'{"error":{"code":"1310","message":"Weekly limit reached"},"request_id":"r-5"}', QuotaExceededError),
        (b'{"error":{"message":"quota (request id: r-5)","type":"new_api_error","code":"insufficient_user_quota"}}',
         QuotaExceededError),
    ],
)  # fmt: skip
def test_error_event_naming_a_known_failure_raises_its_class(
    harness: Callable[..., Harness], event: bytes, cls: type[Exception]
) -> None:
    body = sse(chunk({"content": "Hel"}), event)
    _, exc = harness(sse_response(body)).stream_deltas_then_error()
    assert type(exc) is cls
    assert isinstance(exc, AnyFastError)
    assert exc.request_id == "r-5"
    assert exc.partial.message.content == "Hel"
    assert "mid-stream" in str(exc)


@pytest.mark.parametrize(
    "bad",
    [
        b"{not json}",
        b'{"choices": [{"delta": {"content": "cut',
        b"[1, 2]",
        b'"a string"',
        b'{"choices": ["not a dict"]}',
        b'{"choices": [{"delta": "text"}]}',
        b'{"choices": [{"delta": {"tool_calls": [5]}}]}',
        b'{"choices": [], "usage": {"prompt_tokens": "many"}}',
    ],
)
def test_malformed_event_is_a_malformed_response_error(harness: Callable[..., Harness], bad: bytes) -> None:
    body = sse(chunk({"content": "ok"}), bad)
    deltas, exc = harness(sse_response(body)).stream_deltas_then_error()
    assert type(exc) is MalformedResponseError
    assert not isinstance(exc, json.JSONDecodeError)
    assert exc.partial.message.content == "ok"
    assert [d.content for d in deltas] == ["ok"]


def test_error_object_sent_as_an_event_stream_body(harness: Callable[..., Harness]) -> None:
    body = b'{"error": {"message": "Insufficient balance", "code": "1113"}}'
    _, exc = harness(sse_response(body)).stream_deltas_then_error()
    assert isinstance(exc, QuotaExceededError)
    assert "Insufficient balance" in exc.message


@pytest.mark.parametrize("body", [b"<html>Bad gateway</html>", b'{"weird": true}'])
def test_body_that_is_not_an_event_stream(harness: Callable[..., Harness], body: bytes) -> None:
    _, exc = harness(sse_response(body)).stream_deltas_then_error()
    assert type(exc) is MalformedResponseError
    assert "Expected an event stream" in exc.message


def test_events_after_done_are_ignored(harness: Callable[..., Harness]) -> None:
    body = sse(chunk({"content": "x"}, "stop")) + b"data: garbage\n\n"
    _, completion = harness(sse_response(body)).stream()
    assert completion.message.content == "x"


def test_undecodable_body_is_malformed(harness: Callable[..., Harness]) -> None:
    def corrupt(_: httpx.Request) -> httpx.Response:
        headers = {**JSON_HEADERS, "content-encoding": "gzip"}
        return httpx.Response(200, stream=httpx.ByteStream(b"not gzip at all"), headers=headers)

    with pytest.raises(MalformedResponseError, match="DecodingError"):
        harness(corrupt).chat()


# --------------------------------------------------------------------------- configuration


def test_missing_key_is_raised_at_the_first_request_not_at_construction(harness: Callable[..., Harness]) -> None:
    h = harness(json_response(200, completion_body()), api_key=None)
    client = h.client()  # constructing is fine
    assert client.api_key is None
    for call in (h.chat, h.stream, h.models):
        with pytest.raises(MissingAPIKeyError) as info:
            call()
        assert "ANYFAST_API_KEY" in str(info.value)
    assert h.server.requests == []  # nothing was sent


def test_key_from_the_environment(harness: Callable[..., Harness], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ANYFAST_API_KEY", "  sk-from-env\n")
    h = harness(json_response(200, completion_body()), api_key=None)
    h.chat()
    assert h.server.requests[0].headers["authorization"] == "Bearer sk-from-env"


@pytest.mark.parametrize("bad_key", ["sk-abc\ndef", "sk abc", "sk-ключ"])
def test_unusable_key_is_refused_without_showing_it(harness: Callable[..., Harness], bad_key: str) -> None:
    h = harness(json_response(200, completion_body()), api_key=bad_key)
    with pytest.raises(MissingAPIKeyError) as info:
        h.chat()
    assert bad_key not in str(info.value)
    assert h.server.requests == []


def test_base_url_from_the_environment_and_validation(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ANYFAST_BASE_URL", "http://127.0.0.1:9/v1/")
    assert AnyFastClient(api_key=KEY).base_url == "http://127.0.0.1:9/v1"
    assert AnyFastClient(api_key=KEY, base_url="https://x.test/v1").base_url == "https://x.test/v1"
    with pytest.raises(ValueError, match="base_url"):
        AnyFastClient(api_key=KEY, base_url="ftp://x.test")
    with pytest.warns(UserWarning, match="plain http"):
        AnyFastClient(api_key=KEY, base_url="http://insecure.example.test/v1")


def test_default_base_url_and_timeouts() -> None:
    client = AnyFastClient(api_key=KEY)
    assert client.base_url == "https://www.anyfast.ai/v1"
    assert client.timeout.read == 600.0
    assert client.timeout.connect == 10.0
    assert AnyFastClient(api_key=KEY, timeout=30).timeout.read == 30
    assert AnyFastClient(api_key=KEY, timeout=httpx.Timeout(5.0)).timeout.read == 5.0
    for bad in (0, -1, True, "10"):
        with pytest.raises(ValueError, match="timeout"):
            AnyFastClient(api_key=KEY, timeout=bad)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="max_retries"):
        AnyFastClient(api_key=KEY, max_retries=-1)


def test_closed_stream_cannot_be_read(harness: Callable[..., Harness]) -> None:
    h = harness(sse_response(sse(chunk({"content": "x"}, "stop"))))
    client = h.client()
    if isinstance(client, AnyFastClient):
        stream = client.stream(request())
        stream.close()
        with pytest.raises(RuntimeError, match="closed before it was read"):
            list(stream)
    else:

        async def run() -> None:
            assert isinstance(client, AsyncAnyFastClient)
            stream = await client.stream(request())
            await stream.aclose()
            with pytest.raises(RuntimeError, match="closed before it was read"):
                [d async for d in stream]

        asyncio.run(run())


def test_whole_answers_say_why_stream_fields_were_left_out(
    harness: Callable[..., Harness], caplog: pytest.LogCaptureFixture
) -> None:
    h = harness(json_response(200, completion_body()))
    with caplog.at_level(logging.DEBUG, logger="anyfast_core"):
        h.chat(request(tool_stream=True))
    assert "tool_stream" not in h.server.bodies[0]
    assert any("only shape streams" in r.getMessage() for r in caplog.records)


def test_injected_async_http_client_is_left_open() -> None:
    async def run() -> None:
        http = httpx.AsyncClient(transport=httpx.MockTransport(lambda _: json_response(200, completion_body())))
        async with AsyncAnyFastClient(api_key=KEY, http_client=http) as client:
            await client.chat(request())
        assert not http.is_closed
        await http.aclose()

    asyncio.run(run())


def test_injected_http_client_is_left_open() -> None:
    http = httpx.Client(transport=httpx.MockTransport(lambda _: json_response(200, completion_body())))
    with AnyFastClient(api_key=KEY, http_client=http) as client:
        client.chat(request())
    assert not http.is_closed
    http.close()
    with AnyFastClient(api_key=KEY) as owned:
        pass
    assert owned._http.is_closed


# --------------------------------------------------------------------------- a stream left early is closed

LONG_STREAM = [sse(chunk({"content": f"w{i} "}), done=False) for i in range(50)] + [sse(chunk({}, "stop"))]


def test_breaking_out_of_a_stream_closes_the_response(harness: Callable[..., Harness], mode: str) -> None:
    body = Body(LONG_STREAM)
    h = harness(sse_response(body))
    client = h.client()
    if isinstance(client, AnyFastClient):
        for _ in client.stream(request()):
            break  # no context manager: leaving the loop must still close
        assert body.closed
    else:

        async def run() -> None:
            assert isinstance(client, AsyncAnyFastClient)
            async with await client.stream(request()) as stream:
                async for _ in stream:
                    break
            assert body.closed

        asyncio.run(run())
    assert body.sent < len(LONG_STREAM)  # it really was left early


def test_async_stream_left_without_a_context_manager_is_closed_soon() -> None:
    body = Body(LONG_STREAM)
    transport = httpx.MockTransport(lambda _: sse_response(body))

    async def run() -> None:
        client = AsyncAnyFastClient(api_key=KEY, http_client=httpx.AsyncClient(transport=transport))
        async for _ in await client.stream(request()):
            break
        gc.collect()
        for _ in range(5):  # the event loop finalises abandoned async generators as a task
            await asyncio.sleep(0)
        assert body.closed

    asyncio.run(run())


def test_stream_never_iterated_is_closed_by_its_context_manager(harness: Callable[..., Harness]) -> None:
    body = Body(LONG_STREAM)
    h = harness(sse_response(body))
    client = h.client()
    if isinstance(client, AnyFastClient):
        with client.stream(request()):
            pass
    else:

        async def run() -> None:
            assert isinstance(client, AsyncAnyFastClient)
            async with await client.stream(request()):
                pass

        asyncio.run(run())
    assert body.closed
    assert body.sent == 0
