"""Client-side fault handling, in one home: every fault through both adapters, sync and async,
streamed and whole, checking what the user gets (answer or typed error, with the server's words and
the partial answer), how many requests the server saw, and how long it took.

Two sources of faults: the loopback emulator, with the fault named in the API key (the one fault
channel both adapters share) and a fault id unique to the test; and, below "the wire, byte for byte",
vectors written from the wire notes, served by a scripted in-process server. (How the emulator produces
faults is tested in tests/emulator; the core's pure classification in tests/core/test_errors.py.)
"""

from __future__ import annotations

import asyncio
import json
import time
import traceback
from typing import Any

import pytest
from langchain_core.exceptions import (
    ContextOverflowError,
    ModelAPIError,
    ModelAuthenticationError,
    ModelConnectionError,
    ModelError,
    ModelInvalidRequestError,
    ModelNotFoundError,
    ModelPermissionDeniedError,
    ModelRateLimitError,
    ModelRefusalError,
    ModelTimeoutError,
)
from pydantic import BaseModel
from reliability_support import (
    ADAPTERS,
    GOOD_KEY,
    SCRIPTED_BASE_URL,
    STREAM_MODES,
    WHOLE_MODES,
    Adapter,
    Mode,
    ask,
    core_client_of,
    make_model,
    scripted_model,
    uid,
)
from testkit import ScriptedServer, StallingServer

import anyfast_core as core
from anyfast_core import ChatCompletion
from anyfast_emulator import Emulator
from anyfast_emulator.faults import ZAI_CODES, fault_key, fault_spec

STORY = "Tell me a story"
STORY_START = "Once upon a time, a small grey cat named Miso"


def model_for(emulator: Emulator, mode: Mode, fault: str | None = None, **settings: Any) -> Any:
    key = Emulator.fault_key(fault, **settings.pop("fault_params", {})) if fault else emulator.api_key
    return make_model(mode.adapter, base_url=emulator.base_url, api_key=key, **settings)


def raises(mode: Mode, core_type: type[Exception], langchain_type: type[Exception], call: Any) -> Any:
    """Run ``call``; it must raise ``core_type`` (and, through ChatAnyFast, also ``langchain_type``)."""
    with pytest.raises(core_type) as info:
        call()
    if mode.adapter == "langchain":
        assert isinstance(info.value, langchain_type), type(info.value).__mro__
    assert not isinstance(info.value, json.JSONDecodeError)
    return info.value


# --------------------------------------------------------------------------- rate limits and quotas


@pytest.mark.parametrize("wait", [{"retry_after": 0.1}, {"retry_after_ms": 100}], ids=["Retry-After", "retry-after-ms"])
def test_rate_limit_twice_then_success_after_retry_after(emulator: Emulator, mode: Mode, wait: dict[str, Any]) -> None:
    tag = uid()
    model = model_for(emulator, mode, "rate_limit", fault_params={"times": 2, "id": tag, **wait})
    start = time.perf_counter()
    reply = ask(model, mode, f"Say '{tag}'")
    elapsed = time.perf_counter() - start
    assert reply.text == tag
    assert reply.finish_reason == "stop"
    assert len(emulator.requests) == 3
    assert elapsed >= 0.2  # a wait of 0.1 s, honoured twice


def test_rate_limit_asking_for_a_long_wait_raises_at_once(emulator: Emulator, mode: Mode) -> None:
    """A Retry-After beyond the client's cap is not slept through: the caller hears at once."""
    model = model_for(emulator, mode, "rate_limit", fault_params={"retry_after": 3600, "id": uid()})
    start = time.perf_counter()
    error = raises(mode, core.RateLimitError, ModelRateLimitError, lambda: ask(model, mode, "Hi"))
    assert time.perf_counter() - start < 1.0
    assert error.retry_after == 3600
    assert len(emulator.requests) == 1


def test_rate_limit_beyond_max_retries_raises_rate_limit_error(emulator: Emulator, mode: Mode) -> None:
    model = model_for(emulator, mode, "rate_limit", fault_params={"retry_after": 0.01, "id": uid()}, max_retries=1)
    error = raises(mode, core.RateLimitError, ModelRateLimitError, lambda: ask(model, mode, "Hi"))
    assert error.status_code == 429
    assert error.code == "1302"
    assert len(emulator.requests) == 2


@pytest.mark.parametrize(("fault", "code", "says"), [("balance", "1113", "balance"), ("quota", "1308", "Usage limit")])
def test_balance_and_quota_are_not_retried(emulator: Emulator, mode: Mode, fault: str, code: str, says: str) -> None:
    model = model_for(emulator, mode, fault, fault_params={"id": uid()}, max_retries=5)
    start = time.perf_counter()
    error = raises(mode, core.QuotaExceededError, ModelRateLimitError, lambda: ask(model, mode, "Hi"))
    assert time.perf_counter() - start < 1.0
    assert len(emulator.requests) == 1
    assert (error.status_code, error.code) == (429, code)
    assert says in str(error)
    assert "retrying will not help" in str(error)
    assert not error.is_retryable


# --------------------------------------------------------------------------- server errors


@pytest.mark.parametrize("status", [500, 502, 503, 504])
def test_server_error_once_is_retried(emulator: Emulator, mode: Mode, status: int) -> None:
    tag = uid()
    model = model_for(emulator, mode, f"http_{status}", fault_params={"times": 1, "retry_after": 0.01, "id": tag})
    reply = ask(model, mode, f"Say '{tag}'")
    assert reply.text == tag
    assert len(emulator.requests) == 2


