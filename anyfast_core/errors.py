"""One error hierarchy for everything that can go wrong talking to AnyFast.

Errors carry what the server said (status, code, type, message, request id) and never the API key.
Adapters map them onto their framework's types; the core keeps them plain::

    AnyFastError
    ├── InvalidParameterError (also ValueError)   bad input, raised before any request
    ├── APIConnectionError                       network failure; APITimeoutError below it
    ├── MalformedResponseError                   a body or SSE line that is not the documented JSON
    ├── StreamError                              StreamEventError, StreamInterruptedError
    └── APIStatusError                           the server answered with an error
        ├── BadRequestError                      400; ContextWindowExceededError, ContentFilterError
        ├── AuthenticationError                  401; MissingAPIKeyError (no key configured)
        ├── PermissionDeniedError                403
        ├── NotFoundError                        404
        ├── RateLimitError                       429 rate limit (1302): retried
        ├── QuotaExceededError                   429 balance (1113) or usage cap (1308): never retried
        └── ServerError                          5xx; UpstreamModelError (finish reason network_error)
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

CONTEXT_OVERFLOW_CODES = frozenset({"1210"})
CONTENT_FILTER_CODES = frozenset({"1301"})
QUOTA_CODES = frozenset({"1113", "1308"})
RETRYABLE_STATUS = frozenset({408, 429, 500, 502, 503, 504})
"""Statuses worth another try, unless the error code says otherwise (e.g. 429 with a quota code)."""

_REQUEST_ID_IN_MESSAGE = re.compile(r"\(request id: ([^)]+)\)")


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


class MalformedResponseError(AnyFastError):
    """The server sent something that is not the documented JSON (a body or an SSE line)."""


class StreamError(AnyFastError):
    """A stream failed after it had started."""


class StreamEventError(StreamError):
    """The server sent an error event in the middle of a stream (``data: {"error": ...}``)."""


class StreamInterruptedError(StreamError):
    """The stream closed before ``data: [DONE]``: what arrived (``partial``) is not an answer."""


class APIStatusError(AnyFastError):
    """The server answered with an error status (or an error body under 200).

    ``retry_after`` is the wait in seconds the server asked for (``Retry-After``), if it asked.
    """

    retry_after: float | None = None


class BadRequestError(APIStatusError):
    """400: a parameter the server rejected."""


class ContextWindowExceededError(BadRequestError):
    """The prompt does not fit the model's context (code 1210, or finish reason
    ``model_context_window_exceeded``)."""


class ContentFilterError(BadRequestError):
    """Content safety blocked the input or output (code 1301, or finish reason ``sensitive``)."""


class AuthenticationError(APIStatusError):
    """401: the key is missing or invalid."""


class MissingAPIKeyError(AuthenticationError):
    """No key was configured; raised locally, before any request."""


class PermissionDeniedError(APIStatusError):
    """403: the key may not use this model or endpoint."""


class NotFoundError(APIStatusError):
    """404: unknown model or path."""


class RateLimitError(APIStatusError):
    """429: too many requests; retried honouring ``Retry-After``."""

    is_retryable = True


class QuotaExceededError(APIStatusError):
    """429 with code 1113 (insufficient balance) or 1308 (usage cap): retrying will not help."""


class ServerError(APIStatusError):
    """5xx: the server or gateway failed."""

    is_retryable = True


class UpstreamModelError(ServerError):
    """Inference failed upstream (finish reason ``network_error``)."""

    is_retryable = False


_BY_STATUS: dict[int, type[APIStatusError]] = {
    400: BadRequestError,
    401: AuthenticationError,
    403: PermissionDeniedError,
    404: NotFoundError,
    422: BadRequestError,
}


def parse_error_body(body: bytes | str | Mapping[str, Any] | None) -> dict[str, Any]:
    """The ``error`` object of a body, tolerant of every shape seen: ``{"error": {...}}``, a bare
    ``{"message": ...}``, a string ``error``, or text that is not JSON at all."""
    data: Any = body
    if isinstance(body, (bytes, str)):
        try:
            data = json.loads(body) if body else None
        except ValueError:
            text = body.decode("utf-8", "replace") if isinstance(body, bytes) else body
            return {"message": text.strip()[:500]}
    if not isinstance(data, Mapping):
        return {}
    error = data.get("error", data)
    if isinstance(error, str):
        error = {"message": error}
    if not isinstance(error, Mapping):
        return {}
    parsed = dict(error)
    if "request_id" not in parsed and isinstance(data.get("request_id"), str):
        parsed["request_id"] = data["request_id"]
    return parsed


def error_from_response(
    status_code: int,
    body: bytes | str | Mapping[str, Any] | None,
    headers: Mapping[str, str] | None = None,
) -> APIStatusError:
    """Build the typed error for an error response; the class follows the status, refined by code."""
    error = parse_error_body(body)
    code = error_code(error.get("code"))
    message = str(error.get("message") or error.get("detail") or f"HTTP {status_code} with no error message")
    request_id = _request_id(error, message, headers)
    cls = error_class(status_code, code)
    if cls is AuthenticationError:
        message = f"{message} Check the key passed as api_key or set in ANYFAST_API_KEY."
    elif cls is QuotaExceededError:
        message = f"{message} (insufficient balance or usage cap: retrying will not help)"
    result = cls(
        message,
        status_code=status_code,
        code=code,
        type=optional_text(error.get("type")),
        request_id=request_id,
    )
    # The status says whether another try may help; a code that names a lasting condition (quota,
    # context overflow, content filter) overrides it, as does a status that is an error but not a
    # passing one (501 Not Implemented will not start working in a second).
    result.is_retryable = status_code in RETRYABLE_STATUS and cls in (APIStatusError, RateLimitError, ServerError)
    if headers is not None:
        result.retry_after = retry_after_seconds(headers)
    return result


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


def error_class(status_code: int, code: str | None) -> type[APIStatusError]:
    """The error class for a status and an error code (codes refine what the status says)."""
    if code in CONTEXT_OVERFLOW_CODES:
        return ContextWindowExceededError
    if code in CONTENT_FILTER_CODES:
        return ContentFilterError
    if code in QUOTA_CODES:
        return QuotaExceededError
    if status_code >= 500:
        return ServerError
    if status_code == 429:
        return RateLimitError
    return _BY_STATUS.get(status_code, APIStatusError)


def error_code(value: Any) -> str | None:
    """An error code as text (servers send numbers or strings); empty means none."""
    return None if value is None or value == "" else str(value)


def optional_text(value: Any) -> str | None:
    """A field as text, or ``None`` when absent."""
    return None if value is None else str(value)


def _request_id(error: Mapping[str, Any], message: str, headers: Mapping[str, str] | None) -> str | None:
    if isinstance(error.get("request_id"), str):
        return str(error["request_id"])
    if headers is not None:
        for name in ("x-request-id", "request-id"):
            if headers.get(name):
                return headers[name]
    match = _REQUEST_ID_IN_MESSAGE.search(message)
    return match.group(1) if match else None
