"""The text ReAct protocol, for agents that describe tools in the prompt instead of the ``tools`` field
(LlamaIndex's ``ReActAgent``, LangChain's classic ReAct prompt). Pure.

The scripted model answers ``Thought: ... / Action: <tool> / Action Input: {json}`` while the question
asks for a tool it has not used yet (one tool per step, in the order the tools are listed), and
``Thought: ... / Answer: ...`` (``Final Answer:`` when the prompt uses that wording) once every tool
it wanted has an ``Observation``.

>>> system = ('You have access to the following tools:\\n> Tool Name: multiply\\nTool Description: Multiply '
...           'two integers.\\nTool Args: {"properties": {"a": {"type": "integer"}, "b": {"type": "integer"}}, '
...           '"required": ["a", "b"], "type": "object"}\\n\\nAction Input: the input to the tool')
>>> from anyfast_emulator.heuristics.conversation import Conversation
>>> print(react_answer(Conversation([{"role": "system", "content": system},
...                                  {"role": "user", "content": "What is 6 times 7?"}]))[0])
Thought: The current language of the user is: English. I need to use a tool to help me answer the question.
Action: multiply
Action Input: {"a": 6, "b": 7}
"""

from __future__ import annotations

import json
import re
from typing import Any

from anyfast_emulator.heuristics.conversation import Conversation, clip, text_of
from anyfast_emulator.heuristics.schema_values import Prompt, values_for
from anyfast_emulator.heuristics.selection import USE_TOOL, tool_score
from anyfast_emulator.heuristics.texts import text_answer

_LLAMA_TOOL = re.compile(
    r"^> Tool Name: (?P<name>\S+)\s*\nTool Description: (?P<description>.*?)\nTool Args: ", re.M | re.S
)
_ONE_OF = re.compile(r"Action:[^\n]*?one of \[(?P<names>[^\]]*)\]")
_ACTION = re.compile(r"^\s*Action\s*:\s*(?P<name>[^\n]+?)\s*$", re.M)
_OBSERVATION = re.compile(
    r"^\s*Observation\s*:\s*(?P<text>.*?)(?=^\s*(?:Thought|Action|Observation)\s*:|\Z)", re.M | re.S
)
_QUESTION = re.compile(r"^\s*Question\s*:\s*(?P<text>[^\n]+)", re.M)

THOUGHT_TOOL = (
    "Thought: The current language of the user is: English. I need to use a tool to help me answer the question."
)
THOUGHT_DONE = "Thought: I can answer without using any more tools. I'll use the user's language to answer"


def react_tools(text: str) -> list[dict[str, Any]]:
    """Tools described in a ReAct prompt: LlamaIndex's ``> Tool Name:`` blocks (with their argument
    schemas) or LangChain's ``Action: ... one of [a, b]`` list (names only)."""
    tools: list[dict[str, Any]] = []
    decoder = json.JSONDecoder()
    for match in _LLAMA_TOOL.finditer(text):
        try:
            schema, _ = decoder.raw_decode(text, match.end())
        except ValueError:
            schema = {}
        tools.append({"name": match["name"], "description": match["description"], "parameters": schema})
    if not tools:
        one_of = _ONE_OF.search(text)
        for name in (n.strip() for n in one_of["names"].split(",")) if one_of else ():
            if name:
                line = re.search(rf"^{re.escape(name)}\b[^\n]*", text, re.M)
                tools.append({"name": name, "description": line.group(0) if line else "", "parameters": None})
    return tools


def react_answer(conversation: Conversation) -> tuple[str, str] | None:
    """The next ReAct step and its reasoning, or ``None`` when the prompt is not a ReAct prompt."""
    transcript = "\n".join(text_of(m.get("content")) for m in conversation.messages)
    if "Action Input" not in transcript:
        return None
    tools = react_tools(transcript)
    if not tools:
        return None
    final = "Final Answer:" if "Final Answer" in transcript else "Answer:"
    question = _question(conversation)
    turns = _after_instructions(conversation)
    called = [m["name"].strip() for m in _ACTION.finditer(turns)]
    observations = [clip(m["text"], 400) for m in _OBSERVATION.finditer(turns)]
    wanted = [t for t in tools if tool_score(t, question) >= 3]
    if not wanted and USE_TOOL.search(question.lower()):
        wanted = tools[:1]
    remaining = [t for t in wanted if t["name"] not in called]
    if remaining:
        tool = remaining[0]
        schema = tool["parameters"]
        arguments: Any = values_for(schema, Prompt(question)) if isinstance(schema, dict) and schema else question
        action_input = json.dumps(arguments, ensure_ascii=False) if isinstance(arguments, dict) else arguments
        step = f"{THOUGHT_TOOL}\nAction: {tool['name']}\nAction Input: {action_input}"
        return step, f"The {tool['name']} tool can answer part of this, so I will call it."
    if observations:
        pairs = list(zip(called, observations, strict=False))
        answer = observations[-1] if len(observations) == 1 else "; ".join(f"{a} returned {o}" for a, o in pairs)
        return f"{THOUGHT_DONE}\n{final} {answer}", "The observations answer the question."
    answer, reasoning = text_answer(Conversation([{"role": "user", "content": question}]))
    return f"{THOUGHT_DONE}\n{final} {answer}", reasoning


def _question(conversation: Conversation) -> str:
    """The user's question: LangChain's ``Question:`` line, else the last user message that is not an
    observation."""
    for message in reversed(conversation.messages):
        if message.get("role") != "user":
            continue
        text = text_of(message.get("content"))
        questions = _QUESTION.findall(text)
        if questions:
            return str(questions[-1]).strip()
        if not text.lstrip().startswith("Observation"):
            return text.strip()
    return conversation.turn


def _after_instructions(conversation: Conversation) -> str:
    """The conversation after the system prompt's format instructions (which quote ``Action:`` and
    ``Observation:`` themselves); for a single-prompt agent, the part after the last ``Question:``."""
    parts = [text_of(m.get("content")) for m in conversation.messages if m.get("role") != "system"]
    text = "\n".join(parts)
    questions = list(_QUESTION.finditer(text))
    return text[questions[-1].end() :] if questions else text
