"""``ClientPair``: the sync and async clients a framework model holds, each made on first use.

Apart from :mod:`anyfast_core.client` so that holding a pair costs nothing: constructing a model
imports neither the clients nor httpx, which wait for the first request.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from pydantic import SecretStr

from anyfast_core.settings import DEFAULT_STREAM_IDLE_TIMEOUT

if TYPE_CHECKING:
    import httpx

    from anyfast_core.client import AnyFastClient, AsyncAnyFastClient

__all__ = ["ClientPair"]


class ClientPair:
    """A sync and an async client with the same settings, each made on first use.

    What a framework model holds: a model only ever awaited opens no sync pool (and the reverse),
    and threads that share a model on first use share one client and its pool (creation is locked).
    The settings are those of :class:`AnyFastClient`; ``http_client`` goes to the sync client,
    ``async_http_client`` to the async one. A deep copy is a new pair with the same settings and no
    clients yet, so copies never share connection pools.

    A pair pickles as its settings (the key included, as a ``SecretStr``: a worker needs it) and
    unpickles with no clients yet, so a model can be sent to another process; the clients, their pools
    and locks belong to the process that made them. A pair with an injected ``http_client`` or
    ``async_http_client`` does not pickle: those belong to their owner's process.

    >>> from anyfast_core import ClientPair
    >>> clients = ClientPair(api_key="...", max_retries=3)
    >>> clients.sync is clients.sync
    True
    >>> clients.aio.retry_policy.max_retries
    3
    """

    def __init__(
        self,
        *,
        api_key: str | SecretStr | None = None,
        base_url: str | None = None,
        timeout: float | httpx.Timeout | None = None,
        max_retries: int = 2,
        default_headers: Mapping[str, str] | None = None,
        stream_idle_timeout: float | None = DEFAULT_STREAM_IDLE_TIMEOUT,
        http_client: httpx.Client | None = None,
        async_http_client: httpx.AsyncClient | None = None,
    ) -> None:
        self._settings: dict[str, Any] = {
            # Kept as a SecretStr, so that neither a repr of the settings nor a pickle's repr shows it.
            "api_key": SecretStr(api_key) if isinstance(api_key, str) else api_key,
            "base_url": base_url,
            "timeout": timeout,
            "max_retries": max_retries,
            "default_headers": default_headers,
            "stream_idle_timeout": stream_idle_timeout,
        }
        self._http_client = http_client
        self._async_http_client = async_http_client
        self._start()

    def _start(self) -> None:
        self._sync: AnyFastClient | None = None
        self._aio: AsyncAnyFastClient | None = None
        self._lock = threading.Lock()
        self._pid = os.getpid()

    def _creation_lock(self) -> threading.Lock:
        # A child forked while another thread of its parent held the lock would wait on it forever:
        # the child takes a lock of its own. (Its clients notice the fork themselves, see client.py.)
        if self._pid != os.getpid():
            self._lock = threading.Lock()
            self._pid = os.getpid()
        return self._lock

    def __repr__(self) -> str:
        return f"ClientPair(base_url={self._settings['base_url']!r}, max_retries={self._settings['max_retries']})"

    @property
    def sync(self) -> AnyFastClient:
        """The synchronous client, created on first use and kept."""
        if self._sync is None:
            from anyfast_core import client

            with self._creation_lock():
                if self._sync is None:
                    self._sync = client.AnyFastClient(http_client=self._http_client, **self._settings)
        return self._sync

    @property
    def aio(self) -> AsyncAnyFastClient:
        """The asynchronous client, created on first use and kept (one pool per event loop)."""
        if self._aio is None:
            from anyfast_core import client

            with self._creation_lock():
                if self._aio is None:
                    self._aio = client.AsyncAnyFastClient(http_client=self._async_http_client, **self._settings)
        return self._aio

    def __deepcopy__(self, memo: dict[int, Any]) -> ClientPair:
        return ClientPair(http_client=self._http_client, async_http_client=self._async_http_client, **self._settings)

    def check_picklable(self) -> None:
        """Raise a ``TypeError`` saying why, when an injected httpx client keeps this pair from pickling."""
        injected = [
            name
            for name, value in (("http_client", self._http_client), ("async_http_client", self._async_http_client))
            if value is not None
        ]
        if injected:
            raise TypeError(
                f"A model given {' and '.join(injected)} cannot be pickled: an httpx client and its connections "
                "belong to the process that made them. Leave it unset to pickle the model; each process then "
                "builds its own pool on first use."
            )

    def __getstate__(self) -> dict[str, Any]:
        """The settings only: clients, pools and locks are made again, on first use, where it is unpickled."""
        self.check_picklable()
        return dict(self._settings)

    def __setstate__(self, state: dict[str, Any]) -> None:
        self._settings = dict(state)
        self._http_client = None
        self._async_http_client = None
        self._start()
