"""Pure conversions between LangChain objects and AnyFast wire dicts, named by direction.

Nothing here does I/O or keeps state: each function maps plain data to plain data, so every rule is
tested without a server. ``*_to_wire`` functions build request pieces; ``*_from_wire`` functions
build LangChain messages, chunks and usage from what the core returns.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any, NoReturn, cast

from langchain_core.messages import (
    AIMessage,
    AIMessageChunk,
    BaseMessage,
    ChatMessage,
    HumanMessage,
    InvalidToolCall,
    SystemMessage,
    ToolMessage,
)
from langchain_core.messages import ToolCall as LCToolCall
from langchain_core.messages.ai import UsageMetadata
from langchain_core.messages.tool import invalid_tool_call, tool_call, tool_call_chunk
from langchain_core.outputs import ChatGenerationChunk

from anyfast_core import ChatCompletion, StreamDelta, ToolCall, Usage
from anyfast_core.construct import Builder
from anyfast_core.request import tool_choice_on_wire, wire_tool_call
from anyfast_core.types import TOOL_CHOICE_MODES

PROVIDER = "anyfast"
"""``response_metadata["model_provider"]``: selects the content-block translator in ``_blocks``."""

_ROLE_ALIASES = {
    "human": "user",
    "ai": "assistant",
    "user": "user",
    "assistant": "assistant",
    "system": "system",
    "developer": "system",
    "tool": "tool",
}

# --------------------------------------------------------------------------- LangChain -> wire


def messages_to_wire(messages: Sequence[BaseMessage]) -> list[dict[str, Any]]:
    """LangChain messages as the ``messages`` list of a request.

    >>> messages_to_wire([HumanMessage("Hi")])
    [{'role': 'user', 'content': 'Hi'}]
    """
    return [message_to_wire(message) for message in messages]


def message_to_wire(message: BaseMessage) -> dict[str, Any]:
    """One message as a wire dict; assistant messages carry their reasoning back (see
    :func:`ai_message_to_wire`). Names are not sent: the API does not document a ``name`` field."""
    if isinstance(message, AIMessage):
        return ai_message_to_wire(message)
    if isinstance(message, HumanMessage):
        return {"role": "user", "content": user_content_to_wire(message.content)}
    if isinstance(message, SystemMessage):
        return {"role": "system", "content": user_content_to_wire(message.content)}
    if isinstance(message, ToolMessage):
        return {"role": "tool", "tool_call_id": message.tool_call_id, "content": tool_content_to_wire(message.content)}
    if isinstance(message, ChatMessage):
        role = _ROLE_ALIASES.get(message.role)
        if role is None or role in ("assistant", "tool"):
            raise ValueError(
                f"ChatMessage role {message.role!r} is not supported; use AIMessage / ToolMessage for assistant and "
                "tool turns, or one of 'user', 'system'."
            )
        return {
            "role": role,
            "content": user_content_to_wire(message.content),
        }
    raise ValueError(f"ChatAnyFast cannot send a {type(message).__name__}; use System/Human/AI/ToolMessage.")


def ai_message_to_wire(message: AIMessage) -> dict[str, Any]:
    """An assistant turn: text, ``reasoning_content`` and ``tool_calls``.

    The reasoning comes from ``additional_kwargs["reasoning_content"]`` or, for ``output_version="v1"``
    messages, from their ``reasoning`` blocks (Anthropic-style ``thinking`` blocks too). Sending it back
    is what GLM's interleaved and preserved thinking need across tool-calling turns.
    """
    content = message.content
    reasoning = message.additional_kwargs.get("reasoning_content")
    if isinstance(content, str):
        text = content
    else:
        texts: list[str] = []
        thoughts: list[str] = []
        for block in content:
            if isinstance(block, str):
                texts.append(block)
            elif block.get("type") == "text":
                texts.append(block.get("text") or "")
            elif block.get("type") == "reasoning" and isinstance(block.get("reasoning"), str):
                thoughts.append(block["reasoning"])
            elif block.get("type") == "thinking" and isinstance(block.get("thinking"), str):
                thoughts.append(block["thinking"])  # Anthropic-style history
        text = "".join(texts)
        if not isinstance(reasoning, str) and thoughts:
            reasoning = "".join(thoughts)
    wire: dict[str, Any] = {"role": "assistant", "content": text}
    if isinstance(reasoning, str) and reasoning:
        wire["reasoning_content"] = reasoning
    calls = [tool_call_to_wire(call) for call in message.tool_calls]
    calls += [invalid_tool_call_to_wire(call) for call in message.invalid_tool_calls]
    if calls:
        wire["tool_calls"] = calls
    return wire


def tool_call_to_wire(call: LCToolCall) -> dict[str, Any]:
    """``{"name", "args", "id"}`` as an OpenAI-style call; non-ASCII arguments stay as they are."""
    return wire_tool_call(call.get("id"), call["name"], call["args"])


def invalid_tool_call_to_wire(call: InvalidToolCall) -> dict[str, Any]:
    """A call whose arguments did not parse goes back verbatim: it is what the model said."""
    return wire_tool_call(call.get("id"), call.get("name") or "", call.get("args") or "")


def text_of(content: str | list[Any]) -> str:
    """The text of message content: a string, or the text blocks of a list joined."""
    if isinstance(content, str):
        return content
    parts = []
    for block in content:
        if isinstance(block, str):
            parts.append(block)
        elif isinstance(block, Mapping) and block.get("type") == "text":
            parts.append(block.get("text") or "")
    return "".join(parts)


def user_content_to_wire(content: str | list[Any]) -> str | list[dict[str, Any]]:
    """User or system content: text as a string; with other blocks (images, audio, files), a list of
    parts as given, which the core's request check refuses by name (the API is text-only)."""
    if isinstance(content, str):
        return content
    if all(isinstance(b, str) or (isinstance(b, Mapping) and b.get("type") == "text") for b in content):
        return text_of(content)
    parts: list[dict[str, Any]] = []
    for block in content:
        if isinstance(block, str):
            parts.append({"type": "text", "text": block})
        elif isinstance(block, Mapping):
            parts.append(dict(block))
        else:
            raise ValueError(f"Content block {block!r} is not supported by ChatAnyFast: allowed: str or dict blocks")
    return parts


