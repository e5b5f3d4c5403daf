"""Token counting for GLM with nothing extra installed: get_num_tokens, get_num_tokens_from_messages and
trim_messages(token_counter=model), checked against what GLM reported for a real request."""

from __future__ import annotations

import json
from typing import Any

import pytest
from langchain_core.messages import AIMessage, BaseMessage, HumanMessage, SystemMessage, ToolMessage, trim_messages
from testkit import recorded_prompts

from anyfast_core.tokens import estimate_text_tokens
from langchain_anyfast import ChatAnyFast


def as_langchain(messages: list[dict[str, Any]]) -> list[BaseMessage]:
    """A recorded wire conversation as the LangChain messages a user would hold."""
    out: list[BaseMessage] = []
    for m in messages:
        if m["role"] == "system":
            out.append(SystemMessage(m["content"]))
        elif m["role"] == "user":
            out.append(HumanMessage(m["content"]))
        elif m["role"] == "tool":
            out.append(ToolMessage(m["content"], tool_call_id=m["tool_call_id"]))
        else:
            calls = [
                {"id": c["id"], "name": c["function"]["name"], "args": json.loads(c["function"]["arguments"])}
                for c in m.get("tool_calls", [])
            ]
            extra = {"reasoning_content": m["reasoning_content"]} if "reasoning_content" in m else {}
            out.append(AIMessage(m["content"], tool_calls=calls, additional_kwargs=extra))
    return out


def test_get_num_tokens_needs_no_tokenizer_package(model: ChatAnyFast) -> None:
    # LangChain's default loads GPT-2 through transformers, which is neither installed nor GLM's.
    text = "Why do e-bike batteries lose range in the cold?"
    assert model.get_num_tokens(text) == estimate_text_tokens(text) == 12
    with pytest.raises(NotImplementedError, match="get_num_tokens"):
        model.get_token_ids(text)


@pytest.mark.parametrize(("name", "body", "reported"), recorded_prompts(), ids=[r[0] for r in recorded_prompts()])
def test_messages_and_tools_count_within_ten_percent_of_glm(
    model: ChatAnyFast, name: str, body: dict[str, Any], reported: int
) -> None:
    tools = [{"type": "function", "function": t["function"]} for t in body["tools"]]
    counted = model.get_num_tokens_from_messages(as_langchain(body["messages"]), tools=tools)
    assert abs(counted - reported) <= 0.10 * reported, (counted, reported)
    assert model.get_num_tokens_from_messages(as_langchain(body["messages"])) < counted - 90  # tools cost


def test_tools_may_be_anything_bind_tools_takes(model: ChatAnyFast) -> None:
    def add(a: int, b: int) -> int:
        """Add two integers."""
        return a + b

    messages = [HumanMessage("What is 2 + 3?")]
    assert model.get_num_tokens_from_messages(messages, tools=[add]) > model.get_num_tokens_from_messages(messages)


def test_trim_messages_with_the_model_as_counter(model: ChatAnyFast) -> None:
    history: list[BaseMessage] = [SystemMessage("You answer questions about Kestrel e-bikes.")]
    for n in range(20):
        history += [HumanMessage(f"Question {n}: how far does the K{n} go?"), AIMessage(f"About {n * 10} km.")]
    kept = trim_messages(history, max_tokens=100, token_counter=model, strategy="last", include_system=True)
    assert kept[0] == history[0]
    assert kept[-1] == history[-1]
    assert 3 < len(kept) < len(history)
    assert model.get_num_tokens_from_messages(kept) <= 100
    assert model.get_num_tokens_from_messages(history[:1] + history[-len(kept) :]) > 100  # one more would not fit


def test_messages_count_in_any_form_invoke_takes(model: ChatAnyFast) -> None:
    as_messages = [SystemMessage("Be brief."), HumanMessage("What is a pedelec?")]
    as_tuples = [("system", "Be brief."), ("user", "What is a pedelec?")]
    as_dicts = [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "What is a pedelec?"}]
    expected = model.get_num_tokens_from_messages(as_messages)
    assert expected > 0
    assert model.get_num_tokens_from_messages(as_tuples) == expected  # type: ignore[arg-type]
    assert model.get_num_tokens_from_messages(as_dicts) == expected  # type: ignore[arg-type]
