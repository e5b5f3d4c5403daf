"""The emulator's scripted "model": a validated request body in, an :class:`Answer` out.

Pure and deterministic: the same body always gives the same answer (ids included), so cassettes
recorded against the emulator replay byte for byte. What it does, in order:

1. Thinking is on unless ``thinking.type`` is ``disabled`` or ``reasoning_effort`` is ``none`` or
   ``minimal``; when on, a short reasoning text comes first.
2. With tools offered and ``tool_choice`` not ``none``: a call when the turn asks for one (it names a
   tool, a word of its name, or an operator such as ``*`` for ``multiply``), or always when the choice
   is ``required`` or a named function; every tool the turn asks for is called (parallel calls), unless
   ``parallel_tool_calls`` is false. Arguments come from the tool's JSON schema and the prompt
   (:mod:`.schema_values`).
3. After tool results (the last message is a tool message): an answer that quotes them.
4. ``response_format`` ``json_object`` (or a JSON schema in the prompt together with the word "JSON"):
   a JSON object, conforming to the schema in the prompt when there is one.
5. Otherwise a short scripted text: greetings, arithmetic, haikus, stories, jokes, counting, echoes of
   quoted text, retrieval answers picked from a given context, and a plain acknowledgement.

Then ``stop`` cuts the content before the first stop string (finish ``stop``) and ``max_tokens`` cuts
reasoning, then content, then tool calls at the token budget (finish ``length``).

>>> answer = think({"model": "glm-5.2", "messages": [{"role": "user", "content": "Hello"}]})
>>> answer.content, answer.finish_reason
('Hello! How can I help you today?', 'stop')
"""

from __future__ import annotations

import hashlib
import json
import re
import threading
from dataclasses import dataclass, field, replace
from typing import Any

from anyfast_core.emulator.schema_values import Prompt, resolve, schema_type, string_value, value_for, values_for
from anyfast_core.emulator.tokens import count_tokens, message_tokens, pieces, tools_tokens

DEFAULT_MAX_TOKENS = 65536
PRIMING_TOKENS = 3
"""Tokens the chat template adds to prime the assistant's reply."""


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


@dataclass(slots=True)
class PrefixCache:
    """Which prompt prefixes this server has seen, at message boundaries: a repeated prefix reports
    its tokens as ``cached_tokens``, as a provider's prompt cache would. Deterministic for a given
    sequence of requests; :meth:`clear` forgets everything."""

    _seen: set[str] = field(default_factory=set)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def cached_tokens(self, body: dict[str, Any]) -> int:
        digest = hashlib.sha256(_canonical({"model": body.get("model"), "tools": body.get("tools")}))
        cached = 0
        running = tools_tokens(body.get("tools"))
        keys: list[tuple[str, int]] = []
        for message in body.get("messages") or ():
            digest.update(_canonical(message))
            running += message_tokens(message)
            keys.append((digest.hexdigest(), running))
        with self._lock:
            for key, tokens in keys:
                if key in self._seen:
                    cached = tokens
            self._seen.update(key for key, _ in keys)
        return cached

    def clear(self) -> None:
        with self._lock:
            self._seen.clear()


def think(body: dict[str, Any], *, cached_tokens: int = 0) -> Answer:
    """The scripted answer to a (valid) chat request body."""
    messages = [m for m in body.get("messages") or () if isinstance(m, dict)]
    conversation = _Conversation(messages)
    request_id = response_id(body)
    thinking = thinking_enabled(body)
    tools = function_tools(body)
    choice = body.get("tool_choice")
    forced = choice == "required" or isinstance(choice, dict)

    reasoning, content = "", ""
    calls: tuple[PlannedCall, ...] = ()
    if tools and choice != "none" and (forced or not conversation.pending_results):
        calls = plan_calls(body, tools, conversation)
    if calls:
        content = ""
        reasoning = _call_reasoning(conversation.turn, calls)
    elif conversation.pending_results:
        content = _results_answer(conversation)
        reasoning = "The tool results are in. I will summarise them for the user."
    elif wants_json(body, conversation):
        content, reasoning = _json_answer(conversation)
    else:
        content, reasoning = text_answer(conversation)
    if thinking and body.get("reasoning_effort") in ("max", "xhigh", None):
        reasoning += " Let me double-check that this is right before answering."
    answer = Answer(
        id=request_id,
        model=str(body.get("model") or "glm-5.2"),
        reasoning=reasoning.strip() if thinking else "",
        content=content,
        tool_calls=calls,
        prompt_tokens=prompt_tokens(body),
        cached_tokens=cached_tokens,
    )
    return apply_limits(answer, stop=body.get("stop"), max_tokens=body.get("max_tokens"))


