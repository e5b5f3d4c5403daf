"""Building the wire request: the JSON body both clients send, and the pieces adapters assemble it from.

Pure functions, no I/O.

>>> request = ChatRequest.create(model="glm-5.2", messages=[{"role": "user", "content": "Hi"}], tool_stream=True)
>>> chat_body(request, stream=False)
{'model': 'glm-5.2', 'messages': [{'role': 'user', 'content': 'Hi'}], 'stream': False}
>>> chat_body(request, stream=True)["stream_options"]
{'include_usage': True}
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from anyfast_core.errors import InvalidParameterError
from anyfast_core.types import TOOL_CHOICE_MODES, ChatRequest

REQUEST_PARAMS = frozenset(ChatRequest.model_fields) - {"messages", "stream", "extra_body"}
"""The documented request fields a framework model takes as settings or call parameters; the
adapter sets the messages and ``extra_body`` itself, and the calling method decides ``stream``."""

STREAM_ONLY_FIELDS = ("stream_options", "tool_stream")
"""Fields that shape how a stream is delivered and mean nothing for a whole answer."""


def chat_body(request: ChatRequest, stream: bool) -> dict[str, Any]:
    """The JSON body for ``request``, sent as a stream or not (the calling method decides, whatever
    ``request.stream`` says, so one request can serve both).

    A whole answer omits ``tool_stream`` and ``stream_options``: its tool calls arrive whole and its
    usage always comes, so leaving them out changes nothing the caller gets, while OpenAI-style
    servers reject ``stream_options`` without ``stream``. A stream asks for usage
    (``include_usage``) unless the caller said otherwise, so token counts arrive in both dialects.
    """
    body = request.to_body()
    body["stream"] = stream
    if stream:
        body.setdefault("stream_options", {"include_usage": True})
    else:
        for name in STREAM_ONLY_FIELDS:
            body.pop(name, None)
    return body


def split_params(params: Mapping[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """Documented request fields (:data:`REQUEST_PARAMS`, validated by :class:`ChatRequest`) apart
    from the others (sent as given in ``extra_body``).

    >>> split_params({"temperature": 0.5, "top_k": 3})
    ({'temperature': 0.5}, {'top_k': 3})
    """
    fields: dict[str, Any] = {}
    extra: dict[str, Any] = {}
    for key, value in params.items():
        (fields if key in REQUEST_PARAMS else extra)[key] = value
    return fields, extra


def tool_choice_on_wire(choice: str) -> str | dict[str, Any]:
    """A ``tool_choice`` string as the API takes it: ``auto``, ``none`` and ``required`` as they are,
    any other string as the name of the tool to call.

    >>> tool_choice_on_wire("search")
    {'type': 'function', 'function': {'name': 'search'}}
    """
    return choice if choice in TOOL_CHOICE_MODES else {"type": "function", "function": {"name": choice}}


def thinking_param(thinking: bool | Mapping[str, Any] | None) -> dict[str, Any] | None:
    """GLM's ``thinking`` field from what users write: ``True``/``False`` as
    ``{"type": "enabled"|"disabled"}``, a mapping as given (copied), ``None`` as ``None`` (the
    server's default). Anything else raises, since truthiness would take ``"no"`` for on.

    >>> thinking_param(True)
    {'type': 'enabled'}
    >>> thinking_param(False)
    {'type': 'disabled'}
    >>> thinking_param({"type": "enabled", "clear_thinking": False})
    {'type': 'enabled', 'clear_thinking': False}
    """
    if thinking is None:
        return None
    if isinstance(thinking, bool):
        return {"type": "enabled" if thinking else "disabled"}
    if isinstance(thinking, Mapping):
        return dict(thinking)
    raise InvalidParameterError(
        f"thinking={thinking!r}: allowed: True, False, or {{'type': 'enabled'|'disabled', 'clear_thinking': bool}}"
    )


def wire_tool_call(call_id: str | None, name: str, arguments: str | dict[str, Any]) -> dict[str, Any]:
    """An assistant's tool call as it goes back on the wire. Text arguments stay verbatim (they are
    what the model wrote); a dict becomes JSON text, non-ASCII kept as is.

    >>> wire_tool_call("call_1", "weather", {"city": "Zürich"})
    {'id': 'call_1', 'type': 'function', 'function': {'name': 'weather', 'arguments': '{"city": "Zürich"}'}}
    """
    text = arguments if isinstance(arguments, str) else json.dumps(arguments, ensure_ascii=False)
    return {"id": call_id or "", "type": "function", "function": {"name": name, "arguments": text}}


def encode_json(body: Any) -> bytes:
    """Compact JSON bytes, keys in insertion order (so bodies are stable for cassettes)."""
    try:
        return json.dumps(body, ensure_ascii=False, separators=(",", ":"), allow_nan=False).encode()
    except (TypeError, ValueError) as exc:
        raise InvalidParameterError(f"The request body is not JSON-serialisable: {exc}") from None
