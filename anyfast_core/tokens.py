"""Token counts for GLM without its tokenizer: a pure estimate, no download, no extra install.

GLM's tokenizer is a byte-level BPE with a vocabulary of about 150,000 entries, pre-split the way
tiktoken's ``cl100k`` splits text (words with their leading space, digit groups, punctuation runs,
newlines). The estimate follows that split and prices each piece by its character class: a short
ASCII word is one token and a long one a token per few letters, digits go three to a token,
punctuation about two characters to a token, a run of whitespace or newlines one token, and CJK
characters are priced per character. A chat request is priced as GLM's chat template lays it out:
one special token per role marker and tool-call tag, the tool definitions as JSON under a fixed
tool preamble, reasoning sent back inside ``<think>`` tags, tool-call arguments as key/value tags.

How close it comes is measured against the prompt token counts GLM itself reported for recorded
requests (see the README's "Counting tokens"); it is an estimate for budgets and trimming, not a bill.

>>> estimate_text_tokens("Hello, world!")
4
>>> estimate_messages_tokens([{"role": "user", "content": "Hello, world!"}])
9
"""

from __future__ import annotations

import functools
import json
import math
import re
from collections.abc import Iterable, Mapping, Sequence
from typing import Any, Final

_CJK: Final = "\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\uac00-\ud7af"
_LETTERS: Final = rf"[^\W\d_{_CJK}]+"


@functools.cache
def _pieces() -> re.Pattern[str]:
    """The pre-split pieces in the order tried: tiktoken's ``cl100k`` pre-split (a letter run may bring
    one leading non-letter, digits go three at a time, punctuation runs keep one leading space), with
    CJK characters one piece each."""
    # Compiled on first use: its Unicode classes take milliseconds to compile, which every import would pay.
    return re.compile(
        r"(?P<contraction>'(?:s|t|re|ve|m|ll|d)\b)"
        rf"|(?P<cjk>[{_CJK}])"
        rf"|(?P<word>(?:[^\r\n\w]|_)?{_LETTERS})"
        r"|(?P<digits>\d{1,3})"
        r"|(?P<punct> ?(?:[^\s\w]|_)+[\r\n]*)"
        r"|(?P<newlines>\s*[\r\n]+)"
        r"|(?P<spaces>\s+(?!\S)|\s+)"
    )


WORD_LETTERS_PER_TOKEN: Final = 6.0
"""Letters of a long ASCII word per token (a word up to ``SHORT_WORD`` letters is one token)."""
SHORT_WORD: Final = 8
PUNCT_PER_TOKEN: Final = 2.0
CJK_TOKENS_PER_CHAR: Final = 0.7
"""GLM's vocabulary holds many two- and three-character Chinese words; not measured here (the recordings
hold no CJK text), so counts of Chinese or Japanese text are rougher than of English."""
OTHER_CHARS_PER_TOKEN: Final = 2.0
"""Letters outside ASCII and CJK (accented Latin, Cyrillic, ...) per token."""

TEMPLATE_TOKENS: Final = 3
"""``[gMASK]<sop>`` at the start and the ``<|assistant|>`` the answer starts after."""
MESSAGE_TOKENS: Final = 2
"""A role marker (``<|user|>`` ...) and the newline after it."""
TOOL_CALL_TOKENS: Final = 4
"""``<tool_call>`` … ``</tool_call>`` and the newlines around a call's name."""
ARGUMENT_TOKENS: Final = 6
"""``<arg_key>`` … ``</arg_key>`` ``<arg_value>`` … ``</arg_value>`` and a newline, per argument."""
TOOL_RESULT_TOKENS: Final = 4
"""``<tool_response>`` … ``</tool_response>`` with its newlines (``<|observation|>`` is the role marker)."""
THINK_TOKENS: Final = 2
"""``<think>`` and ``</think>`` around reasoning sent back (or around nothing)."""

TOOLS_TOKENS: Final = 97
"""The tool preamble of GLM's chat template (how to call, the ``<tools>`` tags) and the system turn it opens.
Fit, with ``TOOL_JSON_SHARE``, on the two first-turn recordings (one tool and two tools); see the README."""
TOOL_JSON_SHARE: Final = 0.82
"""GLM's tokenizer takes JSON in fewer tokens than its pieces suggest (``": "`` and ``", "`` merge)."""


