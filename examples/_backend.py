"""Where the examples send their requests: the live API, or the emulator when there is no key.

Every example starts with ``with anyfast_backend():``. Inside the block ``ANYFAST_BASE_URL`` and
``ANYFAST_API_KEY`` are set, so ``ChatAnyFast()`` and ``AnyFast()`` find them exactly as they would
in your own code, with no connection arguments at all.

- ``ANYFAST_API_KEY`` set: the variables are used as they are (the live API, or whatever
  ``ANYFAST_BASE_URL`` points at, e.g. an emulator your test started).
- Not set, or ``offline=True``: a local emulator starts on a free loopback port for the duration.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from anyfast_core import API_KEY_ENV, BASE_URL_ENV, DEFAULT_BASE_URL


@dataclass(frozen=True)
class Backend:
    base_url: str
    emulated: bool
    """True when the examples started the emulator themselves."""
    emulator: Any = None
    """That emulator (its ``requests`` log), when ``emulated``."""

    @property
    def live(self) -> bool:
        """True unless the requests stay on this machine."""
        host = urlsplit(self.base_url).hostname or ""
        return host not in {"127.0.0.1", "localhost", "::1"}

    def describe(self) -> str:
        if self.emulated:
            return f"offline: the built-in AnyFast emulator at {self.base_url} (no key needed)"
        if self.live:
            return f"live: the AnyFast API at {self.base_url} (key from {API_KEY_ENV})"
        return f"local: {self.base_url} (from {BASE_URL_ENV})"


@contextmanager
def anyfast_backend(offline: bool = False, pace: float = 0.0) -> Iterator[Backend]:
    """Point the AnyFast environment variables at a server for the duration of the block.

    ``pace``: seconds between streamed tokens when the emulator answers (0: as fast as it can).
    """
    if os.environ.get(API_KEY_ENV) and not offline:
        yield Backend(os.environ.get(BASE_URL_ENV) or DEFAULT_BASE_URL, emulated=False)
        return

    # Imported here: the emulator is a test and demo tool, never on the path of a live run.
    from anyfast_emulator import Emulator

    saved = {name: os.environ.get(name) for name in (API_KEY_ENV, BASE_URL_ENV)}
    # Reasoning tokens reported in usage, as AnyFast's gateway reports them.
    with Emulator(reasoning_tokens=True, token_delay=pace) as emulator:
        os.environ[API_KEY_ENV] = emulator.api_key
        os.environ[BASE_URL_ENV] = emulator.base_url
        try:
            yield Backend(emulator.base_url, emulated=True, emulator=emulator)
        finally:
            for name, value in saved.items():
                if value is None:
                    os.environ.pop(name, None)
                else:
                    os.environ[name] = value
