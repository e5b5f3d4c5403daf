"""Every error status and code on the wire becomes the right typed error, through both clients."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from core_support import Harness, json_response, sse_response

from anyfast_core import (
    AnyFastError,
    APIStatusError,
    AuthenticationError,
    BadRequestError,
    ContentFilterError,
    ContextWindowExceededError,
    MalformedResponseError,
    NotFoundError,
    PermissionDeniedError,
    QuotaExceededError,
    RateLimitError,
    ServerError,
)
from anyfast_core.errors import error_from_response, parse_error_body

ERROR_CASES: list[Any] = [
    pytest.param(
        400,
        {"error": {"message": "Invalid parameter: temperature", "type": "invalid_request_error", "code": "1214"}},
        BadRequestError,
        "1214",
        id="400-plain",
    ),
    pytest.param(
        400,
        {"error": {"message": "Prompt exceeds max length", "code": "1210"}},
        ContextWindowExceededError,
        "1210",
        id="400-1210-context",
    ),
    pytest.param(
        400,
        {"error": {"message": "System detected potentially unsafe content", "code": "1301"}},
        ContentFilterError,
        "1301",
        id="400-1301-sensitive",
    ),
    pytest.param(
        400,
        {"error": {"message": "overflow", "code": 1210}},
        ContextWindowExceededError,
        "1210",
        id="int-code",
    ),
    pytest.param(401, {"error": {"message": "No token provided"}}, AuthenticationError, None, id="401-missing"),
    pytest.param(
        401,
        {"error": {"message": "Invalid API key provided.", "type": "authentication_error", "code": "invalid_api_key"}},
        AuthenticationError,
        "invalid_api_key",
        id="401-bad",
    ),
    pytest.param(403, {"error": {"message": "Forbidden model"}}, PermissionDeniedError, None, id="403"),
    pytest.param(404, {"error": {"message": "model not found"}}, NotFoundError, None, id="404"),
    pytest.param(
        429,
        {"error": {"message": "Rate limit reached", "code": "1302"}},
        RateLimitError,
        "1302",
        id="429-1302",
    ),
    pytest.param(429, {"error": {"message": "Too many requests"}}, RateLimitError, None, id="429-no-code"),
    pytest.param(
        429, {"error": {"message": "Insufficient balance", "code": "1113"}}, QuotaExceededError, "1113", id="429-1113"
    ),
    pytest.param(
        429,
        {"error": {"message": "Usage cap reached", "code": 1308}},
        QuotaExceededError,
        "1308",
        id="429-1308",
    ),
    pytest.param(500, {"error": {"message": "Internal error", "type": "server_error"}}, ServerError, None, id="500"),
    pytest.param(502, b"<html><body>502 Bad Gateway</body></html>", ServerError, None, id="502-html"),
    pytest.param(503, b"", ServerError, None, id="503-empty"),
    pytest.param(504, b"upstream timed out", ServerError, None, id="504-text"),
    pytest.param(
        500,
        {"error": {"message": "upstream error (request id: 2025abc)", "type": "new_api_error", "code": "bad_response"}},
        ServerError,
        "bad_response",
        id="new-api-error",
    ),
    pytest.param(418, {"error": "I am a teapot"}, APIStatusError, None, id="string-error"),
    pytest.param(422, {"detail": "field required"}, BadRequestError, None, id="detail-only"),
]


@pytest.mark.parametrize(("status", "body", "cls", "code"), ERROR_CASES)
def test_error_statuses_and_codes(
    harness: Callable[..., Harness],
    delays: list[float],
    status: int,
    body: Any,
    cls: type[APIStatusError],
    code: str | None,
) -> None:
    h = harness(json_response(status, body), max_retries=0)
    with pytest.raises(cls) as info:
        h.chat()
    error = info.value
    assert type(error) is cls
    assert error.status_code == status
    assert error.code == code
    assert error.message
    assert str(error) == error.message
    # The same answer to a stream request raises the same error before any event.
    h = harness(json_response(status, body), max_retries=0)
    with pytest.raises(cls):
        h.stream()


def test_error_fields_from_a_gateway_body() -> None:
    error = error_from_response(
        500,
        b'{"error":{"message":"upstream failed (request id: 2025112612)",'
        b'"type":"new_api_error","code":"do_request_failed"}}',
    )
    assert isinstance(error, ServerError)
    assert (error.type, error.code, error.request_id) == ("new_api_error", "do_request_failed", "2025112612")
    assert "request id: 2025112612" in error.message


def test_request_id_beside_the_error_and_in_headers() -> None:
    beside = error_from_response(400, {"error": {"message": "bad", "code": "1214"}, "request_id": "r-1"})
    assert beside.request_id == "r-1"
    header = error_from_response(400, {"error": {"message": "bad"}}, {"x-request-id": "r-2"})
    assert header.request_id == "r-2"


def test_messages_of_auth_and_quota_errors_say_what_to_do() -> None:
    assert "ANYFAST_API_KEY" in error_from_response(401, {"error": {"message": "No token provided"}}).message
    assert "retrying will not help" in error_from_response(429, {"error": {"message": "x", "code": "1113"}}).message


@pytest.mark.parametrize(
    "body", [b"not json", b"[1, 2]", b'"text"', b"null", b"", b"\xff\xfe", {"error": None}, {"error": 5}]
)
def test_parse_error_body_never_raises(body: Any) -> None:
    assert isinstance(parse_error_body(body), dict)


def test_non_json_error_body_is_kept_short() -> None:
    error = error_from_response(502, b"<html>" + b"x" * 5000 + b"</html>")
    assert isinstance(error, ServerError)
    assert len(error.message) <= 500


def test_error_repr_names_the_fields_but_stays_short() -> None:
    error = error_from_response(429, {"error": {"message": "slow down", "code": "1302"}, "request_id": "r-9"})
    assert repr(error) == "RateLimitError('slow down', status_code=429, code='1302', request_id='r-9')"


def test_200_with_an_error_body(harness: Callable[..., Harness]) -> None:
    body = {"error": {"message": "The model is overloaded", "type": "server_error", "code": "1305"}}
    with pytest.raises(APIStatusError) as info:
        harness(json_response(200, body)).chat()
    assert info.value.status_code == 200
    assert "overloaded" in info.value.message
    assert info.value.code == "1305"
    with pytest.raises(APIStatusError):
        harness(json_response(200, body)).stream()


@pytest.mark.parametrize(
    "body",
    [b"not json", b"[]", b'{"choices": []}', b'{"choices": "x"}', b'{"choices": [{"message": 5}]}'],
)
def test_malformed_2xx_bodies(harness: Callable[..., Harness], body: bytes) -> None:
    with pytest.raises(MalformedResponseError) as info:
        harness(json_response(200, body)).chat()
    assert info.value.status_code == 200


def test_models_and_malformed_model_lists(harness: Callable[..., Harness]) -> None:
    listing = {
        "data": [
            {
                "id": "glm-5.2",
                "object": "model",
                "created": 1626777600,
                "owned_by": "custom",
                "supported_endpoint_types": ["openai"],
            }
        ]
    }
    h = harness(json_response(200, listing))
    models = h.models()
    assert [m.id for m in models] == ["glm-5.2"]
    assert h.server.requests[0].method == "GET"
    assert h.server.requests[0].url.path == "/v1/models"
    for bad in (b"oops", b'{"data": 5}', b'{"data": [{"object": "model"}]}'):
        with pytest.raises(MalformedResponseError):
            harness(json_response(200, bad)).models()
    with pytest.raises(AuthenticationError):
        harness(json_response(401, {"error": {"message": "Invalid API key provided."}})).models()


def test_every_error_is_an_anyfast_error() -> None:
    for status in (400, 401, 403, 404, 408, 409, 413, 422, 429, 500, 501, 502, 503, 504, 599):
        assert isinstance(error_from_response(status, b""), AnyFastError)


def test_stream_error_status_is_read_and_typed(harness: Callable[..., Harness]) -> None:
    # An error status on a stream request arrives with an SSE content type from some gateways.
    h = harness(sse_response(b'{"error":{"message":"Invalid API key provided."}}', status=401))
    with pytest.raises(AuthenticationError) as info:
        h.stream()
    assert "Invalid API key provided." in info.value.message
