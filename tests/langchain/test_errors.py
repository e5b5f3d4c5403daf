"""Core errors surface as langchain_core.exceptions types and stay catchable as the core's."""

from __future__ import annotations

import json
from typing import Any

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
)

import anyfast_core as core
from langchain_anyfast import ChatAnyFast
from langchain_anyfast._errors import to_langchain_error


def _error(message: str, code: str | None = None, type_: str = "new_api_error") -> dict[str, Any]:
    body: dict[str, Any] = {"message": message, "type": type_}
    if code is not None:
        body["code"] = code
    return {"error": body}


CASES = [
    (400, _error("bad param"), core.BadRequestError, ModelInvalidRequestError),
    (400, _error("prompt too long", "1261"), core.ContextWindowExceededError, ContextOverflowError),
    (400, _error("unsafe input", "1301"), core.ContentFilterError, ModelRefusalError),
    (401, _error("Invalid API key provided.", "invalid_api_key"), core.AuthenticationError, ModelAuthenticationError),
    (403, _error("forbidden"), core.PermissionDeniedError, ModelPermissionDeniedError),
    (404, _error("no such model"), core.NotFoundError, ModelNotFoundError),
    (429, _error("slow down", "1302"), core.RateLimitError, ModelRateLimitError),
    (429, _error("insufficient balance", "1113"), core.QuotaExceededError, ModelRateLimitError),
    (500, _error("boom"), core.ServerError, ModelAPIError),
    (503, b"<html>gateway</html>", core.ServerError, ModelAPIError),
]


@pytest.mark.parametrize(("status", "body", "core_type", "lc_type"), CASES)
def test_status_errors_map(
    server: Any, model: ChatAnyFast, status: int, body: Any, core_type: type, lc_type: type
) -> None:
    server.json(body, status=status)
    with pytest.raises(core_type) as info:
        model.invoke("Hi")
    assert isinstance(info.value, lc_type)
    assert isinstance(info.value, ModelError)
    assert info.value.status_code == status
    assert "sk-test" not in str(info.value) + repr(info.value)


@pytest.mark.parametrize(("status", "body", "core_type", "lc_type"), CASES[:4])
async def test_status_errors_map_async_and_streaming(
    server: Any, model: ChatAnyFast, status: int, body: Any, core_type: type, lc_type: type
) -> None:
    server.json(body, status=status)
    server.json(body, status=status)
    with pytest.raises(lc_type):
        await model.ainvoke("Hi")
    with pytest.raises(core_type):
        [chunk async for chunk in model.astream("Hi")]


def test_quota_is_not_retried_rate_limit_is(server: Any, make_model: Any, glm: Any) -> None:
    model = make_model(max_retries=2)
    server.json(_error("insufficient balance", "1113"), status=429)
    with pytest.raises(ModelRateLimitError) as info:
        model.invoke("Hi")
    assert info.value.is_retryable is False
    assert len(server.requests) == 1
    server.json(_error("slow down", "1302"), status=429, headers={"retry-after": "0"})
    server.json(glm.completion("ok"))
    assert model.invoke("Hi").content == "ok"
    assert len(server.requests) == 3


@pytest.mark.parametrize(
    ("finish_reason", "lc_type", "core_type"),
    [
        ("sensitive", ModelRefusalError, core.ContentFilterError),
        ("model_context_window_exceeded", ContextOverflowError, core.ContextWindowExceededError),
        ("network_error", ModelAPIError, core.UpstreamModelError),
    ],
)
def test_hard_finish_reasons_raise(
    server: Any, model: ChatAnyFast, glm: Any, finish_reason: str, lc_type: type, core_type: type
) -> None:
    server.json(glm.completion("partial", finish_reason=finish_reason))
    server.sse(glm.chunks("partial answer", finish_reason=finish_reason))
    with pytest.raises(lc_type) as info:
        model.invoke("Hi")
    assert isinstance(info.value, core_type)
    assert info.value.partial.message.content == "partial"
    seen: list[Any] = []

    def consume() -> None:
        for chunk in model.stream("Hi"):
            seen.append(chunk)

    with pytest.raises(core_type):
        consume()
    assert "".join(c.content for c in seen) == "partial answer"  # shown as it came, then the error


def test_mid_stream_error_event(server: Any, model: ChatAnyFast, glm: Any) -> None:
    chunks = glm.chunks("Hello there")[:3]
    error_event = json.dumps({"error": {"message": "upstream failed", "type": "server_error"}}).encode()
    body = glm.sse(chunks).replace(b"data: [DONE]\n\n", b"") + b"data: " + error_event + b"\n\n"
    server.sse(body)
    with pytest.raises(core.StreamEventError) as info:
        list(model.stream("Hi"))
    assert isinstance(info.value, ModelAPIError)
    assert "upstream failed" in str(info.value)


def test_truncated_stream_is_not_an_answer(server: Any, model: ChatAnyFast, glm: Any) -> None:
    body = glm.sse(glm.chunks("Hello there"))
    server.sse(body[: body.index(b"data: [DONE]")])
    with pytest.raises(core.StreamInterruptedError) as info:
        list(model.stream("Hi"))
    assert isinstance(info.value, ModelConnectionError)


def test_malformed_body(server: Any, model: ChatAnyFast) -> None:
    server.json(b"not json at all")
    with pytest.raises(core.MalformedResponseError) as info:
        model.invoke("Hi")
    assert isinstance(info.value, ModelAPIError)


def test_invalid_parameters_stay_plain_value_errors() -> None:
    error = core.InvalidParameterError("temperature=3")
    assert to_langchain_error(error) is error


def test_mapping_keeps_every_field() -> None:
    error = core.RateLimitError("slow", status_code=429, code="1302", type="t", request_id="r1", partial="p")
    twin = to_langchain_error(error)
    assert isinstance(twin, ModelRateLimitError)
    assert (twin.message, twin.status_code, twin.code, twin.type, twin.request_id, twin.partial) == (
        "slow",
        429,
        "1302",
        "t",
        "r1",
        "p",
    )
    assert to_langchain_error(twin) is twin
