"""Test helpers shared by several suites: the real GLM recordings, a scripted in-process AnyFast, and
the walk over an exception's causes that the secret scans use."""

from __future__ import annotations

import functools
import json
import operator
from collections import deque
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx

RECORDINGS = Path(__file__).parent / "data" / "glm-recordings"
"""Real GLM traffic, byte for byte (see its README)."""


class ScriptedServer:
    """Answers chat requests in order from a queue and records every request body and headers.

    Use ``handler`` as an ``httpx.MockTransport`` handler. When the queue runs dry the request fails the
    test, so a test cannot pass by calling more than it scripted.
    """

    def __init__(self) -> None:
        self.queue: deque[tuple[int, str, bytes, dict[str, str]]] = deque()
        self.requests: list[dict[str, Any]] = []
        self.headers: list[httpx.Headers] = []

    def json(self, body: dict[str, Any] | bytes, status: int = 200, headers: dict[str, str] | None = None) -> None:
        data = body if isinstance(body, bytes) else json.dumps(body).encode()
        self.queue.append((status, "application/json", data, headers or {}))

    def sse(self, body: bytes) -> None:
        self.queue.append((200, "text/event-stream", body, {}))

    def recording(self, name: str) -> None:
        """Queue one of the real GLM recordings."""
        body = (RECORDINGS / name).read_bytes()
        if name.endswith(".sse"):
            self.sse(body)
        else:
            self.json(body)

    def handler(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(json.loads(request.content))
        self.headers.append(request.headers)
        if not self.queue:
            raise AssertionError(f"unscripted request: {request.content[:300]!r}")
        status, content_type, body, headers = self.queue.popleft()
        return httpx.Response(status, headers={"content-type": content_type, **headers}, content=body)


def exception_chain(exc: BaseException) -> Iterator[BaseException]:
    """``exc`` and everything it was raised from or during, each once."""
    seen: set[int] = set()
    todo: list[BaseException | None] = [exc]
    while todo:
        current = todo.pop()
        if current is None or id(current) in seen:
            continue
        seen.add(id(current))
        yield current
        todo += [current.__cause__, current.__context__]


def add(a: int, b: int) -> int:
    """Add two integers."""
    return a + b


def multiply(a: int, b: int) -> int:
    """Multiply two integers."""
    return a * b


def merged(chunks: list[Any]) -> Any:
    """Streamed pieces added up in order (LangChain chunks define ``+``)."""
    assert chunks, "a stream that ends normally yields at least its closing chunk"
    return functools.reduce(operator.add, chunks)


def pool_connections(http: httpx.Client | httpx.AsyncClient) -> list[Any]:
    return list(http._transport._pool.connections)  # type: ignore[union-attr]


def busy_connections(http: httpx.Client | httpx.AsyncClient) -> list[Any]:
    """Connections checked out of the pool (neither idle nor closed): a leak once calls are over."""
    return [c for c in pool_connections(http) if not c.is_idle() and not c.is_closed()]
