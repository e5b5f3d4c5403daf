"""Request validation as AnyFast documents the chat API for ``glm-5.2``, written from the API
documentation and nothing of the client's, so a validation bug in the client shows up against the
emulator instead of being mirrored by it. Pure.

Each refusal is a Z.ai-style error: HTTP 400 with ``{"error": {"code": "…", "message": "…"}}``, code
``1213`` for a missing field, ``1214`` for an invalid value (or, under the ``strict`` fault, an
undocumented field), ``1210`` for a body that is not a request at all; an unknown model is a 404 with
code ``1211``. The message names the field, what was sent and what is allowed.

>>> validate({"model": "glm-5.2", "messages": [{"role": "user", "content": "Hi"}], "temperature": 1.5})
Refusal(status=400, code='1214', message='temperature: must be a number from 0 to 1, got 1.5')
>>> validate({"model": "glm-5.2", "messages": [{"role": "user", "content": "Hi"}]}) is None
True
"""

from __future__ import annotations

import math
import re
from collections.abc import Collection
from dataclasses import dataclass
from typing import Any

from anyfast_emulator.answer import DEFAULT_MODEL, MAX_OUTPUT_TOKENS

REASONING_EFFORTS = ("max", "xhigh", "high", "medium", "low", "minimal", "none")
ROLES = ("system", "user", "assistant", "tool")
TOOL_CHOICES = ("auto", "none", "required")
RESPONSE_FORMATS = ("text", "json_object")
MAX_TOOLS = 128
TOOL_NAME = re.compile(r"^[A-Za-z0-9_.\-]{1,64}$")
"""Function names as OpenAI-compatible APIs take them: letters, digits, ``_ . -``, at most 64."""
DOCUMENTED_FIELDS = frozenset(
    {
        "model", "messages", "thinking", "reasoning_effort", "max_tokens", "temperature", "top_p", "stream",
        "tools", "tool_choice", "response_format", "stop", "tool_stream", "stream_options",
    }
)  # fmt: skip
TOLERATED_FIELDS = frozenset({"parallel_tool_calls", "user", "request_id", "do_sample", "seed", "n"})
"""Undocumented OpenAI-compatible fields the gateway passes on; refused only under the ``strict`` fault."""

MISSING, INVALID, MALFORMED, NO_SUCH_MODEL = "1213", "1214", "1210", "1211"


@dataclass(frozen=True, slots=True)
class Refusal:
    """Why a request is refused: the HTTP status, Z.ai's business code and the message."""

    status: int
    code: str
    message: str


class _Invalid(Exception):
    def __init__(self, message: str, code: str = INVALID) -> None:
        super().__init__(message)
        self.code = code


def validate(body: Any, *, models: Collection[str] | None = (DEFAULT_MODEL,), strict: bool = False) -> Refusal | None:
    """Why ``body`` is not a valid chat request, or ``None``.

    ``models`` are the ids the server serves (``None``: any); ``strict`` also refuses fields the
    documentation does not list.
    """
    if not isinstance(body, dict):
        return Refusal(400, MALFORMED, "The request body must be a JSON object.")
    try:
        _check(body, strict=strict)
    except _Invalid as exc:
        return Refusal(400, exc.code, str(exc))
    if models is not None and body["model"] not in models:
        allowed = ", ".join(sorted(models))
        return Refusal(404, NO_SUCH_MODEL, f"The model {body['model']!r} does not exist (this server has: {allowed}).")
    return None


