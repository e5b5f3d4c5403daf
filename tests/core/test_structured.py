"""Structured output through the prompt (anyfast_core.structured): the schema stated in the system prompt,
and the JSON read back out of an answer, the same for both adapters."""

from __future__ import annotations

import copy
import json
import re
from typing import Any

import pytest
from pydantic import BaseModel

from anyfast_core.structured import SCHEMA_INSTRUCTION, json_from_text, schema_in_prompt

JSON_TEXTS = [
    ('{"a": 1}', {"a": 1}),
    ("  [1, 2]  ", [1, 2]),
    ('```json\n{"a": 1}\n```', {"a": 1}),
    ('```\n{"a": "é"}\n```', {"a": "é"}),
    ('Sure! Here it is:\n```JSON\n{"a": 1}\n```\nAnything else?', {"a": 1}),
    ('```python\nx = 1\n```\n```json\n{"a": 1}\n```', {"a": 1}),
    ('Here: {"a": {"b": [1, "}"]}} -- done', {"a": {"b": [1, "}"]}}),
    ('{broken} then {"a": 2}', {"a": 2}),
    ('Use the {name} format: {"a": 3}. Note: {x}', {"a": 3}),
]
NO_JSON_TEXTS = ["", "Ten and three.", "no json { here", "```json\n{oops\n```"]


@pytest.mark.parametrize(("text", "value"), JSON_TEXTS)
def test_json_from_text(text: str, value: object) -> None:
    assert json_from_text(text) == value


@pytest.mark.parametrize("text", NO_JSON_TEXTS)
def test_json_from_text_without_json_quotes_the_text(text: str) -> None:
    with pytest.raises(ValueError, match=re.escape(f"holds no JSON object: {text!r}")):
        json_from_text(text)


def test_json_from_text_clips_a_long_answer() -> None:
    with pytest.raises(ValueError, match="holds no JSON object") as info:
        json_from_text("x" * 5000)
    assert len(str(info.value)) < 400
    assert str(info.value).endswith("...'")


class Pair(BaseModel):
    a: int
    b: str = "-"


PAIR_TEXTS = [text for text, value in JSON_TEXTS if isinstance(value, dict) and isinstance(value.get("a"), int)]


def _langchain(text: str) -> Any:
    from langchain_core.messages import AIMessage

    from langchain_anyfast._structured import StructuredOutputParser

    return StructuredOutputParser(target=Pair, target_schema=Pair.model_json_schema()).invoke(AIMessage(text))


def _llama_index(text: str) -> Any:
    from llama_index.core.base.llms.types import ChatMessage

    from llama_index_anyfast.utils import structured_output

    return structured_output(ChatMessage(role="assistant", content=text), Pair)


@pytest.mark.parametrize("text", PAIR_TEXTS)
def test_both_adapters_read_the_same_json_answers(text: str) -> None:
    assert _langchain(text) == _llama_index(text) == Pair.model_validate(json_from_text(text))


@pytest.mark.parametrize("text", ["Ten and three.", "no json { here"])
def test_both_adapters_refuse_the_same_answers(text: str) -> None:
    from langchain_core.exceptions import OutputParserException

    with pytest.raises(OutputParserException, match="holds no JSON object"):
        _langchain(text)
    with pytest.raises(ValueError, match="holds no JSON object"):
        _llama_index(text)


SCHEMA = {"type": "object", "properties": {"b": {"type": "string"}, "a": {"type": "integer"}}, "required": ["b"]}


def test_schema_in_prompt_adds_a_system_message() -> None:
    messages = [{"role": "user", "content": "hi"}]
    sent = schema_in_prompt(messages, SCHEMA)
    assert sent == [
        {"role": "system", "content": SCHEMA_INSTRUCTION + json.dumps(SCHEMA, ensure_ascii=False)},
        {"role": "user", "content": "hi"},
    ]
    assert messages == [{"role": "user", "content": "hi"}]


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        ("Be nice.", "Be nice.\n\n" + SCHEMA_INSTRUCTION),
        (None, SCHEMA_INSTRUCTION),
        ("", SCHEMA_INSTRUCTION),
    ],
)
def test_schema_in_prompt_extends_a_leading_system_message(content: str | None, expected: str) -> None:
    messages: list[dict[str, Any]] = [{"role": "system", "content": content}, {"role": "user", "content": "hi"}]
    original = copy.deepcopy(messages)
    sent = schema_in_prompt(messages, SCHEMA)
    assert len(sent) == 2
    assert sent[0]["content"].startswith(expected)
    assert sent[1] is messages[1]
    assert messages == original  # the caller's messages are left as they were


def test_schema_in_prompt_extends_system_parts() -> None:
    parts = [{"type": "text", "text": "Be nice."}]
    sent = schema_in_prompt([{"role": "system", "content": parts}], SCHEMA)
    assert sent[0]["content"][0] == {"type": "text", "text": "Be nice."}
    assert sent[0]["content"][1]["text"].startswith("\n\n" + SCHEMA_INSTRUCTION)
    assert parts == [{"type": "text", "text": "Be nice."}]


def test_schema_in_prompt_keeps_the_schema_order_and_text() -> None:
    schema = {"title": "Città", "type": "object", "properties": {"z": {}, "a": {}}}
    (system,) = schema_in_prompt([], schema)
    assert system["content"].endswith('{"title": "Città", "type": "object", "properties": {"z": {}, "a": {}}}')


def test_the_emulator_reads_the_schema_it_is_given() -> None:
    from anyfast_emulator.heuristics.brain import find_schema, wants_json
    from anyfast_emulator.heuristics.conversation import Conversation

    messages = schema_in_prompt([{"role": "user", "content": "Extract: a is 3, b is x"}], SCHEMA)
    conversation = Conversation(messages)
    assert find_schema(conversation.all_text) == SCHEMA
    assert wants_json({"messages": messages}, conversation)
    assert conversation.turn == "Extract: a is 3, b is x"  # the user's words stay their own
