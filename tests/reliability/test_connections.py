"""Connections go back to the pool however a call ends: a ``break`` out of a stream, a cancelled task,
a new event loop. Checked on the adapters' own httpx pools, with real sockets to the emulator."""

from __future__ import annotations

import asyncio
import contextlib
from concurrent.futures import ThreadPoolExecutor
from typing import Any

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
    waiting_requests,
)
from testkit import busy_connections, pool_connections

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
    assert waiting_requests(sync_pool(model)) == 0
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
    assert waiting_requests(http) == 0
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
    assert waiting_requests(sync_pool(model)) == 0
    assert len(emulator.requests) == 48
