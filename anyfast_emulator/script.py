"""Scripted answers for your own tests: a queue of what the server says next.

Each chat request takes the next :class:`Reply` from the emulator's :class:`Script` (it is still
validated first, as the real API would). A reply is an answer (text, reasoning, tool calls, a finish
reason), an error (status and body), and optionally faults applied to it (a cut stream, a stall, ...).
Streaming or not, in either dialect, the answer goes on the wire exactly as a heuristic one would.

>>> from anyfast_core import AnyFastClient, ChatRequest
>>> from anyfast_emulator import Emulator, Reply
>>> script = [Reply.tool_call("price_lookup", {"product_id": "K2"}), Reply.text("2890 EUR.", reasoning="Easy.")]
>>> with Emulator.scripted(script) as emu, AnyFastClient(api_key=emu.api_key, base_url=emu.base_url) as client:
...     first = client.chat(ChatRequest.create(model="glm-5.2", messages=[{"role": "user", "content": "K2?"}]))
...     second = client.chat(ChatRequest.create(model="glm-5.2", messages=[{"role": "user", "content": "And?"}]))
>>> first.message.tool_calls[0].function.arguments
'{"product_id": "K2"}'
>>> second.message.content, emu.script.pending, len(emu.requests)
('2890 EUR.', 0, 2)

Over HTTP (an emulator in another process, e.g. ``anyfast-emulator --scripted``), the same replies as
JSON: ``POST /_emulator/script`` with a list of :meth:`Reply.to_json` objects queues them,
``DELETE /_emulator/script`` empties the queue, ``GET /_emulator/requests`` lists the bodies received.
"""

from __future__ import annotations

import dataclasses
import json
import threading
from collections import deque
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from anyfast_emulator.faults import Fault, fault_spec, parse_faults


@dataclass(frozen=True, slots=True)
class ScriptedCall:
    """A tool call in a scripted reply; ``arguments`` is the JSON text sent on the wire."""

    name: str
    arguments: str = "{}"


