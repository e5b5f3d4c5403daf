"""Where the API key and base URL come from (arguments first, then the environment), and the checks
of the other client settings a model validates at construction, which never import httpx first."""

from __future__ import annotations

import ipaddress
import math
import os
import warnings
from typing import TYPE_CHECKING, Any, TypeVar
from urllib.parse import urlsplit

from pydantic import SecretStr

from anyfast_core.errors import MissingAPIKeyError

if TYPE_CHECKING:
    from typing import TypeAlias

    import httpx

    TimeoutSetting: TypeAlias = float | httpx.Timeout | None
    HTTPClientSetting: TypeAlias = httpx.Client | None
    AsyncHTTPClientSetting: TypeAlias = httpx.AsyncClient | None
else:
    # Field types for the models' client settings: exact for type checkers, ``Any`` for pydantic, so
    # a model class is built without importing httpx (check_timeout and check_http_client validate).
    TimeoutSetting = HTTPClientSetting = AsyncHTTPClientSetting = Any

_Client = TypeVar("_Client")

API_KEY_ENV = "ANYFAST_API_KEY"
BASE_URL_ENV = "ANYFAST_BASE_URL"
DEFAULT_BASE_URL = "https://www.anyfast.ai/v1"
DEFAULT_MODEL = "glm-5.2"

_warned_insecure: set[str] = set()


def resolve_api_key(api_key: str | SecretStr | None = None) -> SecretStr | None:
    """The key given, else ``ANYFAST_API_KEY``, else ``None`` (an error only when a request needs it)."""
    if isinstance(api_key, SecretStr):
        api_key = api_key.get_secret_value()
    # Keys pasted from files or shells often end in a newline: trim it rather than send a broken header.
    key = (api_key or "").strip() or os.environ.get(API_KEY_ENV, "").strip()
    return SecretStr(key) if key else None


def require_api_key(api_key: SecretStr | None) -> str:
    """The key's plain value for the ``Authorization`` header, or a clear error naming the variable."""
    key = api_key.get_secret_value() if api_key is not None else ""
    if not key:
        raise MissingAPIKeyError(f"No AnyFast API key: pass api_key=... or set the {API_KEY_ENV} environment variable.")
    if " " in key or not (key.isascii() and key.isprintable()):
        # Checked here because httpx would otherwise fail with the header value, key included, in its message.
        raise MissingAPIKeyError(
            f"The AnyFast API key contains whitespace, control or non-ASCII characters; check {API_KEY_ENV} "
            "or the api_key argument (the key itself is not shown)."
        )
    return key


def resolve_base_url(base_url: str | None = None) -> str:
    """The base URL given, else ``ANYFAST_BASE_URL``, else the public endpoint; no trailing slash.

    A plain-``http`` URL to a host that is not loopback warns once: the key would travel in clear.
    """
    url = (base_url or os.environ.get(BASE_URL_ENV) or DEFAULT_BASE_URL).rstrip("/")
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError(f"base_url={url!r} is not an http(s) URL; expected e.g. {DEFAULT_BASE_URL!r}.")
    if parts.scheme == "http" and not _is_loopback(parts.hostname) and url not in _warned_insecure:
        _warned_insecure.add(url)
        warnings.warn(
            f"base_url {url!r} uses plain http to a non-loopback host: the API key is sent unencrypted.",
            UserWarning,
            stacklevel=3,
        )
    return url


def check_timeout(timeout: object) -> float | httpx.Timeout | None:
    """``timeout`` if it is ``None``, a finite number of seconds > 0 (as a float) or an ``httpx.Timeout``;
    else a ``ValueError``. Models check their setting with it at construction, which must not need
    httpx: it is imported only for a value that is not a number (an ``httpx.Timeout`` means the
    caller has imported it already).

    >>> check_timeout(30)
    30.0
    >>> check_timeout("30")
    Traceback (most recent call last):
    ...
    ValueError: timeout='30': allowed: a finite number of seconds > 0 or an httpx.Timeout
    """
    if timeout is None:
        return None
    if isinstance(timeout, (int, float)) and not isinstance(timeout, bool):
        if 0 < timeout < math.inf:
            return float(timeout)
    else:
        import httpx

        if isinstance(timeout, httpx.Timeout):
            return timeout
    raise ValueError(f"timeout={timeout!r}: allowed: a finite number of seconds > 0 or an httpx.Timeout")


DEFAULT_STREAM_IDLE_TIMEOUT = 120.0
"""Seconds a stream may stay silent (no event) before it is given up as stalled.

A healthy GLM stream is never silent for long: it streams its reasoning token by token (many per
second) and then its answer, so a silence means the stream stalled (a forced ``tool_choice`` has been
seen to stall one after its first event), and the user should hear so in minutes, not after the
600 s read timeout a long non-streamed call needs. The longest legitimate silences are the wait for
the first event (queueing and the prefill of a long prompt) and a tool call whose arguments arrive
whole (without ``tool_stream``, they are generated in silence: at ~50 tokens/s, 120 s is ~6,000
tokens of arguments); 120 s covers both with a wide margin. Raise it for prompts of hundreds of
thousands of tokens, or pass ``None`` to leave streams to the read timeout alone."""


def check_stream_idle_timeout(value: object) -> float | None:
    """``value`` as seconds (a finite number > 0) or ``None`` (no idle limit); else a ``ValueError``.

    >>> check_stream_idle_timeout(30)
    30.0
    >>> check_stream_idle_timeout(0)
    Traceback (most recent call last):
    ...
    ValueError: stream_idle_timeout=0: allowed: a finite number of seconds > 0, or None for no idle limit
    """
    if value is None:
        return None
    if isinstance(value, (int, float)) and not isinstance(value, bool) and 0 < value < math.inf:
        return float(value)
    raise ValueError(
        f"stream_idle_timeout={value!r}: allowed: a finite number of seconds > 0, or None for no idle limit"
    )


def check_http_client(client: _Client, name: str, *, is_async: bool = False) -> _Client:
    """``client`` if it is ``None`` or an ``httpx.Client`` (``httpx.AsyncClient`` when ``is_async``),
    else a ``ValueError`` naming the setting. httpx is imported only when a client is given, and
    then the caller has imported it already.

    >>> check_http_client(None, "http_client")
    >>> check_http_client("a client", "http_client")
    Traceback (most recent call last):
    ...
    ValueError: http_client must be an httpx.Client, got str
    """
    if client is None:
        return client
    import httpx

    expected = httpx.AsyncClient if is_async else httpx.Client
    if not isinstance(client, expected):
        raise ValueError(f"{name} must be an httpx.{expected.__name__}, got {type(client).__name__}")
    return client


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False
