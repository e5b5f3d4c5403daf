"""Pools and connections, their one home: connections go back to the pool however a call ends (a
``break`` out of a stream, a cancelled task, a new event loop), checked on the adapters' own pools
with real sockets to the emulator; the fair pool pass, rule by rule; the core's transports on both
paths (the fair pool where httpcore is the version it was written for, httpcore's stock pool
elsewhere); the shared TLS context; a pool per event loop. (Pools across processes:
``test_processes.py``.) Pools are read through our transports and httpcore's public ``connections``.
"""

from __future__ import annotations

import asyncio
import contextlib
from concurrent.futures import ThreadPoolExecutor
from types import SimpleNamespace
from typing import Any

import httpcore
import httpx
import pytest
from reliability_support import (
    ADAPTERS,
    Adapter,
    Mode,
    ask,
    ask_async,
    async_pool,
    make_model,
    sync_pool,
    uid,
)
from testkit import busy_connections, pool_connections, transport_of

from anyfast_core import AnyFastClient, AsyncAnyFastClient, ChatRequest, _pool
from anyfast_core import client as client_module
from anyfast_core._pool import FairAsyncConnectionPool, FairConnectionPool, assign_requests, make_transport
from anyfast_core._tls import ssl_context
from anyfast_core.client import DEFAULT_LIMITS
from anyfast_emulator import Emulator

LONG = "Write 400 words"


def slow_model(emulator: Emulator, adapter: Adapter, delay: float = 0.02) -> Any:
    """A model whose answers trickle in (one event every ``delay`` s), so a break lands mid-stream."""
    key = Emulator.fault_key("slow_stream", delay=delay, id=uid())
    return make_model(adapter, base_url=emulator.base_url, api_key=key, max_retries=0)


def first_pieces(adapter: Adapter, model: Any, n: int) -> list[Any]:
    """Read ``n`` pieces of a long stream, then leave the loop (no context manager, no reference kept)."""
    got: list[Any] = []
    if adapter == "langchain":
        for chunk in model.stream(LONG):
            got.append(chunk)
            if len(got) == n:
                break
    else:
        from llama_index.core.llms import ChatMessage

        for response in model.stream_chat([ChatMessage(role="user", content=LONG)]):
            got.append(response)
            if len(got) == n:
                break
    return got


async def afirst_pieces(adapter: Adapter, model: Any, n: int) -> list[Any]:
    got: list[Any] = []
    if adapter == "langchain":
        async for chunk in model.astream(LONG):
            got.append(chunk)
            if len(got) == n:
                break
    else:
        from llama_index.core.llms import ChatMessage

        async for response in await model.astream_chat([ChatMessage(role="user", content=LONG)]):
            got.append(response)
            if len(got) == n:
                break
    return got


async def settled(http: Any, ticks: int = 100) -> list[Any]:
    """Busy connections once the loop has had up to ``ticks`` x 10 ms to finalise abandoned generators."""
    for _ in range(ticks):
        if not busy_connections(http):
            break
        await asyncio.sleep(0.01)
    return busy_connections(http)


@pytest.mark.parametrize("adapter", ADAPTERS)
def test_break_out_of_a_sync_stream_releases_the_connection(emulator: Emulator, adapter: Adapter) -> None:
    model = slow_model(emulator, adapter)
    for _ in range(3):
        assert len(first_pieces(adapter, model, 3)) == 3
        # At once, without gc.collect(): leaving the loop closed the response.
        assert busy_connections(sync_pool(model)) == []
    # The pool still serves a whole stream afterwards, and that connection comes back idle.
    tag = uid()
    assert ask(model, Mode(adapter, sync=True, stream=True), f"Say '{tag}'").text == tag
    assert busy_connections(sync_pool(model)) == []
    assert len(emulator.requests) == 4


@pytest.mark.parametrize("adapter", ADAPTERS)
def test_explicitly_closed_sync_stream_releases_the_connection(emulator: Emulator, adapter: Adapter) -> None:
    model = slow_model(emulator, adapter)
    if adapter == "langchain":
        stream = model.stream(LONG)
    else:
        from llama_index.core.llms import ChatMessage

        stream = model.stream_chat([ChatMessage(role="user", content=LONG)])
    next(stream)
    assert len(busy_connections(sync_pool(model))) == 1  # the stream holds its connection while open
    stream.close()
    assert busy_connections(sync_pool(model)) == []