def _check(body: dict[str, Any], *, strict: bool) -> None:
    if strict:
        unknown = sorted(set(body) - DOCUMENTED_FIELDS)
        if unknown:
            raise _Invalid(f"Unrecognized request argument supplied: {', '.join(unknown)}")
    for name in ("model", "messages"):
        if body.get(name) is None:
            raise _Invalid(f"{name}: required", MISSING)
    model = body["model"]
    if not isinstance(model, str) or not model.strip():
        raise _Invalid(f"model: must be a non-empty string, got {model!r}")
    _messages(body["messages"])
    _thinking(body.get("thinking"))
    _choice("reasoning_effort", body.get("reasoning_effort"), REASONING_EFFORTS)
    _integer("max_tokens", body.get("max_tokens"), 1, MAX_OUTPUT_TOKENS)
    _number("temperature", body.get("temperature"), 0, 1)
    _number("top_p", body.get("top_p"), 0.01, 1)
    for flag in ("stream", "tool_stream"):
        _boolean(flag, body.get(flag))
    names = _tools(body.get("tools"))
    _tool_choice(body.get("tool_choice"), names)
    _response_format(body.get("response_format"))
    _stop(body.get("stop"))
    _stream_options(body.get("stream_options"))
    if "parallel_tool_calls" in body:
        _boolean("parallel_tool_calls", body["parallel_tool_calls"])


def _describe(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _choice(name: str, value: Any, allowed: tuple[str, ...]) -> None:
    if value is not None and value not in allowed:
        raise _Invalid(f"{name}: must be one of {', '.join(allowed)}; got {_describe(value)}")


def _boolean(name: str, value: Any) -> None:
    if value is not None and not isinstance(value, bool):
        raise _Invalid(f"{name}: must be true or false, got {_describe(value)}")


def _integer(name: str, value: Any, low: int, high: int) -> None:
    if value is None:
        return
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise _Invalid(f"{name}: must be an integer from {low} to {high}, got {_describe(value)}")


def _number(name: str, value: Any, low: float, high: float) -> None:
    if value is None:
        return
    ok = isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)
    if not ok or not low <= value <= high:
        raise _Invalid(f"{name}: must be a number from {low:g} to {high:g}, got {_describe(value)}")


def _messages(messages: Any) -> None:
    if not isinstance(messages, list) or not messages:
        raise _Invalid(f"messages: must be a non-empty list of messages, got {_describe(messages)}")
    for i, message in enumerate(messages):
        where = f"messages[{i}]"
        if not isinstance(message, dict):
            raise _Invalid(f"{where}: must be an object with a role, got {_describe(message)}")
        role = message.get("role")
        if role not in ROLES:
            raise _Invalid(f"{where}.role: must be one of {', '.join(ROLES)}; got {_describe(role)}")
        content = message.get("content")
        if content is not None and not isinstance(content, (str, list)):
            raise _Invalid(f"{where}.content: must be a string or a list of parts, got {_describe(content)}")
        if role in ("system", "user") and content is None:
            raise _Invalid(f"{where}.content: required for a {role} message", MISSING)
        if role == "tool" and not (isinstance(message.get("tool_call_id"), str) and message["tool_call_id"]):
            raise _Invalid(f"{where}.tool_call_id: required for a tool message", MISSING)
        if role == "assistant":
            calls = message.get("tool_calls")
            if calls is not None and not isinstance(calls, list):
                raise _Invalid(f"{where}.tool_calls: must be a list, got {_describe(calls)}")
            for j, call in enumerate(calls or ()):
                function = call.get("function") if isinstance(call, dict) else None
                if not isinstance(function, dict) or not isinstance(function.get("name"), str):
                    raise _Invalid(f"{where}.tool_calls[{j}]: must be {{id, type, function: {{name, arguments}}}}")
                if not isinstance(function.get("arguments", ""), str):
                    raise _Invalid(f"{where}.tool_calls[{j}].function.arguments: must be a JSON string")
            reasoning = message.get("reasoning_content")
            if reasoning is not None and not isinstance(reasoning, str):
                raise _Invalid(f"{where}.reasoning_content: must be a string, got {_describe(reasoning)}")


def _thinking(thinking: Any) -> None:
    if thinking is None:
        return
    if not isinstance(thinking, dict) or thinking.get("type") not in ("enabled", "disabled"):
        raise _Invalid(
            f'thinking: must be {{"type": "enabled" or "disabled", "clear_thinking": bool}}, got {_describe(thinking)}'
        )
    _boolean("thinking.clear_thinking", thinking.get("clear_thinking"))


