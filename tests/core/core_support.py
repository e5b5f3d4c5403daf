"""Helpers for the core tests: scripted httpx transports, recorded GLM bodies, a sync/async harness.

Every client behaviour is tested through :class:`Harness`, which runs the same scenario on
``AnyFastClient`` or ``AsyncAnyFastClient`` (the ``mode`` fixture), so the twins cannot drift apart.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from typing import Any, TypeVar

import httpx
from testkit import RECORDINGS

from anyfast_core import AnyFastClient, AsyncAnyFastClient, ChatCompletion, ChatRequest, StreamDelta

T = TypeVar("T")
DATA = RECORDINGS
KEY = "sk-test-SECRET-0123456789abcdef"
"""A key distinctive enough that any leak of it is found by a substring search."""

SSE_HEADERS = {"content-type": "text/event-stream;charset=UTF-8"}
JSON_HEADERS = {"content-type": "application/json; charset=UTF-8"}


def recording(name: str) -> bytes:
    """A recorded real GLM response body (see tests/data/glm-recordings/README.md)."""
    return (DATA / name).read_bytes()


def request(**fields: Any) -> ChatRequest:
    fields.setdefault("model", "glm-5.2")
    fields.setdefault("messages", [{"role": "user", "content": "Hi"}])
    return ChatRequest.create(**fields)


def chunk(
    delta: dict[str, Any] | None = None,
    finish_reason: str | None = None,
    usage: dict[str, Any] | None = None,
    *,
    choices: bool = True,
) -> dict[str, Any]:
    """One stream chunk in the GLM shape (no ``object``); ``choices=False`` gives OpenAI's ``choices: []``."""
    data: dict[str, Any] = {"id": "chatcmpl-1", "created": 1, "model": "glm-5.2"}
    choice: dict[str, Any] = {"index": 0, "delta": delta or {}}
    if finish_reason is not None:
        choice["finish_reason"] = finish_reason
    data["choices"] = [choice] if choices else []
    if usage is not None:
        data["usage"] = usage
    return data


def sse(*events: dict[str, Any] | bytes | str, done: bool = True, eol: bytes = b"\n") -> bytes:
    """An event-stream body: each event as ``data: <json>`` and a blank line, then ``[DONE]``."""
    out = []
    for event in events:
        payload = event if isinstance(event, bytes) else (event.encode() if isinstance(event, str) else None)
        if payload is None:
            payload = json.dumps(event, ensure_ascii=False).encode()
        out.append(b"data: " + payload + eol + eol)
    if done:
        out.append(b"data: [DONE]" + eol + eol)
    return b"".join(out)


def completion_body(
    content: str | None = "Hello!",
    finish_reason: str | None = "stop",
    **message: Any,
) -> dict[str, Any]:
    choice: dict[str, Any] = {"index": 0, "message": {"role": "assistant", "content": content, **message}}
    if finish_reason is not None:
        choice["finish_reason"] = finish_reason
    return {
        "id": "chatcmpl-1",
        "created": 1,
        "model": "glm-5.2",
        "choices": [choice],
        "usage": {"prompt_tokens": 3, "completion_tokens": 2, "total_tokens": 5},
    }


class Body(httpx.SyncByteStream, httpx.AsyncByteStream):
    """A response body sent in the given pieces, optionally failing after them; records closing."""

    def __init__(self, pieces: list[bytes], error: Exception | None = None) -> None:
        self.pieces = pieces
        self.error = error
        self.closed = False
        self.sent = 0

    def __iter__(self) -> Iterator[bytes]:
        for piece in self.pieces:
            self.sent += 1
            yield piece
        if self.error is not None:
            raise self.error

    async def __aiter__(self) -> AsyncIterator[bytes]:
        for piece in self.pieces:
            self.sent += 1
            yield piece
        if self.error is not None:
            raise self.error

    def close(self) -> None:
        self.closed = True

    async def aclose(self) -> None:
        self.closed = True


Reply = httpx.Response | Exception | Callable[[httpx.Request], httpx.Response]


class Server:
    """A scripted server: each request gets the next reply (the last one repeats).

    A reply is an ``httpx.Response``, an exception to raise (a transport failure), or a function
    of the request. ``requests`` keeps what was sent; ``bodies`` their JSON.
    """

    def __init__(self, *replies: Reply) -> None:
        self.replies = list(replies)
        self.requests: list[httpx.Request] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        reply = self.replies[min(len(self.requests), len(self.replies)) - 1]
        if isinstance(reply, Exception):
            raise reply
        if isinstance(reply, httpx.Response):
            # A client rebinds the response it receives, so each request gets a fresh copy.
            stream = reply.stream if isinstance(reply.stream, Body) else httpx.ByteStream(reply.read())
            return httpx.Response(reply.status_code, headers=reply.headers, stream=stream)
        return reply(request)

    @property
    def bodies(self) -> list[dict[str, Any]]:
        return [json.loads(r.content) for r in self.requests if r.content]


