"""Every script in examples/ runs against the emulator and prints what it promises."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"

# What each script must print: patterns (regular expressions) that only a working run produces.
EXPECTED: dict[str, list[str]] = {
    "langchain_streaming_reasoning.py": [
        r"\[thinking\]\n\S",
        r"\[answer\]\n\S",
        r"content blocks:\s+\['reasoning', 'text'\]",
        r"usage:\s+\{'input_tokens': [1-9]",
        r"follow-up answer: \S",
    ],
    "langchain_tool_calling.py": [
        r"tool call: price_lookup\(\{'product_id': 'K2'\}\) -> Kestrel K2 \(K2\): 2890\.00 EUR",
        r"tool call: calculator\(\{'expression': '3 \* 2890 \* 1\.21'\}\) -> 10490\.7",
        r"answer: \S",
    ],
    "langchain_structured_output.py": [
        r"function_calling\s+BikeSpec\(model='Kestrel K2', battery_wh=630, torque_nm=85, weight_kg=25\.5\)",
        r"json_mode\s+BikeSpec\(model='Kestrel K2', battery_wh=630, torque_nm=85, weight_kg=25\.5\)",
        r"json_schema\s+BikeSpec\(model='Kestrel K2', battery_wh=630, torque_nm=85, weight_kg=25\.5\)",
        r"parsing_error: None",
        r"usage:\s+\{'input_tokens': [1-9]",
    ],
    "langchain_async_batch.py": [
        r"(Q: .+\nA: \S.*\n\n){6}",
        r"6 answers in [\d.]+ s, [1-9]\d* tokens in total",
        r"streamed: [1-9]\d* and [1-9]\d* characters",
    ],
    "langgraph_react_memory.py": [
        r"calls price_lookup\(\{'product_id': 'Cargo'\}\)",
        r"price_lookup -> Kestrel Cargo \(CARGO\): 4450\.00 EUR",
        r"agent: .*Ada",
        r"thread 'customer-42' holds 6 messages: human ai tool ai human ai",
    ],
    "llamaindex_rag.py": [
        r"indexed 5 documents as \d+ chunks",
        r"sources:\n  warranty\.md  score=[\d.]+",
        r"user: How should I store the battery over winter\?\nchat: \S.*\nsources: \[[^\]]*'battery\.md'",
        r"user: And at what temperature should I charge it\?\nchat: \S.*\nsources: \[[^\]]*'battery\.md'",
    ],
    "llamaindex_function_agent.py": [
        r"tool call: price_lookup\(\{'product_id': 'K2'\}\)",
        r"tool result: Kestrel K2 \(K2\): 2890\.00 EUR",
        r"tool call: calculator\(\{'expression': '3 \* 2890 \* 1\.21'\}\)",
        r"tool result: 10490\.7",
        r"answer: \S",
        r"thinking streamed: [1-9]\d* characters",
    ],
    "llamaindex_structured_predict.py": [
        r"structured_predict:\s+Warranty\(frame_years=10, motor_years=3, other_years=2\)",
        r"astructured_predict:\s+Warranty\(frame_years=10, motor_years=3, other_years=2\)",
        r"JSON mode:\s+Warranty\(frame_years=10, motor_years=3, other_years=2\)",
        r"as_structured_llm:\s+Warranty\(frame_years=10, motor_years=3, other_years=2\)",
    ],
}

# Scripts with a test module of their own (options, an optional extra): demo.py, ray_batch.py.
OWN_TESTS = {"demo.py", "ray_batch.py"}
SCRIPTS = sorted(p.name for p in EXAMPLES.glob("*.py") if not p.name.startswith("_") and p.name not in OWN_TESTS)


def test_every_example_has_expectations() -> None:
    assert sorted(EXPECTED) == SCRIPTS


@pytest.mark.parametrize("script", SCRIPTS)
def test_example_runs_against_the_emulator(script: str, run: Callable[..., Any], emulator_env: dict[str, str]) -> None:
    result = run(EXAMPLES / script, env=emulator_env)
    assert result.returncode == 0, result
    assert "Traceback" not in result.stderr, result
    assert "Warning" not in result.stderr, result
    for pattern in EXPECTED[script]:
        assert re.search(pattern, result.stdout), f"{pattern!r} not in the output of {script}\n{result}"


def test_an_example_starts_the_emulator_by_itself_without_a_key(
    run: Callable[..., Any], offline_env: dict[str, str]
) -> None:
    result = run(EXAMPLES / "langchain_structured_output.py", env=offline_env)
    assert result.returncode == 0, result
    assert result.stderr == "", result  # the emulator it started shut down cleanly
    assert re.search(EXPECTED["langchain_structured_output.py"][0], result.stdout), result
