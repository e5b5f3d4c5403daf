"""The emulator answers plain HTTP (what ``curl`` sends) the way the wire doc says."""

from __future__ import annotations

import json
import shutil
import socket
import subprocess
from typing import Any

import httpx
import pytest

from anyfast_emulator import Emulator

WEATHER = {
    "type": "function",
    "function": {
        "name": "weather",
        "description": "Get weather information for a location",
        "parameters": {"type": "object", "properties": {"location": {"type": "string"}}, "required": ["location"]},
    },
}


def test_non_streaming_answer(curl: Any, make_body: Any) -> None:
    reply = curl.post(make_body("Hello"))
    assert reply.status == 200
    assert reply.headers["content-type"] == "application/json; charset=UTF-8"
    body = reply.json
    assert body["object"] == "chat.completion"
    assert body["request_id"] == body["id"]
    assert body["created"] == 1767225600
    choice = body["choices"][0]
    assert choice["message"]["content"] == "Hello! How can I help you today?"
    assert choice["message"]["reasoning_content"]
    assert choice["finish_reason"] == "stop"
    usage = body["usage"]
    assert usage["total_tokens"] == usage["prompt_tokens"] + usage["completion_tokens"]
    assert usage["prompt_tokens_details"] == {"cached_tokens": 0}
    assert reply.headers["x-request-id"] == body["id"]


def test_glm_stream(curl: Any, make_body: Any) -> None:
    reply = curl.post(make_body("Hello", stream=True, stream_options={"include_usage": True}))
    assert reply.status == 200
    assert reply.headers["content-type"] == "text/event-stream;charset=UTF-8"
    assert reply.headers["transfer-encoding"] == "chunked"
    assert reply.events[-1] == "[DONE]"
    chunks = reply.chunks
    assert all(c["choices"][0]["delta"]["role"] == "assistant" for c in chunks)
    assert "".join(c["choices"][0]["delta"].get("content", "") for c in chunks) == "Hello! How can I help you today?"
    assert chunks[-1]["choices"][0]["finish_reason"] == "stop"
    assert chunks[-1]["usage"]["completion_tokens"] > 0


def test_openai_stream(curl_openai: Any, make_body: Any) -> None:
    reply = curl_openai.post(make_body("Hello", stream=True, stream_options={"include_usage": True}))
    chunks = reply.chunks
    assert chunks[0]["object"] == "chat.completion.chunk"
    assert chunks[-1]["choices"] == []
    assert "usage" in chunks[-1]
    assert chunks[-2]["choices"][0]["finish_reason"] == "stop"
    assert reply.events[-1] == "[DONE]"


@pytest.mark.parametrize("tool_stream", [False, True], ids=["whole", "fragmented"])
def test_streamed_tool_calls(curl: Any, make_body: Any, tool_stream: bool) -> None:
    body = make_body("What's the weather in Florence,Italy?", tools=[WEATHER], stream=True, tool_stream=tool_stream)
    chunks = curl.post(body).chunks
    fragments = [c["choices"][0]["delta"]["tool_calls"][0] for c in chunks if "tool_calls" in c["choices"][0]["delta"]]
    arguments = "".join(f["function"]["arguments"] for f in fragments)
    assert json.loads(arguments) == {"location": "Florence,Italy"}
    assert len(fragments) == (1 if not tool_stream else len(fragments))
    if tool_stream:
        assert len(fragments) > 3
        assert fragments[0]["function"]["arguments"] == ""
    assert chunks[-1]["choices"][0]["finish_reason"] == "tool_calls"


def test_non_streaming_tool_call(curl: Any, make_body: Any) -> None:
    message = curl.post(make_body("What's the weather in Florence,Italy?", tools=[WEATHER])).json["choices"][0][
        "message"
    ]
    call = message["tool_calls"][0]
    assert call["type"] == "function"
    assert call["index"] == 0
    assert call["id"].startswith("call_")
    assert json.loads(call["function"]["arguments"]) == {"location": "Florence,Italy"}


def test_json_object(curl: Any, make_body: Any) -> None:
    body = make_body("A cat joke as JSON with 'setup' and 'punchline' keys.", response_format={"type": "json_object"})
    content = curl.post(body).json["choices"][0]["message"]["content"]
    assert set(json.loads(content)) == {"setup", "punchline"}


def test_models(curl: Any) -> None:
    reply = curl.get("/v1/models")
    assert reply.json["data"][:1] == [
        {
            "id": "glm-5.2",
            "object": "model",
            "created": 1626777600,
            "owned_by": "zhipu",
            "supported_endpoint_types": ["openai"],
        }
    ]
    assert curl.get("/v1/models", key=None).status == 401
    assert curl.get("/v1/models", key="fault-http_503").status == 503


