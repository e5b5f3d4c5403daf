"""Plain-HTTP helpers for the emulator's own tests: what ``curl`` would send and see."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest

from anyfast_emulator import Emulator


@dataclass
class Reply:
    status: int
    headers: httpx.Headers
    raw: bytes

    @property
    def json(self) -> Any:
        return json.loads(self.raw)

    @property
    def events(self) -> list[str]:
        """SSE data payloads (LF-normalised), comments dropped."""
        text = self.raw.decode().replace("\r\n", "\n")
        return [line[5:].lstrip(" ") for line in text.split("\n") if line.startswith("data:")]

    @property
    def chunks(self) -> list[dict[str, Any]]:
        return [json.loads(e) for e in self.events if e != "[DONE]"]


class Curl:
    """One-shot requests with plain httpx, no client library in between."""

    def __init__(self, emulator: Emulator) -> None:
        self.emulator = emulator
        self.http = httpx.Client(base_url=emulator.url, timeout=10)

    def post(
        self,
        body: Any,
        *,
        key: str | None = "default",
        headers: dict[str, str] | None = None,
        path: str = "/v1/chat/completions",
    ) -> Reply:
        sent = dict(headers or {})
        if key is not None:
            sent["Authorization"] = f"Bearer {self.emulator.api_key if key == 'default' else key}"
        content = body if isinstance(body, bytes) else json.dumps(body).encode()
        with self.http.stream("POST", path, content=content, headers={"Content-Type": "application/json", **sent}) as r:
            return Reply(r.status_code, r.headers, r.read())

    def get(self, path: str, *, key: str | None = "default") -> Reply:
        headers = (
            {} if key is None else {"Authorization": f"Bearer {self.emulator.api_key if key == 'default' else key}"}
        )
        r = self.http.get(path, headers=headers)
        return Reply(r.status_code, r.headers, r.content)

    def close(self) -> None:
        self.http.close()


@pytest.fixture
def curl(emulator: Emulator) -> Iterator[Curl]:
    client = Curl(emulator)
    yield client
    client.close()


@pytest.fixture
def curl_openai(emulator_openai: Emulator) -> Iterator[Curl]:
    client = Curl(emulator_openai)
    yield client
    client.close()


def chat(content: str = "Hello", **fields: Any) -> dict[str, Any]:
    return {"model": "glm-5.2", "messages": [{"role": "user", "content": content}], **fields}


@pytest.fixture
def make_body() -> Any:
    return chat
