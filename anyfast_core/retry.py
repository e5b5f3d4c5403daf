"""When to retry and how long to wait: pure decisions, shared by the sync and async clients.

Retried: connection failures and connect/pool timeouts, 408, 429 rate limits (code 1302 or none),
500/502/503/504, with exponential backoff and jitter, honouring ``Retry-After`` (seconds or an HTTP
date) and ``retry-after-ms``. Never retried: 400, 401, 403, 404, 429 with balance or quota codes
(1113, 1308), a read timeout (the model may still be working: re-sending would pay twice), and a
stream once data has flowed.
"""

from __future__ import annotations

import random
import time
from collections.abc import Mapping
from dataclasses import dataclass
from email.utils import parsedate_to_datetime

from anyfast_core.errors import AnyFastError, APIStatusError

RETRYABLE_STATUS = frozenset({408, 429, 500, 502, 503, 504})


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """How many times to retry and how to space the attempts.

    >>> RetryPolicy(max_retries=2).delay(0, {"retry-after": "3"})
    3.0
    """

    max_retries: int = 2
    initial_delay: float = 0.5
    max_delay: float = 8.0
    max_retry_after: float = 60.0
    """A ``Retry-After`` longer than this is not waited for; the backoff applies instead."""

    def __post_init__(self) -> None:
        if not isinstance(self.max_retries, int) or isinstance(self.max_retries, bool) or self.max_retries < 0:
            raise ValueError(f"max_retries={self.max_retries!r}: allowed: an integer >= 0")

    def should_retry(self, error: AnyFastError, attempt: int) -> bool:
        """Whether ``error`` on attempt ``attempt`` (0-based) earns another try."""
        if attempt >= self.max_retries:
            return False
        if isinstance(error, APIStatusError):
            return error.is_retryable or (
                error.status_code in RETRYABLE_STATUS and error.status_code != 429
            )
        return error.is_retryable

    def delay(self, attempt: int, headers: Mapping[str, str] | None = None) -> float:
        """Seconds to wait before attempt ``attempt + 1``: the server's word if it gave a sane one,
        else exponential backoff with jitter (so many clients do not retry in step)."""
        server = retry_after_seconds(headers) if headers is not None else None
        if server is not None and 0 <= server <= self.max_retry_after:
            return server
        backoff = min(self.initial_delay * 2**attempt, self.max_delay)
        return backoff * (1 - 0.25 * random.random())  # noqa: S311 - jitter, not security


def retry_after_seconds(headers: Mapping[str, str]) -> float | None:
    """``retry-after-ms`` or ``Retry-After`` (seconds or an HTTP date) in seconds; ``None`` if absent
    or unreadable."""
    millis = headers.get("retry-after-ms")
    if millis:
        try:
            return float(millis) / 1000
        except ValueError:
            pass
    value = headers.get("retry-after")
    if not value:
        return None
    try:
        return float(value)
    except ValueError:
        pass
    try:
        return max(0.0, parsedate_to_datetime(value).timestamp() - time.time())
    except (TypeError, ValueError, IndexError, OverflowError):
        return None
