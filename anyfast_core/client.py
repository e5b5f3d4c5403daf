"""``AnyFastClient`` and ``AsyncAnyFastClient``: twins over one pooled httpx client each.

Everything that is not I/O (headers, body encoding, error building, retry decisions, chunk folding)
lives in shared functions; the twins differ only where they wait on the network.
"""

from __future__ import annotations

import asyncio
import json
import logging
import threading
import time
import weakref
from collections.abc import AsyncIterator, Iterator, Mapping
from types import TracebackType
from typing import Any, TypeVar

import httpx
from pydantic import SecretStr, ValidationError
from pydantic_core import from_json

from anyfast_core._version import __version__
from anyfast_core.accumulate import StreamAccumulator, StreamDelta
from anyfast_core.errors import (
    AnyFastError,
    APIConnectionError,
    APITimeoutError,
    ContentFilterError,
    ContextWindowExceededError,
    InvalidParameterError,
    MalformedResponseError,
    StreamEventError,
    StreamInterruptedError,
    UpstreamModelError,
    error_class,
    error_from_response,
    parse_error_body,
)
from anyfast_core.retry import RetryPolicy
from anyfast_core.settings import require_api_key, resolve_api_key, resolve_base_url
from anyfast_core.sse import DONE, SSEDecoder
from anyfast_core.types import ChatCompletion, ChatRequest, ModelInfo

logger = logging.getLogger("anyfast_core")

DEFAULT_TIMEOUT = httpx.Timeout(connect=10.0, read=600.0, write=30.0, pool=30.0)
"""Reads wait up to ten minutes: GLM can think for minutes before its first token."""

DEFAULT_LIMITS = httpx.Limits(max_connections=100, max_keepalive_connections=20, keepalive_expiry=30.0)
"""Few idle keep-alive connections: httpcore scans the whole pool on every request event, so a large
idle pool makes bursts of concurrent requests CPU-bound (see the benchmarks)."""

_T = TypeVar("_T")


def as_timeout(timeout: float | httpx.Timeout | None) -> httpx.Timeout:
    """A number is the read timeout (connect stays short); ``None`` keeps the defaults."""
    if timeout is None:
        return DEFAULT_TIMEOUT
    if isinstance(timeout, httpx.Timeout):
        return timeout
    if isinstance(timeout, bool) or not isinstance(timeout, (int, float)) or not timeout > 0:
        raise ValueError(f"timeout={timeout!r}: allowed: a number of seconds > 0 or an httpx.Timeout")
    return httpx.Timeout(timeout, connect=min(float(timeout), 10.0))


class _BaseClient:
    """What both twins share: configuration, request encoding, response decoding."""

    def __init__(
        self,
        *,
        api_key: str | SecretStr | None = None,
        base_url: str | None = None,
        timeout: float | httpx.Timeout | None = None,
        max_retries: int = 2,
        default_headers: Mapping[str, str] | None = None,
    ) -> None:
        self.api_key = resolve_api_key(api_key)
        self.base_url = resolve_base_url(base_url)
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

    def _chat_request(self, http: httpx.Client | httpx.AsyncClient, request: ChatRequest, stream: bool) -> httpx.Request:
        body = request.to_body()
        body["stream"] = stream
        if not stream:
            body.pop("stream_options", None)
            body.pop("tool_stream", None)
        return http.build_request(
            "POST",
            self.base_url + "/chat/completions",
            content=encode_json(body),
            headers=self._headers(stream),
            timeout=self.timeout,
        )

    def _models_request(self, http: httpx.Client | httpx.AsyncClient) -> httpx.Request:
        return http.build_request("GET", self.base_url + "/models", headers=self._headers(False), timeout=self.timeout)


def encode_json(body: Any) -> bytes:
    """Compact JSON bytes, keys in insertion order (so bodies are stable for cassettes)."""
    try:
        return json.dumps(body, ensure_ascii=False, separators=(",", ":"), allow_nan=False).encode()
    except (TypeError, ValueError) as exc:
        raise InvalidParameterError(f"The request body is not JSON-serialisable: {exc}") from None