def test_401_bodies_are_the_documented_ones(curl: Any, make_body: Any) -> None:
    missing = curl.post(make_body(), key=None)
    assert (missing.status, missing.json) == (401, {"error": {"message": "No token provided"}})
    with Emulator(api_keys=["right-key"]) as emu:
        wrong = httpx.post(
            emu.base_url + "/chat/completions", json=make_body(), headers={"Authorization": "Bearer wrong"}
        )
        right = httpx.post(
            emu.base_url + "/chat/completions", json=make_body(), headers={"Authorization": "Bearer right-key"}
        )
    assert wrong.status_code == 401
    assert wrong.json() == {
        "error": {"message": "Invalid API key provided.", "type": "authentication_error", "code": "invalid_api_key"}
    }
    assert right.status_code == 200


BAD_FIELDS: dict[str, dict[str, Any]] = {
    "model": {"model": ""},
    "messages": {"messages": []},
    "message_role": {"messages": [{"role": "robot", "content": "hi"}]},
    "thinking": {"thinking": {"type": "sometimes"}},
    "reasoning_effort": {"reasoning_effort": "extreme"},
    "max_tokens_low": {"max_tokens": 0},
    "max_tokens_high": {"max_tokens": 131073},
    "max_tokens_type": {"max_tokens": "many"},
    "temperature_low": {"temperature": -0.1},
    "temperature_high": {"temperature": 1.5},
    "top_p_low": {"top_p": 0.0},
    "top_p_high": {"top_p": 1.01},
    "stream": {"stream": "yes"},
    "tools": {"tools": [{"type": "function"}]},
    "tool_name": {"tools": [{"type": "function", "function": {"name": "bad name!"}}]},
    "tool_choice_without_tools": {"tool_choice": "required"},
    "tool_choice_unbound": {"tools": [WEATHER], "tool_choice": {"type": "function", "function": {"name": "nope"}}},
    "tool_choice_mode": {"tools": [WEATHER], "tool_choice": "sometimes"},
    "response_format": {"response_format": {"type": "xml"}},
    "response_format_json_schema": {"response_format": {"type": "json_schema", "json_schema": {}}},
    "stop": {"stop": ""},
    "stop_list": {"stop": ["ok", 3]},
    "tool_stream": {"tool_stream": "on"},
    "stream_options": {"stream_options": {"include_usage": "yes"}},
    "tools_too_many": {
        "tools": [
            {"type": "function", "function": {"name": f"t{i}", "parameters": {"type": "object"}}} for i in range(129)
        ]
    },
    "tools_schema_not_object": {
        "tools": [{"type": "function", "function": {"name": "t", "parameters": {"type": "string"}}}]
    },
    "tools_schema_properties": {
        "tools": [
            {"type": "function", "function": {"name": "t", "parameters": {"type": "object", "properties": {"a": 1}}}}
        ]
    },
    "tools_duplicate_names": {"tools": [WEATHER, WEATHER]},
    "thinking_clear": {"thinking": {"type": "enabled", "clear_thinking": "no"}},
    "messages_content": {"messages": [{"role": "user", "content": 42}]},
    "messages_tool_calls": {"messages": [{"role": "assistant", "content": "", "tool_calls": [{"id": "c"}]}]},
    "top_p_nan": {"top_p": float("nan")},
    "max_tokens_bool": {"max_tokens": True},
}


@pytest.mark.parametrize("field", list(BAD_FIELDS))
def test_400_1214_for_every_out_of_range_field(curl: Any, make_body: Any, field: str) -> None:
    reply = (
        curl.post({**make_body(), **BAD_FIELDS[field]})
        if field != "top_p_nan"
        else curl.post(
            json.dumps({**make_body(), **BAD_FIELDS[field]}).encode()  # NaN: not strict JSON, but Python sends it
        )
    )
    assert reply.status == 400
    assert set(reply.json) == {"error"}
    error = reply.json["error"]
    assert set(error) == {"code", "message"}  # Z.ai's shape: no type
    assert error["code"] == "1214"
    named = field.split("_")[0] if field != "message_role" else "messages"
    assert named in error["message"]


