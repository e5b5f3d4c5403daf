"""Building the wire request: the one policy both adapters send through, and the body both clients send.

An adapter renames its framework's terms (messages, tools, aliases) into the core's and calls
:func:`build_request` with its settings, its extra body and the call's arguments; the model's
settings are checked by :func:`check_settings` (the same rules, no messages needed) when it is made.
Pure functions, no I/O.

>>> built = build_request(
...     [{"role": "user", "content": "Hi"}],
...     settings={"model": "glm-5.2", "thinking": False, "stop": "END"},
...     call={"temperature": 0.2, "stream_usage": False},
...     stream=True,
... )
>>> chat_body(built.request, stream=True)  # doctest: +NORMALIZE_WHITESPACE
{'model': 'glm-5.2', 'messages': [{'role': 'user', 'content': 'Hi'}], 'thinking': {'type': 'disabled'},
 'temperature': 0.2, 'stream': True, 'stop': ['END'], 'stream_options': {'include_usage': True}}
>>> usage_wanted(built.request)  # the stream asks for usage anyway (see chat_body); the caller wants none shown
False
"""

from __future__ import annotations

import functools
import json
import warnings
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel

from anyfast_core.errors import InvalidParameterError
from anyfast_core.structured import schema_in_prompt
from anyfast_core.types import TOOL_CHOICE_MODES, ChatRequest, RequestParams

REQUEST_PARAMS = frozenset(ChatRequest.model_fields) - {"messages", "stream", "extra_body"}
"""The documented request fields a framework model takes as settings or call parameters; the
adapter sets the messages and ``extra_body`` itself, and the calling method decides ``stream``."""

CALL_OPTIONS = frozenset({"stream_usage", "parallel_tool_calls"})
"""Parameters that are no field of the API: what the caller wants done with the answer.
``stream_usage=False`` hides the usage of a stream; ``parallel_tool_calls=False`` keeps only the first
tool call of an answer (the API has no such switch)."""

PARAMETERS = REQUEST_PARAMS | CALL_OPTIONS
"""Every name a model's settings and a call's arguments may use, besides ``extra_body``."""

_CALL_NAMES = PARAMETERS | {"extra_body"}

CLIENT_SETTINGS = frozenset(
    {
        "api_key",
        "base_url",
        "api_base",
        "timeout",
        "request_timeout",
        "max_retries",
        "http_client",
        "http_async_client",
        "async_http_client",
        "default_headers",
        "stream_idle_timeout",
    }
)
"""How the adapters name the settings of the HTTP client: set on the model, never per call."""

STREAM_ONLY_FIELDS = ("stream_options", "tool_stream")
"""Fields that shape how a stream is delivered and mean nothing for a whole answer."""

NEAR_MISS = 0.8
"""How alike (difflib's ratio) an unknown name and a known one must be for the unknown one to count
as a typo of it: ``temprature``/``temperature`` 0.95, ``max_token``/``max_tokens`` 0.95, ``top_k``/``top_p``
0.8 (a typo or another provider's field: the error says how to send it anyway)."""


@dataclass(frozen=True)
class WireRequest:
    """A validated request, and whether only the first tool call of its answer is wanted
    (``parallel_tool_calls=False``: the API has no such switch, so it is applied to the answer)."""

    request: ChatRequest
    first_call_only: bool = False


def check_settings(settings: Mapping[str, Any], extra_body: Mapping[str, Any] | None = None) -> None:
    """Check a model's settings by the rules every request is built with (:func:`build_request`),
    raising :class:`InvalidParameterError`; no messages needed.

    >>> check_settings({"model": "glm-5.2", "temperature": 2})
    Traceback (most recent call last):
    ...
    anyfast_core.errors.InvalidParameterError: Invalid AnyFast request: temperature=2: ...
    """
    fields, extra, _ = _resolve(settings, extra_body, {})
    _prompted_schema(fields)
    RequestParams.create(**fields, extra_body=extra or None)


