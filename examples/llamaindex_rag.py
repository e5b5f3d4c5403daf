"""RAG with LlamaIndex over the bundled Kestrel docs: BM25 retrieval, a streamed answer, its sources.

    python examples/llamaindex_rag.py

BM25 ranks chunks by the words they share with the question: no embedding model, no download, fully
offline. AnyFast's ``context_window`` is set for GLM-5.2, so the synthesizer packs retrieved chunks
without running out of room. Runs on the built-in emulator unless ANYFAST_API_KEY is set.
"""

from __future__ import annotations

from _backend import anyfast_backend
from _tools import DATA
from llama_index.core import SimpleDirectoryReader
from llama_index.core.base.response.schema import StreamingResponse
from llama_index.core.chat_engine import ContextChatEngine
from llama_index.core.node_parser import SentenceSplitter
from llama_index.core.query_engine import RetrieverQueryEngine
from llama_index.retrievers.bm25 import BM25Retriever

from llama_index_anyfast import AnyFast


def main() -> None:
    llm = AnyFast(model="glm-5.2", reasoning_effort="high")

    documents = SimpleDirectoryReader(str(DATA / "kestrel-docs")).load_data()
    nodes = SentenceSplitter(chunk_size=256, chunk_overlap=20).get_nodes_from_documents(documents)
    retriever = BM25Retriever.from_defaults(nodes=nodes, similarity_top_k=2)
    print(f"indexed {len(documents)} documents as {len(nodes)} chunks")

    # A query engine, streaming its answer.
    engine = RetrieverQueryEngine.from_args(retriever, llm=llm, streaming=True)
    response = engine.query("What does the warranty cover for the motor and battery?")
    assert isinstance(response, StreamingResponse)  # streaming=True above
    response.print_response_stream()
    print("\nsources:")
    for source in response.source_nodes:
        print(f"  {source.node.metadata['file_name']}  score={source.score:.2f}")

    # A chat engine over the same retriever: each turn retrieves afresh and keeps the chat history.
    chat_engine = ContextChatEngine.from_defaults(retriever, llm=llm)
    for question in ("How should I store the battery over winter?", "And at what temperature should I charge it?"):
        reply = chat_engine.chat(question)
        print(f"\nuser: {question}\nchat: {reply.response}")
        print("sources:", sorted({source.node.metadata["file_name"] for source in reply.source_nodes}))


if __name__ == "__main__":
    with anyfast_backend():
        main()
