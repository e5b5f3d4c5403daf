"""Fixtures for the LlamaIndex adapter: a scripted AnyFast on an in-process transport, GLM-shaped
answers (whole and streamed), and the real GLM recordings in ``tests/data/glm-recordings/``."""

from __future__ import annotations

import json
from collections.abc import Iterator
from types import SimpleNamespace
from typing import Any

import httpx
import pytest
from llama_index.core.instrumentation import get_dispatcher  # type: ignore[attr-defined]
from llama_index.core.instrumentation.event_handlers import BaseEventHandler
from llama_index.core.instrumentation.events import BaseEvent
from testkit import RECORDINGS, ScriptedServer

from llama_index_anyfast import AnyFast

DATA = RECORDINGS
TEST_KEY = "sk-test-llama-index-0123456789"


@pytest.fixture
def server() -> ScriptedServer:
    return ScriptedServer()


@pytest.fixture
def make_llm(server: ScriptedServer) -> Iterator[Any]:
    """Build an ``AnyFast`` wired to the scripted server (extra constructor arguments pass through)."""
    clients: list[httpx.Client] = []

    def make(**kwargs: Any) -> AnyFast:
        transport = httpx.MockTransport(server.handler)
        sync_client = httpx.Client(transport=transport)
        clients.append(sync_client)
        kwargs.setdefault("api_key", TEST_KEY)
        kwargs.setdefault("api_base", "http://127.0.0.1:9/v1")
        return AnyFast(http_client=sync_client, async_http_client=httpx.AsyncClient(transport=transport), **kwargs)

    yield make
    for client in clients:
        client.close()


@pytest.fixture
def llm(make_llm: Any) -> AnyFast:
    model: AnyFast = make_llm()
    return model


# --------------------------------------------------------------------------- GLM-shaped answers

_ID = "20260101120000abcdef"


def completion(
    content: str = "",
    reasoning: str = "",
    tool_calls: list[tuple[str, str, dict[str, Any]]] | None = None,
    usage: tuple[int, int] = (20, 10),
    cached: int | None = None,
    reasoning_tokens: int | None = None,
    finish_reason: str | None = None,
) -> dict[str, Any]:
    """A non-streaming GLM answer; ``tool_calls`` are ``(id, name, arguments)``."""
    message: dict[str, Any] = {"role": "assistant", "content": content}
    if reasoning:
        message["reasoning_content"] = reasoning
    if tool_calls:
        message["tool_calls"] = [
            {"id": cid, "index": i, "type": "function", "function": {"name": name, "arguments": json.dumps(args)}}
            for i, (cid, name, args) in enumerate(tool_calls)
        ]
    return {
        "id": _ID,
        "request_id": _ID,
        "created": 1767268800,
        "model": "glm-5.2",
        "choices": [
            {"index": 0, "message": message, "finish_reason": finish_reason or ("tool_calls" if tool_calls else "stop")}
        ],
        "usage": _usage(usage, cached, reasoning_tokens),
    }


def _usage(usage: tuple[int, int], cached: int | None, reasoning_tokens: int | None) -> dict[str, Any]:
    body: dict[str, Any] = {"prompt_tokens": usage[0], "completion_tokens": usage[1], "total_tokens": sum(usage)}
    if cached is not None:
        body["prompt_tokens_details"] = {"cached_tokens": cached}
    if reasoning_tokens is not None:
        body["completion_tokens_details"] = {"reasoning_tokens": reasoning_tokens}
    return body


def stream(
    content: str = "",
    reasoning: str = "",
    tool_calls: list[tuple[str, str, dict[str, Any]]] | None = None,
    usage: tuple[int, int] | None = (20, 10),
    cached: int | None = None,
    reasoning_tokens: int | None = None,
    fragment_tool_calls: bool = False,
    finish_reason: str | None = None,
) -> bytes:
    """A GLM-dialect stream: ``role`` on every delta, word-sized reasoning then content deltas, tool
    calls whole (or in ``tool_stream`` fragments), usage in the last chunk beside ``finish_reason``."""

    def chunk(delta: dict[str, Any], **extra: Any) -> str:
        body: dict[str, Any] = {
            "id": _ID,
            "created": 1767268800,
            "model": "glm-5.2",
            "choices": [{"index": 0, "delta": delta}],
        }
        body["choices"][0].update(extra.pop("choice", {}))
        body.update(extra)
        return "data: " + json.dumps(body) + "\n\n"

    out = []
    for word in _words(reasoning):
        out.append(chunk({"role": "assistant", "reasoning_content": word}))
    for word in _words(content):
        out.append(chunk({"role": "assistant", "content": word}))
    for i, (cid, name, args) in enumerate(tool_calls or []):
        text = json.dumps(args)
        if fragment_tool_calls:
            half = len(text) // 2
            first = {"index": i, "id": cid, "type": "function", "function": {"name": name, "arguments": text[:half]}}
            out.append(chunk({"role": "assistant", "tool_calls": [first]}))
            out.append(chunk({"tool_calls": [{"index": i, "function": {"arguments": text[half:]}}]}))
        else:
            call = {"index": i, "id": cid, "type": "function", "function": {"name": name, "arguments": text}}
            out.append(chunk({"role": "assistant", "tool_calls": [call]}))
    final: dict[str, Any] = {"choice": {"finish_reason": finish_reason or ("tool_calls" if tool_calls else "stop")}}
    if usage is not None:
        final["usage"] = _usage(usage, cached, reasoning_tokens)
    out.append(chunk({"role": "assistant", "content": ""}, **final))
    out.append("data: [DONE]\n\n")
    return "".join(out).encode()


def _words(text: str) -> list[str]:
    words, current = [], ""
    for ch in text:
        current += ch
        if ch == " ":
            words.append(current)
            current = ""
    return [*words, current] if current else words


@pytest.fixture
def glm() -> SimpleNamespace:
    """Builders of GLM-shaped answers: ``glm.completion(...)`` (a dict) and ``glm.stream(...)`` (SSE bytes)."""
    return SimpleNamespace(completion=completion, stream=stream)


@pytest.fixture
def recording() -> Any:
    """Read a real GLM recording from ``tests/data/glm-recordings/``: JSON files as dicts, SSE files as bytes."""

    def read(name: str) -> Any:
        path = DATA / name
        return path.read_bytes() if path.suffix == ".sse" else json.loads(path.read_bytes())

    return read


class _Events(BaseEventHandler):
    names: list[str]

    def handle(self, event: BaseEvent, **kwargs: Any) -> None:
        self.names.append(type(event).__name__)


@pytest.fixture
def events() -> Any:
    handler = _Events(names=[])
    dispatcher = get_dispatcher()
    dispatcher.add_event_handler(handler)
    yield handler.names
    dispatcher.event_handlers.remove(handler)