def build_request(
    messages: list[dict[str, Any]],
    *,
    settings: Mapping[str, Any],
    extra_body: Mapping[str, Any] | None = None,
    call: Mapping[str, Any] | None = None,
    stream: bool = False,
) -> WireRequest:
    """The one request path: a model's ``settings`` and ``extra_body`` with a call's arguments over
    them (``call`` may hold its own ``extra_body``, merged over the model's), validated, as the wire
    request.

    The policy, the same for both adapters:

    * ``settings`` and ``call`` use the documented request fields (:data:`REQUEST_PARAMS`) and
      :data:`CALL_OPTIONS`; a ``None`` value leaves the field unset (the server's default).
    * An unknown call argument raises, naming the field it is probably a typo of; fields the API
      does not document go in ``extra_body`` explicitly and are sent as given. Client settings
      (timeout, keys, ...) raise too: they are set on the model.
    * ``thinking`` takes ``True``/``False`` or GLM's object; ``stop`` a string or a list (sent as a
      list; an empty list sends none); a ``tool_choice`` string other than ``auto``/``none``/``required``
      names a tool.
    * ``response_format={"type": "json_schema", "json_schema": {"schema": ...}}``: the API knows only
      ``json_object``, so that is sent, with the schema stated in the system prompt
      (:func:`~anyfast_core.structured.schema_in_prompt`).
    * ``stream_usage`` is ``stream_options.include_usage``; the request keeps what the caller wants
      (:func:`usage_wanted`), while :func:`chat_body` asks the server for usage on every stream.
      ``tool_stream`` and ``stream_options`` are left out of a whole answer, which they do not shape.
    """
    fields, extra, options = _resolve(settings, extra_body, call or {})
    schema = _prompted_schema(fields)
    if schema is not None:
        messages = schema_in_prompt(messages, schema)
    request = ChatRequest.create(**fields, messages=messages, stream=stream, extra_body=extra or None)
    if not stream:  # checked above like any field, then left out: they do not shape a whole answer
        request.stream_options = request.tool_stream = None
    return WireRequest(request, options.get("parallel_tool_calls") is False)


def _resolve(
    settings: Mapping[str, Any], extra_body: Mapping[str, Any] | None, call: Mapping[str, Any]
) -> tuple[dict[str, Any], dict[str, Any], dict[str, Any]]:
    """The request fields, the extra body and the call options, the call's over the settings'."""
    strays = settings.keys() - PARAMETERS
    if strays:
        raise InvalidParameterError(
            f"{sorted(strays)}: not request parameters; allowed: {', '.join(sorted(PARAMETERS))}"
        )
    if call.keys() - _CALL_NAMES:
        check_call_arguments(call)
    call_extra = call.get("extra_body")
    if call_extra is not None and not isinstance(call_extra, Mapping):
        raise InvalidParameterError(f"extra_body={call_extra!r}: allowed: a dict of fields sent as given")
    merged = {**_usage_as_stream_options(settings), **_usage_as_stream_options(call)}
    merged.pop("extra_body", None)
    extra = {**extra_body, **call_extra} if extra_body and call_extra else dict(extra_body or call_extra or {})
    parallel = merged.pop("parallel_tool_calls", None)
    if parallel is not None and not isinstance(parallel, bool):
        raise InvalidParameterError(f"parallel_tool_calls={parallel!r}: allowed: True, False or None")
    fields = {name: value for name, value in merged.items() if value is not None}
    if "thinking" in fields:
        fields["thinking"] = thinking_param(fields["thinking"])
    if "stop" in fields:
        stop = fields["stop"] = stop_words(fields["stop"])
        if stop is None:
            del fields["stop"]
    choice = fields.get("tool_choice")
    if isinstance(choice, str):
        fields["tool_choice"] = tool_choice_on_wire(choice)
    return fields, extra, {"parallel_tool_calls": parallel}


def _usage_as_stream_options(params: Mapping[str, Any]) -> Mapping[str, Any]:
    # stream_usage is how LangChain users say stream_options.include_usage; turned into it per
    # source, a call's stream_usage overrides the model's stream_options (and the other way round).
    if "stream_usage" not in params:
        return params
    converted = dict(params)
    usage = converted.pop("stream_usage")
    if usage is not None:
        if not isinstance(usage, bool):
            raise InvalidParameterError(f"stream_usage={usage!r}: allowed: True or False")
        converted.setdefault("stream_options", {"include_usage": usage})
    return converted


def check_call_arguments(call: Mapping[str, Any]) -> None:
    """Raise :class:`InvalidParameterError` for a call argument that is neither a parameter
    (:data:`PARAMETERS`) nor ``extra_body``: a near miss names the field it resembles, a client
    setting says to set it on the model, anything else says to pass it in ``extra_body``.

    >>> check_call_arguments({"temprature": 0.2})
    Traceback (most recent call last):
    ...
    anyfast_core.errors.InvalidParameterError: temprature: unknown argument; did you mean 'temperature'? ...
    """
    for name in call:
        if name in _CALL_NAMES:
            continue
        if name in CLIENT_SETTINGS:
            raise InvalidParameterError(f"{name}: a client setting; set it on the model, not per call")
        near = near_miss(name, PARAMETERS)
        guess = f"did you mean {near!r}? " if near else ""
        raise InvalidParameterError(
            f"{name}: unknown argument; {guess}fields the API does not document are sent as given only in "
            f"extra_body={{{name!r}: ...}}; allowed arguments: {', '.join(sorted(PARAMETERS))}, extra_body"
        )


