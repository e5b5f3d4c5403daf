"""Pure conversions between requests, responses and the wire: no I/O, shared by both clients.

>>> request = ChatRequest.create(model="glm-5.2", messages=[{"role": "user", "content": "Hi"}], tool_stream=True)
>>> chat_body(request, stream=False)
{'model': 'glm-5.2', 'messages': [{'role': 'user', 'content': 'Hi'}], 'stream': False}
>>> chat_body(request, stream=True)["stream_options"]
{'include_usage': True}
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from pydantic import SecretStr, ValidationError
from pydantic_core import from_json

from anyfast_core.errors import (
    AnyFastError,
    APIConnectionError,
    APITimeoutError,
    ContentFilterError,
    ContextWindowExceededError,
    InvalidParameterError,
    MalformedResponseError,
    StreamEventError,
    UpstreamModelError,
    _code,
    _str,
    error_class,
    error_from_response,
    parse_error_body,
)
from anyfast_core.types import TOOL_CHOICE_MODES, ChatCompletion, ChatRequest, ModelInfo

if TYPE_CHECKING:
    import httpx

REQUEST_PARAMS = frozenset(ChatRequest.model_fields) - {"messages", "stream", "extra_body"}
"""The documented request fields a framework model takes as settings or call parameters; the
adapter sets the messages and ``extra_body`` itself, and the calling method decides ``stream``."""

STREAM_ONLY_FIELDS = ("stream_options", "tool_stream")
"""Fields that shape how a stream is delivered and mean nothing for a whole answer."""

_HARD_FINISH_REASONS: dict[str, tuple[type[AnyFastError], str]] = {
    "sensitive": (ContentFilterError, "content safety blocked the output"),
    "model_context_window_exceeded": (ContextWindowExceededError, "the conversation exceeded the model's context"),
    "network_error": (UpstreamModelError, "inference failed upstream"),
}


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


_FENCE = re.compile(r"```[ \t]*(?:json|JSON)?[ \t]*\n?(.*?)```", re.DOTALL)


def json_from_text(text: str) -> Any:
    """The JSON in a model's text answer: the whole text, else the first markdown code fence that
    parses, else the first object in the prose (braces in strings and broken fragments before it
    tolerated). Raises ``ValueError`` quoting the (clipped) text when there is none.

    Both adapters read JSON-mode answers, and forced tool calls answered in text, through this.

    >>> json_from_text('Here you go:\\n```json\\n{"a": 1}\\n```')
    {'a': 1}
    >>> json_from_text('{broken} then {"a": {"b": "}"}} -- done')
    {'a': {'b': '}'}}
    """
    stripped = text.strip()
    try:
        return json.loads(stripped)
    except ValueError:
        pass
    for match in _FENCE.finditer(stripped):
        try:
            return json.loads(match.group(1).strip())
        except ValueError:
            continue
    decoder = json.JSONDecoder()
    start = stripped.find("{")
    while start != -1:
        try:
            return decoder.raw_decode(stripped, start)[0]
        except ValueError:
            start = stripped.find("{", start + 1)
    clipped = text if len(text) <= 300 else text[:297] + "..."
    raise ValueError(f"The model's answer holds no JSON object: {clipped!r}")


SCHEMA_INSTRUCTION = (
    "Answer with a single JSON object that conforms to the JSON schema below. Output only the JSON object: "
    "no prose, no markdown code fence.\nJSON schema:\n"
)
"""What :func:`schema_in_prompt` says before the schema."""


def schema_in_prompt(messages: list[dict[str, Any]], schema: Mapping[str, Any]) -> list[dict[str, Any]]:
    """Wire ``messages`` with ``schema`` stated in the system prompt, for JSON answers on an API whose
    only JSON response format is ``json_object``. A new list; the given messages are left unchanged.

    The instruction goes after a leading system message's text, or in a new system message first.
    The system prompt, not the user's turn, because it is where GLM takes standing instructions, it
    stays the same from turn to turn (a cached prefix), and the user's words stay their own. The
    schema is written as compact JSON in its own key order: a model writes fields in the order it
    reads them.

    >>> schema = {"type": "object", "properties": {"a": {"type": "integer"}}}
    >>> messages = [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "Hi"}]
    >>> print(schema_in_prompt(messages, schema)[0]["content"])
    Be brief.
    <BLANKLINE>
    Answer with a single JSON object that conforms to the JSON schema below. Output only the JSON object: ...
    JSON schema:
    {"type": "object", "properties": {"a": {"type": "integer"}}}
    """
    instruction = SCHEMA_INSTRUCTION + json.dumps(schema, ensure_ascii=False)
    first = messages[0] if messages else {}
    if first.get("role") != "system":
        return [{"role": "system", "content": instruction}, *messages]
    content = first.get("content")
    if isinstance(content, list):
        content = [*content, {"type": "text", "text": "\n\n" + instruction}]
    else:
        content = f"{content}\n\n{instruction}" if content else instruction
    return [{**first, "content": content}, *messages[1:]]


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


def _json_object(content: bytes, what: str, status_code: int) -> dict[str, Any]:
    try:
        data = from_json(content)
    except ValueError:
        data = None
    if not isinstance(data, dict):
        raise MalformedResponseError(f"Expected {what} (a JSON object), got {content[:200]!r}", status_code=status_code)
    return data


def is_json_response(response: httpx.Response) -> bool:
    """Whether a stream request was answered with one JSON body instead of an event stream."""
    return "json" in response.headers.get("content-type", "")


def _is_error_object(data: Any) -> bool:
    """A JSON body that is an error object (under 200 too), not an answer that mentions one."""
    return isinstance(data, dict) and bool(data.get("error")) and not data.get("choices")


def response_error(response: httpx.Response, stream: bool) -> AnyFastError | None:
    """The error a response stands for, or ``None`` if it is a success to hand over.

    The body of an error status, and of a stream request answered with JSON, has been read.
    A stream request answered with a JSON error object under 200 is an error here, so that
    ``stream()`` raises it like any other; a whole answer's body is checked by ``parse_completion``.
    """
    if response.is_success and not (stream and is_json_response(response) and _is_error_body(response.content)):
        return None
    return error_from_response(response.status_code, response.content, response.headers)


def _is_error_body(content: bytes) -> bool:
    try:
        return _is_error_object(from_json(content))
    except ValueError:
        return False


def parse_completion(response: httpx.Response) -> ChatCompletion:
    """A 2xx body as a completion; an error object under 200 raises its typed error."""
    data = _json_object(response.content, "a chat completion", response.status_code)
    if _is_error_object(data):
        raise error_from_response(response.status_code, data, response.headers)
    try:
        completion = ChatCompletion.model_validate(data)
    except ValidationError as exc:
        raise MalformedResponseError(
            f"Unexpected chat completion shape: {exc}", status_code=response.status_code
        ) from None
    if not completion.choices:
        raise MalformedResponseError(
            f"The chat completion has no choices: {response.content[:200]!r}", status_code=response.status_code
        )
    if completion.request_id is None:
        completion.request_id = response.headers.get("x-request-id") or completion.id or None
    return completion


def parse_models(response: httpx.Response) -> list[ModelInfo]:
    """A ``GET /models`` body as model descriptions."""
    data = _json_object(response.content, "a model list", response.status_code)
    items = data.get("data")
    try:
        if not isinstance(items, list):
            raise TypeError("'data' is not a list")
        return [ModelInfo.model_validate(item) for item in items]
    except (TypeError, ValidationError) as exc:
        raise MalformedResponseError(f"Unexpected model list shape: {exc}", status_code=response.status_code) from None


def raise_for_finish_reason(completion: ChatCompletion) -> None:
    """Finish reasons that mean the answer is not an answer raise the matching error.

    ``sensitive`` -> :class:`ContentFilterError`, ``model_context_window_exceeded`` ->
    :class:`ContextWindowExceededError`, ``network_error`` -> :class:`UpstreamModelError`. The
    partial completion rides along as ``error.partial``. ``length`` and unknown reasons return
    normally: the caller sees them in the finish reason.
    """
    reason = completion.finish_reason
    hard = _HARD_FINISH_REASONS.get(reason or "")
    if hard is None:
        return
    cls, explanation = hard
    raise cls(
        f"The model stopped with finish_reason={reason!r}: {explanation}.",
        status_code=200,
        code=reason,
        type="finish_reason",
        request_id=completion.request_id or completion.id or None,
        partial=completion,
    )


def parse_chunk(payload: bytes) -> dict[str, Any]:
    """One SSE data payload as a chunk dict; error events and non-JSON raise typed errors."""
    try:
        chunk = from_json(payload)
    except ValueError:
        raise MalformedResponseError(f"Malformed stream event (not JSON): {payload[:200]!r}") from None
    if not isinstance(chunk, dict):
        raise MalformedResponseError(f"Malformed stream event (not an object): {payload[:200]!r}")
    if chunk.get("error"):
        error = parse_error_body(chunk)
        code = _code(error.get("code"))
        kind = error_class(200, code).__name__
        raise StreamEventError(
            f"The server reported an error mid-stream ({kind}): {error.get('message') or chunk['error']}",
            status_code=200,
            code=code,
            type=_str(error.get("type")),
            request_id=error.get("request_id") if isinstance(error.get("request_id"), str) else None,
        )
    return chunk


def completion_as_chunk(data: dict[str, Any]) -> dict[str, Any]:
    """A whole completion (a server that ignored ``stream: true``) as the one chunk that carries it."""
    choice = data["choices"][0]
    return {
        "id": data.get("id"),
        "model": data.get("model"),
        "created": data.get("created"),
        "choices": [{"index": 0, "delta": choice.get("message") or {}, "finish_reason": choice.get("finish_reason")}],
        "usage": data.get("usage"),
    }


def transport_error(exc: httpx.HTTPError, timeout: httpx.Timeout) -> AnyFastError:
    """An httpx failure as our error. Connect and pool timeouts and connection failures are
    retryable; read and write timeouts are not (the server may be working on the request, and a
    second try would pay twice); a body that will not decode is malformed, not a network failure."""
    import httpx  # only the clients call this, and they have imported it: the adapters' imports need not

    if isinstance(exc, httpx.TimeoutException):
        phase, seconds = {
            httpx.ConnectTimeout: ("connect", timeout.connect),
            httpx.ReadTimeout: ("read", timeout.read),
            httpx.WriteTimeout: ("write", timeout.write),
            httpx.PoolTimeout: ("pool", timeout.pool),
        }.get(type(exc), ("request", timeout.read))
        error: AnyFastError = APITimeoutError(
            f"The request timed out ({phase} timeout of {seconds}s); raise timeout=... if the model needs longer."
        )
        error.is_retryable = phase in ("connect", "pool")
        return error
    if isinstance(exc, httpx.TransportError):
        return APIConnectionError(f"Could not reach AnyFast: {type(exc).__name__}: {exc}")
    return MalformedResponseError(f"The response could not be read: {type(exc).__name__}: {exc}")


def redact(error: AnyFastError, api_key: SecretStr | None) -> AnyFastError:
    """``error`` with every occurrence of the key replaced, in case a server echoed it back."""
    key = api_key.get_secret_value() if api_key is not None else ""
    if key and key in error.message:
        error.message = error.message.replace(key, "**********")
        error.args = (error.message,)
    return error
