"""ChatAnyFast in an agent served by a real LangGraph server (``langgraph dev``, in-memory runtime) and
driven by the official ``langgraph-sdk`` client, as LangGraph's UIs drive it.

The test starts both servers itself on loopback: the emulator (in this process) and ``langgraph dev``
(a child process serving ``langgraph_app/agent.py``, its model pointed at the emulator). The child
gets no browser, no reloader, no version check, no analytics and no tracing, so it reaches nothing but
loopback; its process group is killed whatever happens.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import testkit

from anyfast_emulator import Emulator

pytest.importorskip("langgraph_api", reason="langgraph dev's in-memory server needs Python 3.11+")
langgraph_sdk = pytest.importorskip("langgraph_sdk")

APP = Path(__file__).parent / "langgraph_app" / "agent.py"
STARTUP_TIMEOUT = 120.0  # seconds: the server imports a lot, and CI machines are shared
QUIET = {
    "LANGGRAPH_NO_VERSION_CHECK": "true",  # otherwise it asks pypi.org for its latest version
    "LANGGRAPH_CLI_NO_ANALYTICS": "1",
    "LANGSMITH_TRACING": "false",
    "LANGCHAIN_TRACING_V2": "false",
    "DO_NOT_TRACK": "1",
}
SECRETS = ("LANGSMITH_API_KEY", "LANGCHAIN_API_KEY", "LANGGRAPH_CLOUD_LICENSE_KEY", "LANGSMITH_CONTROL_PLANE_API_KEY")


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def _wait_until_up(url: str, process: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + STARTUP_TIMEOUT
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"langgraph dev exited with {process.returncode}:\n{log.read_text()[-3000:]}")
        try:
            if httpx.get(f"{url}/ok", timeout=2).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.25)
    pytest.fail(f"langgraph dev did not answer within {STARTUP_TIMEOUT:.0f} s:\n{log.read_text()[-3000:]}")


@pytest.fixture
def langgraph_server(emulator: Emulator, tmp_path: Path) -> Iterator[str]:
    """``langgraph dev`` serving the agent on a free loopback port; its working directory (where the
    in-memory runtime keeps its files) is the test's temporary directory."""
    config = tmp_path / "langgraph.json"
    config.write_text(json.dumps({"dependencies": ["."], "graphs": {"agent": f"{APP}:agent"}}))
    root = Path(__file__).parents[2]
    env = {key: value for key, value in os.environ.items() if key not in SECRETS}
    env.update(QUIET)
    env["PYTHONPATH"] = os.pathsep.join([str(root), str(root / "tests")])
    env["ANYFAST_BASE_URL"] = emulator.base_url
    env["ANYFAST_API_KEY"] = emulator.api_key
    port = _free_port()
    command = [sys.executable, "-m", "langgraph_cli", "dev", "--no-browser", "--no-reload"]
    command += ["--host", "127.0.0.1", "--port", str(port), "--config", str(config)]
    log = tmp_path / "server.log"
    with log.open("wb") as out:
        process = subprocess.Popen(
            command, cwd=tmp_path, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
        )
    try:
        url = f"http://127.0.0.1:{port}"
        _wait_until_up(url, process, log)
        yield url
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()


def _turn(client: Any, thread_id: str, question: str) -> list[str]:
    """One run streamed with ``messages-tuple``; the ids of the AI message chunks, one per run of them."""
    ids: list[str] = []
    for part in client.runs.stream(
        thread_id, "agent", input={"messages": [{"role": "user", "content": question}]}, stream_mode="messages-tuple"
    ):
        assert part.event != "error", part.data
        if part.event == "messages":
            message, metadata = part.data
            if message["type"].startswith("AIMessage") or message["type"] == "ai":
                assert metadata["langgraph_node"] == "model"
                if not ids or ids[-1] != message["id"]:
                    ids.append(message["id"])
    return ids


def test_agent_on_a_langgraph_server_streams_one_message_per_model_call(
    langgraph_server: str, emulator: Emulator
) -> None:
    client = langgraph_sdk.get_sync_client(url=langgraph_server)
    thread_id = client.threads.create()["thread_id"]

    first = _turn(client, thread_id, "Use the add tool for 3 + 4 and the multiply tool for 5 * 6.")
    second = _turn(client, thread_id, "Now add 10 and 20 with the add tool.")

    # Each turn: a tool-calling model call, then the answer; every chunk of a call has that call's id.
    assert len(first) == 2
    assert len(second) == 2
    assert len(set(first + second)) == 4
    messages = client.threads.get_state(thread_id)["values"]["messages"]
    ai = [m for m in messages if m["type"] == "ai"]
    assert [m["id"] for m in ai] == first + second  # the thread keeps the ids the stream showed

    # Reasoning is kept in the thread's state and sent back (the emulator refuses a tool turn without it).
    assert all(m["additional_kwargs"].get("reasoning_content") for m in ai)
    turn_two = next(r for r in emulator.requests if r["messages"][-1]["content"].startswith("Now add"))
    sent_back = [m for m in turn_two["messages"] if m["role"] == "assistant"]
    assert [m["reasoning_content"] for m in sent_back] == [m["additional_kwargs"]["reasoning_content"] for m in ai[:2]]

    # Tool results are what the tools return for the model's arguments, and the answers use them.
    tools = {"add": testkit.add, "multiply": testkit.multiply}
    results = {m["tool_call_id"]: m["content"] for m in messages if m["type"] == "tool"}
    for turn in (ai[0], ai[2]):
        assert turn["tool_calls"]
        for call in turn["tool_calls"]:
            assert results[call["id"]] == str(tools[call["name"]](**call["args"]))
    for call_turn, answer in ((ai[0], ai[1]), (ai[2], ai[3])):
        assert not answer["tool_calls"]
        for call in call_turn["tool_calls"]:
            assert results[call["id"]] in answer["content"]
