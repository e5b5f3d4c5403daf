"""Wire models: the request with its documented ranges, and tolerant response models.

The request is validated once, before anything is sent; every violation becomes an
:class:`~anyfast_core.errors.InvalidParameterError` naming the field, the value and what is allowed.
Responses are parsed leniently: unknown fields are kept, optional fields may be missing, and finish
reasons are plain strings so new ones pass through.
"""

from __future__ import annotations

import inspect
import json
from typing import Annotated, Any, Literal, get_args

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator
from typing_extensions import Self

from anyfast_core.errors import InvalidParameterError
from anyfast_core.model_facts import MAX_OUTPUT_TOKENS

ReasoningEffort = Literal["max", "xhigh", "high", "medium", "low", "minimal", "none"]
REASONING_EFFORTS: tuple[str, ...] = get_args(ReasoningEffort)
MAX_TOKENS_LIMIT = MAX_OUTPUT_TOKENS
MAX_TOOLS = 128
"""The most function tools one request may carry upstream."""
TEXT_ONLY = "GLM-5.2 on AnyFast takes text in and gives text out, so only text parts are allowed"
MESSAGE_ROLES = frozenset({"system", "user", "assistant", "tool"})
TOOL_CHOICE_MODES = ("auto", "none", "required")

# What each constrained field allows, quoted in every error message about it.
ALLOWED: dict[str, str] = {
    "model": "a non-empty model id such as 'glm-5.2'",
    "messages": "a non-empty list of {'role': 'system'|'user'|'assistant'|'tool', ...} dicts",
    "thinking": "{'type': 'enabled'|'disabled', 'clear_thinking': bool}",
    "reasoning_effort": "one of " + ", ".join(REASONING_EFFORTS),
    "max_tokens": f"an integer with 1 <= max_tokens <= {MAX_TOKENS_LIMIT}",
    "temperature": "a finite number with 0 <= temperature <= 1",
    "top_p": "a finite number with 0.01 <= top_p <= 1",
    "stream": "a bool",
    "tools": (
        f"at most {MAX_TOOLS} of {{'type': 'function', 'function': {{'name', 'description', 'parameters'}}}}, "
        "names unique, parameters an object schema"
    ),
    "tool_choice": "'auto', 'none', 'required' or {'type': 'function', 'function': {'name': ...}}",
    "response_format": "{'type': 'text'} or {'type': 'json_object'} (AnyFast has no json_schema)",
    "stop": "a non-empty string or a list of non-empty strings",
    "tool_stream": "a bool (it shapes streams; a whole answer has whole tool calls anyway)",
    "stream_options": "{'include_usage': bool}",
}


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True, defer_build=True)


class Thinking(_Strict):
    """``{"type": "enabled"|"disabled", "clear_thinking": bool}``; ``clear_thinking=False`` preserves thinking."""

    type: Literal["enabled", "disabled"] = "enabled"
    clear_thinking: bool | None = None


class FunctionDefinition(BaseModel):
    model_config = ConfigDict(extra="allow", strict=True, defer_build=True)

    name: Annotated[str, Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.\-]+$")]
    description: str | None = None
    parameters: dict[str, Any] | None = None

    @field_validator("description")
    @classmethod
    def _clean_description(cls, value: str | None) -> str | None:
        # Python 3.13 strips the indentation of docstrings when it compiles them; older Pythons keep it.
        # Descriptions mostly come from docstrings, so cleaning them as inspect.cleandoc does (what 3.13
        # does, plus blank edges) sends the same body on every Python.
        return None if value is None else inspect.cleandoc(value)

    @field_validator("parameters")
    @classmethod
    def _object_schema(cls, value: dict[str, Any] | None) -> dict[str, Any] | None:
        # The model answers a call with one JSON object of arguments, so the schema must describe one.
        if value is not None:
            if value.get("type") != "object":
                raise ValueError(
                    f"the parameters schema has type={value.get('type')!r}; allowed: a JSON schema with "
                    "type 'object' (the arguments object), e.g. {'type': 'object', 'properties': {...}}"
                )
            try:
                json.dumps(value, allow_nan=False)
            except (TypeError, ValueError) as exc:
                raise ValueError(f"the parameters schema is not JSON-serialisable ({exc})") from None
        return value