def near_miss(name: str, known: Collection[str]) -> str | None:
    """The known name ``name`` is most likely a typo of (see :data:`NEAR_MISS`), if any.

    >>> near_miss("temprature", ["temperature", "top_p"])
    'temperature'
    >>> near_miss("seed", ["temperature", "top_p"]) is None
    True
    """
    import difflib  # only on the way to an error: not worth its import for every model

    matches = difflib.get_close_matches(name, [k for k in known if k != name], n=1, cutoff=NEAR_MISS)
    return matches[0] if matches else None


def with_unknown_settings_moved(values: Any, known: Collection[str], *, owner: str, bag: str) -> Any:
    """A framework model's constructor arguments with those that are no field of ``owner`` moved into
    its ``bag`` setting, by the rules of :func:`unknown_settings`; anything but a dict as given. For
    both adapters' "before" validators.

    >>> with_unknown_settings_moved({"model": "glm-5.2", "tool_stream": True}, ["model", "model_kwargs"],
    ...                             owner="ChatAnyFast", bag="model_kwargs")
    {'model': 'glm-5.2', 'model_kwargs': {'tool_stream': True}}
    """
    if not isinstance(values, dict):
        return values
    unknown = {name: value for name, value in values.items() if name not in known}
    if not unknown:
        return values
    moved = unknown_settings(
        unknown, known, owner=owner, bag=bag, stacklevel=6
    )  # the user's line, past the framework's __init__ and pydantic
    kept = {name: value for name, value in values.items() if name in known}
    return {**kept, bag: {**moved, **(values.get(bag) or {})}}


def unknown_settings(
    unknown: Mapping[str, Any], known: Collection[str], *, owner: str, bag: str, stacklevel: int = 2
) -> dict[str, Any]:
    """What to do with constructor arguments that are no field of ``owner``: a near miss of a known
    name (a field of ``owner`` or a request parameter) raises with a "did you mean"; a documented
    request parameter is returned to go in ``bag`` (the adapter's request-fields setting, where it is
    validated); anything else is returned too, with a warning, to be sent in the body as given (as
    ``ChatOpenAI`` does with ``model_kwargs``). Nothing is dropped.

    >>> unknown_settings({"temprature": 0.3}, ["temperature"], owner="ChatAnyFast", bag="model_kwargs")
    Traceback (most recent call last):
    ...
    anyfast_core.errors.InvalidParameterError: ChatAnyFast(temprature=...): unknown argument; did you mean ...
    """
    moved: dict[str, Any] = {}
    for name, value in unknown.items():
        if name not in PARAMETERS:
            near = near_miss(name, {*known, *PARAMETERS})
            if near is not None:
                raise InvalidParameterError(
                    f"{owner}({name}=...): unknown argument; did you mean {near!r}? To send {name!r} to the API "
                    f"as given, pass {bag}={{{name!r}: ...}}."
                )
        moved[name] = value
    undocumented = sorted(name for name in moved if name not in PARAMETERS)
    if undocumented:
        warnings.warn(
            f"{owner}: {undocumented} are not parameters of {owner}; they were moved to {bag} and are sent in "
            f"the request body as given. Pass them in {bag}={{...}} to say so and silence this warning.",
            UserWarning,
            stacklevel=stacklevel,
        )
    return moved


def stop_words(stop: Any) -> Any:
    """Stop words as the list the API is sent: a string as a one-word list, a list or tuple as a
    list, an empty one as ``None`` (no stop words); anything else as given, for the request check
    to refuse.

    >>> stop_words("END"), stop_words(("a", "b")), stop_words([])
    (['END'], ['a', 'b'], None)
    """
    if isinstance(stop, str):
        return [stop]
    if isinstance(stop, (list, tuple)):
        return list(stop) or None
    return stop


def _prompted_schema(fields: dict[str, Any]) -> Mapping[str, Any] | None:
    """The schema of a ``json_schema`` response format, which becomes ``json_object`` in ``fields``."""
    response_format = fields.get("response_format")
    if not (isinstance(response_format, Mapping) and response_format.get("type") == "json_schema"):
        return None
    fields["response_format"] = {"type": "json_object"}
    spec = response_format.get("json_schema")
    schema = spec.get("schema", spec) if isinstance(spec, Mapping) else spec
    if not isinstance(schema, Mapping) or not schema:
        raise InvalidParameterError(
            f"response_format.json_schema={spec!r}: allowed: {{'name': str, 'schema': {{...a JSON schema...}}}}"
        )
    return schema


