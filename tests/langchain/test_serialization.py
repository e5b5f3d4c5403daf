"""Serialization without the key, LangSmith params, the model profile, rate limiter and caches."""

from __future__ import annotations

import json
from typing import Any

import pytest
from langchain_core.caches import InMemoryCache
from langchain_core.load import dumpd, dumps, load
from langchain_core.rate_limiters import InMemoryRateLimiter

from langchain_anyfast import ChatAnyFast

KEY = "sk-very-secret-key-0001"


@pytest.mark.filterwarnings("ignore::langchain_core._api.beta_decorator.LangChainBetaWarning")
def test_dump_never_holds_the_key_and_loads_back(monkeypatch: pytest.MonkeyPatch) -> None:
    model = ChatAnyFast(api_key=KEY, model="glm-5.2", temperature=0.3, thinking=True, reasoning_effort="high")
    dumped = dumpd(model)
    assert KEY not in json.dumps(dumped)
    assert KEY not in dumps(model)
    assert dumped["kwargs"]["api_key"] == {"lc": 1, "type": "secret", "id": ["ANYFAST_API_KEY"]}
    monkeypatch.setenv("ANYFAST_API_KEY", "sk-from-env")
    # allowed_objects="all" admits only the classes langchain-core lists itself; partners name theirs.
    loaded = load(dumped, valid_namespaces=["langchain_anyfast"], allowed_objects=[ChatAnyFast], secrets_from_env=True)
    assert isinstance(loaded, ChatAnyFast)
    assert loaded.api_key is not None
    assert loaded.api_key.get_secret_value() == "sk-from-env"
    assert (loaded.model, loaded.temperature, loaded.thinking, loaded.reasoning_effort) == (
        "glm-5.2",
        0.3,
        True,
        "high",
    )
    assert loaded.asdict() == model.asdict()


def test_langsmith_params() -> None:
    model = ChatAnyFast(api_key="k", temperature=0.2, max_tokens=100, stop=["END"])
    assert model._get_ls_params() == {
        "ls_provider": "anyfast",
        "ls_model_name": "glm-5.2",
        "ls_model_type": "chat",
        "ls_temperature": 0.2,
        "ls_max_tokens": 100,
        "ls_stop": ["END"],
    }
    assert model._get_ls_params(model="other", temperature=0.9)["ls_model_name"] == "other"


def test_aliases() -> None:
    model = ChatAnyFast(api_key="k", model_name="glm-5.2", stop_sequences=["x"], request_timeout=5)
    assert (model.model, model.stop, model.timeout) == ("glm-5.2", ["x"], 5)


def test_profile() -> None:
    profile = ChatAnyFast(api_key="k").profile
    assert profile is not None
    assert (profile["max_input_tokens"], profile["max_output_tokens"]) == (1_000_000, 131_072)
    assert profile["reasoning_output"] is True
    assert profile["tool_calling"] is True
    assert profile["structured_output"] is False  # no json_schema response format: agents use tools
    assert "xhigh" in profile["reasoning_effort_levels"]
    assert ChatAnyFast(api_key="k", model="some-other-model").profile is None


def test_summarization_middleware_plans_with_the_profile_context_window() -> None:
    from langchain.agents.middleware import SummarizationMiddleware

    # A fraction-of-context trigger needs an integer max_input_tokens in the profile; without one this raises.
    SummarizationMiddleware(ChatAnyFast(api_key="k"), trigger=("fraction", 0.8), keep=("fraction", 0.1))
    with pytest.raises(ValueError, match="max_input_tokens"):
        SummarizationMiddleware(ChatAnyFast(api_key="k", profile={}), trigger=("fraction", 0.8))


def test_init_chat_model_takes_no_third_party_provider() -> None:
    # What the README says about init_chat_model; if LangChain opens its provider list, this tells us to update it.
    from langchain.chat_models import init_chat_model

    with pytest.raises(ValueError, match="Unsupported provider='anyfast'"):
        init_chat_model("glm-5.2", model_provider="anyfast")
    with pytest.raises(TypeError, match="use it directly"):
        init_chat_model(ChatAnyFast(api_key="k"))  # type: ignore[arg-type]


def test_cache_answers_the_second_call(server: Any, make_model: Any, glm: Any) -> None:
    server.json(glm.completion("cached answer", reasoning="thought once"))
    model = make_model(cache=InMemoryCache())
    first = model.invoke("Hi")
    second = model.invoke("Hi")
    assert len(server.requests) == 1
    assert second.content == first.content == "cached answer"
    assert second.additional_kwargs["reasoning_content"] == "thought once"


def test_rate_limiter_is_consulted(server: Any, make_model: Any, glm: Any) -> None:
    class Counting(InMemoryRateLimiter):
        calls = 0

        def acquire(self, *, blocking: bool = True) -> bool:
            type(self).calls += 1
            return True

    limiter = Counting(requests_per_second=1000)
    server.json(glm.completion())
    server.sse(glm.chunks())
    model = make_model(rate_limiter=limiter)
    model.invoke("Hi")
    list(model.stream("Hi"))
    assert Counting.calls == 2


def test_clients_are_created_once_and_lazily() -> None:
    model = ChatAnyFast(api_key="k")
    assert model._clients._sync is None
    assert model._clients._aio is None
    assert model.client is model.client
    assert model.async_client is model.async_client
