"""Both adapters driven the same way, so one test covers LangChain and LlamaIndex, sync and async,
streamed and whole.

* :class:`Mode` — adapter x sync/async x stream/whole; the ``mode`` fixture runs a test in all eight.
* :func:`make_model` builds ``ChatAnyFast`` or ``AnyFast`` from the same settings; :func:`ask` sends one
  user prompt in a mode and returns the finished :class:`Reply` (or raises what the adapter raised).
* :func:`sync_pool` and :func:`async_pool` find an adapter's transport (``testkit.busy_connections`` reads its pool).
"""

from __future__ import annotations

import asyncio
import json
import uuid
from dataclasses import dataclass
from typing import Any, Literal

import httpx
from testkit import ScriptedServer, merged, transport_of

from anyfast_core import AnyFastClient, AsyncAnyFastClient

Adapter = Literal["langchain", "llama_index"]
ADAPTERS: tuple[Adapter, ...] = ("langchain", "llama_index")
GOOD_KEY = "reliability-good-key-0001"


@dataclass(frozen=True)
class Mode:
    adapter: Adapter
    sync: bool
    stream: bool

    def __str__(self) -> str:
        return f"{self.adapter}-{'sync' if self.sync else 'async'}-{'stream' if self.stream else 'whole'}"


MODES = [Mode(a, sync, stream) for a in ADAPTERS for sync in (True, False) for stream in (False, True)]
STREAM_MODES = [m for m in MODES if m.stream]
WHOLE_MODES = [m for m in MODES if not m.stream]


def uid() -> str:
    """A fault id / prompt tag unique to one request (fault counts are kept per id)."""
    return uuid.uuid4().hex[:12]


# --------------------------------------------------------------------------- models and calls


def make_model(
    adapter: Adapter,
    *,
    base_url: str,
    api_key: str | None,
    timeout: float | httpx.Timeout | None = None,
    max_retries: int = 2,
    **extra: Any,
) -> Any:
    """``ChatAnyFast`` or ``AnyFast`` with the same client settings (their parameter names differ)."""
    settings: dict[str, Any] = {"api_key": api_key, "timeout": timeout, "max_retries": max_retries, **extra}
    if adapter == "langchain":
        from langchain_anyfast import ChatAnyFast

        return ChatAnyFast(base_url=base_url, **settings)
    from llama_index_anyfast import AnyFast

    return AnyFast(api_base=base_url, **settings)


ADD_TOOL = {  # a tool in wire form, for tests that build requests without a framework's tool
    "type": "function",
    "function": {
        "name": "add",
        "description": "Add two integers.",
        "parameters": {"type": "object", "properties": {"a": {"type": "integer"}, "b": {"type": "integer"}}},
    },
}

SCRIPTED_BASE_URL = "https://anyfast.test/v1"
SCRIPTED_KEY = "sk-reliability-SCRIPTED-0123456789"


def scripted_model(adapter: Adapter, server: ScriptedServer, **settings: Any) -> Any:
    """``ChatAnyFast`` or ``AnyFast`` whose sync and async requests are answered by ``server`` (in process)."""
    transport = httpx.MockTransport(server.handler)
    clients = {"http_client": httpx.Client(transport=transport)}
    async_name = "http_async_client" if adapter == "langchain" else "async_http_client"
    clients[async_name] = httpx.AsyncClient(transport=transport)  # type: ignore[assignment]
    return make_model(adapter, base_url=SCRIPTED_BASE_URL, api_key=SCRIPTED_KEY, **clients, **settings)


@dataclass(frozen=True)
class Reply:
    """A finished answer as the adapter handed it over."""

    text: str
    finish_reason: str | None
    pieces: int = 1
    """How many streamed pieces made it (1 for a whole answer)."""
    reasoning: str = ""
    """The reasoning as the framework shows it (LangChain's ``reasoning_content``, LlamaIndex's ThinkingBlock)."""
    tool_calls: tuple[tuple[str, str], ...] = ()
    """(name, arguments as JSON text) of each tool call."""
    usage: bool = False
    """Whether token usage came with the answer."""