def apply_limits(answer: Answer, *, stop: Any = None, max_tokens: Any = None) -> Answer:
    """Cut at the first stop string, then at the token budget; fill in the token counts."""
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


def thinking_enabled(body: dict[str, Any]) -> bool:
    thinking = body.get("thinking")
    if isinstance(thinking, dict) and thinking.get("type") == "disabled":
        return False
    return body.get("reasoning_effort") not in ("none", "minimal")


def prompt_tokens(body: dict[str, Any]) -> int:
    messages = body.get("messages") or ()
    return sum(message_tokens(m) for m in messages) + tools_tokens(body.get("tools")) + PRIMING_TOKENS


def response_id(body: dict[str, Any]) -> str:
    """GLM-style id (timestamp digits, then hex), derived from the body so replays match."""
    return "20260101000000" + hashlib.sha256(_canonical(body)).hexdigest()[:16]


def _canonical(value: Any) -> bytes:
    return json.dumps(value, sort_keys=True, ensure_ascii=False, separators=(",", ":")).encode()


def function_tools(body: dict[str, Any]) -> list[dict[str, Any]]:
    tools = []
    for tool in body.get("tools") or ():
        if (
            isinstance(tool, dict)
            and tool.get("type", "function") == "function"
            and isinstance(tool.get("function"), dict)
        ):
            tools.append(tool["function"])
    return tools


# --------------------------------------------------------------------------- the conversation


def text_of(content: Any) -> str:
    """The text of a message's content: a string, or the text parts of a list (Anthropic-style
    ``tool_result`` blocks included; images and files carry no text)."""
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        parts = []
        for part in content:
            if isinstance(part, str):
                parts.append(part)
            elif isinstance(part, dict):
                if isinstance(part.get("text"), str):
                    parts.append(part["text"])
                elif part.get("type") == "tool_result":
                    parts.append(text_of(part.get("content")))
        return "\n".join(p for p in parts if p)
    return "" if content is None else str(content)


class _Conversation:
    def __init__(self, messages: list[dict[str, Any]]) -> None:
        self.messages = messages
        users = [text_of(m.get("content")) for m in messages if m.get("role") == "user"]
        self.turn = users[-1] if users else ""
        self.system = "\n".join(text_of(m.get("content")) for m in messages if m.get("role") == "system")
        self.user_history = users
        self.pending_results: list[tuple[str, str]] = []
        if messages and messages[-1].get("role") == "tool":
            names = {}
            for message in messages:
                for call in message.get("tool_calls") or ():
                    if isinstance(call, dict):
                        names[call.get("id")] = (call.get("function") or {}).get("name") or "tool"
            for message in reversed(messages):
                if message.get("role") != "tool":
                    break
                name = names.get(message.get("tool_call_id")) or message.get("name") or "tool"
                self.pending_results.insert(0, (str(name), text_of(message.get("content"))))

    @property
    def all_text(self) -> str:
        return "\n".join(text_of(m.get("content")) for m in self.messages if m.get("role") in ("system", "user"))


# --------------------------------------------------------------------------- tool calls

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
_USE_TOOL = re.compile(
    r"\b(?:use|using|call|calling|invoke)\s+(?:the|a|your|this|that|these)?\s*(?:tools?|functions?)\b"
)


