"""Test helpers shared by several suites: the real GLM recordings, a scripted in-process AnyFast, and
the walk over an exception's causes that the secret scans use."""

from __future__ import annotations

import asyncio
import contextlib
import functools
import json
import operator
import re
import threading
import time
from collections import deque
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx

RECORDINGS = Path(__file__).parent / "data" / "glm-recordings"
"""Real GLM traffic, byte for byte (see its README)."""


def recorded_prompts() -> list[tuple[str, dict[str, Any], int]]:
    """Each distinct recorded request (name, body) with the prompt tokens GLM reported for it.

    Six recordings hold four distinct requests: each streamed glm-4.5 request repeats a non-streamed one."""
    found: dict[str, tuple[str, dict[str, Any], int]] = {}
    for path in sorted(RECORDINGS.glob("*.request.json")):
        name = path.name.removesuffix(".request.json")
        body = json.loads(path.read_text("utf-8"))
        answer = next(p for p in (RECORDINGS / f"{name}.json", RECORDINGS / f"{name}.sse") if p.exists())
        usages = [u for u in _USAGE.findall(answer.read_text("utf-8"))]
        key = json.dumps([body["messages"], body.get("tools")], sort_keys=True)
        found.setdefault(key, (name, body, int(usages[-1])))
    return list(found.values())


_USAGE = re.compile(r'"prompt_tokens":(\d+)')


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

    def raw(self, status: int, content_type: str, body: bytes, headers: dict[str, str] | None = None) -> None:
        """Any body under any content type (plain text, a proxy's HTML page...)."""
        self.queue.append((status, content_type, body, headers or {}))

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


def transport_of(client: Any) -> Any:
    """The transport (and so the pool) a core client of ours sends with: the sync client's, or the async
    client's for the running event loop (made by a first call there)."""
    from anyfast_core import AnyFastClient

    if isinstance(client, AnyFastClient):
        return client._transport
    return client._pools[asyncio.get_running_loop()][2]


def pool_connections(transport: Any) -> list[Any]:
    """The connections in one of our transports' pools (httpcore's public ``connections``)."""
    return list(transport.pool.connections)


def busy_connections(transport: Any) -> list[Any]:
    """Connections checked out of the pool (neither idle nor closed): a leak once calls are over."""
    return [c for c in pool_connections(transport) if not c.is_idle() and not c.is_closed()]


STALL_FIRST_EVENT = (
    b'data: {"id":"chatcmpl-stall","created":1,"model":"glm-5.2","choices":[{"index":0,"delta":{"content":"Hel"}}]}\n\n'
)
STALL_LAST_EVENTS = (
    b'data: {"id":"chatcmpl-stall","created":1,"model":"glm-5.2","choices":[{"index":0,"delta":{"content":"lo"},'
    b'"finish_reason":"stop"}]}\n\ndata: [DONE]\n\n'
)


class StallingServer:
    """A real loopback server whose streams go silent (a socket read timeout needs a real socket).

    Every POST is answered by ``behaviour``:

    * ``silent``: the first event (content "Hel"), then nothing (a stall after the first event);
    * ``pings``: the first event, then only keep-alive comments (the socket busy, the stream stalled);
    * ``no_events``: the headers, then nothing;
    * ``no_headers``: nothing at all;
    * ``steady``: the first event every 0.1 s for a second, then "lo" and the end (slow but healthy);
    * ``trickle``: the first event, then the last ones a few bytes every 0.05 s (one event arriving slowly).
    """

    def __init__(self, behaviour: str) -> None:
        self.posts = 0
        self.stop = threading.Event()
        outer = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self) -> None:
                self.rfile.read(int(self.headers.get("content-length", 0)))
                outer.posts += 1
                with contextlib.suppress(OSError):  # the client leaves at its idle limit, as it should
                    if behaviour == "no_headers":
                        outer.stop.wait(10)
                        return
                    self.send_response(200)
                    self.send_header("content-type", "text/event-stream")
                    self.send_header("connection", "close")
                    self.end_headers()
                    self.wfile.flush()
                    if behaviour == "no_events":
                        outer.stop.wait(10)
                        return
                    self.wfile.write(STALL_FIRST_EVENT)
                    self.wfile.flush()
                    if behaviour == "trickle":
                        for start in range(0, len(STALL_LAST_EVENTS), 5):
                            outer.stop.wait(0.05)
                            self.wfile.write(STALL_LAST_EVENTS[start : start + 5])
                            self.wfile.flush()
                        return
                    if behaviour == "steady":
                        for _ in range(10):
                            outer.stop.wait(0.1)
                            self.wfile.write(STALL_FIRST_EVENT)
                            self.wfile.flush()
                        self.wfile.write(STALL_LAST_EVENTS)
                        return
                    deadline = time.monotonic() + 10
                    while time.monotonic() < deadline and not outer.stop.wait(0.05):
                        if behaviour == "pings":
                            self.wfile.write(b": PING\n\n")
                            self.wfile.flush()

            def log_message(self, *args: Any) -> None:
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.thread = threading.Thread(target=self.httpd.serve_forever, args=(0.05,), daemon=True)

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.httpd.server_address[1]}/v1"

    def __enter__(self) -> StallingServer:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop.set()
        self.httpd.shutdown()
        self.httpd.server_close()
