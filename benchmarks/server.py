"""A canned HTTP/1.1 server for the benchmarks, built never to be the bottleneck.

It runs in its own process, listens on loopback only, answers from response bytes built once at
start-up (headers and body in one buffer, one ``write`` per response), keeps connections alive, and
stops by itself: after ``--lifetime`` seconds, or as soon as the process that started it is gone.

Routes: ``POST /<scenario>/v1/chat/completions`` answers with the scenario's canned body (see
:mod:`benchmarks.canned`) whatever the request says; ``GET /<scenario>/v1/models`` lists one model.

Run it by hand::

    python -m benchmarks.server --port 8765 --lifetime 600

or from Python, which starts the process and waits until it listens::

    with CannedServer() as server:
        print(server.base_url("s2k"))  # http://127.0.0.1:<port>/s2k/v1
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

from benchmarks.canned import MODEL, bodies

HOST = "127.0.0.1"
DEFAULT_LIFETIME = 900.0
ROOT = Path(__file__).resolve().parent.parent


def _response(status: bytes, content_type: bytes, body: bytes) -> bytes:
    head = (
        b"HTTP/1.1 " + status + b"\r\n"
        b"content-type: " + content_type + b"\r\n"
        b"content-length: " + str(len(body)).encode() + b"\r\n"
        b"x-request-id: bench-request\r\n"
        b"connection: keep-alive\r\n\r\n"
    )
    return head + body


def build_routes() -> dict[tuple[bytes, bytes], bytes]:
    """Every ``(method, path)`` the server knows, with its full response bytes."""
    models = json.dumps(
        {"object": "list", "data": [{"id": MODEL, "object": "model", "created": 1626777600, "owned_by": "bench"}]}
    ).encode()
    routes: dict[tuple[bytes, bytes], bytes] = {}
    for name, (content_type, body) in bodies().items():
        prefix = b"/" + name.encode() + b"/v1"
        routes[(b"POST", prefix + b"/chat/completions")] = _response(b"200 OK", content_type, body)
        routes[(b"GET", prefix + b"/models")] = _response(b"200 OK", b"application/json", models)
    return routes


NOT_FOUND = _response(b"404 Not Found", b"application/json", b'{"error":{"message":"unknown benchmark route"}}')


class _Connection(asyncio.Protocol):
    """One keep-alive connection: read a request (headers, then ``content-length`` bytes), answer."""

    def __init__(self, routes: dict[tuple[bytes, bytes], bytes]) -> None:
        self.routes = routes
        self.buffer = b""
        self.transport: asyncio.Transport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport

    def data_received(self, data: bytes) -> None:
        self.buffer += data
        while True:
            end = self.buffer.find(b"\r\n\r\n")
            if end < 0:
                return
            head = self.buffer[:end]
            length = 0
            for line in head.split(b"\r\n")[1:]:
                name, _, value = line.partition(b":")
                if name.strip().lower() == b"content-length":
                    length = int(value)
            if len(self.buffer) < end + 4 + length:
                return
            self.buffer = self.buffer[end + 4 + length :]
            method, path = head.split(b" ", 2)[:2]
            assert self.transport is not None
            self.transport.write(self.routes.get((method, path.split(b"?")[0]), NOT_FOUND))


async def serve(port: int, lifetime: float, parent: int | None) -> None:
    loop = asyncio.get_running_loop()
    routes = build_routes()
    server = await loop.create_server(lambda: _Connection(routes), HOST, port, backlog=2048)
    print(f"READY {server.sockets[0].getsockname()[1]}", flush=True)
    deadline = loop.time() + lifetime
    async with server:
        while loop.time() < deadline:
            await asyncio.sleep(0.5)
            if parent is not None and os.getppid() != parent:
                return  # whoever started us is gone


class CannedServer:
    """Start the server in a child process for the length of a ``with`` block."""

    def __init__(self, lifetime: float = DEFAULT_LIFETIME) -> None:
        self.lifetime = lifetime
        self.port = 0
        self._process: subprocess.Popen[str] | None = None

    def base_url(self, scenario: str) -> str:
        return f"http://{HOST}:{self.port}/{scenario}/v1"

    def __enter__(self) -> CannedServer:
        self._process = subprocess.Popen(
            [sys.executable, "-m", "benchmarks.server", "--lifetime", str(self.lifetime), "--watch-parent"],
            cwd=ROOT,
            stdout=subprocess.PIPE,
            text=True,
        )
        assert self._process.stdout is not None
        line = self._process.stdout.readline()
        if not line.startswith("READY "):
            self._process.kill()
            raise RuntimeError(f"the benchmark server did not start: {line!r}")
        self.port = int(line.split()[1])
        return self

    def __exit__(self, *exc: object) -> None:
        if self._process is not None:
            self._process.terminate()
            try:
                self._process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self._process.kill()
                self._process.wait()
            if self._process.stdout is not None:
                self._process.stdout.close()


def run_child(args: list[str], what: str, timeout: float) -> Any:
    """Run this interpreter with ``args`` from the repository root; the JSON of its last line.

    A child that fails raises ``RuntimeError`` naming ``what`` and the child's last error line."""
    out = subprocess.run(
        [sys.executable, *args], cwd=ROOT, capture_output=True, text=True, timeout=timeout, check=False
    )
    if out.returncode != 0:
        raise RuntimeError(f"{what} failed: {out.stderr.strip().splitlines()[-1:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description="Canned loopback server for the benchmarks.")
    parser.add_argument("--port", type=int, default=0, help="0 picks a free port (printed as READY <port>)")
    parser.add_argument("--lifetime", type=float, default=DEFAULT_LIFETIME, help="seconds before it stops by itself")
    parser.add_argument("--watch-parent", action="store_true", help="stop when the parent process exits")
    args = parser.parse_args()
    parent = os.getppid() if args.watch_parent else None
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(serve(args.port, args.lifetime, parent))


if __name__ == "__main__":
    main()
