"""A small asyncio HTTP/1.1 server that executes the app's plans on loopback.

Keep-alive, ``Expect: 100-continue`` (curl sends it for large bodies), Content-Length and chunked
request bodies; responses with Content-Length, chunked SSE streams, close-delimited streams, bodies
dropped half-way, and TCP resets. It runs its own event loop in a daemon thread, so sync tests,
async tests on any loop, and other processes can all talk to it.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import socket
import struct
import threading
from typing import Any

from anyfast_emulator.app import REASONS, App, HTTPRequest, Plan, json_plan
from anyfast_emulator.wire import error_body

logger = logging.getLogger("anyfast_emulator")

MAX_HEADER_BYTES = 1 << 20


class Server:
    """Serve ``app`` on ``host:port`` (port 0 picks a free one) from a background thread."""

    def __init__(self, app: App, host: str = "127.0.0.1", port: int = 0) -> None:
        self.app = app
        self.host = host
        self.port = port
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._server: asyncio.base_events.Server | None = None
        self._connections: set[asyncio.Task[None]] = set()
        # Set when the loop's thread is done. Waiting on it, not on Thread.join, because a join that a
        # Ctrl-C interrupts can leave the thread looking finished while it still runs (CPython < 3.12).
        self._done = threading.Event()

    def start(self) -> None:
        """Listen and serve from a daemon thread; an ``OSError`` (the port in use, say) if it cannot listen."""
        loop = asyncio.new_event_loop()
        self._loop = loop
        self._done = threading.Event()
        self._thread = threading.Thread(target=self._run, args=(loop,), name="anyfast-emulator", daemon=True)
        self._thread.start()
        try:
            asyncio.run_coroutine_threadsafe(self._listen(), loop).result(timeout=10)
        except BaseException:
            self.stop()
            raise

    def _run(self, loop: asyncio.AbstractEventLoop) -> None:
        try:
            loop.run_forever()
        finally:
            self._done.set()

    async def _listen(self) -> None:
        self._server = await asyncio.start_server(
            self._connection, self.host, self.port, limit=MAX_HEADER_BYTES, backlog=1024, reuse_address=True
        )
        self.port = self._server.sockets[0].getsockname()[1]

    def stop(self) -> None:
        loop, thread = self._loop, self._thread
        if loop is None or thread is None:
            return
        with contextlib.suppress(Exception):
            # Open keep-alive connections are dropped, not waited for: stopping is immediate.
            asyncio.run_coroutine_threadsafe(self._shutdown(), loop).result(timeout=2)
        loop.call_soon_threadsafe(loop.stop)
        if self._done.wait(timeout=5):
            loop.close()
        self._loop = self._thread = None

    async def _shutdown(self) -> None:
        if self._server is not None:
            self._server.close()
        for task in list(self._connections):
            task.cancel()
        if self._connections:
            await asyncio.wait(list(self._connections), timeout=1)

    def serve_forever(self) -> None:
        """Block until interrupted (for the command line); Ctrl-C stops at once, clients connected or not."""
        if self._thread is None:
            self.start()
        try:
            while not self._done.wait(0.2):
                pass
        finally:
            self.stop()

    # ------------------------------------------------------------------ connections

    async def _connection(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._connections.add(task)
        try:
            while True:
                request, keep_alive = await _read_request(reader, writer)
                if request is None:
                    break
                try:
                    plan = self.app.handle(request)
                except Exception as exc:  # a bug here must show as a 500, not a dropped connection
                    logger.exception("emulator failed on %s %s", request.method, request.path)
                    plan = json_plan(
                        500, error_body(f"emulator error: {type(exc).__name__}: {exc}", type="emulator_error")
                    )
                if not await _respond(writer, plan, keep_alive) or not keep_alive:
                    break
        except (ConnectionError, asyncio.IncompleteReadError, asyncio.LimitOverrunError, ValueError):
            pass
        except asyncio.CancelledError:
            # Shutting down. Ending normally (not cancelled) keeps asyncio's stream callback from
            # logging the cancellation as an unhandled error.
            _abort(writer)
        finally:
            self._connections.discard(task)
            if not writer.is_closing():
                writer.close()
            with contextlib.suppress(Exception):
                await writer.wait_closed()


async def _read_request(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> tuple[HTTPRequest | None, bool]:
    try:
        head = await reader.readuntil(b"\r\n\r\n")
    except asyncio.IncompleteReadError:
        return None, False
    lines = head.decode("latin-1").split("\r\n")
    method, target, version = lines[0].split(" ", 2)
    headers: dict[str, str] = {}
    for line in lines[1:]:
        if line:
            name, _, value = line.partition(":")
            headers[name.strip().lower()] = value.strip()
    if headers.get("expect", "").lower() == "100-continue":
        writer.write(b"HTTP/1.1 100 Continue\r\n\r\n")
    if "chunked" in headers.get("transfer-encoding", "").lower():
        body = await _read_chunked(reader)
    else:
        length = int(headers.get("content-length") or 0)
        body = await reader.readexactly(length) if length else b""
    connection = headers.get("connection", "").lower()
    keep_alive = connection != "close" if version.upper() == "HTTP/1.1" else connection == "keep-alive"
    return HTTPRequest(method.upper(), target, headers, body), keep_alive


async def _read_chunked(reader: asyncio.StreamReader) -> bytes:
    parts: list[bytes] = []
    while True:
        size = int((await reader.readuntil(b"\r\n")).split(b";", 1)[0].strip(), 16)
        if size == 0:
            while (await reader.readuntil(b"\r\n")) != b"\r\n":  # trailers
                pass
            return b"".join(parts)
        parts.append(await reader.readexactly(size))
        await reader.readexactly(2)


def _head(plan: Plan, extra: list[tuple[str, str]]) -> bytes:
    lines = [f"HTTP/1.1 {plan.status} {REASONS.get(plan.status, 'Unknown')}"]
    lines += [f"{name}: {value}" for name, value in [*plan.headers, *extra]]
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")


def _abort(writer: asyncio.StreamWriter) -> None:
    """Drop the connection with a TCP reset (SO_LINGER 0), not a graceful FIN."""
    sock: Any = writer.get_extra_info("socket")
    with contextlib.suppress(OSError, AttributeError):
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    writer.transport.abort()


async def _respond(writer: asyncio.StreamWriter, plan: Plan, keep_alive: bool) -> bool:
    """Send ``plan``; ``False`` when the connection must not be reused."""
    if plan.reset:
        _abort(writer)
        return False
    if plan.delay > 0:
        await asyncio.sleep(plan.delay)
    connection = [("Connection", "keep-alive" if keep_alive else "close")]
    if plan.events is None:
        writer.write(_head(plan, [("Content-Length", str(len(plan.body))), *connection]))
        if plan.stall > 0:
            await writer.drain()
            await asyncio.sleep(plan.stall)
        if plan.end == "abort":
            writer.write(plan.body[: len(plan.body) // 2])
            await writer.drain()
            _abort(writer)
            return False
        writer.write(plan.body)
        await writer.drain()
        return True
    close_delimited = plan.end == "close"
    if close_delimited:
        writer.write(_head(plan, [("Connection", "close")]))
    else:
        writer.write(_head(plan, [("Transfer-Encoding", "chunked"), *connection]))
    frame = (lambda data: data) if close_delimited else _chunk
    if plan.chunk_delay <= 0 and plan.fragment <= 0 and plan.stall <= 0:
        writer.write(b"".join(frame(event) for event in plan.events))
        await writer.drain()
    else:
        pieces = plan.events
        if plan.fragment > 0:
            joined = b"".join(plan.events)
            pieces = [joined[i : i + plan.fragment] for i in range(0, len(joined), plan.fragment)]
        data_events = 0
        for piece in pieces:
            writer.write(frame(piece))
            await writer.drain()
            data_events += piece.startswith(b"data:")
            if plan.stall > 0 and data_events == plan.stall_after:
                await asyncio.sleep(plan.stall)
            elif plan.chunk_delay > 0:
                await asyncio.sleep(plan.chunk_delay)
            else:
                await asyncio.sleep(0)
    if plan.end == "abort":
        _abort(writer)
        return False
    if close_delimited:
        writer.close()
        return False
    writer.write(b"0\r\n\r\n")
    await writer.drain()
    return True


def _chunk(data: bytes) -> bytes:
    return b"%x\r\n%s\r\n" % (len(data), data)