class Tool(BaseModel):
    """A function tool; other tool types (e.g. MCP) pass through with their own fields."""

    model_config = ConfigDict(extra="allow", strict=True, defer_build=True)

    type: str = "function"
    function: FunctionDefinition | None = None

    @model_validator(mode="after")
    def _function_needs_definition(self) -> Tool:
        if self.type == "function" and self.function is None:
            raise ValueError("a 'function' tool needs a 'function' definition")
        return self


class _ToolChoiceFunction(_Strict):
    name: Annotated[str, Field(min_length=1)]


class NamedToolChoice(_Strict):
    type: Literal["function"] = "function"
    function: _ToolChoiceFunction


class ResponseFormat(_Strict):
    type: Literal["text", "json_object"]


class StreamOptions(_Strict):
    include_usage: bool = True


class RequestParams(BaseModel):
    """The documented request fields other than the messages: what a model's settings and a call's
    arguments may set. Validated on their own (a model's settings at construction, before there are
    messages) by the same rules as a whole :class:`ChatRequest`.
    """

    model_config = ConfigDict(extra="forbid", defer_build=True)

    model: Annotated[str, Field(min_length=1, strict=True)]
    thinking: Thinking | None = None
    reasoning_effort: ReasoningEffort | None = None
    max_tokens: Annotated[int, Field(ge=1, le=MAX_TOKENS_LIMIT, strict=True)] | None = None
    temperature: Annotated[float, Field(ge=0, le=1, allow_inf_nan=False)] | None = None
    top_p: Annotated[float, Field(ge=0.01, le=1, allow_inf_nan=False)] | None = None
    stream: Annotated[bool, Field(strict=True)] | None = None
    tools: Annotated[list[Tool], Field(max_length=MAX_TOOLS)] | None = None
    tool_choice: Literal["auto", "none", "required"] | NamedToolChoice | None = None
    response_format: ResponseFormat | None = None
    stop: str | list[str] | None = None
    tool_stream: Annotated[bool, Field(strict=True)] | None = None
    stream_options: StreamOptions | None = None
    extra_body: dict[str, Any] | None = None

    @field_validator("temperature", "top_p", mode="before")
    @classmethod
    def _number_not_bool(cls, value: Any) -> Any:
        if isinstance(value, bool) or (value is not None and not isinstance(value, (int, float))):
            raise ValueError("Input should be a number")
        return value

    @field_validator("stop", mode="before")
    @classmethod
    def _check_stop(cls, value: Any) -> Any:
        # One clear message instead of one per member of the str | list union.
        words = [value] if isinstance(value, str) else value
        if value is not None and not (
            isinstance(words, list) and words and all(isinstance(w, str) and w for w in words)
        ):
            raise ValueError("not a non-empty string or a non-empty list of non-empty strings")
        return value

    @field_validator("response_format", mode="before")
    @classmethod
    def _no_json_schema(cls, value: Any) -> Any:
        if isinstance(value, dict) and value.get("type") == "json_schema":
            raise ValueError(
                "response_format type 'json_schema' is not supported by AnyFast; use {'type': 'json_object'} "
                "and describe the schema in the prompt (the adapters' structured output does this for you)"
            )
        return value

    @field_validator("tools")
    @classmethod
    def _unique_tool_names(cls, tools: list[Tool] | None) -> list[Tool] | None:
        names = [tool.function.name for tool in tools or () if tool.function is not None]
        repeated = sorted({name for name in names if names.count(name) > 1})
        if repeated:
            raise _FieldError("tools", repeated, "tool names must be unique; each name is given more than once")
        return tools

    @model_validator(mode="after")
    def _cross_field(self) -> Self:
        if self.tool_choice is not None and self.tool_choice != "none" and not self.tools:
            shown = self.tool_choice if isinstance(self.tool_choice, str) else self.tool_choice.model_dump()
            raise _FieldError("tool_choice", shown, "a tool_choice needs tools to choose from; pass tools=[...]")
        if isinstance(self.tool_choice, NamedToolChoice) and self.tools:
            wanted = self.tool_choice.function.name
            names = [t.function.name for t in self.tools if t.function is not None]
            if wanted not in names:
                raise _FieldError("tool_choice", wanted, f"names no bound tool; bound tools: {names}")
        if self.extra_body:
            clash = sorted(set(self.extra_body) & (set(type(self).model_fields) | {"messages"}))
            if clash:
                raise _FieldError("extra_body", clash, "sets documented fields; pass them as parameters instead")
        return self

    @classmethod
    def create(cls, **fields: Any) -> Self:
        """Validate ``fields``, raising :class:`InvalidParameterError` on any violation."""
        try:
            return cls(**fields)
        except ValidationError as exc:
            raise invalid_parameter_error(exc) from None