def _tools(tools: Any) -> list[str]:
    """The function names the request offers."""
    if tools is None:
        return []
    if not isinstance(tools, list):
        raise _Invalid(f"tools: must be a list of tools, got {_describe(tools)}")
    if len(tools) > MAX_TOOLS:
        raise _Invalid(f"tools: at most {MAX_TOOLS} tools, got {len(tools)}")
    names: list[str] = []
    for i, tool in enumerate(tools):
        where = f"tools[{i}]"
        if not isinstance(tool, dict):
            raise _Invalid(f"{where}: must be an object, got {_describe(tool)}")
        kind = tool.get("type", "function")
        if kind == "mcp":
            continue
        function = tool.get("function")
        if kind != "function" or not isinstance(function, dict):
            raise _Invalid(f'{where}: must be {{"type": "function", "function": {{name, description, parameters}}}}')
        name = function.get("name")
        if not isinstance(name, str) or not TOOL_NAME.match(name):
            raise _Invalid(f"{where}.function.name: must be 1-64 letters, digits, _ . or -; got {_describe(name)}")
        if name in names:
            raise _Invalid(f"tools: the function name {name!r} is used twice; names must be unique")
        names.append(name)
        parameters = function.get("parameters")
        if parameters is not None:
            _parameters(f"{where}.function.parameters", parameters)
    return names


def _parameters(where: str, schema: Any) -> None:
    """A tool's parameters: a JSON schema of an object (``"type": "object"``), with object-valued properties."""
    if not isinstance(schema, dict):
        raise _Invalid(f"{where}: must be a JSON schema object, got {_describe(schema)}")
    if schema.get("type", "object") != "object":
        raise _Invalid(f'{where}: must describe an object ("type": "object"), got type {_describe(schema["type"])}')
    properties = schema.get("properties", {})
    if not isinstance(properties, dict) or not all(isinstance(p, dict) for p in properties.values()):
        raise _Invalid(f"{where}.properties: must map each name to a schema object")
    required = schema.get("required", [])
    if not isinstance(required, list) or not all(isinstance(r, str) for r in required):
        raise _Invalid(f"{where}.required: must be a list of property names")


def _tool_choice(choice: Any, names: list[str]) -> None:
    if choice is None:
        return
    if isinstance(choice, str):
        _choice("tool_choice", choice, TOOL_CHOICES)
        if choice == "required" and not names:
            raise _Invalid("tool_choice: 'required' needs tools")
        return
    function = choice.get("function") if isinstance(choice, dict) else None
    if not isinstance(choice, dict) or choice.get("type") != "function" or not isinstance(function, dict):
        raise _Invalid(
            'tool_choice: must be "auto", "none", "required" or {"type": "function", "function": {"name": ...}}; '
            f"got {_describe(choice)}"
        )
    if function.get("name") not in names:
        raise _Invalid(f"tool_choice: names {_describe(function.get('name'))}, which is not among the tools")


def _response_format(value: Any) -> None:
    if value is None:
        return
    kind = value.get("type") if isinstance(value, dict) else None
    if kind not in RESPONSE_FORMATS:
        raise _Invalid(
            f'response_format: must be {{"type": "text"}} or {{"type": "json_object"}} (no json_schema), '
            f"got {_describe(value)}"
        )


def _stop(stop: Any) -> None:
    if stop is None:
        return
    words = [stop] if isinstance(stop, str) else stop
    if not isinstance(words, list) or not words or not all(isinstance(w, str) and w for w in words):
        raise _Invalid(f"stop: must be a non-empty string or a list of them, got {_describe(stop)}")


def _stream_options(options: Any) -> None:
    if options is None:
        return
    if not isinstance(options, dict):
        raise _Invalid(f'stream_options: must be {{"include_usage": bool}}, got {_describe(options)}')
    _boolean("stream_options.include_usage", options.get("include_usage"))


__all__ = ["DOCUMENTED_FIELDS", "Refusal", "validate"]
