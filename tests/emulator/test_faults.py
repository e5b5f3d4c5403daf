"""Every fault, reachable by header and by API-key prefix; ``times=`` counters; the core client's
reactions to the main ones."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest

from anyfast_emulator import FAULTS, Emulator, FaultSpecError, fault_header, fault_key
from anyfast_emulator.faults import ZAI_CODES

WEATHER = {
    "type": "function",
    "function": {
        "name": "get_weather",
        "parameters": {"type": "object", "properties": {"location": {"type": "string"}}, "required": ["location"]},
    },
}


@dataclass
class Case:
    params: dict[str, Any] = field(default_factory=dict)
    body: dict[str, Any] = field(default_factory=dict)
    stream: bool = False
    check: Callable[[Any], None] = field(default=lambda reply: None)
    raises: bool = False


def error(status: int, code: str) -> Callable[[Any], None]:
    def check(reply: Any) -> None:
        assert reply.status == status
        assert reply.json["error"]["code"] == code

    return check


def html(status: int) -> Callable[[Any], None]:
    def check(reply: Any) -> None:
        assert reply.status == status
        assert reply.headers["content-type"] == "text/html"
        assert f"{status}".encode() in reply.raw
        assert b"<html>" in reply.raw

    return check


def finish(reason: str) -> Callable[[Any], None]:
    def check(reply: Any) -> None:
        assert reply.status == 200
        assert reply.json["choices"][0]["finish_reason"] == reason

    return check


def message(reply: Any) -> dict[str, Any]:
    assert reply.status == 200
    return reply.json["choices"][0]["message"]  # type: ignore[no-any-return]


def no_done(reply: Any) -> None:
    assert reply.status == 200
    assert "[DONE]" not in reply.events


def has_error_event(reply: Any) -> None:
    assert any(json.loads(e).get("error") for e in reply.events if e != "[DONE]")


def has_malformed_line(reply: Any) -> None:
    bad = [e for e in reply.events if e != "[DONE]" and not _is_json(e)]
    assert bad
    assert reply.events[-1] == "[DONE]"


def _is_json(text: str) -> bool:
    try:
        json.loads(text)
    except ValueError:
        return False
    return True


FORCED = {"tools": [WEATHER], "tool_choice": "required", "messages": [{"role": "user", "content": "Weather in Oslo?"}]}
HISTORY_WITHOUT_REASONING = {
    "messages": [
        {"role": "user", "content": "Weather in Oslo?"},
        {
            "role": "assistant",
            "content": "",
            "tool_calls": [{"id": "c1", "type": "function", "function": {"name": "get_weather", "arguments": "{}"}}],
        },
        {"role": "tool", "tool_call_id": "c1", "content": "Sunny"},
    ],
    "tools": [WEATHER],
}


def with_header(check: Callable[[Any], None], name: str, value: str) -> Callable[[Any], None]:
    def both(reply: Any) -> None:
        check(reply)
        assert reply.headers[name] == value

    return both


def invalid_key(reply: Any) -> None:
    assert reply.status == 401
    assert reply.json["error"]["code"] == "invalid_api_key"


def ok(reply: Any) -> None:
    assert reply.status == 200


def error_under_200(reply: Any) -> None:
    assert reply.status == 200
    assert "error" in reply.json
    assert "choices" not in reply.json


def cut_after_3(reply: Any) -> None:
    no_done(reply)
    assert len(reply.events) == 3


def error_event(reply: Any) -> None:
    no_done(reply)
    has_error_event(reply)


def pings(reply: Any) -> None:
    assert reply.raw.startswith(b": PING\n\n")
    assert reply.raw.count(b": PING") > 3


def crlf(reply: Any) -> None:
    assert b"\r\n\r\n" in reply.raw
    assert b"\n" not in reply.raw.replace(b"\r\n", b"")


def no_space(reply: Any) -> None:
    assert b"data:{" in reply.raw
    assert b"data: " not in reply.raw


def whole(reply: Any) -> None:
    assert reply.events[-1] == "[DONE]"
    assert "".join(c["choices"][0]["delta"].get("content", "") for c in reply.chunks).startswith("Hello!")


def reasoning_only(reply: Any) -> None:
    assert message(reply)["content"] == ""
    assert message(reply)["reasoning_content"]
    assert reply.json["choices"][0]["finish_reason"] == "stop"


def text_instead_of_call(reply: Any) -> None:
    assert not message(reply).get("tool_calls")
    assert json.loads(message(reply)["content"]) == {"location": "Oslo"}


def fenced(reply: Any) -> None:
    assert message(reply)["content"].startswith("```json\n")
    assert message(reply)["content"].endswith("\n```")


def openai_chunks(reply: Any) -> None:
    assert reply.chunks[0]["object"] == "chat.completion.chunk"


def fragmented_calls(reply: Any) -> None:
    assert sum("tool_calls" in c["choices"][0]["delta"] for c in reply.chunks) > 2


def reasoning_tokens(reply: Any) -> None:
    assert reply.json["usage"]["completion_tokens_details"]["reasoning_tokens"] > 0


def gateway_error(reply: Any) -> None:
    error = reply.json["error"]
    assert reply.status == 400
    assert error["type"] == "new_api_error"
    request_id = reply.headers["x-request-id"]
    assert error["message"].endswith(f" (request id: {request_id})")


def glm_newlines(reply: Any) -> None:
    assert message(reply)["content"].startswith("\n\n")


def done_after_cut(reply: Any) -> None:
    # A gateway that lost its upstream: some chunks, a usage chunk, [DONE]; no finish_reason anywhere.
    assert reply.raw.endswith(b"data: [DONE]\n\n")
    assert b'"finish_reason"' not in reply.raw
    assert reply.chunks[-1]["choices"] == []
    assert reply.chunks[-1]["usage"]["completion_tokens"] > 0
    assert len(reply.chunks) == 3 + 1


def no_finish(reply: Any) -> None:
    assert reply.raw.endswith(b"data: [DONE]\n\n")
    assert b'"finish_reason"' not in reply.raw
    content = "".join(c["choices"][0]["delta"].get("content", "") for c in reply.chunks)
    assert content == "Hello! How can I help you today?"  # the whole answer, only the finish chunk missing


def stalled(reply: Any) -> None:
    assert reply.events[-1] == "[DONE]"


def done_whitespace(reply: Any) -> None:
    assert reply.raw.endswith(b"data: [DONE]  \t\n\n")


def zai_1304(reply: Any) -> None:
    assert reply.status == 429
    assert json.loads(reply.raw) == {"error": {"code": "1304", "message": reply.json["error"]["message"]}}
    assert b'"code":"1304"' in reply.raw  # the code a string, as Z.ai sends it


def user_quota(reply: Any) -> None:
    assert reply.status == 403
    error = reply.json["error"]
    assert (error["code"], error["type"]) == ("insufficient_user_quota", "new_api_error")


def model_not_found(reply: Any) -> None:
    assert reply.status == 503
    assert reply.json["error"]["code"] == "model_not_found"
    assert "glm-5.2" in reply.json["error"]["message"]


def bare_error(reply: Any) -> None:
    assert reply.status == 400
    assert reply.raw.startswith(b'{"code":1214,"msg":"temperature: ')
    assert set(reply.json) == {"code", "msg"}


def empty_tool_calls(reply: Any) -> None:
    assert reply.json["choices"][0]["finish_reason"] == "tool_calls"
    assert "tool_calls" not in message(reply)
    assert message(reply)["content"] == ""


def reasoning_field(reply: Any) -> None:
    assert b'"reasoning":"The user greets me.' in reply.raw
    assert b"reasoning_content" not in reply.raw


def think_tags(reply: Any) -> None:
    content = message(reply)["content"]
    assert content.startswith("<think>The user greets me.")
    assert content.endswith("</think>Hello! How can I help you today?")
    assert "reasoning_content" not in message(reply)


def fresh_ids(reply: Any) -> None:
    fragments = [
        c["choices"][0]["delta"]["tool_calls"][0] for c in reply.chunks if c["choices"][0]["delta"].get("tool_calls")
    ]
    assert len(fragments) > 2
    assert len({f["id"] for f in fragments}) == len(fragments)  # a fresh id on every fragment
    assert {f["index"] for f in fragments} == {0}
    assert [bool(f["function"].get("name")) for f in fragments] == [True] + [False] * (len(fragments) - 1)
    assert json.loads("".join(f["function"]["arguments"] for f in fragments)) == {"location": "Oslo"}


CASES: dict[str, Case] = {
    "reset": Case(raises=True),
    "slow": Case({"delay": 0.3}, check=ok),
    "slow_stream": Case({"delay": 0.01}, stream=True, check=ok),
    "invalid_key": Case(check=invalid_key),
    "rate_limit": Case({"retry_after": 0.5}, check=with_header(error(429, "1302"), "retry-after", "0.5")),
    "balance": Case(check=error(429, "1113")),
    "quota": Case(check=error(429, "1308")),
    "server_error": Case({"status": 503}, check=error(503, "503")),
    "http_500": Case(check=error(500, "500")),
    "http_502": Case(check=html(502)),
    "http_503": Case({"retry_after": 2}, check=with_header(error(503, "503"), "retry-after", "2")),
    "http_504": Case(check=html(504)),
    "context_overflow": Case(check=error(400, "1261")),
    "sensitive_input": Case(check=error(400, "1301")),
    "zai_error": Case({"code": "1304"}, check=zai_1304),
    "insufficient_user_quota": Case(check=user_quota),
    "model_not_found": Case(check=model_not_found),
    "strict": Case(body={"user": "someone"}, check=error(400, "1214")),
    "require_reasoning": Case(body=HISTORY_WITHOUT_REASONING, check=error(400, "1214")),
    "error_body_200": Case(check=error_under_200),
    "error_shape": Case({"shape": "bare"}, body={"temperature": 5}, check=bare_error),
    "done_after_cut": Case({"after": 3}, stream=True, check=done_after_cut),
    "no_finish": Case(stream=True, check=no_finish),
    "stall": Case({"seconds": 0.3}, stream=True, check=stalled),
    "done_whitespace": Case(stream=True, check=done_whitespace),
    "stream_cut": Case({"after": 3}, stream=True, check=cut_after_3),
    "error_event": Case({"message": "upstream broke"}, stream=True, check=error_event),
    "malformed": Case(stream=True, check=has_malformed_line),
    "keepalive": Case({"every": 2}, stream=True, check=pings),
    "crlf": Case(stream=True, check=crlf),
    "no_space": Case(stream=True, check=no_space),
    "fragment": Case({"size": 5}, stream=True, check=whole),
    "finish": Case({"reason": "network_error"}, check=finish("network_error")),
    "finish_stop": Case(check=finish("stop")),
    "finish_length": Case(check=finish("length")),
    "finish_tool_calls": Case(check=finish("tool_calls")),
    "finish_sensitive": Case(check=finish("sensitive")),
    "finish_network_error": Case(check=finish("network_error")),
    "finish_context_window": Case(check=finish("model_context_window_exceeded")),
    "finish_unknown": Case(check=finish("abort")),
    "finish_abort": Case(check=finish("abort")),
    "empty_tool_calls": Case(check=empty_tool_calls),
    "reasoning_field": Case(check=reasoning_field),
    "think_tags": Case(check=think_tags),
    "fresh_tool_ids": Case(body=FORCED, stream=True, check=fresh_ids),
    "reasoning_only": Case(check=reasoning_only),
    "ignore_tool_choice": Case(body=FORCED, check=text_instead_of_call),
    "json_fence": Case(body={"response_format": {"type": "json_object"}}, check=fenced),
    "dialect": Case({"name": "openai"}, stream=True, check=openai_chunks),
    "tool_stream": Case(body=FORCED, stream=True, check=fragmented_calls),
    "reasoning_tokens": Case(check=reasoning_tokens),
    "glm_newlines": Case(check=glm_newlines),
    "gateway_errors": Case(body={"temperature": 5}, check=gateway_error),
}


def test_every_fault_has_a_case() -> None:
    assert set(CASES) == set(FAULTS)


@pytest.mark.parametrize("by", ["header", "key"])
@pytest.mark.parametrize("name", list(CASES))
def test_fault_is_reachable(curl: Any, make_body: Any, name: str, by: str) -> None:
    case = CASES[name]
    body = {**make_body("Hello"), **case.body, "stream": case.stream}
    if by == "header":
        kwargs: dict[str, Any] = {"headers": fault_header(name, **case.params)}
    else:
        kwargs = {"key": fault_key(name, **case.params)}
    started = time.monotonic()
    if case.raises:
        with pytest.raises(httpx.TransportError):
            curl.post(body, **kwargs)
        return
    reply = curl.post(body, **kwargs)
    case.check(reply)
    elapsed = time.monotonic() - started
    if name == "slow":
        assert elapsed >= 0.3
    if name == "slow_stream":
        assert elapsed >= 0.01 * len(reply.events) * 0.8
    if name == "stall":
        assert elapsed >= 0.3


def _gateway_request_id(reply: Any) -> None:
    assert reply.json["request_id"] == reply.headers["x-request-id"]
    assert reply.json["error"]["message"].endswith(f" (request id: {reply.json['request_id']})")


@pytest.mark.parametrize(
    ("shape", "check"),
    [
        (
            "zai",
            lambda r: (
                r.raw == b'{"error":{"code":"1302","message":"Rate limit reached for requests, please '
                b'try again later."}}'
            ),
        ),
        ("gateway", _gateway_request_id),
        ("bare", lambda r: r.raw.startswith(b'{"code":1302,"msg":"Rate limit reached')),
        (
            "text",
            lambda r: (
                r.raw == b"Rate limit reached for requests, please try again later."
                and r.headers["content-type"].startswith("text/plain")
            ),
        ),
        ("html", lambda r: r.raw.startswith(b"<html>") and r.headers["content-type"] == "text/html"),
    ],
)
def test_every_error_body_shape(curl: Any, make_body: Any, shape: str, check: Callable[[Any], bool | None]) -> None:
    reply = curl.post(make_body(), headers={"X-AnyFast-Fault": f"rate_limit;retry_after=0, error_shape;shape={shape}"})
    assert reply.status == 429
    assert reply.headers["retry-after"] == "0"  # the shape changes the body, not the headers
    assert check(reply) is not False


@pytest.mark.parametrize("code", list(ZAI_CODES))
def test_every_zai_code_under_its_status(curl: Any, make_body: Any, code: str) -> None:
    status, message = ZAI_CODES[code]
    reply = curl.post(make_body(), headers=fault_header("zai_error", code=code))
    assert reply.status == status
    assert reply.json == {"error": {"code": code, "message": message}}


def test_quota_and_route_errors_under_each_status(curl: Any, make_body: Any) -> None:
    for status in (403, 429):
        reply = curl.post(make_body(), headers=fault_header("insufficient_user_quota", status=status))
        assert (reply.status, reply.json["error"]["code"]) == (status, "insufficient_user_quota")
    reply = curl.post(make_body(), headers=fault_header("model_not_found"))
    assert (reply.status, reply.json["error"]["code"]) == (503, "model_not_found")


def test_a_stall_holds_the_stream_after_its_first_event(emulator: Emulator, make_body: Any) -> None:
    body = make_body("Hello", stream=True)
    headers = {"Authorization": "Bearer k", **fault_header("stall", seconds=0.5)}
    with (
        httpx.Client(timeout=5) as http,
        http.stream("POST", emulator.base_url + "/chat/completions", json=body, headers=headers) as response,
    ):
        lines = response.iter_lines()
        started = time.monotonic()
        first = next(line for line in lines if line.startswith("data:"))
        assert json.loads(first[5:])["choices"][0]["delta"]
        second = next(line for line in lines if line.startswith("data:"))
        assert time.monotonic() - started >= 0.45
        assert second != first
    with httpx.Client(timeout=httpx.Timeout(5, read=0.2)) as http, pytest.raises(httpx.ReadTimeout):
        http.post(emulator.base_url + "/chat/completions", json=body, headers=headers).read()


def test_done_after_cut_on_a_non_streaming_request_has_no_finish_reason(curl: Any, make_body: Any) -> None:
    for name in ("done_after_cut", "no_finish"):
        reply = curl.post(make_body(), headers=fault_header(name))
        assert reply.json["choices"][0]["finish_reason"] is None, name


def test_think_tags_straddle_stream_chunks(curl: Any, make_body: Any) -> None:
    reply = curl.post(make_body(stream=True), headers=fault_header("think_tags"))
    pieces = [c["choices"][0]["delta"].get("content", "") for c in reply.chunks]
    assert "<think>" not in pieces  # each tag split over several chunks
    assert "</think>" not in pieces
    text = "".join(pieces)
    assert text.startswith("<think>The user greets me.")
    assert text.endswith("</think>Hello! How can I help you today?")
    assert b"reasoning_content" not in reply.raw


def test_reasoning_field_in_streams(curl: Any, make_body: Any) -> None:
    reply = curl.post(make_body(stream=True), headers=fault_header("reasoning_field"))
    reasoning = "".join(c["choices"][0]["delta"].get("reasoning", "") for c in reply.chunks)
    assert reasoning.startswith("The user greets me.")
    assert b"reasoning_content" not in reply.raw


def test_without_the_fault_the_same_request_succeeds(curl: Any, make_body: Any) -> None:
    reply = curl.post(make_body("Hello"))
    assert reply.status == 200
    assert reply.json["choices"][0]["finish_reason"] == "stop"


def test_times_counts_per_id_and_reset_clears(emulator: Emulator, curl: Any, make_body: Any) -> None:
    spec = {"X-AnyFast-Fault": "rate_limit;times=2;retry_after=0;id=a"}
    assert [curl.post(make_body(), headers=spec).status for _ in range(3)] == [429, 429, 200]
    other = {"X-AnyFast-Fault": "rate_limit;times=1;id=b"}
    assert [curl.post(make_body(), headers=other).status for _ in range(2)] == [429, 200]
    emulator.reset()
    assert curl.post(make_body(), headers=spec).status == 429


def test_several_faults_in_one_header(curl: Any, make_body: Any) -> None:
    reply = curl.post(
        make_body(stream=True), headers={"X-AnyFast-Fault": "keepalive;every=1, crlf, dialect;name=openai"}
    )
    assert reply.raw.startswith(b": PING\r\n\r\n")
    assert reply.chunks[0]["object"] == "chat.completion.chunk"


def test_stream_cut_modes(curl: Any, make_body: Any) -> None:
    clean = curl.post(make_body(stream=True), headers=fault_header("stream_cut", after=2))
    assert len(clean.events) == 2
    closed = curl.post(make_body(stream=True), headers=fault_header("stream_cut", after=2, mode="close"))
    assert len(closed.events) == 2
    assert "transfer-encoding" not in closed.headers
    with pytest.raises(httpx.TransportError):
        curl.post(make_body(stream=True), headers=fault_header("stream_cut", after=2, mode="abort"))
    with pytest.raises(httpx.TransportError):
        curl.post(make_body(), headers=fault_header("stream_cut"))  # non-streaming: a body cut short


def test_bad_fault_specs_are_400s(curl: Any, make_body: Any) -> None:
    for spec in ("no_such_fault", "rate_limit;times", "slow;delay=soon", "stream_cut;mode=sideways"):
        reply = curl.post(make_body(stream=True), headers={"X-AnyFast-Fault": spec})
        assert reply.status == 400, spec
        assert reply.json["error"]["code"] == "fault_spec"
    with pytest.raises(FaultSpecError):
        fault_header("no_such_fault")
    with pytest.raises(FaultSpecError):
        Emulator(faults=["nope"])


def test_server_wide_faults(make_body: Any) -> None:
    with Emulator(faults=["http_503;times=1"]) as emu:
        first = httpx.post(emu.base_url + "/chat/completions", json=make_body(), headers={"Authorization": "Bearer k"})
        second = httpx.post(emu.base_url + "/chat/completions", json=make_body(), headers={"Authorization": "Bearer k"})
    assert (first.status_code, second.status_code) == (503, 200)
