"""Pure conversions between LlamaIndex objects and AnyFast's wire format: no I/O, no state.

Requests go out through :func:`to_wire_messages` and :func:`tool_choice_param`;
answers come back through :func:`chat_response` (a whole answer), :func:`stream_chat_response` (one
streamed piece) and their completion twins. Reasoning travels both ways: it arrives as a
``ThinkingBlock`` first in ``message.blocks`` and goes back as the assistant message's
``reasoning_content``, so GLM's interleaved thinking survives tool loops.

>>> from llama_index.core.base.llms.types import ChatMessage
>>> to_wire_messages([ChatMessage(role="user", content="Hi")])
[{'role': 'user', 'content': 'Hi'}]
"""

from __future__ import annotations

import inspect
from collections.abc import Sequence
from typing import Any

from llama_index.core.base.llms.types import (
    CachePoint,
    ChatMessage,
    ChatResponse,
    CompletionResponse,
    MessageRole,
    TextBlock,
    ThinkingBlock,
    ToolCallBlock,
)
from llama_index.core.llms.llm import ToolSelection
from llama_index.core.llms.utils import parse_partial_json
from llama_index.core.tools.types import ToolMetadata
from llama_index.core.types import Model

from anyfast_core import ChatCompletion, StreamAccumulator, StreamDelta, ToolCall, Usage
from anyfast_core.construct import Builder
from anyfast_core.request import tool_choice_on_wire, wire_tool_call
from anyfast_core.structured import json_from_text

_WIRE_ROLES: dict[str, str] = {
    MessageRole.SYSTEM.value: "system",
    MessageRole.DEVELOPER.value: "system",
    MessageRole.USER.value: "user",
    MessageRole.ASSISTANT.value: "assistant",
    MessageRole.CHATBOT.value: "assistant",
    MessageRole.MODEL.value: "assistant",
    MessageRole.TOOL.value: "tool",
    MessageRole.FUNCTION.value: "tool",
}

_ASSISTANT = MessageRole.ASSISTANT

# --------------------------------------------------------------------------- requests


def tool_to_wire(metadata: ToolMetadata) -> dict[str, Any]:
    r"""A LlamaIndex tool as a wire tool.

    ``FunctionTool`` describes a function as its signature line followed by its docstring. Python 3.13
    strips docstring indentation at compile time and older Pythons keep it, so the docstring part is
    cleaned with :func:`inspect.cleandoc` (the core cleans every description alike): one body on every Python.

    >>> meta = ToolMetadata(name="add", description="add(a: int) -> int\nAdd.\n\n    Really.\n    ")
    >>> tool_to_wire(meta)["function"]["description"]
    'add(a: int) -> int\nAdd.\n\nReally.'
    """
    spec: dict[str, Any] = metadata.to_openai_tool(skip_length_check=True)
    description = spec["function"].get("description")
    if isinstance(description, str):
        head, newline, rest = description.partition("\n")
        if newline and head.startswith(f"{metadata.name}("):
            spec["function"]["description"] = f"{head}\n{inspect.cleandoc(rest)}"
    return spec


def to_wire_messages(messages: Sequence[ChatMessage]) -> list[dict[str, Any]]:
    """LlamaIndex messages as wire messages, reasoning and tool calls included."""
    return [to_wire_message(message, i) for i, message in enumerate(messages)]


