"""The emulator stays off the client's import path, and its command line starts a working server."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import httpx

from anyfast_emulator import FAULTS
from anyfast_emulator.__main__ import build_parser

ROOT = Path(__file__).resolve().parents[2]


def run_python(code: str) -> str:
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=ROOT, timeout=120
    )
    return result.stdout.strip()


def test_importing_the_client_and_adapters_does_not_import_the_emulator() -> None:
    code = (
        "import sys, json, anyfast_core, langchain_anyfast, llama_index_anyfast\n"
        "from anyfast_core import AnyFastClient\n"
        "from langchain_anyfast import ChatAnyFast\n"
        "from llama_index_anyfast import AnyFast\n"
        "print(json.dumps(sorted(m for m in sys.modules if 'emulator' in m)))"
    )
    assert json.loads(run_python(code)) == []


def test_the_emulator_imports_no_framework() -> None:
    code = (
        "import sys, json, anyfast_emulator\n"
        "print(json.dumps(sorted({m.split('.')[0] for m in sys.modules} & "
        "{'langchain_core', 'llama_index', 'langchain_anyfast', 'llama_index_anyfast', 'vcr', 'pytest'})))"
    )
    assert json.loads(run_python(code)) == []


def test_help_lists_every_fault() -> None:
    text = build_parser().format_help()
    assert all(name in text for name in FAULTS)
    assert "X-AnyFast-Fault" in text


def test_command_line_serves_until_stopped() -> None:
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    process = subprocess.Popen(
        [
            *(sys.executable, "-m", "anyfast_emulator", "--port", "0", "--dialect", "openai"),
            *("--fault", "keepalive", "--token-delay", "0.001", "--quiet"),
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=ROOT,
        env=env,
    )
    try:
        assert process.stdout is not None
        first = process.stdout.readline()
        base_url = first.rsplit(" at ", 1)[1].strip()
        body = {"model": "glm-5.2", "messages": [{"role": "user", "content": "Hello"}], "stream": True}
        reply = httpx.post(base_url + "/chat/completions", json=body, headers={"Authorization": "Bearer k"}, timeout=10)
        assert reply.status_code == 200
        assert reply.text.startswith(": PING")
        assert '"object":"chat.completion.chunk"' in reply.text
    finally:
        process.terminate()
        process.wait(timeout=10)


def test_command_line_rejects_an_unknown_fault() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "anyfast_emulator", "--port", "0", "--fault", "nope"],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=60,
    )
    assert result.returncode == 2
    assert "unknown fault 'nope'" in result.stderr
