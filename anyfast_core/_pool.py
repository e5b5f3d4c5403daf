"""Connection pools that give each waiting request a connection of its own.

httpcore's pool runs one pass (``_assign_requests_to_connections``) on every request event. In
httpcore 1.0 that pass has four faults, the first three met by any burst of calls:

- It gives every request that arrives in one tick the same idle connection: the connection stays
  idle until its request wakes up, so the next request still sees it free. All but one then get
  ``ConnectionNotAvailable`` and queue again. A burst of 200 calls on a warm pool went through 787
  such retries and about 1,190 passes (400 on a fresh pool), about 25 % more CPU time for the burst.
- It may close, as a surplus keep-alive connection, a connection it has just given to a waiting
  request (encode/httpcore#1110: in the sync pool the request can then hang until its read timeout).
- It compares all connections, not the idle ones, with ``max_keepalive_connections``
  (encode/httpcore#1000), so idle connections are closed while any burst is running.
- A connection given to a request that is cancelled (or times out waiting) before it wakes up stays
  in the pool for good, neither idle nor in use: one slot lost each time.

:func:`assign_requests` is the same pass with one more rule: a connection given to a request is
taken until that request is done. It is not given again, not closed as surplus, and its expiry is not
checked again (the pass that gave it checked it, at most one wake-up earlier). A connection that is
busy but taken by no request is closed. :func:`use_fair_pool`
installs it only on a plain HTTP/1.1 pool of httpcore 1.0, whose internals it was written for; any
other pool is left as it is.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import httpcore

if TYPE_CHECKING:
    import httpx

__all__ = ["FairAsyncConnectionPool", "FairConnectionPool", "assign_requests", "use_fair_pool"]


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
    """httpcore's sync pool with :func:`assign_requests` as its pass."""

    def _assign_requests_to_connections(self) -> list[httpcore.ConnectionInterface]:
        return assign_requests(self)


class FairAsyncConnectionPool(httpcore.AsyncConnectionPool):
    """httpcore's async pool with :func:`assign_requests` as its pass."""

    def _assign_requests_to_connections(self) -> list[httpcore.AsyncConnectionInterface]:
        return assign_requests(self)


_FAIR: dict[type, type] = {
    httpcore.ConnectionPool: FairConnectionPool,
    httpcore.AsyncConnectionPool: FairAsyncConnectionPool,
}


def use_fair_pool(http: httpx.Client | httpx.AsyncClient) -> bool:
    """Give ``http``'s default transport the fair pass; whether it did.

    Only an httpcore 1.0 pool of the exact stock class, HTTP/1.1 only, is changed (its class, in
    place: the pool keeps its settings). HTTP/2 multiplexes requests over one connection, which the
    one-request-per-connection rule would forbid; a proxy's pool or a newer httpcore is left alone.
    """
    pool = getattr(getattr(http, "_transport", None), "_pool", None)
    fair = _FAIR.get(type(pool))
    if fair is None or not httpcore.__version__.startswith("1.0.") or getattr(pool, "_http2", True):
        return False
    pool.__class__ = fair
    return True
