"""The scripted model's text answers: greetings, arithmetic, haikus, stories, jokes, counting, echoes of
quoted text, answers picked from a retrieval context, and a plain acknowledgement. Pure.

>>> from anyfast_emulator.heuristics.conversation import Conversation
>>> text_answer(Conversation([{"role": "user", "content": "What is 6 * 7?"}]))[0]
'6 * 7 = 42.'
"""

from __future__ import annotations

import re

from anyfast_emulator.heuristics.conversation import Conversation, clip
from anyfast_emulator.heuristics.schema_values import Prompt
from anyfast_emulator.heuristics.selection import stem

HAIKUS = (
    "Silent cat at dawn\nwhiskers catch the morning light\nthe world is still warm\n\n"
    "Autumn leaves drifting\nthe river carries them home\nsoft as a whisper"
)
STORY = (
    "Once upon a time, a small grey cat named Miso lived above a bakery. Every morning she watched the "
    "baker knead the dough, and every morning she tried to help by pressing her paws into it. One day "
    "the baker left a tiny loaf just for her, shaped like a fish. Miso carried it to the window and "
    "shared it with the sparrows. From then on, the bakery sold fish-shaped loaves, and they were the "
    "most popular bread in town. Miso, of course, took all the credit."
)
FILLER = [
    "The",
    "quick",
    "brown",
    "fox",
    "jumps",
    "over",
    "the",
    "lazy",
    "dog",
    "while",
    "the",
    "river",
    "runs",
    "quietly",
    "past",
    "the",
    "old",
    "mill",
    "and",
    "the",
    "morning",
    "light",
    "settles",
    "on",
    "the",
    "hills",
]
_ARITHMETIC = re.compile(
    r"(-?\d+(?:\.\d+)?)\s*(\+|-|\*|\u00d7|x|/|÷|plus|minus|times|multiplied by|divided by)\s*(-?\d+(?:\.\d+)?)",
    re.IGNORECASE,
)
_ECHO = re.compile(
    r"(?:repeat after me|say|reply with|respond with|answer with|output|return)\s*(?:exactly|only|just)?\s*:?\s*"
    r"(?:'([^'\n]+)'|\"([^\"\n]+)\"|“([^”\n]+)”)",
    re.IGNORECASE,
)
_GREETING = re.compile(r"^\W*(hello|hi|hey|hiya|howdy|good (?:morning|afternoon|evening)|greetings)\b", re.IGNORECASE)
_NAME_GIVEN = re.compile(r"\bmy name is\s+([A-Z][\w'-]*)", re.IGNORECASE)
_COUNT = re.compile(r"\bcount\s+(?:from\s+(\d+)\s+)?to\s+(\d+)", re.IGNORECASE)
_WORDS = re.compile(r"\b(\d{2,5})\s+words\b", re.IGNORECASE)


