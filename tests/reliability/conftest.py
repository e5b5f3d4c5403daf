"""Fixtures for the reliability tests (the helpers they share live in ``reliability_support``).

* ``mode`` / ``whole_mode``: each adapter x sync/async x stream/whole in turn (``whole_mode``: whole only).
* ``backoff`` records the core's retry waits instead of sleeping them (for faults without Retry-After).
* ``keyed_emulator`` accepts one key only; ``closed_port_url`` points at a port nothing listens on.
* ``report`` prints figures in pytest's terminal summary, whether or not output is captured.
"""

from __future__ import annotations

import socket
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

# Test modules import the helpers as a plain module (pytest runs with --import-mode=importlib).
sys.path.insert(0, str(Path(__file__).parent))

from reliability_support import GOOD_KEY, MODES, WHOLE_MODES, Mode

from anyfast_emulator import Emulator


@pytest.fixture(params=MODES, ids=str)
def mode(request: pytest.FixtureRequest) -> Mode:
    return request.param  # type: ignore[no-any-return]


@pytest.fixture(params=WHOLE_MODES, ids=str)
def whole_mode(request: pytest.FixtureRequest) -> Mode:
    return request.param  # type: ignore[no-any-return]


@pytest.fixture(scope="session")
def keyed_emulator_server() -> Iterator[Emulator]:
    """An emulator that accepts only :data:`GOOD_KEY` (and ``fault-`` keys): other keys get 401."""
    with Emulator(api_keys=[GOOD_KEY]) as emu:
        yield emu


@pytest.fixture
def keyed_emulator(keyed_emulator_server: Emulator) -> Emulator:
    keyed_emulator_server.reset()
    return keyed_emulator_server


@pytest.fixture
def closed_port_url() -> str:
    """A loopback base URL nothing listens on (connection refused)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}/v1"


_FIGURES: list[str] = []


@pytest.fixture
def report() -> Callable[[str], None]:
    """Add a line to the figures printed at the end of the run (and to stdout, for ``-s``)."""

    def add(line: str) -> None:
        _FIGURES.append(line)
        print(line)

    return add


def pytest_terminal_summary(terminalreporter: Any) -> None:
    if _FIGURES:
        terminalreporter.section("AnyFast reliability figures")
        for line in _FIGURES:
            terminalreporter.write_line(line)