class ChatRequest(RequestParams):
    """One ``POST /chat/completions`` body. Documented fields are typed and range-checked; anything
    else goes in ``extra_body`` and is sent as given, merged at the top level.

    Build it with :meth:`create`, which turns validation failures into clear ``ValueError``\\ s::

        request = ChatRequest.create(model="glm-5.2", messages=[{"role": "user", "content": "Hi"}])
    """

    messages: Annotated[list[dict[str, Any]], Field(min_length=1)]

    @field_validator("messages")
    @classmethod
    def _check_messages(cls, messages: list[dict[str, Any]]) -> list[dict[str, Any]]:
        check_conversation(messages)
        return messages

    def to_body(self) -> dict[str, Any]:
        """The JSON body: the model, the messages, the other documented fields that are set (in
        declaration order), then ``extra_body``."""
        body = self.model_dump(exclude_none=True, exclude={"extra_body"})
        body = {"model": body.pop("model"), "messages": body.pop("messages"), **body}
        if self.extra_body:
            body.update(self.extra_body)
        return body


class _FieldError(ValueError):
    def __init__(self, field: str, value: Any, reason: str) -> None:
        super().__init__(reason)
        self.field, self.value, self.reason = field, value, reason


def check_conversation(messages: list[Any]) -> None:
    """Check each message (see :func:`check_message`) and that every tool result answers a tool call
    made by an earlier assistant message, so a broken history fails here rather than at the server.
    """
    called: set[Any] = set()
    for i, message in enumerate(messages):
        check_message(message, i)
        if message.get("role") == "assistant":
            called.update(call.get("id") for call in message.get("tool_calls") or ())
        elif message.get("role") == "tool" and message["tool_call_id"] not in called:
            raise _FieldError(
                f"messages[{i}].tool_call_id",
                message["tool_call_id"],
                "a tool result must answer a tool call of an earlier assistant message; "
                f"earlier calls: {sorted(str(c) for c in called) or 'none'}",
            )


def check_message(message: Any, index: int = 0) -> None:
    """Check the shape of one wire message: a role the API knows and the keys that role needs.

    Raises ``ValueError`` naming the message (``messages[i]``) and what is wrong with it.
    """
    where = f"messages[{index}]"
    if not isinstance(message, dict):
        raise _FieldError(where, message, "each message must be a dict with 'role' and 'content'")
    role = message.get("role")
    if role not in MESSAGE_ROLES:
        raise _FieldError(f"{where}.role", role, f"allowed roles: {', '.join(sorted(MESSAGE_ROLES))}")
    content = message.get("content")
    if content is not None and not isinstance(content, (str, list)):
        raise _FieldError(f"{where}.content", content, "allowed: a string or a list of content parts")
    if isinstance(content, list):
        _check_parts(content, where)
    if role == "tool" and not isinstance(message.get("tool_call_id"), str):
        raise _FieldError(
            f"{where}.tool_call_id", message.get("tool_call_id"), "a tool message needs the id of the call it answers"
        )
    if content is None and role != "assistant":
        raise _FieldError(f"{where}.content", None, f"a {role} message needs content")
    tool_calls = message.get("tool_calls")
    if role == "assistant" and tool_calls is not None:
        _check_tool_calls(tool_calls, where)
    if role == "assistant" and content is None and not tool_calls:
        raise _FieldError(f"{where}.content", None, "an assistant message needs content or tool_calls")


def _check_parts(parts: list[Any], where: str) -> None:
    for j, part in enumerate(parts):
        kind = part.get("type") if isinstance(part, dict) else None
        if kind == "text" and isinstance(part.get("text"), str):
            continue
        if isinstance(kind, str) and kind != "text":
            raise _FieldError(f"{where}.content[{j}].type", kind, f"a {kind!r} part: {TEXT_ONLY}")
        raise _FieldError(f"{where}.content[{j}]", part, "allowed: {'type': 'text', 'text': str}")


