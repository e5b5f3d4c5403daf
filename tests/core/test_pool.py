"""The pool pass that gives each waiting request a connection of its own (``anyfast_core._pool``).

The pass is checked on a real httpcore pool holding stand-in connections (each rule, one test), then
through the clients on a real socket: a burst on a warm pool runs one pass per request event, with
no request turned away and queued again.
"""

from __future__ import annotations

import asyncio
from concurrent.futures import ThreadPoolExecutor
from types import SimpleNamespace
from typing import Any

import httpcore
import httpx
import pytest
from core_support import KEY, LoopbackServer, request

from anyfast_core import AnyFastClient, AsyncAnyFastClient, _pool
from anyfast_core._pool import FairAsyncConnectionPool, FairConnectionPool, use_fair_pool

URL = "http://127.0.0.1:1/v1/chat/completions"
ORIGIN = httpcore.Request("POST", URL).url.origin
OTHER = httpcore.Request("POST", "http://127.0.0.1:2/v1").url.origin


class Conn:
    """A connection as the pass sees it: a state and an origin."""

    def __init__(self, state: str = "idle", origin: httpcore.Origin = ORIGIN, expired: bool = False) -> None:
        self.state, self.origin, self.expired = state, origin, expired

    def is_closed(self) -> bool:
        return self.state in ("closed", "failed")

    def has_expired(self) -> bool:
        return self.expired

    def is_idle(self) -> bool:
        return self.state in ("idle", "failed")  # as httpcore's: a failed connect reads as idle, too

    def is_available(self) -> bool:
        return self.state == "idle"

    def can_handle_request(self, origin: httpcore.Origin) -> bool:
        return origin == self.origin


def make_pool(*connections: Conn, max_connections: int = 10, keepalive: int = 10) -> tuple[Any, list[Conn]]:
    pool = FairConnectionPool(max_connections=max_connections, max_keepalive_connections=keepalive)
    created: list[Conn] = []

    def create_connection(origin: httpcore.Origin) -> Conn:
        created.append(Conn("new", origin))
        return created[-1]

    pool.create_connection = create_connection  # type: ignore[method-assign,assignment]
    pool._connections = list(connections)  # type: ignore[arg-type]
    return pool, created


def waiting(pool: Any, connection: Conn | None = None, url: str = URL) -> Any:
    """A request in the pool: queued, or given ``connection`` and not yet started on it."""
    pool_request = httpcore._sync.connection_pool.PoolRequest(httpcore.Request("POST", url))
    if connection is not None:
        pool_request.assign_to_connection(connection)
    pool._requests.append(pool_request)
    return pool_request


def test_requests_arriving_together_get_a_connection_each() -> None:
    idle = Conn()
    pool, created = make_pool(idle)
    first, second, third = (waiting(pool) for _ in range(3))
    assert pool._assign_requests_to_connections() == []
    assert first.connection is idle  # the idle connection is reused ...
    assert [second.connection, third.connection] == created  # ... by one request only
    assert len(pool._connections) == 3


def test_a_connection_given_to_a_waiting_request_is_neither_closed_nor_given_again() -> None:
    idle = Conn()
    pool, created = make_pool(idle, keepalive=0)
    given = waiting(pool, idle)
    assert pool._assign_requests_to_connections() == []
    assert given.connection is idle
    assert pool._connections == [idle]
    assert created == []
    later = waiting(pool)  # nor given to anyone else while its request wakes up
    assert pool._assign_requests_to_connections() == []
    assert later.connection is created[0]


def test_only_idle_connections_count_against_keep_alive() -> None:
    busy = [Conn("active") for _ in range(5)]
    pool, _ = make_pool(*busy, Conn(), Conn(), keepalive=2)
    for connection in busy:
        waiting(pool, connection)
    assert pool._assign_requests_to_connections() == []  # 7 connections, 2 idle: within the limit
    surplus = Conn()
    pool._connections.append(surplus)
    closing = pool._assign_requests_to_connections()
    assert len(closing) == 1
    assert closing[0].is_idle()
    assert sum(c.is_idle() for c in pool._connections) == 2


def test_an_expired_connection_is_closed_before_it_is_given() -> None:
    stale = Conn(expired=True)
    pool, created = make_pool(stale)
    queued = waiting(pool)
    assert pool._assign_requests_to_connections() == [stale]
    assert stale not in pool._connections
    assert queued.connection is created[0]


def test_a_failed_connection_does_not_count_against_keep_alive() -> None:
    healthy = Conn()
    pool, _ = make_pool(Conn("failed"), healthy, keepalive=1)
    assert pool._assign_requests_to_connections() == []
    assert pool._connections == [healthy]


def test_a_busy_connection_that_no_request_holds_is_closed() -> None:
    # Given to a request that was cancelled before it woke up: httpcore's pass keeps it for good.
    orphan, serving = Conn("new"), Conn("active")
    pool, _ = make_pool(orphan, serving)
    waiting(pool, serving)
    assert pool._assign_requests_to_connections() == [orphan]
    assert pool._connections == [serving]


