"""One error hierarchy for everything that can go wrong talking to AnyFast.

Errors carry what the server said (status, code, type, message, request id) and never the API key.
``str(error)`` is the server's message, with the request id appended when one was given and the
message does not already hold it. Adapters map them onto their framework's types; the core keeps
them plain::

    AnyFastError
    ├── InvalidParameterError (also ValueError)   bad input, raised before any request
    ├── APIConnectionError                       network failure
    │   └── APITimeoutError                      StreamIdleTimeoutError (a stream went silent)
    ├── MalformedResponseError                   a body or SSE line that is not the documented JSON
    ├── StreamError                              StreamEventError, StreamInterruptedError
    └── APIStatusError                           the server answered with an error
        ├── BadRequestError                      400, 1210, 1213-1215; ContextWindowExceededError (1261),
        │                                        ContentFilterError (1301)
        ├── AuthenticationError                  401, 1000-1004; MissingAPIKeyError (no key configured)
        ├── PermissionDeniedError                403, 1110-1121
        ├── NotFoundError                        404, 1211, a gateway's ``model_not_found``
        ├── RateLimitError                       429, 1302/1303/1305: retried honouring Retry-After
        ├── QuotaExceededError                   1113, 1304, 1308-1310, ``insufficient_(user_)quota``:
        │                                        never retried
        └── ServerError                          5xx; UpstreamModelError (finish reason network_error/abort)

How a failure is classified (:func:`classify`) follows the wire notes' "Errors" section: the error
code first (Z.ai's business codes, then a gateway's codes and types), then the status, then the
message where the code is ambiguous (a 1210 that speaks of the maximum context length).
"""

from __future__ import annotations

import json
import math
import re
import time
from collections.abc import Mapping
from datetime import timezone
from email.utils import parsedate_to_datetime
from typing import Any

RETRYABLE_STATUS = frozenset({408, 409, 429, 500, 502, 503, 504})
"""Statuses worth another try, unless the error code says otherwise (e.g. 429 with a quota code)."""

MESSAGE_LIMIT = 500
"""Longest server text quoted in an error message (a proxy's page can be megabytes)."""

_REQUEST_ID_IN_MESSAGE = re.compile(r"\(request id: ([^)]+)\)")
_CONTEXT_LENGTH_MESSAGE = re.compile(
    r"maximum context length|context[ _-]?(?:length|window)|prompt (?:is )?too long|prompt (?:tokens? )?exceeds?"
    r"|input (?:is )?too long|too many (?:input|prompt) tokens",
    re.IGNORECASE,
)
_HTML = re.compile(rb"^\s*(?:<!doctype\s+html|<html|<head|<body|<\?xml|<h1|<center)", re.IGNORECASE)
_HTML_TITLE = re.compile(r"<title[^>]*>(.*?)</title>", re.IGNORECASE | re.DOTALL)
_HTML_HEADING = re.compile(r"<h1[^>]*>(.*?)</h1>", re.IGNORECASE | re.DOTALL)
_HTML_DROP = re.compile(r"<(script|style)[^>]*>.*?</\1>", re.IGNORECASE | re.DOTALL)
_TAG = re.compile(r"<[^>]+>")
_SPACES = re.compile(r"\s+")


