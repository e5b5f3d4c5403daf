"""Bursts of concurrent async calls, each contestant in a fresh interpreter.

A fresh process gives every contestant a truly fresh client (``ChatOpenAI`` caches its httpx client
process-wide) and keeps clients that are dropped without being closed from interfering with the next
contestant's sockets. In the child: one warm-up call on a separate model (lazy imports of the async
path, kept alive so its client is never garbage-collected mid-run), then ``n`` concurrent calls on a
new model (the fresh pool), then ``n`` more on the same model (the warm pool, which now holds
whatever idle keep-alive connections the client's limits allow). Each batch is timed in this
process's CPU time: the burst is CPU-bound in the client (the pool scans), and the server's time
and the machine's other load stay out of it.

    python -m benchmarks.burst ChatAnyFast http://127.0.0.1:PORT/json/v1 200
"""

from __future__ import annotations

import asyncio
import gc
import json
import sys
import time

from benchmarks import cases
from benchmarks.server import run_child


async def _bursts(name: str, url: str, n: int) -> dict[str, float]:
    warm_up = cases.async_call(name, url)
    await warm_up()
    call = cases.async_call(name, url)
    out: dict[str, float] = {}
    for batch in ("fresh", "warm"):
        gc.collect()
        start = time.process_time()
        await asyncio.gather(*(call() for _ in range(n)))
        out[batch] = time.process_time() - start
    return out


def run_burst(name: str, url: str, n: int, timeout: float = 120.0) -> dict[str, float]:
    """``{"fresh": seconds, "warm": seconds}`` for ``name`` in a child interpreter."""
    result: dict[str, float] = run_child(["-m", "benchmarks.burst", name, url, str(n)], f"{name} burst", timeout)
    return result


if __name__ == "__main__":
    result = asyncio.run(_bursts(sys.argv[1], sys.argv[2], int(sys.argv[3])))
    print(json.dumps(result))