def to_wire_message(message: ChatMessage, index: int = 0) -> dict[str, Any]:
    """One message on the wire. Raises ``ValueError`` for content the chat API cannot take.

    An assistant message sends back its ``ThinkingBlock`` text (or ``additional_kwargs
    ["reasoning_content"]``) as ``reasoning_content`` and its ``ToolCallBlock``\\ s (or legacy
    ``additional_kwargs["tool_calls"]``) as ``tool_calls``; a tool message needs
    ``additional_kwargs["tool_call_id"]``.
    """
    role = _WIRE_ROLES.get(message.role.value)
    if role is None:
        raise ValueError(f"messages[{index}] has role {message.role.value!r}, which AnyFast's chat API cannot take")
    texts: list[str] = []
    others: list[dict[str, Any]] = []
    reasoning: list[str] = []
    tool_calls: list[dict[str, Any]] = []
    for block in message.blocks:
        if isinstance(block, TextBlock):
            texts.append(block.text)
        elif isinstance(block, ThinkingBlock):
            if block.content:
                reasoning.append(block.content)
        elif isinstance(block, ToolCallBlock):
            tool_calls.append(wire_tool_call(block.tool_call_id, block.tool_name, block.tool_kwargs))
        elif not isinstance(block, CachePoint):  # a caching hint this API has no use for
            # Images, audio, documents: a part named by kind, which the core's request check refuses
            # (the API is text-only) with the same message as for LangChain.
            others.append({"type": getattr(block, "block_type", type(block).__name__)})
    content: str | list[dict[str, Any]] | None = "\n".join(texts) if texts else None
    if others:
        content = [*({"type": "text", "text": text} for text in texts), *others]
    wire: dict[str, Any] = {"role": role, "content": content}
    extra = message.additional_kwargs
    if role == "assistant":
        if not tool_calls and extra.get("tool_calls"):
            tool_calls = [_legacy_tool_call(call) for call in extra["tool_calls"]]
        if tool_calls:
            wire["tool_calls"] = tool_calls
        if wire["content"] is None:  # a tool-calling turn with no text: "" as GLM itself and LangChain send it
            wire["content"] = ""
        text = "".join(reasoning) or extra.get("reasoning_content")
        if text:
            wire["reasoning_content"] = text
    elif role == "tool":
        wire["tool_call_id"] = extra.get("tool_call_id")
    return wire


def _legacy_tool_call(call: Any) -> dict[str, Any]:
    # Messages built by other integrations keep OpenAI-style tool calls (dicts or SDK objects).
    data = call if isinstance(call, dict) else call.model_dump()
    function = data.get("function") or {}
    return wire_tool_call(data.get("id"), function.get("name") or "", function.get("arguments") or "")


def tool_choice_param(tool_choice: str | dict[str, Any] | None, tool_required: bool) -> str | dict[str, Any] | None:
    """The wire ``tool_choice`` for LlamaIndex's ``tool_choice`` and ``tool_required``.

    A name other than ``auto``/``none``/``required`` picks that tool; ``tool_required`` alone means
    ``"required"``; nothing at all leaves the server's default (``auto``) in place. Asking for a
    required tool call while saying ``auto`` or ``none`` is a contradiction and raises.

    >>> tool_choice_param("search", tool_required=False)
    {'type': 'function', 'function': {'name': 'search'}}
    >>> tool_choice_param(None, tool_required=True)
    'required'
    """
    if tool_choice is None:
        return "required" if tool_required else None
    if tool_required and tool_choice in ("auto", "none"):
        raise ValueError(
            f"tool_required=True contradicts tool_choice={tool_choice!r}; use tool_choice='required' or a tool name"
        )
    return tool_choice_on_wire(tool_choice) if isinstance(tool_choice, str) else tool_choice


# --------------------------------------------------------------------------- responses


def usage_kwargs(usage: Usage | None) -> dict[str, Any]:
    """The server's token counts under the names LlamaIndex's token counters read."""
    if usage is None:
        return {}
    counts: dict[str, Any] = {
        "prompt_tokens": usage.prompt_tokens,
        "completion_tokens": usage.completion_tokens,
        "total_tokens": usage.total_tokens,
    }
    if usage.cached_tokens is not None:
        counts["cached_tokens"] = usage.cached_tokens
    if usage.reasoning_tokens is not None:
        counts["reasoning_tokens"] = usage.reasoning_tokens
    return counts