@pytest.mark.parametrize(
    ("fields", "allowed"),
    [
        ({"max_tokens": 1, "temperature": 0, "top_p": 0.01}, True),
        ({"max_tokens": 131072, "temperature": 1, "top_p": 1}, True),
        ({"reasoning_effort": "minimal", "thinking": {"type": "disabled", "clear_thinking": True}}, True),
        ({"stop": ["a", "b"], "response_format": {"type": "text"}, "tool_stream": False}, True),
        ({"tools": [WEATHER], "tool_choice": {"type": "function", "function": {"name": "weather"}}}, True),
        ({"tools": [{"type": "function", "function": {"name": "no_args"}}], "tool_choice": "none"}, True),
        ({"tools": [{"type": "function", "function": {"name": f"t{i}"}} for i in range(128)]}, True),
    ],
    ids=["low-ends", "high-ends", "effort-thinking", "stop-format", "named-choice", "no-parameters", "128-tools"],
)
def test_the_documented_ranges_are_accepted_up_to_their_ends(
    curl: Any, make_body: Any, fields: dict[str, Any], allowed: bool
) -> None:
    assert (curl.post({**make_body(), **fields}).status == 200) is allowed


@pytest.mark.parametrize(
    ("body", "code"),
    [
        ({"messages": [{"role": "user", "content": "Hi"}]}, "1213"),
        ({"model": "glm-5.2"}, "1213"),
        ({"model": "glm-5.2", "messages": [{"role": "tool", "content": "5"}]}, "1213"),
        ({"model": "glm-5.2", "messages": [{"role": "user", "content": "Hi"}], "user": 1}, None),
    ],
    ids=["no-model", "no-messages", "no-tool-call-id", "tolerated-extra"],
)
def test_a_missing_field_is_a_1213(curl: Any, body: dict[str, Any], code: str | None) -> None:
    reply = curl.post(body)
    assert (reply.status, reply.json.get("error", {}).get("code")) == ((400, code) if code else (200, None))


def test_400_for_a_body_that_is_not_a_json_object(curl: Any) -> None:
    for raw in (b"not json", b"[1, 2]", b""):
        reply = curl.post(raw)
        assert (reply.status, reply.json["error"]["code"]) == (400, "1210")


def test_an_unknown_model_is_a_404_1211_unless_allowed(curl: Any, make_body: Any) -> None:
    reply = curl.post({**make_body(), "model": "glm-4.5"})
    assert reply.status == 404
    assert reply.json["error"]["code"] == "1211"
    assert "glm-4.5" in reply.json["error"]["message"]
    assert curl.get("/v1/models/glm-4.5").status == 404
    with Emulator(models=None) as any_model, Emulator(models=["glm-5.2", "glm-4.5"]) as two:
        for emu in (any_model, two):
            answer = httpx.post(
                emu.base_url + "/chat/completions",
                json={**make_body(), "model": "glm-4.5"},
                headers={"Authorization": "Bearer k"},
            )
            assert (answer.status_code, answer.json()["model"]) == (200, "glm-4.5")


def test_a_path_without_v1_is_a_404(curl: Any, make_body: Any) -> None:
    assert curl.post(make_body(), path="/chat/completions").status == 404
    assert curl.get("/models").status == 404
    assert curl.post(make_body(), path="/v1/chat/completions").status == 200


def test_two_requests_never_share_a_response_id(curl: Any, make_body: Any) -> None:
    ids = [curl.post(make_body("Same")).json["id"] for _ in range(3)]
    ids.append(curl.post(make_body("Same", stream=True)).chunks[0]["id"])
    assert len(set(ids)) == 4


def test_unknown_fields_pass_unless_strict(curl: Any, make_body: Any) -> None:
    assert curl.post(make_body(user="u-1", parallel_tool_calls=True)).status == 200
    strict = curl.post(make_body(user="u-1"), headers={"X-AnyFast-Fault": "strict"})
    assert strict.status == 400
    assert "user" in strict.json["error"]["message"]


def test_404_and_405(curl: Any, make_body: Any) -> None:
    assert curl.post(make_body(), path="/v1/completions").status == 404
    assert curl.get("/v1/chat/completions").status == 405


def test_requests_are_recorded_without_authorization(emulator: Emulator, curl: Any, make_body: Any) -> None:
    curl.post(make_body("one"), headers={"X-Trace": "t1"})
    curl.post(make_body("two", temperature=5))
    assert [b["messages"][0]["content"] for b in emulator.requests] == ["one", "two"]
    first = emulator.received[0]
    assert first.headers["x-trace"] == "t1"
    assert "authorization" not in first.headers
    emulator.reset()
    assert emulator.requests == []


def _raw_exchange(emu: Emulator, payload: bytes, reads: int) -> bytes:
    with socket.create_connection(("127.0.0.1", emu.port), timeout=5) as sock:
        sock.sendall(payload)
        received = b""
        while received.count(b"HTTP/1.1 ") < reads or not received.endswith((b"}", b"\r\n\r\n")):
            chunk = sock.recv(65536)
            if not chunk:
                break
            received += chunk
        return received