@pytest.mark.parametrize("status", [502, 504])
def test_gateway_html_page_persisting_raises_server_error(emulator: Emulator, mode: Mode, status: int) -> None:
    model = model_for(emulator, mode, f"http_{status}", fault_params={"retry_after": 0.01, "id": uid()}, max_retries=1)
    error = raises(mode, core.ServerError, ModelAPIError, lambda: ask(model, mode, "Hi"))
    assert error.status_code == status
    assert f"{status}" in str(error)  # the gateway page's title, not a JSON parse failure
    assert len(emulator.requests) == 2


# --------------------------------------------------------------------------- connections


def test_connection_refused_is_retried_then_raises(closed_port_url: str, mode: Mode, delays: list[float]) -> None:
    model = make_model(mode.adapter, base_url=closed_port_url, api_key=GOOD_KEY, max_retries=2)
    error = raises(mode, core.APIConnectionError, ModelConnectionError, lambda: ask(model, mode, "Hi"))
    assert not isinstance(error, core.APITimeoutError)
    assert len(delays) == 2  # three attempts: the first and max_retries=2 more
    assert "ConnectError" in str(error)


def test_reset_before_response_is_retried_up_to_max_retries(
    emulator: Emulator, mode: Mode, delays: list[float]
) -> None:
    model = model_for(emulator, mode, "reset", fault_params={"id": uid()}, max_retries=2)
    raises(mode, core.APIConnectionError, ModelConnectionError, lambda: ask(model, mode, "Hi"))
    assert len(emulator.requests) == 3
    assert len(delays) == 2


def test_reset_once_then_success(emulator: Emulator, mode: Mode, delays: list[float]) -> None:
    tag = uid()
    model = model_for(emulator, mode, "reset", fault_params={"times": 1, "id": tag})
    assert ask(model, mode, f"Say '{tag}'").text == tag
    assert len(emulator.requests) == 2


def test_read_timeout_raises_within_the_bound(emulator: Emulator, mode: Mode) -> None:
    model = model_for(emulator, mode, "slow", fault_params={"delay": 2, "id": uid()}, timeout=0.3, max_retries=2)
    start = time.perf_counter()
    error = raises(mode, core.APITimeoutError, ModelTimeoutError, lambda: ask(model, mode, "Hi"))
    assert time.perf_counter() - start < 1.5
    assert "0.3" in str(error)
    assert len(emulator.requests) == 1  # a read timeout is not re-sent: the server may still be working


@pytest.mark.parametrize("mode", STREAM_MODES, ids=str)
def test_stalled_stream_times_out_mid_stream(emulator: Emulator, mode: Mode) -> None:
    model = model_for(emulator, mode, "slow_stream", fault_params={"delay": 2, "id": uid()}, timeout=0.3)
    start = time.perf_counter()
    error = raises(mode, core.APITimeoutError, ModelTimeoutError, lambda: ask(model, mode, "Hi"))
    assert time.perf_counter() - start < 1.5
    assert isinstance(error.partial, ChatCompletion)  # what arrived, for diagnosis only
    assert len(emulator.requests) == 1


# --------------------------------------------------------------------------- authentication


def test_missing_key_fails_before_any_request(emulator: Emulator, mode: Mode) -> None:
    model = make_model(mode.adapter, base_url=emulator.base_url, api_key=None)
    error = raises(mode, core.MissingAPIKeyError, ModelAuthenticationError, lambda: ask(model, mode, "Hi"))
    assert "ANYFAST_API_KEY" in str(error)
    assert emulator.received == []


def test_bad_key_is_not_retried_and_never_shown(keyed_emulator: Emulator, mode: Mode) -> None:
    bad_key = f"sk-reliability-BAD-{uid()}{uid()}"
    model = make_model(mode.adapter, base_url=keyed_emulator.base_url, api_key=bad_key, max_retries=3)
    error = raises(mode, core.AuthenticationError, ModelAuthenticationError, lambda: ask(model, mode, "Hi"))
    assert error.status_code == 401
    assert "ANYFAST_API_KEY" in str(error)
    assert len(keyed_emulator.requests) == 1
    shown = "".join(traceback.format_exception(error)) + repr(error) + repr(model)
    assert bad_key not in shown
    assert bad_key[-12:] not in shown


def test_invalid_key_fault_is_an_authentication_error(emulator: Emulator, mode: Mode) -> None:
    model = model_for(emulator, mode, "invalid_key", fault_params={"id": uid()}, max_retries=3)
    error = raises(mode, core.AuthenticationError, ModelAuthenticationError, lambda: ask(model, mode, "Hi"))
    assert "Invalid API key" in str(error)
    assert len(emulator.requests) == 1


# --------------------------------------------------------------------------- 400s


BAD_REQUESTS = [
    pytest.param("context_overflow", core.ContextWindowExceededError, ContextOverflowError, "1261",
                 "Prompt exceeds max length", id="1261-context-overflow"),
    pytest.param("sensitive_input", core.ContentFilterError, ModelRefusalError, "1301",
                 "unsafe or sensitive content", id="1301-content-filter"),
    pytest.param("strict", core.BadRequestError, ModelInvalidRequestError, "1214",
                 "Unrecognized request argument supplied: reliability_unknown_field", id="unknown-field"),
]  # fmt: skip