def tool_score(tool: dict[str, Any], text: str) -> int:
    """How strongly ``text`` asks for ``tool``: 10 for its name, 3 per word of its name or matching
    operator, 1 per shared description word (at most 2). A call needs 3 or more."""
    lower = f" {text.lower()} "
    name = str(tool.get("name") or "")
    score = 0
    words = _name_words(name)
    if name and (name.lower() in lower or " ".join(words) in lower):
        score += 10
    text_words = {_stem(w) for w in re.findall(r"\w+", lower)}
    for word in words:
        if word not in _GENERIC_WORDS and _stem(word) in text_words:
            score += 3
        if any(op in lower for op in _OPERATORS.get(word, ())):
            score += 3
    description = str(tool.get("description") or "").lower()
    shared = {_stem(w) for w in re.findall(r"\w{4,}", description)} & text_words
    return score + min(len(shared - {_stem(w) for w in _GENERIC_WORDS}), 2)


def _name_words(name: str) -> list[str]:
    spaced = re.sub(r"([a-z])([A-Z])", r"\1 \2", name)
    return [w.lower() for w in re.split(r"[\s_\-.]+", spaced) if w]


def _stem(word: str) -> str:
    word = word.lower()
    for suffix in ("ing", "es", "s"):
        if word.endswith(suffix) and len(word) - len(suffix) >= 3:
            return word[: -len(suffix)]
    return word


def plan_calls(
    body: dict[str, Any], tools: list[dict[str, Any]], conversation: _Conversation
) -> tuple[PlannedCall, ...]:
    """The calls this turn makes (empty when it asks for none and nothing forces one)."""
    choice = body.get("tool_choice")
    text = conversation.turn
    by_name = {str(t.get("name")): t for t in tools}
    if isinstance(choice, dict):
        named = (choice.get("function") or {}).get("name")
        chosen = [by_name[named]] if named in by_name else []
    else:
        scored = sorted(
            ((tool_score(t, f"{text}\n{conversation.system}"), i) for i, t in enumerate(tools)),
            key=lambda s: (-s[0], s[1]),
        )
        chosen = [tools[i] for score, i in scored if score >= 3]
        if not chosen and (choice == "required" or (_USE_TOOL.search(text.lower()) and tools)):
            chosen = [tools[scored[0][1]]]
        chosen.sort(key=lambda t: tools.index(t))
    if body.get("parallel_tool_calls") is False:
        chosen = chosen[:1]
    structured = isinstance(choice, dict) and len(tools) == 1
    prompt = Prompt(text)
    calls = []
    for index, tool in enumerate(chosen):
        schema = tool.get("parameters") if isinstance(tool.get("parameters"), dict) else {}
        arguments = values_for(schema, prompt.fresh(), structured=structured) if schema else {}
        encoded = json.dumps(arguments, ensure_ascii=False)
        call_id = "call_" + hashlib.sha256(_canonical([body.get("messages"), tool.get("name"), index])).hexdigest()[:24]
        calls.append(PlannedCall(call_id, str(tool.get("name")), encoded))
    return tuple(calls)


def _call_reasoning(turn: str, calls: tuple[PlannedCall, ...]) -> str:
    asked = _clip(turn, 120)
    plan = "; ".join(f"{c.name} with {c.arguments}" for c in calls)
    which = "a tool" if len(calls) == 1 else "tools"
    return f"The user asks: {asked} I have {which} for this, so I will call {plan}."


def _results_answer(conversation: _Conversation) -> str:
    results = conversation.pending_results
    failed = [(n, r) for n, r in results if r.lower().startswith("error")]
    if failed:
        name, result = failed[0]
        return f"The {name} tool reported an error: {_clip(result, 200)} I could not complete that step."
    if len(results) == 1:
        name, result = results[0]
        return f"The {name} tool returned: {_clip(result, 400)}"
    listed = "; ".join(f"{name} returned {_clip(result, 200)}" for name, result in results)
    return f"Here are the results: {listed}."


# --------------------------------------------------------------------------- JSON answers


