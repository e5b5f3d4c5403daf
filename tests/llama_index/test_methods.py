"""The eight methods, sync/async/stream: reasoning, usage, events, token counting, errors."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import pytest
from llama_index.core.base.llms.types import ChatMessage, ChatResponse, TextBlock, ThinkingBlock
from llama_index.core.callbacks import CallbackManager, TokenCountingHandler

from anyfast_core import (
    AuthenticationError,
    ChatCompletion,
    ContentFilterError,
    QuotaExceededError,
    StreamDelta,
    StreamInterruptedError,
)
from llama_index_anyfast import AnyFast

USER = [ChatMessage(role="user", content="Why is the sky blue?")]
REASONING = "Rayleigh scattering favours short wavelengths. "
ANSWER = "Short blue wavelengths scatter most in air."


def _script(server: Any, glm: SimpleNamespace, stream: bool) -> None:
    kwargs = {"content": ANSWER, "reasoning": REASONING, "usage": (31, 17), "cached": 8, "reasoning_tokens": 9}
    if stream:
        server.sse(glm.stream(**kwargs))
    else:
        server.json(glm.completion(**kwargs))


def _check_whole(response: ChatResponse) -> None:
    thinking, text = response.message.blocks
    assert isinstance(thinking, ThinkingBlock)
    assert isinstance(text, TextBlock)
    assert (thinking.content, thinking.num_tokens, text.text) == (REASONING, 9, ANSWER)
    assert isinstance(response.raw, ChatCompletion)
    assert response.raw.usage is not None
    assert response.raw.usage.total_tokens == 48
    assert response.additional_kwargs == {
        "prompt_tokens": 31,
        "completion_tokens": 17,
        "total_tokens": 48,
        "cached_tokens": 8,
        "reasoning_tokens": 9,
        "finish_reason": "stop",
    }


def _check_stream(pieces: list[ChatResponse]) -> None:
    *body, last = pieces
    assert "".join(p.delta or "" for p in pieces) == ANSWER
    assert "".join(p.additional_kwargs.get("thinking_delta", "") for p in body) == REASONING
    assert all(isinstance(p.raw, StreamDelta) for p in body)
    # Each piece is cumulative, reasoning first; a reasoning piece carries no answer text in delta.
    for piece in body:
        if piece.additional_kwargs.get("thinking_delta"):
            assert piece.delta == ""
            assert isinstance(piece.message.blocks[0], ThinkingBlock)
    assert body[-1].message.content == ANSWER
    _check_whole(last)
    assert last.delta == ""


def test_chat(llm: AnyFast, server: Any, glm: SimpleNamespace) -> None:
    _script(server, glm, stream=False)
    _check_whole(llm.chat(USER))
    assert server.requests[0] == {
        "model": "glm-5.2",
        "messages": [{"role": "user", "content": "Why is the sky blue?"}],
        "stream": False,
    }


async def test_achat(llm: AnyFast, server: Any, glm: SimpleNamespace) -> None:
    _script(server, glm, stream=False)
    _check_whole(await llm.achat(USER))


def test_stream_chat(llm: AnyFast, server: Any, glm: SimpleNamespace) -> None:
    _script(server, glm, stream=True)
    _check_stream(list(llm.stream_chat(USER)))
    assert server.requests[0]["stream"] is True
    assert server.requests[0]["stream_options"] == {"include_usage": True}


async def test_astream_chat(llm: AnyFast, server: Any, glm: SimpleNamespace) -> None:
    _script(server, glm, stream=True)
    _check_stream([piece async for piece in await llm.astream_chat(USER)])


def test_complete(llm: AnyFast, server: Any, glm: SimpleNamespace) -> None:
    _script(server, glm, stream=False)
    response = llm.complete("Why is the sky blue?")
    assert response.text == ANSWER
    assert response.additional_kwargs["reasoning_content"] == REASONING
    assert response.additional_kwargs["total_tokens"] == 48
    assert server.requests[0]["messages"] == [{"role": "user", "content": "Why is the sky blue?"}]


async def test_acomplete(llm: AnyFast, server: Any, glm: SimpleNamespace) -> None:
    _script(server, glm, stream=False)
    response = await llm.acomplete("Why is the sky blue?")
    assert (response.text, response.additional_kwargs["prompt_tokens"]) == (ANSWER, 31)


def test_stream_complete(llm: AnyFast, server: Any, glm: SimpleNamespace) -> None:
    _script(server, glm, stream=True)
    pieces = list(llm.stream_complete("Why is the sky blue?"))
    assert "".join(p.delta or "" for p in pieces) == ANSWER
    assert "".join(p.additional_kwargs.get("thinking_delta", "") for p in pieces) == REASONING
    assert pieces[-1].text == ANSWER
    assert pieces[-1].additional_kwargs["reasoning_content"] == REASONING
    assert pieces[-1].additional_kwargs["completion_tokens"] == 17


async def test_astream_complete(llm: AnyFast, server: Any, glm: SimpleNamespace) -> None:
    _script(server, glm, stream=True)
    pieces = [p async for p in await llm.astream_complete("Why is the sky blue?")]
    assert pieces[-1].text == ANSWER
    assert isinstance(pieces[-1].raw, ChatCompletion)


def test_completion_to_prompt_applies_unless_formatted(make_llm: Any, server: Any, glm: SimpleNamespace) -> None:
    llm = make_llm(completion_to_prompt=lambda p: f"[{p}]")
    server.json(glm.completion(content="a"))
    server.json(glm.completion(content="b"))
    llm.complete("x")
    llm.complete("x", formatted=True)
    assert [r["messages"][0]["content"] for r in server.requests] == ["[x]", "x"]


def test_predict_uses_the_system_prompt(make_llm: Any, server: Any, glm: SimpleNamespace) -> None:
    from llama_index.core.prompts import PromptTemplate

    llm = make_llm(system_prompt="Be brief.")
    server.json(glm.completion(content="Blue."))
    assert llm.predict(PromptTemplate("Colour of {thing}?"), thing="sky") == "Blue."
    assert server.requests[0]["messages"] == [
        {"role": "system", "content": "Be brief."},
        {"role": "user", "content": "Colour of sky?"},
    ]


def test_a_stream_sends_nothing_until_read(llm: AnyFast, server: Any, glm: SimpleNamespace) -> None:
    server.sse(glm.stream(content="hi"))
    pieces = llm.stream_chat(USER)
    assert server.requests == []
    assert next(pieces).delta == "hi"
    pieces.close()
    assert len(server.requests) == 1


def test_reasoning_only_answer_keeps_empty_text(llm: AnyFast, server: Any, glm: SimpleNamespace) -> None:
    # A recorded GLM defect: the stream ends after reasoning, with empty content and "stop".
    server.sse(glm.stream(reasoning="thinking about it"))
    last = list(llm.stream_chat(USER))[-1]
    assert last.message.content == ""
    assert last.message.blocks[0].content == "thinking about it"


def test_request_fields_defaults_and_per_call_overrides(make_llm: Any, server: Any, glm: SimpleNamespace) -> None:
    llm = make_llm(
        thinking={"type": "enabled", "clear_thinking": False},
        reasoning_effort="high",
        temperature=0.3,
        top_p=0.9,
        max_tokens=2048,
        stop=["END"],
        additional_kwargs={"tool_stream": False, "user_tag": "docs"},
    )
    server.json(glm.completion(content="a"))
    server.json(glm.completion(content="b"))
    llm.chat(USER)
    llm.chat(USER, temperature=0.0, thinking=False, extra_body={"trace": 1})
    first, second = server.requests
    assert first == {
        "model": "glm-5.2",
        "messages": [{"role": "user", "content": "Why is the sky blue?"}],
        "thinking": {"type": "enabled", "clear_thinking": False},
        "reasoning_effort": "high",
        "max_tokens": 2048,
        "temperature": 0.3,
        "top_p": 0.9,
        "stop": ["END"],
        "stream": False,
        "user_tag": "docs",
    }
    assert (second["temperature"], second["thinking"], second["trace"]) == (0.0, {"type": "disabled"}, 1)


def test_bad_call_arguments_raise_before_sending_from_the_completion_methods(llm: AnyFast, server: Any) -> None:
    """The chat methods are tested with the LangChain ones in tests/reliability/test_bad_input.py."""
    with pytest.raises(ValueError, match="temperature=2"):
        llm.complete("hi", temperature=2)
    with pytest.raises(ValueError, match="did you mean 'max_tokens'"):
        llm.stream_complete("hi", max_token=5)
    assert server.requests == []


# --------------------------------------------------------------------------- recordings


def test_recorded_glm_answer(llm: AnyFast, server: Any, recording: Any) -> None:
    server.recording("zai-glm-4.5_tool.2.json")
    response = llm.chat(USER)
    assert response.message.content.startswith("\n\nThe current weather in Florence")
    assert response.message.blocks[0].content.startswith('The weather function returned "40 C"')
    assert response.additional_kwargs["cached_tokens"] == 43
    assert response.raw.request_id == "2025092619055464ba39f15d9f4c36"


async def test_recorded_glm_stream(llm: AnyFast, server: Any, recording: Any) -> None:
    server.recording("zai-glm-4.5_tool_streaming.2.sse")
    pieces = [p async for p in await llm.astream_chat(USER)]
    last = pieces[-1]
    assert "".join(p.delta or "" for p in pieces) == last.message.content
    assert "".join(p.additional_kwargs.get("thinking_delta", "") for p in pieces) == last.message.blocks[0].content
    assert last.additional_kwargs["total_tokens"] == last.raw.usage.total_tokens > 0


# --------------------------------------------------------------------------- events and token counts


CALLS = {
    "chat": ("chat", False, False, "LLMChat"),
    "achat": ("achat", True, False, "LLMChat"),
    "stream_chat": ("stream_chat", False, True, "LLMChat"),
    "astream_chat": ("astream_chat", True, True, "LLMChat"),
    "complete": ("complete", False, False, "LLMCompletion"),
    "acomplete": ("acomplete", True, False, "LLMCompletion"),
    "stream_complete": ("stream_complete", False, True, "LLMCompletion"),
    "astream_complete": ("astream_complete", True, True, "LLMCompletion"),
}


async def _call(llm: AnyFast, name: str) -> None:
    method, is_async, streams, kind = CALLS[name]
    arg: Any = USER if kind == "LLMChat" else "Why is the sky blue?"
    result = getattr(llm, method)(arg)
    if is_async:
        result = await result
    if streams and is_async:
        _ = [piece async for piece in result]
    elif streams:
        _ = list(result)


@pytest.mark.parametrize("name", list(CALLS))
async def test_events_fire_once_and_tokens_match_server_usage(
    make_llm: Any, server: Any, glm: SimpleNamespace, events: list[str], name: str
) -> None:
    counter = TokenCountingHandler(tokenizer=lambda text: text.split())  # estimates would differ from usage
    llm = make_llm(callback_manager=CallbackManager([counter]))
    _script(server, glm, stream=CALLS[name][2])
    await _call(llm, name)
    kind = CALLS[name][3]
    assert events.count(f"{kind}StartEvent") == 1
    assert events.count(f"{kind}EndEvent") == 1
    other = "LLMCompletion" if kind == "LLMChat" else "LLMChat"
    assert not any(e.startswith(other) for e in events)
    assert len(counter.llm_token_counts) == 1
    assert (counter.prompt_llm_token_count, counter.completion_llm_token_count) == (31, 17)
    assert counter.total_llm_token_count == 48


# --------------------------------------------------------------------------- errors


def test_auth_error_is_typed_and_not_retried(llm: AnyFast, server: Any) -> None:
    server.json({"error": {"message": "Invalid API key provided.", "type": "authentication_error"}}, status=401)
    with pytest.raises(AuthenticationError, match="Invalid API key"):
        llm.chat(USER)
    assert len(server.requests) == 1


async def test_quota_error_is_not_retried(llm: AnyFast, server: Any) -> None:
    server.json({"error": {"message": "Insufficient balance", "code": "1113"}}, status=429)
    with pytest.raises(QuotaExceededError):
        await llm.achat(USER)
    assert len(server.requests) == 1


def test_stream_cut_before_done_raises_with_partial(llm: AnyFast, server: Any, glm: SimpleNamespace) -> None:
    server.sse(glm.stream(content="half an answer").replace(b"data: [DONE]\n\n", b""))
    pieces: list[ChatResponse] = []
    with pytest.raises(StreamInterruptedError) as caught:
        pieces.extend(llm.stream_chat(USER))
    assert "".join(p.delta or "" for p in pieces) == "half an answer"
    assert caught.value.partial.message.content == "half an answer"


def test_sensitive_finish_reason_raises(llm: AnyFast, server: Any, glm: SimpleNamespace) -> None:
    server.json(glm.completion(content="", finish_reason="sensitive"))
    with pytest.raises(ContentFilterError, match="content safety"):
        llm.complete("x")


def test_missing_key_is_a_clear_error(make_llm: Any, server: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("ANYFAST_API_KEY", raising=False)
    llm = make_llm(api_key=None)
    with pytest.raises(AuthenticationError, match="ANYFAST_API_KEY"):
        llm.chat(USER)
    assert server.requests == []