@pytest.mark.parametrize(("fault", "core_type", "lc_type", "code", "server_says"), BAD_REQUESTS)
def test_bad_requests_are_not_retried_and_carry_the_server_message(
    emulator: Emulator,
    mode: Mode,
    fault: str,
    core_type: type[Exception],
    lc_type: type[Exception],
    code: str,
    server_says: str,
) -> None:
    extra = (
        {"model_kwargs": {"reliability_unknown_field": 1}}
        if mode.adapter == "langchain"
        else {"additional_kwargs": {"reliability_unknown_field": 1}}
    )
    model = model_for(emulator, mode, fault, fault_params={"id": uid()}, max_retries=3, **extra)
    error = raises(mode, core_type, lc_type, lambda: ask(model, mode, "Hi"))
    assert isinstance(error, core.BadRequestError)
    others = {core.ContextWindowExceededError, core.ContentFilterError} - {core_type}
    assert not isinstance(error, tuple(others))  # 1210 and 1301 are told apart
    if mode.adapter == "langchain" and core_type is not core.ContextWindowExceededError:
        assert not isinstance(error, ContextOverflowError)
    assert (error.status_code, error.code) == (400, code)
    assert server_says in str(error)
    assert len(emulator.requests) == 1


def test_real_context_overflow_from_a_long_prompt(mode: Mode) -> None:
    with Emulator(context_window=50) as small:
        model = make_model(mode.adapter, base_url=small.base_url, api_key=small.api_key)
        error = raises(
            mode, core.ContextWindowExceededError, ContextOverflowError, lambda: ask(model, mode, "x " * 200)
        )
        assert "Prompt exceeds max length" in str(error)
        assert len(small.requests) == 1


# --------------------------------------------------------------------------- broken streams


@pytest.mark.parametrize("cut", ["clean", "close", "abort"])
@pytest.mark.parametrize("after", [0, 6])
@pytest.mark.parametrize("mode", STREAM_MODES, ids=str)
def test_stream_cut_before_done_is_an_error_never_an_answer(
    emulator: Emulator, mode: Mode, cut: str, after: int
) -> None:
    model = model_for(emulator, mode, "stream_cut", fault_params={"mode": cut, "after": after, "id": uid()})
    error = raises(mode, core.StreamError, ModelConnectionError, lambda: ask(model, mode, STORY))
    assert isinstance(error, core.StreamInterruptedError)
    assert "not a complete answer" in str(error)
    assert isinstance(error.partial, ChatCompletion)
    assert len(emulator.requests) == 1  # data may have flowed: never re-sent


def test_langchain_invoke_over_a_cut_stream_raises(emulator: Emulator) -> None:
    mode = Mode("langchain", sync=True, stream=False)
    model = model_for(emulator, mode, "stream_cut", fault_params={"mode": "close", "id": uid()}, streaming=True)
    raises(mode, core.StreamInterruptedError, ModelConnectionError, lambda: ask(model, mode, STORY))


def test_whole_answer_cut_short_is_an_error_never_an_answer(
    emulator: Emulator, whole_mode: Mode, delays: list[float]
) -> None:
    model = model_for(emulator, whole_mode, "stream_cut", fault_params={"id": uid()}, max_retries=1)
    error = raises(whole_mode, core.AnyFastError, ModelConnectionError, lambda: ask(model, whole_mode, STORY))
    assert isinstance(error, (core.APIConnectionError, core.StreamError, core.MalformedResponseError))
    assert len(emulator.requests) == 2  # a connection dropped before the body was whole: retried once


def test_error_event_mid_stream_carries_the_server_message(emulator: Emulator, mode: Mode) -> None:
    model = model_for(emulator, mode, "error_event", fault_params={"message": "Upstream_exploded_42", "id": uid()})
    core_type = core.StreamEventError if mode.stream else core.APIStatusError
    error = raises(mode, core_type, ModelAPIError if mode.stream else Exception, lambda: ask(model, mode, STORY))
    assert "Upstream_exploded_42" in str(error)
    assert len(emulator.requests) == 1
    if mode.stream:
        assert isinstance(error.partial, ChatCompletion)
        assert error.partial.message.content  # half the story had arrived before the error


@pytest.mark.parametrize("mode", STREAM_MODES, ids=str)
def test_malformed_sse_line_is_a_clear_error(emulator: Emulator, mode: Mode) -> None:
    model = model_for(emulator, mode, "malformed", fault_params={"after": 2, "id": uid()})
    error = raises(mode, core.MalformedResponseError, ModelAPIError, lambda: ask(model, mode, STORY))
    assert "Malformed stream event (not JSON)" in str(error)
    assert not isinstance(error, ValueError)


def test_html_page_under_200_is_a_clear_error(emulator: Emulator, mode: Mode) -> None:
    model = model_for(emulator, mode, "server_error", fault_params={"status": 200, "body": "html", "id": uid()})
    error = raises(mode, core.AnyFastError, Exception, lambda: ask(model, mode, STORY))
    assert isinstance(error, core.MalformedResponseError)  # not JSON, not an event stream: said so
    assert "an HTML page from a proxy, not the API: 200" in str(error)  # its title, not the whole page
    assert "<" not in str(error)
    assert not isinstance(error, ValueError)


