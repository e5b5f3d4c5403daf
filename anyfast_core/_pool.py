"""The transports of the clients the core makes: httpx's public transport seam over an httpcore pool
we construct, with a fairer pool pass where the pool is the one it was written for.

httpcore's pool runs one pass (``_assign_requests_to_connections``) on every request event. In
httpcore 1.0 that pass has faults that any burst of calls meets (measurements: benchmarks/README.md):

- It gives every request that arrives in one tick the same idle connection: the connection stays
  idle until its request wakes up, so the next request still sees it free, and all but one are turned
  away (``ConnectionNotAvailable``) and queued again: the pool's CPU cost grows with each burst.
- It may close, as a surplus keep-alive connection, a connection it has just given to a waiting
  request (https://github.com/encode/httpcore/issues/1110: the sync request can then hang until its
  read timeout).
- It compares all connections, not the idle ones, with ``max_keepalive_connections``
  (https://github.com/encode/httpcore/issues/1000), so idle connections are closed while any burst runs.
- A connection given to a request that is cancelled (or times out waiting) before it wakes up stays
  in the pool for good, neither idle nor in use: one slot lost each time.

:func:`assign_requests` is the same pass with one more rule: a connection given to a request is taken
until that request is done. The pool that runs it, :class:`FairConnectionPool` (and its async twin),
is a subclass we construct ourselves, handed to httpx through ``httpx.Client(transport=...)``: no
pool or class of httpx or httpcore is changed for anyone else. It overrides a private method, so it
is used only on the httpcore versions it was written for (:data:`FAIR_POOL_HTTPCORE`); elsewhere the
same transport holds httpcore's stock pool with the same limits.
"""

from __future__ import annotations

import ssl
from collections.abc import AsyncIterator, Iterable, Iterator
from contextlib import contextmanager
from typing import Any

import httpcore
import httpx

__all__ = [
    "FAIR_POOL_HTTPCORE",
    "AsyncPoolTransport",
    "FairAsyncConnectionPool",
    "FairConnectionPool",
    "PoolTransport",
    "assign_requests",
    "fair_pool_fits",
    "make_transport",
]

FAIR_POOL_HTTPCORE = ((1, 0, 3), (1, 1))
"""The httpcore versions (from, before) whose pool :func:`assign_requests` was written for: the pool
as rewritten in 1.0.3 (one pass per request event over ``PoolRequest`` objects), up to the next minor."""


def fair_pool_fits(version: str = httpcore.__version__) -> bool:
    """Whether the fair pass fits this httpcore (else the stock pool is used).

    >>> fair_pool_fits("1.0.9"), fair_pool_fits("1.0.2"), fair_pool_fits("1.1.0"), fair_pool_fits("2.0.0.dev1")
    (True, False, False, False)
    """
    try:
        parsed = tuple(int(part) for part in version.split(".")[:3])
    except ValueError:
        return False
    low, high = FAIR_POOL_HTTPCORE
    return low <= parsed < high and hasattr(httpcore.ConnectionPool, "_assign_requests_to_connections")


def assign_requests(pool: Any) -> list[Any]:
    """One pass over ``pool``: drop closed connections, close expired and surplus idle ones, and give
    each queued request a connection nobody else has been given. Returns the connections to close.

    Run under the pool's lock, as httpcore runs its own pass.
    """
    closing: list[Any] = []
    taken = {id(request.connection) for request in pool._requests if request.connection is not None}
    idle = sum(1 for c in pool._connections if id(c) not in taken and not c.is_closed() and c.is_idle())
    for connection in list(pool._connections):
        if connection.is_closed():
            pool._connections.remove(connection)
        elif id(connection) in taken:
            continue  # serving a request or about to: its expiry was checked in the pass that gave it
        elif not connection.is_idle():
            # Busy with no request: its request was cancelled or timed out before it woke up (httpcore
            # would keep it for good, a slot lost). Nothing can use it now.
            pool._connections.remove(connection)
            closing.append(connection)
        elif connection.has_expired() or idle > pool._max_keepalive_connections:  # an idle one: expired or surplus
            pool._connections.remove(connection)
            closing.append(connection)
            idle -= 1

    for request in [request for request in pool._requests if request.is_queued()]:
        origin = request.request.url.origin
        connection = next(
            (c for c in pool._connections if id(c) not in taken and c.can_handle_request(origin) and c.is_available()),
            None,
        )
        if connection is None:
            if len(pool._connections) >= pool._max_connections:
                spare = next((c for c in pool._connections if id(c) not in taken and c.is_idle()), None)
                if spare is None:
                    continue  # stays queued until a connection is released
                pool._connections.remove(spare)  # an idle connection to another origin makes room
                closing.append(spare)
            connection = pool.create_connection(origin)
            pool._connections.append(connection)
        taken.add(id(connection))
        request.assign_to_connection(connection)
    return closing


class FairConnectionPool(httpcore.ConnectionPool):
    """httpcore's sync pool with :func:`assign_requests` as its pass (HTTP/1.1 only: HTTP/2 multiplexes
    requests over one connection, which the one-request-per-connection rule would forbid)."""

    def _assign_requests_to_connections(self) -> list[httpcore.ConnectionInterface]:
        return assign_requests(self)


