"""ChatAnyFast end to end over an in-process transport: the request on the wire, the messages and
chunks that come back (real GLM recordings and GLM-shaped scripts), reasoning everywhere it belongs."""

from __future__ import annotations

import json
from typing import Any

import pytest
import testkit
from langchain_core.callbacks import BaseCallbackHandler
from langchain_core.messages import AIMessage, HumanMessage, ToolMessage

from langchain_anyfast import ChatAnyFast

from .conftest import DATA, ScriptedServer

_sum = testkit.merged


# --------------------------------------------------------------------------- the request


def test_every_documented_field_reaches_the_wire(server: ScriptedServer, make_model: Any, glm: Any) -> None:
    server.json(glm.completion())
    model = make_model(
        model="glm-5.2",
        thinking={"type": "enabled", "clear_thinking": False},
        reasoning_effort="high",
        max_tokens=2048,
        temperature=0.2,
        top_p=0.9,
        stop_sequences="END",
        model_kwargs={"user_id": "u-1"},
        extra_body={"do_sample": True},
    )
    model.invoke([("system", "Be brief."), ("human", "Hi")])
    assert server.requests[0] == {
        "model": "glm-5.2",
        "messages": [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "Hi"}],
        "thinking": {"type": "enabled", "clear_thinking": False},
        "reasoning_effort": "high",
        "max_tokens": 2048,
        "temperature": 0.2,
        "top_p": 0.9,
        "stop": ["END"],
        "do_sample": True,
        "user_id": "u-1",
        "stream": False,
    }
    assert "max_completion_tokens" not in server.requests[0]


def test_thinking_bool_on_the_wire(server: ScriptedServer, make_model: Any, glm: Any) -> None:
    server.json(glm.completion())
    server.json(glm.completion(reasoning=None))
    make_model(thinking=True).invoke("Hi")
    make_model(thinking=False).invoke("Hi")
    assert server.requests[0]["thinking"] == {"type": "enabled"}
    assert server.requests[1]["thinking"] == {"type": "disabled"}


def test_per_call_overrides_through_invoke_and_bind(server: ScriptedServer, make_model: Any, glm: Any) -> None:
    model = make_model(temperature=0.5, reasoning_effort="max")
    for _ in range(3):
        server.json(glm.completion())
    model.invoke("Hi", model="glm-5.2-air", temperature=0.1, stop=["x"], reasoning_effort="low", thinking=False)
    model.bind(max_tokens=10, top_p=0.5).invoke("Hi")
    model.invoke("Hi", extra_body={"request_id": "r-1"})
    first, second, third = server.requests
    assert (first["model"], first["temperature"], first["stop"], first["reasoning_effort"], first["thinking"]) == (
        "glm-5.2-air",
        0.1,
        ["x"],
        "low",
        {"type": "disabled"},
    )
    assert (second["model"], second["temperature"], second["max_tokens"], second["top_p"]) == ("glm-5.2", 0.5, 10, 0.5)
    assert third["request_id"] == "r-1"


def test_streaming_request_asks_for_usage(server: ScriptedServer, make_model: Any, glm: Any) -> None:
    """Usage is asked for on every stream (a gateway asked not to may drop the last chunk and its
    finish reason) and handed over only when wanted."""
    for _ in range(3):
        server.sse(glm.chunks())
    wanted = testkit.merged(list(make_model().stream("Hi")))
    unwanted = testkit.merged(list(make_model(stream_usage=False, tool_stream=True).stream("Hi")))
    per_call = testkit.merged(list(make_model().stream("Hi", stream_usage=False)))
    assert [body["stream_options"] for body in server.requests] == [{"include_usage": True}] * 3
    assert server.requests[0]["stream"] is True
    assert server.requests[1]["tool_stream"] is True
    assert wanted.usage_metadata is not None
    assert unwanted.usage_metadata is None
    assert per_call.usage_metadata is None
    assert unwanted.response_metadata["finish_reason"] == per_call.response_metadata["finish_reason"] == "stop"


def test_extra_body_cannot_set_documented_fields() -> None:
    """Range and type checks of settings are tested for both adapters in tests/reliability/test_bad_input.py."""
    with pytest.raises(ValueError, match="extra_body") as info:
        ChatAnyFast(api_key="sk-secret-abc", extra_body={"temperature": 0.3})
    assert "sk-secret-abc" not in str(info.value)


