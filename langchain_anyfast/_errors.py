"""Core errors as LangChain's standard model errors, still catchable as the core's.

Each class inherits the core error first (its ``is_retryable``, ``status_code``, ``code``,
``request_id`` and ``partial`` rule) and the matching ``langchain_core.exceptions`` type second, so
both ``except anyfast_core.RateLimitError`` and ``except ModelRateLimitError`` work::

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


class AnyFastContextOverflowError(core.ContextWindowExceededError, ContextOverflowError):
    """The conversation does not fit the model's context window."""


class AnyFastContentFilterError(core.ContentFilterError, ModelRefusalError, ModelInvalidRequestError):
    """Content safety blocked the input (400, code 1301) or the output (finish reason ``sensitive``)."""


class AnyFastInvalidRequestError(core.BadRequestError, ModelInvalidRequestError):
    """The server rejected a parameter (400)."""


class AnyFastMissingAPIKeyError(core.MissingAPIKeyError, ModelAuthenticationError):
    """No key configured (raised before any request)."""


class AnyFastAuthenticationError(core.AuthenticationError, ModelAuthenticationError):
    """The key is invalid (401)."""


class AnyFastPermissionDeniedError(core.PermissionDeniedError, ModelPermissionDeniedError):
    """The key may not use this model or endpoint (403)."""


class AnyFastNotFoundError(core.NotFoundError, ModelNotFoundError):
    """Unknown model or path (404)."""


class AnyFastRateLimitError(core.RateLimitError, ModelRateLimitError):
    """Too many requests (429), after the client's own retries."""


class AnyFastQuotaExceededError(core.QuotaExceededError, ModelRateLimitError):
    """Insufficient balance or usage cap (429, codes 1113/1308): not retryable."""


class AnyFastUpstreamModelError(core.UpstreamModelError, ModelAPIError):
    """Inference failed upstream (finish reason ``network_error``)."""


class AnyFastServerError(core.ServerError, ModelAPIError):
    """The server or gateway failed (5xx), after the client's own retries."""


class AnyFastAPIStatusError(core.APIStatusError, ModelError):
    """Any other error status."""


class AnyFastTimeoutError(core.APITimeoutError, ModelTimeoutError):
    """The request timed out."""


class AnyFastConnectionError(core.APIConnectionError, ModelConnectionError):
    """The server could not be reached."""


class AnyFastStreamInterruptedError(core.StreamInterruptedError, ModelConnectionError):
    """The stream closed before it finished; ``partial`` holds what arrived."""


class AnyFastStreamEventError(core.StreamEventError, ModelAPIError):
    """The server reported an error in the middle of a stream."""


class AnyFastMalformedResponseError(core.MalformedResponseError, ModelAPIError):
    """The server sent something that is not the documented JSON."""


# Most specific first: the first core class the error is an instance of wins.
_MAPPING: tuple[tuple[type[core.AnyFastError], type[core.AnyFastError]], ...] = (
    (core.ContextWindowExceededError, AnyFastContextOverflowError),
    (core.ContentFilterError, AnyFastContentFilterError),
    (core.BadRequestError, AnyFastInvalidRequestError),
    (core.MissingAPIKeyError, AnyFastMissingAPIKeyError),
    (core.AuthenticationError, AnyFastAuthenticationError),
    (core.PermissionDeniedError, AnyFastPermissionDeniedError),
    (core.NotFoundError, AnyFastNotFoundError),
    (core.RateLimitError, AnyFastRateLimitError),
    (core.QuotaExceededError, AnyFastQuotaExceededError),
    (core.UpstreamModelError, AnyFastUpstreamModelError),
    (core.ServerError, AnyFastServerError),
    (core.APIStatusError, AnyFastAPIStatusError),
    (core.APITimeoutError, AnyFastTimeoutError),
    (core.APIConnectionError, AnyFastConnectionError),
    (core.StreamInterruptedError, AnyFastStreamInterruptedError),
    (core.StreamEventError, AnyFastStreamEventError),
    (core.MalformedResponseError, AnyFastMalformedResponseError),
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