def ask(model: Any, mode: Mode, prompt: str, **kwargs: Any) -> Reply:
    """One user turn in ``mode``; async modes run on a fresh event loop (as a script would)."""
    if mode.sync:
        return ask_sync(model, mode.adapter, mode.stream, prompt, **kwargs)
    return asyncio.run(ask_async(model, mode.adapter, mode.stream, prompt, **kwargs))


def ask_sync(model: Any, adapter: Adapter, stream: bool, prompt: str, **kwargs: Any) -> Reply:
    if adapter == "langchain":
        if not stream:
            return _lc_reply(model.invoke(prompt, **kwargs))
        chunks = list(model.stream(prompt, **kwargs))
        return _lc_reply(merged(chunks), len(chunks))
    messages = _li_messages(prompt)
    if not stream:
        return _li_reply(model.chat(messages, **kwargs))
    responses = list(model.stream_chat(messages, **kwargs))
    return _li_reply(responses[-1], len(responses))


async def ask_async(model: Any, adapter: Adapter, stream: bool, prompt: str, **kwargs: Any) -> Reply:
    if adapter == "langchain":
        if not stream:
            return _lc_reply(await model.ainvoke(prompt, **kwargs))
        chunks = [chunk async for chunk in model.astream(prompt, **kwargs)]
        return _lc_reply(merged(chunks), len(chunks))
    messages = _li_messages(prompt)
    if not stream:
        return _li_reply(await model.achat(messages, **kwargs))
    responses = [r async for r in await model.astream_chat(messages, **kwargs)]
    return _li_reply(responses[-1], len(responses))


def _lc_reply(message: Any, pieces: int = 1) -> Reply:
    calls = tuple((call["name"], json.dumps(call["args"])) for call in message.tool_calls)
    return Reply(
        message.text,
        message.response_metadata.get("finish_reason"),
        pieces,
        message.additional_kwargs.get("reasoning_content", ""),
        calls,
        message.usage_metadata is not None,
    )


def _li_messages(prompt: str | list[Any]) -> list[Any]:
    """A prompt as one user message; a list is taken as the messages themselves."""
    from llama_index.core.llms import ChatMessage

    return prompt if isinstance(prompt, list) else [ChatMessage(role="user", content=prompt)]


def _li_reply(response: Any, pieces: int = 1) -> Reply:
    from llama_index.core.base.llms.types import ThinkingBlock, ToolCallBlock

    blocks = response.message.blocks
    reasoning = "".join(b.content or "" for b in blocks if isinstance(b, ThinkingBlock))
    calls = tuple(
        (b.tool_name, b.tool_kwargs if isinstance(b.tool_kwargs, str) else json.dumps(b.tool_kwargs))
        for b in blocks
        if isinstance(b, ToolCallBlock)
    )
    usage = "total_tokens" in response.additional_kwargs
    return Reply(
        response.message.content or "", response.additional_kwargs.get("finish_reason"), pieces, reasoning, calls, usage
    )


# --------------------------------------------------------------------------- core clients and pools


def core_client_of(model: Any, sync: bool) -> AnyFastClient | AsyncAnyFastClient:
    """The core client an adapter sends with (created on first use)."""
    if type(model).__name__ == "ChatAnyFast":
        return model.client if sync else model.async_client  # type: ignore[no-any-return]
    return model._clients.sync if sync else model._clients.aio  # type: ignore[no-any-return]


def sync_pool(model: Any) -> Any:
    """The transport (:mod:`anyfast_core._pool`) the adapter's sync client sends with."""
    return transport_of(core_client_of(model, sync=True))


async def async_pool(model: Any) -> Any:
    """The transport the adapter's async client uses on the running loop (made by a first call if needed)."""
    client = core_client_of(model, sync=False)
    assert isinstance(client, AsyncAnyFastClient)
    await client._client()
    return transport_of(client)
