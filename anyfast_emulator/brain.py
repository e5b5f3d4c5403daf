"""The emulator's scripted "model": a validated request body in, an :class:`Answer` out.

Pure and deterministic: the same body always gives the same answer (ids included), so cassettes
recorded against the emulator replay byte for byte. What it does, in order:

1. Thinking is on unless ``thinking.type`` is ``disabled`` or ``reasoning_effort`` is ``none`` or
   ``minimal``; when on, a short reasoning text comes first.
2. With tools offered and ``tool_choice`` not ``none``: a call when the turn asks for one (it names a
   tool, a word of its name, or an operator such as ``*`` for ``multiply``), or always when the choice
   is ``required`` or a named function; every tool the turn asks for is called (parallel calls), unless
   ``parallel_tool_calls`` is false; a tool whose one argument is a place is called once per place
   ("weather in Paris and London"). Arguments come from the tool's JSON schema and the prompt
   (:mod:`.schema_values`: numbers in order or next to the property they name, quoted text, places,
   proper nouns, enum values mentioned, formats).
3. After tool results (the last message is a tool message): an answer that quotes them (or reports
   the error when a result starts with "Error"), or under a ``required`` choice a call to the tool not
   called yet this turn (an agent's response tool), or under ``json_object`` a JSON answer (step 5)
   whose values come from the turn and the results.
4. Text ReAct prompts (tools described in the prompt, ``Action Input`` format): one ``Action`` per
   wanted tool, then an ``Answer`` from the observations (:mod:`.react`).
5. ``response_format`` ``json_object`` (or a JSON schema in the prompt together with the word "JSON"):
   a JSON object, conforming to the schema in the prompt when there is one, else with the keys the
   prompt quotes, else ``{"answer": ...}``.
6. Otherwise a short scripted text (:mod:`.texts`): greetings, arithmetic, haikus, stories, jokes,
   counting, "repeat after me"/"reply with '...'" echoes, "my name is"/"what is my name" memory,
   retrieval answers picked from a "Context ... Query:" prompt, long texts on request, and a plain
   acknowledgement.

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

from anyfast_core.settings import DEFAULT_MODEL
from anyfast_emulator.conversation import Conversation, clip
from anyfast_emulator.react import react_answer
from anyfast_emulator.schema_values import (
    Prompt,
    place_parameter,
    string_value,
    values_for,
)
from anyfast_emulator.selection import USE_TOOL, tool_score
from anyfast_emulator.texts import text_answer
from anyfast_emulator.tokens import count_tokens, message_tokens, pieces, tools_tokens

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
    limit: int = 200_000
    """Prefixes remembered before the cache starts afresh (a bound for long-running servers)."""

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
            if len(self._seen) > self.limit:
                self._seen.clear()
            self._seen.update(key for key, _ in keys)
        return cached

    def clear(self) -> None:
        with self._lock:
            self._seen.clear()


def think(body: dict[str, Any], *, cached_tokens: int = 0) -> Answer:
    """The scripted answer to a (valid) chat request body."""
    messages = [m for m in body.get("messages") or () if isinstance(m, dict)]
    conversation = Conversation(messages)
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
        reasoning = _call_reasoning(conversation.turn, calls)
    elif conversation.pending_results and not _json_object_asked(body):
        content = _results_answer(conversation)
        reasoning = "The tool results are in. I will summarise them for the user."
    elif not tools and (react := react_answer(conversation)) is not None:
        content, reasoning = react
    elif wants_json(body, conversation):
        content, reasoning = _json_answer(conversation)
    else:
        content, reasoning = text_answer(conversation)
    if thinking and body.get("reasoning_effort") in ("max", "xhigh", None):
        reasoning += " Let me double-check that this is right before answering."
    answer = Answer(
        id=request_id,
        model=str(body.get("model") or DEFAULT_MODEL),
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
    return glm_id(_canonical(body))


def glm_id(data: bytes) -> str:
    """A GLM-style id for ``data``: timestamp digits, then 16 hex digits of its hash."""
    return "20260101000000" + hashlib.sha256(data).hexdigest()[:16]


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


# --------------------------------------------------------------------------- tool calls


def plan_calls(
    body: dict[str, Any], tools: list[dict[str, Any]], conversation: Conversation
) -> tuple[PlannedCall, ...]:
    """The calls this turn makes (empty when it asks for none and nothing forces one)."""
    choice = body.get("tool_choice")
    text = conversation.turn
    by_name = {str(t.get("name")): t for t in tools}
    finishing = _finishing_tool(choice, tools, conversation)
    if finishing is not None:
        # A required choice after tool results: the move left is the tool not called yet this turn
        # (an agent's response tool), its arguments read from the turn and the results.
        chosen = [finishing]
        text = "\n".join([text, *(result for _, result in conversation.pending_results)])
    elif isinstance(choice, dict):
        named = (choice.get("function") or {}).get("name")
        chosen = [by_name[named]] if named in by_name else []
    else:
        scored = sorted(
            ((tool_score(t, f"{text}\n{conversation.system}"), i) for i, t in enumerate(tools)),
            key=lambda s: (-s[0], s[1]),
        )
        chosen = [tools[i] for score, i in scored if score >= 3]
        if not chosen and (choice == "required" or (USE_TOOL.search(text.lower()) and tools)):
            chosen = [tools[scored[0][1]]]
        chosen.sort(key=lambda t: tools.index(t))
    if body.get("parallel_tool_calls") is False:
        chosen = chosen[:1]
    structured = (isinstance(choice, dict) and len(tools) == 1) or finishing is not None
    prompt = Prompt(text)
    planned: list[tuple[str, dict[str, Any]]] = []
    for tool in chosen:
        parameters = tool.get("parameters")
        schema: dict[str, Any] = parameters if isinstance(parameters, dict) else {}
        arguments = values_for(schema, prompt.fresh(), structured=structured) if schema else {}
        place = place_parameter(schema) if body.get("parallel_tool_calls") is not False else None
        if place and len(prompt.locations) > 1:
            # "weather in Paris and London": one call per place, as models do.
            planned += [(str(tool.get("name")), {**arguments, place: where}) for where in prompt.locations]
        else:
            planned.append((str(tool.get("name")), arguments))
    calls = []
    for index, (name, arguments) in enumerate(planned):
        call_id = "call_" + hashlib.sha256(_canonical([body.get("messages"), name, index])).hexdigest()[:24]
        calls.append(PlannedCall(call_id, name, json.dumps(arguments, ensure_ascii=False)))
    return tuple(calls)


def _finishing_tool(choice: Any, tools: list[dict[str, Any]], conversation: Conversation) -> dict[str, Any] | None:
    if choice != "required" or not conversation.pending_results:
        return None
    called: set[str] = set()
    for message in reversed(conversation.messages):
        if message.get("role") == "user":
            break
        called.update(str((c.get("function") or {}).get("name")) for c in message.get("tool_calls") or ())
    left = [t for t in tools if str(t.get("name")) not in called]
    return left[-1] if left else None


def _call_reasoning(turn: str, calls: tuple[PlannedCall, ...]) -> str:
    asked = clip(turn, 120)
    plan = "; ".join(f"{c.name} with {c.arguments}" for c in calls)
    which = "a tool" if len(calls) == 1 else "tools"
    return f"The user asks: {asked} I have {which} for this, so I will call {plan}."


def _results_answer(conversation: Conversation) -> str:
    results = conversation.pending_results
    failed = [(n, r) for n, r in results if r.lower().startswith("error")]
    if failed:
        name, result = failed[0]
        return f"The {name} tool reported an error: {clip(result, 200)} I could not complete that step."
    if len(results) == 1:
        name, result = results[0]
        return f"The {name} tool returned: {clip(result, 400)}"
    listed = "; ".join(f"{name} returned {clip(result, 200)}" for name, result in results)
    return f"Here are the results: {listed}."


# --------------------------------------------------------------------------- JSON answers


def _json_object_asked(body: dict[str, Any]) -> bool:
    fmt = body.get("response_format")
    return isinstance(fmt, dict) and fmt.get("type") == "json_object"


def wants_json(body: dict[str, Any], conversation: Conversation) -> bool:
    if _json_object_asked(body):
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


def _json_answer(conversation: Conversation) -> tuple[str, str]:
    prompt = Prompt("\n".join([conversation.turn, *(result for _, result in conversation.pending_results)]))
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


__all__ = [
    "Answer",
    "PlannedCall",
    "PrefixCache",
    "apply_limits",
    "find_schema",
    "function_tools",
    "plan_calls",
    "prompt_tokens",
    "response_id",
    "think",
    "thinking_enabled",
    "wants_json",
]