def message_from_completion(completion: ChatCompletion) -> ChatMessage:
    """The answer as a ``ChatMessage``: ``ThinkingBlock`` first, then the text, then tool calls.

    Tool-call arguments stay the JSON text the model wrote (as in LlamaIndex's OpenAI integration),
    so they go back byte for byte on the next turn; ``get_tool_calls_from_response`` parses them.
    """
    wire = completion.message
    usage = completion.usage
    blocks: list[Any] = []
    if wire.reasoning_content:
        reasoning_tokens = usage.reasoning_tokens if usage is not None else None
        blocks.append(ThinkingBlock(content=wire.reasoning_content, num_tokens=reasoning_tokens))
    calls = wire.tool_calls or []
    if wire.content or not calls:
        blocks.append(TextBlock(text=wire.content or ""))
    blocks.extend(
        ToolCallBlock(tool_call_id=call.id, tool_name=call.function.name, tool_kwargs=call.function.arguments)
        for call in calls
    )
    return ChatMessage(role=_ASSISTANT, blocks=blocks, additional_kwargs=_tool_calls_kwargs(calls))


def _tool_calls_kwargs(calls: list[ToolCall]) -> dict[str, Any]:
    # LlamaIndex's streaming structured output and token estimates look for OpenAI-style calls
    # (objects with .function.name/.arguments) here; the ToolCallBlocks stay the source of truth.
    return {"tool_calls": calls} if calls else {}


def response_kwargs(completion: ChatCompletion) -> dict[str, Any]:
    """Usage counts and the finish reason, for ``ChatResponse.additional_kwargs``."""
    kwargs = usage_kwargs(completion.usage)
    if completion.finish_reason:
        kwargs["finish_reason"] = completion.finish_reason
    return kwargs


def chat_response(completion: ChatCompletion) -> ChatResponse:
    """A whole answer; ``raw`` is the parsed completion, usage included."""
    return ChatResponse(
        message=message_from_completion(completion), raw=completion, additional_kwargs=response_kwargs(completion)
    )


def completion_response(completion: ChatCompletion) -> CompletionResponse:
    """A whole answer for ``complete``; the reasoning rides in ``additional_kwargs["reasoning_content"]``."""
    kwargs = response_kwargs(completion)
    if completion.message.reasoning_content:
        kwargs["reasoning_content"] = completion.message.reasoning_content
    return CompletionResponse(text=completion.message.content or "", raw=completion, additional_kwargs=kwargs)


# Streaming builders run once per chunk: they read the core's accumulator (never fold again) and
# assemble LlamaIndex's objects, unvalidated, from values that are already of the right types.
_build_text = Builder(TextBlock, {"block_type": "text", "text": ""})
_build_thinking = Builder(
    ThinkingBlock, {"block_type": "thinking", "content": "", "num_tokens": None, "additional_information": {}}
)
_build_tool_call = Builder(
    ToolCallBlock, {"block_type": "tool_call", "tool_call_id": None, "tool_name": "", "tool_kwargs": ""}
)
_build_message = Builder(ChatMessage, {"role": _ASSISTANT, "additional_kwargs": {}, "blocks": []})
_build_chat = Builder(
    ChatResponse,
    {"message": ChatMessage(role=_ASSISTANT), "raw": None, "delta": "", "logprobs": None, "additional_kwargs": {}},
)
_build_completion = Builder(
    CompletionResponse, {"text": "", "additional_kwargs": {}, "raw": None, "logprobs": None, "delta": ""}
)


def stream_chat_response(delta: StreamDelta, acc: StreamAccumulator, with_tool_calls: bool) -> ChatResponse:
    """One streamed piece: cumulative blocks (reasoning first), ``delta`` = new answer text only,
    the new reasoning in ``additional_kwargs["thinking_delta"]``; ``raw`` is the core's delta."""
    text = _build_text({"block_type": "text", "text": acc.content})
    reasoning = acc.reasoning
    if reasoning:
        thinking: dict[str, Any] = {
            "block_type": "thinking",
            "content": reasoning,
            "num_tokens": None,
            "additional_information": {},
        }
        blocks: list[Any] = [_build_thinking(thinking), text]
    else:
        blocks = [text]
    message_kwargs: dict[str, Any] = {}
    if with_tool_calls:
        calls = acc.tool_calls()
        blocks.extend(_partial_tool_call_block(call) for call in calls)
        message_kwargs = _tool_calls_kwargs(calls)
    message = _build_message({"role": _ASSISTANT, "additional_kwargs": message_kwargs, "blocks": blocks})
    return _build_chat(
        {
            "message": message,
            "raw": delta,
            "delta": delta.content,
            "logprobs": None,
            "additional_kwargs": {"thinking_delta": delta.reasoning} if delta.reasoning else {},
        },
    )