@pytest.mark.parametrize("adapter", ADAPTERS)
async def test_break_out_of_an_async_stream_releases_the_connection(emulator: Emulator, adapter: Adapter) -> None:
    model = slow_model(emulator, adapter)
    for _ in range(3):
        assert len(await afirst_pieces(adapter, model, 3)) == 3
        assert await settled(await async_pool(model)) == []
    tag = uid()
    reply = await ask_async(model, adapter, True, f"Say '{tag}'")
    assert reply.text == tag
    assert busy_connections(await async_pool(model)) == []
    assert len(emulator.requests) == 4


@pytest.mark.parametrize("adapter", ADAPTERS)
@pytest.mark.parametrize("stream", [True, False], ids=["stream", "whole"])
async def test_cancelled_task_releases_the_connection(emulator: Emulator, adapter: Adapter, stream: bool) -> None:
    # Streams trickle (cancelled mid-stream); whole answers wait 2 s for headers (cancelled in flight).
    fault = {"name": "slow_stream", "delay": 0.05} if stream else {"name": "slow", "delay": 2}
    key = Emulator.fault_key(str(fault.pop("name")), id=uid(), **fault)
    model = make_model(adapter, base_url=emulator.base_url, api_key=key, max_retries=0)
    task = asyncio.create_task(ask_async(model, adapter, stream, LONG))
    await asyncio.sleep(0.3)
    assert not task.done()
    http = await async_pool(model)
    assert len(busy_connections(http)) == 1
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert busy_connections(http) == []
    # The pool is usable afterwards.
    tag = uid()
    good = make_model(adapter, base_url=emulator.base_url, api_key=emulator.api_key)
    assert (await ask_async(good, adapter, stream, f"Say '{tag}'")).text == tag


@pytest.mark.parametrize("adapter", ADAPTERS)
async def test_cancelled_during_a_retry_wait_holds_no_connection(emulator: Emulator, adapter: Adapter) -> None:
    key = Emulator.fault_key("rate_limit", retry_after=5, id=uid())
    model = make_model(adapter, base_url=emulator.base_url, api_key=key)
    task = asyncio.create_task(ask_async(model, adapter, False, "Hi"))
    await asyncio.sleep(0.3)  # the 429 has come; the client is waiting out Retry-After
    assert len(emulator.requests) == 1
    http = await async_pool(model)
    assert busy_connections(http) == []  # the 429's connection went back before the wait
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert busy_connections(http) == []
    assert len(emulator.requests) == 1


@pytest.mark.parametrize("adapter", ADAPTERS)
async def test_wait_for_timeout_around_a_stream_releases_the_connection(emulator: Emulator, adapter: Adapter) -> None:
    model = slow_model(emulator, adapter, delay=0.05)
    with pytest.raises(asyncio.TimeoutError):
        await asyncio.wait_for(ask_async(model, adapter, True, LONG), timeout=0.3)
    assert busy_connections(await async_pool(model)) == []


@pytest.mark.parametrize("adapter", ADAPTERS)
def test_same_model_across_asyncio_run_calls_sends_each_request_once(emulator: Emulator, adapter: Adapter) -> None:
    model = make_model(adapter, base_url=emulator.base_url, api_key=emulator.api_key)
    tags = [uid() for _ in range(6)]

    async def two_calls(a: str, b: str) -> tuple[str, str]:
        whole = await ask_async(model, adapter, False, f"Say '{a}'")
        streamed = await ask_async(model, adapter, True, f"Say '{b}'")
        return whole.text, streamed.text

    for i in range(0, 6, 2):
        assert asyncio.run(two_calls(tags[i], tags[i + 1])) == (tags[i], tags[i + 1])
    assert len(emulator.requests) == 6  # nothing re-sent on a new loop


@pytest.mark.parametrize("adapter", ADAPTERS)
def test_idle_pool_stays_bounded_after_a_burst(emulator: Emulator, adapter: Adapter) -> None:
    model = make_model(adapter, base_url=emulator.base_url, api_key=emulator.api_key)

    async def burst() -> tuple[int, int]:
        replies = await asyncio.gather(*(ask_async(model, adapter, i % 2 == 0, "Hi") for i in range(60)))
        assert all(r.text == "Hello! How can I help you today?" for r in replies)
        http = await async_pool(model)
        return len(pool_connections(http)), len(busy_connections(http))

    total, busy = asyncio.run(burst())
    assert busy == 0
    assert total <= 20  # max_keepalive_connections: a big idle pool makes later bursts CPU-bound