def json_response(status: int, body: Any, headers: dict[str, str] | None = None) -> httpx.Response:
    content = body if isinstance(body, bytes) else json.dumps(body).encode()
    return httpx.Response(status, content=content, headers={**JSON_HEADERS, **(headers or {})})


def sse_response(body: bytes | Body, status: int = 200, headers: dict[str, str] | None = None) -> httpx.Response:
    stream = body if isinstance(body, Body) else Body([body])
    return httpx.Response(status, stream=stream, headers={**SSE_HEADERS, **(headers or {})})


class Harness:
    """Runs one scenario on the sync or the async client, with the same synchronous interface."""

    def __init__(self, mode: str, server: Server | None, **client_kwargs: Any) -> None:
        """``server=None`` talks to ``base_url`` over real sockets instead of a scripted server."""
        self.mode = mode
        self.server = server or Server()
        self.real = server is None
        client_kwargs.setdefault("api_key", KEY)
        client_kwargs.setdefault("base_url", "https://anyfast.test/v1")
        self.client_kwargs = client_kwargs

    @classmethod
    def maker(cls, mode: str) -> Callable[..., Harness]:
        """``make(*replies, **client_kwargs)``: a scripted server answering ``replies`` and a client of ``mode``."""
        return lambda *replies, **client_kwargs: cls(mode, Server(*replies), **client_kwargs)

    def client(self) -> AnyFastClient | AsyncAnyFastClient:
        if self.real:
            cls = AnyFastClient if self.mode == "sync" else AsyncAnyFastClient
            return cls(**self.client_kwargs)
        transport = httpx.MockTransport(self.server)
        if self.mode == "sync":
            return AnyFastClient(http_client=httpx.Client(transport=transport), **self.client_kwargs)
        return AsyncAnyFastClient(http_client=httpx.AsyncClient(transport=transport), **self.client_kwargs)

    def run(
        self,
        sync: Callable[[AnyFastClient], T],
        async_: Callable[[AsyncAnyFastClient], Awaitable[T]],
    ) -> T:
        """Run ``sync`` or ``async_`` (in a fresh event loop) on a new client of this mode, then close it."""
        client = self.client()
        if isinstance(client, AnyFastClient):
            with client:
                return sync(client)

        async def run() -> T:
            assert isinstance(client, AsyncAnyFastClient)
            async with client:
                return await async_(client)

        return asyncio.run(run())

    def chat(self, req: ChatRequest | None = None, **kwargs: Any) -> ChatCompletion:
        async def chat(client: AsyncAnyFastClient) -> ChatCompletion:
            return await client.chat(req or request(), **kwargs)

        return self.run(lambda client: client.chat(req or request(), **kwargs), chat)

    def stream(self, req: ChatRequest | None = None, **kwargs: Any) -> tuple[list[StreamDelta], ChatCompletion]:
        """Read a whole stream: its deltas and the completion."""

        def read(client: AnyFastClient) -> tuple[list[StreamDelta], ChatCompletion]:
            with client.stream(req or request(), **kwargs) as stream:
                deltas = list(stream)
            return deltas, stream.completion

        async def aread(client: AsyncAnyFastClient) -> tuple[list[StreamDelta], ChatCompletion]:
            async with await client.stream(req or request(), **kwargs) as stream:
                deltas = [delta async for delta in stream]
            return deltas, stream.completion

        return self.run(read, aread)

    def stream_deltas_then_error(
        self, req: ChatRequest | None = None, **kwargs: Any
    ) -> tuple[list[StreamDelta], BaseException]:
        """Read a stream that is expected to fail: the deltas it gave before, and the error."""
        deltas: list[StreamDelta] = []

        def read(client: AnyFastClient) -> BaseException:
            try:
                with client.stream(req or request(), **kwargs) as stream:
                    deltas.extend(stream)
            except Exception as exc:
                return exc
            raise AssertionError("the stream did not fail")

        async def aread(client: AsyncAnyFastClient) -> BaseException:
            try:
                async with await client.stream(req or request(), **kwargs) as stream:
                    async for delta in stream:
                        deltas.append(delta)
            except Exception as exc:
                return exc
            raise AssertionError("the stream did not fail")

        error = self.run(read, aread)
        return deltas, error

    def models(self) -> Any:
        async def models(client: AsyncAnyFastClient) -> Any:
            return await client.models()

        return self.run(lambda client: client.models(), models)
