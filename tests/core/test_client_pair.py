"""ClientPair: the lazily made sync and async clients both adapters hold."""

from __future__ import annotations

import copy
import threading
from typing import Any

import httpx
import pytest

import anyfast_core.client as core_client
from anyfast_core import AnyFastClient, AsyncAnyFastClient, ClientPair

KEY = "sk-pair-test-key"


def test_nothing_is_made_before_first_use(monkeypatch: pytest.MonkeyPatch) -> None:
    made: list[str] = []
    monkeypatch.setattr(core_client, "AnyFastClient", lambda **kw: made.append("sync"))
    monkeypatch.setattr(core_client, "AsyncAnyFastClient", lambda **kw: made.append("async"))
    ClientPair(api_key=KEY)
    assert made == []


def test_each_client_is_made_once_with_the_settings() -> None:
    pair = ClientPair(
        api_key=KEY,
        base_url="http://127.0.0.1:9/v1",
        timeout=12,
        max_retries=4,
        default_headers={"X-Team": "a"},
    )
    assert isinstance(pair.sync, AnyFastClient)
    assert isinstance(pair.aio, AsyncAnyFastClient)
    assert pair.sync is pair.sync
    assert pair.aio is pair.aio
    for client in (pair.sync, pair.aio):
        assert client.base_url == "http://127.0.0.1:9/v1"
        assert client.timeout.read == 12
        assert client.retry_policy.max_retries == 4
        assert client.default_headers == {"X-Team": "a"}
        assert client.api_key is not None
        assert client.api_key.get_secret_value() == KEY
    assert KEY not in repr(pair)


async def test_injected_http_clients_go_to_their_twin() -> None:
    async with httpx.AsyncClient() as ahttp:
        with httpx.Client() as http:
            pair = ClientPair(api_key=KEY, http_client=http, async_http_client=ahttp)
            assert pair.sync._http is http
            assert pair.aio._injected is ahttp


def test_threads_racing_on_first_use_share_one_client(monkeypatch: pytest.MonkeyPatch) -> None:
    made: list[Any] = []
    gate = threading.Barrier(8)

    class Slow(AnyFastClient):
        def __init__(self, **kwargs: Any) -> None:
            made.append(self)
            threading.Event().wait(0.01)  # widen the window a race would need
            super().__init__(**kwargs)

    monkeypatch.setattr(core_client, "AnyFastClient", Slow)
    pair = ClientPair(api_key=KEY)
    seen: list[AnyFastClient] = []

    def use() -> None:
        gate.wait()
        seen.append(pair.sync)

    threads = [threading.Thread(target=use) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(made) == 1
    assert len(seen) == 8
    assert all(client is made[0] for client in seen)


def test_a_deep_copy_has_its_own_clients_with_the_same_settings() -> None:
    pair = ClientPair(api_key=KEY, max_retries=5)
    original = pair.sync
    twin = copy.deepcopy(pair)
    assert twin.sync is not original
    assert twin.sync.retry_policy.max_retries == 5
