"""Fixtures for the benchmark guard: the canned loopback server of ``benchmarks/``.

``benchmarks`` is a directory at the repository root, not an installed package, so it is put on the
path here (pytest runs with ``--import-mode=importlib``, which adds nothing to ``sys.path``).
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = str(Path(__file__).resolve().parents[2])
if ROOT not in sys.path:
    sys.path.insert(0, ROOT)

from benchmarks.server import CannedServer  # noqa: E402


@pytest.fixture(scope="session")
def canned_server() -> Iterator[CannedServer]:
    """The benchmark server in its own process; it stops with the session (or after 5 minutes)."""
    with CannedServer(lifetime=300) as server:
        yield server
