"""httpx as the core uses it: imported without its command-line client, with one shared TLS context.

httpx's ``__init__`` imports its command-line client, and with it click, rich and pygments whenever
they happen to be installed (encode/httpx#3547, still open; the httpx2 fork now imports it lazily):
measured here, 26 ms and 4.5 MB for a tool no client of ours runs. So when httpx is not loaded yet,
this module imports it with that one module held back, then gives ``httpx.main`` back as a function
that imports the client when called: the ``httpx`` command and ``from httpx._main import main`` work
as before. Where something imported httpx first, nothing here touches it.

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


def _cli_main(*args: Any, **kwargs: Any) -> Any:
    """httpx's command-line client, imported when it is run (as ``httpx.main`` behaves otherwise)."""
    try:
        from httpx._main import main
    except ImportError:  # click, rich or pygments missing: httpx's own message and exit status
        print(
            "The httpx command line client could not run because the required dependencies were not installed.\n"
            "Make sure you've installed everything with: pip install 'httpx[cli]'"
        )
        sys.exit(1)
    return main(*args, **kwargs)


def _import_without_cli() -> None:
    sys.modules[_CLI] = None  # type: ignore[assignment]  # None makes httpx take its ImportError branch
    try:
        import httpx
    finally:
        if _CLI in sys.modules and sys.modules[_CLI] is None:
            del sys.modules[_CLI]
    httpx.main = _cli_main  # type: ignore[assignment]


if "httpx" not in sys.modules:
    _import_without_cli()

import httpx  # noqa: E402  (loaded above when it was not already; this binds the name)


def ssl_context() -> ssl.SSLContext:
    """The TLS context for the clients the core creates, one per CA setting of the environment.

    Made by ``httpx.create_ssl_context()``, so ``SSL_CERT_FILE`` and ``SSL_CERT_DIR`` count as they
    do for a default ``httpx.Client``; the context is read-only once made, so threads and event loops
    may share it.

    >>> ssl_context() is ssl_context()
    True
    """
    return _context_for(os.environ.get("SSL_CERT_FILE"), os.environ.get("SSL_CERT_DIR"))


@functools.lru_cache(maxsize=4)
def _context_for(cert_file: str | None, cert_dir: str | None) -> ssl.SSLContext:
    # The arguments are the cache key: httpx reads the same two variables itself.
    return httpx.create_ssl_context()
