"""Both clients over real loopback sockets against the emulator, in both stream dialects, with faults.

The scripted-transport tests pin each behaviour down; these show the same behaviours survive real
HTTP: chunked and close-delimited bodies, resets, pieces split anywhere, real retries.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest
from core_support import Harness, request

from anyfast_emulator import Emulator
from anyfast_emulator.faults import fault_header

WEATHER = {
    "type": "function",
    "function": {
        "name": "weather",
        "description": "The weather in a city.",
        "parameters": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]},
    },
}


def _harness_for(emu: Emulator, mode: str) -> Callable[..., Harness]:
    def make(fault: str | None = None, /, *, max_retries: int = 2, **params: Any) -> Harness:
        headers = fault_header(fault, **params) if fault else {}
        return Harness(
            mode,
            None,
            api_key=emu.api_key,
            base_url=emu.base_url,
            default_headers=headers,
            max_retries=max_retries,
        )

    return make


@pytest.fixture
def live(emulator: Emulator, mode: str) -> Callable[..., Harness]:
    """``live(fault=None, **params)``: a harness whose client talks to the GLM-dialect emulator, asking
    for a fault."""
    return _harness_for(emulator, mode)


@pytest.fixture
def live_any(emulator_any: Emulator, mode: str) -> Callable[..., Harness]:
    """``live`` in each stream dialect in turn, for what the dialect could change."""
    return _harness_for(emulator_any, mode)


def test_whole_answer_and_stream_agree(live_any: Callable[..., Harness], emulator_any: Emulator) -> None:
    whole = live_any().chat()
    deltas, streamed = live_any().stream()
    assert whole.message.content
    assert streamed.message.content == "".join(d.content for d in deltas)
    assert streamed.message.content.strip() == whole.message.content.strip()
    assert streamed.usage is not None  # in both dialects, since streams ask for it
    assert whole.usage is not None
    bodies = emulator_any.requests
    assert [b["stream"] for b in bodies] == [False, True]


@pytest.mark.parametrize("fragmented", [False, True])
def test_tool_calls_whole_and_fragmented(live_any: Callable[..., Harness], fragmented: bool) -> None:
    req = request(
        messages=[{"role": "user", "content": "What is the weather in Florence?"}],
        tools=[WEATHER],
        tool_choice="required",
        tool_stream=fragmented,
    )
    deltas, completion = live_any().stream(req)
    calls = completion.message.tool_calls
    assert calls is not None
    assert calls[0].function.name == "weather"
    assert isinstance(json.loads(calls[0].function.arguments), dict)
    pieces = [f for d in deltas for f in d.tool_calls]
    assert (len(pieces) > len(calls)) is fragmented
    assert completion.finish_reason == "tool_calls"


def test_reasoning_tokens_reported(live: Callable[..., Harness]) -> None:
    completion = live("reasoning_tokens").chat()
    assert completion.usage is not None
    assert completion.usage.reasoning_tokens is not None


def test_models(live: Callable[..., Harness]) -> None:
    assert "glm-5.2" in [m.id for m in live().models()]
