"""Scripted mode: a queue of replies per test, in-process or over HTTP, with the requests kept for assertions."""

from __future__ import annotations

import json

import httpx
import pytest

from anyfast_core import AnyFastClient, AsyncAnyFastClient, ChatRequest, RateLimitError, StreamInterruptedError
from anyfast_emulator import Emulator, Reply

HELLO = ChatRequest.create(model="glm-5.2", messages=[{"role": "user", "content": "Hello"}])


def client(emu: Emulator) -> AnyFastClient:
    return AnyFastClient(api_key=emu.api_key, base_url=emu.base_url, max_retries=0)


def test_replies_come_in_order_and_requests_are_kept() -> None:
    script = [
        Reply.text("Hi!", reasoning="A greeting."),
        Reply.tool_calls(("price_lookup", {"product_id": "K2"}), ("calculator", {"expression": "3*2"})),
        "plain strings are text answers",
    ]
    with Emulator.scripted(script) as emu, client(emu) as c:
        first = c.chat(HELLO)
        second = c.chat(HELLO)
        third = c.chat(HELLO)
        assert emu.script.pending == 0
    assert (first.message.content, first.message.reasoning_content) == ("Hi!", "A greeting.")
    assert [(t.function.name, json.loads(t.function.arguments)) for t in second.message.tool_calls or ()] == [
        ("price_lookup", {"product_id": "K2"}),
        ("calculator", {"expression": "3*2"}),
    ]
    assert second.finish_reason == "tool_calls"
    assert third.message.content == "plain strings are text answers"
    assert [body["messages"][0]["content"] for body in emu.requests] == ["Hello"] * 3
    assert len({first.id, second.id, third.id}) == 3


def test_an_exhausted_script_is_a_loud_500() -> None:
    with Emulator.scripted(["only one"]) as emu:
        httpx.post(emu.base_url + "/chat/completions", json=HELLO.to_body(), headers={"Authorization": "Bearer k"})
        reply = httpx.post(
            emu.base_url + "/chat/completions", json=HELLO.to_body(), headers={"Authorization": "Bearer k"}
        )
    assert reply.status_code == 500
    assert reply.json()["error"]["code"] == "script_empty"
    assert "1 replies served" in reply.json()["error"]["message"]


def test_a_plain_emulator_falls_back_to_heuristics_after_the_script(emulator: Emulator) -> None:
    emulator.script.push(Reply.text("scripted"))
    with client(emulator) as c:
        assert c.chat(HELLO).message.content == "scripted"
        assert c.chat(HELLO).message.content == "Hello! How can I help you today?"


def test_errors_and_faults_per_reply() -> None:
    script = [
        Reply.error(429, "Slow down", code="1302"),
        Reply.error(502, body="<html>bad gateway</html>"),
        Reply.text("one two three four five six").with_fault("stream_cut", after=2),
    ]
    with Emulator.scripted(script) as emu, client(emu) as c:
        with pytest.raises(RateLimitError, match="Slow down"):
            c.chat(HELLO)
        raw = httpx.post(
            emu.base_url + "/chat/completions", json=HELLO.to_body(), headers={"Authorization": "Bearer k"}
        )
        assert (raw.status_code, raw.headers["content-type"], raw.text) == (
            502,
            "text/html",
            "<html>bad gateway</html>",
        )
        with pytest.raises(StreamInterruptedError):
            list(c.stream(HELLO))


def test_requests_are_still_validated_before_a_reply_is_taken() -> None:
    with Emulator.scripted(["kept"]) as emu:
        bad = {**HELLO.to_body(), "temperature": 3}
        reply = httpx.post(emu.base_url + "/chat/completions", json=bad, headers={"Authorization": "Bearer k"})
        assert (reply.status_code, reply.json()["error"]["code"]) == (400, "1214")
        assert emu.script.pending == 1


async def test_streamed_and_async() -> None:
    emu = Emulator.scripted([Reply.text("streamed words", reasoning="thinking first")])
    async with emu, AsyncAnyFastClient(api_key=emu.api_key, base_url=emu.base_url) as c:
        deltas = [delta async for delta in await c.stream(HELLO)]
    text = "".join(d.content for d in deltas)
    reasoning = "".join(d.reasoning for d in deltas)
    assert (text, reasoning) == ("streamed words", "thinking first")


def test_over_http_for_an_emulator_in_another_process() -> None:
    with Emulator(scripted=True) as emu, httpx.Client(base_url=emu.url) as http:
        queued = http.post(
            "/_emulator/script",
            json=[{"content": "from JSON"}, {"tool_calls": [{"name": "add", "arguments": {"a": 1}}]}, {"status": 503}],
        )
        assert queued.json() == {"pending": 3, "served": 0}
        auth = {"Authorization": "Bearer k"}
        first = http.post("/v1/chat/completions", json=HELLO.to_body(), headers=auth).json()
        second = http.post("/v1/chat/completions", json=HELLO.to_body(), headers=auth).json()
        third = http.post("/v1/chat/completions", json=HELLO.to_body(), headers=auth)
        assert first["choices"][0]["message"]["content"] == "from JSON"
        assert second["choices"][0]["message"]["tool_calls"][0]["function"] == {"name": "add", "arguments": '{"a": 1}'}
        assert third.status_code == 503
        assert len(http.get("/_emulator/requests").json()["requests"]) == 3
        assert http.post("/_emulator/script", json={"replies": [{"nope": 1}]}).status_code == 400
        http.post("/_emulator/script", json=["x"])
        assert http.delete("/_emulator/script").json()["pending"] == 0


def test_reset_empties_the_script(emulator: Emulator) -> None:
    emulator.script.push("left over")
    emulator.reset()
    assert emulator.script.pending == 0


@pytest.mark.parametrize(
    "reply",
    [
        Reply.text("a", reasoning="b", finish_reason="length"),
        Reply.tool_call("f", '{"x": 1}'),
        Reply.error(503, "down"),
    ],
)
def test_the_json_form_round_trips(reply: Reply) -> None:
    assert Reply.from_json(json.loads(json.dumps(reply.to_json()))) == reply


def test_mistakes_in_a_script_fail_in_the_test() -> None:
    with pytest.raises(ValueError, match="4xx or 5xx"):
        Reply.error(200)
    with pytest.raises(ValueError, match="unknown fault"):
        Reply.text("x").with_fault("no_such_fault")
    with pytest.raises(ValueError, match="unknown fields"):
        Reply.from_json({"text": "x"})