def _partial_tool_call_block(call: ToolCall) -> ToolCallBlock:
    # Arguments may still be partial JSON here: kept as text until the stream ends.
    return _build_tool_call(
        {
            "block_type": "tool_call",
            "tool_call_id": call.id,
            "tool_name": call.function.name,
            "tool_kwargs": call.function.arguments,
        },
    )


def final_stream_chat_response(completion: ChatCompletion) -> ChatResponse:
    """The last streamed piece: the whole message (validated), usage, finish reason."""
    return ChatResponse(
        message=message_from_completion(completion),
        delta="",
        raw=completion,
        additional_kwargs=response_kwargs(completion),
    )


def stream_completion_response(delta: StreamDelta, acc: StreamAccumulator) -> CompletionResponse:
    """One streamed piece for ``stream_complete``: cumulative text, new text, new reasoning."""
    return _build_completion(
        {
            "text": acc.content,
            "additional_kwargs": {"thinking_delta": delta.reasoning} if delta.reasoning else {},
            "raw": delta,
            "logprobs": None,
            "delta": delta.content,
        },
    )


def final_stream_completion_response(completion: ChatCompletion) -> CompletionResponse:
    """The last ``stream_complete`` piece: whole text and reasoning, usage, finish reason."""
    response = completion_response(completion)
    response.delta = ""
    return response


# --------------------------------------------------------------------------- structured output


def structured_output(message: ChatMessage, output_cls: type[Model]) -> Model:
    """The answer as ``output_cls``: the first tool call's arguments, else the JSON object in the text
    (code fences and stray prose tolerated), so a forced tool call answered in text still counts.

    Raises ``ValueError`` when there is neither, pydantic's ``ValidationError`` when it does not fit.
    """
    calls = tool_selections(message)
    if calls:
        return output_cls.model_validate(calls[0].tool_kwargs)
    text = message.content or ""
    try:
        value = json_from_text(text)
    except ValueError as exc:
        raise ValueError(f"Expected a {output_cls.__name__} as a tool call or a JSON object. {exc}") from None
    return output_cls.model_validate(value)


# --------------------------------------------------------------------------- tool calls


def tool_selections(message: ChatMessage) -> list[ToolSelection]:
    """The message's tool calls as ``ToolSelection``\\ s. Partial JSON arguments (mid-stream) are
    repaired as far as possible, and arguments that cannot be read become ``{}``: never an error."""
    selections = []
    for block in message.blocks:
        if not isinstance(block, ToolCallBlock):
            continue
        kwargs = block.tool_kwargs
        if isinstance(kwargs, str):
            try:
                kwargs = parse_partial_json(kwargs) if kwargs.strip() else {}
            except (ValueError, TypeError):
                kwargs = {}
        selections.append(
            ToolSelection(tool_id=block.tool_call_id or "", tool_name=block.tool_name, tool_kwargs=kwargs)
        )
    return selections


def keep_first_tool_call(message: ChatMessage) -> None:
    """Drop all tool calls but the first (when parallel calls were not allowed)."""
    seen = False
    kept = []
    for block in message.blocks:
        if isinstance(block, ToolCallBlock):
            if seen:
                continue
            seen = True
        kept.append(block)
    message.blocks = kept
    if message.additional_kwargs.get("tool_calls"):
        message.additional_kwargs["tool_calls"] = message.additional_kwargs["tool_calls"][:1]
