"""Both adapters send the same request for the same input, since one builder (``anyfast_core.request``)
is behind both: the same settings and call arguments through ``ChatAnyFast`` and ``AnyFast`` give
identical wire bodies, streamed or not, and an unknown argument is treated the same by both."""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field
from typing import Any

import pytest
from reliability_support import ADAPTERS, ADD_TOOL, MODES, Adapter, Mode, ask, make_model

from anyfast_emulator import Emulator

SCHEMA = {"type": "object", "properties": {"answer": {"type": "integer"}}, "required": ["answer"]}


@dataclass(frozen=True)
class Case:
    id: str
    init: dict[str, Any] = field(default_factory=dict)
    call: dict[str, Any] = field(default_factory=dict)
    history: bool = False
    """Send a conversation with a tool call, its result and reasoning instead of one prompt."""


CASES = [
    Case("defaults"),
    Case(
        "settings",
        init={
            "model": "glm-5.2-air",
            "temperature": 0.3,
            "top_p": 0.9,
            "max_tokens": 256,
            "reasoning_effort": "high",
            "thinking": True,
            "stop": "END",
        },
    ),
    Case("thinking-object", init={"thinking": {"type": "enabled", "clear_thinking": False}}),
    Case(
        "call-overrides",
        init={"temperature": 0.3, "stop": ["a"], "thinking": True},
        call={"temperature": 0.1, "stop": "b", "thinking": False, "max_tokens": None, "extra_body": {"trace": 1}},
    ),
    Case("tools-and-a-named-choice", call={"tools": [ADD_TOOL], "tool_choice": "add"}),
    Case("tool-choice-required", call={"tools": [ADD_TOOL], "tool_choice": "required", "tool_stream": True}),
    Case("stream-usage-off", call={"stream_usage": False}),
    Case(
        "json-schema-format",
        call={"response_format": {"type": "json_schema", "json_schema": {"name": "A", "schema": SCHEMA}}},
    ),
    Case("json-object-format", call={"response_format": {"type": "json_object"}}),
    Case("history-with-tool-call", history=True, init={"thinking": {"type": "enabled", "clear_thinking": False}}),
    Case("history-with-a-silent-tool-call", history=True, init={"max_tokens": 99}),
]


def history(adapter: Adapter, text: str = "Adding.") -> list[Any]:
    """The same conversation in each framework's terms: system, user, an assistant turn with text
    (if any), reasoning and a tool call, the tool's result, and the next user turn."""
    call = {"id": "call_1", "name": "add", "args": {"a": 2, "b": 3}}
    if adapter == "langchain":
        from langchain_core.messages import AIMessage, HumanMessage, SystemMessage, ToolMessage

        return [
            SystemMessage("Be brief."),
            HumanMessage("Add 2 and 3."),
            AIMessage(text, tool_calls=[call], additional_kwargs={"reasoning_content": "Use add."}),
            ToolMessage("5", tool_call_id="call_1"),
            HumanMessage("And the result?"),
        ]
    from llama_index.core.base.llms.types import TextBlock, ThinkingBlock, ToolCallBlock
    from llama_index.core.llms import ChatMessage

    return [
        ChatMessage(role="system", content="Be brief."),
        ChatMessage(role="user", content="Add 2 and 3."),
        ChatMessage(
            role="assistant",
            blocks=[
                ThinkingBlock(content="Use add."),
                *([TextBlock(text=text)] if text else []),
                ToolCallBlock(tool_call_id="call_1", tool_name="add", tool_kwargs=call["args"]),
            ],
        ),
        ChatMessage(role="tool", content="5", additional_kwargs={"tool_call_id": "call_1"}),
        ChatMessage(role="user", content="And the result?"),
    ]


def sent_body(emulator: Emulator, adapter: Adapter, case: Case, stream: bool) -> dict[str, Any]:
    emulator.reset()
    model = make_model(adapter, base_url=emulator.base_url, api_key=emulator.api_key, **case.init)
    prompt = history(adapter, "" if "silent" in case.id else "Adding.") if case.history else "What is 2 + 3?"
    ask(model, Mode(adapter, sync=True, stream=stream), prompt, **case.call)  # type: ignore[arg-type]
    (body,) = emulator.requests
    return body  # type: ignore[no-any-return]


