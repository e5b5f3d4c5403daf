"""Recording is deterministic: recording the cassettes twice writes the same bytes, so after
``scripts/record_cassettes.py`` ``git status`` shows only what really changed.

(Apart from ``test_cassettes.py``, which the recording script runs as its secrets scan.)"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import yaml

from anyfast_core import AnyFastClient, ChatRequest
from anyfast_emulator import Emulator

ROOT = Path(__file__).resolve().parents[2]
REQUEST = ChatRequest.create(model="glm-5.2", messages=[{"role": "user", "content": "Hello"}])


def _record(directory: Path, use_cassette: Any, prompts: list[str]) -> bytes:
    """One cassette of a conversation of two turns and ``prompts`` sent in the given order."""
    with (
        Emulator() as emu,  # a new port each time: the cassette must not show it
        use_cassette(directory, "batch", "all"),
        AnyFastClient(api_key=emu.api_key, base_url=emu.base_url) as client,
    ):
        first = client.chat(REQUEST).choices[0].message
        history = [*REQUEST.to_body()["messages"], {"role": "assistant", "content": first.content}]
        client.chat(ChatRequest.create(model="glm-5.2", messages=[*history, {"role": "user", "content": "More"}]))
        for prompt in prompts:
            client.chat(ChatRequest.create(model="glm-5.2", messages=[{"role": "user", "content": prompt}]))
    return (directory / "batch.yaml").read_bytes()


def test_recording_twice_writes_the_same_bytes_whatever_order_calls_end(tmp_path: Path, use_cassette: Any) -> None:
    # Batched calls finish in any order; here the second recording sends them in the opposite order.
    prompts = ["one", "two", "three", "four"]
    first = _record(tmp_path / "a", use_cassette, prompts)
    second = _record(tmp_path / "b", use_cassette, prompts[::-1])
    assert first == second
    bodies = [json.loads(i["request"]["body"]) for i in yaml.safe_load(first)["interactions"]]
    # The conversation keeps its order (shorter history first); the single-turn calls sort by body.
    assert [len(b["messages"]) for b in bodies] == [1, 1, 1, 1, 1, 3]
    assert bodies[-1]["messages"][0]["content"] == "Hello"


def test_the_recording_script_reproduces_the_committed_cassettes(tmp_path: Path) -> None:
    """``scripts/record_cassettes.py`` twice in a row leaves ``git status`` clean: a fresh recording of a
    sample of both adapters' cassette tests (batches included) equals the committed files byte for byte."""
    sample = [
        "tests/langchain/test_standard_integration.py",
        "tests/llama_index/test_cassettes.py",
        "-k",
        "test_batch or test_abatch or test_tool_message_histories_string_content or test_chat_and_stream",
    ]
    command = [sys.executable, "scripts/record_cassettes.py", "--cassette-dir", str(tmp_path), *sample]
    env = {k: v for k, v in os.environ.items() if not k.startswith("ANYFAST_")}
    done = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=300, check=False)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    recorded = sorted(p.relative_to(tmp_path) for p in tmp_path.rglob("*.yaml"))
    assert len(recorded) == 4, recorded
    for relative in recorded:
        assert (tmp_path / relative).read_bytes() == (ROOT / "cassettes" / relative).read_bytes(), relative
