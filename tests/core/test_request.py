"""Request validation: every documented field's range, with a message naming field, value and range."""

from __future__ import annotations

import math
from typing import Any

import pytest
from core_support import request

from anyfast_core import ChatRequest, InvalidParameterError
from anyfast_core.request import chat_body, usage_wanted

OBJECT = {"type": "object"}
WEATHER = {"type": "function", "function": {"name": "weather", "parameters": {"type": "object", "properties": {}}}}


@pytest.mark.parametrize(
    ("fields", "must_mention"),
    [
        ({"max_tokens": 0}, ["max_tokens=0", "1 <= max_tokens <= 131072"]),
        ({"max_tokens": 131073}, ["max_tokens=131073", "131072"]),
        ({"max_tokens": -5}, ["max_tokens=-5"]),
        ({"max_tokens": 1.5}, ["max_tokens=1.5", "integer"]),
        ({"max_tokens": True}, ["max_tokens=True", "integer"]),
        ({"max_tokens": "100"}, ["max_tokens='100'"]),
        ({"temperature": -0.1}, ["temperature=-0.1", "0 <= temperature <= 1"]),
        ({"temperature": 1.01}, ["temperature=1.01", "0 <= temperature <= 1"]),
        ({"temperature": math.nan}, ["temperature=nan", "finite"]),
        ({"temperature": math.inf}, ["temperature=inf", "finite"]),
        ({"temperature": True}, ["temperature=True", "number"]),
        ({"temperature": "0.5"}, ["temperature='0.5'", "number"]),
        ({"top_p": 0}, ["top_p=0", "0.01 <= top_p <= 1"]),
        ({"top_p": 0.009}, ["top_p=0.009", "0.01 <= top_p <= 1"]),
        ({"top_p": 1.5}, ["top_p=1.5"]),
        ({"top_p": -math.inf}, ["top_p=-inf", "finite"]),
        ({"top_p": False}, ["top_p=False", "number"]),
        ({"reasoning_effort": "ultra"}, ["reasoning_effort='ultra'", "max, xhigh, high, medium, low, minimal, none"]),
        ({"reasoning_effort": "MAX"}, ["reasoning_effort='MAX'"]),
        ({"thinking": {"type": "on"}}, ["thinking.type='on'", "'enabled'|'disabled'"]),
        ({"thinking": {"type": "enabled", "clear_thinking": "no"}}, ["thinking.clear_thinking='no'"]),
        ({"thinking": {"type": "enabled", "budget": 5}}, ["thinking.budget", "unknown field"]),
        ({"thinking": "enabled"}, ["thinking='enabled'"]),
        ({"stream": "yes"}, ["stream='yes'", "bool"]),
        ({"stream": 1}, ["stream=1", "bool"]),
        ({"tool_stream": 1}, ["tool_stream=1", "bool"]),
        ({"stream_options": {"include_usage": "yes"}}, ["stream_options.include_usage='yes'"]),
        ({"stream_options": {"other": True}}, ["stream_options.other", "unknown field"]),
        ({"stop": ""}, ["stop=''", "non-empty"]),
        ({"stop": []}, ["stop=[]", "non-empty"]),
        ({"stop": ["a", ""]}, ["stop=['a', '']"]),
        ({"stop": 5}, ["stop=5"]),
        ({"response_format": {"type": "json_schema", "json_schema": {"name": "x"}}}, ["json_schema", "json_object"]),
        ({"response_format": {"type": "xml"}}, ["response_format.type='xml'", "json_object"]),
        ({"response_format": "json"}, ["response_format='json'"]),
        ({"tool_choice": "auto"}, ["tool_choice='auto'", "needs tools"]),
        ({"tool_choice": "any", "tools": [WEATHER]}, ["tool_choice", "'auto', 'none', 'required'"]),
        (
            {"tool_choice": {"type": "function", "function": {"name": "time"}}, "tools": [WEATHER]},
            ["tool_choice='time'", "names no bound tool", "weather"],
        ),
        ({"tools": [{"type": "function"}]}, ["tools.0", "needs a 'function' definition"]),
        ({"tools": [{"type": "function", "function": {"name": "bad name!"}}]}, ["tools.0.function.name"]),
        ({"tools": [{"type": "function", "function": {"name": ""}}]}, ["tools.0.function.name"]),
        (
            {
                "tools": [
                    {
                        "type": "function",
                        "function": {"name": "f", "parameters": {"type": "object", "default": object()}},
                    }
                ]
            },
            ["tools.0.function.parameters", "not JSON-serialisable"],
        ),
        (
            {
                "tools": [
                    {"type": "function", "function": {"name": "f", "parameters": {"type": "object", "max": math.nan}}}
                ]
            },
            ["tools.0.function.parameters", "not JSON-serialisable"],
        ),
        ({"tools": "weather"}, ["tools='weather'"]),
        ({"model": ""}, ["model=''", "non-empty model id"]),
        ({"model": 5}, ["model=5"]),
        ({"messages": []}, ["messages=[]", "non-empty list"]),
        ({"messages": "Hi"}, ["messages='Hi'"]),
        ({"messages": ["Hi"]}, ["messages.0='Hi'", "dictionary"]),
        ({"messages": [{"role": "bot", "content": "x"}]}, ["messages[0].role='bot'", "assistant, system, tool, user"]),
        ({"messages": [{"content": "x"}]}, ["messages[0].role=None"]),
        ({"messages": [{"role": "user"}]}, ["messages[0].content=None", "needs content"]),
        ({"messages": [{"role": "user", "content": 5}]}, ["messages[0].content=5"]),
        ({"messages": [{"role": "tool", "content": "x"}]}, ["messages[0].tool_call_id=None"]),
        (
            {"messages": [{"role": "user", "content": "q"}, {"role": "assistant", "content": None}]},
            ["messages[1].content=None", "content or tool_calls"],
        ),
        (
            {"messages": [{"role": "assistant", "content": None, "tool_calls": [{"id": "a", "function": {}}]}]},
            ["messages[0].tool_calls[0]"],
        ),
        (
            {"messages": [{"role": "assistant", "content": "", "tool_calls": "f"}]},
            ["messages[0].tool_calls='f'"],
        ),
        ({"extra_body": {"temperature": 0.5}}, ["extra_body=['temperature']", "documented fields"]),
        ({"top_k": 5}, ["top_k", "unknown field", "extra_body"]),
    ],
)
def test_invalid_requests_raise_a_value_error_naming_field_value_and_range(
    fields: dict[str, Any], must_mention: list[str]
) -> None:
    with pytest.raises(InvalidParameterError) as info:
        request(**fields)
    assert isinstance(info.value, ValueError)
    message = str(info.value)
    for text in must_mention:
        assert text in message, (text, message)


