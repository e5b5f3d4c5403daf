"""With the project's pytest settings, a cassette-backed test whose cassette is missing fails; it
neither calls the network nor writes a cassette."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from anyfast_core import AnyFastClient, ChatRequest

ROOT = Path(__file__).resolve().parents[2]
PROBE_ENV = "ANYFAST_VCR_GUARD_PROBE"
PROBE_CASSETTE = ROOT / "cassettes" / "emulator" / "test_vcr_guard" / "test_missing_cassette_probe.yaml"


@pytest.mark.vcr
def test_missing_cassette_probe(record_target: Any) -> None:
    if not os.environ.get(PROBE_ENV):
        pytest.skip("a probe: test_a_missing_cassette_fails_the_test runs it in a subprocess")
    request = ChatRequest.create(model="glm-5.2", messages=[{"role": "user", "content": "probe"}])
    with AnyFastClient(api_key=record_target.api_key, base_url=record_target.base_url, max_retries=0) as client:
        client.chat(request)


def test_a_missing_cassette_fails_the_test() -> None:
    assert not PROBE_CASSETTE.exists()
    env = {**os.environ, PROBE_ENV: "1"}
    env.pop("ANYFAST_RECORD_TARGET", None)
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "-q",
            "-p",
            "no:cacheprovider",
            f"{Path(__file__)}::test_missing_cassette_probe",
        ],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env=env,
        timeout=120,
    )
    assert result.returncode == 1, result.stdout[-2000:]
    assert "CannotOverwriteExistingCassetteException" in result.stdout
    assert not PROBE_CASSETTE.exists()
