"""What the emulator's model says, whoever wrote it (the heuristics or a test's script), and the facts
about GLM-5.2 that shape every answer: thinking and effort, token counts, limits and ids. Pure.

The facts are the emulator's own, taken from AnyFast's documentation, not from the client: a client
bug in one of them must show up against the emulator, not be mirrored by it.

>>> effective_effort({"reasoning_effort": "medium"}), effective_effort({"reasoning_effort": "xhigh"})
('high', 'max')
>>> effective_effort({"thinking": {"type": "disabled"}, "reasoning_effort": "max"})
'none'
"""

from __future__ import annotations

import hashlib
import json
import threading
from dataclasses import dataclass, field, replace
from typing import Any, Literal

from anyfast_emulator.tokens import count_tokens, message_tokens, pieces, tools_tokens

DEFAULT_MODEL = "glm-5.2"
"""The one model id AnyFast documents for this API."""
CONTEXT_WINDOW = 1_000_000
"""GLM-5.2's context window in tokens, as AnyFast's GLM-5.2 guide states it ("usable 1M-token context")."""
MAX_OUTPUT_TOKENS = 131_072
"""The documented range of ``max_tokens`` ends here (128K)."""
DEFAULT_MAX_TOKENS = 65_536
"""``max_tokens`` when a request does not set it (the documented default)."""
PRIMING_TOKENS = 3
"""Tokens the chat template adds to prime the assistant's reply."""

Effort = Literal["none", "high", "max"]


@dataclass(frozen=True, slots=True)
class PlannedCall:
    """One tool call the model makes; ``arguments`` is the JSON text sent on the wire."""

    id: str
    name: str
    arguments: str


@dataclass(frozen=True, slots=True)
class Answer:
    """Everything the wire layer needs to write a response, in either dialect."""

    id: str
    model: str
    reasoning: str = ""
    content: str = ""
    tool_calls: tuple[PlannedCall, ...] = ()
    finish_reason: str = "stop"
    prompt_tokens: int = 0
    cached_tokens: int = 0
    reasoning_tokens: int = 0
    completion_tokens: int = 0

    @property
    def total_tokens(self) -> int:
        return self.prompt_tokens + self.completion_tokens


def effective_effort(body: dict[str, Any]) -> Effort:
    """How hard GLM-5.2 thinks for ``body``, as AnyFast documents it: ``reasoning_effort`` acts only when
    thinking is on (the default); ``none``/``minimal`` skip thinking; ``low``/``medium`` act as ``high``;
    ``xhigh`` (and no effort at all) as ``max``. With thinking on, GLM-5.2 always thinks."""
    thinking = body.get("thinking")
    if isinstance(thinking, dict) and thinking.get("type") == "disabled":
        return "none"
    effort = body.get("reasoning_effort")
    if effort in ("none", "minimal"):
        return "none"
    if effort in ("low", "medium", "high"):
        return "high"
    return "max"


def thinking_enabled(body: dict[str, Any]) -> bool:
    """Whether the answer to ``body`` starts with reasoning."""
    return effective_effort(body) != "none"


def prompt_tokens(body: dict[str, Any]) -> int:
    messages = body.get("messages") or ()
    return sum(message_tokens(m) for m in messages) + tools_tokens(body.get("tools")) + PRIMING_TOKENS


