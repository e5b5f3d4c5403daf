"""Count requests and tokens as the server reports them, below every framework.

Both adapters accept your own ``httpx.Client`` (``http_client=``). The metered client reads the
``usage`` object of every chat completion as it passes, streamed or not, so one total covers
LangChain, LangGraph and LlamaIndex alike, retries included. (For async code, the same idea works on
``httpx.AsyncClient``, passed as ``http_async_client=`` / ``async_http_client=``.)
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import httpx

from anyfast_core import Usage
from anyfast_core.client import DEFAULT_LIMITS
from anyfast_core.sse import SSEDecoder


@dataclass
class Totals:
    requests: int = 0
    prompt_tokens: int = 0
    completion_tokens: int = 0
    cached_tokens: int = 0
    reasoning_tokens: int | None = None
    """``None`` until the server reports reasoning tokens (it does not always)."""


class UsageMeter:
    """Hands out metered ``httpx`` clients and adds up what they saw."""

    def __init__(self) -> None:
        self.totals = Totals()
        self._lock = threading.Lock()

    def client(self) -> httpx.Client:
        return _MeteredClient(self, limits=DEFAULT_LIMITS)

    def _count_request(self, request: httpx.Request) -> bool:
        if not request.url.path.endswith("/chat/completions"):
            return False
        with self._lock:
            self.totals.requests += 1
        return True

    def _add(self, usage_data: Any) -> None:
        if not isinstance(usage_data, dict):
            return
        usage = Usage.model_validate(usage_data)
        with self._lock:
            totals = self.totals
            totals.prompt_tokens += usage.prompt_tokens
            totals.completion_tokens += usage.completion_tokens
            totals.cached_tokens += usage.cached_tokens or 0
            if usage.reasoning_tokens is not None:
                totals.reasoning_tokens = (totals.reasoning_tokens or 0) + usage.reasoning_tokens

    def _add_body(self, body: bytes) -> None:
        try:
            data = json.loads(body)
        except ValueError:
            return
        if isinstance(data, dict):
            self._add(data.get("usage"))

    def _tap(self, response: httpx.Response) -> _Tap:
        return _Tap(self, response)


class _Tap:
    """Reads the usage out of a streamed body while the bytes flow on untouched."""

    def __init__(self, meter: UsageMeter, response: httpx.Response) -> None:
        self._meter = meter
        # A streaming request can still get a plain JSON answer back: read that whole at the end.
        self._decoder = SSEDecoder() if "event-stream" in response.headers.get("content-type", "") else None
        self._body: list[bytes] = []

    def feed(self, raw: bytes) -> None:
        if self._decoder is None:
            self._body.append(raw)
            return
        for payload in self._decoder.feed(raw):
            if b'"usage"' in payload:  # cheap test first: most chunks carry none
                self._meter._add_body(payload)

    def finish(self) -> None:
        if self._decoder is None:
            self._meter._add_body(b"".join(self._body))


class _SyncTapStream(httpx.SyncByteStream):
    def __init__(self, inner: httpx.SyncByteStream, tap: _Tap) -> None:
        self._inner, self._tap = inner, tap

    def __iter__(self) -> Iterator[bytes]:
        for raw in self._inner:
            self._tap.feed(raw)
            yield raw
        self._tap.finish()

    def close(self) -> None:
        self._inner.close()


class _MeteredClient(httpx.Client):
    def __init__(self, meter: UsageMeter, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._meter = meter

    def send(self, request: httpx.Request, *, stream: bool = False, **kwargs: Any) -> httpx.Response:
        response = super().send(request, stream=stream, **kwargs)
        if self._meter._count_request(request) and response.is_success:
            if stream:
                response.stream = _SyncTapStream(response.stream, self._meter._tap(response))  # type: ignore[arg-type]
            else:
                self._meter._add_body(response.content)
        return response
