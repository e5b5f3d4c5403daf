"""One TLS context for the clients the core creates.

Every ``httpx.Client`` builds its own ``ssl.SSLContext``, parsing the CA bundle again (measured in
benchmarks/README.md). The clients the core makes (a sync one and an async one per event loop, per
model, per process) share :func:`ssl_context` instead, made by httpx's public
``httpx.create_ssl_context()`` and handed to the pools we construct.
"""

from __future__ import annotations

import functools
import os
import ssl

import httpx

__all__ = ["ssl_context"]


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