def test_stream_iterator_holding_a_reference_is_closed_by_close(emulator: Emulator) -> None:
    """A LangChain stream kept in a variable is released by ``close()`` (what ``with closing`` does)."""
    model = slow_model(emulator, "langchain")
    with contextlib.closing(model.stream(LONG)) as stream:
        next(stream)
        assert len(busy_connections(sync_pool(model))) == 1
    assert busy_connections(sync_pool(model)) == []


@pytest.mark.parametrize("adapter", ADAPTERS)
def test_streams_abandoned_from_many_threads_neither_leak_nor_deadlock(emulator: Emulator, adapter: Adapter) -> None:
    """Eight threads leave streams early while others finish theirs, on one model and one pool:
    every connection comes back and nothing waits on the pool's lock forever."""
    model = make_model(adapter, base_url=emulator.base_url, api_key=emulator.api_key)
    mode = Mode(adapter, sync=True, stream=True)

    def work(n: int) -> int:
        for i in range(6):
            if (n + i) % 2:
                first_pieces(adapter, model, 2)
            else:
                tag = f"t{n}-{i}"
                assert ask(model, mode, f"Say '{tag}'").text == tag
        return n

    with ThreadPoolExecutor(8) as pool:
        futures = [pool.submit(work, n) for n in range(8)]
        assert sorted(f.result(timeout=30) for f in futures) == list(range(8))
    assert busy_connections(sync_pool(model)) == []
    assert len(emulator.requests) == 48


# --------------------------------------------------------------------------- the fair pool pass, on stand-ins


class Conn:
    """A connection as the pass sees it: a state and an origin."""

    def __init__(self, state: str = "idle", origin: str = "a", expired: bool = False) -> None:
        self.state, self.origin, self.expired = state, origin, expired

    def is_closed(self) -> bool:
        return self.state in ("closed", "failed")

    def has_expired(self) -> bool:
        return self.expired

    def is_idle(self) -> bool:
        return self.state in ("idle", "failed")  # as httpcore's: a failed connect reads as idle, too

    def is_available(self) -> bool:
        return self.state == "idle"

    def can_handle_request(self, origin: str) -> bool:
        return origin == self.origin


class Waiting:
    """A request in the pool: queued, or given a connection it has not started on yet."""

    def __init__(self, connection: Conn | None = None, origin: str = "a") -> None:
        self.connection = connection
        self.request = SimpleNamespace(url=SimpleNamespace(origin=origin))

    def is_queued(self) -> bool:
        return self.connection is None

    def assign_to_connection(self, connection: Conn) -> None:
        self.connection = connection


class Pool:
    """What :func:`assign_requests` reads and changes of a pool (the names httpcore 1.0's pool uses)."""

    def __init__(self, *connections: Conn, max_connections: int = 10, keepalive: int = 10) -> None:
        self._connections = list(connections)
        self._requests: list[Waiting] = []
        self._max_connections = max_connections
        self._max_keepalive_connections = keepalive
        self.created: list[Conn] = []

    def create_connection(self, origin: str) -> Conn:
        self.created.append(Conn("new", origin))
        return self.created[-1]

    def wait(self, connection: Conn | None = None) -> Waiting:
        self._requests.append(Waiting(connection))
        return self._requests[-1]


def test_requests_arriving_together_get_a_connection_each() -> None:
    idle = Conn()
    pool = Pool(idle)
    first, second, third = (pool.wait() for _ in range(3))
    assert assign_requests(pool) == []
    assert first.connection is idle  # the idle connection is reused ...
    assert [second.connection, third.connection] == pool.created  # ... by one request only
    assert len(pool._connections) == 3


def test_a_connection_given_to_a_waiting_request_is_neither_closed_nor_given_again() -> None:
    idle = Conn()
    pool = Pool(idle, keepalive=0)
    given = pool.wait(idle)
    assert assign_requests(pool) == []
    assert given.connection is idle
    assert pool._connections == [idle]
    assert pool.created == []
    later = pool.wait()  # nor given to anyone else while its request wakes up
    assert assign_requests(pool) == []
    assert later.connection is pool.created[0]


def test_only_idle_connections_count_against_keep_alive() -> None:
    busy = [Conn("active") for _ in range(5)]
    pool = Pool(*busy, Conn(), Conn(), keepalive=2)
    for connection in busy:
        pool.wait(connection)
    assert assign_requests(pool) == []  # 7 connections, 2 idle: within the limit
    pool._connections.append(Conn())
    closing = assign_requests(pool)
    assert len(closing) == 1
    assert closing[0].is_idle()
    assert sum(c.is_idle() for c in pool._connections) == 2