def parse_completion(response: httpx.Response) -> ChatCompletion:
    """A 2xx body as a completion; an error object under 200 raises its typed error."""
    content = response.content
    try:
        data = from_json(content)
    except ValueError:
        raise MalformedResponseError(
            f"Expected a JSON chat completion, got {content[:200]!r}", status_code=response.status_code
        ) from None
    if not isinstance(data, dict):
        raise MalformedResponseError(f"Expected a JSON object, got {content[:200]!r}", status_code=response.status_code)
    if data.get("error") and not data.get("choices"):
        raise error_from_response(response.status_code, data, response.headers)
    try:
        completion = ChatCompletion.model_validate(data)
    except ValidationError as exc:
        raise MalformedResponseError(f"Unexpected chat completion shape: {exc}", status_code=response.status_code) from None
    if completion.request_id is None:
        completion.request_id = response.headers.get("x-request-id") or completion.id or None
    return completion


def raise_for_finish_reason(completion: ChatCompletion) -> None:
    """Finish reasons that mean the answer is not an answer raise the matching error.

    ``sensitive`` -> :class:`ContentFilterError`, ``model_context_window_exceeded`` ->
    :class:`ContextWindowExceededError`, ``network_error`` -> :class:`UpstreamModelError`. The
    partial completion rides along as ``error.partial``. ``length`` and unknown reasons return
    normally: the caller sees them in the finish reason.
    """
    reason = completion.finish_reason
    cls: type[AnyFastError] | None = {
        "sensitive": ContentFilterError,
        "model_context_window_exceeded": ContextWindowExceededError,
        "network_error": UpstreamModelError,
    }.get(reason or "")
    if cls is None:
        return
    explanation = {
        "sensitive": "content safety blocked the output",
        "model_context_window_exceeded": "the conversation exceeded the model's context window",
        "network_error": "inference failed upstream",
    }[reason or ""]
    error = cls(
        f"The model stopped with finish_reason={reason!r}: {explanation}.",
        status_code=200,
        request_id=completion.request_id or completion.id or None,
        partial=completion,
    )
    raise error


def parse_chunk(payload: bytes) -> dict[str, Any]:
    """One SSE data payload as a chunk dict; error events and non-JSON raise typed errors."""
    try:
        chunk = from_json(payload)
    except ValueError:
        raise MalformedResponseError(f"Malformed stream event (not JSON): {payload[:200]!r}") from None
    if not isinstance(chunk, dict):
        raise MalformedResponseError(f"Malformed stream event (not an object): {payload[:200]!r}")
    if "error" in chunk and chunk["error"]:
        error = parse_error_body(chunk)
        code = None if error.get("code") in (None, "") else str(error["code"])
        kind = error_class(200, code).__name__
        raise StreamEventError(
            f"The server reported an error mid-stream ({kind}): {error.get('message') or chunk['error']}",
            status_code=200,
            code=code,
            type=None if error.get("type") is None else str(error.get("type")),
            request_id=error.get("request_id"),
        )
    return chunk


def transport_error(exc: httpx.TransportError, timeout: httpx.Timeout) -> APIConnectionError:
    """An httpx failure as our error; connect and pool timeouts are retryable, read timeouts not."""
    if isinstance(exc, httpx.TimeoutException):
        phase = {
            httpx.ConnectTimeout: ("connect", timeout.connect),
            httpx.ReadTimeout: ("read", timeout.read),
            httpx.WriteTimeout: ("write", timeout.write),
            httpx.PoolTimeout: ("pool", timeout.pool),
        }.get(type(exc), ("request", timeout.read))
        error: APIConnectionError = APITimeoutError(
            f"The request timed out ({phase[0]} timeout of {phase[1]}s); raise timeout=... if the model needs longer."
        )
        if isinstance(exc, httpx.ReadTimeout | httpx.WriteTimeout):
            error.is_retryable = False  # the server may be working on it: do not pay twice
        return error
    return APIConnectionError(f"Could not reach AnyFast: {type(exc).__name__}: {exc}")


def _error_for(response: httpx.Response) -> AnyFastError:
    return error_from_response(response.status_code, response.content, response.headers)


# --------------------------------------------------------------------------- streams