def estimate_text_tokens(text: str) -> int:
    """Tokens of plain ``text`` in GLM's tokenizer, estimated from its character classes.

    >>> estimate_text_tokens("")
    0
    >>> estimate_text_tokens("The quick brown fox jumps over the lazy dog.")
    10
    >>> estimate_text_tokens("你好世界")
    3
    """
    total = 0.0
    for match in _pieces().finditer(text):
        kind, piece = match.lastgroup, match.group()
        if kind == "word":
            letters = piece if piece[0].isalpha() else piece[1:]
            if letters.isascii():
                total += 1 if len(letters) <= SHORT_WORD else math.ceil(len(letters) / WORD_LETTERS_PER_TOKEN)
            else:
                total += max(1, math.ceil(len(letters) / OTHER_CHARS_PER_TOKEN))
        elif kind == "digits":
            total += 1
        elif kind == "cjk":
            total += CJK_TOKENS_PER_CHAR
        elif kind == "punct":
            symbols = piece.lstrip(" ")
            total += math.ceil(len(symbols) / PUNCT_PER_TOKEN) if symbols.isascii() else len(symbols)
        else:  # contraction, spaces, newlines
            total += 1
    return math.ceil(total)


def _text(content: Any) -> str:
    """The text of a wire message's content: a string, or the text parts of a list of parts."""
    if content is None:
        return ""
    if isinstance(content, str):
        return content
    if isinstance(content, Sequence):
        return "\n".join(str(p.get("text", "")) for p in content if isinstance(p, Mapping))
    return str(content)


def _tool_call_tokens(call: Mapping[str, Any]) -> int:
    function = call.get("function") or {}
    tokens = TOOL_CALL_TOKENS + estimate_text_tokens(str(function.get("name", "")))
    raw = function.get("arguments") or "{}"
    try:
        arguments = json.loads(raw) if isinstance(raw, str) else raw
    except ValueError:
        return tokens + estimate_text_tokens(str(raw))
    if not isinstance(arguments, Mapping):
        return tokens + estimate_text_tokens(str(raw))
    for key, value in arguments.items():
        shown = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
        tokens += ARGUMENT_TOKENS + estimate_text_tokens(str(key)) + estimate_text_tokens(shown)
    return tokens


def estimate_message_tokens(message: Mapping[str, Any]) -> int:
    """Tokens one wire message takes in GLM's chat template: its role marker, text, reasoning and tool calls.

    >>> estimate_message_tokens({"role": "tool", "tool_call_id": "call_1", "content": "40 C"})
    8
    """
    role = message.get("role")
    tokens = MESSAGE_TOKENS + estimate_text_tokens(_text(message.get("content")).strip())
    if role == "assistant":
        reasoning = message.get("reasoning_content")
        tokens += THINK_TOKENS + (estimate_text_tokens(reasoning.strip()) if isinstance(reasoning, str) else 0)
        tokens += sum(_tool_call_tokens(call) for call in message.get("tool_calls") or ())
    elif role == "tool":
        tokens += TOOL_RESULT_TOKENS
    return tokens


def estimate_tools_tokens(tools: Iterable[Mapping[str, Any]]) -> int:
    """Tokens the tool definitions take: the template's tool preamble and each tool as one line of JSON.

    >>> estimate_tools_tokens([])
    0
    """
    lines = [json.dumps(tool, ensure_ascii=False) for tool in tools]
    if not lines:
        return 0
    return TOOLS_TOKENS + math.ceil(TOOL_JSON_SHARE * sum(estimate_text_tokens(line) + 1 for line in lines))


def estimate_messages_tokens(
    messages: Iterable[Mapping[str, Any]], tools: Iterable[Mapping[str, Any]] | None = None
) -> int:
    """Prompt tokens of a chat request (wire messages and tools), as GLM would count them, estimated.

    >>> estimate_messages_tokens([{"role": "system", "content": "Be brief."}, {"role": "user", "content": "Hi"}])
    11
    """
    tokens = TEMPLATE_TOKENS + estimate_tools_tokens(tools or ())
    return tokens + sum(estimate_message_tokens(message) for message in messages)