def test_an_expired_connection_is_closed_before_it_is_given() -> None:
    stale = Conn(expired=True)
    pool = Pool(stale)
    queued = pool.wait()
    assert assign_requests(pool) == [stale]
    assert stale not in pool._connections
    assert queued.connection is pool.created[0]


def test_a_failed_connection_does_not_count_against_keep_alive() -> None:
    healthy = Conn()
    pool = Pool(Conn("failed"), healthy, keepalive=1)
    assert assign_requests(pool) == []
    assert pool._connections == [healthy]


def test_a_busy_connection_that_no_request_holds_is_closed() -> None:
    # Given to a request that was cancelled before it woke up: httpcore's pass keeps it for good.
    orphan, serving = Conn("new"), Conn("active")
    pool = Pool(orphan, serving)
    pool.wait(serving)
    assert assign_requests(pool) == [orphan]
    assert pool._connections == [serving]


def test_closed_connections_are_dropped() -> None:
    pool = Pool(Conn("closed"))
    assert assign_requests(pool) == []
    assert pool._connections == []


def test_at_the_limit_an_idle_connection_to_another_origin_makes_room() -> None:
    active, elsewhere = Conn("active"), Conn(origin="b")
    pool = Pool(active, elsewhere, max_connections=2)
    pool.wait(active)
    queued = pool.wait()
    assert assign_requests(pool) == [elsewhere]
    assert queued.connection is pool.created[0]
    assert pool._connections == [active, pool.created[0]]


def test_at_the_limit_with_nothing_idle_a_request_waits() -> None:
    active = Conn("active")
    pool = Pool(active, max_connections=1)
    pool.wait(active)
    queued = pool.wait()
    assert assign_requests(pool) == []
    assert queued.is_queued()
    assert pool.created == []


# --------------------------------------------------------------------------- our pools: fair where it fits, else stock