def test_error_object_under_200_is_a_typed_error(emulator: Emulator, mode: Mode) -> None:
    model = model_for(emulator, mode, "error_body_200", fault_params={"id": uid()})
    error = raises(mode, core.AnyFastError, Exception, lambda: ask(model, mode, STORY))
    assert "The upstream model failed" in str(error)
    assert not isinstance(error, TypeError)


@pytest.mark.parametrize(
    "quirk",
    ["keepalive;every=2", "crlf", "no_space", "fragment;size=5", "dialect;name=openai", "glm_newlines"],
)
def test_legal_stream_quirks_give_the_same_answer(emulator: Emulator, mode: Mode, quirk: str) -> None:
    """Comment pings, CRLF line ends, ``data:`` without a space, bytes split anywhere, the OpenAI
    usage chunk, GLM's leading newlines: all legal, all read like the plain stream."""
    tag = uid()
    name, *params = quirk.split(";")
    fault_params = dict(p.split("=") for p in params)
    model = model_for(emulator, mode, name, fault_params={**fault_params, "id": tag})
    reply = ask(model, mode, f"Say '{tag}'")
    assert reply.text.strip() == tag
    assert reply.finish_reason == "stop"


# --------------------------------------------------------------------------- finish reasons


HARD_FINISHES = [
    pytest.param("sensitive", core.ContentFilterError, ModelRefusalError, id="sensitive"),
    pytest.param("network_error", core.UpstreamModelError, ModelAPIError, id="network_error"),
    pytest.param("model_context_window_exceeded", core.ContextWindowExceededError, ContextOverflowError,
                 id="model_context_window_exceeded"),
]  # fmt: skip


@pytest.mark.parametrize(("reason", "core_type", "lc_type"), HARD_FINISHES)
def test_hard_finish_reasons_raise_with_the_partial_answer(
    emulator: Emulator, mode: Mode, reason: str, core_type: type[Exception], lc_type: type[Exception]
) -> None:
    model = model_for(emulator, mode, "finish", fault_params={"reason": reason, "id": uid()}, max_retries=3)
    error = raises(mode, core_type, lc_type, lambda: ask(model, mode, STORY))
    assert reason in str(error)
    assert error.code == reason
    assert isinstance(error.partial, ChatCompletion)
    assert error.partial.finish_reason == reason
    assert (error.partial.message.content or "").startswith(STORY_START)  # the half that came, kept for diagnosis
    assert len(emulator.requests) == 1


@pytest.mark.parametrize(("fault", "reason"), [("finish_length", "length"), ("finish_unknown", "something_new")])
def test_length_and_unknown_reasons_are_reported_not_raised(
    emulator: Emulator, mode: Mode, fault: str, reason: str
) -> None:
    params = {"reason": reason} if fault == "finish_unknown" else {}
    model = model_for(emulator, mode, fault, fault_params={**params, "id": uid()})
    reply = ask(model, mode, STORY)
    assert reply.finish_reason == reason
    assert reply.text.startswith(STORY_START)


# =========================================================================== the wire, byte for byte
# Vectors written from the wire notes ("Errors", "How a stream really ends"), served by a scripted
# in-process server to both adapters, sync and async, streamed and whole.

JSON = "application/json"
ZAI_USAGE = b'"usage":{"prompt_tokens":9,"completion_tokens":5,"total_tokens":14}'


def event(delta: bytes, finish: bytes = b"null", extra: bytes = b"") -> bytes:
    """One GLM-style chunk as an SSE event (no ``object``, role on every delta)."""
    return (
        b'data: {"id":"chatcmpl-7","created":1,"model":"glm-5.2","choices":[{"index":0,"delta":{"role":"assistant"'
        + (b"," + delta if delta else b"")
        + b'},"finish_reason":'
        + finish
        + b"}]"
        + extra
        + b"}\n\n"
    )


DONE = b"data: [DONE]\n\n"


def whole(message: bytes, finish: bytes = b'"stop"') -> bytes:
    return (
        b'{"id":"chatcmpl-7","created":1,"model":"glm-5.2","choices":[{"index":0,"finish_reason":'
        + finish
        + b',"message":{"role":"assistant",'
        + message
        + b"}}],"
        + ZAI_USAGE
        + b"}"
    )


def script_answer(server: ScriptedServer, mode: Mode, text: str = "Fine.") -> None:
    if mode.stream:
        server.sse(event(b'"content":' + json.dumps(text).encode()) + event(b"", b'"stop"', b"," + ZAI_USAGE) + DONE)
    else:
        server.raw(200, JSON, whole(b'"content":' + json.dumps(text).encode()))


def same_name_in_both_adapters(mode: Mode, error: BaseException, core_type: type[Exception]) -> None:
    """A failure has one class name whichever adapter raised it (LangChain's twin keeps the core's)."""
    assert type(error).__name__ == core_type.__name__, type(error).__mro__
    if mode.adapter == "langchain":
        assert isinstance(error, ModelError), type(error).__mro__


