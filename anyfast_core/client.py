"""``AnyFastClient`` and ``AsyncAnyFastClient``: twins over one pooled httpx client each.

Everything that is not I/O (body encoding, response parsing, error building, retry decisions,
chunk folding) lives in pure functions (:mod:`anyfast_core.request`, :mod:`anyfast_core.response`,
:mod:`anyfast_core.retry`, :mod:`anyfast_core.accumulate`); the twins differ only where they wait on the network.
"""

from __future__ import annotations

import asyncio
import logging
import os
import threading
import time
import weakref
from collections.abc import AsyncGenerator, Callable, Mapping
from types import TracebackType
from typing import Any

import httpx
from pydantic import SecretStr

from anyfast_core._pool import AsyncPoolTransport, PoolTransport, make_transport
from anyfast_core._tls import ssl_context
from anyfast_core._version import __version__
from anyfast_core.errors import AnyFastError
from anyfast_core.request import STREAM_ONLY_FIELDS, chat_body, encode_json, usage_wanted
from anyfast_core.response import (
    is_json_response,
    parse_completion,
    parse_models,
    raise_for_finish_reason,
    redact,
    response_error,
)
from anyfast_core.retry import RetryPolicy
from anyfast_core.settings import (
    DEFAULT_STREAM_IDLE_TIMEOUT,
    check_stream_idle_timeout,
    check_timeout,
    require_api_key,
    resolve_api_key,
    resolve_base_url,
)
from anyfast_core.stream import AsyncChatStream, ChatStream, idle_timeout_error, stream_timeout
from anyfast_core.transport import transport_error
from anyfast_core.types import ChatCompletion, ChatRequest, ModelInfo

__all__ = [
    "DEFAULT_LIMITS",
    "DEFAULT_TIMEOUT",
    "AnyFastClient",
    "AsyncAnyFastClient",
    "AsyncChatStream",
    "ChatStream",
    "as_timeout",
]

logger = logging.getLogger("anyfast_core")

# The waits between retries go through these names, so tests can record them instead of waiting.
_sleep = time.sleep
_async_sleep = asyncio.sleep

DEFAULT_TIMEOUT = httpx.Timeout(connect=10.0, read=600.0, write=30.0, pool=30.0)
"""Reads wait up to ten minutes: GLM can think for minutes before its first token."""

DEFAULT_LIMITS = httpx.Limits(max_connections=1000, max_keepalive_connections=10, keepalive_expiry=30.0)
"""httpcore scans every connection for every queued request on every request event, so both queued
requests and idle connections cost CPU in a burst. A high connection cap keeps bursts from queueing,
and few idle keep-alive connections keep the next burst cheap while sequential calls still reuse one
(``python -m benchmarks.run``: the 200-call rows; figures in benchmarks/README.md)."""


def _new_http(timeout: httpx.Timeout) -> tuple[httpx.Client, PoolTransport]:
    """An httpx client as the core makes them: its limits, the shared TLS context, and a transport over
    a pool of our own (:mod:`anyfast_core._pool`). The limits and context also reach the transports
    httpx mounts for proxies from the environment."""
    transport = make_transport(DEFAULT_LIMITS, ssl_context(), is_async=False)
    assert isinstance(transport, PoolTransport)
    http = httpx.Client(transport=transport, limits=DEFAULT_LIMITS, timeout=timeout, verify=ssl_context())
    return http, transport


def _new_async_http(timeout: httpx.Timeout) -> tuple[httpx.AsyncClient, AsyncPoolTransport]:
    transport = make_transport(DEFAULT_LIMITS, ssl_context(), is_async=True)
    assert isinstance(transport, AsyncPoolTransport)
    http = httpx.AsyncClient(transport=transport, limits=DEFAULT_LIMITS, timeout=timeout, verify=ssl_context())
    return http, transport


# A forked child never touches the async pools it inherited: using them would share sockets with its
# parent, and letting them be collected would run their closing on the parent's event loop (that is
# how an async generator is finalised). They stay referenced here, unused, for the child's lifetime.
_inherited_async_pools: list[object] = []