def text_answer(conversation: Conversation) -> tuple[str, str]:
    """The scripted text answer and the reasoning that leads to it."""
    turn = conversation.turn.strip()
    lower = turn.lower()
    follow_up = _FOLLOW_UP.search(turn)
    if follow_up:  # a chat engine condensing the conversation: the follow-up question, standing alone
        return follow_up.group(1).strip(), "The follow-up question already stands on its own."
    echo = _ECHO.search(turn)
    if echo:
        said = next(g for g in echo.groups() if g is not None)
        return said, "The user wants me to repeat a phrase exactly."
    rag = _retrieval_answer(conversation)
    if rag is not None:
        return rag, "The answer should come from the provided context; I will quote the most relevant sentence."
    if "what is my name" in lower or "what's my name" in lower:
        for earlier in reversed(conversation.user_history[:-1]):
            match = _NAME_GIVEN.search(earlier)
            if match:
                return f"Your name is {match.group(1)}.", "The user told me their name earlier in the conversation."
        return "I don't know your name yet.", "The user has not told me their name."
    math = _ARITHMETIC.search(turn)
    result = _calculate(math) if math else None
    if math and result is not None:
        a, op, b = math.groups()
        return f"{a} {op} {b} = {result}.", f"This is arithmetic: {a} {op} {b} is {result}."
    count = _COUNT.search(turn)
    if count:
        start, end = int(count.group(1) or 1), int(count.group(2))
        end = min(end, start + 999)
        return ", ".join(str(n) for n in range(start, end + 1)), "The user wants me to count."
    words = _WORDS.search(turn)
    if words or re.search(r"\b(?:long|essay)\b", lower):
        n = min(int(words.group(1)), 5000) if words else 300
        text = " ".join(FILLER[i % len(FILLER)] for i in range(n))
        return text[0].upper() + text[1:] + ".", f"The user wants a long text of about {n} words."
    if "haiku" in lower:
        return HAIKUS, "The user asked for haikus: five, seven, five syllables each."
    if "story" in lower:
        return STORY, "The user wants a short story. A cat and a bakery will do."
    if "joke" in lower:
        setup, punchline = Prompt(turn).joke()
        return f"{setup} {punchline}", "The user wants a joke. A short pun works best."
    if "pirate" in lower:
        return "Ahoy, matey! Welcome aboard! What treasure be ye seekin' today?", "The user wants a pirate voice."
    if "how are you" in lower:
        return "I'm doing well, thank you for asking! How can I help you today?", "The user asks how I am."
    if _GREETING.search(turn) or lower in ("", "hello!", "hi!"):
        return "Hello! How can I help you today?", "The user greets me. I should reply warmly and offer help."
    if "thank" in lower:
        return "You're welcome! Let me know if there is anything else I can do.", "The user thanks me."
    return (
        f"I understand. You said: {clip(turn, 200)}",
        f"The user says: {clip(turn, 120)} I will acknowledge it briefly.",
    )


def _calculate(match: re.Match[str]) -> str | None:
    a, op, b = float(match.group(1)), match.group(2).lower(), float(match.group(3))
    if op in ("+", "plus"):
        value = a + b
    elif op in ("-", "minus"):
        value = a - b
    elif op in ("*", "\u00d7", "x", "times", "multiplied by"):
        value = a * b
    elif b == 0:
        return None
    else:
        value = a / b
    return str(int(value)) if value.is_integer() else f"{value:g}"


_CONTEXT_MARKER = re.compile(r"context", re.IGNORECASE)
_STOP_WORDS = frozenset(
    [
        "what",
        "who",
        "how",
        "the",
        "does",
        "did",
        "and",
        "are",
        "for",
        "with",
        "that",
        "this",
        "from",
        "take",
        "long",
        "much",
        "many",
        "when",
        "where",
        "which",
        "about",
    ]
)
_QUESTION = re.compile(r"(?:^|\n)\s*(?:query|question)\s*:\s*(.+)", re.IGNORECASE)
_CONTEXT_IN_SYSTEM = re.compile(r"documents for the context|context information|context\s*:", re.IGNORECASE)
"""A system prompt that carries retrieved documents (LlamaIndex's context chat engines)."""
_FOLLOW_UP = re.compile(r"Follow Up Input:\s*(.+?)\s*\n\s*Standalone question", re.IGNORECASE | re.DOTALL)


def _retrieval_answer(conversation: Conversation) -> str | None:
    """For retrieval prompts ("Context information is below ... Query: ..."), or documents in the system
    prompt and the question in the user's turn (a ``condense_plus_context`` chat engine): the context
    sentence that shares the most words with the question."""
    text = "\n".join(p for p in (conversation.system, conversation.turn) if p)
    question = _QUESTION.search(text)
    if _CONTEXT_MARKER.search(text) and question:
        query = question.group(1).strip()
        context = text[: question.start()]
    elif _CONTEXT_IN_SYSTEM.search(conversation.system) and conversation.turn.strip():
        query, context = conversation.turn.strip(), conversation.system
    else:
        return None
    sentences = [s.strip() for s in re.split(r"(?<=[.!?])\s+|\n+", context) if len(s.strip()) > 3]
    sentences = [s for s in sentences if not _CONTEXT_MARKER.search(s[:40]) and not set(s) <= set("-= ")]
    wanted = {stem(w) for w in re.findall(r"\w{3,}", query.lower()) if w not in _STOP_WORDS}
    best, best_score = None, 0
    for sentence in sentences:
        score = len(wanted & {stem(w) for w in re.findall(r"\w{3,}", sentence.lower()) if w not in _STOP_WORDS})
        if score > best_score:
            best, best_score = sentence, score
    return best if best is not None else "The context does not say."