@pytest.mark.parametrize("stream", [False, True], ids=["whole", "stream"])
@pytest.mark.parametrize("case", CASES, ids=lambda c: c.id)
def test_both_adapters_send_the_same_body(emulator: Emulator, case: Case, stream: bool) -> None:
    langchain = sent_body(emulator, "langchain", case, stream)
    llama_index = sent_body(emulator, "llama_index", case, stream)
    assert langchain == llama_index
    assert langchain["stream"] is stream
    if stream:  # every stream asks for usage, wanted or not
        assert langchain["stream_options"] == {"include_usage": True}
    else:
        assert "stream_options" not in langchain
        assert "tool_stream" not in langchain


def test_the_same_body_is_what_the_builder_says(emulator: Emulator) -> None:
    """A spot check of the policy itself, so the comparison above cannot pass on two equal mistakes."""
    body = sent_body(emulator, "llama_index", CASES[3], stream=False)
    assert (body["temperature"], body["stop"], body["thinking"], body["trace"]) == (0.1, ["b"], {"type": "disabled"}, 1)
    body = sent_body(emulator, "langchain", CASES[7], stream=False)
    assert body["response_format"] == {"type": "json_object"}
    assert '"answer"' in body["messages"][0]["content"]


# --------------------------------------------------------------------------- unknown arguments


@pytest.mark.parametrize("adapter", ADAPTERS)
@pytest.mark.parametrize(
    ("name", "known"),
    [("temprature", "temperature"), ("max_token", "max_tokens"), ("reasoning_efort", "reasoning_effort")],
)
def test_a_misspelt_constructor_argument_is_an_error_naming_the_field(
    emulator: Emulator, adapter: Adapter, name: str, known: str
) -> None:
    with pytest.raises(ValueError, match=f"{name}=...\\): unknown argument; did you mean '{known}'\\?"):
        make_model(adapter, base_url=emulator.base_url, api_key=emulator.api_key, **{name: 0.3})
    assert emulator.received == []


@pytest.mark.parametrize("adapter", ADAPTERS)
def test_another_unknown_constructor_argument_is_sent_in_the_body_with_a_warning(
    emulator: Emulator, adapter: Adapter
) -> None:
    with pytest.warns(UserWarning, match=r"\['do_sample'\] are not parameters of .*sent in the request body as given"):
        model = make_model(adapter, base_url=emulator.base_url, api_key=emulator.api_key, do_sample=False)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # a documented field is validated and sent, nothing to warn about
        with_choice = make_model(adapter, base_url=emulator.base_url, api_key=emulator.api_key, tool_stream=True)
    ask(model, Mode(adapter, sync=True, stream=False), "Hi")
    ask(with_choice, Mode(adapter, sync=True, stream=True), "Hi")
    first, second = emulator.requests
    assert first["do_sample"] is False
    assert second["tool_stream"] is True


def test_the_unknown_argument_warning_points_at_the_callers_line() -> None:
    from langchain_anyfast import ChatAnyFast
    from llama_index_anyfast import AnyFast

    for cls in (ChatAnyFast, AnyFast):
        with pytest.warns(UserWarning, match="do_sample") as record:
            cls(api_key="sk-test", do_sample=False)
        assert [w.filename for w in record] == [__file__], cls


@pytest.mark.parametrize("mode", MODES, ids=str)
@pytest.mark.parametrize(
    ("call", "message"),
    [
        ({"temprature": 0.1}, r"temprature: unknown argument; did you mean 'temperature'\?"),
        ({"do_sample": False}, r"do_sample: unknown argument; .*extra_body=\{'do_sample': \.\.\.\}"),
        ({"timeout": 5}, "timeout: a client setting"),
    ],
)
def test_an_unknown_call_argument_is_an_error_before_sending(
    emulator: Emulator, mode: Mode, call: dict[str, Any], message: str
) -> None:
    model = make_model(mode.adapter, base_url=emulator.base_url, api_key=emulator.api_key)
    with pytest.raises(ValueError, match=message):
        ask(model, mode, "Hi", **call)
    assert emulator.received == []
