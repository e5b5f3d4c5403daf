"""Fixtures for the core tests; the helpers they use live in ``core_support``."""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path

import pytest

# Test modules import the helpers as a plain module (pytest runs with --import-mode=importlib).
sys.path.insert(0, str(Path(__file__).parent))

from core_support import Harness


@pytest.fixture(params=["sync", "async"])
def mode(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def harness(mode: str) -> Callable[..., Harness]:
    """``harness(*replies, **client_kwargs)``: a scripted server and a client of the current mode."""
    return Harness.maker(mode)


@pytest.fixture(autouse=True)
def _no_env_key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("ANYFAST_API_KEY", raising=False)
    monkeypatch.delenv("ANYFAST_BASE_URL", raising=False)
