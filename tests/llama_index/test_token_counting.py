"""Token counting for GLM in LlamaIndex with nothing to download: glm_tokenizer in TokenCountingHandler,
prompt packing (PromptHelper / Settings.tokenizer) and memory limits (ChatMemoryBuffer)."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import llama_index.core
import pytest
from llama_index.core.base.llms.types import ChatMessage
from llama_index.core.callbacks import CallbackManager, TokenCountingHandler
from llama_index.core.indices.prompt_helper import PromptHelper
from llama_index.core.memory import ChatMemoryBuffer
from llama_index.core.prompts import PromptTemplate

from anyfast_core.tokens import estimate_text_tokens
from llama_index_anyfast import AnyFast, glm_tokenizer


def test_glm_tokenizer_counts_like_the_core() -> None:
    text = "Why do e-bike batteries lose range in the cold?"
    assert len(glm_tokenizer(text)) == estimate_text_tokens(text) == 12
    assert glm_tokenizer("") == []


@pytest.mark.parametrize("streaming", [False, True])
async def test_token_counting_handler_uses_glm_counts_where_the_server_gives_none(
    make_llm: Any, server: Any, glm: SimpleNamespace, streaming: bool
) -> None:
    counter = TokenCountingHandler(tokenizer=glm_tokenizer)
    llm: AnyFast = make_llm(callback_manager=CallbackManager([counter]))
    answer = "Forty kilometres in the cold."
    if streaming:
        server.sse(glm.stream(content=answer, usage=None))  # no usage to read
    else:
        body = glm.completion(content=answer)
        del body["usage"]
        server.json(body)
    messages = [ChatMessage(role="user", content="How far does the K2 go in winter?")]
    if streaming:
        async for _ in await llm.astream_chat(messages):
            pass
    else:
        await llm.achat(messages)
    [event] = counter.llm_token_counts
    assert event.completion_token_count == estimate_text_tokens(event.completion)
    assert event.prompt_token_count > 0


def test_prompt_packing_counts_with_glm_tokens(llm: AnyFast, monkeypatch: pytest.MonkeyPatch) -> None:
    # What Settings.tokenizer = glm_tokenizer does, undone after the test.
    monkeypatch.setattr(llama_index.core, "global_tokenizer", glm_tokenizer)
    helper = PromptHelper.from_llm_metadata(llm.metadata)
    prompt = PromptTemplate("Context:\n{context_str}\nAnswer: {query_str}")
    chunks = ["The K2's battery holds 625 Wh. " * 40] * 3
    packed = helper.repack(prompt, chunks)
    assert "".join(packed).count("625 Wh") == 120  # a 1M-token window takes it all
    small = PromptHelper(context_window=400, num_output=100, chunk_overlap_ratio=0.0)
    repacked = small.repack(prompt, chunks)
    assert len(repacked) > 1
    assert all(len(glm_tokenizer(c)) <= 300 for c in repacked)


async def test_memory_keeps_what_fits_in_glm_tokens(llm: AnyFast) -> None:
    memory = ChatMemoryBuffer.from_defaults(llm=llm, tokenizer_fn=glm_tokenizer, token_limit=60)
    for n in range(10):
        memory.put(ChatMessage(role="user", content=f"Question {n}: how far does the K{n} go?"))
        memory.put(ChatMessage(role="assistant", content=f"About {n * 10} km."))
    kept = memory.get()
    assert kept[-1].content == "About 90 km."
    assert 2 <= len(kept) < 20
    assert len(glm_tokenizer(" ".join(str(m.content) for m in kept))) <= 60
    assert [m.content for m in await memory.aget()] == [m.content for m in kept]
