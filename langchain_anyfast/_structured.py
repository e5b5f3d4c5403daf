"""Parsing structured answers: tool-call arguments or JSON text, validated against the schema.

GLM documents only ``tool_choice="auto"``, so a forced tool call may come back as a text answer
instead; the parser then reads the JSON from the text (bare, or in a markdown fence) and raises a
clear :class:`~langchain_core.exceptions.OutputParserException` when there is none. It never
returns ``None`` for an answer it could not read.

Streamed, the parser yields the value growing as the arguments or the text arrive (partial JSON
completed, like ``ChatOpenAI``'s parsers), then the whole answer read and validated as above.
"""

from __future__ import annotations

import json
import types
from collections.abc import AsyncIterator, Iterator, Mapping
from typing import Any

from langchain_core.exceptions import OutputParserException
from langchain_core.messages import AIMessage, AIMessageChunk, BaseMessage, BaseMessageChunk
from langchain_core.output_parsers.transform import BaseCumulativeTransformOutputParser
from langchain_core.outputs import ChatGeneration, ChatGenerationChunk, Generation
from langchain_core.utils.json import parse_json_markdown
from pydantic import BaseModel, ConfigDict, ValidationError
from typing_extensions import is_typeddict

from anyfast_core.structured import json_from_text

SUPPORTED_SCHEMAS = (
    "a pydantic model class, a TypedDict class, or a JSON schema / OpenAI tool dict describing an object"
)


def object_json_schema(schema: Any) -> dict[str, Any]:
    """The JSON schema of a schema ``with_structured_output`` can give values of; a clear
    ``ValueError`` (before any request) for any other.

    >>> object_json_schema({"title": "Point", "type": "object", "properties": {"x": {"type": "number"}}})["title"]
    'Point'
    >>> try:
    ...     object_json_schema(int)
    ... except ValueError as exc:
    ...     print(str(exc)[:70])
    schema=<class 'int'> is not supported; allowed: a pydantic model class
    """
    from langchain_core.utils.function_calling import convert_to_json_schema

    if not (isinstance(schema, Mapping) or is_pydantic_class(schema) or is_typeddict(schema)):
        raise ValueError(f"schema={schema!r} is not supported; allowed: {SUPPORTED_SCHEMAS}")
    kind = schema.get("type", "object") if isinstance(schema, Mapping) else "object"
    if kind not in ("object", "function"):  # "function": an OpenAI tool dict
        raise ValueError(f"schema={schema!r} describes a {kind!r}, not an object; allowed: {SUPPORTED_SCHEMAS}")
    try:
        json_schema = convert_to_json_schema(schema)
    except (ValueError, TypeError) as exc:
        reason = " ".join(str(exc).split())
        raise ValueError(f"schema={schema!r} cannot be read ({reason}); allowed: {SUPPORTED_SCHEMAS}") from None
    if json_schema.get("type", "object") != "object":  # e.g. a pydantic RootModel of a list
        kind = json_schema["type"]
        raise ValueError(f"schema={schema!r} describes a {kind!r}, not an object; allowed: {SUPPORTED_SCHEMAS}")
    return json_schema


def parse_json_text(text: str) -> Any:
    """The JSON in a model's text (see :func:`anyfast_core.structured.json_from_text`), or an
    ``OutputParserException`` carrying the text when there is none."""
    try:
        return json_from_text(text)
    except ValueError as exc:
        raise OutputParserException(str(exc), llm_output=text) from None


def is_pydantic_class(schema: Any) -> bool:
    """Pydantic v2 or v1 model classes (validated on parse); other schemas give dicts."""
    # list[int] and other generic aliases: Python 3.10 counts them as types, yet issubclass() refuses them.
    if not isinstance(schema, type) or isinstance(schema, types.GenericAlias):
        return False
    if issubclass(schema, BaseModel):
        return True
    try:
        from pydantic import v1
    except ImportError:  # pragma: no cover - pydantic 2 always ships v1
        return False
    return issubclass(schema, v1.BaseModel)


