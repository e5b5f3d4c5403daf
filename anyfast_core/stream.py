"""Streaming answers: :class:`ChatStream` and its async twin over one shared, I/O-free state.

A stream is an answer only if it finished: a chunk carried a ``finish_reason``, then ``data: [DONE]``
came. Whatever else ends it raises, with what had arrived attached as ``error.partial``: the
connection closing before ``[DONE]``, or no finish reason before it (a gateway that lost its upstream
still closes with ``[DONE]``), is a
:class:`~anyfast_core.errors.StreamInterruptedError`; a silence longer than ``stream_idle_timeout``
a :class:`~anyfast_core.errors.StreamIdleTimeoutError`; an error event its typed error; a line that
is not JSON a :class:`~anyfast_core.errors.MalformedResponseError`; a finish reason that means
failure (``network_error``, ``abort``, ``sensitive``, ``tool_calls`` without a call…) the error
:func:`~anyfast_core.response.raise_for_finish_reason` names.

Usage is always asked for (a gateway not asked may drop the finish chunk with it); when the caller
did not want it (``usage_wanted=False``), the completion comes without it.
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Iterator

import httpx
from pydantic import SecretStr, ValidationError

from anyfast_core.accumulate import StreamAccumulator, StreamDelta
from anyfast_core.errors import (
    AnyFastError,
    MalformedResponseError,
    StreamIdleTimeoutError,
    StreamInterruptedError,
    error_from_response,
    parse_error_body,
)
from anyfast_core.response import (
    completion_as_chunk,
    is_json_response,
    parse_chunk,
    parse_completion,
    raise_for_finish_reason,
    redact,
)
from anyfast_core.sse import SSEDecoder, is_done
from anyfast_core.transport import transport_error
from anyfast_core.types import ChatCompletion

_HEAD_LIMIT = 4096


def stream_timeout(timeout: httpx.Timeout, idle: float | None) -> httpx.Timeout:
    """The timeout a stream request is sent with: every socket read waits at most ``idle`` seconds
    (so a stream that goes silent ends at the idle limit, not at the read timeout)."""
    if idle is None or (timeout.read is not None and timeout.read <= idle):
        return timeout
    return httpx.Timeout(connect=timeout.connect, read=idle, write=timeout.write, pool=timeout.pool)


def idle_timeout_error(idle: float | None) -> StreamIdleTimeoutError:
    """The error for a stream that stayed silent for ``idle`` seconds (the idle limit)."""
    return StreamIdleTimeoutError(
        f"The stream went silent: no event for {idle or 0:g}s (stream_idle_timeout); the partial output is not a "
        "complete answer. Raise stream_idle_timeout if the model needs longer before its first token."
    )


class _StreamState:
    """The non-I/O half of a stream: decode events, fold chunks, decide how it ended."""

    def __init__(
        self,
        response: httpx.Response,
        timeout: httpx.Timeout,
        raise_on_finish: bool,
        api_key: SecretStr | None,
        idle_timeout: float | None = None,
        usage_wanted: bool = True,
    ) -> None:
        self.response = response
        self.timeout = timeout
        self.decoder = SSEDecoder()
        self.accumulator = StreamAccumulator()
        self.done = False
        self.whole = False
        self.started = False
        self.raise_on_finish = raise_on_finish
        self.api_key = api_key
        self.idle_timeout = idle_timeout
        self.idle_bounds_reads = idle_timeout is not None and (timeout.read is None or idle_timeout < timeout.read)
        """Whether socket reads wait at most the idle limit (see :func:`stream_timeout`), so that a read
        timeout means the idle limit ran out."""
        self.usage_wanted = usage_wanted
        self.silent = 0.0
        """Seconds spent waiting on the server since the last event (time in the caller's loop not counted)."""
        self.waiting_since = time.monotonic()
        self._completion: ChatCompletion | None = None
        self._head = b""
        """The first bytes, kept until an event arrives, to explain a body that is not an event stream."""

    def start(self) -> None:
        if self.started:
            raise RuntimeError("A stream can be iterated only once; read .completion for the whole answer.")
        if self.response.is_closed and not self.response.is_stream_consumed:
            raise RuntimeError("The stream was closed before it was read.")
        self.started = True
        self.waiting_since = time.monotonic()

    def events(self, raw: bytes) -> Iterator[StreamDelta]:
        if not self.accumulator.chunks and len(self._head) < _HEAD_LIMIT:
            self._head += raw[:_HEAD_LIMIT]
        payloads = self.decoder.feed(raw)
        if self.idle_timeout is not None:
            # Keep-alive comments keep the socket busy but are no sign of progress: events count, and so do
            # the bytes of an event still arriving (a long one comes in many reads).
            progress = payloads or raw.lstrip(b"\r\n")[:1] != b":"
            self.silent = 0.0 if progress else self.silent + time.monotonic() - self.waiting_since
            if self.silent > self.idle_timeout:
                raise idle_timeout_error(self.idle_timeout)
        for payload in payloads:
            delta = self._event(payload)
            if delta is not None:
                yield delta
        self.waiting_since = time.monotonic()

    def _event(self, payload: bytes) -> StreamDelta | None:
        if self.done:
            return None
        if is_done(payload):
            self.done = True
            return None
        chunk = parse_chunk(payload)
        try:
            return self.accumulator.add(chunk)
        except (AttributeError, TypeError, KeyError, IndexError, ValidationError) as exc:
            raise MalformedResponseError(f"Malformed stream chunk ({exc}): {payload[:200]!r}") from None

    def whole_body(self) -> Iterator[StreamDelta]:
        """A server that ignored ``stream: true`` sent one JSON completion: play it as one chunk."""
        completion = parse_completion(self.response)  # raises the typed error for an error body
        delta = self.accumulator.add(completion_as_chunk(completion.model_dump()))
        held = self.accumulator.finish()  # the whole text is there: nothing to hold back
        if held is not None:
            delta = delta or StreamDelta()
            delta.content += held.content
            delta.reasoning += held.reasoning
        self.done = self.whole = True
        if delta is not None:
            yield delta

    def finish(self) -> Iterator[StreamDelta]:
        """The end of the body: the last held-back text as a delta, then the verdict (raises unless finished)."""
        for payload in self.decoder.flush():
            self._event(payload)
        accumulator = self.accumulator
        if not self.done and not accumulator.chunks and self._head.strip():
            raise self._not_an_event_stream()
        delta = accumulator.finish()
        if delta is not None:
            yield delta
        completion = accumulator.result()
        completion.request_id = self.response.headers.get("x-request-id") or completion.id or None
        if not self.done:
            raise StreamInterruptedError(
                "The stream ended early: the connection closed before data: [DONE]; "
                "the partial output is not a complete answer."
            )
        if completion.finish_reason is None and not self.whole:
            raise StreamInterruptedError(
                "The stream ended (data: [DONE]) without a finish reason: a gateway closed it after losing its "
                "upstream mid-answer; the partial output is not a complete answer."
            )
        if not self.usage_wanted:
            completion.usage = None
        self._completion = completion
        if self.raise_on_finish:
            raise_for_finish_reason(completion)

    def _not_an_event_stream(self) -> AnyFastError:
        """A body with no events at all: an error object sent as plain JSON, or something else."""
        head = self._head.strip()
        error = parse_error_body(head)
        if head.startswith(b"{") and error.get("message"):
            return error_from_response(self.response.status_code, head, self.response.headers)
        summary = error.get("message") or repr(head[:200])
        return MalformedResponseError(f"Expected an event stream, got {summary}", status_code=self.response.status_code)

    def failure(self, exc: Exception) -> AnyFastError:
        """The error to raise for ``exc``, with the partial answer and request id attached."""
        if isinstance(exc, httpx.HTTPError):
            if isinstance(exc, httpx.ReadTimeout) and self.idle_bounds_reads:
                error: AnyFastError = idle_timeout_error(self.idle_timeout)
            elif isinstance(exc, httpx.TransportError) and not isinstance(exc, httpx.TimeoutException):
                error = StreamInterruptedError(
                    f"The stream ended early: {type(exc).__name__}: {exc}; the partial output is not a complete answer."
                )
            else:
                error = transport_error(exc, self.timeout)
        elif isinstance(exc, AnyFastError):
            error = exc
        else:  # pragma: no cover - callers pass only the two kinds above
            raise exc
        if error.partial is None:
            error.partial = self.accumulator.result()
        if error.request_id is None:
            error.request_id = self.response.headers.get("x-request-id") or self.accumulator.id or None
        return redact(error, self.api_key)

    @property
    def completion(self) -> ChatCompletion:
        if self._completion is None:
            raise RuntimeError("The stream has not been read to its end yet.")
        return self._completion


class _StreamBase:
    """What both stream twins expose: the running fold, the final answer, the HTTP response."""

    def __init__(
        self,
        response: httpx.Response,
        timeout: httpx.Timeout,
        raise_on_finish: bool = True,
        *,
        api_key: SecretStr | None = None,
        idle_timeout: float | None = None,
        usage_wanted: bool = True,
    ) -> None:
        self._state = _StreamState(response, timeout, raise_on_finish, api_key, idle_timeout, usage_wanted)

    @property
    def accumulator(self) -> StreamAccumulator:
        """The running fold: ``.content``, ``.reasoning``, ``.tool_calls()`` so far."""
        return self._state.accumulator

    @property
    def completion(self) -> ChatCompletion:
        """The whole answer, available once the stream has been read to ``[DONE]``."""
        return self._state.completion

    @property
    def response(self) -> httpx.Response:
        return self._state.response


class ChatStream(_StreamBase):
    """A streaming answer: iterate for :class:`StreamDelta` pieces, then read :attr:`completion`.

    Use it as a context manager, or read it to the end, so the connection goes back to the pool
    (leaving a ``for`` loop early closes it too)::

        with client.stream(request) as stream:
            for delta in stream:
                print(delta.content, end="")
        print(stream.completion.usage)
    """

    def __iter__(self) -> Iterator[StreamDelta]:
        state = self._state
        state.start()
        try:
            if is_json_response(state.response):
                state.response.read()
                yield from state.whole_body()
            else:
                for raw in state.response.iter_bytes():
                    yield from state.events(raw)
            yield from state.finish()
        except (httpx.HTTPError, AnyFastError) as exc:
            raise state.failure(exc) from None
        finally:
            state.response.close()

    def close(self) -> None:
        """Give the connection back (safe to call more than once)."""
        self._state.response.close()

    def __enter__(self) -> ChatStream:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class AsyncChatStream(_StreamBase):
    """The async twin of :class:`ChatStream`::

    async with await client.stream(request) as stream:
        async for delta in stream:
            print(delta.content, end="")
    """

    async def __aiter__(self) -> AsyncIterator[StreamDelta]:
        state = self._state
        state.start()
        try:
            if is_json_response(state.response):
                await state.response.aread()
                for delta in state.whole_body():
                    yield delta
            else:
                async for raw in state.response.aiter_bytes():
                    for delta in state.events(raw):
                        yield delta
            for delta in state.finish():
                yield delta
        except (httpx.HTTPError, AnyFastError) as exc:
            raise state.failure(exc) from None
        finally:
            await state.response.aclose()

    async def aclose(self) -> None:
        """Give the connection back (safe to call more than once)."""
        await self._state.response.aclose()

    async def __aenter__(self) -> AsyncChatStream:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()
