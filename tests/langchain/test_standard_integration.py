"""langchain-tests' standard integration suite for ChatAnyFast, three ways:

* ``TestChatAnyFastEmulator``: straight against the emulator, in both stream dialects (GLM, as real
  GLM traffic looks, and OpenAI, as AnyFast's gateway may add);
* ``TestChatAnyFastCassettes``: replayed from cassettes in ``cassettes/`` recorded against the
  emulator (``--record-mode=once`` re-records a missing one; request bodies are deterministic, so
  replay matches on the JSON body).
"""

from __future__ import annotations

import itertools
import uuid
from types import SimpleNamespace
from typing import Any

import pytest
import testkit
from langchain_core.messages import AIMessage
from langchain_core.utils import function_calling
from langchain_tests.integration_tests import ChatModelIntegrationTests

from anyfast_emulator import Emulator, fault_header
from langchain_anyfast import ChatAnyFast

from .capabilities import AnyFastCapabilities

_LONG_PROMPT = "Summarise the following notes in one sentence. " + " ".join(
    f"Note {i}: the weather station logged a reading." for i in range(40)
)


class _ChatAnyFastSuite(AnyFastCapabilities, ChatModelIntegrationTests):
    """Helpers shared by every run (capability flags come from ``AnyFastCapabilities``); subclasses say
    where requests go."""

    base_url: str = ""
    api_key: str = ""

    @property
    def chat_model_params(self) -> dict[str, Any]:
        return {"model": "glm-5.2", "api_key": self.api_key, "base_url": self.base_url}

    def _model(self, **kwargs: Any) -> ChatAnyFast:
        return ChatAnyFast(**{**self.chat_model_params, **kwargs})

    def invoke_with_reasoning_output(self, *, stream: bool = False) -> AIMessage:
        # The emulator reports reasoning_tokens when asked, as GLM does for some deployments.
        model = self._model(default_headers=fault_header("reasoning_tokens"))
        return _run(model, "Explain in one line why the sky is blue.", stream)

    def invoke_with_cache_read_input(self, *, stream: bool = False) -> AIMessage:
        # A repeated prompt prefix is served from the prompt cache the second time.
        model = self._model()
        _run(model, _LONG_PROMPT, stream)
        return _run(model, _LONG_PROMPT, stream)


def _run(model: ChatAnyFast, prompt: str, stream: bool) -> AIMessage:
    if not stream:
        return model.invoke(prompt)
    full = testkit.merged(list(model.stream(prompt)))
    return AIMessage(**full.model_dump(exclude={"type", "tool_call_chunks", "chunk_position"}))


class TestChatAnyFastEmulator(_ChatAnyFastSuite):
    @pytest.fixture(autouse=True)
    def _target(self, emulator_any: Emulator) -> None:
        self.base_url, self.api_key = emulator_any.base_url, emulator_any.api_key

    @property
    def enable_vcr_tests(self) -> bool:
        # This run talks to the emulator itself; the cassette run below exercises test_stream_time.
        return False


@pytest.mark.vcr
class TestChatAnyFastCassettes(_ChatAnyFastSuite):
    @pytest.fixture(autouse=True)
    def _target(self, record_target: Any, monkeypatch: pytest.MonkeyPatch) -> None:
        self.base_url, self.api_key = record_target.base_url, record_target.api_key
        # tool_example_to_messages (few-shot test) makes random tool-call ids; replay needs the same body.
        ids = (uuid.UUID(int=n) for n in itertools.count(1))
        monkeypatch.setattr(function_calling, "uuid", SimpleNamespace(uuid4=lambda: next(ids)))

    @property
    def enable_vcr_tests(self) -> bool:
        return True
