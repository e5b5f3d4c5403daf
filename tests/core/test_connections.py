"""Connections go back to the pool when a stream is left early; the async client survives new loops."""

from __future__ import annotations

import asyncio
import gc
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx
from core_support import KEY, Body, Harness, LoopbackServer, chunk, request, sse, sse_response
from testkit import busy_connections

from anyfast_core import AnyFastClient, AsyncAnyFastClient

LONG = [sse(chunk({"content": f"w{i} "}), done=False) for i in range(50)] + [sse(chunk({}, "stop"))]


def test_breaking_out_of_a_stream_closes_the_response(harness: Callable[..., Harness], mode: str) -> None:
    body = Body(LONG)
    h = harness(sse_response(body))
    client = h.client()
    if isinstance(client, AnyFastClient):
        for _ in client.stream(request()):
            break  # no context manager: leaving the loop must still close
        assert body.closed
    else:

        async def run() -> None:
            assert isinstance(client, AsyncAnyFastClient)
            async with await client.stream(request()) as stream:
                async for _ in stream:
                    break
            assert body.closed

        asyncio.run(run())
    assert body.sent < len(LONG)  # it really was left early


def test_async_stream_left_without_a_context_manager_is_closed_soon() -> None:
    body = Body(LONG)
    transport = httpx.MockTransport(lambda _: sse_response(body))

    async def run() -> None:
        client = AsyncAnyFastClient(api_key=KEY, http_client=httpx.AsyncClient(transport=transport))
        async for _ in await client.stream(request()):
            break
        gc.collect()
        for _ in range(5):  # the event loop finalises abandoned async generators as a task
            await asyncio.sleep(0)
        assert body.closed

    asyncio.run(run())


def test_stream_never_iterated_is_closed_by_its_context_manager(harness: Callable[..., Harness]) -> None:
    body = Body(LONG)
    h = harness(sse_response(body))
    client = h.client()
    if isinstance(client, AnyFastClient):
        with client.stream(request()):
            pass
    else:

        async def run() -> None:
            assert isinstance(client, AsyncAnyFastClient)
            async with await client.stream(request()):
                pass

        asyncio.run(run())
    assert body.closed
    assert body.sent == 0


def test_real_pool_is_free_after_breaking_out(loopback: LoopbackServer) -> None:
    with AnyFastClient(api_key=KEY, base_url=loopback.base_url) as client:
        for _ in range(3):
            for _ in client.stream(request()):
                break
            assert busy_connections(client._http) == []
        # The pool still works afterwards, and a stream read to the end leaves its connection idle.
        with client.stream(request()) as stream:
            assert len(list(stream)) == 200
        assert busy_connections(client._http) == []
        assert client.chat(request()).message.content == "Hello!"
    assert loopback.posts == 5


def test_real_async_pool_is_free_after_breaking_out(loopback: LoopbackServer) -> None:
    async def run() -> None:
        async with AsyncAnyFastClient(api_key=KEY, base_url=loopback.base_url) as client:
            for _ in range(3):
                async with await client.stream(request()) as stream:
                    async for _ in stream:
                        break
                assert busy_connections(await client._client()) == []
            assert (await client.chat(request())).message.content == "Hello!"

    asyncio.run(run())
    assert loopback.posts == 4


def test_async_client_reused_across_asyncio_run_calls(loopback: LoopbackServer) -> None:
    client = AsyncAnyFastClient(api_key=KEY, base_url=loopback.base_url)
    pools: list[httpx.AsyncClient] = []

    async def one_call() -> str | None:
        answer = await client.chat(request())
        async with await client.stream(request()) as stream:
            assert len([d async for d in stream]) == 200
        pools.append(await client._client())
        return answer.message.content

    for _ in range(3):
        assert asyncio.run(one_call()) == "Hello!"
    assert loopback.posts == 6  # nothing re-sent
    # Each loop had its own pool, closed when asyncio.run shut that loop down (no leaked sockets).
    assert len({id(p) for p in pools}) == 3
    assert all(p.is_closed for p in pools)


def test_aclose_closes_the_pool_of_the_running_loop(loopback: LoopbackServer) -> None:
    async def run() -> httpx.AsyncClient:
        client = AsyncAnyFastClient(api_key=KEY, base_url=loopback.base_url)
        await client.chat(request())
        pool = await client._client()
        await client.aclose()
        assert pool.is_closed
        assert (await client.chat(request())).message.content == "Hello!"  # a fresh pool after closing
        return await client._client()

    assert asyncio.run(run()).is_closed


def test_sync_client_shared_across_threads(loopback: LoopbackServer) -> None:
    with AnyFastClient(api_key=KEY, base_url=loopback.base_url) as client:

        def work(_: int) -> int:
            with client.stream(request()) as stream:
                return len(list(stream))

        with ThreadPoolExecutor(8) as pool:
            assert list(pool.map(work, range(24))) == [200] * 24
    assert loopback.posts == 24


def test_async_client_shared_across_tasks(loopback: LoopbackServer) -> None:
    async def run() -> list[str | None]:
        async with AsyncAnyFastClient(api_key=KEY, base_url=loopback.base_url) as client:
            answers = await asyncio.gather(*(client.chat(request()) for _ in range(30)))
            return [a.message.content for a in answers]

    assert asyncio.run(run()) == ["Hello!"] * 30
    assert loopback.posts == 30


def _tls_context(http: httpx.Client | httpx.AsyncClient) -> Any:
    return http._transport._pool._ssl_context  # type: ignore[union-attr]


def test_the_clients_share_one_tls_context(loopback: LoopbackServer) -> None:
    # Building a TLS context parses the CA bundle again (tens of ms): the sync client, the pool of
    # every event loop and every other model's clients share one, made as httpx would make it.
    from anyfast_core._httpx import ssl_context

    sync = AnyFastClient(api_key=KEY, base_url=loopback.base_url)
    other = AnyFastClient(api_key=KEY, base_url=loopback.base_url)
    aio = AsyncAnyFastClient(api_key=KEY, base_url=loopback.base_url)

    async def pool() -> httpx.AsyncClient:
        return await aio._client()

    contexts = {id(_tls_context(c)) for c in (sync._http, other._http, asyncio.run(pool()), asyncio.run(pool()))}
    assert contexts == {id(ssl_context())}
    assert ssl_context().verify_mode == httpx.create_ssl_context().verify_mode
    assert ssl_context().check_hostname
    sync.close()
    other.close()


def test_the_tls_context_follows_the_environments_ca_settings(monkeypatch: Any) -> None:
    import certifi

    from anyfast_core._httpx import ssl_context

    for name in ("SSL_CERT_FILE", "SSL_CERT_DIR", "SSLKEYLOGFILE"):
        monkeypatch.delenv(name, raising=False)
    default = ssl_context()
    monkeypatch.setenv("SSL_CERT_FILE", certifi.where())
    chosen = ssl_context()
    assert chosen is not default  # made again, as httpx.Client() would read SSL_CERT_FILE
    assert chosen is ssl_context()
    monkeypatch.delenv("SSL_CERT_FILE")
    assert ssl_context() is default
