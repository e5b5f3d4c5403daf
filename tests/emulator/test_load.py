"""The emulator under load: many concurrent connections and requests, faults mixed in, nothing lost."""

from __future__ import annotations

import asyncio
import json
import time

import httpx

from anyfast_emulator import Emulator

BODY = {"model": "glm-5.2", "messages": [{"role": "user", "content": "Write me 2 haikus."}]}


async def test_500_requests_from_50_concurrent_tasks(emulator: Emulator) -> None:
    # 50 connections, few kept idle: httpcore scans its whole pool per event, so a large idle pool makes
    # the client (not the emulator) the bottleneck.
    limits = httpx.Limits(max_connections=50, max_keepalive_connections=10)
    outcomes: dict[str, int] = {"ok": 0, "retried": 0}

    async def one(client: httpx.AsyncClient, i: int) -> None:
        stream = i % 2 == 1
        headers = {"Authorization": f"Bearer {emulator.api_key}"}
        if i % 5 == 0:  # 20% fail once with a retryable status, then succeed on the retry
            headers["X-AnyFast-Fault"] = f"http_503;times=1;id=req-{i}"
        for attempt in range(2):
            response = await client.post("/v1/chat/completions", json={**BODY, "stream": stream}, headers=headers)
            if response.status_code == 503 and attempt == 0:
                outcomes["retried"] += 1
                continue
            assert response.status_code == 200
            if stream:
                assert response.text.endswith("data: [DONE]\n\n")
            else:
                assert json.loads(response.text)["choices"][0]["finish_reason"] == "stop"
            outcomes["ok"] += 1
            return

    started = time.monotonic()
    async with httpx.AsyncClient(base_url=emulator.url, limits=limits, timeout=30) as client:
        queue = iter(range(500))

        async def worker() -> None:
            for i in queue:
                await one(client, i)

        await asyncio.gather(*(worker() for _ in range(50)))
    elapsed = time.monotonic() - started
    assert outcomes == {"ok": 500, "retried": 100}
    assert len(emulator.requests) == 600
    assert elapsed < 30, elapsed
