"""Structured output: function calling by default, JSON mode with ``pydantic_program_mode="llm"``."""

from __future__ import annotations

import json
from types import SimpleNamespace
from typing import Any

import pytest
from llama_index.core.base.llms.types import ChatMessage
from llama_index.core.prompts import PromptTemplate
from pydantic import BaseModel, ValidationError

from llama_index_anyfast import AnyFast


class Warranty(BaseModel):
    """Warranty terms of a bike."""

    frame_years: int
    motor_years: int


TEXT = "Frame: 10 years. Motor: 3 years."
TERMS = {"frame_years": 10, "motor_years": 3}


@pytest.fixture
def prompt() -> PromptTemplate:
    return PromptTemplate("Extract the warranty terms: {text}")


def _check_function_request(request: dict[str, Any]) -> None:
    assert [t["function"]["name"] for t in request["tools"]] == ["Warranty"]
    assert request["tool_choice"] == "required"
    assert "response_format" not in request


def test_structured_predict_by_function_calling(
    llm: AnyFast, server: Any, glm: SimpleNamespace, prompt: PromptTemplate
) -> None:
    server.json(glm.completion(reasoning="Two numbers.", tool_calls=[("call_1", "Warranty", TERMS)]))
    assert llm.structured_predict(Warranty, prompt, text=TEXT) == Warranty(**TERMS)
    _check_function_request(server.requests[0])
    assert TEXT in server.requests[0]["messages"][-1]["content"]


async def test_astructured_predict_by_function_calling(
    llm: AnyFast, server: Any, glm: SimpleNamespace, prompt: PromptTemplate
) -> None:
    server.json(glm.completion(tool_calls=[("call_1", "Warranty", TERMS)]))
    assert await llm.astructured_predict(Warranty, prompt, text=TEXT) == Warranty(**TERMS)
    _check_function_request(server.requests[0])


async def test_stream_structured_predict_by_function_calling(
    llm: AnyFast, server: Any, glm: SimpleNamespace, prompt: PromptTemplate
) -> None:
    calls = [("call_1", "Warranty", TERMS)]
    server.sse(glm.stream(reasoning="Extracting. ", tool_calls=calls, fragment_tool_calls=True))
    server.sse(glm.stream(reasoning="Extracting. ", tool_calls=calls, fragment_tool_calls=True))
    partials = list(llm.stream_structured_predict(Warranty, prompt, text=TEXT))
    assert partials[-1] == Warranty(**TERMS)
    assert len(partials) < 6  # reasoning pieces parse nothing and are skipped
    apartials = [p async for p in await llm.astream_structured_predict(Warranty, prompt, text=TEXT)]
    assert apartials[-1] == Warranty(**TERMS)
    for request in server.requests:
        _check_function_request(request)


def test_as_structured_llm(llm: AnyFast, server: Any, glm: SimpleNamespace) -> None:
    server.json(glm.completion(tool_calls=[("call_1", "Warranty", TERMS)]))
    response = llm.as_structured_llm(Warranty).chat([ChatMessage(role="user", content=TEXT)])
    assert response.raw == Warranty(**TERMS)
    assert json.loads(response.message.content or "") == TERMS


def test_json_mode(make_llm: Any, server: Any, glm: SimpleNamespace, prompt: PromptTemplate) -> None:
    llm = make_llm(pydantic_program_mode="llm")
    server.json(glm.completion(reasoning="JSON it is.", content=json.dumps(TERMS)))
    assert llm.structured_predict(Warranty, prompt, text=TEXT) == Warranty(**TERMS)
    request = server.requests[0]
    assert request["response_format"] == {"type": "json_object"}
    assert "tools" not in request
    system, user = request["messages"]
    assert TEXT in user["content"]
    assert system["role"] == "system"
    assert '"frame_years"' in system["content"]  # the schema travels in the system prompt, as plain JSON
    assert "{{" not in system["content"]
    assert prompt.output_parser is None  # the caller's template is left as it was


