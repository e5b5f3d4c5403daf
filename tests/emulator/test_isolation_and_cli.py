"""The emulator stays off the client's import path, and its command line starts a working server."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
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


def test_the_emulator_imports_no_framework_and_nothing_of_the_client() -> None:
    code = (
        "import sys, json, anyfast_emulator, anyfast_emulator.__main__\n"
        "print(json.dumps(sorted({m.split('.')[0] for m in sys.modules} & "
        "{'anyfast_core', 'langchain_core', 'llama_index', 'langchain_anyfast', 'llama_index_anyfast', 'vcr', "
        "'pytest', 'httpx', 'pydantic'})))"
    )
    assert json.loads(run_python(code)) == []


def _start_cli(*args: str) -> tuple[subprocess.Popen[str], str]:
    process = subprocess.Popen(
        [sys.executable, "-m", "anyfast_emulator", "--port", "0", "--quiet", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=ROOT,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    assert process.stdout is not None
    return process, process.stdout.readline().rsplit(" at ", 1)[1].strip()


def test_ctrl_c_stops_at_once_with_keep_alive_clients_connected() -> None:
    process, base_url = _start_cli()
    body = {"model": "glm-5.2", "messages": [{"role": "user", "content": "Hello"}]}
    try:
        with httpx.Client(timeout=10) as idle, httpx.Client(timeout=10) as streaming:
            assert idle.post(
                base_url + "/chat/completions", json=body, headers={"Authorization": "Bearer k"}
            ).is_success
            stalled = {"Authorization": "Bearer k", "X-AnyFast-Fault": "stall;seconds=60"}
            with streaming.stream(
                "POST", base_url + "/chat/completions", json={**body, "stream": True}, headers=stalled
            ):
                started = time.monotonic()
                process.send_signal(signal.SIGINT)
                assert process.wait(timeout=5) == 0
                assert time.monotonic() - started < 3.5
    finally:
        process.kill()
        process.wait(timeout=10)
    assert process.stderr is not None
    assert "Traceback" not in process.stderr.read()


def test_a_port_in_use_is_a_one_line_error() -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = subprocess.run(
            [sys.executable, "-m", "anyfast_emulator", "--port", str(port)],
            capture_output=True,
            text=True,
            cwd=ROOT,
            timeout=60,
            check=False,
        )
    assert result.returncode == 1
    assert result.stderr.count("\n") == 1, result.stderr
    assert result.stderr.startswith(f"anyfast-emulator: cannot listen on 127.0.0.1:{port}: ")
    assert "Traceback" not in result.stderr


def test_a_scripted_command_line_server(tmp_path: Path) -> None:
    script = tmp_path / "replies.json"
    script.write_text(json.dumps(["first", {"status": 429, "error": {"error": {"code": "1302", "message": "m"}}}]))
    process, base_url = _start_cli("--scripted", "--script", str(script))
    body = {"model": "glm-5.2", "messages": [{"role": "user", "content": "Hello"}]}
    headers = {"Authorization": "Bearer k"}
    try:
        replies = [httpx.post(base_url + "/chat/completions", json=body, headers=headers, timeout=10) for _ in range(3)]
    finally:
        process.terminate()
        process.wait(timeout=10)
    assert replies[0].json()["choices"][0]["message"]["content"] == "first"
    assert (replies[1].status_code, replies[1].json()["error"]["code"]) == (429, "1302")
    assert replies[2].status_code == 500


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