class StructuredOutputParser(BaseCumulativeTransformOutputParser[Any]):
    """Turns a model answer into the schema's value.

    ``tool_name`` set (``function_calling``): the arguments of the call to that tool; a text answer
    instead is read as JSON. ``tool_name`` unset (``json_mode``/``json_schema``): the JSON in the text.
    ``target`` a pydantic class: the value is validated into it. A JSON schema (or TypedDict, given as
    its JSON schema): the value must be an object with the schema's required keys.

    Streamed, it yields each new partial value (for a pydantic class, only those that validate), then
    the whole answer's value when it differs from the last one, or the error when it cannot be read.
    """

    target: Any = None
    """The schema as given: values of a pydantic class are validated into it."""
    target_schema: dict[str, Any] | None = None
    """Its JSON schema, whose required keys a dict value must have."""
    tool_name: str | None = None

    model_config = ConfigDict(arbitrary_types_allowed=True)

    @property
    def _type(self) -> str:
        return "anyfast_structured_output"

    @property
    def OutputType(self) -> Any:
        return self.target if is_pydantic_class(self.target) else Any

    def parse(self, text: str) -> Any:
        return self.to_value(parse_json_text(text))

    def parse_result(self, result: list[Generation], *, partial: bool = False) -> Any:
        generation = result[0]
        message = generation.message if isinstance(generation, ChatGeneration) else AIMessage(generation.text)
        if partial:
            return self.partial(message)
        return self.to_value(self.extract(message))

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

    def partial(self, message: BaseMessage) -> Any:
        """The value so far of a message still arriving, or ``None`` while there is none to show."""
        value: Any = None
        if self.tool_name is not None and isinstance(message, AIMessage):
            value = next((c["args"] for c in message.tool_calls if c["name"] == self.tool_name), None)
        if value is None:
            text = message.text
            if not text.strip():
                return None
            try:
                value = parse_json_markdown(text)
            except (ValueError, TypeError):
                return None
        if not isinstance(value, dict) or not value:
            return None
        if is_pydantic_class(self.target):
            try:
                return self.to_value(value)
            except OutputParserException:
                return None
        return value

    def to_value(self, value: Any) -> Any:
        if is_pydantic_class(self.target):
            try:
                if issubclass(self.target, BaseModel):
                    return self.target.model_validate(value)
                return self.target.parse_obj(value)
            except (ValidationError, ValueError, TypeError) as exc:
                raise OutputParserException(
                    f"The model's answer does not match {self.target.__name__}: {exc}",
                    llm_output=json.dumps(value, ensure_ascii=False, default=str),
                ) from exc
        if self.target_schema is not None:
            if not isinstance(value, dict):
                raise OutputParserException(
                    f"Expected a JSON object, got {type(value).__name__}: {_clip(repr(value))}",
                    llm_output=json.dumps(value, ensure_ascii=False, default=str),
                )
            required = self.target_schema.get("required") or []
            missing = [key for key in required if key not in value]
            if missing:
                raise OutputParserException(
                    f"The model's answer lacks required keys {missing}: {_clip(repr(value))}",
                    llm_output=json.dumps(value, ensure_ascii=False, default=str),
                )
        return value

    def _transform(self, input: Iterator[str | BaseMessage]) -> Iterator[Any]:
        stream = _Cumulative(self)
        for chunk in input:
            if (value := stream.add(chunk)) is not _NOTHING:
                yield value
        if (value := stream.end()) is not _NOTHING:
            yield value

    async def _atransform(self, input: AsyncIterator[str | BaseMessage]) -> AsyncIterator[Any]:
        stream = _Cumulative(self)
        async for chunk in input:
            if (value := stream.add(chunk)) is not _NOTHING:
                yield value
        if (value := stream.end()) is not _NOTHING:
            yield value


_NOTHING = object()


class _Cumulative:
    """The I/O-free state of one streamed parse, shared by the sync and async twins: the message so
    far, and the last value shown (a value equal to it is not shown again)."""

    def __init__(self, parser: StructuredOutputParser) -> None:
        self.parser = parser
        self.message: BaseMessageChunk | None = None
        self.last: Any = _NOTHING

    def add(self, chunk: str | BaseMessage) -> Any:
        if isinstance(chunk, BaseMessageChunk):
            piece = chunk
        elif isinstance(chunk, BaseMessage):
            piece = AIMessageChunk(**{k: v for k, v in chunk.model_dump().items() if k != "type"})
        else:
            piece = AIMessageChunk(content=chunk)
        self.message = piece if self.message is None else self.message + piece
        return self._show(self.parser.parse_result([ChatGenerationChunk(message=self.message)], partial=True))

    def end(self) -> Any:
        if self.message is None:
            return _NOTHING
        return self._show(self.parser.parse_result([ChatGenerationChunk(message=self.message)]))

    def _show(self, value: Any) -> Any:
        if value is None or value == self.last:
            return _NOTHING
        self.last = value
        return value


def _clip(text: str, limit: int = 300) -> str:
    return text if len(text) <= limit else text[: limit - 3] + "..."