class FairAsyncConnectionPool(httpcore.AsyncConnectionPool):
    """httpcore's async pool with :func:`assign_requests` as its pass."""

    def _assign_requests_to_connections(self) -> list[httpcore.AsyncConnectionInterface]:
        return assign_requests(self)


# --------------------------------------------------------------------------- the transports

# httpcore's exceptions as httpx raises them (what httpx's own transport does, from public classes),
# most specific first.
_EXCEPTIONS: tuple[tuple[type[Exception], type[httpx.HTTPError]], ...] = (
    (httpcore.ConnectTimeout, httpx.ConnectTimeout),
    (httpcore.ReadTimeout, httpx.ReadTimeout),
    (httpcore.WriteTimeout, httpx.WriteTimeout),
    (httpcore.PoolTimeout, httpx.PoolTimeout),
    (httpcore.TimeoutException, httpx.TimeoutException),
    (httpcore.ConnectError, httpx.ConnectError),
    (httpcore.ReadError, httpx.ReadError),
    (httpcore.WriteError, httpx.WriteError),
    (httpcore.NetworkError, httpx.NetworkError),
    (httpcore.ProxyError, httpx.ProxyError),
    (httpcore.UnsupportedProtocol, httpx.UnsupportedProtocol),
    (httpcore.LocalProtocolError, httpx.LocalProtocolError),
    (httpcore.RemoteProtocolError, httpx.RemoteProtocolError),
    (httpcore.ProtocolError, httpx.ProtocolError),
)


@contextmanager
def _as_httpx_errors() -> Iterator[None]:
    try:
        yield
    except Exception as exc:
        for theirs, ours in _EXCEPTIONS:
            if isinstance(exc, theirs):
                raise ours(str(exc)) from exc
        raise


def _core_request(request: httpx.Request, content: Any) -> httpcore.Request:
    url = request.url
    return httpcore.Request(
        method=request.method,
        url=httpcore.URL(scheme=url.raw_scheme, host=url.raw_host, port=url.port, target=url.raw_path),
        headers=request.headers.raw,
        content=content,
        extensions=request.extensions,
    )


class _Body(httpx.SyncByteStream):
    def __init__(self, stream: Iterable[bytes]) -> None:
        self._stream = stream

    def __iter__(self) -> Iterator[bytes]:
        with _as_httpx_errors():
            yield from self._stream

    def close(self) -> None:
        close = getattr(self._stream, "close", None)
        if close is not None:
            close()


class _AsyncBody(httpx.AsyncByteStream):
    def __init__(self, stream: Any) -> None:
        self._stream = stream

    async def __aiter__(self) -> AsyncIterator[bytes]:
        with _as_httpx_errors():
            async for part in self._stream:
                yield part

    async def aclose(self) -> None:
        aclose = getattr(self._stream, "aclose", None)
        if aclose is not None:
            await aclose()


class PoolTransport(httpx.BaseTransport):
    """An httpx transport over ``pool``, an httpcore pool of our making (what ``httpx.HTTPTransport``
    does, through public API only). ``pool.connections`` lists its connections."""

    def __init__(self, pool: httpcore.ConnectionPool) -> None:
        self.pool = pool

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        with _as_httpx_errors():
            response = self.pool.handle_request(_core_request(request, request.stream))
        assert isinstance(response.stream, Iterable)
        return httpx.Response(
            response.status, headers=response.headers, stream=_Body(response.stream), extensions=response.extensions
        )

    def close(self) -> None:
        self.pool.close()


class AsyncPoolTransport(httpx.AsyncBaseTransport):
    """The async twin of :class:`PoolTransport`."""

    def __init__(self, pool: httpcore.AsyncConnectionPool) -> None:
        self.pool = pool

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        with _as_httpx_errors():
            response = await self.pool.handle_async_request(_core_request(request, request.stream))
        return httpx.Response(
            response.status,
            headers=response.headers,
            stream=_AsyncBody(response.stream),
            extensions=response.extensions,
        )

    async def aclose(self) -> None:
        await self.pool.aclose()


def make_transport(
    limits: httpx.Limits, ssl_context: ssl.SSLContext, *, is_async: bool, fair: bool | None = None
) -> PoolTransport | AsyncPoolTransport:
    """A transport over a new HTTP/1.1 pool with ``limits``: the fair pool where :func:`fair_pool_fits`
    (or as ``fair`` says), httpcore's stock pool elsewhere."""
    if fair is None:
        fair = fair_pool_fits()
    settings: dict[str, Any] = {
        "ssl_context": ssl_context,
        "max_connections": limits.max_connections,
        "max_keepalive_connections": limits.max_keepalive_connections,
        "keepalive_expiry": limits.keepalive_expiry,
    }
    if is_async:
        return AsyncPoolTransport((FairAsyncConnectionPool if fair else httpcore.AsyncConnectionPool)(**settings))
    return PoolTransport((FairConnectionPool if fair else httpcore.ConnectionPool)(**settings))