def chat_body(request: ChatRequest, stream: bool) -> dict[str, Any]:
    """The JSON body for ``request``, sent as a stream or not (the calling method decides, whatever
    ``request.stream`` says, so one request can serve both).

    A whole answer omits ``tool_stream`` and ``stream_options``: its tool calls arrive whole and its
    usage always comes, so leaving them out changes nothing the caller gets, while OpenAI-style
    servers reject ``stream_options`` without ``stream``. A stream always asks for usage, whatever
    the request says (:func:`usage_wanted` keeps that): a gateway asked not to may drop the upstream's
    last chunk, and the finish reason with it.
    """
    body = request.to_body()
    body["stream"] = stream
    if stream:
        body["stream_options"] = {"include_usage": True}
    else:
        for name in STREAM_ONLY_FIELDS:
            body.pop(name, None)
    return body


def usage_wanted(request: ChatRequest) -> bool:
    """Whether the caller wants a stream's token usage shown (``stream_options.include_usage``, true
    unless said otherwise); the server is asked for it in any case (see :func:`chat_body`)."""
    return request.stream_options is None or request.stream_options.include_usage


def model_settings(
    model: BaseModel, more: Mapping[str, Any], extra_body: Mapping[str, Any] | None = None
) -> tuple[dict[str, Any], dict[str, Any]]:
    """A framework model's settings and extra body in the core's terms, for :func:`build_request` and
    :func:`check_settings`: its fields named like a parameter (:data:`PARAMETERS`), with the parameters
    among ``more`` (its bag of more request fields) over them; the rest of ``more`` goes in the extra
    body, over ``extra_body``.

    >>> from pydantic import BaseModel
    >>> class Model(BaseModel):
    ...     model: str = "glm-5.2"
    ...     temperature: float | None = None
    ...     verbose: bool = False
    >>> model_settings(Model(), {"temperature": 0.5, "top_k": 3})
    ({'model': 'glm-5.2', 'temperature': 0.5}, {'top_k': 3})
    """
    settings = {name: getattr(model, name) for name in _parameter_fields(type(model))}
    extra = dict(extra_body or {})
    for key, value in more.items():
        (settings if key in PARAMETERS else extra)[key] = value
    return settings, extra


@functools.cache
def _parameter_fields(cls: type[BaseModel]) -> tuple[str, ...]:
    return tuple(name for name in cls.model_fields if name in PARAMETERS)


def tool_choice_on_wire(choice: str) -> str | dict[str, Any]:
    """A ``tool_choice`` string as the API takes it: ``auto``, ``none`` and ``required`` as they are,
    any other string as the name of the tool to call.

    >>> tool_choice_on_wire("search")
    {'type': 'function', 'function': {'name': 'search'}}
    """
    return choice if choice in TOOL_CHOICE_MODES else {"type": "function", "function": {"name": choice}}


def thinking_param(thinking: bool | Mapping[str, Any] | None) -> dict[str, Any] | None:
    """GLM's ``thinking`` field from what users write: ``True``/``False`` as
    ``{"type": "enabled"|"disabled"}``, a mapping as given (copied), ``None`` as ``None`` (the
    server's default). Anything else raises, since truthiness would take ``"no"`` for on.

    >>> thinking_param(True)
    {'type': 'enabled'}
    >>> thinking_param(False)
    {'type': 'disabled'}
    >>> thinking_param({"type": "enabled", "clear_thinking": False})
    {'type': 'enabled', 'clear_thinking': False}
    """
    if thinking is None:
        return None
    if isinstance(thinking, bool):
        return {"type": "enabled" if thinking else "disabled"}
    if isinstance(thinking, Mapping):
        return dict(thinking)
    raise InvalidParameterError(
        f"thinking={thinking!r}: allowed: True, False, or {{'type': 'enabled'|'disabled', 'clear_thinking': bool}}"
    )


def wire_tool_call(call_id: str | None, name: str, arguments: str | dict[str, Any]) -> dict[str, Any]:
    """An assistant's tool call as it goes back on the wire. Text arguments stay verbatim (they are
    what the model wrote); a dict becomes JSON text, non-ASCII kept as is.

    >>> wire_tool_call("call_1", "weather", {"city": "Zürich"})
    {'id': 'call_1', 'type': 'function', 'function': {'name': 'weather', 'arguments': '{"city": "Zürich"}'}}
    """
    text = arguments if isinstance(arguments, str) else json.dumps(arguments, ensure_ascii=False)
    return {"id": call_id or "", "type": "function", "function": {"name": name, "arguments": text}}


def encode_json(body: Any) -> bytes:
    """Compact JSON bytes, keys in insertion order (so bodies are stable for cassettes)."""
    try:
        return json.dumps(body, ensure_ascii=False, separators=(",", ":"), allow_nan=False).encode()
    except (TypeError, ValueError) as exc:
        raise InvalidParameterError(f"The request body is not JSON-serialisable: {exc}") from None
