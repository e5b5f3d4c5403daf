"""Wire fidelity against real GLM traffic: each recorded request, sent to the emulator, gets an answer
with the recorded shape (the same fields at every level, the same kinds of chunks in the same order)
and the recorded tool calls."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest
from testkit import RECORDINGS

from anyfast_emulator import Emulator

DATA = RECORDINGS
NON_STREAMING = ["zai-glm-4.5_tool.1", "zai-glm-4.5_tool.2"]
STREAMING = [
    "zai-glm-4.5_tool_streaming.1",
    "zai-glm-4.5_tool_streaming.2",
    "zai-glm-4.6v_multi_tool_streaming.1",
    "zai-glm-4.6v_multi_tool_streaming.2",
]


@pytest.fixture(scope="module")
def glm() -> Any:
    # As real GLM: leading newline content deltas on.
    with Emulator(glm_newlines=True, models=None) as emu:  # the recordings are of older GLM ids
        yield emu


def post(emu: Emulator, body: dict[str, Any]) -> bytes:
    response = httpx.post(emu.base_url + "/chat/completions", json=body, headers={"Authorization": "Bearer k"})
    assert response.status_code == 200, response.text
    return response.content


def paths(value: Any, prefix: str = "") -> set[str]:
    """Every key path in a JSON value (list items collapsed to ``[]``)."""
    if isinstance(value, dict):
        found = set()
        for key, item in value.items():
            found |= {f"{prefix}.{key}"} | paths(item, f"{prefix}.{key}")
        return found
    if isinstance(value, list):
        return set().union(*(paths(item, prefix + "[]") for item in value)) if value else set()
    return set()


def sse_chunks(raw: bytes) -> list[dict[str, Any]]:
    events = [line[5:].strip() for line in raw.decode().splitlines() if line.startswith("data:")]
    assert events[-1] == "[DONE]"
    return [json.loads(e) for e in events[:-1]]


def kind(chunk: dict[str, Any]) -> str:
    choice = chunk["choices"][0]
    delta = choice.get("delta", {})
    if "usage" in chunk:
        return "final"
    if delta.get("tool_calls"):
        return "tool_call"
    if not (delta.get("reasoning_content") or "").strip() and not (delta.get("content") or "").strip():
        return "blank"  # GLM's newline deltas: as content in some models, as reasoning in others
    if delta.get("reasoning_content"):
        return "reasoning"
    return "content"


def calls(message_or_chunks: Any) -> list[tuple[str, Any]]:
    if isinstance(message_or_chunks, dict):
        raw = message_or_chunks.get("tool_calls") or []
    else:
        raw = [c for chunk in message_or_chunks for c in chunk["choices"][0]["delta"].get("tool_calls") or []]
    return [(c["function"]["name"], json.loads(c["function"]["arguments"])) for c in raw]


def runs(kinds: list[str]) -> list[str]:
    """Kinds with repeats and blanks collapsed: ["blank", "reasoning", "reasoning", "content"] ->
    ["reasoning", "content"]."""
    kinds = [k for k in kinds if k != "blank"]
    collapsed = [k for i, k in enumerate(kinds) if i == 0 or kinds[i - 1] != k]
    # Some GLM turns say a sentence before their tool calls (4.6v), others do not (4.5, the emulator).
    return [k for i, k in enumerate(collapsed) if not (k == "content" and collapsed[i + 1 : i + 2] == ["tool_call"])]


@pytest.mark.parametrize("name", NON_STREAMING)
def test_non_streaming_answers_have_the_recorded_shape(glm: Emulator, name: str) -> None:
    request = json.loads((DATA / f"{name}.request.json").read_text())
    recorded = json.loads((DATA / f"{name}.json").read_text())
    ours = json.loads(post(glm, request))
    # Every recorded field is there; the emulator adds only "object", as AnyFast's own docs show.
    assert paths(recorded) <= paths(ours)
    assert paths(ours) - paths(recorded) <= {".object"}
    assert calls(ours["choices"][0]["message"]) == calls(recorded["choices"][0]["message"])
    assert ours["choices"][0]["finish_reason"] == recorded["choices"][0]["finish_reason"]
    assert ours["choices"][0]["message"]["content"].startswith("\n\n")
    assert ours["request_id"] == ours["id"]


@pytest.mark.parametrize("name", STREAMING)
def test_streams_have_the_recorded_chunk_kinds_shapes_and_calls(glm: Emulator, name: str) -> None:
    request = json.loads((DATA / f"{name}.request.json").read_text())
    recorded = sse_chunks((DATA / f"{name}.sse").read_bytes())
    ours = sse_chunks(post(glm, request))
    assert runs([kind(c) for c in ours]) == runs([kind(c) for c in recorded])
    for chunk_kind in ("reasoning", "content", "tool_call", "final", "blank"):
        theirs = set().union(*(paths(c) for c in recorded if kind(c) == chunk_kind))
        mine = set().union(*(paths(c) for c in ours if kind(c) == chunk_kind))
        # GLM sometimes adds a stray "content": "" to reasoning deltas and repeats finish_reason on a
        # whole tool call; either way is faithful.
        optional = {".choices[].delta.content", ".choices[].finish_reason"}
        if chunk_kind == "blank":  # the newline delta comes as content or as reasoning
            optional.add(".choices[].delta.reasoning_content")
        if mine and theirs:  # which kinds occur is checked above
            assert mine - optional == theirs - optional, chunk_kind
    assert calls(ours) == calls(recorded)
    final, recorded_final = ours[-1], recorded[-1]
    assert final["choices"][0]["finish_reason"] == recorded_final["choices"][0]["finish_reason"]
    assert paths(final["usage"]) == paths(recorded_final["usage"])
