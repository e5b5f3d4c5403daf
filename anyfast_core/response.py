"""Reading what the server sent: completions, stream events, model lists, and the errors they stand for.

Pure functions over bodies and responses already received; the clients do the I/O.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

from pydantic import SecretStr, ValidationError
from pydantic_core import from_json

from anyfast_core.errors import (
    AnyFastError,
    APIStatusError,
    BadRequestError,
    ContentFilterError,
    ContextWindowExceededError,
    MalformedResponseError,
    ServerError,
    StreamEventError,
    UpstreamModelError,
    classify,
    error_code,
    error_from_response,
    optional_text,
    parse_error_body,
    request_id_of,
    summarise_text,
)
from anyfast_core.reasoning import reasoning_of, split_think
from anyfast_core.types import ChatCompletion, ModelInfo, ResponseMessage

if TYPE_CHECKING:
    import httpx

_HARD_FINISH_REASONS: dict[str, tuple[type[AnyFastError], str]] = {
    "sensitive": (ContentFilterError, "content safety blocked the output"),
    "model_context_window_exceeded": (ContextWindowExceededError, "the conversation exceeded the model's context"),
    "network_error": (UpstreamModelError, "inference failed upstream"),
    "abort": (UpstreamModelError, "inference was aborted upstream"),
}


def _json_object(content: bytes, what: str, status_code: int) -> dict[str, Any]:
    try:
        data = from_json(content)
    except ValueError:
        data = None
    if not isinstance(data, dict):
        raise MalformedResponseError(
            f"Expected {what} (a JSON object), got {_quoted(content)}", status_code=status_code
        )
    return data


def _quoted(content: bytes) -> str:
    """What came instead of JSON, short: a proxy's HTML page by its title, anything else as bytes."""
    summary = summarise_text(content)
    return summary if summary.startswith("an HTML page") else repr(content[:200])


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
    for choice in completion.choices:
        normalise_reasoning(choice.message)
    if completion.request_id is None:
        completion.request_id = response.headers.get("x-request-id") or completion.id or None
    return completion


def normalise_reasoning(message: ResponseMessage) -> None:
    """Move reasoning sent in another carrier into ``reasoning_content``: a ``reasoning`` field, or a
    leading ``<think>…</think>`` block in ``content`` (which then holds the answer only).

    >>> message = ResponseMessage(content="<think>Easy.</think>\\n\\n4")
    >>> normalise_reasoning(message)
    >>> message.reasoning_content, message.content
    ('Easy.', '4')
    """
    reasoning = message.reasoning_content or ""
    if not reasoning and message.model_extra:
        reasoning = reasoning_of(message.model_extra)
    if message.content:
        inlined, answer = split_think(message.content)
        if inlined:
            reasoning = f"{reasoning}\n\n{inlined}" if reasoning else inlined
            message.content = answer
    if reasoning:
        message.reasoning_content = reasoning


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
    :class:`ContextWindowExceededError`, ``network_error`` and ``abort`` (inference failed upstream)
    -> :class:`UpstreamModelError`, and so does ``tool_calls`` without any tool call (recorded from
    GLM-5.2: there is nothing to run and no answer). The partial completion rides along as
    ``error.partial``. ``length`` and unknown reasons return normally: the caller sees them in the
    finish reason.
    """
    reason = completion.finish_reason
    hard = _HARD_FINISH_REASONS.get(reason or "")
    if hard is not None:
        cls, explanation = hard
        message = f"The model stopped with finish_reason={reason!r}: {explanation}."
    elif reason == "tool_calls" and not completion.message.tool_calls:
        cls = UpstreamModelError
        message = "The model stopped with finish_reason='tool_calls' but sent no tool call: it is not an answer."
    else:
        return
    raise cls(
        message,
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
        raise stream_event_error(chunk)
    return chunk


def stream_event_error(event: dict[str, Any]) -> AnyFastError:
    """An error event sent in a stream under HTTP 200 (``data: {"error": {...}}``) as its typed error:
    a code or type that names the failure (1261, 1301, ``insufficient_quota``…) gives that class,
    anything else a :class:`StreamEventError`. The server's message is kept.

    >>> stream_event_error({"error": {"code": "1301", "message": "Unsafe content"}}).__class__.__name__
    'ContentFilterError'
    >>> str(stream_event_error({"error": {"message": "upstream failed", "type": "server_error"}}))
    'The server reported an error mid-stream: upstream failed'
    """
    error = parse_error_body(event)
    code = error_code(error.get("code"))
    type_ = optional_text(error.get("type"))
    message = str(error.get("message") or event["error"])
    cls: type[AnyFastError] = classify(200, code, type_, message)
    if cls in (APIStatusError, ServerError, BadRequestError) and code not in _NAMED_BAD_REQUESTS:
        cls = StreamEventError  # the event names no more specific failure than "it failed"
    request_id = request_id_of(error)
    return cls(
        f"The server reported an error mid-stream: {message}",
        status_code=200,
        code=code,
        type=type_,
        request_id=request_id,
    )


_NAMED_BAD_REQUESTS = frozenset({"1210", "1213", "1214", "1215"})


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


REDACT_MIN_LENGTH = 8
"""Keys shorter than this are not masked. Real AnyFast keys are long random tokens; a test key such as
``"k"`` or ``"test"`` is no secret, and masking it would mangle every message that contains the letters
("Invalid API **********ey provided")."""

_KEY_CHAR = "A-Za-z0-9"


def redact(error: AnyFastError, api_key: SecretStr | None) -> AnyFastError:
    """``error`` with every whole occurrence of the key masked, in case a server echoed it back.

    Only the key as a token of its own is masked (not where it is part of a longer run of letters and
    digits), and only a key of at least :data:`REDACT_MIN_LENGTH` characters, so ordinary text is never
    mangled.

    >>> from anyfast_core.errors import AuthenticationError
    >>> redact(AuthenticationError("Invalid key sk-0123456789 provided"), SecretStr("sk-0123456789")).message
    'Invalid key ********** provided'
    >>> redact(AuthenticationError("Invalid API key provided"), SecretStr("k")).message
    'Invalid API key provided'
    """
    key = api_key.get_secret_value() if api_key is not None else ""
    if len(key) < REDACT_MIN_LENGTH or key not in error.message:
        return error
    whole = re.compile(f"(?<![{_KEY_CHAR}]){re.escape(key)}(?![{_KEY_CHAR}])")
    error.message = whole.sub("**********", error.message)
    error.args = (error.message,)
    return error
