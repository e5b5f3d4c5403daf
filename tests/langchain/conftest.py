"""Fixtures for ChatAnyFast: a scripted AnyFast on an in-process httpx transport, GLM-shaped
answers (whole and streamed, GLM and OpenAI stream dialects), and the real GLM recordings."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
import testkit

from langchain_anyfast import ChatAnyFast

DATA = testkit.RECORDINGS
TEST_KEY = "sk-test-langchain-0123456789abcdef"
BASE_URL = "http://127.0.0.1:9/v1"


class ScriptedServer(testkit.ScriptedServer):
    """The shared scripted server; ``sse`` also takes a list of chunk dicts (GLM-shaped)."""

    def sse(self, body: bytes | list[dict[str, Any]]) -> None:
        super().sse(body if isinstance(body, bytes) else sse_body(body))


@pytest.fixture
def server() -> ScriptedServer:
    return ScriptedServer()


@pytest.fixture
def make_model(server: ScriptedServer) -> Iterator[Any]:
    """Build a ``ChatAnyFast`` wired to the scripted server; keyword arguments pass through."""
    clients: list[httpx.Client] = []

    def make(**kwargs: Any) -> ChatAnyFast:
        transport = httpx.MockTransport(server.handler)
        sync_client = httpx.Client(transport=transport)
        clients.append(sync_client)
        kwargs.setdefault("api_key", TEST_KEY)
        kwargs.setdefault("base_url", BASE_URL)
        kwargs.setdefault("max_retries", 0)
        return ChatAnyFast(http_client=sync_client, http_async_client=httpx.AsyncClient(transport=transport), **kwargs)

    yield make
    for client in clients:
        client.close()


@pytest.fixture
def model(make_model: Any) -> ChatAnyFast:
    return make_model()


# --------------------------------------------------------------------------- GLM-shaped answers

_ID = "20260101120000abcdef"


def completion(
    content: str = "Hello!",
    *,
    reasoning: str | None = "The user greets me.",
    tool_calls: list[dict[str, Any]] | None = None,
    finish_reason: str | None = "stop",
    usage: dict[str, Any] | None = None,
    model: str = "glm-5.2",
) -> dict[str, Any]:
    """A non-streaming answer shaped like GLM's (``request_id`` beside ``id``, no ``object``)."""
    message: dict[str, Any] = {"role": "assistant", "content": content}
    if reasoning is not None:
        message["reasoning_content"] = reasoning
    if tool_calls:
        message["tool_calls"] = [
            {
                "id": call.get("id", f"call_{i}"),
                "index": i,
                "type": "function",
                "function": {
                    "name": call["name"],
                    "arguments": call.get("arguments", json.dumps(call.get("args", {}))),
                },
            }
            for i, call in enumerate(tool_calls)
        ]
    return {
        "id": _ID,
        "request_id": _ID,
        "created": 1767268800,
        "model": model,
        "choices": [{"index": 0, "finish_reason": finish_reason, "message": message}],
        "usage": usage if usage is not None else {"prompt_tokens": 12, "completion_tokens": 30, "total_tokens": 42},
    }


def tool_call(name: str, args: dict[str, Any], call_id: str) -> dict[str, Any]:
    return {"name": name, "args": args, "id": call_id}


def stream_chunks(
    content: str = "Hello there!",
    *,
    reasoning: str = "The user greets me.",
    tool_calls: list[dict[str, Any]] | None = None,
    fragment_tools: bool = False,
    finish_reason: str = "stop",
    usage: dict[str, Any] | None = None,
    dialect: str = "glm",
) -> list[dict[str, Any]]:
    """Chunks as GLM streams them: ``role`` on every delta, one word per reasoning and content delta,
    tool calls whole (or in fragments, as with ``tool_stream``), ``finish_reason`` repeated, and usage
    in the finish chunk (``dialect="glm"``) or in a separate ``choices: []`` chunk (``"openai"``)."""
    usage = usage if usage is not None else {"prompt_tokens": 12, "completion_tokens": 30, "total_tokens": 42}

    def chunk(delta: dict[str, Any], finish: str | None = None) -> dict[str, Any]:
        choice: dict[str, Any] = {"index": 0, "delta": {"role": "assistant", **delta}}
        if finish:
            choice["finish_reason"] = finish
        return {"id": _ID, "created": 1767268800, "model": "glm-5.2", "choices": [choice]}

    chunks = [chunk({"content": "\n"})] if not reasoning else []
    chunks += [chunk({"reasoning_content": piece}) for piece in _pieces(reasoning)]
    chunks += [chunk({"content": piece}) for piece in _pieces(content)]
    for i, call in enumerate(tool_calls or []):
        arguments = json.dumps(call["args"], ensure_ascii=False)
        head = {"index": i, "id": call["id"], "type": "function", "function": {"name": call["name"]}}
        if not fragment_tools:
            head["function"]["arguments"] = arguments
            chunks.append(chunk({"tool_calls": [head]}, finish_reason if i == 0 else None))
            continue
        head["function"]["arguments"] = ""
        chunks.append(chunk({"tool_calls": [head]}))
        for start in range(0, len(arguments), 7):
            piece = {"index": i, "function": {"arguments": arguments[start : start + 7]}}
            chunks.append(chunk({"tool_calls": [piece]}))
    last = chunk({"content": ""}, finish_reason)
    if dialect == "glm":
        last["usage"] = usage
        chunks.append(last)
    else:
        chunks.append(last)
        chunks.append({"id": _ID, "created": 1767268800, "model": "glm-5.2", "choices": [], "usage": usage})
    return chunks


def _pieces(text: str) -> list[str]:
    words = text.split(" ")
    return [word + (" " if i < len(words) - 1 else "") for i, word in enumerate(words)] if text else []


def sse_body(chunks: list[dict[str, Any]]) -> bytes:
    events = [f"data: {json.dumps(chunk, ensure_ascii=False)}\n\n" for chunk in chunks]
    return ("".join(events) + "data: [DONE]\n\n").encode()


@pytest.fixture
def glm() -> Any:
    """Builders of GLM-shaped answers: ``glm.completion(...)``, ``glm.chunks(...)``, ``glm.sse(chunks)``."""
    from types import SimpleNamespace

    return SimpleNamespace(completion=completion, chunks=stream_chunks, sse=sse_body, tool_call=tool_call)