@pytest.fixture(params=[True, False], ids=["fair-pool", "stock-pool"])
def fair(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> bool:
    """Both paths: the fair pool (where httpcore is the version it was written for) and httpcore's own."""
    fits: bool = request.param
    if fits and not _pool.fair_pool_fits():
        pytest.skip(f"the fair pool is not used on httpcore {httpcore.__version__}")
    monkeypatch.setattr(_pool, "fair_pool_fits", lambda: fits)
    return fits


@pytest.fixture
def passes(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """How many fair pool passes ran."""
    count = [0]
    run = _pool.assign_requests

    def counted(pool: Any) -> Any:
        count[0] += 1
        return run(pool)

    monkeypatch.setattr(_pool, "assign_requests", counted)
    return count


def test_the_fair_pool_is_used_only_on_the_httpcore_it_was_written_for(monkeypatch: pytest.MonkeyPatch) -> None:
    for version, fits in (("1.0.9", True), ("1.0.2", False), ("1.1.0", False), ("2.0.0", False), ("1.0.x", False)):
        assert _pool.fair_pool_fits(version) is fits, version
    limits = httpx.Limits(max_connections=5, max_keepalive_connections=2)
    for is_async, fair_class, stock_class in (
        (False, FairConnectionPool, httpcore.ConnectionPool),
        (True, FairAsyncConnectionPool, httpcore.AsyncConnectionPool),
    ):
        for fits in (True, False):
            monkeypatch.setattr(_pool, "fair_pool_fits", lambda fits=fits: fits)
            transport = make_transport(limits, ssl_context(), is_async=is_async)
            assert type(transport.pool) is (fair_class if fits else stock_class)
            assert transport.pool.connections == []


def quick(emulator: Emulator, tag: str) -> ChatRequest:
    return ChatRequest.create(model="glm-5.2", messages=[{"role": "user", "content": f"Say '{tag}'"}])


def test_a_burst_on_a_warm_async_pool(emulator: Emulator, fair: bool, passes: list[int]) -> None:
    # On the fair pool: one pass when a request arrives, one when its response closes. httpcore's own
    # pass turns most of a warm burst away (ConnectionNotAvailable) and runs about three times as many.
    async def bursts() -> tuple[list[str | None], int, int]:
        async with AsyncAnyFastClient(api_key=emulator.api_key, base_url=emulator.base_url) as client:
            await asyncio.gather(*(client.chat(quick(emulator, f"a{i}")) for i in range(40)))  # leaves idle ones
            passes[0] = 0
            answers = await asyncio.gather(*(client.chat(quick(emulator, f"b{i}")) for i in range(40)))
            transport = transport_of(client)
            return (
                [a.message.content for a in answers],
                len(busy_connections(transport)),
                len(pool_connections(transport)),
            )

    answers, busy, kept = asyncio.run(bursts())
    assert answers == [f"b{i}" for i in range(40)]
    assert busy == 0
    assert kept <= (DEFAULT_LIMITS.max_keepalive_connections or 0)
    assert len(emulator.requests) == 80  # nothing re-sent
    if fair:
        assert passes[0] <= 2 * 40 + 5, passes[0]


def test_threads_sharing_a_warm_sync_pool(emulator: Emulator, fair: bool, passes: list[int]) -> None:
    client = AnyFastClient(api_key=emulator.api_key, base_url=emulator.base_url)
    with client, ThreadPoolExecutor(16) as threads:
        list(threads.map(lambda i: client.chat(quick(emulator, f"a{i}")), range(32)))
        passes[0] = 0
        answers = list(threads.map(lambda i: client.chat(quick(emulator, f"b{i}")).message.content, range(64)))
        assert busy_connections(transport_of(client)) == []
        assert len(pool_connections(transport_of(client))) <= (DEFAULT_LIMITS.max_keepalive_connections or 0)
    assert answers == [f"b{i}" for i in range(64)]
    assert len(emulator.requests) == 96  # nothing re-sent
    if fair:
        assert passes[0] <= 2 * 64 + 5, passes[0]


def test_the_clients_share_one_tls_context(emulator: Emulator, monkeypatch: pytest.MonkeyPatch) -> None:
    # Building a TLS context parses the CA bundle again (tens of ms): the sync client, the pool of
    # every event loop and every other model's clients share one, made as httpx would make it.
    contexts: list[Any] = []
    make = client_module.make_transport

    def recording(limits: httpx.Limits, context: Any, **kwargs: Any) -> Any:
        contexts.append(context)
        return make(limits, context, **kwargs)

    monkeypatch.setattr(client_module, "make_transport", recording)
    sync = AnyFastClient(api_key=emulator.api_key, base_url=emulator.base_url)
    other = AnyFastClient(api_key=emulator.api_key, base_url=emulator.base_url)
    aio = AsyncAnyFastClient(api_key=emulator.api_key, base_url=emulator.base_url)
    for _ in range(2):  # two event loops, a pool each
        assert asyncio.run(aio.chat(quick(emulator, "x"))).message.content == "x"
    assert len(contexts) == 4
    assert {id(context) for context in contexts} == {id(ssl_context())}
    assert ssl_context().verify_mode == httpx.create_ssl_context().verify_mode
    assert ssl_context().check_hostname
    sync.close()
    other.close()


def test_the_tls_context_follows_the_environments_ca_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    import certifi

    for name in ("SSL_CERT_FILE", "SSL_CERT_DIR", "SSLKEYLOGFILE"):
        monkeypatch.delenv(name, raising=False)
    default = ssl_context()
    monkeypatch.setenv("SSL_CERT_FILE", certifi.where())
    chosen = ssl_context()
    assert chosen is not default  # made again, as httpx.Client() would read SSL_CERT_FILE
    assert chosen is ssl_context()
    monkeypatch.delenv("SSL_CERT_FILE")
    assert ssl_context() is default


def test_an_async_client_has_a_pool_per_event_loop_closed_with_its_loop(emulator: Emulator) -> None:
    client = AsyncAnyFastClient(api_key=emulator.api_key, base_url=emulator.base_url)
    pools: list[httpx.AsyncClient] = []

    async def one_call(tag: str) -> str | None:
        answer = await client.chat(quick(emulator, tag))
        pools.append(await client._client())
        return answer.message.content

    assert [asyncio.run(one_call(f"t{i}")) for i in range(3)] == ["t0", "t1", "t2"]
    assert len(emulator.requests) == 3  # nothing re-sent
    # Each loop had its own pool, closed when asyncio.run shut that loop down (no leaked sockets).
    assert len({id(p) for p in pools}) == 3
    assert all(p.is_closed for p in pools)

    async def closed_by_aclose() -> None:
        await client.chat(quick(emulator, "y"))
        pool = await client._client()
        await client.aclose()
        assert pool.is_closed
        assert (await client.chat(quick(emulator, "z"))).message.content == "z"  # a fresh pool after closing
        assert await client._client() is not pool

    asyncio.run(closed_by_aclose())
