"""The README's main-job command: the demo runs offline, all four parts and the summary, fast."""

from __future__ import annotations

import contextlib
import os
import re
import socket
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

DEMO = Path(__file__).resolve().parents[2] / "examples" / "demo.py"


def test_demo_completes_offline_in_under_a_minute(demo_run: Any) -> None:
    assert demo_run.returncode == 0, demo_run
    assert demo_run.seconds < 60, demo_run
    assert demo_run.stderr == "", demo_run  # no traceback, no warning, a clean emulator shutdown


def test_demo_says_it_runs_on_the_emulator(demo_run: Any) -> None:
    out = demo_run.stdout
    assert "OFFLINE: built-in emulator" in out, demo_run
    assert "not written by GLM" in out
    assert "LIVE" not in out


def test_demo_runs_all_four_parts_in_order(demo_run: Any) -> None:
    out = demo_run.stdout
    headings = [
        "1. LangChain: a streaming chain",
        "2. LangGraph: a ReAct agent",
        "3. LlamaIndex: RAG",
        "4. Structured output",
    ]
    positions = [out.find(h) for h in headings]
    assert all(p >= 0 for p in positions), demo_run
    assert positions == sorted(positions)


def _part(out: str, number: int) -> str:
    start = out.index(f"--- {number}. ")
    end = out.find(f"--- {number + 1}. ", start)
    return out[start : end if end >= 0 else len(out)]


def test_part_1_streams_reasoning_apart_from_the_answer(demo_run: Any) -> None:
    part = _part(demo_run.stdout, 1)
    thinking, answer = part.find("[thinking]"), part.find("[answer]")
    assert 0 <= thinking < answer, demo_run
    assert part[thinking + len("[thinking]") : answer].strip(), "no reasoning text was streamed"
    assert part[answer + len("[answer]") :].strip(), "no answer text was streamed"


def test_part_2_prints_each_tool_call_and_result(demo_run: Any) -> None:
    part = _part(demo_run.stdout, 2)
    assert re.search(r"call\s+price_lookup\(product_id='K2'\)", part), demo_run  # what a model would pass
    assert re.search(r"result\s+price_lookup -> Kestrel K2 \(K2\): 2890\.00 EUR", part), demo_run
    assert re.search(r"call\s+calculator\(expression=", part), demo_run
    assert re.search(r"result\s+calculator -> \S", part), demo_run
    assert "[answer]" in part
    # Results print in the order the calls were made, however the parallel tools finish.
    results = re.findall(r"result\s+(\w+) ->", part)
    assert results == re.findall(r"call\s+(\w+)\(", part), demo_run


def test_part_3_answers_with_sources_from_the_bundled_docs(demo_run: Any) -> None:
    part = _part(demo_run.stdout, 3)
    sources = re.findall(r"source\s+(\S+\.md) \(BM25 score", part)
    assert "battery.md" in sources, demo_run
    assert "[answer]" in part


def test_part_4_fills_the_pydantic_model_in_both_frameworks(demo_run: Any) -> None:
    part = _part(demo_run.stdout, 4)
    spec = "BikeSpec(model='Kestrel K2', battery_wh=630, torque_nm=85, weight_kg=25.5)"  # the figures in the text
    for framework in ("LangChain", "LlamaIndex"):
        assert re.search(rf"{framework}\s+{re.escape(spec)}", part), demo_run


def test_summary_reports_requests_tokens_and_time(demo_run: Any) -> None:
    out = demo_run.stdout
    summary = out[out.index("Summary (as reported by the server)") :]
    figures = {
        name: value
        for name, value in re.findall(r"^\s*(requests made|tokens in|tokens out|wall time)\s+([\d.,]+)", summary, re.M)
    }
    assert set(figures) == {"requests made", "tokens in", "tokens out", "wall time"}, demo_run
    assert int(figures["requests made"].replace(",", "")) >= 6  # one chain, >= 2 agent turns, RAG, 2 structured
    assert int(figures["tokens in"].replace(",", "")) > 0
    assert int(figures["tokens out"].replace(",", "")) > 0
    reasoning = re.search(r"of which reasoning\s+([\d,]+)", summary)
    assert reasoning, demo_run  # reported by the server, not "not reported"
    assert 0 < int(reasoning.group(1).replace(",", "")) < int(figures["tokens out"].replace(",", ""))