WIRE_ERRORS = [
    pytest.param(400, JSON, b'{"error":{"code":"1261","message":"Prompt exceeds max length"}}',
                 core.ContextWindowExceededError, ContextOverflowError, "Prompt exceeds max length", id="1261"),
    pytest.param(400, JSON, b'{"error":{"code":"1210","message":"Invalid API parameter: top_p"}}',
                 core.BadRequestError, ModelInvalidRequestError, "Invalid API parameter: top_p", id="1210"),
    pytest.param(400, JSON, b'{"error":{"code":"1301","message":"Unsafe or sensitive content"}}',
                 core.ContentFilterError, ModelRefusalError, "Unsafe or sensitive content", id="1301"),
    pytest.param(400, JSON, b'{"error":{"code":"1211","message":"Model does not exist"}}',
                 core.NotFoundError, ModelNotFoundError, "Model does not exist", id="1211"),
    pytest.param(401, JSON, b'{"error":{"code":"1002","message":"Invalid token"}}',
                 core.AuthenticationError, ModelAuthenticationError, "Invalid token", id="1002"),
    pytest.param(403, JSON, b'{"error":{"code":"1112","message":"Account locked"}}',
                 core.PermissionDeniedError, ModelPermissionDeniedError, "Account locked", id="1112"),
    pytest.param(429, JSON, b'{"error":{"code":"1113","message":"Account in arrears"}}',
                 core.QuotaExceededError, ModelRateLimitError, "Account in arrears", id="1113"),
    pytest.param(429, JSON, b'{"error":{"code":"1310","message":"Weekly limit reached"}}',
                 core.QuotaExceededError, ModelRateLimitError, "Weekly limit reached", id="1310"),
    pytest.param(403, JSON, b'{"error":{"message":"user quota is not enough (request id: 2025A1)",'
                 b'"type":"new_api_error","code":"insufficient_user_quota"}}',
                 core.QuotaExceededError, ModelRateLimitError, "request id: 2025A1", id="insufficient_user_quota"),
    pytest.param(503, JSON, b'{"error":{"message":"no available channel for model glm-5.2","type":"new_api_error",'
                 b'"code":"model_not_found"},"request_id":"2025A2"}',
                 core.NotFoundError, ModelNotFoundError, "(request id: 2025A2)", id="503-model_not_found"),
    pytest.param(400, JSON, b'{"code":70000,"msg":"model is busy, try later"}',
                 core.BadRequestError, ModelInvalidRequestError, "model is busy, try later", id="bare-code-msg"),
    pytest.param(200, JSON, b'{"error":{"message":"The upstream model failed","type":"server_error"}}',
                 core.ServerError, ModelAPIError, "The upstream model failed", id="error-object-under-200"),
    pytest.param(501, "text/plain", b"upstream connect error or disconnect/reset before headers\n",
                 core.ServerError, ModelAPIError, "upstream connect error", id="plain-text"),
    pytest.param(501, "text/html", b"<html><head><title>501 Not Implemented</title></head><body><p>"
                 + b"x" * 5000 + b"</p></body></html>",
                 core.ServerError, ModelAPIError, "an HTML page from a proxy, not the API: 501 Not Implemented",
                 id="html-page"),
]  # fmt: skip


@pytest.mark.parametrize(("status", "content_type", "body", "core_type", "lc_type", "says"), WIRE_ERRORS)
def test_error_bodies_on_the_wire(
    mode: Mode,
    delays: list[float],
    status: int,
    content_type: str,
    body: bytes,
    core_type: type[Exception],
    lc_type: type[Exception],
    says: str,
) -> None:
    """Every error shape reaches the user typed, with the server's words (and request id), not retried."""
    server = ScriptedServer()
    server.raw(status, content_type, body)  # a second request would find the queue empty and fail the test
    model = scripted_model(mode.adapter, server, max_retries=3)
    error = raises(mode, core_type, lc_type, lambda: ask(model, mode, "Hi"))
    same_name_in_both_adapters(mode, error, core_type)
    assert says in str(error)
    assert len(str(error)) < 700  # a page is summarised, never dumped
    assert (len(server.requests), delays) == (1, [])


@pytest.mark.parametrize(
    ("status", "body"),
    [
        pytest.param(429, b'{"error":{"code":"1302","message":"Concurrency too high"}}', id="1302"),
        pytest.param(429, b'{"error":{"code":"1305","message":"Rate limit"}}', id="1305"),
        pytest.param(503, b'{"error":{"message":"overloaded","type":"new_api_error","code":""}}', id="503"),
    ],
)
def test_rate_limits_and_passing_failures_are_retried_after_retry_after(
    mode: Mode, delays: list[float], status: int, body: bytes
) -> None:
    server = ScriptedServer()
    server.raw(status, JSON, body, {"retry-after": "0.5"})
    script_answer(server, mode, "Fine.")
    reply = ask(scripted_model(mode.adapter, server, max_retries=2), mode, "Hi")
    assert (reply.text, delays, len(server.requests)) == ("Fine.", [0.5], 2)


STREAM_ENDINGS = [
    pytest.param(event(b'"content":"Half an"') + b'data: {"id":"chatcmpl-7","choices":[],' + ZAI_USAGE + b"}\n\n"
                 + DONE, core.StreamInterruptedError, ModelConnectionError, "without a finish reason",
                 id="usage-and-done-without-finish"),
    pytest.param(event(b'"content":"Half an"') + DONE, core.StreamInterruptedError, ModelConnectionError,
                 "without a finish reason", id="done-without-finish"),
    pytest.param(event(b'"content":"Half an"'), core.StreamInterruptedError, ModelConnectionError,
                 "before data: [DONE]", id="eof-without-finish"),
    pytest.param(event(b'"content":"Half an"') + event(b"", b'"abort"') + DONE, core.UpstreamModelError,
                 ModelAPIError, "abort", id="abort"),
    pytest.param(event(b'"content":"Half an"') + event(b"", b'"network_error"') + DONE, core.UpstreamModelError,
                 ModelAPIError, "network_error", id="network_error"),
    pytest.param(event(b'"content":"Half an"') + event(b'"content":""', b'"tool_calls"', b"," + ZAI_USAGE) + DONE,
                 core.UpstreamModelError, ModelAPIError, "no tool call", id="tool_calls-without-a-call"),
    pytest.param(event(b'"content":"Half an"') + b'data: {"error":{"code":"1301","message":"Unsafe content"}}\n\n',
                 core.ContentFilterError, ModelRefusalError, "Unsafe content", id="error-event-1301"),
    pytest.param(event(b'"content":"Half an"') + b'data: {"error":{"message":"upstream died",'
                 b'"type":"server_error"}}\n\n', core.StreamEventError, ModelAPIError, "upstream died",
                 id="error-event"),
]  # fmt: skip