def test_json_mode_fires_each_event_once(
    make_llm: Any, server: Any, glm: SimpleNamespace, prompt: PromptTemplate, events: list[str]
) -> None:
    llm = make_llm(pydantic_program_mode="llm")
    server.json(glm.completion(content=json.dumps(TERMS)))
    assert llm.structured_predict(Warranty, prompt, text=TEXT) == Warranty(**TERMS)
    for kind in ("LLMStructuredPredict", "LLMChat"):
        assert events.count(f"{kind}StartEvent") == 1
        assert events.count(f"{kind}EndEvent") == 1
    assert len(server.requests) == 1


async def test_json_mode_async_and_streaming(
    make_llm: Any, server: Any, glm: SimpleNamespace, prompt: PromptTemplate
) -> None:
    llm = make_llm(pydantic_program_mode="llm")
    server.json(glm.completion(content="```json\n" + json.dumps(TERMS) + "\n```"))
    server.sse(glm.stream(reasoning="Fields first. ", content=json.dumps(TERMS)))
    assert await llm.astructured_predict(Warranty, prompt, text=TEXT) == Warranty(**TERMS)
    partials = [p async for p in await llm.astream_structured_predict(Warranty, prompt, text=TEXT)]
    assert partials[-1] == Warranty(**TERMS)
    assert all(r["response_format"] == {"type": "json_object"} for r in server.requests)


def test_json_mode_validates_the_answer(
    make_llm: Any, server: Any, glm: SimpleNamespace, prompt: PromptTemplate
) -> None:
    llm = make_llm(pydantic_program_mode="llm")
    server.json(glm.completion(content='{"frame_years": "ten"}'))
    with pytest.raises(ValidationError, match="frame_years"):
        llm.structured_predict(Warranty, prompt, text=TEXT)


def test_function_mode_without_an_answer_is_a_clear_error(
    llm: AnyFast, server: Any, glm: SimpleNamespace, prompt: PromptTemplate
) -> None:
    server.json(glm.completion(content="Ten and three."))
    with pytest.raises(ValueError, match=r"Expected a Warranty as a tool call or a JSON object.*'Ten and three\.'"):
        llm.structured_predict(Warranty, prompt, text=TEXT)


@pytest.mark.parametrize("text", [json.dumps(TERMS), "```json\n" + json.dumps(TERMS) + "\n```"])
async def test_a_forced_tool_call_answered_in_text_still_counts(
    llm: AnyFast, server: Any, glm: SimpleNamespace, prompt: PromptTemplate, text: str
) -> None:
    # The API may honour only tool_choice "auto": the model then writes the arguments as text.
    server.json(glm.completion(content=text))
    server.json(glm.completion(content=text))
    assert llm.structured_predict(Warranty, prompt, text=TEXT) == Warranty(**TERMS)
    assert await llm.astructured_predict(Warranty, prompt, text=TEXT) == Warranty(**TERMS)


def test_function_mode_validates_the_arguments(
    llm: AnyFast, server: Any, glm: SimpleNamespace, prompt: PromptTemplate
) -> None:
    server.json(glm.completion(tool_calls=[("call_1", "Warranty", {"frame_years": "ten"})]))
    with pytest.raises(ValidationError, match="frame_years"):
        llm.structured_predict(Warranty, prompt, text=TEXT)


def test_structured_predict_uses_the_system_prompt_and_keeps_llm_kwargs(
    make_llm: Any, server: Any, glm: SimpleNamespace, prompt: PromptTemplate
) -> None:
    llm = make_llm(system_prompt="Extract exactly.")
    server.json(glm.completion(tool_calls=[("call_1", "Warranty", TERMS)]))
    llm.structured_predict(Warranty, prompt, llm_kwargs={"temperature": 0.0, "tool_choice": "auto"}, text=TEXT)
    request = server.requests[0]
    assert request["messages"][0] == {"role": "system", "content": "Extract exactly."}
    assert (request["temperature"], request["tool_choice"]) == (0.0, "required")
