"""Run the demo, the examples and the README's code blocks the way a user would, on the emulator.

Scripts run in subprocesses with this interpreter and no ``ANYFAST_*`` variables from the outside,
so a key in the developer's environment can never turn a test into a live call.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "examples"


@dataclass(frozen=True, repr=False)
class Run:
    returncode: int
    stdout: str
    stderr: str
    seconds: float

    def __repr__(self) -> str:  # what pytest shows when an assertion on a run fails
        return f"exit {self.returncode} after {self.seconds:.1f}s\n--- stdout\n{self.stdout}\n--- stderr\n{self.stderr}"


def clean_env(**overrides: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("ANYFAST_")}
    # Plain, unwrapped, undecorated output, the same on every machine.
    env.update(PYTHONUNBUFFERED="1", PYTHONIOENCODING="utf-8", NO_COLOR="1", COLUMNS="200", TERM="dumb")
    env["ANYFAST_DEMO_PACE"] = "0"  # the demo's live token pace, off: tests stay fast
    env.update(overrides)
    return env


def run_script(script: Path, *args: str, env: dict[str, str], timeout: float = 90) -> Run:
    started = time.perf_counter()
    completed = subprocess.run(
        [sys.executable, str(script), *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        encoding="utf-8",
        timeout=timeout,
        check=False,
    )
    return Run(completed.returncode, completed.stdout, completed.stderr, time.perf_counter() - started)


@pytest.fixture
def run() -> Callable[..., Run]:
    """``run(script, *args, env=...)`` runs a script and captures its output."""
    return run_script


@pytest.fixture
def offline_env() -> dict[str, str]:
    """No AnyFast variables at all: a script must start the emulator by itself."""
    return clean_env()


@pytest.fixture
def emulator_env(emulator: Any) -> dict[str, str]:
    """The variables a user sets to point their code at the session's emulator (``tests/conftest.py``)."""
    return clean_env(ANYFAST_BASE_URL=emulator.base_url, ANYFAST_API_KEY=emulator.api_key)


@pytest.fixture(scope="module")
def demo_run() -> Run:
    """The README's main-job command, run once per module: ``python examples/demo.py`` with no key."""
    return run_script(EXAMPLES / "demo.py", env=clean_env(), timeout=90)


RAY_JOB_DOCUMENTS = 100
RAY_JOB_ARGS = ("--documents", str(RAY_JOB_DOCUMENTS), "--batch-size", "20", "--concurrency", "8", "--sample", "5")


@pytest.fixture(scope="module")
def ray_job() -> Run:
    """``python examples/ray_batch.py`` on a small batch with no key, once per module: a Ray cluster takes
    seconds to start. The emulator refuses the first 6 requests with 429, for the client to retry."""
    return run_script(EXAMPLES / "ray_batch.py", *RAY_JOB_ARGS, "--rate-limit", "6", env=clean_env(), timeout=280)
