"""When to retry and how long to wait: pure decisions, shared by the sync and async clients.

Retried: connection failures and connect/pool timeouts, 408, 429 rate limits (code 1302 or none),
500/502/503/504, with exponential backoff and jitter, honouring ``Retry-After`` (seconds or an HTTP
date) and ``retry-after-ms``. Never retried: 400, 401, 403, 404, other 5xx, 429 with balance or
quota codes (1113, 1308), a read or write timeout (the model may still be working: re-sending would
pay twice), a ``Retry-After`` longer than ``max_retry_after`` (raised at once rather than retried
too early), and a stream once its response has started.

Whether an error is passing is decided where it is built (``error.is_retryable``); the policy
bounds the attempts and spaces them.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

from anyfast_core.errors import AnyFastError, APIStatusError

__all__ = ["RetryPolicy"]


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """How many times to retry and how to space the attempts.

    >>> RetryPolicy(max_retries=2).delay(0, retry_after=3.0)
    3.0
    """

    max_retries: int = 2
    initial_delay: float = 0.5
    max_delay: float = 8.0
    max_retry_after: float = 60.0
    """A ``Retry-After`` longer than this is not waited for: the error is raised at once, since
    retrying sooner than the server asked would only fail again."""

    def __post_init__(self) -> None:
        if not isinstance(self.max_retries, int) or isinstance(self.max_retries, bool) or self.max_retries < 0:
            raise ValueError(f"max_retries={self.max_retries!r}: allowed: an integer >= 0")

    def should_retry(self, error: AnyFastError, attempt: int) -> bool:
        """Whether ``error`` on attempt ``attempt`` (0-based) earns another try."""
        # Each error knows whether it is passing (see errors.error_from_response and
        # client.transport_error); the policy only bounds how often.
        if attempt >= self.max_retries or not error.is_retryable:
            return False
        retry_after = error.retry_after if isinstance(error, APIStatusError) else None
        return retry_after is None or retry_after <= self.max_retry_after

    def delay(self, attempt: int, retry_after: float | None = None) -> float:
        """Seconds to wait before attempt ``attempt + 1``: the server's ``Retry-After`` (see
        :func:`~anyfast_core.errors.retry_after_seconds`) if it gave one we wait for, else exponential backoff with
        jitter (so many clients do not retry in step)."""
        if retry_after is not None and 0 <= retry_after <= self.max_retry_after:
            return retry_after
        backoff = min(self.initial_delay * 2**attempt, self.max_delay)
        return float(backoff * (1 - 0.25 * random.random()))  # noqa: S311 - jitter, not security
