"""Request validation: every documented field's range, with a message naming field, value and range."""

from __future__ import annotations

import math
import re
import warnings
from typing import Any

import pytest
from core_support import request

from anyfast_core import ChatRequest, InvalidParameterError
from anyfast_core.request import (
    WireRequest,
    build_request,
    chat_body,
    check_settings,
    thinking_param,
    unknown_settings,
    usage_wanted,
)
from anyfast_core.structured import schema_in_prompt

OBJECT = {"type": "object"}
IMAGE = {"type": "image_url", "image_url": {"url": "https://example.test/cat.png"}}
CALL = {"id": "c1", "type": "function", "function": {"name": "weather", "arguments": "{}"}}
CONVERSATION = [
    {"role": "user", "content": "Weather?"},
    {"role": "assistant", "content": None, "tool_calls": [CALL]},
    {"role": "user", "content": "and?"},
]


def tool(name: str, parameters: dict[str, Any] | None = None) -> dict[str, Any]:
    return {"type": "function", "function": {"name": name, "parameters": parameters or OBJECT}}


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
        (
            {"messages": [{"role": "user", "content": [{"type": "text", "text": "?"}, IMAGE]}]},
            ["messages[0].content[1].type='image_url'", "text in and gives text out"],
        ),
        ({"messages": [{"role": "system", "content": [{"type": "input_audio"}]}]}, ["'input_audio' part", "text"]),
        ({"messages": [{"role": "user", "content": ["Hi"]}]}, ["messages[0].content[0]='Hi'", "'type': 'text'"]),
        (
            {"messages": [{"role": "user", "content": "q"}, {"role": "tool", "tool_call_id": "c9", "content": "r"}]},
            ["messages[1].tool_call_id='c9'", "answer a tool call of an earlier assistant message", "none"],
        ),
        (
            {"messages": [*CONVERSATION[:3], {"role": "tool", "tool_call_id": "c2", "content": "r"}]},
            ["messages[3].tool_call_id='c2'", "earlier calls: ['c1']"],
        ),
        (
            {"messages": [{"role": "tool", "tool_call_id": "c1", "content": "r"}, *CONVERSATION[1:3]]},
            ["messages[0].tool_call_id='c1'"],  # the call comes after its answer
        ),
        ({"tools": [tool(f"t{i}") for i in range(129)]}, ["tools", "at most 128"]),
        ({"tools": [tool("a"), tool("b"), tool("a")]}, ["tools=['a']", "unique"]),
        ({"tools": [tool("a", {"type": "string"})]}, ["tools.0.function.parameters", "type='string'", "'object'"]),
        ({"tools": [tool("a", {"properties": {}})]}, ["tools.0.function.parameters", "type=None", "'object'"]),
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
        {"tools": [tool(f"t{i}") for i in range(128)]},
        {"tools": [{"type": "function", "function": {"name": "now"}}]},  # no parameters at all
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


# --------------------------------------------------------------------------- the one request path


def build(call: dict[str, Any] | None = None, stream: bool = False, **settings: Any) -> WireRequest:
    settings.setdefault("model", "glm-5.2")
    extra_body = settings.pop("extra_body", None)
    return build_request(HI, settings=settings, extra_body=extra_body, call=call, stream=stream)


def sent(call: dict[str, Any] | None = None, stream: bool = False, **settings: Any) -> dict[str, Any]:
    return chat_body(build(call, stream, **settings).request, stream)


HI = [{"role": "user", "content": "Hi"}]


def test_call_arguments_override_settings_and_none_leaves_the_server_default() -> None:
    body = sent({"temperature": 0.1, "top_p": None}, temperature=0.5, top_p=0.9, max_tokens=10)
    assert (body["temperature"], body["max_tokens"]) == (0.1, 10)
    assert "top_p" not in body


def test_extra_bodies_merge_the_calls_over_the_models_and_are_sent_as_given() -> None:
    body = sent({"extra_body": {"b": 2, "c": 3}}, extra_body={"a": 1, "b": 1})
    assert (body["a"], body["b"], body["c"]) == (1, 2, 3)