def apply_limits(answer: Answer, *, stop: Any = None, max_tokens: Any = None) -> Answer:
    """Cut at the first stop string, then at the token budget; fill in the token counts.

    >>> cut = apply_limits(Answer(id="x", model="m", content="one two three"), max_tokens=2)
    >>> cut.content, cut.finish_reason, cut.completion_tokens
    ('one two', 'length', 2)
    """
    content, calls, finish = answer.content, answer.tool_calls, "tool_calls" if answer.tool_calls else "stop"
    stops = [stop] if isinstance(stop, str) else [s for s in stop or () if isinstance(s, str) and s]
    cut = min((i for i in (content.find(s) for s in stops) if i >= 0), default=-1)
    if cut >= 0:
        content, calls, finish = content[:cut], (), "stop"
    budget = max_tokens if isinstance(max_tokens, int) and max_tokens > 0 else DEFAULT_MAX_TOKENS
    reasoning_pieces = pieces(answer.reasoning)
    reasoning = answer.reasoning
    if len(reasoning_pieces) >= budget and (content or calls or len(reasoning_pieces) > budget):
        reasoning, content, calls, finish = "".join(reasoning_pieces[:budget]), "", (), "length"
    budget -= count_tokens(reasoning)
    content_pieces = pieces(content)
    if len(content_pieces) > budget:
        content, calls, finish = "".join(content_pieces[: max(budget, 0)]), (), "length"
    budget -= count_tokens(content)
    if calls and sum(_call_tokens(c) for c in calls) > budget:
        calls, finish = (), "length"
    reasoning_tokens = count_tokens(reasoning)
    completion = reasoning_tokens + count_tokens(content) + sum(_call_tokens(c) for c in calls)
    return replace(
        answer,
        reasoning=reasoning,
        content=content,
        tool_calls=calls,
        finish_reason=finish,
        reasoning_tokens=reasoning_tokens,
        completion_tokens=completion,
    )


def _call_tokens(call: PlannedCall) -> int:
    return count_tokens(call.name) + count_tokens(call.arguments) + 2


def canonical(value: Any) -> bytes:
    return json.dumps(value, sort_keys=True, ensure_ascii=False, separators=(",", ":")).encode()


def glm_id(data: bytes) -> str:
    """A GLM-style id for ``data``: timestamp digits, then 16 hex digits of its hash.

    >>> glm_id(b"x")
    '202601010000002d711642b726b044'
    """
    return "20260101000000" + hashlib.sha256(data).hexdigest()[:16]


def call_id(response_id: str, index: int) -> str:
    """The id of tool call ``index`` of a response: unique when response ids are."""
    return "call_" + hashlib.sha256(f"{response_id}/{index}".encode()).hexdigest()[:24]


@dataclass(slots=True)
class ResponseIds:
    """Response ids: derived from the request body (so a recorded session replays byte for byte) and from
    how many times this server has seen that same body, so two requests never share an id, the same body
    sent twice included. :meth:`clear` starts afresh (``Emulator.reset()``)."""

    _seen: dict[str, int] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def next(self, body: Any) -> str:
        digest = hashlib.sha256(canonical(body)).hexdigest()
        with self._lock:
            count = self._seen.get(digest, 0)
            self._seen[digest] = count + 1
        return glm_id(digest.encode() if count == 0 else f"{digest}#{count}".encode())

    def clear(self) -> None:
        with self._lock:
            self._seen.clear()


@dataclass(slots=True)
class PrefixCache:
    """Which prompt prefixes this server has seen, at message boundaries: a repeated prefix reports
    its tokens as ``cached_tokens``, as a provider's prompt cache would. Deterministic for a given
    sequence of requests; :meth:`clear` forgets everything."""

    _seen: set[str] = field(default_factory=set)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    limit: int = 200_000
    """Prefixes remembered before the cache starts afresh (a bound for long-running servers)."""

    def cached_tokens(self, body: dict[str, Any]) -> int:
        digest = hashlib.sha256(canonical({"model": body.get("model"), "tools": body.get("tools")}))
        cached = 0
        running = tools_tokens(body.get("tools"))
        keys: list[tuple[str, int]] = []
        for message in body.get("messages") or ():
            digest.update(canonical(message))
            running += message_tokens(message)
            keys.append((digest.hexdigest(), running))
        with self._lock:
            for key, tokens in keys:
                if key in self._seen:
                    cached = tokens
            if len(self._seen) > self.limit:
                self._seen.clear()
            self._seen.update(key for key, _ in keys)
        return cached

    def clear(self) -> None:
        with self._lock:
            self._seen.clear()


__all__ = [
    "CONTEXT_WINDOW",
    "DEFAULT_MODEL",
    "Answer",
    "PlannedCall",
    "PrefixCache",
    "ResponseIds",
    "apply_limits",
    "effective_effort",
    "prompt_tokens",
    "thinking_enabled",
]