def tool_content_to_wire(content: str | list[Any]) -> str:
    """A tool result as text: a string as is, text blocks joined, anything else as JSON."""
    if isinstance(content, str):
        return content
    if all(isinstance(b, str) or (isinstance(b, Mapping) and b.get("type") == "text") for b in content):
        return text_of(content)
    return json.dumps(content, ensure_ascii=False, default=str)


def tool_choice_to_wire(tool_choice: Any, tool_names: Sequence[str]) -> str | dict[str, Any] | None:
    """Every ``tool_choice`` form LangChain users pass, as the API's form.

    ``"auto"``/``"none"`` as is; ``"any"``, ``"required"`` and ``True`` force a call (``True`` with one
    tool names it); ``False`` is ``"none"``; a tool name, ``{"type": "function", "function": {"name"}}``,
    ``{"type": "tool", "name"}`` or ``{"name"}`` name the tool.

    >>> tool_choice_to_wire("any", ["add"])
    'required'
    >>> tool_choice_to_wire("add", ["add"])
    {'type': 'function', 'function': {'name': 'add'}}
    """
    if tool_choice is None:
        return None
    if tool_choice is True:
        return _named(tool_names[0]) if len(tool_names) == 1 else "required"
    if tool_choice is False:
        return "none"
    if isinstance(tool_choice, str):
        if tool_choice == "any":
            return "required"
        if tool_choice not in TOOL_CHOICE_MODES and tool_choice not in tool_names:
            raise ValueError(
                f"tool_choice={tool_choice!r} names no bound tool; bound tools: {list(tool_names)} "
                "(or use 'auto', 'none', 'any', 'required')"
            )
        return tool_choice_on_wire(tool_choice)
    if isinstance(tool_choice, Mapping):
        function = tool_choice.get("function")
        name = function.get("name") if isinstance(function, Mapping) else tool_choice.get("name")
        if isinstance(name, str) and tool_choice.get("type", "function") in ("function", "tool"):
            return tool_choice_to_wire(name, tool_names)
    raise ValueError(
        f"tool_choice={tool_choice!r}: allowed: a tool name, 'auto', 'none', 'any', 'required', True, False, "
        "or {'type': 'function', 'function': {'name': ...}}"
    )