def test_all_violations_are_reported_at_once() -> None:
    with pytest.raises(InvalidParameterError) as info:
        request(temperature=2, top_p=5, max_tokens=0)
    assert all(name in str(info.value) for name in ("temperature=2", "top_p=5", "max_tokens=0"))


def test_long_values_are_shortened_in_messages() -> None:
    with pytest.raises(InvalidParameterError) as info:
        request(messages="x" * 10_000)
    assert len(str(info.value)) < 500


@pytest.mark.parametrize(
    "fields",
    [
        {"max_tokens": 1},
        {"max_tokens": 131072},
        {"temperature": 0},
        {"temperature": 1},
        {"temperature": 0.7},
        {"top_p": 0.01},
        {"top_p": 1},
        *({"reasoning_effort": effort} for effort in ("max", "xhigh", "high", "medium", "low", "minimal", "none")),
        {"thinking": {"type": "disabled"}},
        {"thinking": {"type": "enabled", "clear_thinking": False}},
        {"stop": "END"},
        {"stop": ["a", "b"]},
        {"response_format": {"type": "text"}},
        {"response_format": {"type": "json_object"}},
        {"tools": [WEATHER]},
        {"tools": [WEATHER], "tool_choice": "required"},
        {"tools": [WEATHER], "tool_choice": {"type": "function", "function": {"name": "weather"}}},
        {"tool_choice": "none"},
        {"tools": [{"type": "mcp", "server_url": "https://example.test"}]},
        {"tool_stream": True, "stream_options": {"include_usage": False}},
        {"model": "any-other-model"},
        {"extra_body": {"top_k": 3, "do_sample": False}},
        {
            "messages": [
                {"role": "system", "content": "Be brief."},
                {"role": "user", "content": [{"type": "text", "text": "Hi"}]},
                {
                    "role": "assistant",
                    "content": None,
                    "reasoning_content": "Look it up.",
                    "tool_calls": [
                        {"id": "c1", "type": "function", "function": {"name": "weather", "arguments": "{}"}}
                    ],
                },
                {"role": "tool", "tool_call_id": "c1", "content": "20 C"},
            ]
        },
    ],
)
def test_valid_requests_pass_and_are_sent_as_given(fields: dict[str, Any]) -> None:
    req = request(**fields)
    body = req.to_body()
    for name, value in fields.items():
        if name == "extra_body":
            assert all(body[k] == v for k, v in value.items())
        else:
            assert body[name] == value


def test_to_body_sends_only_what_was_set_in_order() -> None:
    req = request(max_tokens=10, temperature=0.5)
    assert list(req.to_body()) == ["model", "messages", "max_tokens", "temperature"]


def test_stream_method_decides_stream_and_asks_for_usage() -> None:
    req = request(stream=False)
    assert chat_body(req, stream=True)["stream"] is True
    assert chat_body(req, stream=True)["stream_options"] == {"include_usage": True}
    unwanted = request(stream_options={"include_usage": False})
    assert chat_body(unwanted, stream=True)["stream_options"] == {"include_usage": True}
    assert (usage_wanted(unwanted), usage_wanted(req)) == (False, True)


def test_whole_answers_omit_fields_that_only_shape_streams() -> None:
    req = request(tool_stream=True, stream_options={"include_usage": True}, temperature=0.2)
    body = chat_body(req, stream=False)
    assert body["stream"] is False
    assert "tool_stream" not in body
    assert "stream_options" not in body
    assert body["temperature"] == 0.2  # everything else is kept
    assert chat_body(req, stream=True)["tool_stream"] is True


def test_create_is_the_only_validation_entry_and_the_model_is_reusable() -> None:
    req = ChatRequest.create(model="glm-5.2", messages=[{"role": "user", "content": "Hi"}])
    assert req.to_body() == req.to_body()
    assert chat_body(req, True) != chat_body(req, False)
    assert req.to_body() == {"model": "glm-5.2", "messages": [{"role": "user", "content": "Hi"}]}
