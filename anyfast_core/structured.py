"""Structured output through the prompt: the API's only JSON response format is ``json_object``, so a
schema is stated in the system prompt and the JSON read back out of the answer's text.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import Any

_FENCE = re.compile(r"```[ \t]*(?:json|JSON)?[ \t]*\n?(.*?)```", re.DOTALL)


def json_from_text(text: str) -> Any:
    """The JSON in a model's text answer: the whole text, else the first markdown code fence that
    parses, else the first object in the prose (braces in strings and broken fragments before it
    tolerated). Raises ``ValueError`` quoting the (clipped) text when there is none.

    Both adapters read JSON-mode answers, and forced tool calls answered in text, through this.

    >>> json_from_text('Here you go:\\n```json\\n{"a": 1}\\n```')
    {'a': 1}
    >>> json_from_text('{broken} then {"a": {"b": "}"}} -- done')
    {'a': {'b': '}'}}
    """
    stripped = text.strip()
    try:
        return json.loads(stripped)
    except ValueError:
        pass
    for match in _FENCE.finditer(stripped):
        try:
            return json.loads(match.group(1).strip())
        except ValueError:
            continue
    decoder = json.JSONDecoder()
    start = stripped.find("{")
    while start != -1:
        try:
            return decoder.raw_decode(stripped, start)[0]
        except ValueError:
            start = stripped.find("{", start + 1)
    clipped = text if len(text) <= 300 else text[:297] + "..."
    raise ValueError(f"The model's answer holds no JSON object: {clipped!r}")


SCHEMA_INSTRUCTION = (
    "Answer with a single JSON object that conforms to the JSON schema below. Output only the JSON object: "
    "no prose, no markdown code fence.\nJSON schema:\n"
)
"""What :func:`schema_in_prompt` says before the schema."""


def schema_in_prompt(messages: list[dict[str, Any]], schema: Mapping[str, Any]) -> list[dict[str, Any]]:
    """Wire ``messages`` with ``schema`` stated in the system prompt, for JSON answers on an API whose
    only JSON response format is ``json_object``. A new list; the given messages are left unchanged.

    The instruction goes after a leading system message's text, or in a new system message first.
    The system prompt, not the user's turn, because it is where GLM takes standing instructions, it
    stays the same from turn to turn (a cached prefix), and the user's words stay their own. The
    schema is written as compact JSON in its own key order: a model writes fields in the order it
    reads them.

    >>> schema = {"type": "object", "properties": {"a": {"type": "integer"}}}
    >>> messages = [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "Hi"}]
    >>> print(schema_in_prompt(messages, schema)[0]["content"])
    Be brief.
    <BLANKLINE>
    Answer with a single JSON object that conforms to the JSON schema below. Output only the JSON object: ...
    JSON schema:
    {"type": "object", "properties": {"a": {"type": "integer"}}}
    """
    instruction = SCHEMA_INSTRUCTION + json.dumps(schema, ensure_ascii=False)
    first = messages[0] if messages else {}
    if first.get("role") != "system":
        return [{"role": "system", "content": instruction}, *messages]
    content = first.get("content")
    if isinstance(content, list):
        content = [*content, {"type": "text", "text": "\n\n" + instruction}]
    else:
        content = f"{content}\n\n{instruction}" if content else instruction
    return [{**first, "content": content}, *messages[1:]]
