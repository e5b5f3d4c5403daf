"""Construction: environment, documented bounds, metadata, serialization, and the key kept secret."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest
from llama_index.core.base.llms.types import ChatMessage
from pydantic import SecretStr

from anyfast_core import AuthenticationError
from llama_index_anyfast import AnyFast

KEY = "sk-secret-llama-9f8e7d6c5b4a3210"


def test_environment_supplies_key_and_base(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ANYFAST_API_KEY", KEY)
    monkeypatch.setenv("ANYFAST_BASE_URL", "http://127.0.0.1:8765/v1/")
    llm = AnyFast()
    assert isinstance(llm.api_key, SecretStr)
    assert llm.api_key.get_secret_value() == KEY
    assert llm.api_base == "http://127.0.0.1:8765/v1"
    assert AnyFast(api_key="sk-other", api_base="https://example.com/v1").api_base == "https://example.com/v1"


def test_defaults_and_metadata() -> None:
    llm = AnyFast()
    assert (llm.model, llm.api_base, llm.max_retries, llm.context_window) == (
        "glm-5.2",
        "https://www.anyfast.ai/v1",
        2,
        1_000_000,  # AnyFast's GLM-5.2 guide: a 1M-token context window
    )
    meta = llm.metadata
    assert (meta.is_chat_model, meta.is_function_calling_model, meta.model_name) == (True, True, "glm-5.2")
    assert (meta.context_window, meta.num_output) == (1_000_000, 65_536)
    assert AnyFast(max_tokens=1024, context_window=32_000).metadata.num_output == 1024
    assert AnyFast.class_name() == "AnyFast"


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"context_window": 0}, "context_window"),
        ({"timeout": float("inf")}, "timeout"),
        ({"context_window": 8_000}, "max_tokens=65536 leaves no room"),
        ({"additional_kwargs": {"temperature": 7}}, "temperature"),
    ],
)
def test_out_of_range_settings_fail_at_construction(kwargs: dict[str, Any], field: str) -> None:
    """LlamaIndex's own settings; the request fields are tested for both adapters in test_bad_input.py."""
    with pytest.raises(ValueError, match=field) as caught:
        AnyFast(api_key=KEY, **kwargs)
    assert KEY not in str(caught.value)


def test_key_never_shows(monkeypatch: pytest.MonkeyPatch) -> None:
    llm = AnyFast(api_key=KEY, thinking=True)
    shown = [repr(llm), str(llm), json.dumps(llm.to_dict(), default=str), llm.to_json(), llm.model_dump_json()]
    if hasattr(llm, "to_payload"):  # what events and callbacks carry (newer llama-index-core)
        shown.append(json.dumps(llm.to_payload(), default=str))
    assert not [text for text in shown if KEY in text]
    assert "api_key" not in llm.to_dict()


def test_serialization_round_trip(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ANYFAST_API_KEY", KEY)
    llm = AnyFast(thinking={"type": "enabled", "clear_thinking": False}, max_tokens=512, timeout=30)
    again = AnyFast.from_json(llm.to_json())
    assert again.to_dict() == llm.to_dict()
    assert isinstance(again.api_key, SecretStr)  # taken from the environment again, never from the payload


def test_a_key_echoed_by_the_server_is_redacted() -> None:
    def echo(request: httpx.Request) -> httpx.Response:
        key = request.headers["authorization"].removeprefix("Bearer ")
        return httpx.Response(401, json={"error": {"message": f"Invalid API key provided: {key}"}})

    with httpx.Client(transport=httpx.MockTransport(echo)) as http:
        llm = AnyFast(api_key=KEY, api_base="http://127.0.0.1:9/v1", http_client=http, max_retries=0)
        with pytest.raises(AuthenticationError) as caught:
            llm.chat([ChatMessage(role="user", content="hi")])
    assert KEY not in str(caught.value)
    assert KEY not in repr(caught.value)


def test_clients_are_created_once_and_lazily() -> None:
    llm = AnyFast(api_key=KEY)
    assert llm._clients._sync is None
    assert llm._clients._aio is None
    assert llm._clients.sync is llm._clients.sync
    assert llm._clients.aio is llm._clients.aio