class _StreamState:
    """The non-I/O half of a stream: decode events, fold chunks, decide how it ended."""

    def __init__(self, response: httpx.Response, raise_on_finish: bool) -> None:
        self.response = response
        self.decoder = SSEDecoder()
        self.accumulator = StreamAccumulator()
        self.done = False
        self.raise_on_finish = raise_on_finish
        self._completion: ChatCompletion | None = None

    def events(self, raw: bytes) -> Iterator[StreamDelta]:
        for payload in self.decoder.feed(raw):
            delta = self._event(payload)
            if delta is not None:
                yield delta

    def _event(self, payload: bytes) -> StreamDelta | None:
        if self.done:
            return None
        if payload == DONE:
            self.done = True
            return None
        return self.accumulator.add(parse_chunk(payload))

    def finish(self) -> None:
        for payload in self.decoder.flush():
            self._event(payload)
        if not self.done:
            raise self.interrupted("the connection closed before data: [DONE]")
        completion = self.accumulator.result()
        completion.request_id = self.response.headers.get("x-request-id") or completion.id or None
        self._completion = completion
        if self.raise_on_finish:
            raise_for_finish_reason(completion)

    def interrupted(self, why: str) -> StreamInterruptedError:
        return StreamInterruptedError(
            f"The stream ended early: {why}; the partial output is not a complete answer.",
            partial=self.accumulator.result(),
        )

    def transport_failure(self, exc: httpx.TransportError, timeout: httpx.Timeout) -> AnyFastError:
        if isinstance(exc, httpx.TimeoutException):
            return transport_error(exc, timeout)
        return self.interrupted(f"{type(exc).__name__}: {exc}")

    @property
    def completion(self) -> ChatCompletion:
        if self._completion is None:
            raise RuntimeError("The stream has not been read to its end yet.")
        return self._completion


class ChatStream:
    """A streaming answer: iterate for :class:`StreamDelta` pieces, then read :attr:`completion`.

    Use it as a context manager, or read it to the end, so the connection goes back to the pool::

        with client.stream(request) as stream:
            for delta in stream:
                print(delta.content, end="")
        print(stream.completion.usage)
    """

    def __init__(self, response: httpx.Response, timeout: httpx.Timeout, raise_on_finish: bool = True) -> None:
        self._state = _StreamState(response, raise_on_finish)
        self._timeout = timeout

    @property
    def accumulator(self) -> StreamAccumulator:
        return self._state.accumulator

    @property
    def completion(self) -> ChatCompletion:
        """The whole answer, available once the stream has been read to ``[DONE]``."""
        return self._state.completion

    def __iter__(self) -> Iterator[StreamDelta]:
        state = self._state
        try:
            for raw in state.response.iter_bytes():
                yield from state.events(raw)
            state.finish()
        except httpx.TransportError as exc:
            raise state.transport_failure(exc, self._timeout) from None
        finally:
            state.response.close()

    def close(self) -> None:
        self._state.response.close()

    def __enter__(self) -> ChatStream:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class AsyncChatStream:
    """The async twin of :class:`ChatStream`::

    async with await client.stream(request) as stream:
        async for delta in stream:
            print(delta.content, end="")
    """

    def __init__(self, response: httpx.Response, timeout: httpx.Timeout, raise_on_finish: bool = True) -> None:
        self._state = _StreamState(response, raise_on_finish)
        self._timeout = timeout

    @property
    def accumulator(self) -> StreamAccumulator:
        return self._state.accumulator

    @property
    def completion(self) -> ChatCompletion:
        return self._state.completion

    async def __aiter__(self) -> AsyncIterator[StreamDelta]:
        state = self._state
        try:
            async for raw in state.response.aiter_bytes():
                for delta in state.events(raw):
                    yield delta
            state.finish()
        except httpx.TransportError as exc:
            raise state.transport_failure(exc, self._timeout) from None
        finally:
            await state.response.aclose()

    async def aclose(self) -> None:
        await self._state.response.aclose()

    async def __aenter__(self) -> AsyncChatStream:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()


