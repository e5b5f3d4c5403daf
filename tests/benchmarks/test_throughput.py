"""The throughput benchmark's process mode works end to end on a small batch, and measures what it says.

Not a performance guard (the full run is ``python -m benchmarks.throughput``): it keeps the benchmark
from rotting, and checks its arithmetic on a result whose numbers are known.
"""

from __future__ import annotations

import httpx
import pytest

from benchmarks import canned, cases, throughput
from benchmarks.server import CannedServer


def test_the_short_answer_is_served(canned_server: CannedServer) -> None:
    response = httpx.post(canned_server.base_url("short") + "/chat/completions", content=cases.REQUEST)
    assert response.json() == canned.short_completion()


def test_two_processes_answer_every_call(canned_server: CannedServer) -> None:
    # ChatOpenAI runs the same code path; one contestant keeps the test short (each process imports LangChain).
    result = throughput.run_processes("ChatAnyFast", canned_server.base_url("short"), 200, processes=2, timeout=120)
    # Each process checked its 100 answers against the canned label before reporting (Batch.run).
    assert [p["n"] for p in result["processes"]] == [100, 100]
    measured = throughput.measure(result)
    assert measured.rps > 0
    assert 0 < measured.cpu_per_request < 1
    assert measured.peak_rss_mb > 10


def test_measure_sums_the_processes_and_takes_the_largest_growth() -> None:
    def process(cpu: float, peak_kb: int, samples: list[list[int]]) -> dict[str, object]:
        return {"n": 100, "cpu": cpu, "wall": 1.0, "peak_rss_kb": peak_kb, "samples": samples}

    result = {
        "wall": 2.0,
        "processes": [
            process(0.1, 51_200, [[0, 40_960], [5, 40_960], [10, 41_984], [100, 43_008]]),
            process(0.3, 102_400, [[0, 38_912], [50, 40_960], [100, 41_984]]),
        ],
    }
    measured = throughput.measure(result)
    assert measured.rps == 100  # 200 calls in 2 s
    assert measured.cpu_per_request == pytest.approx(0.002)
    assert measured.peak_rss_mb == 100
    assert measured.start_mb == 2  # the second process: before the batch to a tenth of it (10 answers)
    assert measured.growth_mb == 1  # from the sample at a tenth of the batch to the end
