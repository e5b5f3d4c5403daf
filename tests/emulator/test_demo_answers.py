"""The heuristic answers the demo and examples rely on: ids a model would pass, retrieved context used,
JSON after tool turns, thinking as documented, reasoning tokens, a live-looking pace."""

from __future__ import annotations

import itertools
import json
import sys
import time
from pathlib import Path
from typing import Any

import httpx
import pytest

from anyfast_emulator import Emulator
from anyfast_emulator.answer import effective_effort
from anyfast_emulator.heuristics import think

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
PRICE = {
    "type": "function",
    "function": {
        "name": "price_lookup",
        "parameters": {"type": "object", "properties": {"product_id": {"type": "string"}}, "required": ["product_id"]},
    },
}
CALCULATOR = {
    "type": "function",
    "function": {
        "name": "calculator",
        "parameters": {"type": "object", "properties": {"expression": {"type": "string"}}, "required": ["expression"]},
    },
}
QUESTION = (
    'The shop quoted "3 * 2890 * 1.21" EUR for three Kestrel K2 bikes with 21% VAT. '
    "Look up the K2 price and use the calculator to check the total."
)


def body(messages: list[dict[str, Any]] | str, **fields: Any) -> dict[str, Any]:
    if isinstance(messages, str):
        messages = [{"role": "user", "content": messages}]
    return {"model": "glm-5.2", "messages": messages, **fields}


def test_tool_arguments_are_what_a_model_would_pass() -> None:
    answer = think(body(QUESTION, tools=[PRICE, CALCULATOR]))
    assert [(c.name, json.loads(c.arguments)) for c in answer.tool_calls] == [
        ("price_lookup", {"product_id": "K2"}),
        ("calculator", {"expression": "3 * 2890 * 1.21"}),
    ]
    cargo = think(body("Hi, my name is Ada. What is the price of the Kestrel Cargo?", tools=[PRICE]))
    assert json.loads(cargo.tool_calls[0].arguments) == {"product_id": "Cargo"}


@pytest.mark.parametrize(
    ("fields", "effort"),
    [
        ({}, "max"),
        ({"reasoning_effort": "xhigh"}, "max"),
        ({"reasoning_effort": "high"}, "high"),
        ({"reasoning_effort": "medium"}, "high"),
        ({"reasoning_effort": "low"}, "high"),
        ({"reasoning_effort": "minimal"}, "none"),
        ({"reasoning_effort": "none"}, "none"),
        ({"thinking": {"type": "disabled"}, "reasoning_effort": "max"}, "none"),
        ({"thinking": {"type": "enabled"}, "reasoning_effort": "low"}, "high"),
    ],
)
def test_reasoning_effort_as_documented(fields: dict[str, Any], effort: str) -> None:
    assert effective_effort(body("Hi", **fields)) == effort
    answer = think(body("Hello", **fields))
    assert bool(answer.reasoning) is (effort != "none")  # with thinking on, GLM-5.2 always thinks
    same_as = {"max": {"reasoning_effort": "max"}, "high": {"reasoning_effort": "high"}, "none": {}}[effort]
    if effort != "none":
        assert answer.reasoning == think(body("Hello", **same_as)).reasoning  # low/medium act as high, xhigh as max


def test_json_mode_holds_after_tool_turns() -> None:
    history = [
        {"role": "system", "content": 'Reply in JSON with the keys "product" and "price".'},
        {"role": "user", "content": "What does the K2 cost?"},
        {
            "role": "assistant",
            "content": "",
            "tool_calls": [
                {
                    "id": "c1",
                    "type": "function",
                    "function": {"name": "price_lookup", "arguments": '{"product_id": "K2"}'},
                }
            ],
        },
        {"role": "tool", "tool_call_id": "c1", "content": "Kestrel K2 (K2): 2890.00 EUR before VAT"},
    ]
    answer = think(body(history, tools=[PRICE], response_format={"type": "json_object"}))
    assert not answer.tool_calls
    assert set(json.loads(answer.content)) == {"product", "price"}


