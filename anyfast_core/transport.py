"""httpx failures as the core's errors. Its own module because it needs httpx at import, which only
the clients and streams load (a framework model is imported and built without it)."""

from __future__ import annotations

import httpx

from anyfast_core.errors import AnyFastError, APIConnectionError, APITimeoutError, MalformedResponseError


def transport_error(exc: httpx.HTTPError, timeout: httpx.Timeout) -> AnyFastError:
    """An httpx failure as our error. Connect and pool timeouts and connection failures are
    retryable; read and write timeouts are not (the server may be working on the request, and a
    second try would pay twice); a body that will not decode is malformed, not a network failure."""
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
