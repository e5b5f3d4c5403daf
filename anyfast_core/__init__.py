"""The framework-free core of the AnyFast integrations: settings, wire models, clients, errors.

>>> from anyfast_core import AnyFastClient, ChatRequest
>>> request = ChatRequest.create(model="glm-5.2", messages=[{"role": "user", "content": "Hi"}])
>>> request.to_body()
{'model': 'glm-5.2', 'messages': [{'role': 'user', 'content': 'Hi'}]}
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from anyfast_core._version import __version__
from anyfast_core.accumulate import StreamAccumulator, StreamDelta, ToolCallFragment
from anyfast_core.errors import (
    AnyFastError,
    APIConnectionError,
    APIStatusError,
    APITimeoutError,
    AuthenticationError,
    BadRequestError,
    ContentFilterError,
    ContextWindowExceededError,
    InvalidParameterError,
    MalformedResponseError,
    MissingAPIKeyError,
    NotFoundError,
    PermissionDeniedError,
    QuotaExceededError,
    RateLimitError,
    ServerError,
    StreamError,
    StreamEventError,
    StreamIdleTimeoutError,
    StreamInterruptedError,
    UpstreamModelError,
)
from anyfast_core.pair import ClientPair
from anyfast_core.response import raise_for_finish_reason
from anyfast_core.retry import RetryPolicy
from anyfast_core.settings import (
    API_KEY_ENV,
    BASE_URL_ENV,
    DEFAULT_BASE_URL,
    DEFAULT_MODEL,
    DEFAULT_STREAM_IDLE_TIMEOUT,
)
from anyfast_core.types import (
    ChatCompletion,
    ChatRequest,
    ModelInfo,
    ResponseMessage,
    ToolCall,
    Usage,
)

if TYPE_CHECKING:
    from anyfast_core.client import AnyFastClient, AsyncAnyFastClient, AsyncChatStream, ChatStream

__all__ = [
    "API_KEY_ENV",
    "BASE_URL_ENV",
    "DEFAULT_BASE_URL",
    "DEFAULT_MODEL",
    "DEFAULT_STREAM_IDLE_TIMEOUT",
    "APIConnectionError",
    "APIStatusError",
    "APITimeoutError",
    "AnyFastClient",
    "AnyFastError",
    "AsyncAnyFastClient",
    "AsyncChatStream",
    "AuthenticationError",
    "BadRequestError",
    "ChatCompletion",
    "ChatRequest",
    "ChatStream",
    "ClientPair",
    "ContentFilterError",
    "ContextWindowExceededError",
    "InvalidParameterError",
    "MalformedResponseError",
    "MissingAPIKeyError",
    "ModelInfo",
    "NotFoundError",
    "PermissionDeniedError",
    "QuotaExceededError",
    "RateLimitError",
    "ResponseMessage",
    "RetryPolicy",
    "ServerError",
    "StreamAccumulator",
    "StreamDelta",
    "StreamError",
    "StreamEventError",
    "StreamIdleTimeoutError",
    "StreamInterruptedError",
    "ToolCall",
    "ToolCallFragment",
    "UpstreamModelError",
    "Usage",
    "__version__",
    "raise_for_finish_reason",
]

# The clients and streams import httpx, which nothing needs until the first request: a framework
# model is constructed (and its package imported) without it. They load on first access.
_CLIENT_NAMES = frozenset({"AnyFastClient", "AsyncAnyFastClient", "AsyncChatStream", "ChatStream"})


def __getattr__(name: str) -> Any:
    if name in _CLIENT_NAMES:
        from anyfast_core import client

        value = getattr(client, name)
        globals()[name] = value
        return value
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | _CLIENT_NAMES)
