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
is a subclass we construct ourselves, in a transport we construct (:class:`PoolTransport`), handed to
httpx through ``httpx.Client(transport=...)``: no pool, transport or class of httpx or httpcore is
changed for anyone else. It overrides a private method, so it is used only on the httpcore versions it
was written for (:data:`FAIR_POOL_HTTPCORE`); elsewhere the transport keeps httpcore's stock pool,
with the same limits.
"""

from __future__ import annotations

import ssl
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


class PoolTransport(httpx.HTTPTransport):
    """httpx's own transport, over the fair pool where :func:`fair_pool_fits` (or ``fair`` says so).

    A subclass, not a transport of our own, so that what hooks httpx's transport class (vcrpy's and
    pytest-recording's cassettes, say) sees our requests too. httpx's transport keeps its pool in
    ``_pool`` (every httpx from 0.18 to this day): on this instance, which we construct, the stock
    pool httpx made is replaced by the fair one before any request; anything unexpected there keeps
    the stock pool. :attr:`pool` is the pool in use (its ``connections`` are httpcore's public list).
    """

    def __init__(self, limits: httpx.Limits, ssl_context: ssl.SSLContext, *, fair: bool | None = None) -> None:
        super().__init__(verify=ssl_context, limits=limits)
        if (fair_pool_fits() if fair is None else fair) and type(self._pool) is httpcore.ConnectionPool:
            self._pool = FairConnectionPool(**_pool_settings(limits, ssl_context))

    @property
    def pool(self) -> httpcore.ConnectionPool:
        pool = self._pool
        assert isinstance(pool, httpcore.ConnectionPool)
        return pool


class AsyncPoolTransport(httpx.AsyncHTTPTransport):
    """The async twin of :class:`PoolTransport`."""

    def __init__(self, limits: httpx.Limits, ssl_context: ssl.SSLContext, *, fair: bool | None = None) -> None:
        super().__init__(verify=ssl_context, limits=limits)
        if (fair_pool_fits() if fair is None else fair) and type(self._pool) is httpcore.AsyncConnectionPool:
            self._pool = FairAsyncConnectionPool(**_pool_settings(limits, ssl_context))

    @property
    def pool(self) -> httpcore.AsyncConnectionPool:
        pool = self._pool
        assert isinstance(pool, httpcore.AsyncConnectionPool)
        return pool


def _pool_settings(limits: httpx.Limits, ssl_context: ssl.SSLContext) -> dict[str, Any]:
    # What httpx gives its own pool for these limits (HTTP/1.1 only, no proxy: a proxy from the
    # environment gets a transport of httpx's own, mounted by the client).
    return {
        "ssl_context": ssl_context,
        "max_connections": limits.max_connections,
        "max_keepalive_connections": limits.max_keepalive_connections,
        "keepalive_expiry": limits.keepalive_expiry,
    }


def make_transport(
    limits: httpx.Limits, ssl_context: ssl.SSLContext, *, is_async: bool, fair: bool | None = None
) -> PoolTransport | AsyncPoolTransport:
    """A transport over a new HTTP/1.1 pool with ``limits``: the fair pool where :func:`fair_pool_fits`
    (or as ``fair`` says), httpcore's stock pool elsewhere."""
    if is_async:
        return AsyncPoolTransport(limits, ssl_context, fair=fair)
    return PoolTransport(limits, ssl_context, fair=fair)
