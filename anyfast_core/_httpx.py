"""httpx as the core uses it: imported without its command-line client, with one shared TLS context.

httpx's ``__init__`` imports its command-line client, and with it click, rich and pygments whenever
they happen to be installed (encode/httpx#3547, still open; the httpx2 fork now imports it lazily):
measured here, 26 ms and 4.5 MB for a tool no client of ours runs. So when httpx is not loaded yet,
this module imports it with that one module held back, then gives ``httpx.main`` back as an object
that imports the client when called or looked into: the ``httpx`` command, ``httpx.main`` and
``from httpx._main import main`` work as before. Where something imported httpx first, nothing here
touches it. (While httpx is being imported here, another thread importing ``httpx._main`` itself
would be refused: a window of a few milliseconds, once per process.)

Every ``httpx.Client`` builds its own ``ssl.SSLContext`` (the CA bundle parsed again: about 16 ms
and 1.6 MB each). The clients the core creates (a sync one and an async one per event loop, per
model) share :func:`ssl_context` instead, made as httpx would make it.
"""

from __future__ import annotations

import functools
import os
import sys
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import ssl

__all__ = ["httpx", "ssl_context"]

_CLI = "httpx._main"


_NO_CLI = (
    "The httpx command line client could not run because the required dependencies were not installed.\n"
    "Make sure you've installed everything with: pip install 'httpx[cli]'"
)


class _LazyCLI:
    """What ``httpx.main`` is until used: httpx's click command, imported on the first call or
    attribute (so ``CliRunner().invoke(httpx.main, ...)`` works too)."""

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        try:
            from httpx._main import main
        except ImportError:  # click, rich or pygments missing: httpx's own message and exit status
            print(_NO_CLI)
            sys.exit(1)
        return main(*args, **kwargs)

    def __getattr__(self, name: str) -> Any:
        try:
            from httpx._main import main
        except ImportError as exc:
            raise AttributeError(name) from exc
        return getattr(main, name)


def _import_without_cli() -> None:
    sys.modules[_CLI] = None  # type: ignore[assignment]  # None makes httpx take its ImportError branch
    try:
        import httpx
    finally:
        if _CLI in sys.modules and sys.modules[_CLI] is None:
            del sys.modules[_CLI]
    httpx.main = _LazyCLI()  # type: ignore[assignment]


if "httpx" not in sys.modules:
    _import_without_cli()

import httpx  # noqa: E402  (loaded above when it was not already; this binds the name)


def ssl_context() -> ssl.SSLContext:
    """The TLS context for the clients the core creates, one per TLS setting of the environment.

    Made by ``httpx.create_ssl_context()``, so ``SSL_CERT_FILE``, ``SSL_CERT_DIR`` and
    ``SSLKEYLOGFILE`` count as they do for a default ``httpx.Client`` (read when a client is made).
    Sharing is safe: each connection gets its own TLS object, and httpcore only sets the same ALPN
    protocols (HTTP/1.1) on the context as it connects. What changes the ``ssl`` module itself after
    the first client (``truststore.inject_into_ssl()``, say) reaches only contexts made later: call
    it before the first request.

    >>> ssl_context() is ssl_context()
    True
    """
    return _context_for(*(os.environ.get(name) for name in _TLS_ENVIRONMENT))


_TLS_ENVIRONMENT = ("SSL_CERT_FILE", "SSL_CERT_DIR", "SSLKEYLOGFILE")


@functools.lru_cache(maxsize=4)
def _context_for(*environment: str | None) -> ssl.SSLContext:
    # The arguments are only the cache key: httpx and ssl read the same variables themselves.
    return httpx.create_ssl_context()
