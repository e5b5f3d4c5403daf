"""A stream that goes silent ends in a StreamIdleTimeoutError at ``stream_idle_timeout``, carrying what
arrived, instead of hanging for the read timeout. Over real loopback sockets: the idle limit is a
socket read timeout as much as a clock over events, and only a real socket shows both."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import pytest
from core_support import Harness
from testkit import StallingServer

from anyfast_core import APITimeoutError, StreamIdleTimeoutError
from anyfast_core.settings import DEFAULT_STREAM_IDLE_TIMEOUT


@pytest.fixture
def stalling(request: pytest.FixtureRequest) -> Iterator[StallingServer]:
    with StallingServer(request.param) as server:
        yield server


def harness_for(mode: str, server: StallingServer, **settings: Any) -> Harness:
    settings.setdefault("timeout", 30)
    return Harness(mode, None, base_url=server.base_url, api_key="sk-idle-test", **settings)


@pytest.mark.parametrize("stalling", ["silent", "pings"], indirect=True)
def test_a_stream_silent_after_its_first_event_times_out_with_the_partial(mode: str, stalling: StallingServer) -> None:
    start = time.monotonic()
    deltas, exc = harness_for(mode, stalling, stream_idle_timeout=0.3).stream_deltas_then_error()
    elapsed = time.monotonic() - start
    assert isinstance(exc, StreamIdleTimeoutError)
    assert isinstance(exc, APITimeoutError)
    assert 0.3 <= elapsed < 3, elapsed  # not the 30 s read timeout
    assert "stream_idle_timeout" in str(exc)
    assert [d.content for d in deltas] == ["Hel"]
    assert exc.partial.message.content == "Hel"
    assert not exc.is_retryable
    assert stalling.posts == 1


@pytest.mark.parametrize("stalling", ["no_events", "no_headers"], indirect=True)
def test_a_stream_silent_from_the_start_times_out(mode: str, stalling: StallingServer) -> None:
    start = time.monotonic()
    _, exc = harness_for(mode, stalling, stream_idle_timeout=0.3, max_retries=2).stream_deltas_then_error()
    assert isinstance(exc, StreamIdleTimeoutError)
    assert time.monotonic() - start < 3
    assert stalling.posts == 1  # never re-sent: the server may be working on it


@pytest.mark.parametrize("stalling", ["trickle"], indirect=True)
def test_an_event_arriving_slowly_is_progress_not_silence(mode: str, stalling: StallingServer) -> None:
    _, completion = harness_for(mode, stalling, stream_idle_timeout=0.3).stream()
    assert completion.message.content == "Hello"
    assert completion.finish_reason == "stop"


@pytest.mark.parametrize("stalling", ["steady"], indirect=True)
def test_a_slow_but_steady_stream_is_not_cut(mode: str, stalling: StallingServer) -> None:
    deltas, completion = harness_for(mode, stalling, stream_idle_timeout=0.3).stream()
    assert completion.message.content == "Hel" * 11 + "lo"
    assert len(deltas) == 12


@pytest.mark.parametrize("stalling", ["silent"], indirect=True)
def test_without_an_idle_limit_the_read_timeout_governs(mode: str, stalling: StallingServer) -> None:
    start = time.monotonic()
    _, exc = harness_for(mode, stalling, stream_idle_timeout=None, timeout=0.4).stream_deltas_then_error()
    assert isinstance(exc, APITimeoutError)
    assert not isinstance(exc, StreamIdleTimeoutError)
    assert "read timeout of 0.4s" in str(exc)
    assert time.monotonic() - start < 3


def test_the_idle_limit_does_not_shorten_whole_answers() -> None:
    from anyfast_core import AnyFastClient

    client = AnyFastClient(api_key="k", stream_idle_timeout=5)
    assert client._timeout(stream=False).read == 600
    assert client._timeout(stream=True).read == 5
    assert AnyFastClient(api_key="k", timeout=2)._timeout(stream=True).read == 2  # a shorter read timeout stands
    assert AnyFastClient(api_key="k")._timeout(stream=True).read == DEFAULT_STREAM_IDLE_TIMEOUT


@pytest.mark.parametrize("bad", [0, -1, float("inf"), float("nan"), "30", True])
def test_bad_idle_limits_are_refused(bad: Any) -> None:
    from anyfast_core import AnyFastClient

    with pytest.raises(ValueError, match="stream_idle_timeout"):
        AnyFastClient(api_key="k", stream_idle_timeout=bad)