@dataclass(frozen=True, slots=True)
class Reply:
    """One scripted server reply: ``content``, ``reasoning`` and tool ``calls`` (an answer), or a ``status``
    and error ``body``, and ``faults`` to apply. Build it with :meth:`text`, :meth:`tool_call`, :meth:`tool_calls` or
    :meth:`error`; add faults with :meth:`with_fault`.

    >>> Reply.text("Hi").with_fault("stream_cut", after=2).faults
    ('stream_cut;after=2',)
    """

    content: str = ""
    reasoning: str = ""
    calls: tuple[ScriptedCall, ...] = ()
    finish_reason: str | None = None
    """``None``: ``tool_calls`` when there are calls, else ``stop``."""
    status: int = 200
    body: Any = None
    """The error body (a JSON value, or a string sent as text) when ``status`` is not 200."""
    faults: tuple[str, ...] = ()
    """Fault specs (``name;param=value``) applied to this reply only."""

    @classmethod
    def text(cls, content: str, *, reasoning: str = "", finish_reason: str | None = None) -> Reply:
        """An answer in words (``reasoning`` first, when given)."""
        return cls(content=content, reasoning=reasoning, finish_reason=finish_reason)

    @classmethod
    def tool_call(cls, name: str, arguments: Mapping[str, Any] | str | None = None, *, reasoning: str = "") -> Reply:
        """An answer that calls one tool (``arguments`` a dict, or the JSON text to send as it is)."""
        return cls.tool_calls((name, arguments), reasoning=reasoning)

    @classmethod
    def tool_calls(
        cls, *calls: tuple[str, Mapping[str, Any] | str | None], reasoning: str = "", content: str = ""
    ) -> Reply:
        """An answer that calls several tools in parallel: ``Reply.tool_calls(("a", {...}), ("b", {...}))``."""
        return cls(content=content, reasoning=reasoning, calls=tuple(_call(n, a) for n, a in calls))

    @classmethod
    def error(
        cls, status: int, message: str = "", *, code: str | None = None, type: str | None = None, body: Any = None
    ) -> Reply:
        """An error answer: Z.ai's shape ``{"error": {"code": ..., "message": ...}}`` (``type`` added when
        given), or any ``body`` you pass (a JSON value, or a string sent as plain text or HTML).

        >>> Reply.error(429, "Rate limit reached", code="1302").body
        {'error': {'message': 'Rate limit reached', 'code': '1302'}}
        """
        if not 400 <= status <= 599:
            raise ValueError(f"status={status}: an error reply needs a 4xx or 5xx status")
        if body is None:
            error: dict[str, Any] = {"message": message or f"HTTP {status}"}
            if code is not None:
                error["code"] = code
            if type is not None:
                error["type"] = type
            body = {"error": error}
        return cls(status=status, body=body)

    def with_fault(self, name: str, /, **params: object) -> Reply:
        """The same reply with a fault applied to it, e.g. ``.with_fault("stall", after=1)``."""
        spec = fault_spec(name, **params)
        parse_faults(spec)  # a bad parameter fails here, in the test, not on the server
        return self.with_faults([spec])

    @property
    def parsed_faults(self) -> list[Fault]:
        return [fault for spec in self.faults for fault in parse_faults(spec)]

    # ------------------------------------------------------------------ JSON form (over HTTP)

    def to_json(self) -> dict[str, Any]:
        """The JSON form ``POST /_emulator/script`` takes.

        >>> Reply.tool_call("add", {"a": 1}).to_json()
        {'tool_calls': [{'name': 'add', 'arguments': '{"a": 1}'}]}
        """
        out: dict[str, Any] = {}
        if self.content:
            out["content"] = self.content
        if self.reasoning:
            out["reasoning"] = self.reasoning
        if self.calls:
            out["tool_calls"] = [{"name": c.name, "arguments": c.arguments} for c in self.calls]
        if self.finish_reason is not None:
            out["finish_reason"] = self.finish_reason
        if self.status != 200:
            out["status"] = self.status
            out["error"] = self.body
        if self.faults:
            out["faults"] = list(self.faults)
        return out

    @classmethod
    def from_json(cls, value: Any) -> Reply:
        """A reply from its JSON form (a plain string is a text answer).

        >>> Reply.from_json({"status": 503, "error": "upstream down"}).body
        'upstream down'
        """
        if isinstance(value, str):
            return cls.text(value)
        if not isinstance(value, dict):
            raise ValueError(f"a scripted reply must be an object or a string, got {value!r}")
        unknown = set(value) - {"content", "reasoning", "tool_calls", "finish_reason", "status", "error", "faults"}
        if unknown:
            raise ValueError(f"a scripted reply has unknown fields: {', '.join(sorted(unknown))}")
        calls = []
        for call in value.get("tool_calls") or ():
            if not isinstance(call, dict) or not isinstance(call.get("name"), str):
                raise ValueError(f"a scripted tool call needs a name: {call!r}")
            calls.append(_call(call["name"], call.get("arguments")))
        status = value.get("status", 200)
        if not isinstance(status, int) or not (status == 200 or 400 <= status <= 599):
            raise ValueError(f"status={status!r}: 200, or a 4xx or 5xx error")
        faults = tuple(value.get("faults") or ())
        for spec in faults:
            parse_faults(spec)
        if status != 200 and value.get("error") is None:
            return cls.error(status).with_faults(faults)
        return cls(
            content=str(value.get("content") or ""),
            reasoning=str(value.get("reasoning") or ""),
            calls=tuple(calls),
            finish_reason=value.get("finish_reason"),
            status=status,
            body=value.get("error"),
            faults=faults,
        )

    def with_faults(self, specs: Iterable[str]) -> Reply:
        """The same reply with more fault specs (``"name;param=value"``) applied to it."""
        return dataclasses.replace(self, faults=(*self.faults, *specs))


def _call(name: str, arguments: Mapping[str, Any] | str | None) -> ScriptedCall:
    if arguments is None:
        text = "{}"
    elif isinstance(arguments, str):
        text = arguments
    else:
        text = json.dumps(dict(arguments), ensure_ascii=False)
    return ScriptedCall(name, text)


def as_reply(value: Reply | str | Mapping[str, Any]) -> Reply:
    """A :class:`Reply`, a string (a text answer) or the JSON form, as a :class:`Reply`."""
    return value if isinstance(value, Reply) else Reply.from_json(value)


@dataclass
class Script:
    """The queue of scripted replies; thread-safe. Each chat request takes the next one.

    When the queue is empty, a scripted emulator (``Emulator.scripted``) answers 500 with a message
    saying so, so a test that makes more requests than it scripted fails loudly; a plain ``Emulator``
    falls back to its heuristic answers.
    """

    _queue: deque[Reply] = field(default_factory=deque)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    served: int = 0
    """Replies taken from the queue so far."""

    def push(self, *replies: Reply | str | Mapping[str, Any]) -> Script:
        """Queue replies (a string is a text answer); returns the script, so pushes chain."""
        parsed = [as_reply(r) for r in replies]
        with self._lock:
            self._queue.extend(parsed)
        return self

    @property
    def pending(self) -> int:
        """Replies queued and not yet served (assert it is 0 to check every reply was used)."""
        with self._lock:
            return len(self._queue)

    def take(self) -> Reply | None:
        with self._lock:
            if not self._queue:
                return None
            self.served += 1
            return self._queue.popleft()

    def clear(self) -> None:
        """Forget the queued replies and the served count."""
        with self._lock:
            self._queue.clear()
            self.served = 0


__all__ = ["Reply", "Script", "ScriptedCall"]
