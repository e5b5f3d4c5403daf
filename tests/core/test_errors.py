"""Every error status and code on the wire becomes the right typed error, through both clients."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from core_support import Harness, completion_body, json_response, sse_response

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


def case(status: int, body: bytes, cls: type[APIStatusError], code: str | None, id: str) -> Any:
    return pytest.param(status, body, cls, code, id=id)


# Bodies byte for byte as the wire notes ("Errors") describe them: Z.ai's own, a gateway's, bare, text, HTML.
ERROR_CASES: list[Any] = [
    # Z.ai's body: {"error": {"code": "<string>", "message": ...}}, one row per class of its code table
    case(401, b'{"error":{"code":"1000","message":"Authentication failed"}}', AuthenticationError, "1000", "1000"),
    case(401, b'{"error":{"code":"1002","message":"Invalid token"}}', AuthenticationError, "1002", "1002"),
    case(401, b'{"error":{"code":"1004","message":"Token expired"}}', AuthenticationError, "1004", "1004"),
    case(403, b'{"error":{"code":"1110","message":"Account inactive"}}', PermissionDeniedError, "1110", "1110"),
    case(403, b'{"error":{"code":"1121","message":"Account locked"}}', PermissionDeniedError, "1121", "1121"),
    case(429, b'{"error":{"code":"1113","message":"Account in arrears"}}', QuotaExceededError, "1113", "1113"),
    case(400, b'{"error":{"code":"1210","message":"Invalid API parameter: top_p"}}', BadRequestError, "1210",
         "1210-bad-parameter"),
    case(400, b'{"error":{"code":"1210","message":"This model\'s maximum context length is 202752 tokens"}}',
         ContextWindowExceededError, "1210", "1210-max-context-length"),
    case(400, b'{"error":{"code":"1211","message":"Model does not exist"}}', NotFoundError, "1211", "1211"),
    case(400, b'{"error":{"code":"1213","message":"Missing field: messages"}}', BadRequestError, "1213", "1213"),
    case(400, b'{"error":{"code":"1214","message":"Invalid field: tools"}}', BadRequestError, "1214", "1214"),
    case(400, b'{"error":{"code":"1215","message":"Fields exclude each other"}}', BadRequestError, "1215", "1215"),
    case(400, b'{"error":{"code":"1261","message":"Prompt exceeds max length"}}', ContextWindowExceededError,
         "1261", "1261"),
    case(400, b'{"error":{"code":"1301","message":"Unsafe or sensitive content"}}', ContentFilterError, "1301",
         "1301"),
    case(429, b'{"error":{"code":"1302","message":"Concurrency too high"}}', RateLimitError, "1302", "1302"),
    case(429, b'{"error":{"code":"1303","message":"Frequency too high"}}', RateLimitError, "1303", "1303"),
    case(429, b'{"error":{"code":"1305","message":"Rate limit"}}', RateLimitError, "1305", "1305"),
    case(429, b'{"error":{"code":"1304","message":"Daily call limit reached"}}', QuotaExceededError, "1304", "1304"),
    case(429, b'{"error":{"code":"1308","message":"Usage cap reached"}}', QuotaExceededError, "1308", "1308"),
    case(429, b'{"error":{"code":"1309","message":"Plan expired"}}', QuotaExceededError, "1309", "1309"),
    case(429, b'{"error":{"code":"1310","message":"Weekly/monthly limit reached"}}', QuotaExceededError, "1310",
         "1310"),
    case(400, b'{"error":{"code":1261,"message":"overflow"}}', ContextWindowExceededError, "1261", "int-code"),
    # A gateway answering for itself (new-api): request id in the message, code may be ""
    case(403, b'{"error":{"message":"user quota is not enough (request id: 20251126A)","type":"new_api_error",'
         b'"code":"insufficient_user_quota"}}', QuotaExceededError, "insufficient_user_quota", "403-user-quota"),
    case(429, b'{"error":{"message":"You exceeded your current quota","type":"insufficient_quota","code":""}}',
         QuotaExceededError, None, "429-quota-type"),
    case(503, b'{"error":{"message":"no channel for model glm-5.2 (request id: 20251126B)","type":"new_api_error",'
         b'"code":"model_not_found"}}', NotFoundError, "model_not_found", "503-model-not-found"),
    case(500, b'{"error":{"message":"upstream error (request id: 2025abc)","type":"new_api_error",'
         b'"code":"bad_response"},"request_id":"2025abc"}', ServerError, "bad_response", "new-api-error"),
    # Status alone
    case(401, b'{"error":{"message":"No token provided"}}', AuthenticationError, None, "401-missing"),
    case(401, b'{"error":{"message":"Invalid API key provided.","type":"authentication_error",'
         b'"code":"invalid_api_key"}}', AuthenticationError, "invalid_api_key", "401-bad"),
    case(403, b'{"error":{"message":"Forbidden model"}}', PermissionDeniedError, None, "403"),
    case(404, b'{"error":{"message":"model not found"}}', NotFoundError, None, "404"),
    case(429, b'{"error":{"message":"Too many requests"}}', RateLimitError, None, "429-no-code"),
    case(500, b'{"error":{"message":"Internal error","type":"server_error"}}', ServerError, None, "500"),
    # Other shapes: bare code/msg, a string error, detail, text, HTML, nothing
    case(400, b'{"code":70000,"msg":"model is busy, try later"}', BadRequestError, "70000", "bare-code-msg"),
    case(418, b'{"error": "I am a teapot"}', APIStatusError, None, "string-error"),
    case(422, b'{"detail": "field required"}', BadRequestError, None, "detail-only"),
    case(502, b"<html><head><title>502 Bad Gateway</title></head><body><center>nginx</center></body></html>",
         ServerError, None, "502-html"),
    case(503, b"", ServerError, None, "503-empty"),
    case(504, b"upstream timed out", ServerError, None, "504-text"),
]  # fmt: skip


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


RETRY_CASES = [
    pytest.param(429, {"error": {"code": "1302", "message": "Concurrency too high"}}, True, id="1302-rate-limit"),
    pytest.param(429, {"error": {"code": "1305", "message": "Rate limit"}}, True, id="1305-rate-limit"),
    pytest.param(429, {"error": {"code": "1113", "message": "Account in arrears"}}, False, id="1113-balance"),
    pytest.param(429, {"error": {"code": "1304", "message": "Daily limit"}}, False, id="1304-daily"),
    pytest.param(429, {"error": {"code": "1310", "message": "Weekly limit"}}, False, id="1310-weekly"),
    pytest.param(
        429, {"error": {"message": "quota", "type": "new_api_error", "code": "insufficient_user_quota"}}, False,
        id="429-insufficient-user-quota",
    ),
    pytest.param(
        403, {"error": {"message": "quota", "type": "insufficient_quota", "code": ""}}, False,
        id="403-insufficient-quota",
    ),
    pytest.param(
        503, {"error": {"message": "no route", "type": "new_api_error", "code": "model_not_found"}}, False,
        id="503-model-not-found",
    ),
    pytest.param(503, {"error": {"message": "overloaded", "type": "new_api_error", "code": ""}}, True, id="503"),
    pytest.param(409, {"error": {"message": "conflict"}}, True, id="409"),
    pytest.param(400, {"error": {"code": "1261", "message": "Prompt exceeds max length"}}, False, id="1261"),
    pytest.param(401, {"error": {"code": "1001", "message": "Token invalid"}}, False, id="1001"),
]  # fmt: skip


@pytest.mark.parametrize(("status", "body", "retried"), RETRY_CASES)
def test_what_is_retried(
    harness: Callable[..., Harness], delays: list[float], status: int, body: Any, retried: bool
) -> None:
    """Rate limits are retried (honouring Retry-After), quota and configuration errors never are."""
    h = harness(json_response(status, body, {"retry-after": "0.25"}), json_response(200, completion_body("ok")))
    if retried:
        assert h.chat().message.content == "ok"
        assert delays == [0.25]
        assert len(h.server.requests) == 2
    else:
        with pytest.raises(APIStatusError) as info:
            h.chat()
        assert not info.value.is_retryable
        assert body["error"]["message"] in str(info.value)  # the server's words, whatever else is said
        assert (delays, len(h.server.requests)) == ([], 1)


def test_model_not_found_under_503_says_it_is_configuration() -> None:
    error = error_from_response(
        503,
        b'{"error":{"message":"No available channel for model glm-5.3 (request id: 2025X)",'
        b'"type":"new_api_error","code":"model_not_found"}}',
    )
    assert isinstance(error, NotFoundError)
    assert "glm-5.3" in str(error)
    assert "check the model id" in str(error)
    assert error.request_id == "2025X"


def test_the_request_id_reaches_the_user_once() -> None:
    beside = error_from_response(400, b'{"error":{"code":"1214","message":"Invalid tools"},"request_id":"req-77"}')
    assert str(beside) == "Invalid tools (request id: req-77)"
    inside = error_from_response(500, b'{"error":{"message":"failed (request id: req-78)","type":"new_api_error"}}')
    assert str(inside).count("req-78") == 1


def test_a_body_without_a_message_is_quoted() -> None:
    error = error_from_response(400, b'{"error":{"code":"9999","param":"top_k"}}')
    assert "top_k" in str(error)
    assert "9999" in str(error)


def test_an_html_page_is_summarised_not_dumped() -> None:
    page = (
        b"<!DOCTYPE html>\n<html><head><meta charset=utf-8><title>504 Gateway Time-out</title>"
        b"<style>body{}</style></head><body>" + b"<p>cloudflare</p>" * 2000 + b"</body></html>"
    )
    error = error_from_response(504, page)
    assert str(error) == "an HTML page from a proxy, not the API: 504 Gateway Time-out"
    untitled = error_from_response(502, b"<html><body><h1>Bad Gateway</h1></body></html>")
    assert "Bad Gateway" in str(untitled)
    assert "<" not in str(untitled)


def test_a_plain_text_body_is_the_message() -> None:
    assert str(error_from_response(502, b"upstream connect error\n")) == "upstream connect error"


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
