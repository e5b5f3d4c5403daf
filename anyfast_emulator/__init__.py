"""A deterministic, wire-faithful AnyFast server on loopback, for tests and offline demos.

Nothing on the client path imports this package: it is only loaded when you ask for it.

>>> from anyfast_core import AnyFastClient, ChatRequest
>>> from anyfast_emulator import Emulator
>>> with Emulator() as emu, AnyFastClient(api_key=emu.api_key, base_url=emu.base_url) as client:
...     answer = client.chat(ChatRequest.create(model="glm-5.2", messages=[{"role": "user", "content": "Hello"}]))
>>> answer.message.content
'Hello! How can I help you today?'
>>> emu.requests[0]["messages"]
[{'role': 'user', 'content': 'Hello'}]

Scripted answers for your own tests (see :mod:`anyfast_emulator.script`)::

    with Emulator.scripted([Reply.text("Hi!"), Reply.error(429, "Slow down", code="1302")]) as emu:
        ...  # the first request gets "Hi!", the second a 429; emu.requests holds what was sent

Faults on demand, by header or by key (see :mod:`anyfast_emulator.faults` for the list)::

    client = AnyFastClient(api_key=emu.api_key, base_url=emu.base_url,
                           default_headers=emu.fault_header("rate_limit", times=2, retry_after=0.1))
    client = AnyFastClient(api_key=emu.fault_key("http_503", times=1), base_url=emu.base_url)

From a shell: ``python -m anyfast_emulator --port 8765`` (or ``anyfast-emulator``).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from types import TracebackType
from typing import Any

from anyfast_emulator.answer import CONTEXT_WINDOW, DEFAULT_MODEL
from anyfast_emulator.app import App, EmulatorConfig, Received
from anyfast_emulator.faults import (
    FAULT_HEADER,
    FAULTS,
    Fault,
    FaultSpecError,
    fault_header,
    fault_key,
    parse_faults,
)
from anyfast_emulator.script import Reply, Script
from anyfast_emulator.server import Server
from anyfast_emulator.wire import CREATED, DIALECTS, Dialect

DEFAULT_API_KEY = "emulator-test-key"
"""The key :attr:`Emulator.api_key` reports when no ``api_keys`` are given (any key is then accepted)."""


class Emulator:
    """A loopback AnyFast server; a context manager (sync or async) that starts and stops it.

    Args:
        port: TCP port; 0 picks a free one.
        host: interface to bind; loopback by default.
        dialect: stream dialect, ``"glm"`` (usage in the finish chunk, role on every delta) or ``"openai"``
            (a ``choices: []`` usage chunk).
        api_keys: keys to accept; ``None`` accepts any non-empty key. Keys starting with ``fault-``
            are always accepted (they name faults).
        faults: fault specs applied to every request, e.g. ``["keepalive", "slow_stream;delay=0.01"]``.
        tool_stream_default: fragment tool-call arguments when a request does not say (``tool_stream``).
        reasoning_tokens: report ``completion_tokens_details.reasoning_tokens`` (Z.ai's own
            answers leave it out; the demo turns it on).
        glm_newlines: GLM's leading ``"\\n"`` content deltas.
        models: the model ids served (and listed by ``/models``); a request for another id is a 404 with
            code 1211, as on the real API. ``None`` serves any id.
        context_window: prompts longer than this (in emulator tokens) get 400 code 1261; GLM-5.2's
            1,000,000 by default.
        script: replies to answer with first, in order (see :meth:`scripted`).
        scripted: answer only from the script; a request with no reply left gets a 500 saying so.
        token_delay: seconds between stream events (0: as fast as possible; the demo sets a live pace).

    Attributes: :attr:`base_url` (``http://127.0.0.1:<port>/v1``), :attr:`api_key`, :attr:`requests`
    (JSON bodies of the chat requests received, in order), :attr:`received` (every request, headers
    without ``Authorization``), :attr:`script` (the queue of scripted replies). :meth:`reset` forgets
    them, the script, fault counts and the prompt cache.

    >>> with Emulator(dialect="openai") as emu:
    ...     emu.base_url.startswith("http://127.0.0.1:")
    True
    """

    def __init__(
        self,
        port: int = 0,
        *,
        host: str = "127.0.0.1",
        dialect: Dialect = "glm",
        api_keys: Iterable[str] | None = None,
        faults: Iterable[str] = (),
        tool_stream_default: bool = False,
        reasoning_tokens: bool = False,
        glm_newlines: bool = False,
        models: Iterable[str] | None = (DEFAULT_MODEL,),
        context_window: int = CONTEXT_WINDOW,
        script: Iterable[Reply | str | Mapping[str, Any]] = (),
        scripted: bool = False,
        token_delay: float = 0.0,
    ) -> None:
        if dialect not in DIALECTS:
            raise ValueError(f"dialect={dialect!r}: allowed: {', '.join(DIALECTS)}")
        keys = None if api_keys is None else frozenset(api_keys)
        if keys is not None and not keys:
            raise ValueError("api_keys=[] would refuse every request; pass None to accept any key")
        parsed: list[Fault] = []
        for spec in faults:
            parsed.extend(parse_faults(spec))
        self.config = EmulatorConfig(
            dialect=dialect,
            api_keys=keys,
            faults=tuple(parsed),
            tool_stream_default=tool_stream_default,
            reasoning_tokens=reasoning_tokens,
            glm_newlines=glm_newlines,
            models=None if models is None else tuple(models),
            context_window=context_window,
            scripted=scripted,
            token_delay=token_delay,
        )
        self.script = Script().push(*script)
        self.app = App(self.config, self.script)
        self._server = Server(self.app, host, port)
        self._started = False
        self.api_key = sorted(keys)[0] if keys else DEFAULT_API_KEY

    @classmethod
    def scripted(cls, replies: Iterable[Reply | str | Mapping[str, Any]] = (), /, **options: Any) -> Emulator:
        """An emulator that answers only from a script: each chat request takes the next reply, and a
        request with none left gets a 500 that says so. ``options`` are the constructor's.

        >>> from anyfast_core import AnyFastClient, ChatRequest
        >>> hello = ChatRequest.create(model="glm-5.2", messages=[{"role": "user", "content": "Hello"}])
        >>> with Emulator.scripted(["Hi!"]) as emu, AnyFastClient(api_key=emu.api_key, base_url=emu.base_url) as c:
        ...     c.chat(hello).message.content
        'Hi!'
        >>> emu.script.pending, emu.requests[0]["messages"][0]["content"]
        (0, 'Hello')
        """
        return cls(script=replies, scripted=True, **options)

    def __repr__(self) -> str:
        where = self.base_url if self._started else "not started"
        return f"Emulator({where}, dialect={self.config.dialect!r})"

    # ------------------------------------------------------------------ lifecycle

    def start(self) -> Emulator:
        if not self._started:
            self._server.start()
            self._started = True
        return self

    def stop(self) -> None:
        if self._started:
            self._server.stop()
            self._started = False

    def serve_forever(self) -> None:
        self.start()
        self._server.serve_forever()

    def __enter__(self) -> Emulator:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    async def __aenter__(self) -> Emulator:
        return self.start()

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    # ------------------------------------------------------------------ where and what

    @property
    def port(self) -> int:
        return self._server.port

    @property
    def url(self) -> str:
        """``http://host:port`` (no ``/v1``)."""
        return f"http://{self._server.host}:{self._server.port}"

    @property
    def base_url(self) -> str:
        """The base URL clients take: ``http://127.0.0.1:<port>/v1``."""
        return self.url + "/v1"

    @property
    def received(self) -> list[Received]:
        return self.app.snapshot()

    @property
    def requests(self) -> list[Any]:
        """The JSON bodies of the chat-completion requests received (valid or not), in order."""
        return [r.body for r in self.app.snapshot() if r.method == "POST" and r.path.endswith("/chat/completions")]

    def reset(self) -> None:
        """Forget received requests, scripted replies, fault counts, response ids and the prompt cache
        (the server keeps running)."""
        self.app.reset()

    # ------------------------------------------------------------------ faults

    fault_header = staticmethod(fault_header)
    fault_key = staticmethod(fault_key)


__all__ = [
    "CONTEXT_WINDOW",
    "CREATED",
    "DEFAULT_API_KEY",
    "FAULTS",
    "FAULT_HEADER",
    "Emulator",
    "FaultSpecError",
    "Received",
    "Reply",
    "Script",
    "fault_header",
    "fault_key",
]