def test_missing_key_is_a_clear_error_before_any_request(
    server: ScriptedServer, make_model: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    from langchain_core.exceptions import ModelAuthenticationError

    from anyfast_core import MissingAPIKeyError

    monkeypatch.delenv("ANYFAST_API_KEY", raising=False)
    model = make_model(api_key=None)
    with pytest.raises(MissingAPIKeyError, match="ANYFAST_API_KEY") as info:
        model.invoke("Hi")
    assert isinstance(info.value, ModelAuthenticationError)
    assert server.requests == []


def test_key_and_base_url_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ANYFAST_API_KEY", "sk-from-env")
    monkeypatch.setenv("ANYFAST_BASE_URL", "http://127.0.0.1:5/v1")
    model = ChatAnyFast()
    assert model.api_key is not None
    assert model.api_key.get_secret_value() == "sk-from-env"
    assert model.client.base_url == "http://127.0.0.1:5/v1"
    assert "sk-from-env" not in repr(model)
    assert "sk-from-env" not in str(model.model_dump())


def test_key_goes_only_into_the_authorization_header(server: ScriptedServer, model: ChatAnyFast, glm: Any) -> None:
    server.json(glm.completion())
    model.invoke("Hi")
    assert server.headers[0]["authorization"] == "Bearer sk-test-langchain-0123456789abcdef"
    assert "sk-test" not in json.dumps(server.requests[0])


# --------------------------------------------------------------------------- answers


def test_invoke_replays_a_real_glm_answer(server: ScriptedServer, model: ChatAnyFast) -> None:
    server.recording("zai-glm-4.5_tool.1.json")
    message = model.invoke("What's the weather in Florence,Italy?")
    assert isinstance(message, AIMessage)
    assert message.content == "\n\n"
    assert message.additional_kwargs["reasoning_content"].startswith("The user is asking for the weather in Florence")
    assert message.tool_calls == [
        {
            "name": "weather",
            "args": {"location": "Florence,Italy"},
            "id": "call_-8303649628005950554",
            "type": "tool_call",
        }
    ]
    assert message.usage_metadata == {
        "input_tokens": 179,
        "output_tokens": 79,
        "total_tokens": 258,
        "input_token_details": {"cache_read": 43},
    }
    assert message.response_metadata == {
        "model_name": "glm-4.5",
        "finish_reason": "tool_calls",
        "id": "20250926190543de74b873b8e04ebc",
        "model_provider": "anyfast",
    }
    blocks = message.content_blocks
    assert [b["type"] for b in blocks] == ["reasoning", "text", "tool_call"]


@pytest.mark.parametrize("name", ["zai-glm-4.5_tool_streaming.1.sse", "zai-glm-4.6v_multi_tool_streaming.1.sse"])
def test_stream_replays_real_glm_streams(server: ScriptedServer, model: ChatAnyFast, name: str) -> None:
    server.recording(name)
    chunks = list(model.stream("Hi"))
    full = _sum(chunks)
    raw = (DATA / name).read_text()
    assert full.additional_kwargs["reasoning_content"] == "".join(
        json.loads(line[6:])["choices"][0]["delta"].get("reasoning_content", "")
        for line in raw.splitlines()
        if line.startswith("data: {")
    )
    expected_calls = 1 if "4.5" in name else 2
    assert len(full.tool_calls) == expected_calls
    assert full.response_metadata["finish_reason"] == "tool_calls"  # repeated on the wire, once here
    assert full.response_metadata["model_provider"] == "anyfast"
    assert [c.chunk_position for c in chunks].count("last") == 1
    assert chunks[-1].chunk_position == "last"
    with_usage = [c for c in chunks if c.usage_metadata]
    assert len(with_usage) == 1
    assert full.usage_metadata is not None
    assert full.usage_metadata["input_token_details"]["cache_read"] in (43, 258)
    assert full.content_blocks[0]["type"] == "reasoning"


@pytest.mark.parametrize("dialect", ["glm", "openai"])
def test_stream_dialects_give_the_same_message(
    server: ScriptedServer, model: ChatAnyFast, glm: Any, dialect: str
) -> None:
    server.sse(glm.chunks("Blue light scatters more.", reasoning="Rayleigh scattering.", dialect=dialect))
    chunks = list(model.stream("Why is the sky blue?"))
    full = _sum(chunks)
    assert full.content == "Blue light scatters more."
    assert full.additional_kwargs == {"reasoning_content": "Rayleigh scattering."}
    assert full.usage_metadata == {"input_tokens": 12, "output_tokens": 30, "total_tokens": 42}
    assert full.response_metadata["finish_reason"] == "stop"
    assert full.response_metadata["model_name"] == "glm-5.2"
    reasoning_chunks = [c for c in chunks if c.additional_kwargs.get("reasoning_content")]
    assert [c.additional_kwargs["reasoning_content"] for c in reasoning_chunks] == ["Rayleigh ", "scattering."]
    assert all(c.content == "" for c in reasoning_chunks)


async def test_async_invoke_and_stream(server: ScriptedServer, model: ChatAnyFast, glm: Any) -> None:
    server.json(glm.completion("Hi!", reasoning="Greet back."))
    server.sse(glm.chunks("Hi there!", reasoning="Greet back."))
    message = await model.ainvoke("Hello")
    assert (message.content, message.additional_kwargs["reasoning_content"]) == ("Hi!", "Greet back.")
    chunks = [chunk async for chunk in model.astream("Hello")]
    full = _sum(chunks)
    assert (full.content, full.additional_kwargs["reasoning_content"]) == ("Hi there!", "Greet back.")
    assert chunks[-1].chunk_position == "last"


def test_batch_and_abatch(server: ScriptedServer, model: ChatAnyFast, glm: Any) -> None:
    for _ in range(2):
        server.json(glm.completion("same"))
    assert [m.content for m in model.batch(["a", "b"])] == ["same", "same"]


def test_streaming_flag_streams_under_invoke(server: ScriptedServer, make_model: Any, glm: Any) -> None:
    server.sse(glm.chunks("Hi there!"))
    message = make_model(streaming=True).invoke("Hello")
    assert server.requests[0]["stream"] is True
    assert message.content == "Hi there!"
    assert message.additional_kwargs["reasoning_content"] == "The user greets me."


def test_usage_with_reasoning_tokens(server: ScriptedServer, model: ChatAnyFast, glm: Any) -> None:
    usage = {
        "prompt_tokens": 50,
        "completion_tokens": 20,
        "total_tokens": 70,
        "prompt_tokens_details": {"cached_tokens": 0},
        "completion_tokens_details": {"reasoning_tokens": 12},
    }
    server.json(glm.completion(usage=usage))
    message = model.invoke("Hi")
    assert message.usage_metadata == {
        "input_tokens": 50,
        "output_tokens": 20,
        "total_tokens": 70,
        "input_token_details": {"cache_read": 0},
        "output_token_details": {"reasoning": 12},
    }


def test_length_finish_reason_is_reported(server: ScriptedServer, model: ChatAnyFast, glm: Any) -> None:
    server.json(glm.completion("Once upon a", finish_reason="length"))
    assert model.invoke("Story").response_metadata["finish_reason"] == "length"


# --------------------------------------------------------------------------- reasoning surfaces


def test_callbacks_see_reasoning_chunks(server: ScriptedServer, model: ChatAnyFast, glm: Any) -> None:
    class Recorder(BaseCallbackHandler):
        def __init__(self) -> None:
            self.reasoning: list[str] = []
            self.tokens: list[str] = []

        def on_llm_new_token(self, token: str, *, chunk: Any = None, **kwargs: Any) -> None:
            self.tokens.append(token)
            if chunk is not None:
                self.reasoning.append(chunk.message.additional_kwargs.get("reasoning_content", ""))

    recorder = Recorder()
    server.sse(glm.chunks("Hello friend", reasoning="Be kind"))
    chunks = list(model.stream("Hi", config={"callbacks": [recorder]}))
    assert "".join(recorder.reasoning) == "Be kind"
    assert "".join(recorder.tokens) == "Hello friend"
    assert len(recorder.tokens) == len(chunks)  # one report per chunk, never doubled


def test_v1_output_invoke(server: ScriptedServer, make_model: Any) -> None:
    server.recording("zai-glm-4.5_tool.1.json")
    message = make_model(output_version="v1").invoke("Weather?")
    assert [b["type"] for b in message.content] == ["reasoning", "text", "tool_call"]
    assert message.content[0]["reasoning"].startswith("The user is asking")


def test_v1_stream_keeps_reasoning_text_and_tool_calls_apart(server: ScriptedServer, make_model: Any, glm: Any) -> None:
    calls = [glm.tool_call("add", {"a": 2, "b": 3}, "c0"), glm.tool_call("mul", {"a": 2, "b": 3}, "c1")]
    server.sse(
        glm.chunks(
            "Let me compute.", reasoning="Two tools.", tool_calls=calls, fragment_tools=True, finish_reason="tool_calls"
        )
    )
    chunks = list(make_model(output_version="v1").stream("2+3 and 2*3"))
    full = _sum(chunks)
    types = [(b["type"], b.get("index")) for b in full.content]
    assert types[:2] == [("reasoning", 0), ("text", 1)]
    assert [b["type"] for b in full.content[2:]] == ["tool_call", "tool_call"]
    assert full.content[0]["reasoning"] == "Two tools."
    assert full.content[1]["text"] == "Let me compute."
    assert [(b["name"], b["args"]) for b in full.content[2:]] == [("add", {"a": 2, "b": 3}), ("mul", {"a": 2, "b": 3})]
    assert [c["name"] for c in full.tool_calls] == ["add", "mul"]


def test_v1_stream_of_a_real_recording(server: ScriptedServer, make_model: Any) -> None:
    server.recording("zai-glm-4.6v_multi_tool_streaming.1.sse")
    full = _sum(list(make_model(output_version="v1").stream("Hi")))
    assert [b["type"] for b in full.content] == ["reasoning", "text", "tool_call", "tool_call"]


def test_stream_events_v3_emit_reasoning_deltas(server: ScriptedServer, model: ChatAnyFast, glm: Any) -> None:
    server.sse(glm.chunks("The answer.", reasoning="Some deep thought"))
    events = list(model.stream_events("Q?", version="v3"))
    deltas = [e for e in events if isinstance(e, dict) and e.get("event") == "content-block-delta"]
    reasoning = "".join(d["delta"].get("reasoning", "") for d in deltas if d["delta"]["type"] == "reasoning-delta")
    text = "".join(d["delta"].get("text", "") for d in deltas if d["delta"]["type"] == "text-delta")
    assert reasoning == "Some deep thought"
    assert text == "The answer."
    starts = [e for e in events if isinstance(e, dict) and e.get("event") == "content-block-start"]
    assert [s["content"]["type"] for s in starts] == ["reasoning", "text"]


@pytest.mark.filterwarnings("ignore::langchain_core._api.beta_decorator.LangChainBetaWarning")
async def test_astream_events_v3_emit_reasoning_deltas(server: ScriptedServer, model: ChatAnyFast, glm: Any) -> None:
    server.sse(glm.chunks("The answer.", reasoning="Some deep thought"))
    stream = await model.astream_events("Q?", version="v3")
    events = [event async for event in stream]
    kinds = [e["delta"]["type"] for e in events if isinstance(e, dict) and e.get("event") == "content-block-delta"]
    assert "reasoning-delta" in kinds
    assert "text-delta" in kinds


def test_reasoning_only_answer_is_passed_on(server: ScriptedServer, model: ChatAnyFast, glm: Any) -> None:
    # A recorded GLM defect: the stream ends after reasoning, with no content and finish_reason stop.
    server.sse(glm.chunks("", reasoning="I was about to say"))
    full = _sum(list(model.stream("Hi")))
    assert full.content == ""
    assert full.additional_kwargs["reasoning_content"] == "I was about to say"
    assert full.response_metadata["finish_reason"] == "stop"


def test_history_round_trip_of_a_real_tool_turn(server: ScriptedServer, model: ChatAnyFast) -> None:
    server.recording("zai-glm-4.5_tool.1.json")
    server.recording("zai-glm-4.5_tool.2.json")
    question = HumanMessage("What's the weather in Florence,Italy?")
    first = model.invoke([question])
    call = first.tool_calls[0]
    model.invoke([question, first, ToolMessage("40 C", tool_call_id=call["id"])])
    sent = server.requests[1]["messages"]
    assert sent[1]["role"] == "assistant"
    assert sent[1]["reasoning_content"] == first.additional_kwargs["reasoning_content"]
    assert sent[1]["tool_calls"][0]["id"] == "call_-8303649628005950554"
    assert sent[2] == {"role": "tool", "tool_call_id": "call_-8303649628005950554", "content": "40 C"}


@pytest.mark.parametrize("stem", ["zai-glm-4.5_tool_streaming", "zai-glm-4.6v_multi_tool_streaming"])
def test_streamed_tool_turn_goes_back_as_the_recorded_follow_up(
    server: ScriptedServer, model: ChatAnyFast, stem: str
) -> None:
    """A real streamed tool-calling turn, sent back with its tool results, gives the messages the
    recording client sent GLM for the follow-up (arguments compared as JSON), reasoning included."""
    recorded = json.loads((DATA / f"{stem}.2.request.json").read_text())
    first_request = json.loads((DATA / f"{stem}.1.request.json").read_text())
    server.recording(f"{stem}.1.sse")
    server.recording(f"{stem}.2.sse")
    history: list[Any] = [
        ("system", first_request["messages"][0]["content"]),
        ("human", first_request["messages"][1]["content"]),
    ]
    turn = _sum(list(model.stream(history)))
    results = {m["tool_call_id"]: m["content"] for m in recorded["messages"] if m["role"] == "tool"}
    history += [turn, *(ToolMessage(results[c["id"]], tool_call_id=c["id"]) for c in turn.tool_calls)]
    answer = _sum(list(model.stream(history)))
    assert answer.content
    assert answer.response_metadata["finish_reason"] == "stop"

    sent = server.requests[1]["messages"]
    expected = recorded["messages"]
    assert len(sent) == len(expected)
    for ours, theirs in zip(sent, expected, strict=True):
        assert ours["role"] == theirs["role"]
        assert ours["content"] == theirs["content"]
        assert ours.get("tool_call_id") == theirs.get("tool_call_id")
        assert [
            (c["id"], c["function"]["name"], json.loads(c["function"]["arguments"])) for c in ours.get("tool_calls", [])
        ] == [
            (c["id"], c["function"]["name"], json.loads(c["function"]["arguments"]))
            for c in theirs.get("tool_calls", [])
        ]
    assistant = sent[2]
    assert assistant["reasoning_content"] == turn.additional_kwargs["reasoning_content"]
    if "reasoning_content" in expected[2]:  # the glm-4.6v client sent it back; the glm-4.5 one did not
        assert assistant["reasoning_content"] == expected[2]["reasoning_content"]


def test_stream_events_v3_with_tool_calls(server: ScriptedServer, model: ChatAnyFast, glm: Any) -> None:
    calls = [glm.tool_call("add", {"a": 1}, "c0"), glm.tool_call("mul", {"a": 2}, "c1")]
    server.sse(
        glm.chunks(
            "Let me compute.", reasoning="Two tools.", tool_calls=calls, fragment_tools=True, finish_reason="tool_calls"
        )
    )
    events = [e for e in model.stream_events("x", version="v3") if isinstance(e, dict)]
    finished = [e["content"] for e in events if e.get("event") == "content-block-finish"]
    assert finished == [
        {"type": "reasoning", "reasoning": "Two tools."},
        {"type": "text", "text": "Let me compute."},
        {"type": "tool_call", "id": "c0", "name": "add", "args": {"a": 1}},
        {"type": "tool_call", "id": "c1", "name": "mul", "args": {"a": 2}},
    ]
    start = events[0]
    assert start["event"] == "message-start"
    assert start["metadata"] == {"provider": "anyfast"}
    finish = events[-1]
    assert finish["event"] == "message-finish"
    assert finish["metadata"]["finish_reason"] == "tool_calls"
    assert finish["usage"]["input_tokens"] == 12


SERVER_ID = "20260101120000abcdef"  # the id on every event of glm.chunks(...)


@pytest.mark.parametrize("tools", [False, True], ids=["text", "tool_call"])
def test_every_streamed_chunk_carries_the_server_id(
    server: ScriptedServer, make_model: Any, glm: Any, tools: bool
) -> None:
    # One id per model call (the server's, known from the first event) on every chunk and on the merged
    # message, as ChatOpenAI does: UIs that group streamed chunks by id show one message, not two.
    calls = [glm.tool_call("add", {"a": 1, "b": 2}, "call_1")] if tools else None
    for _ in range(2):
        server.sse(glm.chunks("Done.", tool_calls=calls, fragment_tools=True))
    model = make_model(tool_stream=True)
    chunks = list(model.stream("Hi"))
    assert len(chunks) > 5
    assert {chunk.id for chunk in chunks} == {SERVER_ID}
    assert testkit.merged(chunks).id == SERVER_ID
    assert make_model(streaming=True).invoke("Hi").id == SERVER_ID


async def test_every_async_streamed_chunk_and_event_carries_the_server_id(
    server: ScriptedServer, model: ChatAnyFast, glm: Any
) -> None:
    for _ in range(2):
        server.sse(glm.chunks("Hello there, friend."))
    chunks = [chunk async for chunk in model.astream("Hi")]
    assert {chunk.id for chunk in chunks} == {SERVER_ID}
    events = [event async for event in model.astream_events("Hi", version="v2")]
    streamed = [event["data"]["chunk"] for event in events if event["event"] == "on_chat_model_stream"]
    assert len(streamed) > 5
    assert {chunk.id for chunk in streamed} == {SERVER_ID}
    (end,) = [event for event in events if event["event"] == "on_chat_model_end"]
    assert end["data"]["output"].id == SERVER_ID