def as_timeout(timeout: float | httpx.Timeout | None) -> httpx.Timeout:
    """A number is the read timeout (connect stays short); ``None`` keeps the defaults."""
    checked = check_timeout(timeout)
    if checked is None:
        return DEFAULT_TIMEOUT
    if isinstance(checked, httpx.Timeout):
        return checked
    return httpx.Timeout(checked, connect=min(checked, 10.0))


class _BaseClient:
    """What both twins share: configuration, request building, retry bookkeeping."""

    def __init__(
        self,
        *,
        api_key: str | SecretStr | None = None,
        base_url: str | None = None,
        timeout: float | httpx.Timeout | None = None,
        max_retries: int = 2,
        default_headers: Mapping[str, str] | None = None,
        stream_idle_timeout: float | None = DEFAULT_STREAM_IDLE_TIMEOUT,
    ) -> None:
        self.api_key = resolve_api_key(api_key)
        self.stream_idle_timeout = check_stream_idle_timeout(stream_idle_timeout)
        """Longest silence (no event) a stream may keep, in seconds; ``None``: the read timeout alone."""
        self.base_url = resolve_base_url(base_url)
        self._parsed_chat_url: tuple[str, httpx.URL] = ("", httpx.URL())
        self.timeout = as_timeout(timeout)
        self.retry_policy = RetryPolicy(max_retries=max_retries)
        self.default_headers = dict(default_headers or {})

    def __repr__(self) -> str:
        return f"{type(self).__name__}(base_url={self.base_url!r}, max_retries={self.retry_policy.max_retries})"

    def _headers(self, stream: bool) -> dict[str, str]:
        return {
            "Authorization": "Bearer " + require_api_key(self.api_key),
            "Content-Type": "application/json",
            "Accept": "text/event-stream" if stream else "application/json",
            "User-Agent": f"anyfast-python/{__version__}",
            **self.default_headers,
        }

    def _chat_request(
        self, http: httpx.Client | httpx.AsyncClient, request: ChatRequest, stream: bool
    ) -> httpx.Request:
        body = chat_body(request, stream)
        if not stream and any(getattr(request, name) is not None for name in STREAM_ONLY_FIELDS):
            logger.debug("tool_stream and stream_options only shape streams; a whole answer is sent without them")
        return http.build_request(
            "POST",
            self._chat_url(),
            content=encode_json(body),
            headers=self._headers(stream),
            timeout=self._timeout(stream),
        )

    def _timeout(self, stream: bool) -> httpx.Timeout:
        return stream_timeout(self.timeout, self.stream_idle_timeout) if stream else self.timeout

    def _transport_error(self, exc: httpx.HTTPError, stream: bool) -> AnyFastError:
        timeout = self._timeout(stream)
        if stream and isinstance(exc, httpx.ReadTimeout) and timeout is not self.timeout:
            return idle_timeout_error(self.stream_idle_timeout)  # the idle limit, not the read timeout, ran out
        return transport_error(exc, timeout)

    def _stream_options(self, request: ChatRequest, raise_on_finish_reason: bool) -> dict[str, Any]:
        """How a stream of ``request`` is read (the same for both twins)."""
        return dict(
            timeout=self.timeout,
            raise_on_finish=raise_on_finish_reason,
            api_key=self.api_key,
            idle_timeout=self.stream_idle_timeout,
            usage_wanted=usage_wanted(request),
        )

    def _chat_url(self) -> httpx.URL:
        # Parsed once (httpx takes a URL object as it is, where a string is parsed on every request),
        # and again only if base_url was changed.
        if self._parsed_chat_url[0] != self.base_url:
            self._parsed_chat_url = (self.base_url, httpx.URL(self.base_url + "/chat/completions"))
        return self._parsed_chat_url[1]

    def _models_request(self, http: httpx.Client | httpx.AsyncClient) -> httpx.Request:
        return http.build_request("GET", self.base_url + "/models", headers=self._headers(False), timeout=self.timeout)

    def _completion(self, response: httpx.Response, raise_on_finish_reason: bool) -> ChatCompletion:
        try:
            completion = parse_completion(response)
            if raise_on_finish_reason:
                raise_for_finish_reason(completion)
        except AnyFastError as exc:
            raise redact(exc, self.api_key) from None
        return completion

    def _next_delay(self, request: httpx.Request, error: AnyFastError, attempt: int) -> float:
        """Seconds to wait before another try, or raise ``error`` when there is none to make."""
        error = redact(error, self.api_key)
        if not self.retry_policy.should_retry(error, attempt):
            raise error
        delay = self.retry_policy.delay(attempt, retry_after=getattr(error, "retry_after", None))
        # Never log headers: they carry the key.
        logger.info(
            "Retrying %s %s in %.2fs (retry %d of %d) after %s: %s",
            request.method,
            request.url.path,
            delay,
            attempt + 1,
            self.retry_policy.max_retries,
            type(error).__name__,
            error.message,
        )
        return delay


