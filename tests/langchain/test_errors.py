"""Core errors translated for LangChain: same names as the core's, a langchain_core ``Model*Error`` each,
every field kept. (What each failure on the wire becomes is tested through both adapters in
tests/reliability/test_faults.py.)"""

from __future__ import annotations

import inspect

import pytest
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
from langchain_anyfast import _errors
from langchain_anyfast._errors import to_langchain_error

RAISED = [
    cls
    for cls in vars(core).values()
    if inspect.isclass(cls)
    and issubclass(cls, core.AnyFastError)
    and cls not in (core.AnyFastError, core.InvalidParameterError, core.StreamError)
]
"""Every error class the core raises for a failed call (InvalidParameterError stays a ValueError)."""


@pytest.mark.parametrize("cls", RAISED, ids=lambda cls: cls.__name__)
def test_every_core_error_has_a_langchain_twin_of_the_same_name(cls: type[core.AnyFastError]) -> None:
    twin = to_langchain_error(cls("what the server said", status_code=500, code="c", request_id="r1"))
    assert type(twin).__name__ == cls.__name__  # one name for one failure, in both adapters
    assert type(twin) is getattr(_errors, cls.__name__)
    assert isinstance(twin, cls)
    assert isinstance(twin, ModelError)
    assert str(twin) == "what the server said (request id: r1)"


@pytest.mark.parametrize(
    ("cls", "lc_type"),
    [
        (core.ContextWindowExceededError, ContextOverflowError),
        (core.ContentFilterError, ModelRefusalError),
        (core.ContentFilterError, ModelInvalidRequestError),
        (core.BadRequestError, ModelInvalidRequestError),
        (core.AuthenticationError, ModelAuthenticationError),
        (core.MissingAPIKeyError, ModelAuthenticationError),
        (core.PermissionDeniedError, ModelPermissionDeniedError),
        (core.NotFoundError, ModelNotFoundError),
        (core.RateLimitError, ModelRateLimitError),
        (core.QuotaExceededError, ModelRateLimitError),
        (core.ServerError, ModelAPIError),
        (core.UpstreamModelError, ModelAPIError),
        (core.APIStatusError, ModelAPIError),  # an error object under 200, streamed or not
        (core.StreamEventError, ModelAPIError),
        (core.MalformedResponseError, ModelAPIError),
        (core.StreamIdleTimeoutError, ModelTimeoutError),
        (core.APITimeoutError, ModelTimeoutError),
        (core.APIConnectionError, ModelConnectionError),
        (core.StreamInterruptedError, ModelConnectionError),
    ],
)
def test_langchain_types(cls: type[core.AnyFastError], lc_type: type[Exception]) -> None:
    assert isinstance(to_langchain_error(cls("x")), lc_type)


def test_quota_stays_not_retryable_under_langchains_rate_limit_type() -> None:
    twin = to_langchain_error(core.QuotaExceededError("balance", status_code=429, code="1113"))
    assert isinstance(twin, ModelRateLimitError)
    assert twin.is_retryable is False


def test_invalid_parameters_stay_plain_value_errors() -> None:
    error = core.InvalidParameterError("temperature=3")
    assert to_langchain_error(error) is error


def test_mapping_keeps_every_field() -> None:
    error = core.RateLimitError("slow", status_code=429, code="1302", type="t", request_id="r1", partial="p")
    error.retry_after = 2.0
    twin = to_langchain_error(error)
    assert isinstance(twin, ModelRateLimitError)
    assert isinstance(twin, core.RateLimitError)
    assert (twin.message, twin.status_code, twin.code, twin.type, twin.request_id, twin.partial) == (
        "slow",
        429,
        "1302",
        "t",
        "r1",
        "p",
    )
    assert twin.retry_after == 2.0
    assert to_langchain_error(twin) is twin