class AnyFastError(Exception):
    """Base of every error this package raises."""

    is_retryable = False

    def __init__(
        self,
        message: str,
        *,
        status_code: int | None = None,
        code: str | None = None,
        type: str | None = None,
        request_id: str | None = None,
        partial: Any = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.partial = partial
        """What had arrived before the failure (a partial completion), for diagnosis only."""
        self.status_code = status_code
        self.code = code
        self.type = type
        self.request_id = request_id

    def __str__(self) -> str:
        if self.request_id and self.request_id not in self.message:
            return f"{self.message} (request id: {self.request_id})"
        return self.message

    def __repr__(self) -> str:
        fields = ", ".join(
            f"{name}={value!r}"
            for name, value in (
                ("status_code", self.status_code),
                ("code", self.code),
                ("request_id", self.request_id),
            )
            if value is not None
        )
        return f"{type(self).__name__}({self.message!r}{', ' if fields else ''}{fields})"


class InvalidParameterError(AnyFastError, ValueError):
    """A request parameter is out of its documented range or of the wrong type."""


class APIConnectionError(AnyFastError):
    """The server could not be reached, or the connection broke before a response arrived."""

    is_retryable = True


class APITimeoutError(APIConnectionError):
    """The request did not complete within the configured timeout."""


class StreamIdleTimeoutError(APITimeoutError):
    """A stream went silent: no event within ``stream_idle_timeout`` seconds. ``partial`` holds what
    had arrived; the request is not re-sent (the server may still be generating, and paid for)."""

    is_retryable = False


class MalformedResponseError(AnyFastError):
    """The server sent something that is not the documented JSON (a body or an SSE line)."""


class StreamError(AnyFastError):
    """A stream failed after it had started."""


class StreamEventError(StreamError):
    """The server sent an error event in the middle of a stream (``data: {"error": ...}``) that names
    no more specific failure (a code such as 1301 raises :class:`ContentFilterError` instead)."""


class StreamInterruptedError(StreamError):
    """The stream did not finish: the connection closed, or ``[DONE]`` came without any chunk carrying
    a ``finish_reason`` (a gateway that lost its upstream). What arrived (``partial``) is not an answer."""


class APIStatusError(AnyFastError):
    """The server answered with an error status (or an error body under 200).

    ``retry_after`` is the wait in seconds the server asked for (``Retry-After``), if it asked.
    """

    retry_after: float | None = None


class BadRequestError(APIStatusError):
    """400 (codes 1210, 1213-1215): a parameter the server rejected."""


class ContextWindowExceededError(BadRequestError):
    """The prompt does not fit the model's context (code 1261, a 1210 about the maximum context
    length, or finish reason ``model_context_window_exceeded``)."""


class ContentFilterError(BadRequestError):
    """Content safety blocked the input or output (code 1301, or finish reason ``sensitive``)."""


class AuthenticationError(APIStatusError):
    """401 (codes 1000-1004): the key is missing, invalid or expired."""


class MissingAPIKeyError(AuthenticationError):
    """No key was configured; raised locally, before any request."""


class PermissionDeniedError(APIStatusError):
    """403 (codes 1110-1121 but 1113): the account may not use this model or endpoint."""


class NotFoundError(APIStatusError):
    """404 (code 1211): unknown model or path; also a gateway with no route for the model
    (``model_not_found``, under 503 too): a configuration matter, not retried."""


class RateLimitError(APIStatusError):
    """429 (codes 1302, 1303, 1305): too many requests; retried honouring ``Retry-After``."""

    is_retryable = True


class QuotaExceededError(APIStatusError):
    """Balance exhausted (1113), daily/weekly/monthly limits, usage cap or expired plan (1304, 1308,
    1309, 1310), a gateway's ``insufficient_user_quota``/``insufficient_quota``: retrying will not help."""


class ServerError(APIStatusError):
    """5xx: the server or gateway failed."""

    is_retryable = True


class UpstreamModelError(ServerError):
    """Inference failed upstream (finish reason ``network_error`` or ``abort``), or it ended in a way
    that is not an answer (``tool_calls`` without any tool call)."""

    is_retryable = False


# --------------------------------------------------------------------------- classification

_ZAI_CODES: dict[str, type[APIStatusError]] = {
    **dict.fromkeys(("1000", "1001", "1002", "1003", "1004"), AuthenticationError),
    **{str(code): PermissionDeniedError for code in range(1110, 1122)},
    "1113": QuotaExceededError,  # inside the account range, but it is the balance
    "1210": BadRequestError,  # unless the message speaks of the context length (see classify)
    "1211": NotFoundError,
    **dict.fromkeys(("1213", "1214", "1215"), BadRequestError),
    "1261": ContextWindowExceededError,
    "1301": ContentFilterError,
    **dict.fromkeys(("1302", "1303", "1305"), RateLimitError),
    **dict.fromkeys(("1304", "1308", "1309", "1310"), QuotaExceededError),
}
"""Z.ai's business codes (docs.z.ai, "API error codes") as error classes."""

_GATEWAY_CODES: dict[str, type[APIStatusError]] = {
    "insufficient_user_quota": QuotaExceededError,
    "insufficient_quota": QuotaExceededError,
    "model_not_found": NotFoundError,
    "context_length_exceeded": ContextWindowExceededError,
    "invalid_api_key": AuthenticationError,
    "rate_limit_exceeded": RateLimitError,
    "content_filter": ContentFilterError,
}
"""Codes and types that OpenAI-compatible gateways (new-api and its kind) use, in ``code`` or ``type``."""

_TYPES_WITHOUT_STATUS: dict[str, type[APIStatusError]] = {
    "invalid_request_error": BadRequestError,
    "authentication_error": AuthenticationError,
    "permission_error": PermissionDeniedError,
    "not_found_error": NotFoundError,
    "rate_limit_error": RateLimitError,
    "server_error": ServerError,
    "api_error": ServerError,
    "upstream_error": ServerError,
}
"""OpenAI-style error types, read only when the status says nothing (an error body under 200)."""

_BY_STATUS: dict[int, type[APIStatusError]] = {
    400: BadRequestError,
    401: AuthenticationError,
    403: PermissionDeniedError,
    404: NotFoundError,
    413: BadRequestError,
    422: BadRequestError,
    429: RateLimitError,
}


def classify(status_code: int, code: str | None, type: str | None = None, message: str = "") -> type[APIStatusError]:
    """The error class for a status, error code, error type and message, read together.

    >>> classify(400, "1210", message="Invalid temperature").__name__
    'BadRequestError'
    >>> classify(400, "1210", message="This model's maximum context length is 202752 tokens").__name__
    'ContextWindowExceededError'
    >>> classify(429, "1310").__name__, classify(429, "1302").__name__
    ('QuotaExceededError', 'RateLimitError')
    >>> classify(503, None, "model_not_found").__name__
    'NotFoundError'
    """
    cls = _ZAI_CODES.get(code or "")
    if cls is BadRequestError and code == "1210" and _CONTEXT_LENGTH_MESSAGE.search(message):
        return ContextWindowExceededError
    if cls is not None:
        return cls
    for name in (code, type):
        cls = _GATEWAY_CODES.get((name or "").lower())
        if cls is not None:
            return cls
    if status_code >= 500:
        return ServerError
    cls = _BY_STATUS.get(status_code)
    if cls is BadRequestError and _CONTEXT_LENGTH_MESSAGE.search(message):
        return ContextWindowExceededError
    if cls is not None:
        return cls
    if not 400 <= status_code < 600:  # an error object under 200: its type is all there is
        return _TYPES_WITHOUT_STATUS.get((type or "").lower(), APIStatusError)
    return APIStatusError


def error_class(status_code: int, code: str | None) -> type[APIStatusError]:
    """The error class for a status and a code alone (see :func:`classify` for the whole reading)."""
    return classify(status_code, code)


def parse_error_body(body: bytes | str | Mapping[str, Any] | None) -> dict[str, Any]:
    """The error object of a body as a dict with ``message`` (always a string when the body said
    anything), ``code``, ``type`` and ``request_id`` where given, whatever its shape:

    * Z.ai's and OpenAI's ``{"error": {"code": "1261", "message": "…"}}`` (a ``request_id`` beside it too);
    * a gateway's own ``{"error": {"message": "… (request id: …)", "type": "new_api_error", "code": ""}}``;
    * a bare ``{"code": 70000, "msg": "…"}`` (or ``message``/``detail``), and a string ``error``;
    * plain text, and a proxy's HTML page (summarised by its title, never quoted whole).

    >>> parse_error_body(b'{"code": 70000, "msg": "model busy"}')
    {'code': 70000, 'msg': 'model busy', 'message': 'model busy'}
    >>> parse_error_body(b"<html><head><title>502 Bad Gateway</title></head><body>nginx</body></html>")
    {'message': 'an HTML page from a proxy, not the API: 502 Bad Gateway'}
    """
    data: Any = body
    if isinstance(body, (bytes, str)):
        raw = body.encode("utf-8", "replace") if isinstance(body, str) else body
        try:
            data = json.loads(raw) if raw.strip() else None
        except ValueError:
            return {"message": summarise_text(raw)}
        if data is None:
            return {}
        if not isinstance(data, Mapping):
            return {"message": summarise_text(raw)} if raw.strip() not in (b"null", b"") else {}
    if not isinstance(data, Mapping):
        return {}
    error = data.get("error")
    if isinstance(error, str):
        error = {"message": error}
    elif not isinstance(error, Mapping) or not error:
        error = data  # a bare object: the error fields sit at the top level
    parsed = dict(error)
    message = _first_text(parsed, ("message", "msg", "detail", "error_msg", "error_message", "errmsg"))
    if message is None and parsed is not data:
        message = _first_text(data, ("message", "msg", "detail"))
    if message is not None:
        parsed["message"] = message
    else:
        parsed.pop("message", None)
    for name in ("code", "type"):
        if parsed.get(name) in (None, "") and data.get(name) not in (None, "") and parsed is not data:
            parsed[name] = data[name]
    if "request_id" not in parsed and isinstance(data.get("request_id"), str):
        parsed["request_id"] = data["request_id"]
    return parsed


def summarise_text(raw: bytes) -> str:
    """A non-JSON body as a short line: an HTML page by its title (or first heading, else its text),
    plain text as it is; at most :data:`MESSAGE_LIMIT` characters either way.

    >>> summarise_text(b"upstream connect error or disconnect/reset before headers")
    'upstream connect error or disconnect/reset before headers'
    """
    if _HTML.match(raw[:200]):
        page = raw[:65536].decode("utf-8", "replace")
        found = _HTML_TITLE.search(page) or _HTML_HEADING.search(page)
        text = found.group(1) if found else _HTML_DROP.sub(" ", page)
        import html  # only for a proxy's error page: its entity table is not worth loading with every import

        text = _SPACES.sub(" ", html.unescape(_TAG.sub(" ", text))).strip()
        return _clip(f"an HTML page from a proxy, not the API: {text or 'no title'}")
    text = raw.decode("utf-8", "replace").strip()
    return _clip(_SPACES.sub(" ", text) if "\n" in text else text)


def error_from_response(
    status_code: int,
    body: bytes | str | Mapping[str, Any] | None,
    headers: Mapping[str, str] | None = None,
) -> APIStatusError:
    """The typed error for an error response (or an error object under 200), classified by
    :func:`classify`. The server's message is kept as it came (a body without one is quoted)."""
    error = parse_error_body(body)
    code = error_code(error.get("code"))
    type_ = optional_text(error.get("type"))
    message = error.get("message")
    if not message:
        message = f"HTTP {status_code} with no error message"
        quoted = _quote_body(body)
        if quoted:
            message = f"HTTP {status_code}: {quoted}"
    cls = classify(status_code, code, type_, message)
    hint = _HINTS.get(cls)
    if cls is NotFoundError and status_code >= 500:
        hint = "(the gateway has no route for this model: check the model id; retrying will not help)"
    if hint:
        message = f"{message} {hint}"
    result = cls(message, status_code=status_code, code=code, type=type_, request_id=request_id_of(error, headers))
    result.is_retryable = is_retryable(cls, status_code)
    if headers is not None:
        result.retry_after = retry_after_seconds(headers)
    return result


_HINTS: dict[type[APIStatusError], str] = {
    AuthenticationError: "Check the key passed as api_key or set in ANYFAST_API_KEY.",
    QuotaExceededError: "(insufficient balance, or a usage limit or plan limit reached: retrying will not help)",
    ContextWindowExceededError: "(the prompt does not fit the model's context: shorten the conversation)",
}


def is_retryable(cls: type[APIStatusError], status_code: int) -> bool:
    """Whether an error of class ``cls`` under ``status_code`` may pass on another try: rate limits
    (whatever the status: the code said so), and server errors or other errors under a passing status
    (408, 409, 5xx but 501); never quota, authentication, bad requests, not-found or content filtering.

    >>> is_retryable(RateLimitError, 429), is_retryable(QuotaExceededError, 429), is_retryable(ServerError, 501)
    (True, False, False)
    """
    if cls is RateLimitError:
        return True
    return status_code in RETRYABLE_STATUS and cls in (APIStatusError, ServerError)


def retry_after_seconds(headers: Mapping[str, str]) -> float | None:
    """``retry-after-ms`` or ``Retry-After`` (seconds or an HTTP date) in seconds; ``None`` if absent
    or unreadable.

    >>> retry_after_seconds({"retry-after": "2"})
    2.0
    """
    millis = headers.get("retry-after-ms")
    if millis:
        try:
            return max(0.0, float(millis) / 1000)
        except ValueError:
            pass
    value = headers.get("retry-after")
    if not value:
        return None
    try:
        seconds = float(value)
    except ValueError:
        try:
            when = parsedate_to_datetime(value)
        except (TypeError, ValueError, IndexError, OverflowError):
            return None
        if when.tzinfo is None:  # "-0000" dates parse naive; HTTP dates are always UTC
            when = when.replace(tzinfo=timezone.utc)
        seconds = when.timestamp() - time.time()
    return max(0.0, seconds) if math.isfinite(seconds) else None


def _first_text(data: Mapping[str, Any], names: tuple[str, ...]) -> str | None:
    for name in names:
        value = data.get(name)
        if isinstance(value, str) and value.strip():
            return _clip(value.strip())
    return None


def _quote_body(body: bytes | str | Mapping[str, Any] | None) -> str:
    """A body that carried no message, quoted short, so whatever the server said reaches the user."""
    if body is None:
        return ""
    if isinstance(body, Mapping):
        try:
            text = json.dumps(body, ensure_ascii=False, default=str)
        except ValueError:
            text = str(body)
    else:
        text = body.decode("utf-8", "replace") if isinstance(body, bytes) else body
    text = text.strip()
    return "" if text in ("", "{}", "null") else _clip(_SPACES.sub(" ", text))


def _clip(text: str) -> str:
    return text if len(text) <= MESSAGE_LIMIT else text[: MESSAGE_LIMIT - 3] + "..."


def error_code(value: Any) -> str | None:
    """An error code as text (servers send numbers or strings); empty means none."""
    return None if value is None or value == "" else str(value)


def optional_text(value: Any) -> str | None:
    """A field as text, or ``None`` when absent or empty."""
    return None if value is None or value == "" else str(value)


def request_id_of(error: Mapping[str, Any], headers: Mapping[str, str] | None = None) -> str | None:
    """The request id an error names: its ``request_id`` (or one beside it), a "(request id: …)" in its
    message, else a request-id response header."""
    if isinstance(error.get("request_id"), str) and error["request_id"]:
        return str(error["request_id"])
    match = _REQUEST_ID_IN_MESSAGE.search(str(error.get("message") or ""))
    if match:
        return match.group(1).strip()
    if headers is not None:
        for name in ("x-request-id", "request-id", "x-oneapi-request-id", "x-new-api-request-id"):
            if headers.get(name):
                return headers[name]
    return None