def test_keep_alive_serves_several_requests_on_one_connection(emulator: Emulator, make_body: Any) -> None:
    body = json.dumps(make_body()).encode()
    request = (
        b"POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer k\r\n"
        b"Content-Type: application/json\r\nContent-Length: %d\r\n\r\n%s" % (len(body), body)
    )
    received = _raw_exchange(emulator, request * 3, reads=3)
    assert received.count(b"HTTP/1.1 200 OK") == 3
    assert len(emulator.requests) == 3


def test_expect_continue_and_chunked_request_bodies(emulator: Emulator, make_body: Any) -> None:
    body = json.dumps(make_body("chunked")).encode()
    head = (
        b"POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer k\r\nExpect: 100-continue\r\n"
        b"Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n"
    )
    chunked = b"".join(b"%x\r\n%s\r\n" % (len(body[i : i + 10]), body[i : i + 10]) for i in range(0, len(body), 10))
    received = _raw_exchange(emulator, head + chunked + b"0\r\n\r\n", reads=2)
    assert received.startswith(b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK")
    assert emulator.requests[-1]["messages"][0]["content"] == "chunked"


def test_received_requests_are_bounded() -> None:
    from anyfast_emulator.app import MAX_RECEIVED

    with Emulator() as emu:
        assert emu.app.received.maxlen == MAX_RECEIVED


@pytest.mark.skipif(shutil.which("curl") is None, reason="needs the curl binary")
def test_real_curl_streams_and_gets_401(emulator: Emulator) -> None:
    body = json.dumps({"model": "glm-5.2", "messages": [{"role": "user", "content": "Hello"}], "stream": True})
    url = emulator.base_url + "/chat/completions"
    common = ["curl", "-sS", "--no-buffer", "-H", "Content-Type: application/json", "-d", body, url]
    streamed = subprocess.run(
        [*common, "-H", f"Authorization: Bearer {emulator.api_key}"], capture_output=True, text=True, timeout=30
    )
    assert streamed.stdout.startswith("data: {")
    assert streamed.stdout.endswith("data: [DONE]\n\n")
    refused = subprocess.run([*common, "-w", "%{http_code}"], capture_output=True, text=True, timeout=30)
    assert refused.stdout == '{"error":{"message":"No token provided"}}401'


def test_require_reasoning_checks_preserved_thinking(curl: Any, make_body: Any) -> None:
    history = [
        {"role": "user", "content": "Hi"},
        {"role": "assistant", "content": "Hello!"},
        {"role": "user", "content": "Again"},
    ]
    fault = {"X-AnyFast-Fault": "require_reasoning"}
    assert curl.post({**make_body(), "messages": history}, headers=fault).status == 200
    preserved = {**make_body(), "messages": history, "thinking": {"type": "enabled", "clear_thinking": False}}
    refused = curl.post(preserved, headers=fault)
    assert refused.status == 400
    assert "messages[1]" in refused.json["error"]["message"]
    history[1]["reasoning_content"] = "The user greets me."
    assert curl.post(preserved, headers=fault).status == 200


def test_a_prompt_over_the_context_window_is_a_1261(make_body: Any) -> None:
    with Emulator(context_window=50) as emu:
        headers = {"Authorization": f"Bearer {emu.api_key}"}
        long = httpx.post(emu.base_url + "/chat/completions", json=make_body("word " * 60), headers=headers)
        short = httpx.post(emu.base_url + "/chat/completions", json=make_body("Hello"), headers=headers)
    assert long.status_code == 400
    assert long.json()["error"]["code"] == "1261"
    assert short.status_code == 200


def test_the_context_window_is_glm_5_2s_million_tokens(curl: Any, make_body: Any) -> None:
    from anyfast_emulator import CONTEXT_WINDOW

    assert CONTEXT_WINDOW == 1_000_000  # AnyFast's GLM-5.2 guide
    over = make_body("lorem " * 1_000_000)  # one token a word, past the window with the template's overhead
    reply = curl.post(over)
    assert (reply.status, reply.json["error"]["code"]) == (400, "1261")
    assert "1000000" in reply.json["error"]["message"]


def test_large_bodies_are_read_whole(curl: Any, make_body: Any) -> None:
    big = "lorem ipsum " * 90_000  # 1 MB (past any single socket read), 180k tokens (under the window)
    reply = curl.post(make_body(f"Reply with exactly 'ok'. {big}"))
    assert reply.status == 200
    assert reply.json["choices"][0]["message"]["content"] == "ok"
    assert reply.json["usage"]["prompt_tokens"] > 180_000