def _named(name: str) -> dict[str, Any]:
    return {"type": "function", "function": {"name": name}}


# --------------------------------------------------------------------------- wire -> LangChain


def usage_from_wire(usage: Usage | None) -> UsageMetadata | None:
    """Token counts; cache reads and reasoning tokens only when the server reported them.

    >>> usage_from_wire(Usage(prompt_tokens=5, completion_tokens=7, total_tokens=12))
    {'input_tokens': 5, 'output_tokens': 7, 'total_tokens': 12}
    """
    if usage is None:
        return None
    # A cast, not a literal: mypy targeting 3.10 reads UsageMetadata's NotRequired keys as required.
    metadata = cast(
        "UsageMetadata",
        {
            "input_tokens": usage.prompt_tokens,
            "output_tokens": usage.completion_tokens,
            "total_tokens": usage.total_tokens or usage.prompt_tokens + usage.completion_tokens,
        },
    )
    if (cached := usage.cached_tokens) is not None:
        metadata["input_token_details"] = {"cache_read": cached}
    if (reasoning := usage.reasoning_tokens) is not None:
        metadata["output_token_details"] = {"reasoning": reasoning}
    return metadata


def tool_calls_from_wire(calls: Sequence[ToolCall]) -> tuple[list[LCToolCall], list[InvalidToolCall]]:
    """Parsed calls, and those whose arguments are not a JSON object (kept, with the reason)."""
    valid: list[LCToolCall] = []
    invalid: list[InvalidToolCall] = []
    for call in calls:
        name, arguments = call.function.name, call.function.arguments
        try:
            args = json.loads(arguments) if arguments.strip() else {}
        except ValueError as exc:
            invalid.append(
                invalid_tool_call(name=name, args=arguments, id=call.id or None, error=f"arguments are not JSON: {exc}")
            )
            continue
        if not isinstance(args, dict):
            invalid.append(
                invalid_tool_call(name=name, args=arguments, id=call.id or None, error="arguments are not an object")
            )
            continue
        valid.append(tool_call(name=name, args=args, id=call.id or None))
    return valid, invalid


def response_metadata_from_wire(completion: ChatCompletion, model: str) -> dict[str, Any]:
    """``model_name``, ``finish_reason``, ``id`` and ``model_provider`` of an answer."""
    metadata: dict[str, Any] = {
        "model_name": completion.model or model,
        "finish_reason": completion.finish_reason,
        "id": completion.id or None,
        "model_provider": PROVIDER,
    }
    if completion.request_id and completion.request_id != completion.id:
        metadata["request_id"] = completion.request_id
    return metadata


def message_from_wire(completion: ChatCompletion, model: str, *, first_call_only: bool = False) -> AIMessage:
    """A whole answer as an ``AIMessage``: answer text in ``content``, reasoning in
    ``additional_kwargs["reasoning_content"]``, tool calls parsed, usage and metadata set."""
    message = completion.message
    calls = message.tool_calls or []
    if first_call_only:
        calls = calls[:1]
    tool_calls, invalid_tool_calls = tool_calls_from_wire(calls)
    additional_kwargs = {"reasoning_content": message.reasoning_content} if message.reasoning_content else {}
    return AIMessage(
        content=message.content or "",
        additional_kwargs=additional_kwargs,
        tool_calls=tool_calls,
        invalid_tool_calls=invalid_tool_calls,
        response_metadata=response_metadata_from_wire(completion, model),
        usage_metadata=usage_from_wire(completion.usage),
        id=completion.id or None,
    )


_CHUNK_METADATA = {"model_provider": PROVIDER}