@pytest.mark.parametrize(
    ("stop", "wire"), [("END", ["END"]), (["a", "b"], ["a", "b"]), (("a",), ["a"]), ([], None), (None, None)]
)
def test_stop_is_a_list_on_the_wire_whether_given_as_a_string_or_a_list(stop: Any, wire: Any) -> None:
    assert sent(stop=stop).get("stop") == wire
    assert sent({"stop": stop}).get("stop") == wire


@pytest.mark.parametrize(("given", "wire"), [(True, {"type": "enabled"}), (False, {"type": "disabled"})])
def test_thinking_takes_a_bool_in_settings_and_calls(given: bool, wire: dict[str, str]) -> None:
    assert sent(thinking=given)["thinking"] == sent({"thinking": given})["thinking"] == wire


def test_a_tool_name_as_tool_choice_names_the_tool() -> None:
    body = sent({"tools": [WEATHER], "tool_choice": "weather"})
    assert body["tool_choice"] == {"type": "function", "function": {"name": "weather"}}


def test_a_json_schema_response_format_becomes_json_object_with_the_schema_in_the_system_prompt() -> None:
    schema = {"type": "object", "properties": {"a": {"type": "integer"}}}
    body = sent({"response_format": {"type": "json_schema", "json_schema": {"name": "A", "schema": schema}}})
    assert body["response_format"] == {"type": "json_object"}
    assert body["messages"] == schema_in_prompt(HI, schema)
    with pytest.raises(InvalidParameterError, match=r"response_format\.json_schema"):
        build({"response_format": {"type": "json_schema", "json_schema": {"name": "A", "schema": "x"}}})


def test_stream_only_fields_are_left_out_of_whole_answers() -> None:
    whole = build({"tool_stream": True, "stream_usage": False}).request
    assert (whole.tool_stream, whole.stream_options) == (None, None)
    assert sent({"tool_stream": True}, stream=True)["tool_stream"] is True
    with pytest.raises(InvalidParameterError, match=re.escape("stream_options.include_usage='yes'")):
        build({"stream_options": {"include_usage": "yes"}})  # checked all the same


@pytest.mark.parametrize(
    ("settings", "call", "wanted"),
    [
        ({}, {}, True),
        ({"stream_usage": False}, {}, False),
        ({"stream_usage": False}, {"stream_usage": True}, True),
        ({"stream_options": {"include_usage": False}}, {"stream_usage": True}, True),
        ({"stream_usage": True}, {"stream_options": {"include_usage": False}}, False),
    ],
)
def test_streams_always_ask_for_usage_and_the_request_keeps_whether_it_is_wanted(
    settings: dict[str, Any], call: dict[str, Any], wanted: bool
) -> None:
    built = build(call, True, **settings)
    assert chat_body(built.request, True)["stream_options"] == {"include_usage": True}
    assert usage_wanted(built.request) is wanted


def test_parallel_tool_calls_is_applied_to_the_answer_not_sent() -> None:
    built = build({"tools": [WEATHER], "parallel_tool_calls": False})
    assert built.first_call_only is True
    assert "parallel_tool_calls" not in chat_body(built.request, False)
    assert build({"parallel_tool_calls": True}).first_call_only is False
    with pytest.raises(InvalidParameterError, match="parallel_tool_calls='no'"):
        build({"parallel_tool_calls": "no"})


@pytest.mark.parametrize(
    ("call", "must_mention"),
    [
        ({"temprature": 0.2}, ["temprature: unknown argument", "did you mean 'temperature'?", "extra_body="]),
        ({"max_token": 5}, ["did you mean 'max_tokens'?"]),
        ({"logprobs": True}, ["logprobs: unknown argument", "extra_body={'logprobs': ...}"]),
        ({"timeout": 3}, ["timeout: a client setting", "set it on the model"]),
        ({"api_base": "x"}, ["api_base: a client setting"]),
        ({"extra_body": "x"}, ["extra_body='x'", "a dict"]),
        ({"stream_usage": "yes"}, ["stream_usage='yes'", "True or False"]),
    ],
)
def test_an_unknown_call_argument_is_an_error_never_sent_nor_dropped(
    call: dict[str, Any], must_mention: list[str]
) -> None:
    with pytest.raises(InvalidParameterError) as info:
        build(call)
    for text in must_mention:
        assert text in str(info.value), (text, str(info.value))
    if "logprobs" in call:  # no known name is near: no guess
        assert "did you mean" not in str(info.value)


