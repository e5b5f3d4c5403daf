"""The fault table: every fault through both adapters, sync and async, streamed and whole.

Each row sends real HTTP to the loopback emulator with the fault named in the API key (the one
fault channel both adapters share) and a fault id unique to the test, then checks what the user
gets (answer or typed error), how many requests the server saw, and how long it took.
"""

from __future__ import annotations

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
    ModelInvalidRequestError,
    ModelRateLimitError,
    ModelRefusalError,
    ModelTimeoutError,
)
from reliability_support import GOOD_KEY, STREAM_MODES, Mode, ask, make_model, uid

import anyfast_core as core
from anyfast_core import ChatCompletion
from anyfast_emulator import Emulator

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
    pytest.param("context_overflow", core.ContextWindowExceededError, ContextOverflowError, "1210",
                 "Prompt exceeds max length", id="1210-context-overflow"),
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


def test_length_is_reported_not_raised(emulator: Emulator, mode: Mode) -> None:
    model = model_for(emulator, mode, "finish_length", fault_params={"id": uid()})
    reply = ask(model, mode, STORY)
    assert reply.finish_reason == "length"
    assert reply.text.startswith(STORY_START)
