"""The emulator's heuristic "model": a validated request body in, an :class:`~anyfast_emulator.answer.Answer` out.

Pure and deterministic: the same body (and response id, which the server hands out) always gives the
same answer, so cassettes recorded against the emulator replay byte for byte. Only the demo, the
examples and the project's framework tests need these answers; for your own tests, script the answers
instead (:mod:`anyfast_emulator.script`). What it does, in order:

1. Thinking as documented (:func:`~anyfast_emulator.answer.effective_effort`): a short reasoning text
   first unless thinking is off, a longer one at effort ``max``.
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

import json
import re
from typing import Any

from anyfast_emulator.answer import (
    DEFAULT_MODEL,
    Answer,
    PlannedCall,
    apply_limits,
    call_id,
    effective_effort,
    prompt_tokens,
)
from anyfast_emulator.heuristics.conversation import Conversation, clip
from anyfast_emulator.heuristics.react import react_answer
from anyfast_emulator.heuristics.schema_values import (
    Prompt,
    place_parameter,
    string_value,
    values_for,
)
from anyfast_emulator.heuristics.selection import USE_TOOL, tool_score
from anyfast_emulator.heuristics.texts import text_answer


def think(body: dict[str, Any], *, response_id: str = "20260101000000", cached_tokens: int = 0) -> Answer:
    """The heuristic answer to a (valid) chat request body."""
    messages = [m for m in body.get("messages") or () if isinstance(m, dict)]
    conversation = Conversation(messages)
    effort = effective_effort(body)
    thinking = effort != "none"
    tools = function_tools(body)
    choice = body.get("tool_choice")
    forced = choice == "required" or isinstance(choice, dict)

    reasoning, content = "", ""
    calls: tuple[PlannedCall, ...] = ()
    if tools and choice != "none" and (forced or not conversation.pending_results):
        calls = plan_calls(body, tools, conversation, response_id)
    if calls:
        reasoning = _call_reasoning(conversation.turn, calls)
    elif conversation.pending_results and not _json_object_asked(body):
        content = _results_answer(conversation)
        reasoning = "The tool results are in. I will summarise them for the user."
    elif not tools and not _json_object_asked(body) and (react := react_answer(conversation)) is not None:
        content, reasoning = react
    elif wants_json(body, conversation):
        content, reasoning = _json_answer(conversation)
    else:
        content, reasoning = text_answer(conversation)
    if effort == "max":
        reasoning += " Let me double-check that this is right before answering."
    answer = Answer(
        id=response_id,
        model=str(body.get("model") or DEFAULT_MODEL),
        reasoning=reasoning.strip() if thinking else "",
        content=content,
        tool_calls=calls,
        prompt_tokens=prompt_tokens(body),
        cached_tokens=cached_tokens,
    )
    return apply_limits(answer, stop=body.get("stop"), max_tokens=body.get("max_tokens"))


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
    body: dict[str, Any], tools: list[dict[str, Any]], conversation: Conversation, response_id: str
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
        calls.append(PlannedCall(call_id(response_id, index), name, json.dumps(arguments, ensure_ascii=False)))
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
    content = _results_answer(conversation) if conversation.pending_results else text_answer(conversation)[0]
    return json.dumps({"answer": content}, ensure_ascii=False), "The user wants the answer as a JSON object."


__all__ = ["find_schema", "function_tools", "plan_calls", "think", "wants_json"]
