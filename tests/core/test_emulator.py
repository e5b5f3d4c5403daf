"""Both clients over real loopback sockets against the emulator, in both stream dialects, with faults.

The scripted-transport tests pin each behaviour down; these show the same behaviours survive real
HTTP: chunked and close-delimited bodies, resets, pieces split anywhere, real retries.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from typing import Any

import pytest
from core_support import Harness, request

from anyfast_core import (
    APIConnectionError,
    APIStatusError,
    APITimeoutError,
    AuthenticationError,
    ContentFilterError,
    ContextWindowExceededError,
    MalformedResponseError,
    QuotaExceededError,
    RateLimitError,
    ServerError,
    StreamEventError,
    StreamInterruptedError,
    UpstreamModelError,
)
from anyfast_emulator import Emulator
from anyfast_emulator.faults import fault_header

WEATHER = {
    "type": "function",
    "function": {
        "name": "weather",
        "description": "The weather in a city.",
        "parameters": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]},
    },
}


def _harness_for(emu: Emulator, mode: str) -> Callable[..., Harness]:
    def make(fault: str | None = None, /, *, max_retries: int = 2, **params: Any) -> Harness:
        headers = fault_header(fault, **params) if fault else {}
        return Harness(
            mode,
            None,
            api_key=emu.api_key,
            base_url=emu.base_url,
            default_headers=headers,
            max_retries=max_retries,
        )

    return make


@pytest.fixture
def live(emulator: Emulator, mode: str) -> Callable[..., Harness]:
    """``live(fault=None, **params)``: a harness whose client talks to the GLM-dialect emulator, asking
    for a fault."""
    return _harness_for(emulator, mode)


@pytest.fixture
def live_any(emulator_any: Emulator, mode: str) -> Callable[..., Harness]:
    """``live`` in each stream dialect in turn, for what the dialect could change."""
    return _harness_for(emulator_any, mode)


def test_whole_answer_and_stream_agree(live_any: Callable[..., Harness], emulator_any: Emulator) -> None:
    whole = live_any().chat()
    deltas, streamed = live_any().stream()
    assert whole.message.content
    assert streamed.message.content == "".join(d.content for d in deltas)
    assert streamed.message.content.strip() == whole.message.content.strip()
    assert streamed.usage is not None  # in both dialects, since streams ask for it
    assert whole.usage is not None
    bodies = emulator_any.requests
    assert [b["stream"] for b in bodies] == [False, True]


@pytest.mark.parametrize("fragmented", [False, True])
def test_tool_calls_whole_and_fragmented(live_any: Callable[..., Harness], fragmented: bool) -> None:
    req = request(
        messages=[{"role": "user", "content": "What is the weather in Florence?"}],
        tools=[WEATHER],
        tool_choice="required",
        tool_stream=fragmented,
    )
    deltas, completion = live_any().stream(req)
    calls = completion.message.tool_calls
    assert calls is not None
    assert calls[0].function.name == "weather"
    assert isinstance(json.loads(calls[0].function.arguments), dict)
    pieces = [f for d in deltas for f in d.tool_calls]
    assert (len(pieces) > len(calls)) is fragmented
    assert completion.finish_reason == "tool_calls"


@pytest.mark.parametrize("fault", ["keepalive", "crlf", "no_space", "fragment"])
def test_legal_stream_variants_read_like_the_plain_stream(live_any: Callable[..., Harness], fault: str) -> None:
    _, plain = live_any().stream()
    _, varied = live_any(fault).stream()
    assert varied.message.content == plain.message.content
    assert varied.message.reasoning_content == plain.message.reasoning_content


def test_rate_limit_is_retried_honouring_retry_after(
    live: Callable[..., Harness], emulator: Emulator, delays: list[float]
) -> None:
    assert live("rate_limit", times=2, retry_after=0.25).chat().message.content
    assert delays == [0.25, 0.25]
    assert len(emulator.requests) == 3


@pytest.mark.parametrize(
    ("fault", "cls", "sent"),
    [
        ("balance", QuotaExceededError, 1),
        ("quota", QuotaExceededError, 1),
        ("invalid_key", AuthenticationError, 1),
        ("context_overflow", ContextWindowExceededError, 1),
        ("sensitive_input", ContentFilterError, 1),
        ("rate_limit", RateLimitError, 3),
        ("http_503", ServerError, 3),
        ("http_502", ServerError, 3),
    ],
)
def test_error_answers(
    live: Callable[..., Harness],
    emulator: Emulator,
    delays: list[float],
    fault: str,
    cls: type[APIStatusError],
    sent: int,
) -> None:
    with pytest.raises(cls):
        live(fault).chat()
    with pytest.raises(cls):
        live(fault).stream()
    assert len(emulator.requests) == 2 * sent


def test_server_errors_then_success(live: Callable[..., Harness], delays: list[float]) -> None:
    assert live("http_502", times=2).chat().message.content
    _, completion = live("http_503", times=1, id="s").stream()
    assert completion.message.content


def test_reset_before_the_answer_is_retried_then_a_connection_error(
    live: Callable[..., Harness], delays: list[float]
) -> None:
    assert live("reset", times=1).chat().message.content
    with pytest.raises(APIConnectionError):
        live("reset").chat()
    assert len(delays) == 1 + 2


@pytest.mark.parametrize("cut", ["clean", "close", "abort"])
def test_cut_streams_raise_with_the_partial(live_any: Callable[..., Harness], cut: str, delays: list[float]) -> None:
    deltas, exc = live_any("stream_cut", after=4, mode=cut).stream_deltas_then_error()
    assert isinstance(exc, StreamInterruptedError)
    assert exc.partial is not None
    got = "".join(d.content for d in deltas)
    assert exc.partial.message.content == got
    assert delays == []  # never retried once the stream had started


def test_error_event_mid_stream(live_any: Callable[..., Harness]) -> None:
    deltas, exc = live_any("error_event", after=3, message="upstream fell over").stream_deltas_then_error()
    assert isinstance(exc, StreamEventError)
    assert "upstream fell over" in exc.message
    assert exc.partial is not None
    assert exc.partial.message.content == "".join(d.content for d in deltas)


def test_malformed_line_mid_stream(live: Callable[..., Harness]) -> None:
    _, exc = live("malformed", after=2).stream_deltas_then_error()
    assert type(exc) is MalformedResponseError


def test_error_body_under_200(live: Callable[..., Harness]) -> None:
    with pytest.raises(APIStatusError) as info:
        live("error_body_200").chat()
    assert info.value.status_code == 200
    _, exc = live("error_body_200").stream_deltas_then_error()
    assert isinstance(exc, (APIStatusError, StreamEventError))


@pytest.mark.parametrize(
    ("fault", "cls"),
    [
        ("finish_sensitive", ContentFilterError),
        ("finish_context_window", ContextWindowExceededError),
        ("finish_network_error", UpstreamModelError),
    ],
)
def test_hard_finish_reasons(live_any: Callable[..., Harness], fault: str, cls: type[Exception]) -> None:
    with pytest.raises(cls) as info:
        live_any(fault).chat()
    assert info.value.partial is not None  # type: ignore[attr-defined]
    _, exc = live_any(fault).stream_deltas_then_error()
    assert isinstance(exc, cls)


def test_length_and_unknown_finish_reasons_pass(live: Callable[..., Harness]) -> None:
    assert live("finish_length").chat().finish_reason == "length"
    _, completion = live("finish_unknown", reason="something_new").stream()
    assert completion.finish_reason == "something_new"


def test_reasoning_tokens_reported(live: Callable[..., Harness]) -> None:
    completion = live("reasoning_tokens").chat()
    assert completion.usage is not None
    assert completion.usage.reasoning_tokens is not None


def test_models(live: Callable[..., Harness]) -> None:
    assert "glm-5.2" in [m.id for m in live().models()]


def test_read_timeout_raises_promptly_and_is_not_retried(emulator: Emulator, mode: str, delays: list[float]) -> None:
    h = Harness(
        mode,
        None,
        api_key=emulator.api_key,
        base_url=emulator.base_url,
        default_headers=fault_header("slow", delay=2),
        timeout=0.3,
    )
    started = time.monotonic()
    with pytest.raises(APITimeoutError) as info:
        h.chat()
    assert time.monotonic() - started < 1.5
    assert "read timeout of 0.3s" in info.value.message
    assert len(emulator.requests) == 1
    assert delays == []


def test_read_timeout_mid_stream_keeps_the_partial(emulator: Emulator, mode: str) -> None:
    h = Harness(
        mode,
        None,
        api_key=emulator.api_key,
        base_url=emulator.base_url,
        default_headers=fault_header("slow", delay=0, chunk_delay=1),
        timeout=0.3,
    )
    deltas, exc = h.stream_deltas_then_error()
    assert isinstance(exc, APITimeoutError)
    assert exc.partial is not None
    assert deltas  # it failed mid-stream, not before
    assert (exc.partial.message.reasoning_content or "") == "".join(d.reasoning for d in deltas)