def test_json_mode_always_answers_json() -> None:
    react_prompt = (
        'You have access to the following tools:\n> Tool Name: add\nTool Args: {"properties": {"a": '
        '{"type": "integer"}}, "type": "object"}\n\nAction Input: the input to the tool'
    )
    for messages in (
        "Hello",
        "Tell me a story",
        [{"role": "system", "content": react_prompt}, {"role": "user", "content": "Add 2 and 3"}],
    ):
        answer = think(body(messages, response_format={"type": "json_object"}))
        assert isinstance(json.loads(answer.content), dict), answer.content


def test_create_agent_with_a_response_format_finishes_on_the_emulator(emulator: Emulator) -> None:
    from langchain.agents import create_agent
    from langchain_core.tools import tool
    from pydantic import BaseModel

    from langchain_anyfast import ChatAnyFast

    class Price(BaseModel):
        product: str
        price_eur: float

    @tool
    def price_lookup(product_id: str) -> str:
        """Look up a product's price by its id (e.g. 'K2')."""
        return "Kestrel K2 (K2): 2890.00 EUR before VAT"

    chat = ChatAnyFast(model="glm-5.2", base_url=emulator.base_url, api_key=emulator.api_key)
    agent = create_agent(chat, [price_lookup], response_format=Price)
    result = agent.invoke({"messages": [("user", "Look up the price of the K2.")]})
    assert isinstance(result["structured_response"], Price)


def test_a_condense_plus_context_chat_engine_answers_from_the_retrieved_context(emulator: Emulator) -> None:
    from llama_index.core import Document
    from llama_index.core.chat_engine import CondensePlusContextChatEngine
    from llama_index.core.node_parser import SentenceSplitter
    from llama_index.retrievers.bm25 import BM25Retriever

    from llama_index_anyfast import AnyFast

    docs = [
        Document(text="The Kestrel K2 charger fills an empty battery to 80% in 2.5 hours.", doc_id="charger"),
        Document(text="The Kestrel frame warranty lasts 10 years; the motor warranty lasts 3 years.", doc_id="w"),
    ]
    retriever = BM25Retriever.from_defaults(
        nodes=SentenceSplitter(chunk_size=256).get_nodes_from_documents(docs), similarity_top_k=1
    )
    llm = AnyFast(model="glm-5.2", api_base=emulator.base_url, api_key=emulator.api_key)
    engine = CondensePlusContextChatEngine.from_defaults(retriever, llm=llm)
    first = str(engine.chat("How long does the charger take to reach 80%?"))
    assert "2.5 hours" in first
    second = str(engine.chat("And how long is the frame warranty?"))
    assert "10 years" in second


def test_reasoning_tokens_are_reported_when_asked() -> None:
    with Emulator(reasoning_tokens=True) as emu:
        usage = httpx.post(
            emu.base_url + "/chat/completions", json=body("Hello"), headers={"Authorization": "Bearer k"}
        )
    details = usage.json()["usage"]["completion_tokens_details"]
    assert 0 < details["reasoning_tokens"] < usage.json()["usage"]["completion_tokens"]


def test_the_demo_backend_streams_at_a_live_pace() -> None:
    sys.path.insert(0, str(EXAMPLES))
    try:
        from _backend import anyfast_backend
    finally:
        sys.path.remove(str(EXAMPLES))
    import os

    with anyfast_backend(offline=True, pace=0.01) as backend:
        headers = {"Authorization": f"Bearer {os.environ['ANYFAST_API_KEY']}"}
        stamps = []
        with httpx.stream(
            "POST", backend.base_url + "/chat/completions", json=body("Hello", stream=True), headers=headers
        ) as response:
            for line in response.iter_lines():
                if line.startswith("data: {"):
                    stamps.append(time.monotonic())
    gaps = [b - a for a, b in itertools.pairwise(stamps)]
    assert len(gaps) > 10
    assert sorted(gaps)[len(gaps) // 2] >= 0.008  # token by token, not all at once