def wants_json(body: dict[str, Any], conversation: _Conversation) -> bool:
    fmt = body.get("response_format")
    if isinstance(fmt, dict) and fmt.get("type") == "json_object":
        return True
    text = conversation.all_text
    return "json" in text.lower() and find_schema(text) is not None


def find_schema(text: str) -> dict[str, Any] | None:
    """The first JSON schema written out in ``text`` (an object with ``properties``), if any."""
    decoder = json.JSONDecoder()
    start = text.find("{")
    while start >= 0:
        try:
            value, end = decoder.raw_decode(text, start)
        except ValueError:
            start = text.find("{", start + 1)
            continue
        if isinstance(value, dict):
            if isinstance(value.get("properties"), dict):
                return value
            nested = value.get("schema") or value.get("json_schema")
            if isinstance(nested, dict) and isinstance(nested.get("properties"), dict):
                return nested
        start = text.find("{", end)
    return None


_KEYS = re.compile(r"(?<!\w)['\"`]([A-Za-z_][\w]*)['\"`]")


def _json_answer(conversation: _Conversation) -> tuple[str, str]:
    prompt = Prompt(conversation.turn)
    schema = find_schema(conversation.all_text)
    if schema is not None:
        value = values_for(schema, prompt, structured=True)
        return json.dumps(value, ensure_ascii=False), "The user wants JSON that follows the given schema."
    text = conversation.all_text
    if re.search(r"\b(?:keys?|fields?|properties)\b", text, re.IGNORECASE):
        keys = list(dict.fromkeys(_KEYS.findall(text)))
        if keys:
            value = {key: string_value(key, {}, prompt) for key in keys}
            return json.dumps(value, ensure_ascii=False), f"The user wants JSON with the keys {', '.join(keys)}."
    content, _ = text_answer(conversation)
    return json.dumps({"answer": content}, ensure_ascii=False), "The user wants the answer as a JSON object."


# --------------------------------------------------------------------------- text answers

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


def text_answer(conversation: _Conversation) -> tuple[str, str]:
    """The scripted text answer and the reasoning that leads to it."""
    turn = conversation.turn.strip()
    lower = turn.lower()
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
        f"I understand. You said: {_clip(turn, 200)}",
        f"The user says: {_clip(turn, 120)} I will acknowledge it briefly.",
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
_QUESTION = re.compile(r"(?:^|\n)\s*(?:query|question)\s*:\s*(.+)", re.IGNORECASE)


def _retrieval_answer(conversation: _Conversation) -> str | None:
    """For retrieval prompts ("Context information is below ... Query: ..."): the context sentence that
    shares the most words with the question."""
    text = "\n".join(p for p in (conversation.system, conversation.turn) if p)
    question = _QUESTION.search(text)
    if not _CONTEXT_MARKER.search(text) or not question:
        return None
    query = question.group(1).strip()
    context = text[: question.start()]
    sentences = [s.strip() for s in re.split(r"(?<=[.!?])\s+|\n+", context) if len(s.strip()) > 3]
    sentences = [s for s in sentences if not _CONTEXT_MARKER.search(s[:40]) and not set(s) <= set("-= ")]
    wanted = {_stem(w) for w in re.findall(r"\w{3,}", query.lower())} - {
        "what",
        "who",
        "how",
        "the",
        "does",
        "did",
        "and",
    }
    best, best_score = None, 0
    for sentence in sentences:
        score = len(wanted & {_stem(w) for w in re.findall(r"\w{3,}", sentence.lower())})
        if score > best_score:
            best, best_score = sentence, score
    return best if best is not None else "The context does not say."


def _clip(text: str, limit: int) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


__all__ = [
    "Answer",
    "PlannedCall",
    "PrefixCache",
    "apply_limits",
    "find_schema",
    "function_tools",
    "plan_calls",
    "prompt_tokens",
    "resolve",
    "schema_type",
    "text_answer",
    "think",
    "thinking_enabled",
    "tool_score",
    "value_for",
]