def test_help_lists_the_flags(run: Callable[..., Any], offline_env: dict[str, str]) -> None:
    result = run(DEMO, "--help", env={k: v for k, v in offline_env.items() if k != "ANYFAST_DEMO_PACE"})
    assert result.returncode == 0, result
    for flag in ("--offline", "--model", "--effort", "--pace", "ANYFAST_API_KEY"):
        assert flag in result.stdout
    assert "(default: 0.02, a live model's pace" in " ".join(result.stdout.split())  # live by default


def test_a_rejected_key_is_a_clear_error_with_a_hint(
    run: Callable[..., Any], emulator: Any, offline_env: dict[str, str]
) -> None:
    # A key with the emulator's fault prefix: it answers 401 "Invalid API key", as AnyFast does.
    key = "fault-invalid_key"
    env = {**offline_env, "ANYFAST_BASE_URL": emulator.base_url, "ANYFAST_API_KEY": key}
    result = run(DEMO, env=env)
    assert result.returncode == 2, result
    assert "LOCAL: a server on this machine" in result.stdout
    assert "rejected the API key" in result.stdout
    assert "--offline" in result.stdout
    assert "Traceback" not in result.stdout + result.stderr
    assert key not in result.stdout + result.stderr


def test_an_unreachable_server_is_a_clear_error_with_a_hint(
    run: Callable[..., Any], offline_env: dict[str, str]
) -> None:
    with socket.socket() as probe:  # a loopback port nobody listens on: connection refused at once
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    env = {**offline_env, "ANYFAST_BASE_URL": f"http://127.0.0.1:{port}/v1", "ANYFAST_API_KEY": "some-key"}
    result = run(DEMO, env=env)
    assert result.returncode == 3, result
    assert "Could not reach AnyFast" in result.stdout
    assert "--offline" in result.stdout
    assert "Traceback" not in result.stdout + result.stderr


def test_offline_flag_ignores_a_key_in_the_environment(run: Callable[..., Any], offline_env: dict[str, str]) -> None:
    env = {**offline_env, "ANYFAST_API_KEY": "a-live-key-that-must-not-be-used"}
    result = run(DEMO, "--offline", "--effort", "none", env=env)
    assert result.returncode == 0, result
    assert "OFFLINE: built-in emulator" in result.stdout


@pytest.mark.skipif(sys.platform == "win32", reason="needs a pseudo-terminal")
def test_on_a_terminal_the_demo_is_rich_and_reasoning_is_dimmed(offline_env: dict[str, str]) -> None:
    import pty

    primary, secondary = pty.openpty()
    env = {**offline_env, "TERM": "xterm-256color", "COLUMNS": "120"}
    env.pop("NO_COLOR", None)
    with subprocess.Popen(  # a terminal of its own: stdout.isatty() is true in the demo
        [sys.executable, str(DEMO)], stdout=secondary, stderr=secondary, env=env, cwd=DEMO.parents[1]
    ) as process:
        os.close(secondary)
        chunks = []
        with contextlib.suppress(OSError):  # reading past the end of a closed pty raises EIO
            while data := os.read(primary, 65536):
                chunks.append(data)
        assert process.wait(timeout=90) == 0
    os.close(primary)
    out = b"".join(chunks).decode("utf-8", "replace")
    assert "╭" in out  # the banner is a panel
    assert "OFFLINE: built-in emulator" in out
    assert "\x1b[2;3m" in out  # reasoning streams dim and italic
    assert re.search(r"│ requests made\s+│\s+\d+ │", re.sub(r"\x1b\[[0-9;]*m", "", out))  # the summary table


def test_flags_reach_every_request_and_the_summary_counts_them_all(
    run: Callable[..., Any], emulator: Any, offline_env: dict[str, str]
) -> None:
    env = {**offline_env, "ANYFAST_BASE_URL": emulator.base_url, "ANYFAST_API_KEY": emulator.api_key}
    result = run(DEMO, "--model", "glm-5.2", "--effort", "low", env=env)
    assert result.returncode == 0, result
    assert "LOCAL: a server on this machine" in result.stdout
    assert "model glm-5.2, reasoning effort low" in result.stdout
    bodies = emulator.requests
    assert bodies, "the demo sent nothing to the emulator it was pointed at"
    assert {body["model"] for body in bodies} == {"glm-5.2"}
    assert {body.get("reasoning_effort") for body in bodies} == {"low"}
    counted = re.search(r"requests made\s+(\d+)", result.stdout)
    assert counted, result
    assert int(counted.group(1)) == len(bodies)  # the meter sees every request the server saw
