"""What is retried, how long the client waits, and when it stops: through both clients."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime, timedelta, timezone
from email.utils import format_datetime
from typing import Any

import httpx
import pytest
from core_support import Body, Harness, chunk, completion_body, json_response, sse, sse_response

from anyfast_core import (
    APIConnectionError,
    APIStatusError,
    APITimeoutError,
    AuthenticationError,
    BadRequestError,
    ContentFilterError,
    ContextWindowExceededError,
    NotFoundError,
    PermissionDeniedError,
    QuotaExceededError,
    RateLimitError,
    RetryPolicy,
    ServerError,
    StreamInterruptedError,
)
from anyfast_core.errors import retry_after_seconds

OK = json_response(200, completion_body())


def error(status: int, code: str | None = None, headers: dict[str, str] | None = None) -> httpx.Response:
    body: dict[str, Any] = {"error": {"message": f"status {status}"}}
    if code is not None:
        body["error"]["code"] = code
    return json_response(status, body, headers)


@pytest.mark.parametrize(
    ("status", "code"),
    [(408, None), (429, "1302"), (429, None), (500, None), (502, None), (503, None), (504, None)],
)
def test_passing_failures_are_retried_then_succeed(
    harness: Callable[..., Harness], delays: list[float], status: int, code: str | None
) -> None:
    h = harness(error(status, code), error(status, code), OK, max_retries=2)
    assert h.chat().message.content == "Hello!"
    assert len(h.server.requests) == 3
    assert len(delays) == 2
    assert all(0 < d <= 8 for d in delays)


@pytest.mark.parametrize(
    ("status", "code", "cls"),
    [
        (400, None, BadRequestError),
        (400, "1261", ContextWindowExceededError),
        (400, "1210", BadRequestError),
        (429, "1310", QuotaExceededError),
        (403, "insufficient_user_quota", QuotaExceededError),
        (503, "model_not_found", NotFoundError),
        (400, "1301", ContentFilterError),
        (401, None, AuthenticationError),
        (403, None, PermissionDeniedError),
        (404, None, NotFoundError),
        (429, "1113", QuotaExceededError),
        (429, "1308", QuotaExceededError),
        (501, None, ServerError),
        (500, "1301", ContentFilterError),
    ],
)
def test_lasting_failures_are_not_retried(
    harness: Callable[..., Harness],
    delays: list[float],
    status: int,
    code: str | None,
    cls: type[APIStatusError],
) -> None:
    h = harness(error(status, code), OK, max_retries=5)
    with pytest.raises(cls):
        h.chat()
    assert len(h.server.requests) == 1
    assert delays == []


def test_max_retries_bounds_the_attempts(harness: Callable[..., Harness], delays: list[float]) -> None:
    for max_retries in (0, 1, 3):
        delays.clear()
        h = harness(error(503), max_retries=max_retries)
        with pytest.raises(ServerError):
            h.chat()
        assert len(h.server.requests) == max_retries + 1
        assert len(delays) == max_retries


def test_backoff_grows_exponentially_with_jitter(harness: Callable[..., Harness], delays: list[float]) -> None:
    h = harness(error(500), max_retries=5)
    with pytest.raises(ServerError):
        h.chat()
    # initial 0.5 s doubling, jitter takes off at most a quarter, capped at 8 s.
    for attempt, delay in enumerate(delays):
        ceiling = min(0.5 * 2**attempt, 8.0)
        assert 0.75 * ceiling <= delay <= ceiling


@pytest.mark.parametrize(
    ("headers", "expected"),
    [
        ({"retry-after": "3"}, 3.0),
        ({"retry-after": "0"}, 0.0),
        ({"retry-after": "1.5"}, 1.5),
        ({"retry-after-ms": "250"}, 0.25),
        ({"retry-after-ms": "250", "retry-after": "9"}, 0.25),
    ],
)
def test_retry_after_seconds_is_honoured(
    harness: Callable[..., Harness], delays: list[float], headers: dict[str, str], expected: float
) -> None:
    h = harness(error(429, "1302", headers), OK)
    h.chat()
    assert delays == [expected]


def test_retry_after_http_date_is_honoured(harness: Callable[..., Harness], delays: list[float]) -> None:
    when = datetime.now(timezone.utc) + timedelta(seconds=30)
    h = harness(error(503, headers={"retry-after": format_datetime(when, usegmt=True)}), OK)
    h.chat()
    assert len(delays) == 1
    assert 27 <= delays[0] <= 30


def test_unreadable_retry_after_falls_back_to_backoff(harness: Callable[..., Harness], delays: list[float]) -> None:
    h = harness(error(429, headers={"retry-after": "soon"}), OK)
    h.chat()
    assert len(delays) == 1
    assert 0.375 <= delays[0] <= 0.5


def test_retry_after_longer_than_the_cap_raises_at_once(harness: Callable[..., Harness], delays: list[float]) -> None:
    h = harness(error(429, "1302", {"retry-after": "3600"}), OK)
    with pytest.raises(RateLimitError) as info:
        h.chat()
    assert info.value.retry_after == 3600
    assert len(h.server.requests) == 1
    assert delays == []


def test_retry_after_seconds_parsing() -> None:
    assert retry_after_seconds({}) is None
    assert retry_after_seconds({"retry-after": "nonsense"}) is None
    assert retry_after_seconds({"retry-after": "-5"}) == 0.0
    assert retry_after_seconds({"retry-after": "inf"}) is None
    assert retry_after_seconds({"retry-after": "Wed, 21 Oct 2015 07:28:00 GMT"}) == 0.0  # in the past
    assert retry_after_seconds({"retry-after-ms": "x", "retry-after": "2"}) == 2.0


def test_retry_policy_rejects_bad_max_retries() -> None:
    for bad in (-1, 1.5, True, "2"):
        with pytest.raises(ValueError, match="max_retries"):
            RetryPolicy(max_retries=bad)  # type: ignore[arg-type]


def test_connect_errors_are_retried_then_raise_a_connection_error(
    harness: Callable[..., Harness], delays: list[float]
) -> None:
    h = harness(httpx.ConnectError("connection refused"), max_retries=2)
    with pytest.raises(APIConnectionError) as info:
        h.chat()
    assert type(info.value) is APIConnectionError
    assert "connection refused" in info.value.message
    assert len(h.server.requests) == 3
    assert len(delays) == 2


def test_connect_error_then_success(harness: Callable[..., Harness], delays: list[float]) -> None:
    h = harness(httpx.ConnectError("refused"), httpx.RemoteProtocolError("disconnected"), OK)
    assert h.chat().message.content == "Hello!"
    assert len(h.server.requests) == 3


@pytest.mark.parametrize(
    ("exc", "retried"),
    [
        (httpx.ConnectTimeout("connect"), True),
        (httpx.PoolTimeout("pool"), True),
        (httpx.ReadTimeout("read"), False),
        (httpx.WriteTimeout("write"), False),
    ],
)
def test_timeouts_retry_only_before_the_request_reached_the_server(
    harness: Callable[..., Harness], delays: list[float], exc: Exception, retried: bool
) -> None:
    h = harness(exc, max_retries=2)
    with pytest.raises(APITimeoutError) as info:
        h.chat()
    assert len(h.server.requests) == (3 if retried else 1)
    assert "timed out" in info.value.message
    assert "timeout=" in info.value.message


def test_stream_is_retried_before_it_starts(harness: Callable[..., Harness], delays: list[float]) -> None:
    body = sse(chunk({"content": "Hi"}), chunk({}, "stop"))
    h = harness(error(503), httpx.ConnectError("refused"), lambda _: sse_response(body))
    _deltas, completion = h.stream()
    assert completion.message.content == "Hi"
    assert len(h.server.requests) == 3


def test_stream_is_not_retried_after_its_first_byte(harness: Callable[..., Harness], delays: list[float]) -> None:
    def cut(_: httpx.Request) -> httpx.Response:
        return sse_response(Body([sse(chunk({"content": "Hel"}), done=False)], httpx.RemoteProtocolError("reset")))

    h = harness(cut, max_retries=3)
    deltas, exc = h.stream_deltas_then_error()
    assert isinstance(exc, StreamInterruptedError)
    assert [d.content for d in deltas] == ["Hel"]
    assert len(h.server.requests) == 1
    assert delays == []


def test_read_timeout_mid_stream_is_a_timeout_with_the_partial(
    harness: Callable[..., Harness], delays: list[float]
) -> None:
    def slow(_: httpx.Request) -> httpx.Response:
        return sse_response(Body([sse(chunk({"content": "Hel"}), done=False)], httpx.ReadTimeout("read")))

    h = harness(slow, max_retries=3)
    _deltas, exc = h.stream_deltas_then_error()
    assert isinstance(exc, APITimeoutError)
    assert exc.partial is not None
    assert exc.partial.message.content == "Hel"
    assert len(h.server.requests) == 1


def test_retries_are_logged_without_headers(
    harness: Callable[..., Harness], delays: list[float], caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.INFO, logger="anyfast_core"):
        harness(error(503), OK).chat()
    (record,) = [r for r in caplog.records if r.name == "anyfast_core"]
    assert "Retrying POST /v1/chat/completions" in record.getMessage()
    assert "ServerError" in record.getMessage()