@pytest.mark.parametrize("mode", STREAM_MODES, ids=str)
@pytest.mark.parametrize(("body", "core_type", "lc_type", "says"), STREAM_ENDINGS)
def test_a_stream_is_an_answer_only_if_it_finished(
    mode: Mode, body: bytes, core_type: type[Exception], lc_type: type[Exception], says: str
) -> None:
    server = ScriptedServer()
    server.sse(body)
    model = scripted_model(mode.adapter, server, max_retries=3)
    error = raises(mode, core_type, lc_type, lambda: ask(model, mode, "Hi"))
    same_name_in_both_adapters(mode, error, core_type)
    assert says in str(error)
    assert isinstance(error.partial, ChatCompletion)
    assert error.partial.message.content == "Half an"  # what arrived, for diagnosis, never as an answer
    assert len(server.requests) == 1


@pytest.mark.parametrize("mode", WHOLE_MODES, ids=str)
@pytest.mark.parametrize("reason", ["abort", "tool_calls"])
def test_a_whole_answer_that_failed_upstream_raises(mode: Mode, reason: str) -> None:
    server = ScriptedServer()
    server.raw(200, JSON, whole(b'"content":"Half an"', json.dumps(reason).encode()))
    error = raises(
        mode, core.UpstreamModelError, ModelAPIError, lambda: ask(scripted_model(mode.adapter, server), mode, "Hi")
    )
    same_name_in_both_adapters(mode, error, core.UpstreamModelError)
    assert error.partial.message.content == "Half an"


@pytest.mark.parametrize("mode", STREAM_MODES, ids=str)
def test_done_with_trailing_whitespace_ends_an_answer(mode: Mode) -> None:
    server = ScriptedServer()
    server.sse(event(b'"content":"All of it"') + event(b"", b'"stop"', b"," + ZAI_USAGE) + b"data: [DONE] \t\r\n\r\n")
    reply = ask(scripted_model(mode.adapter, server), mode, "Hi")
    assert (reply.text, reply.finish_reason, reply.usage) == ("All of it", "stop", True)


REASONING_CARRIERS = [
    pytest.param(
        event(b'"reasoning":"The user "') + event(b'"reasoning":"greets me."') + event(b'"content":"Hello!"')
        + event(b"", b'"stop"') + DONE,
        whole(b'"content":"Hello!","reasoning":"The user greets me."'),
        id="reasoning-field",
    ),
    pytest.param(
        event(b'"content":"<thi"') + event(b'"content":"nk>The user "') + event(b'"content":"greets me.</"')
        + event(b'"content":"think>\\n\\nHel"') + event(b'"content":"lo!"', b'"stop"') + DONE,
        whole(b'"content":"<think>The user greets me.</think>\\n\\nHello!"'),
        id="think-block-tags-straddling-chunks",
    ),
    pytest.param(
        event(b'"reasoning_content":"The user greets me."') + event(b'"content":"Hello!"', b'"stop"') + DONE,
        whole(b'"content":"Hello!","reasoning_content":"The user greets me."'),
        id="reasoning_content",
    ),
]  # fmt: skip


@pytest.mark.parametrize(("stream_body", "whole_body"), REASONING_CARRIERS)
def test_reasoning_from_any_carrier_is_reasoning_never_the_answer(
    mode: Mode, stream_body: bytes, whole_body: bytes
) -> None:
    server = ScriptedServer()
    server.sse(stream_body) if mode.stream else server.raw(200, JSON, whole_body)
    reply = ask(scripted_model(mode.adapter, server), mode, "Hi")
    assert (reply.reasoning, reply.text) == ("The user greets me.", "Hello!")


class Pick(BaseModel):
    name: str
    n: int


DECOY = b'"<think>Maybe {\\"name\\": \\"decoy\\", \\"n\\": 0}? No.</think>\\n{\\"name\\": \\"real\\", \\"n\\": 1}"'


@pytest.mark.parametrize("adapter", ADAPTERS)
@pytest.mark.parametrize("sync", [True, False], ids=["sync", "async"])
def test_json_mode_reads_only_the_answer_not_json_quoted_in_the_reasoning(adapter: Adapter, sync: bool) -> None:
    server = ScriptedServer()
    server.raw(200, JSON, whole(b'"content":' + DECOY))
    if adapter == "langchain":
        runnable = scripted_model(adapter, server).with_structured_output(Pick, method="json_mode")
        result = runnable.invoke("Pick") if sync else asyncio.run(runnable.ainvoke("Pick"))
    else:
        from llama_index.core.prompts import PromptTemplate

        llm = scripted_model(adapter, server, pydantic_program_mode="llm")
        prompt = PromptTemplate("Pick")
        result = llm.structured_predict(Pick, prompt) if sync else asyncio.run(llm.astructured_predict(Pick, prompt))
    assert result == Pick(name="real", n=1)


