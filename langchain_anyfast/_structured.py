"""Parsing structured answers: tool-call arguments or JSON text, validated against the schema.

GLM documents only ``tool_choice="auto"``, so a forced tool call may come back as a text answer
instead; the parser then reads the JSON from the text (bare, or in a markdown fence) and raises a
clear :class:`~langchain_core.exceptions.OutputParserException` when there is none. It never
returns ``None`` for an answer it could not read.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from langchain_core.exceptions import OutputParserException
from langchain_core.messages import AIMessage, BaseMessage
from pydantic import BaseModel, ValidationError

from anyfast_core.structured import json_from_text


def parse_json_text(text: str) -> Any:
    """The JSON in a model's text (see :func:`anyfast_core.structured.json_from_text`), or an
    ``OutputParserException`` carrying the text when there is none."""
    try:
        return json_from_text(text)
    except ValueError as exc:
        raise OutputParserException(str(exc), llm_output=text) from None


def is_pydantic_class(schema: Any) -> bool:
    """Pydantic v2 or v1 model classes (validated on parse); other schemas give dicts."""
    if not isinstance(schema, type):
        return False
    if issubclass(schema, BaseModel):
        return True
    try:
        from pydantic import v1
    except ImportError:  # pragma: no cover - pydantic 2 always ships v1
        return False
    return issubclass(schema, v1.BaseModel)


class StructuredOutputParser:
    """Turns a model answer into the schema's value.

    ``tool_name`` set (``function_calling``): the arguments of the call to that tool; a text answer
    instead is read as JSON. ``tool_name`` unset (``json_mode``/``json_schema``): the JSON in the text.
    ``schema`` a pydantic class: the value is validated into it. A JSON schema (or TypedDict, given as
    its JSON schema): the value must be an object with the schema's required keys.
    """

    def __init__(self, schema: Any, json_schema: Mapping[str, Any] | None, tool_name: str | None = None) -> None:
        self.schema = schema
        self.json_schema = json_schema
        self.tool_name = tool_name

    def __call__(self, message: BaseMessage) -> Any:
        return self.validate(self.extract(message))

    def extract(self, message: BaseMessage) -> Any:
        text = message.text
        if self.tool_name is not None and isinstance(message, AIMessage):
            for call in message.tool_calls:
                if call["name"] == self.tool_name:
                    return call["args"]
            for invalid in message.invalid_tool_calls:
                if invalid.get("name") == self.tool_name:
                    raise OutputParserException(
                        f"The model called {self.tool_name!r} with arguments that are not a JSON object: "
                        f"{_clip(invalid.get('args') or '')!r}",
                        llm_output=invalid.get("args") or "",
                    )
            if not text.strip():
                called = [call["name"] for call in message.tool_calls]
                raise OutputParserException(
                    f"The model neither called {self.tool_name!r} nor answered with JSON"
                    + (f" (it called {called})" if called else "")
                    + ".",
                    llm_output=text,
                )
        return parse_json_text(text)

    def validate(self, value: Any) -> Any:
        if is_pydantic_class(self.schema):
            try:
                if issubclass(self.schema, BaseModel):
                    return self.schema.model_validate(value)
                return self.schema.parse_obj(value)
            except (ValidationError, ValueError, TypeError) as exc:
                raise OutputParserException(
                    f"The model's answer does not match {self.schema.__name__}: {exc}",
                    llm_output=json.dumps(value, ensure_ascii=False, default=str),
                ) from exc
        if self.json_schema is not None:
            if not isinstance(value, dict):
                raise OutputParserException(
                    f"Expected a JSON object, got {type(value).__name__}: {_clip(repr(value))}",
                    llm_output=json.dumps(value, ensure_ascii=False, default=str),
                )
            required = self.json_schema.get("required") or []
            missing = [key for key in required if key not in value]
            if missing:
                raise OutputParserException(
                    f"The model's answer lacks required keys {missing}: {_clip(repr(value))}",
                    llm_output=json.dumps(value, ensure_ascii=False, default=str),
                )
        return value


def _clip(text: str, limit: int = 300) -> str:
    return text if len(text) <= limit else text[: limit - 3] + "..."
