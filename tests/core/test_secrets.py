"""The API key never shows: not in reprs, messages, exception chains, tracebacks or logs."""

from __future__ import annotations

import asyncio
import logging
import traceback
from collections.abc import Callable

import httpx
import pytest
from core_support import KEY, Body, Harness, chunk, json_response, request, sse, sse_response
from testkit import exception_chain as chain

from anyfast_core import AnyFastClient, AnyFastError, AsyncAnyFastClient
from anyfast_core.settings import resolve_api_key
from anyfast_emulator import Emulator


def assert_no_key(exc: BaseException) -> None:
    text = "".join(traceback.format_exception(type(exc), exc, exc.__traceback__))
    assert KEY not in text
    for link in chain(exc):
        assert KEY not in str(link)
        assert KEY not in repr(link)
        assert KEY not in repr(getattr(link, "partial", None))
        assert KEY not in repr(link.args)


def echo_key(status: int) -> Callable[[httpx.Request], httpx.Response]:
    """A server that quotes the Authorization header back, as some do in auth errors."""

    def reply(req: httpx.Request) -> httpx.Response:
        return json_response(status, {"error": {"message": f"Bad key: {req.headers['authorization']}"}})

    return reply


def test_clients_do_not_show_the_key() -> None:
    for client in (AnyFastClient(api_key=KEY), AsyncAnyFastClient(api_key=KEY)):
        for text in (repr(client), str(client), repr(vars(client)), repr(client.api_key)):
            assert KEY not in text
        assert client.api_key is not None
        assert client.api_key.get_secret_value() == KEY  # kept, only hidden


def test_secret_str_key_is_accepted_and_hidden() -> None:
    secret = resolve_api_key(KEY)
    assert secret is not None
    assert KEY not in repr(secret)
    assert KEY not in str(secret)
    assert AnyFastClient(api_key=secret).api_key is not None


@pytest.mark.parametrize(
    "replies",
    [
        pytest.param([echo_key(401)], id="401-echo"),
        pytest.param([echo_key(400)], id="400-echo"),
        pytest.param([echo_key(200)], id="200-error-body-echo"),
        pytest.param([echo_key(503)], id="503-echo-retried"),
        pytest.param([httpx.ConnectError("refused")], id="connect-error"),
        pytest.param([httpx.ReadTimeout("slow")], id="read-timeout"),
        pytest.param([lambda _: json_response(200, b"garbage")], id="malformed"),
    ],
)
def test_errors_do_not_show_the_key(
    harness: Callable[..., Harness], delays: list[float], replies: list[object]
) -> None:
    with pytest.raises(AnyFastError) as info:
        harness(*replies).chat()
    assert_no_key(info.value)
    with pytest.raises(AnyFastError) as info:
        harness(*replies).stream()
    assert_no_key(info.value)


@pytest.mark.parametrize(
    "body",
    [
        pytest.param(Body([sse(chunk({"content": "x"}), done=False)], httpx.ReadError("reset")), id="reset"),
        pytest.param(Body([sse(chunk({"content": "x"}), done=False)], httpx.ReadTimeout("slow")), id="timeout"),
        pytest.param(Body([sse(chunk({"content": "x"}), done=False)]), id="truncated"),
        pytest.param(Body([sse({"error": {"message": f"key {KEY} is over quota"}})]), id="error-event-echo"),
        pytest.param(Body([sse(b"{bad json")]), id="malformed"),
    ],
)
def test_stream_errors_do_not_show_the_key(harness: Callable[..., Harness], body: Body) -> None:
    _, exc = harness(sse_response(body)).stream_deltas_then_error()
    assert isinstance(exc, AnyFastError)
    assert_no_key(exc)


def test_unusable_and_missing_keys_do_not_show(harness: Callable[..., Harness]) -> None:
    for api_key in (KEY + "\n\x00", KEY + " x", None):
        with pytest.raises(AnyFastError) as info:
            harness(json_response(200, {}), api_key=api_key).chat()
        assert_no_key(info.value)


def test_logs_at_debug_do_not_show_the_key(
    caplog: pytest.LogCaptureFixture, delays: list[float], emulator: Emulator
) -> None:
    """A real loopback exchange, so httpx and httpcore log all they would in production."""
    with caplog.at_level(logging.DEBUG):
        server = emulator
        for name in ("httpx", "httpcore", "anyfast_core"):
            caplog.set_level(logging.DEBUG, logger=name)  # restored after the test, unlike setLevel
        with AnyFastClient(api_key=KEY, base_url=server.base_url) as client:
            with client.stream(request(tool_stream=True)) as stream:
                assert list(stream)
            assert client.chat(request(tool_stream=True)).message.content

        async def run() -> None:
            client = AsyncAnyFastClient(api_key=KEY, base_url=server.base_url)
            async with client, await client.stream(request()) as stream:
                assert [d async for d in stream]

        asyncio.run(run())
    loggers = {record.name.split(".")[0] for record in caplog.records}
    assert {"httpx", "httpcore"} <= loggers  # the logging really happened
    for record in caplog.records:
        assert KEY not in record.getMessage()
        assert KEY not in repr(record.args)
        assert KEY not in repr(record.__dict__)


def test_retry_logs_do_not_show_an_echoed_key(
    harness: Callable[..., Harness], delays: list[float], caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.DEBUG), pytest.raises(AnyFastError):
        harness(echo_key(503), max_retries=2).chat()
    assert any("Retrying" in r.getMessage() for r in caplog.records)
    assert all(KEY not in r.getMessage() for r in caplog.records)


@pytest.mark.parametrize(
    ("key", "message", "shown"),
    [
        ("k", "Invalid API key provided", "Invalid API key provided"),
        ("test", "the test key is not valid", "the test key is not valid"),
        ("sk-1234", "Bad key: sk-1234", "Bad key: sk-1234"),
        ("sk-12345", "Bad key: sk-12345.", "Bad key: **********."),
        ("sk-12345", "sk-12345 and again 'sk-12345'", "********** and again '**********'"),
        ("password", "passwords differ; password", "passwords differ; **********"),
    ],
)
def test_redact_masks_only_whole_keys_long_enough_to_be_secrets(key: str, message: str, shown: str) -> None:
    from pydantic import SecretStr

    from anyfast_core.response import redact

    error = redact(AnyFastError(message), SecretStr(key))
    assert (error.message, str(error)) == (shown, shown)


def test_a_short_key_echoed_by_the_server_leaves_the_message_readable(harness: Callable[..., Harness]) -> None:
    def reply(req: httpx.Request) -> httpx.Response:
        return json_response(401, {"error": {"message": "Invalid API key provided"}})

    with pytest.raises(AnyFastError, match="Invalid API key provided"):
        harness(reply, api_key="k").chat()
