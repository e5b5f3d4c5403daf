"""A deterministic stand-in tokenizer: about one token per word or punctuation mark.

Streaming sends one token per delta, usage counts tokens, and ``max_tokens`` cuts at a token
boundary; all three use the same split, so the numbers always agree with what was sent.

>>> pieces("Hello, world!")
['Hello', ',', ' world', '!']
>>> count_tokens("Hello, world!")
4
"""

from __future__ import annotations

import json
import re
from typing import Any

# Leading whitespace rides with the token that follows it, so the pieces concatenate to the text.
_PIECE = re.compile(r"\s*(?:\w+|[^\w\s])|\s+", re.UNICODE)

MESSAGE_OVERHEAD = 4
"""Tokens a chat template spends per message (role markers and separators)."""


def pieces(text: str) -> list[str]:
    """``text`` split into token pieces whose concatenation is ``text``."""
    return _PIECE.findall(text)


def count_tokens(text: str) -> int:
    return len(_PIECE.findall(text))


def message_tokens(message: Any) -> int:
    """Tokens one request message costs: its JSON-visible text plus a fixed template overhead."""
    if not isinstance(message, dict):
        return MESSAGE_OVERHEAD
    total = MESSAGE_OVERHEAD
    content = message.get("content")
    if isinstance(content, str):
        total += count_tokens(content)
    elif content is not None:
        total += count_tokens(json.dumps(content, ensure_ascii=False))
    for key in ("reasoning_content", "tool_calls", "name", "tool_call_id"):
        value = message.get(key)
        if value:
            total += count_tokens(value if isinstance(value, str) else json.dumps(value, ensure_ascii=False))
    return total


def tools_tokens(tools: Any) -> int:
    return count_tokens(json.dumps(tools, ensure_ascii=False, sort_keys=True)) if tools else 0
