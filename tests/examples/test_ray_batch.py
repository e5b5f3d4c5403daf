"""The Ray batch job runs as a user runs it: ``python examples/ray_batch.py``, no key, a local cluster.

One run for the module (a Ray cluster takes seconds to start), checked for what only a working job
prints: every ticket classified as the emulator classifies it (the category the ticket was written
for), no errors although the first requests were refused with 429, and one summary per class.
"""

from __future__ import annotations

import re
from typing import Any

import pytest

pytest.importorskip("ray", reason="Ray is an optional extra (pip install 'anyfast-glm[ray]'), not installed here")
# About 20 s on an idle 2-core machine, mostly Ray starting; 80 s seen with the machine loaded 5 times over.
pytestmark = pytest.mark.timeout(300)

DOCUMENTS = 100  # as the ray_job fixture runs it (tests/examples/conftest.py)
CATEGORIES = ("battery", "motor", "brakes", "delivery", "billing")


def test_the_job_succeeds_offline_on_a_local_cluster(ray_job: Any) -> None:
    assert ray_job.returncode == 0, ray_job
    assert "Traceback" not in ray_job.stderr, ray_job
    out = ray_job.stdout
    emulator = r"^backend: offline: the built-in AnyFast emulator at http://127\.0\.0\.1:\d+/v1"
    assert re.search(emulator, out, re.M), ray_job
    assert re.search(r"^ray [\d.]+: a local cluster of 2 workers, up to 8 requests in flight per worker", out, re.M)


def test_every_document_is_classified_as_the_emulator_answers(ray_job: Any) -> None:
    out = ray_job.stdout
    assert re.search(rf"^classified {DOCUMENTS} of {DOCUMENTS} documents in [\d.]+ s .*errors: 0$", out, re.M), ray_job
    assert f"agreement with the categories the tickets were written for: {DOCUMENTS}/{DOCUMENTS}" in out, ray_job
    # The generator writes the categories in turn, so each holds a fifth.
    for category in CATEGORIES:
        assert re.search(rf"^  {category}\s+{DOCUMENTS // 5}$", out, re.M), f"{category}\n{ray_job}"


def test_refused_requests_are_retried_by_the_client(ray_job: Any) -> None:
    assert "the emulator answers the first 6 requests with 429; the client retries them" in ray_job.stdout, ray_job
    # Each refused request was sent once more, and only once: the client's retries, not Ray's.
    assert f"the emulator received {DOCUMENTS + 6} requests for {DOCUMENTS} documents (6 retries)" in ray_job.stdout
    assert "error on document" not in ray_job.stdout, ray_job


def test_progress_is_shown_until_the_end(ray_job: Any) -> None:
    lines = re.findall(r"^progress: (\d+)/(\d+) documents", ray_job.stdout, re.M)
    assert len(lines) >= 2, ray_job
    done = [int(d) for d, _ in lines]
    assert done == sorted(done), ray_job
    assert lines[-1] == (str(DOCUMENTS), str(DOCUMENTS)), ray_job


def test_each_class_is_summarised_by_llama_index(ray_job: Any) -> None:
    summaries = dict(re.findall(r"^  (\w+): (.+)$", ray_job.stdout.split("summaries (LlamaIndex", 1)[1], re.M))
    assert sorted(summaries) == sorted(CATEGORIES), ray_job
    for category, summary in summaries.items():
        # The emulator answers a summary request from the tickets it was given: one of that class.
        assert category in summary.lower(), f"{category}: {summary}"