def _check_tool_calls(tool_calls: Any, where: str) -> None:
    if not isinstance(tool_calls, list):
        raise _FieldError(f"{where}.tool_calls", tool_calls, "allowed: a list of tool calls")
    for j, call in enumerate(tool_calls):
        function = call.get("function") if isinstance(call, dict) else None
        if not (
            isinstance(function, dict)
            and isinstance(call.get("id"), str)
            and isinstance(function.get("name"), str)
            and isinstance(function.get("arguments"), str)
        ):
            raise _FieldError(
                f"{where}.tool_calls[{j}]",
                call,
                "allowed: {'id': str, 'type': 'function', 'function': {'name': str, 'arguments': JSON string}}",
            )


def invalid_parameter_error(exc: ValidationError) -> InvalidParameterError:
    """One readable error for all of a request's violations: field, value given, what is allowed."""
    lines = []
    for err in exc.errors(include_url=False):
        loc = err.get("loc", ())
        field = str(loc[0]) if loc else "request"
        ctx_error = err.get("ctx", {}).get("error")
        if isinstance(ctx_error, _FieldError):
            lines.append(f"{ctx_error.field}={_short_repr(ctx_error.value)}: {ctx_error.reason}")
            continue
        path = ".".join(str(p) for p in loc) or "request"
        value = err.get("input")
        allowed = ALLOWED.get(field)
        if err["type"] == "extra_forbidden":
            lines.append(f"{path}: unknown field; pass provider-specific fields in extra_body")
            continue
        message = str(err.get("msg", "invalid")).removeprefix("Value error, ")
        shown = _short_repr(value)
        lines.append(f"{path}={shown}: {message}" + (f"; allowed: {allowed}" if allowed else ""))
    return InvalidParameterError("Invalid AnyFast request: " + " | ".join(dict.fromkeys(lines)))


def _short_repr(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 120 else text[:117] + "..."


# --------------------------------------------------------------------------- responses


class _Lenient(BaseModel):
    model_config = ConfigDict(extra="allow", defer_build=True)


class FunctionCall(_Lenient):
    name: str = ""
    arguments: str = ""

    @field_validator("arguments", mode="before")
    @classmethod
    def _arguments_as_text(cls, value: Any) -> Any:
        # Some gateways send arguments as an object rather than a JSON string.
        if value is None:
            return ""
        return value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)


class ToolCall(_Lenient):
    id: str = ""
    type: str = "function"
    index: int | None = None
    function: FunctionCall = Field(default_factory=FunctionCall)


class ResponseMessage(_Lenient):
    role: str = "assistant"
    content: str | None = None
    reasoning_content: str | None = None
    tool_calls: list[ToolCall] | None = None


class Choice(_Lenient):
    index: int = 0
    message: ResponseMessage = Field(default_factory=ResponseMessage)
    finish_reason: str | None = None


class PromptTokensDetails(_Lenient):
    cached_tokens: int | None = None


class CompletionTokensDetails(_Lenient):
    reasoning_tokens: int | None = None


class Usage(_Lenient):
    """Token counts; ``completion_tokens`` includes reasoning tokens."""

    prompt_tokens: int = 0
    completion_tokens: int = 0
    total_tokens: int = 0
    prompt_tokens_details: PromptTokensDetails | None = None
    completion_tokens_details: CompletionTokensDetails | None = None

    @property
    def cached_tokens(self) -> int | None:
        details = self.prompt_tokens_details
        return details.cached_tokens if details is not None else None

    @property
    def reasoning_tokens(self) -> int | None:
        details = self.completion_tokens_details
        return details.reasoning_tokens if details is not None else None


class ChatCompletion(_Lenient):
    """A whole answer, parsed from a non-streaming response or folded from a stream."""

    id: str = ""
    object: str | None = None
    created: int | None = None
    model: str | None = None
    choices: list[Choice] = Field(default_factory=list)
    usage: Usage | None = None
    request_id: str | None = None

    @property
    def message(self) -> ResponseMessage:
        """The first choice's message (the API returns one choice)."""
        return self.choices[0].message if self.choices else ResponseMessage()

    @property
    def finish_reason(self) -> str | None:
        return self.choices[0].finish_reason if self.choices else None


class ModelInfo(_Lenient):
    id: str
    object: str | None = "model"
    created: int | None = None
    owned_by: str | None = None
