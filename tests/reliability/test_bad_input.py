"""Bad input: each invalid setting or call argument raises a clear ``ValueError`` naming the parameter
and what is allowed, through both adapters, before any request is sent (the emulator sees nothing)."""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from typing import Any

import pytest
from reliability_support import ADAPTERS, ADD_TOOL, MODES, Adapter, Mode, ask, make_model

from anyfast_emulator import Emulator

UNSERIALISABLE_TOOL = {
    "type": "function",
    "function": {"name": "when", "parameters": {"type": "object", "properties": {"at": {"default": object()}}}},
}
JSON_SCHEMA_FORMAT = {"type": "json_schema", "json_schema": {"name": "answer", "schema": {"type": "object"}}}

# What a clear message says besides the parameter's name: the range, the choices, or the rule.
ALLOWED_HINT = re.compile(
    r"allowed|should be|should have|less than|greater than|one of|expected|needs|names no bound tool|"
    r"not JSON-serialisable|not supported|pass them as parameters|not an http",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class Case:
    """Settings given to the constructor (``init``) or arguments given to a call (``call``)."""

    id: str
    param: str
    init: dict[str, Any] = field(default_factory=dict)
    call: dict[str, Any] = field(default_factory=dict)
    prompt: Any = "Hi"


INIT_CASES = [
    Case("temperature-above-1", "temperature", init={"temperature": 1.5}),
    Case("temperature-inf", "temperature", init={"temperature": math.inf}),
    Case("temperature-nan", "temperature", init={"temperature": math.nan}),
    Case("top_p-above-1", "top_p", init={"top_p": 1.01}),
    Case("max_tokens-too-many", "max_tokens", init={"max_tokens": 131_073}),
    Case("thinking-unknown-type", "thinking", init={"thinking": {"type": "on"}}),
    Case("thinking-yes", "thinking", init={"thinking": "yes"}),
    Case("stop-empty-word", "stop", init={"stop": [""]}),
    Case("top_p-zero", "top_p", init={"top_p": 0}),
    Case("max_tokens-zero", "max_tokens", init={"max_tokens": 0}),
    Case("reasoning_effort-unknown", "reasoning_effort", init={"reasoning_effort": "extreme"}),
    Case("thinking-wrong-type", "thinking", init={"thinking": "enabled"}),
    Case("max_retries-negative", "max_retries", init={"max_retries": -1}),
    Case("timeout-zero", "timeout", init={"timeout": 0}),
    Case("timeout-wrong-type", "timeout", init={"timeout": "fast"}),
    Case("model-empty", "model", init={"model": ""}),
    Case("base_url-not-http", "base_url", init={"base_url": "ftp://example.com/v1"}),
]

CALL_CASES = [
    Case("temperature-negative", "temperature", call={"temperature": -0.1}),
    Case("temperature-nan", "temperature", call={"temperature": math.nan}),
    Case("temperature-wrong-type", "temperature", call={"temperature": "hot"}),
    Case("temperature-bool", "temperature", call={"temperature": True}),
    Case("top_p-above-1", "top_p", call={"top_p": 1.5}),
    Case("max_tokens-too-many", "max_tokens", call={"max_tokens": 131073}),
    Case("max_tokens-fraction", "max_tokens", call={"max_tokens": 2.5}),
    Case("reasoning_effort-unknown", "reasoning_effort", call={"reasoning_effort": "ultra"}),
    Case("thinking-unknown-type", "thinking", call={"thinking": {"type": "on"}}),
    Case("stop-empty-string", "stop", call={"stop": [""]}),
    Case("stop-wrong-type", "stop", call={"stop": 42}),
    Case("messages-empty", "messages", prompt=[]),
    Case("tools-wrong-type", "tools", call={"tools": "add"}),
    Case("tool-schema-not-json", "parameters", call={"tools": [UNSERIALISABLE_TOOL]}),
    Case(
        "tool_choice-unbound-tool",
        "tool_choice",
        call={"tools": [ADD_TOOL], "tool_choice": {"type": "function", "function": {"name": "subtract"}}},
    ),
    Case("tool_choice-without-tools", "tool_choice", call={"tool_choice": "required"}),
    Case(
        "response_format-json_schema-raw",
        "response_format",
        call={"extra_body": {"response_format": JSON_SCHEMA_FORMAT}},
    ),
    Case("response_format-unknown-type", "response_format", call={"response_format": {"type": "yaml"}}),
]


def check_message(error: BaseException, param: str) -> None:
    text = str(error)
    assert param in text, text
    assert ALLOWED_HINT.search(text), text


@pytest.mark.parametrize("adapter", ADAPTERS)
@pytest.mark.parametrize("case", INIT_CASES, ids=lambda c: c.id)
def test_invalid_setting_raises_at_construction(emulator: Emulator, adapter: Adapter, case: Case) -> None:
    settings = {"base_url": emulator.base_url, "api_key": emulator.api_key, **case.init}
    with pytest.raises(ValueError, match=re.escape(case.param)) as info:
        make_model(adapter, **settings)  # base_url becomes AnyFast's api_base
    check_message(info.value, case.param)
    assert emulator.received == []


@pytest.mark.parametrize("mode", MODES, ids=str)
@pytest.mark.parametrize("case", CALL_CASES, ids=lambda c: c.id)
def test_invalid_call_argument_raises_before_sending(emulator: Emulator, mode: Mode, case: Case) -> None:
    model = make_model(mode.adapter, base_url=emulator.base_url, api_key=emulator.api_key)
    with pytest.raises(ValueError, match=re.escape(case.param)) as info:
        ask(model, mode, case.prompt, **case.call)
    check_message(info.value, case.param)
    assert emulator.received == []


@pytest.mark.parametrize("adapter", ADAPTERS)
def test_json_schema_response_format_is_translated_not_sent(emulator: Emulator, adapter: Adapter) -> None:
    """The API has no json_schema format: both adapters send json_object with the schema in the system prompt."""
    model = make_model(adapter, base_url=emulator.base_url, api_key=emulator.api_key)
    ask(model, Mode(adapter, sync=True, stream=False), "Give me a JSON answer", response_format=JSON_SCHEMA_FORMAT)
    (body,) = emulator.requests
    assert body["response_format"] == {"type": "json_object"}
    assert body["messages"][0]["role"] == "system"


def test_langchain_bind_tools_with_unbound_tool_choice(emulator: Emulator) -> None:
    model = make_model("langchain", base_url=emulator.base_url, api_key=emulator.api_key)
    with pytest.raises(ValueError, match="tool_choice") as info:
        model.bind_tools([ADD_TOOL], tool_choice="subtract").invoke("Hi")
    check_message(info.value, "tool_choice")
    assert emulator.received == []


@pytest.mark.parametrize("adapter", ADAPTERS)
def test_messages_the_api_cannot_take(emulator: Emulator, adapter: Adapter) -> None:
    model = make_model(adapter, base_url=emulator.base_url, api_key=emulator.api_key)
    if adapter == "langchain":
        from langchain_core.messages import ChatMessage

        with pytest.raises(ValueError, match="role") as info:
            model.invoke([ChatMessage(role="robot", content="beep")])
        check_message(info.value, "role")
    else:
        from llama_index.core.llms import ChatMessage as LIChatMessage

        with pytest.raises(ValueError, match="tool_call_id") as info:
            model.chat([LIChatMessage(role="tool", content="42")])  # no tool_call_id
        check_message(info.value, "tool_call_id")
    assert emulator.received == []


@pytest.mark.parametrize("adapter", ADAPTERS)
def test_client_settings_per_call_are_refused(emulator: Emulator, adapter: Adapter) -> None:
    model = make_model(adapter, base_url=emulator.base_url, api_key=emulator.api_key)
    with pytest.raises(ValueError, match="timeout"):
        ask(model, Mode(adapter, sync=True, stream=False), "Hi", timeout=5)
    assert emulator.received == []


# --------------------------------------------------------------------------- input the API cannot take


def image_prompt(adapter: Adapter) -> list[Any]:
    if adapter == "langchain":
        from langchain_core.messages import HumanMessage

        image = {"type": "image_url", "image_url": {"url": "https://example.test/cat.png"}}
        return [HumanMessage(content=[{"type": "text", "text": "What is this?"}, image])]
    from llama_index.core.base.llms.types import ImageBlock, TextBlock
    from llama_index.core.llms import ChatMessage

    return [ChatMessage(role="user", blocks=[TextBlock(text="What is this?"), ImageBlock(url="https://x.test/a.png")])]


def orphan_tool_result(adapter: Adapter) -> list[Any]:
    if adapter == "langchain":
        from langchain_core.messages import HumanMessage, ToolMessage

        return [HumanMessage("Add 2 and 3."), ToolMessage("5", tool_call_id="call_9")]
    from llama_index.core.llms import ChatMessage

    return [
        ChatMessage(role="user", content="Add 2 and 3."),
        ChatMessage(role="tool", content="5", additional_kwargs={"tool_call_id": "call_9"}),
    ]


def tool(name: str, parameters: dict[str, Any] | None = None) -> dict[str, Any]:
    return {"type": "function", "function": {"name": name, "parameters": parameters or {"type": "object"}}}


INPUT_CASES = [
    pytest.param(image_prompt, {}, r"content\[1\]\.type='image(_url)?'.*text in and gives text out", id="image"),
    pytest.param(orphan_tool_result, {}, r"tool_call_id='call_9'.*answer a tool call", id="orphan-tool-result"),
    pytest.param(None, {"tools": [tool(f"t{i}") for i in range(129)]}, "at most 128", id="129-tools"),
    pytest.param(None, {"tools": [tool("add"), tool("add")]}, r"tools=\['add'\].*unique", id="duplicate-names"),
    pytest.param(None, {"tools": [tool("add", {"type": "array"})]}, "type='array'.*'object'", id="array-params"),
]


@pytest.mark.parametrize("mode", MODES, ids=str)
@pytest.mark.parametrize(("prompt", "call", "message"), INPUT_CASES)
def test_input_the_api_cannot_take_is_refused_before_sending(
    emulator: Emulator, mode: Mode, prompt: Any, call: dict[str, Any], message: str
) -> None:
    model = make_model(mode.adapter, base_url=emulator.base_url, api_key=emulator.api_key)
    with pytest.raises(ValueError, match=message):
        ask(model, mode, prompt(mode.adapter) if prompt else "Hi", **call)
    assert emulator.received == []