class _NoItems(list):  # type: ignore[type-arg]
    """The empty ``tool_calls`` / ``invalid_tool_calls`` / ``tool_call_chunks`` every text and
    reasoning chunk shares. langchain-core keeps every chunk of a stream until the final merge, so a
    container per chunk is garbage-collection work that grows with the stream; one shared list is
    none. Merges copy these lists and never change them; changing one in place raises rather than
    reach every other chunk."""

    __slots__ = ()

    def _frozen(self, *args: object, **kwargs: object) -> NoReturn:
        raise TypeError(
            "A streamed chunk's empty tool-call lists are shared; assign a new list instead of changing them."
        )

    append = extend = insert = remove = pop = clear = sort = reverse = _frozen
    __setitem__ = __delitem__ = __iadd__ = __imul__ = _frozen


_NO_ITEMS = _NoItems()
_EMPTY_CHUNK: dict[str, Any] = {
    "content": "",
    "additional_kwargs": {},
    "response_metadata": {},
    "type": "AIMessageChunk",
    "name": None,
    "id": None,
    "tool_calls": [],
    "invalid_tool_calls": [],
    "usage_metadata": None,
    "tool_call_chunks": [],
    "chunk_position": None,
}
# Fields set as ``AIMessageChunk(content=..., additional_kwargs=..., response_metadata=..., id=...)`` sets them.
_build_message = Builder(AIMessageChunk, _EMPTY_CHUNK, {"content", "additional_kwargs", "response_metadata", "id"})
_build_generation = Builder(
    ChatGenerationChunk,
    {"text": "", "generation_info": None, "type": "ChatGenerationChunk", "message": AIMessageChunk(content="")},
    {"text", "message"},
)


def _plain_chunk(content: str, additional_kwargs: dict[str, Any], message_id: str | None) -> ChatGenerationChunk:
    """A text or reasoning chunk, unvalidated (every value here is already of its field's type):
    langchain-core's own construction of it costs more than the rest of the chunk's journey. A test
    checks the result equals a validated chunk."""
    message = _build_message(
        {
            "content": content,
            "additional_kwargs": additional_kwargs,
            "response_metadata": dict(_CHUNK_METADATA),
            "type": "AIMessageChunk",
            "name": None,
            "id": message_id,
            "tool_calls": _NO_ITEMS,
            "invalid_tool_calls": _NO_ITEMS,
            "usage_metadata": None,
            "tool_call_chunks": _NO_ITEMS,
            "chunk_position": None,
        }
    )
    return _build_generation(
        {"text": content, "generation_info": None, "type": "ChatGenerationChunk", "message": message}
    )


def chunk_from_wire(
    delta: StreamDelta, *, message_id: str | None = None, first_call_only: bool = False
) -> ChatGenerationChunk | None:
    """One streamed piece as a generation chunk: text in ``content``, reasoning in
    ``additional_kwargs["reasoning_content"]``, tool-call fragments as ``tool_call_chunks``.

    ``message_id`` is the server's id for the answer (it comes with the first event): every chunk of
    one call carries it, so UIs that group chunks by id show one message, and merging keeps it.
    Every chunk names the provider (chunk merging keeps one copy of an unchanged ``model_provider``)
    so its ``content_blocks`` come out of the same translator as the final message's.
    """
    content = delta.content
    additional_kwargs = {"reasoning_content": delta.reasoning} if delta.reasoning else {}
    if not delta.tool_calls:
        return _plain_chunk(content, additional_kwargs, message_id)
    fragments = [f for f in delta.tool_calls if f.index == 0] if first_call_only else delta.tool_calls
    if not (fragments or content or additional_kwargs):
        return None
    chunks = [tool_call_chunk(name=f.name, args=f.arguments or None, id=f.id, index=f.index) for f in fragments]
    message = AIMessageChunk(
        content=content,
        additional_kwargs=additional_kwargs,
        response_metadata=dict(_CHUNK_METADATA),
        tool_call_chunks=chunks,
        id=message_id,
    )
    return ChatGenerationChunk(message=message)


def last_chunk_from_wire(completion: ChatCompletion, model: str) -> ChatGenerationChunk:
    """The closing chunk: the only one with ``finish_reason``, ``model_name``, ``id`` and usage, so
    merging chunks never concatenates or double-counts them."""
    message = AIMessageChunk(
        content="",
        response_metadata=response_metadata_from_wire(completion, model),
        usage_metadata=usage_from_wire(completion.usage),
        chunk_position="last",
        id=completion.id or None,
    )
    return ChatGenerationChunk(message=message)