async def _close_with_loop(http: httpx.AsyncClient) -> AsyncGenerator[None, None]:
    try:
        yield
    finally:
        await http.aclose()


class AnyFastClient(_BaseClient):
    """Synchronous AnyFast client; thread-safe, one pooled connection set per instance.

    >>> from anyfast_core import AnyFastClient, ChatRequest
    >>> with AnyFastClient(api_key="...") as client:  # doctest: +SKIP
    ...     answer = client.chat(ChatRequest.create(model="glm-5.2", messages=[{"role": "user", "content": "Hi"}]))
    ...     print(answer.message.content)
    """

    def __init__(self, *, http_client: httpx.Client | None = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._owns_http = http_client is None
        self._transport: PoolTransport | None = None
        if http_client is None:
            http_client, self._transport = _new_http(self.timeout)
        self._http = http_client
        self._pid = os.getpid()

    def _client(self) -> httpx.Client:
        """The pool of this process: a forked child makes its own on first use (an injected client
        is used as given, wherever its owner uses it)."""
        if self._pid != os.getpid() and self._owns_http:
            # The parent's client is dropped, not closed: its sockets are the parent's too. (Two
            # threads of a new child racing here at most make one spare pool, collected unused.)
            self._http, self._transport = _new_http(self.timeout)
            self._pid = os.getpid()
        return self._http

    def chat(self, request: ChatRequest, *, raise_on_finish_reason: bool = True) -> ChatCompletion:
        """One whole answer. Hard finish reasons raise (see :func:`raise_for_finish_reason`)."""
        http = self._client()
        response = self._send(http, lambda: self._chat_request(http, request, stream=False), stream=False)
        return self._completion(response, raise_on_finish_reason)

    def stream(self, request: ChatRequest, *, raise_on_finish_reason: bool = True) -> ChatStream:
        """Start a streaming answer; failures before the first event are retried like ``chat``."""
        http = self._client()
        response = self._send(http, lambda: self._chat_request(http, request, stream=True), stream=True)
        return ChatStream(response, **self._stream_options(request, raise_on_finish_reason))

    def models(self) -> list[ModelInfo]:
        """The models the key may use (``GET /models``)."""
        http = self._client()
        return parse_models(self._send(http, lambda: self._models_request(http), stream=False))

    def _send(self, http: httpx.Client, build: Callable[[], httpx.Request], *, stream: bool) -> httpx.Response:
        attempt = 0
        while True:
            request = build()
            response: httpx.Response | None = None
            try:
                response = http.send(request, stream=stream)
                if stream and not (response.is_success and not is_json_response(response)):
                    response.read()  # an error or a plain JSON body: small, read it whole
                error = response_error(response, stream)
                if error is None:
                    return response
            except httpx.HTTPError as exc:
                error = self._transport_error(exc, stream)
            if response is not None:
                response.close()
            _sleep(self._next_delay(request, error, attempt))
            attempt += 1

    def close(self) -> None:
        """Close the connection pool (an injected ``http_client`` is left to its owner)."""
        if self._owns_http and self._pid == os.getpid():
            self._http.close()

    def __enter__(self) -> AnyFastClient:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()


class AsyncAnyFastClient(_BaseClient):
    """Asynchronous twin of :class:`AnyFastClient`.

    An ``httpx.AsyncClient`` belongs to the event loop it first ran on, so this client keeps one per
    loop: the same instance works across ``asyncio.run`` calls without re-sending or hanging.
    (An injected ``http_client`` is used as given, on whatever loop its owner runs it.)

    >>> import asyncio
    >>> from anyfast_core import AsyncAnyFastClient, ChatRequest
    >>> async def main() -> None:  # doctest: +SKIP
    ...     async with AsyncAnyFastClient() as client:
    ...         request = ChatRequest.create(model="glm-5.2", messages=[{"role": "user", "content": "Hi"}])
    ...         async with await client.stream(request) as stream:
    ...             async for delta in stream:
    ...                 print(delta.content, end="")
    """

    def __init__(self, *, http_client: httpx.AsyncClient | None = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._injected = http_client
        # Each loop's pool, and the guard that closes it with the loop.
        self._start()

    def _start(self) -> None:
        self._pools: weakref.WeakKeyDictionary[
            asyncio.AbstractEventLoop, tuple[httpx.AsyncClient, AsyncGenerator[None, None], AsyncPoolTransport]
        ] = weakref.WeakKeyDictionary()
        self._lock = threading.Lock()
        self._pid = os.getpid()

    def _pools_of_this_process(
        self,
    ) -> weakref.WeakKeyDictionary[
        asyncio.AbstractEventLoop, tuple[httpx.AsyncClient, AsyncGenerator[None, None], AsyncPoolTransport]
    ]:
        if self._pid != os.getpid():  # forked: the parent's pools and lock are not this process's
            _inherited_async_pools.extend(self._pools.values())
            self._start()
        return self._pools

    async def _client(self) -> httpx.AsyncClient:
        """The pool for the running loop, made on first use there (and in each process)."""
        if self._injected is not None:
            return self._injected
        loop = asyncio.get_running_loop()
        entry = self._pools_of_this_process().get(loop)
        if entry is not None:
            return entry[0]
        http, transport = _new_async_http(self.timeout)
        # A started async generator is closed by the loop's shutdown (asyncio.run does it), which
        # closes the pool while its loop can still do so: no sockets left to the garbage collector.
        guard = _close_with_loop(http)
        await guard.asend(None)
        with self._lock:  # one loop runs in one thread, but several threads may share this client
            self._pools[loop] = (http, guard, transport)
        return http

    async def chat(self, request: ChatRequest, *, raise_on_finish_reason: bool = True) -> ChatCompletion:
        """One whole answer. Hard finish reasons raise (see :func:`raise_for_finish_reason`)."""
        http = await self._client()
        response = await self._send(http, lambda: self._chat_request(http, request, stream=False), stream=False)
        return self._completion(response, raise_on_finish_reason)

    async def stream(self, request: ChatRequest, *, raise_on_finish_reason: bool = True) -> AsyncChatStream:
        """Start a streaming answer; failures before the first event are retried like ``chat``."""
        http = await self._client()
        response = await self._send(http, lambda: self._chat_request(http, request, stream=True), stream=True)
        return AsyncChatStream(response, **self._stream_options(request, raise_on_finish_reason))

    async def models(self) -> list[ModelInfo]:
        """The models the key may use (``GET /models``)."""
        http = await self._client()
        return parse_models(await self._send(http, lambda: self._models_request(http), stream=False))

    async def _send(
        self, http: httpx.AsyncClient, build: Callable[[], httpx.Request], *, stream: bool
    ) -> httpx.Response:
        attempt = 0
        while True:
            request = build()
            response: httpx.Response | None = None
            try:
                response = await http.send(request, stream=stream)
                if stream and not (response.is_success and not is_json_response(response)):
                    await response.aread()  # an error or a plain JSON body: small, read it whole
                error = response_error(response, stream)
                if error is None:
                    return response
            except httpx.HTTPError as exc:
                error = self._transport_error(exc, stream)
            if response is not None:
                await response.aclose()
            await _async_sleep(self._next_delay(request, error, attempt))
            attempt += 1

    async def aclose(self) -> None:
        """Close the connection pool of the running loop (an injected client is left to its owner)."""
        if self._injected is None:
            loop = asyncio.get_running_loop()
            pools = self._pools_of_this_process()
            with self._lock:
                entry = pools.pop(loop, None)
            if entry is not None:
                await entry[1].aclose()

    async def __aenter__(self) -> AsyncAnyFastClient:
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.aclose()