# --------------------------------------------------------------------------- clients


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
        self._http = http_client or httpx.Client(limits=DEFAULT_LIMITS, timeout=self.timeout)

    def chat(self, request: ChatRequest, *, raise_on_finish_reason: bool = True) -> ChatCompletion:
        """One whole answer. Hard finish reasons raise (see :func:`raise_for_finish_reason`)."""
        response = self._send(lambda: self._chat_request(self._http, request, stream=False), stream=False)
        completion = parse_completion(response)
        if raise_on_finish_reason:
            raise_for_finish_reason(completion)
        return completion

    def stream(self, request: ChatRequest, *, raise_on_finish_reason: bool = True) -> ChatStream:
        """Start a streaming answer; failures before the first event are retried like ``chat``."""
        response = self._send(lambda: self._chat_request(self._http, request, stream=True), stream=True)
        return ChatStream(response, self.timeout, raise_on_finish_reason)

    def models(self) -> list[ModelInfo]:
        response = self._send(lambda: self._models_request(self._http), stream=False)
        return [ModelInfo.model_validate(item) for item in from_json(response.content).get("data", [])]

    def _send(self, build: Any, *, stream: bool) -> httpx.Response:
        attempt = 0
        while True:
            request = build()
            try:
                response = self._http.send(request, stream=stream)
            except httpx.TransportError as exc:
                error: AnyFastError = transport_error(exc, self.timeout)
                headers: Mapping[str, str] | None = None
            else:
                if response.is_success:
                    return response
                if stream:
                    response.read()
                    response.close()
                error, headers = _error_for(response), response.headers
            if not self.retry_policy.should_retry(error, attempt):
                raise error
            delay = self.retry_policy.delay(attempt, headers)
            _log_retry(request, error, attempt, delay)
            time.sleep(delay)
            attempt += 1

    def close(self) -> None:
        if self._owns_http:
            self._http.close()

    def __enter__(self) -> AnyFastClient:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None) -> None:
        self.close()


class AsyncAnyFastClient(_BaseClient):
    """Asynchronous twin of :class:`AnyFastClient`.

    An ``httpx.AsyncClient`` belongs to the event loop it first ran on, so this client keeps one per
    loop: the same instance works across ``asyncio.run`` calls without re-sending or hanging.
    """

    def __init__(self, *, http_client: httpx.AsyncClient | None = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._injected = http_client
        self._per_loop: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, httpx.AsyncClient] = (
            weakref.WeakKeyDictionary()
        )
        self._lock = threading.Lock()

    def _client(self) -> httpx.AsyncClient:
        if self._injected is not None:
            return self._injected
        loop = asyncio.get_running_loop()
        http = self._per_loop.get(loop)
        if http is None:
            with self._lock:
                http = self._per_loop.get(loop)
                if http is None:
                    http = self._per_loop[loop] = httpx.AsyncClient(limits=DEFAULT_LIMITS, timeout=self.timeout)
        return http

    async def chat(self, request: ChatRequest, *, raise_on_finish_reason: bool = True) -> ChatCompletion:
        http = self._client()
        response = await self._send(http, lambda: self._chat_request(http, request, stream=False), stream=False)
        completion = parse_completion(response)
        if raise_on_finish_reason:
            raise_for_finish_reason(completion)
        return completion

    async def stream(self, request: ChatRequest, *, raise_on_finish_reason: bool = True) -> AsyncChatStream:
        http = self._client()
        response = await self._send(http, lambda: self._chat_request(http, request, stream=True), stream=True)
        return AsyncChatStream(response, self.timeout, raise_on_finish_reason)

    async def models(self) -> list[ModelInfo]:
        http = self._client()
        response = await self._send(http, lambda: self._models_request(http), stream=False)
        return [ModelInfo.model_validate(item) for item in from_json(response.content).get("data", [])]

    async def _send(self, http: httpx.AsyncClient, build: Any, *, stream: bool) -> httpx.Response:
        attempt = 0
        while True:
            request = build()
            try:
                response = await http.send(request, stream=stream)
            except httpx.TransportError as exc:
                error: AnyFastError = transport_error(exc, self.timeout)
                headers: Mapping[str, str] | None = None
            else:
                if response.is_success:
                    return response
                if stream:
                    await response.aread()
                    await response.aclose()
                error, headers = _error_for(response), response.headers
            if not self.retry_policy.should_retry(error, attempt):
                raise error
            delay = self.retry_policy.delay(attempt, headers)
            _log_retry(request, error, attempt, delay)
            await asyncio.sleep(delay)
            attempt += 1

    async def aclose(self) -> None:
        """Close the connection pool of the running loop (an injected client is left to its owner)."""
        if self._injected is None:
            http = self._per_loop.pop(asyncio.get_running_loop(), None)
            if http is not None:
                await http.aclose()

    async def __aenter__(self) -> AsyncAnyFastClient:
        return self

    async def __aexit__(self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None) -> None:
        await self.aclose()


def _log_retry(request: httpx.Request, error: AnyFastError, attempt: int, delay: float) -> None:
    # Never log headers: they carry the key.
    logger.info(
        "Retrying %s %s in %.2fs (attempt %d) after %s: %s",
        request.method,
        request.url.path,
        delay,
        attempt + 1,
        type(error).__name__,
        error.message,
    )
