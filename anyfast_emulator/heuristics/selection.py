"""Which tools a turn asks for: a score per tool from its name, its description and the operators in
the prompt (``*`` asks for ``multiply``). Pure.

>>> tool_score({"name": "multiply", "description": "Multiply two integers."}, "What is 3 * 12?")
3
"""

from __future__ import annotations

import re
from typing import Any

_GENERIC_WORDS = frozenset(
    {"get", "set", "tool", "function", "fn", "func", "run", "do", "call", "the", "a", "an", "of", "to", "for", "and"}
)
_OPERATORS: dict[str, tuple[str, ...]] = {
    "add": ("+", " plus ", "sum", " add"),
    "sum": ("+", " plus ", "sum", " add"),
    "plus": ("+", " plus "),
    "adder": ("+", " plus ", "sum", " add"),
    "multiply": ("*", "\u00d7", " times ", "product", "multipl"),
    "product": ("*", "\u00d7", " times ", "product", "multipl"),
    "times": ("*", "\u00d7", " times "),
    "subtract": (" - ", " minus ", "subtract", "difference"),
    "minus": (" - ", " minus "),
    "divide": ("/", "÷", "divided", "divide", "quotient"),
}
USE_TOOL = re.compile(
    r"\b(?:use|using|call|calling|invoke)\s+(?:the|a|your|this|that|these)?\s*(?:tools?|functions?)\b"
)


def tool_score(tool: dict[str, Any], text: str) -> int:
    """How strongly ``text`` asks for ``tool``: 10 for its name, 3 per word of its name or matching
    operator, 1 per shared description word (at most 2). A call needs 3 or more."""
    lower = f" {text.lower()} "
    name = str(tool.get("name") or "")
    score = 0
    words = name_words(name)
    if name and (name.lower() in lower or " ".join(words) in lower):
        score += 10
    text_words = {stem(w) for w in re.findall(r"\w+", lower)}
    for word in words:
        if word not in _GENERIC_WORDS and stem(word) in text_words:
            score += 3
        if any(op in lower for op in _OPERATORS.get(word, ())):
            score += 3
    description = str(tool.get("description") or "").lower()
    shared = {stem(w) for w in re.findall(r"\w{4,}", description)} & text_words
    return score + min(len(shared - {stem(w) for w in _GENERIC_WORDS}), 2)


def name_words(name: str) -> list[str]:
    spaced = re.sub(r"([a-z])([A-Z])", r"\1 \2", name)
    return [w.lower() for w in re.split(r"[\s_\-.]+", spaced) if w]


def stem(word: str) -> str:
    word = word.lower()
    for suffix in ("ing", "es", "s"):
        if word.endswith(suffix) and len(word) - len(suffix) >= 3:
            return word[: -len(suffix)]
    return word
