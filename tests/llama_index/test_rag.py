"""A RAG pipeline over AnyFast: BM25 retrieval, query engines (whole and streaming), a chat engine."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import pytest
from llama_index.core import Document, VectorStoreIndex
from llama_index.core.chat_engine import CondensePlusContextChatEngine
from llama_index.core.embeddings import MockEmbedding
from llama_index.core.node_parser import SentenceSplitter
from llama_index.core.query_engine import RetrieverQueryEngine
from llama_index.retrievers.bm25 import BM25Retriever

from llama_index_anyfast import AnyFast

DOCS = [
    Document(text="The Kestrel K2 e-bike has a 500 Wh battery and a range of 90 km.", doc_id="k2"),
    Document(text="The Kestrel frame warranty lasts 10 years; the motor warranty lasts 3 years.", doc_id="warranty"),
    Document(text="Kestrel ships to Germany, Austria and Switzerland within five days.", doc_id="shipping"),
]
THOUGHT = "The context says 10 years for the frame. "
ANSWER = "The frame warranty lasts 10 years."


@pytest.fixture
def retriever() -> BM25Retriever:
    nodes = SentenceSplitter(chunk_size=256).get_nodes_from_documents(DOCS)
    return BM25Retriever.from_defaults(nodes=nodes, similarity_top_k=1)


def _user_turn(request: dict[str, Any]) -> str:
    return "\n".join(m["content"] for m in request["messages"] if m["role"] in ("user", "system"))


@pytest.mark.parametrize("streaming", [False, True], ids=["whole", "streaming"])
def test_query_engine_over_bm25(
    llm: AnyFast, server: Any, glm: SimpleNamespace, retriever: BM25Retriever, streaming: bool
) -> None:
    if streaming:
        server.sse(glm.stream(reasoning=THOUGHT, content=ANSWER))
    else:
        server.json(glm.completion(reasoning=THOUGHT, content=ANSWER))
    engine = RetrieverQueryEngine.from_args(retriever, llm=llm, streaming=streaming)
    response = engine.query("How long is the frame warranty?")
    if streaming:
        assert "".join(response.response_gen) == ANSWER  # type: ignore[arg-type,union-attr]
    else:
        assert str(response) == ANSWER
    assert [n.node.ref_doc_id for n in response.source_nodes] == ["warranty"]
    prompt = _user_turn(server.requests[0])
    assert "frame warranty lasts 10 years" in prompt
    assert "How long is the frame warranty?" in prompt


async def test_async_query_engine_over_a_vector_index(llm: AnyFast, server: Any, glm: SimpleNamespace) -> None:
    # A deterministic local embedding: retrieval is arbitrary, the pipeline is real.
    index = VectorStoreIndex.from_documents(DOCS, embed_model=MockEmbedding(embed_dim=8))
    server.sse(glm.stream(reasoning=THOUGHT, content=ANSWER))
    engine = index.as_query_engine(llm=llm, similarity_top_k=3, streaming=True)
    response = await engine.aquery("How long is the frame warranty?")
    assert "".join([token async for token in response.async_response_gen()]) == ANSWER  # type: ignore[union-attr]
    assert all(doc.text in _user_turn(server.requests[0]) for doc in DOCS)


def test_chat_engine_keeps_history_without_reasoning_in_text(
    llm: AnyFast, server: Any, glm: SimpleNamespace, retriever: BM25Retriever
) -> None:
    server.json(glm.completion(reasoning=THOUGHT, content=ANSWER))
    server.json(glm.completion(content="How long is the motor warranty?"))  # the condensed question
    server.sse(glm.stream(reasoning="Motor: 3 years. ", content="The motor warranty lasts 3 years."))
    engine = CondensePlusContextChatEngine.from_defaults(retriever, llm=llm)

    first = engine.chat("How long is the frame warranty?")
    second = engine.stream_chat("And the motor?")
    streamed = "".join(second.response_gen)

    assert str(first) == ANSWER
    assert streamed == "The motor warranty lasts 3 years."
    assert [n.node.ref_doc_id for n in second.source_nodes] == ["warranty"]
    # The history the condense step sent holds the earlier answer's text and not its reasoning.
    condense = _user_turn(server.requests[1])
    assert ANSWER in condense
    assert THOUGHT not in condense
    last_history = [m for m in server.requests[2]["messages"] if m["role"] == "assistant"]
    assert [m["content"] for m in last_history] == [ANSWER]


def test_context_window_leaves_room_for_retrieved_text(llm: AnyFast) -> None:
    from llama_index.core.indices.prompt_helper import PromptHelper

    helper = PromptHelper.from_llm_metadata(llm.metadata)
    assert llm.metadata.context_window == 1_000_000
    assert helper.context_window - helper.num_output > 900_000
