"""The usage examples in the core's docstrings run as written."""

from __future__ import annotations

import doctest
import importlib

import pytest

MODULES = [
    "anyfast_core",
    "anyfast_core.accumulate",
    "anyfast_core.client",
    "anyfast_core.errors",
    "anyfast_core.retry",
    "anyfast_core.settings",
    "anyfast_core.sse",
    "anyfast_core.stream",
    "anyfast_core.types",
    "anyfast_core.wire",
]


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples(name: str) -> None:
    result = doctest.testmod(importlib.import_module(name), optionflags=doctest.ELLIPSIS)
    assert result.failed == 0