@pytest.mark.parametrize("mode", STREAM_MODES, ids=str)
def test_a_fresh_id_on_every_fragment_is_still_one_tool_call(mode: Mode) -> None:
    """Same index, name only on the first fragment, a new id on each: one call, not four."""
    fragments = [b'{\\"a\\": ', b"2, ", b'\\"b\\": ', b"3}"]
    body = event(b'"tool_calls":[{"index":0,"id":"call_0","type":"function","function":{"name":"add","arguments":""}}]')
    for n, piece in enumerate(fragments, start=1):
        body += event(b'"tool_calls":[{"index":0,"id":"call_%d","function":{"arguments":"%s"}}]' % (n, piece))
    server = ScriptedServer()
    server.sse(body + event(b"", b'"tool_calls"') + DONE)
    reply = ask(scripted_model(mode.adapter, server), mode, "Add 2 and 3")
    assert [(name, json.loads(arguments)) for name, arguments in reply.tool_calls] == [("add", {"a": 2, "b": 3})]


@pytest.mark.parametrize("mode", STREAM_MODES, ids=str)
@pytest.mark.parametrize("behaviour", ["silent", "pings"])
def test_a_silent_stream_ends_in_a_stream_idle_timeout(mode: Mode, behaviour: str) -> None:
    with StallingServer(behaviour) as stalling:
        model = make_model(
            mode.adapter, base_url=stalling.base_url, api_key=GOOD_KEY, timeout=30, stream_idle_timeout=0.3
        )
        start = time.perf_counter()
        error = raises(mode, core.StreamIdleTimeoutError, ModelTimeoutError, lambda: ask(model, mode, "Hi"))
        assert time.perf_counter() - start < 3  # not the 30 s read timeout
        same_name_in_both_adapters(mode, error, core.StreamIdleTimeoutError)
        assert isinstance(error, core.APITimeoutError)
        assert "stream_idle_timeout" in str(error)
        assert error.partial.message.content == "Hel"
        assert stalling.posts == 1


@pytest.mark.parametrize("adapter", ADAPTERS)
def test_the_idle_limit_is_a_checked_setting(adapter: Adapter) -> None:
    model = make_model(adapter, base_url=SCRIPTED_BASE_URL, api_key=GOOD_KEY, stream_idle_timeout=45)
    assert core_client_of(model, sync=True).stream_idle_timeout == 45
    assert core_client_of(make_model(adapter, base_url=SCRIPTED_BASE_URL, api_key=GOOD_KEY), sync=False)\
        .stream_idle_timeout == core.DEFAULT_STREAM_IDLE_TIMEOUT  # fmt: skip
    assert (
        core_client_of(
            make_model(adapter, base_url=SCRIPTED_BASE_URL, api_key=GOOD_KEY, stream_idle_timeout=None), sync=True
        ).stream_idle_timeout
        is None
    )
    with pytest.raises(ValueError, match="stream_idle_timeout"):
        make_model(adapter, base_url=SCRIPTED_BASE_URL, api_key=GOOD_KEY, stream_idle_timeout=0)


# =========================================================================== what real gateways do, emulated
# The emulator's real-traffic faults (the wire notes' "Errors" and "How a stream really ends"), through both
# adapters: what a user testing their own code against the emulator will see.


@pytest.mark.parametrize("mode", STREAM_MODES, ids=str)
@pytest.mark.parametrize("fault", ["done_after_cut", "no_finish"])
def test_emulated_streams_without_a_finish_reason_are_not_answers(emulator: Emulator, mode: Mode, fault: str) -> None:
    model = model_for(emulator, mode, fault, fault_params={"id": uid()}, max_retries=3)
    error = raises(mode, core.StreamInterruptedError, ModelConnectionError, lambda: ask(model, mode, STORY))
    same_name_in_both_adapters(mode, error, core.StreamInterruptedError)
    assert "without a finish reason" in str(error)
    assert (error.partial.message.content or "").startswith(STORY_START)
    assert len(emulator.requests) == 1


@pytest.mark.parametrize("fault", ["finish_abort", "empty_tool_calls"])
def test_emulated_upstream_failures_raise(emulator: Emulator, mode: Mode, fault: str) -> None:
    model = model_for(emulator, mode, fault, fault_params={"id": uid()}, max_retries=3)
    error = raises(mode, core.UpstreamModelError, ModelAPIError, lambda: ask(model, mode, STORY))
    same_name_in_both_adapters(mode, error, core.UpstreamModelError)
    assert isinstance(error.partial, ChatCompletion)
    assert len(emulator.requests) == 1


@pytest.mark.parametrize("fault", ["reasoning_field", "think_tags", "done_whitespace"])
def test_emulated_answers_in_other_carriers_read_like_the_plain_one(emulator: Emulator, mode: Mode, fault: str) -> None:
    tag = uid()
    reply = ask(model_for(emulator, mode, fault, fault_params={"id": tag}), mode, f"Say '{tag}'")
    assert (reply.text.strip(), reply.finish_reason) == (tag, "stop")
    assert reply.reasoning
    assert "think>" not in reply.text + reply.reasoning