def test_closed_connections_are_dropped() -> None:
    gone = Conn("closed")
    pool, _ = make_pool(gone)
    assert pool._assign_requests_to_connections() == []
    assert pool._connections == []


def test_at_the_limit_an_idle_connection_to_another_origin_makes_room() -> None:
    active, elsewhere = Conn("active"), Conn(origin=OTHER)
    pool, created = make_pool(active, elsewhere, max_connections=2)
    waiting(pool, active)
    queued = waiting(pool)
    assert pool._assign_requests_to_connections() == [elsewhere]
    assert queued.connection is created[0]
    assert pool._connections == [active, created[0]]


def test_at_the_limit_with_nothing_idle_a_request_waits() -> None:
    active = Conn("active")
    pool, created = make_pool(active, max_connections=1)
    waiting(pool, active)
    queued = waiting(pool)
    assert pool._assign_requests_to_connections() == []
    assert queued.is_queued()
    assert created == []


# --------------------------------------------------------------------------- installed on the clients


def test_the_clients_pools_take_the_fair_pass(loopback: LoopbackServer) -> None:
    with AnyFastClient(api_key=KEY, base_url=loopback.base_url) as client:
        assert type(client._http._transport._pool) is FairConnectionPool  # type: ignore[union-attr]

    async def pool_class() -> type:
        client = AsyncAnyFastClient(api_key=KEY, base_url=loopback.base_url)
        http = await client._client()
        await client.aclose()
        return type(http._transport._pool)  # type: ignore[union-attr]

    assert asyncio.run(pool_class()) is FairAsyncConnectionPool


def test_pools_it_was_not_written_for_are_left_alone(monkeypatch: pytest.MonkeyPatch) -> None:
    with httpx.Client(http2=False) as injected:  # what a user hands in stays theirs
        client = AnyFastClient(api_key=KEY, http_client=injected)
        assert type(injected._transport._pool) is httpcore.ConnectionPool  # type: ignore[attr-defined]
        client.close()
    multiplexing = SimpleNamespace(_transport=SimpleNamespace(_pool=httpcore.ConnectionPool(http2=True)))
    assert use_fair_pool(multiplexing) is False  # type: ignore[arg-type]  # HTTP/2 shares a connection
    with httpx.Client(transport=httpx.MockTransport(lambda r: httpx.Response(200))) as mocked:
        assert use_fair_pool(mocked) is False
    monkeypatch.setattr(httpcore, "__version__", "1.1.0")
    with httpx.Client() as newer:
        assert use_fair_pool(newer) is False
        assert type(newer._transport._pool) is httpcore.ConnectionPool  # type: ignore[attr-defined]


@pytest.fixture
def passes(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """How many pool passes ran: the fair one, or httpcore's own where a pool kept it."""
    count = [0]

    def counting(run: Any) -> Any:
        def counted(pool: Any) -> Any:
            count[0] += 1
            return run(pool)

        return counted

    monkeypatch.setattr(_pool, "assign_requests", counting(_pool.assign_requests))
    for stock in (httpcore.ConnectionPool, httpcore.AsyncConnectionPool):
        monkeypatch.setattr(stock, "_assign_requests_to_connections", counting(stock._assign_requests_to_connections))
    return count


def test_a_burst_on_a_warm_async_pool_runs_one_pass_per_request_event(
    loopback: LoopbackServer, passes: list[int]
) -> None:
    # One pass when a request arrives, one when its response closes: on httpcore's own pass a warm
    # pool turned most of a burst away (ConnectionNotAvailable) and ran about three times as many.
    async def bursts() -> list[str | None]:
        async with AsyncAnyFastClient(api_key=KEY, base_url=loopback.base_url) as client:
            await asyncio.gather(*(client.chat(request()) for _ in range(40)))  # leaves idle connections
            passes[0] = 0
            answers = await asyncio.gather(*(client.chat(request()) for _ in range(40)))
            return [a.message.content for a in answers]

    assert asyncio.run(bursts()) == ["Hello!"] * 40
    assert passes[0] <= 2 * 40 + 5, passes[0]


def test_threads_sharing_a_warm_sync_pool_run_one_pass_per_request_event(
    loopback: LoopbackServer, passes: list[int]
) -> None:
    with AnyFastClient(api_key=KEY, base_url=loopback.base_url) as client, ThreadPoolExecutor(16) as threads:
        list(threads.map(lambda _: client.chat(request()), range(32)))
        passes[0] = 0
        answers = list(threads.map(lambda _: client.chat(request()).message.content, range(64)))
    assert answers == ["Hello!"] * 64
    assert loopback.posts == 96  # nothing re-sent
    assert passes[0] <= 2 * 64 + 5, passes[0]
