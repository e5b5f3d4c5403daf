"""Where the API key and base URL come from: arguments first, then the environment."""

from __future__ import annotations

import ipaddress
import os
import warnings
from urllib.parse import urlsplit

from pydantic import SecretStr

from anyfast_core.errors import MissingAPIKeyError

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


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False
