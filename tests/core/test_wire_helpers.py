"""Request helpers both adapters use, so both send the same thing for the same input."""

from __future__ import annotations

import re

import pytest

from anyfast_core import InvalidParameterError
from anyfast_core.wire import thinking_param


@pytest.mark.parametrize(
    ("given", "wire"),
    [
        (None, None),
        (True, {"type": "enabled"}),
        (False, {"type": "disabled"}),
        ({"type": "enabled", "clear_thinking": False}, {"type": "enabled", "clear_thinking": False}),
    ],
)
def test_thinking_param(given: object, wire: object) -> None:
    assert thinking_param(given) == wire  # type: ignore[arg-type]


def test_thinking_param_copies_a_mapping() -> None:
    given = {"type": "enabled"}
    sent = thinking_param(given)
    assert sent == given
    assert sent is not given


@pytest.mark.parametrize("given", ["yes", 1, ["enabled"]])
def test_thinking_param_refuses_other_types(given: object) -> None:
    with pytest.raises(InvalidParameterError, match=re.escape(f"thinking={given!r}")):
        thinking_param(given)  # type: ignore[arg-type]