@pytest.mark.parametrize("mode", STREAM_MODES, ids=str)
def test_emulated_stall_ends_in_a_stream_idle_timeout(emulator: Emulator, mode: Mode) -> None:
    model = model_for(emulator, mode, "stall", fault_params={"seconds": 5, "id": uid()}, stream_idle_timeout=0.3)
    start = time.perf_counter()
    error = raises(mode, core.StreamIdleTimeoutError, ModelTimeoutError, lambda: ask(model, mode, STORY))
    assert time.perf_counter() - start < 3
    assert isinstance(error.partial, ChatCompletion)
    assert len(emulator.requests) == 1


EMULATED_ERRORS = [
    pytest.param("zai_error", {"code": "1261"}, core.ContextWindowExceededError, ContextOverflowError, id="1261"),
    pytest.param("zai_error", {"code": "1210"}, core.BadRequestError, ModelInvalidRequestError, id="1210"),
    pytest.param("zai_error", {"code": "1214"}, core.BadRequestError, ModelInvalidRequestError, id="1214"),
    pytest.param("zai_error", {"code": "1211"}, core.NotFoundError, ModelNotFoundError, id="1211"),
    pytest.param("zai_error", {"code": "1003"}, core.AuthenticationError, ModelAuthenticationError, id="1003"),
    pytest.param("zai_error", {"code": "1112"}, core.PermissionDeniedError, ModelPermissionDeniedError, id="1112"),
    pytest.param("zai_error", {"code": "1113"}, core.QuotaExceededError, ModelRateLimitError, id="1113"),
    pytest.param("zai_error", {"code": "1304"}, core.QuotaExceededError, ModelRateLimitError, id="1304"),
    pytest.param("zai_error", {"code": "1309"}, core.QuotaExceededError, ModelRateLimitError, id="1309"),
    pytest.param("zai_error", {"code": "1310"}, core.QuotaExceededError, ModelRateLimitError, id="1310"),
    pytest.param("zai_error", {"code": "1301"}, core.ContentFilterError, ModelRefusalError, id="1301"),
    pytest.param("insufficient_user_quota", {}, core.QuotaExceededError, ModelRateLimitError, id="user-quota-403"),
    pytest.param("insufficient_user_quota", {"status": 429}, core.QuotaExceededError, ModelRateLimitError,
                 id="user-quota-429"),
    pytest.param("model_not_found", {}, core.NotFoundError, ModelNotFoundError, id="model_not_found-503"),
]  # fmt: skip


@pytest.mark.parametrize(("fault", "params", "core_type", "lc_type"), EMULATED_ERRORS)
def test_emulated_error_codes_are_typed_and_not_retried(
    emulator: Emulator,
    mode: Mode,
    delays: list[float],
    fault: str,
    params: dict[str, Any],
    core_type: type[Exception],
    lc_type: type[Exception],
) -> None:
    model = model_for(emulator, mode, fault, fault_params={**params, "id": uid()}, max_retries=3)
    error = raises(mode, core_type, lc_type, lambda: ask(model, mode, "Hi"))
    same_name_in_both_adapters(mode, error, core_type)
    if "code" in params:
        assert ZAI_CODES[params["code"]][1] in str(error)  # the server's words
    assert (len(emulator.requests), delays) == (1, [])


@pytest.mark.parametrize("code", ["1302", "1303", "1305"])
def test_emulated_rate_limit_codes_are_retried(emulator: Emulator, mode: Mode, delays: list[float], code: str) -> None:
    tag = uid()
    model = model_for(emulator, mode, "zai_error", fault_params={"code": code, "times": 1, "id": tag})
    assert ask(model, mode, f"Say '{tag}'").text.strip() == tag
    assert len(emulator.requests) == 2


ERROR_SHAPES = [
    pytest.param("zai", core.ContextWindowExceededError, ContextOverflowError, "Prompt exceeds max length", id="zai"),
    pytest.param("gateway", core.ContextWindowExceededError, ContextOverflowError, "(request id: ", id="gateway"),
    pytest.param("bare", core.ContextWindowExceededError, ContextOverflowError, "Prompt exceeds max length", id="bare"),
    pytest.param("text", core.ContextWindowExceededError, ContextOverflowError, "Prompt exceeds max length", id="text"),
    pytest.param("html", core.BadRequestError, ModelInvalidRequestError, "an HTML page from a proxy", id="html"),
]  # fmt: skip


@pytest.mark.parametrize(("shape", "core_type", "lc_type", "says"), ERROR_SHAPES)
def test_emulated_error_shapes_reach_the_user_typed(
    emulator: Emulator,
    mode: Mode,
    delays: list[float],
    shape: str,
    core_type: type[Exception],
    lc_type: type[Exception],
    says: str,
) -> None:
    """The same 1261 worded as Z.ai, as the gateway, bare, as text and as a proxy's page (where the code is lost)."""
    key = fault_key("zai_error", code="1261", id=uid()) + "+" + fault_spec("error_shape", shape=shape).replace(";", "~")
    model = make_model(mode.adapter, base_url=emulator.base_url, api_key=key, max_retries=3)
    error = raises(mode, core_type, lc_type, lambda: ask(model, mode, "Hi"))
    same_name_in_both_adapters(mode, error, core_type)
    assert says in str(error)
    assert "<" not in str(error)
    assert (len(emulator.requests), delays) == (1, [])
