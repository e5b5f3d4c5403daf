"""Core errors as LangChain's standard model errors, still catchable as the core's.

Each class has the name of the core error it stands for (so a failure has one name in both adapters:
LlamaIndex raises the core's classes themselves), inherits it first (its ``is_retryable``,
``status_code``, ``code``, ``request_id`` and ``partial`` rule) and the matching
``langchain_core.exceptions`` type second. Every failure of a call is a ``langchain_core`` ``Model*Error``
(streamed or not), and ``except anyfast_core.RateLimitError`` and ``except ModelRateLimitError`` both work::

    try:
        model.invoke("Hi")
    except ContextOverflowError:
        ...  # trim the history and retry
"""

from __future__ import annotations

from langchain_core.exceptions import (
    ContextOverflowError,
    ModelAPIError,
    ModelAuthenticationError,
    ModelConnectionError,
    ModelError,
    ModelInvalidRequestError,
    ModelNotFoundError,
    ModelPermissionDeniedError,
    ModelRateLimitError,
    ModelRefusalError,
    ModelTimeoutError,
)

import anyfast_core as core


class ContextWindowExceededError(core.ContextWindowExceededError, ContextOverflowError):
    """The conversation does not fit the model's context window (1261, or a 1210 about the context length)."""


class ContentFilterError(core.ContentFilterError, ModelRefusalError, ModelInvalidRequestError):
    """Content safety blocked the input (1301) or the output (finish reason ``sensitive``)."""


class BadRequestError(core.BadRequestError, ModelInvalidRequestError):
    """The server rejected a parameter (400; 1210, 1213-1215)."""


class MissingAPIKeyError(core.MissingAPIKeyError, ModelAuthenticationError):
    """No key configured (raised before any request)."""


class AuthenticationError(core.AuthenticationError, ModelAuthenticationError):
    """The key is invalid or expired (401; 1000-1004)."""


class PermissionDeniedError(core.PermissionDeniedError, ModelPermissionDeniedError):
    """The account may not use this model or endpoint (403; 1110-1121)."""


class NotFoundError(core.NotFoundError, ModelNotFoundError):
    """Unknown model or path (404, 1211), or a gateway with no route for the model."""


class RateLimitError(core.RateLimitError, ModelRateLimitError):
    """Too many requests (429; 1302, 1303, 1305), after the client's own retries."""


class QuotaExceededError(core.QuotaExceededError, ModelRateLimitError):
    """Balance, usage limit or plan exhausted (1113, 1304, 1308-1310, ``insufficient_quota``): never retried."""


class UpstreamModelError(core.UpstreamModelError, ModelAPIError):
    """Inference failed upstream (finish reason ``network_error``, ``abort``, or ``tool_calls`` without a call)."""


class ServerError(core.ServerError, ModelAPIError):
    """The server or gateway failed (5xx), after the client's own retries."""


class APIStatusError(core.APIStatusError, ModelAPIError):
    """Any other error the server answered with (an error object under 200 too)."""


class StreamIdleTimeoutError(core.StreamIdleTimeoutError, ModelTimeoutError):
    """The stream went silent for ``stream_idle_timeout`` seconds; ``partial`` holds what arrived."""


class APITimeoutError(core.APITimeoutError, ModelTimeoutError):
    """The request timed out."""


class APIConnectionError(core.APIConnectionError, ModelConnectionError):
    """The server could not be reached."""


class StreamInterruptedError(core.StreamInterruptedError, ModelConnectionError):
    """The stream did not finish (cut, or no finish reason); ``partial`` holds what arrived."""


class StreamEventError(core.StreamEventError, ModelAPIError):
    """The server reported an error in the middle of a stream."""


class MalformedResponseError(core.MalformedResponseError, ModelAPIError):
    """The server sent something that is not the documented JSON."""


# Most specific first: the first core class the error is an instance of wins.
_MAPPING: tuple[tuple[type[core.AnyFastError], type[core.AnyFastError]], ...] = (
    (core.ContextWindowExceededError, ContextWindowExceededError),
    (core.ContentFilterError, ContentFilterError),
    (core.BadRequestError, BadRequestError),
    (core.MissingAPIKeyError, MissingAPIKeyError),
    (core.AuthenticationError, AuthenticationError),
    (core.PermissionDeniedError, PermissionDeniedError),
    (core.NotFoundError, NotFoundError),
    (core.RateLimitError, RateLimitError),
    (core.QuotaExceededError, QuotaExceededError),
    (core.UpstreamModelError, UpstreamModelError),
    (core.ServerError, ServerError),
    (core.APIStatusError, APIStatusError),
    (core.StreamIdleTimeoutError, StreamIdleTimeoutError),
    (core.APITimeoutError, APITimeoutError),
    (core.APIConnectionError, APIConnectionError),
    (core.StreamInterruptedError, StreamInterruptedError),
    (core.StreamEventError, StreamEventError),
    (core.MalformedResponseError, MalformedResponseError),
)


def to_langchain_error(error: core.AnyFastError) -> core.AnyFastError:
    """The LangChain-typed twin of a core error (the error itself if it has none, e.g. the
    ``ValueError`` raised for invalid parameters)."""
    if isinstance(error, ModelError):
        return error
    for core_type, lc_type in _MAPPING:
        if isinstance(error, core_type):
            twin = lc_type(
                error.message,
                status_code=error.status_code,
                code=error.code,
                type=error.type,
                request_id=error.request_id,
                partial=error.partial,
            )
            twin.is_retryable = error.is_retryable  # e.g. a read timeout the core chose not to retry
            if isinstance(error, core.APIStatusError) and isinstance(twin, core.APIStatusError):
                twin.retry_after = error.retry_after  # how long the server asked callers to wait
            return twin
    return error
