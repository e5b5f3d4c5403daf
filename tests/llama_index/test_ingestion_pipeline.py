"""``IngestionPipeline(num_workers=2)`` with an LLM-backed extractor: LlamaIndex pickles the
``TitleExtractor`` and its ``AnyFast`` into worker processes, which call the emulator themselves.

``run`` spawns its workers; ``arun`` uses a ``ProcessPoolExecutor`` (fork on Linux before Python 3.14).
The documents are split by ``MarkdownNodeParser`` (two sections each): a ``SentenceSplitter`` would
carry a tiktoken encoding that a worker loads again from the network (LlamaIndex points tiktoken at
its bundled files only in the process that first asked for a tokenizer), which this suite cannot do.
"""

from __future__ import annotations

from typing import Any

import pytest
from llama_index.core import Document
from llama_index.core.extractors import TitleExtractor
from llama_index.core.ingestion import IngestionPipeline
from llama_index.core.node_parser import MarkdownNodeParser

from llama_index_anyfast import AnyFast

BIKES = ("K2", "Cargo", "City 7", "Trail X")


def documents() -> list[Document]:
    return [
        Document(
            text=f"# Kestrel {bike}\n\nThe Kestrel {bike} e-bike has a {500 + 100 * i} Wh battery.\n\n"
            f"## Warranty\n\nThe Kestrel {bike} frame has a {5 + i} year warranty.\n",
            id_=f"kestrel-{i}",
        )
        for i, bike in enumerate(BIKES)
    ]


def pipeline(emulator: Any) -> IngestionPipeline:
    llm = AnyFast(api_key=emulator.api_key, api_base=emulator.base_url, thinking=False, max_tokens=200)
    extractor = TitleExtractor(llm=llm, nodes=2)
    return IngestionPipeline(transformations=[MarkdownNodeParser(), extractor], disable_cache=True)


def titles(nodes: Any) -> dict[str, str]:
    """The title given to each document (every node of a document carries its document's title)."""
    out: dict[str, str] = {}
    for node in nodes:
        assert out.setdefault(node.ref_doc_id, node.metadata["document_title"]) == node.metadata["document_title"]
    return out


@pytest.mark.parametrize("mode", ["run", "arun"])
async def test_two_workers_extract_titles_from_the_emulator(emulator: Any, mode: str) -> None:
    expected = titles(pipeline(emulator).run(documents=documents()))
    emulator.reset()

    if mode == "run":
        nodes = pipeline(emulator).run(documents=documents(), num_workers=2)
    else:
        nodes = await pipeline(emulator).arun(documents=documents(), num_workers=2)

    assert len(nodes) == 2 * len(BIKES)
    # The same titles as in one process: the emulator's deterministic answers, each its own document's.
    assert titles(nodes) == expected
    for i, bike in enumerate(BIKES):
        assert f"Kestrel {bike} " in expected[f"kestrel-{i}"]
    # The workers asked, three times per document (a title for each of its two nodes, then one from
    # both), and each request was about that document only.
    received = [request["messages"][-1]["content"] for request in emulator.requests]
    assert len(received) == 3 * len(BIKES)
    for bike in BIKES:
        assert sum(f"Kestrel {bike} " in prompt for prompt in received) == 3
