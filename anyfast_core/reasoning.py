"""Reasoning from any carrier: ``reasoning_content``, ``reasoning``, or a leading ``<think>…</think>``
block in ``content``.

GLM sends its reasoning as ``reasoning_content``; some upstreams name the field ``reasoning``; a
gateway option may instead inline it into ``content`` as a leading ``<think>…</think>`` block. The
answer must never hold the reasoning (JSON mode would parse JSON quoted inside it), so content goes
through :class:`ThinkSplitter`, which separates a leading block incrementally, whatever the chunk
boundaries (a tag may straddle two chunks or more).

>>> split_think("<think>\\nThe user greets me.\\n</think>\\n\\nHello!")
('The user greets me.', 'Hello!')
>>> split_think("No block here: <think> is only a block at the start.")
('', 'No block here: <think> is only a block at the start.')
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

OPEN = "<think>"
CLOSE = "</think>"

_START, _OPENING, _THINKING, _AFTER, _ANSWER = range(5)


def reasoning_of(fields: Mapping[str, Any]) -> str:
    """The reasoning text a delta or message carries: ``reasoning_content``, else ``reasoning``
    (never both: a server sending both sends the same text twice).

    >>> reasoning_of({"reasoning": "Hm."}), reasoning_of({"reasoning_content": "A", "reasoning": "A"})
    ('Hm.', 'A')
    """
    for name in ("reasoning_content", "reasoning"):
        value = fields.get(name)
        if isinstance(value, str) and value:
            return value
    return ""


class ThinkSplitter:
    """Splits a leading ``<think>…</think>`` block off streamed content, chunk by chunk.

    :meth:`feed` returns ``(reasoning, content)`` for each piece as soon as it is certain which it is:
    text that may still turn out to be (part of) a tag is held back until the next piece or
    :meth:`flush`. Whitespace before the block, just inside its tags and between the block and the
    answer is layout, not text, and is dropped. Content that does not start with ``<think>`` passes
    through untouched (once its first non-blank characters rule the tag out).

    >>> splitter = ThinkSplitter()
    >>> splitter.feed("<thi"), splitter.feed("nk>Hm, a gr"), splitter.feed("eeting.</th"), splitter.feed("ink>Hi!")
    (('', ''), ('Hm, a gr', ''), ('eeting.', ''), ('', 'Hi!'))
    >>> splitter.flush()
    ('', '')
    """

    __slots__ = ("_pending", "_state")

    def __init__(self) -> None:
        self._state = _START
        self._pending = ""

    @property
    def settled(self) -> bool:
        """Whether everything from now on is answer text (the block, if any, is over)."""
        return self._state == _ANSWER

    def feed(self, text: str) -> tuple[str, str]:
        """The reasoning and the answer text that ``text`` (the next piece of content) settles."""
        if self._state == _ANSWER:  # the hot path: after the block, or content with none
            return "", text
        if not text:
            return "", ""
        buffer = self._pending + text
        self._pending = ""
        reasoning = ""
        if self._state == _START:
            stripped = buffer.lstrip()
            if not stripped or (len(stripped) < len(OPEN) and OPEN.startswith(stripped)):
                self._pending = buffer  # blank so far, or the start of a tag
                return "", ""
            if not stripped.startswith(OPEN):
                self._state = _ANSWER
                return "", buffer
            self._state = _OPENING
            buffer = stripped[len(OPEN) :]
        if self._state == _OPENING:
            buffer = buffer.lstrip()
            if not buffer:
                return "", ""
            self._state = _THINKING
        if self._state == _THINKING:
            end = buffer.find(CLOSE)
            if end == -1:
                held = _partial_suffix(buffer, CLOSE)
                settled = buffer[: len(buffer) - held].rstrip()
                self._pending = buffer[len(settled) :]
                return settled, ""
            reasoning = buffer[:end].rstrip()
            self._state = _AFTER
            buffer = buffer[end + len(CLOSE) :]
        # _AFTER: the blank between the block and the answer is dropped.
        answer = buffer.lstrip()
        if answer:
            self._state = _ANSWER
        return reasoning, answer

    def flush(self) -> tuple[str, str]:
        """What is still held back when the content ends: an unclosed block is reasoning (the stream
        ended while thinking), an unfinished opening tag is answer text."""
        pending, self._pending = self._pending, ""
        state, self._state = self._state, _ANSWER
        if state == _START:
            return "", pending
        if state == _THINKING:
            return pending.rstrip(), ""
        return "", ""


def split_think(content: str) -> tuple[str, str]:
    """A whole content string as ``(reasoning, answer)``: the leading ``<think>…</think>`` block, if
    any, apart from the rest. Exactly what :class:`ThinkSplitter` gives for the same text in pieces."""
    splitter = ThinkSplitter()
    reasoning, answer = splitter.feed(content)
    more_reasoning, more_answer = splitter.flush()
    return reasoning + more_reasoning, answer + more_answer


def _partial_suffix(text: str, tag: str) -> int:
    """The length of the longest end of ``text`` that is a proper start of ``tag``."""
    for size in range(min(len(tag) - 1, len(text)), 0, -1):
        if text.endswith(tag[:size]):
            return size
    return 0