def test_settings_are_checked_by_the_same_rules_without_messages() -> None:
    check_settings({"model": "glm-5.2", "temperature": 1, "stop": "END", "thinking": True}, {"top_k": 3})
    for settings, field in [
        ({"model": "glm-5.2", "temperature": 2}, "temperature=2"),
        ({"model": "glm-5.2", "stop": [""]}, "stop=['']"),
        ({"model": ""}, "model=''"),
        ({"model": "glm-5.2", "thinking": "yes"}, "thinking='yes'"),
    ]:
        with pytest.raises(InvalidParameterError, match=re.escape(field)):
            check_settings(settings)
    with pytest.raises(InvalidParameterError, match=re.escape("extra_body=['temperature']")):
        check_settings({"model": "glm-5.2"}, {"temperature": 0.1})
    with pytest.raises(InvalidParameterError, match=r"\[.bogus.\]: not request parameters"):
        check_settings({"model": "glm-5.2", "bogus": 1})


def test_unknown_constructor_arguments_raise_when_near_a_known_name_else_move_with_a_warning() -> None:
    known = ["temperature", "api_key", "model_kwargs"]
    with pytest.raises(
        InvalidParameterError, match=r"X\(temprature=\.\.\.\): unknown argument; did you mean 'temperature'"
    ):
        unknown_settings({"temprature": 0.3}, known, owner="X", bag="model_kwargs")
    with pytest.raises(InvalidParameterError, match="did you mean 'api_key'"):
        unknown_settings({"api_kye": "k"}, known, owner="X", bag="model_kwargs")
    with pytest.raises(InvalidParameterError, match="did you mean 'tool_choice'"):
        unknown_settings({"tool_choise": "auto"}, known, owner="X", bag="model_kwargs")  # a request field
    with pytest.warns(UserWarning, match=r"\['seed'\] are not parameters of X; they were moved to model_kwargs"):
        moved = unknown_settings({"seed": 7, "tool_choice": "auto"}, known, owner="X", bag="model_kwargs")
    assert moved == {"seed": 7, "tool_choice": "auto"}
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # a documented request field moves without a warning
        assert unknown_settings({"tools": []}, known, owner="X", bag="model_kwargs") == {"tools": []}


@pytest.mark.parametrize(
    ("description", "sent"),
    [
        # A docstring as Python 3.10-3.12 keep it, and as 3.13 compiles it: the same body either way.
        ("Adds two integers.\n\n            Takes a and b.\n        ", "Adds two integers.\n\nTakes a and b."),
        ("Adds two integers.\n\nTakes a and b.\n", "Adds two integers.\n\nTakes a and b."),
        ("\n    Args:\n        a: first\n    ", "Args:\n    a: first"),  # relative indentation kept
        ("One line.", "One line."),
    ],
)
def test_tool_descriptions_are_sent_cleaned_like_docstrings(description: str, sent: str) -> None:
    tool = {
        "type": "function",
        "function": {"name": "add", "description": description, "parameters": {"type": "object"}},
    }
    body = ChatRequest.create(model="glm-5.2", messages=[{"role": "user", "content": "Hi"}], tools=[tool]).to_body()
    assert body["tools"][0]["function"]["description"] == sent


@pytest.mark.parametrize(
    ("given", "wire"),
    [
        (None, None),
        (True, {"type": "enabled"}),
        (False, {"type": "disabled"}),
        ({"type": "enabled", "clear_thinking": False}, {"type": "enabled", "clear_thinking": False}),
    ],
)
def test_thinking_param(given: object, wire: object) -> None:
    assert thinking_param(given) == wire  # type: ignore[arg-type]


def test_thinking_param_copies_a_mapping() -> None:
    given = {"type": "enabled"}
    sent = thinking_param(given)
    assert sent == given
    assert sent is not given


@pytest.mark.parametrize("given", ["yes", 1, ["enabled"]])
def test_thinking_param_refuses_other_types(given: object) -> None:
    with pytest.raises(InvalidParameterError, match=re.escape(f"thinking={given!r}")):
        thinking_param(given)  # type: ignore[arg-type]
