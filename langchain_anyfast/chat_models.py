"""``ChatAnyFast``: GLM-5.2 on AnyFast as a LangChain chat model."""

from __future__ import annotations

import inspect
from collections.abc import AsyncIterator, Callable, Iterator, Mapping, Sequence
from operator import itemgetter
from typing import TYPE_CHECKING, Any, Literal, TypeVar

from langchain_core.language_models import LanguageModelInput
from langchain_core.language_models.base import LangSmithParams
from langchain_core.language_models.chat_models import BaseChatModel
from langchain_core.language_models.model_profile import ModelProfile
from langchain_core.messages import AIMessage, BaseMessage
from langchain_core.outputs import ChatGeneration, ChatGenerationChunk, ChatResult
from langchain_core.runnables import Runnable
from langchain_core.utils import from_env, secret_from_env
from pydantic import AliasChoices, ConfigDict, Field, PrivateAttr, SecretStr, field_validator, model_validator
from typing_extensions import Self

from anyfast_core import (
    API_KEY_ENV,
    BASE_URL_ENV,
    DEFAULT_MODEL,
    AnyFastError,
    ChatCompletion,
    ClientPair,
)
from anyfast_core.request import (
    WireRequest,
    build_request,
    check_settings,
    model_settings,
    thinking_param,
    with_unknown_settings_moved,
)
from anyfast_core.retry import RetryPolicy
from anyfast_core.settings import (
    DEFAULT_STREAM_IDLE_TIMEOUT,
    AsyncHTTPClientSetting,
    HTTPClientSetting,
    TimeoutSetting,
    check_http_client,
    check_stream_idle_timeout,
    check_timeout,
    resolve_base_url,
)
from anyfast_core.tokens import estimate_messages_tokens, estimate_text_tokens
from anyfast_core.types import ReasoningEffort
from langchain_anyfast import _blocks  # noqa: F401  (registers the "anyfast" content-block translator)
from langchain_anyfast._convert import (
    chunk_from_wire,
    last_chunk_from_wire,
    message_from_wire,
    messages_to_wire,
    tool_choice_to_wire,
)
from langchain_anyfast._errors import to_langchain_error
from langchain_anyfast._profiles import model_profile

if TYPE_CHECKING:
    # Only for annotations: the clients (and httpx) load with the first request, not with the model.
    from langchain_core.callbacks import AsyncCallbackManagerForLLMRun, CallbackManagerForLLMRun

    from anyfast_core import AnyFastClient, AsyncAnyFastClient

_LANGCHAIN_CALL_ARGUMENTS = frozenset({"stream", "ls_structured_output_format", "structured_output_format"})
"""Call arguments LangChain passes for itself (the method called decides the stream; the others are
for tracing), none of them a request field."""

_Method = TypeVar("_Method", bound=Callable[..., Any])


def _signature_kept(method: _Method) -> _Method:
    """``method`` with its signature stored on it as ``__signature__``, which ``inspect.signature``
    returns as it is (the documented protocol). langchain-core reads the signature of ``_generate`` and
    ``_agenerate`` on every call to see whether they take ``run_manager``: rebuilt from the code each
    time, that cost about 30 µs of a 1 ms call (``benchmarks/README.md``). Computed from the method
    itself when the class is made, it cannot go stale."""
    method.__signature__ = inspect.signature(method)  # type: ignore[attr-defined]
    return method


class ChatAnyFast(BaseChatModel):
    r"""GLM-5.2 (and any other model AnyFast serves) through AnyFast's OpenAI-compatible chat API.

    Setup:
        Install the package and set your key:

        ```bash
        pip install "anyfast-glm[langchain]"
        export ANYFAST_API_KEY="your-key"
        ```

    Key init args — completion params:
        model: str
            Model id, default ``"glm-5.2"`` (alias ``model_name``).
        thinking: bool | dict
            ``True``/``False`` switch reasoning on or off; a dict such as
            ``{"type": "enabled", "clear_thinking": False}`` enables preserved thinking.
        reasoning_effort: str
            ``"max"`` (server default), ``"xhigh"``, ``"high"``, ``"medium"``, ``"low"``, ``"minimal"``, ``"none"``.
        max_tokens: int
            Output cap, 1..131072, reasoning included. Sent as ``max_tokens``.
        temperature: float
            0..1.
        top_p: float
            0.01..1.
        stop: list[str]
            Stop sequences (alias ``stop_sequences``).
        stream_usage: bool
            Token usage on the last streamed chunk (default ``True``).

        An unknown argument that looks like a typo of a known one raises ("did you mean ...");
        any other is moved to ``model_kwargs`` with a warning and sent as given. Per call, an
        unknown argument raises: pass fields the API does not document as ``extra_body={...}``.

    Key init args — client params:
        api_key: SecretStr
            Defaults to ``ANYFAST_API_KEY``.
        base_url: str
            Defaults to ``ANYFAST_BASE_URL``, else ``https://www.anyfast.ai/v1``.
        timeout: float | httpx.Timeout
            Read timeout in seconds (GLM may think for minutes; default 600).
        stream_idle_timeout: float | None
            Longest silence (no event) a stream may keep, in seconds (default 120; ``None``: off). A
            stream that stalls raises ``StreamIdleTimeoutError`` (a ``ModelTimeoutError``) with what arrived.
        max_retries: int
            Retries of 429 rate limits, 5xx and connection failures (default 2). Balance and quota
            errors are never retried.
        http_client / http_async_client: httpx.Client / httpx.AsyncClient
            Your own clients (proxies, transports, tests).

    Instantiate:
        ```python
        from langchain_anyfast import ChatAnyFast

        model = ChatAnyFast(model="glm-5.2", reasoning_effort="high", max_tokens=4096)
        ```

    Invoke:
        ```python
        message = model.invoke([("system", "Answer briefly."), ("human", "Why is the sky blue?")])
        message.content                                   # the answer
        message.additional_kwargs["reasoning_content"]    # the model's reasoning
        message.content_blocks[0]                         # {"type": "reasoning", "reasoning": "..."}
        ```

    Stream:
        ```python
        for chunk in model.stream("Why is the sky blue?"):
            print(chunk.additional_kwargs.get("reasoning_content", ""), chunk.content, sep="", end="")
        ```
        Reasoning arrives live on each chunk (callbacks see it too); ``finish_reason``, ``model_name``
        and usage arrive once, on the last chunk. ``output_version="v1"`` gives indexed reasoning,
        text and tool-call blocks; ``stream_events(version="v3")`` emits reasoning deltas.

    Async:
        ```python
        message = await model.ainvoke("Why is the sky blue?")
        async for chunk in model.astream("Why is the sky blue?"):
            ...
        ```
        Natively async (one connection pool per event loop), never a thread.

    Tool calling:
        ```python
        from pydantic import BaseModel, Field

        class GetWeather(BaseModel):
            '''Get the current weather in a city.'''
            city: str = Field(description="e.g. Florence")

        model_with_tools = model.bind_tools([GetWeather], tool_choice="auto")
        model_with_tools.invoke("Weather in Florence?").tool_calls
        # [{"name": "GetWeather", "args": {"city": "Florence"}, "id": "call_...", "type": "tool_call"}]
        ```
        ``tool_choice``: a tool name, ``"auto"``, ``"none"``, ``"any"``/``"required"``, ``True``, or a dict.
        GLM documents only ``"auto"``, so a forced choice is a strong hint, not a guarantee.
        ``parallel_tool_calls=False`` is not an API field: ChatAnyFast keeps the first call of an
        answer and drops the rest. ``tool_stream=True`` streams tool arguments in fragments.
        The reasoning of each assistant turn is sent back with it, which GLM's interleaved thinking
        needs across tool-calling turns (e.g. in LangGraph agents).

    Structured output:
        ```python
        class Joke(BaseModel):
            setup: str
            punchline: str

        model.with_structured_output(Joke).invoke("Tell me a joke")            # tool call (default)
        model.with_structured_output(Joke, method="json_mode").invoke("... as JSON")
        model.with_structured_output(Joke, method="json_schema").invoke("Tell me a joke")
        ```
        The API has no ``json_schema`` response format: ``method="json_schema"`` (and ``"json_mode"``
        given a schema) sends ``{"type": "json_object"}`` with the schema in the system prompt and
        validates the answer.
        A text answer instead of a forced tool call is parsed as JSON (fenced too); when it holds
        none, an ``OutputParserException`` says so. ``include_raw=True`` returns raw, parsed and error.

    Reasoning:
        ```python
        model = ChatAnyFast(thinking=True, reasoning_effort="max")
        model = ChatAnyFast(thinking={"type": "enabled", "clear_thinking": False})  # preserved thinking
        model = ChatAnyFast(thinking=False)  # no reasoning
        ```

    Token usage:
        ```python
        message.usage_metadata
        # {"input_tokens": 179, "output_tokens": 79, "total_tokens": 258,
        #  "input_token_details": {"cache_read": 43}}   # details only when reported
        ```

    Response metadata:
        ```python
        message.response_metadata
        # {"model_name": "glm-5.2", "finish_reason": "stop", "id": "...", "model_provider": "anyfast"}
        ```
        Finish reasons ``sensitive``, ``network_error``/``abort`` and ``model_context_window_exceeded``
        raise (``ModelRefusalError``, ``ModelAPIError``, ``ContextOverflowError``), as does ``tool_calls``
        without any tool call; ``length`` is reported. A stream with no finish reason before ``[DONE]``
        raises ``StreamInterruptedError`` with what arrived. Errors are ``langchain_core.exceptions``
        types and ``anyfast_core`` errors at once, with the core's class names.
    """

    # Each renamed spelling is a validation alias, not an ``alias``: type checkers read ``alias`` as
    # the only keyword ``__init__`` takes, so ``ChatAnyFast(model=...)`` would not type-check.
    model: str = Field(default=DEFAULT_MODEL, validation_alias=AliasChoices("model", "model_name"))
    """Model id sent as ``model``."""
    api_key: SecretStr | None = Field(default_factory=secret_from_env(API_KEY_ENV, default=None))
    """API key; defaults to ``ANYFAST_API_KEY``. Never logged, printed or serialized."""
    base_url: str | None = Field(default_factory=from_env(BASE_URL_ENV, default=None))
    """API base URL; defaults to ``ANYFAST_BASE_URL``, else ``https://www.anyfast.ai/v1``."""
    thinking: bool | dict[str, Any] | None = None
    """``True``/``False`` or ``{"type": "enabled"|"disabled", "clear_thinking": bool}``; unset: server default (on)."""
    reasoning_effort: ReasoningEffort | None = None
    """``max``, ``xhigh``, ``high``, ``medium``, ``low``, ``minimal`` or ``none``; unset: server default (max)."""
    temperature: float | None = None
    """Sampling temperature, 0..1."""
    top_p: float | None = None
    """Nucleus sampling, 0.01..1."""
    max_tokens: int | None = None
    """Maximum output tokens including reasoning, 1..131072 (sent as ``max_tokens``)."""
    stop: list[str] | None = Field(default=None, validation_alias=AliasChoices("stop", "stop_sequences"))
    """Stop sequences."""
    timeout: TimeoutSetting = Field(default=None, validation_alias=AliasChoices("timeout", "request_timeout"))
    """Read timeout in seconds, or an ``httpx.Timeout``; unset: 600 s reads, 10 s connects."""
    stream_idle_timeout: float | None = DEFAULT_STREAM_IDLE_TIMEOUT
    """Longest silence (no event) a stream may keep, in seconds; ``None``: the read timeout alone. See
    :data:`anyfast_core.settings.DEFAULT_STREAM_IDLE_TIMEOUT` for why 120 s."""
    max_retries: int = 2
    """Retries for rate limits, server errors and connection failures."""
    streaming: bool = False
    """Stream under ``invoke`` too (so callbacks receive tokens)."""
    stream_usage: bool = True
    """Ask for token usage when streaming (``stream_options.include_usage``)."""
    tool_stream: bool | None = None
    """Stream tool-call arguments in fragments (GLM ``tool_stream``); unset: whole calls."""
    model_kwargs: dict[str, Any] = Field(default_factory=dict)
    """Other request parameters; documented ones are validated, others are sent as given. Unknown
    constructor arguments land here, with a warning (a near miss of a known one raises instead)."""
    extra_body: dict[str, Any] | None = None
    """Undocumented fields merged into the request body as given."""
    default_headers: dict[str, str] | None = None
    """Extra HTTP headers on every request."""
    http_client: HTTPClientSetting = Field(default=None, exclude=True)
    """An ``httpx.Client`` to send sync requests with (yours to close)."""
    http_async_client: AsyncHTTPClientSetting = Field(default=None, exclude=True)
    """An ``httpx.AsyncClient`` to send async requests with (yours to close)."""

    # hide_input_in_errors: a validation error must not echo the constructor arguments (the key among them).
    model_config = ConfigDict(populate_by_name=True, hide_input_in_errors=True)

    _clients: ClientPair = PrivateAttr()

    # ------------------------------------------------------------------ validation

    @model_validator(mode="before")
    @classmethod
    def _unknown_arguments(cls, values: Any) -> Any:
        """Nothing given is dropped: see :func:`anyfast_core.request.unknown_settings`."""
        return with_unknown_settings_moved(values, _known_names(cls), owner=cls.__name__, bag="model_kwargs")

    @field_validator("thinking", mode="before")
    @classmethod
    def _check_thinking(cls, value: Any) -> Any:
        thinking_param(value)  # only True, False, None or a dict: pydantic would take "yes" as True
        return value

    @field_validator("stop", mode="before")
    @classmethod
    def _stop_as_list(cls, value: Any) -> Any:
        return [value] if isinstance(value, str) else value

    @field_validator("timeout", mode="before")
    @classmethod
    def _check_timeout(cls, value: Any) -> Any:
        return check_timeout(value)

    @field_validator("stream_idle_timeout", mode="before")
    @classmethod
    def _check_stream_idle_timeout(cls, value: Any) -> Any:
        return check_stream_idle_timeout(value)

    @field_validator("http_client", mode="before")
    @classmethod
    def _check_http_client(cls, value: Any) -> Any:
        return check_http_client(value, "http_client")

    @field_validator("http_async_client", mode="before")
    @classmethod
    def _check_http_async_client(cls, value: Any) -> Any:
        return check_http_client(value, "http_async_client", is_async=True)

    @model_validator(mode="after")
    def _validate_settings(self) -> Self:
        """Fail at construction, with the field named, rather than at the first request."""
        RetryPolicy(max_retries=self.max_retries)
        resolve_base_url(self.base_url)
        check_settings(*self._request_settings())
        return self

    # ------------------------------------------------------------------ LangChain plumbing

    @property
    def _llm_type(self) -> str:
        return "anyfast-chat"

    @property
    def lc_secrets(self) -> dict[str, str]:
        return {"api_key": API_KEY_ENV}

    @classmethod
    def is_lc_serializable(cls) -> bool:
        return True

    @classmethod
    def get_lc_namespace(cls) -> list[str]:
        return ["langchain_anyfast", "chat_models"]

    @property
    def _default_params(self) -> dict[str, Any]:
        """The documented request fields set on the model, in wire form."""
        params: dict[str, Any] = {"model": self.model}
        for name, value in (
            ("thinking", thinking_param(self.thinking)),
            ("reasoning_effort", self.reasoning_effort),
            ("max_tokens", self.max_tokens),
            ("temperature", self.temperature),
            ("top_p", self.top_p),
            ("stop", self.stop),
        ):
            if value is not None:
                params[name] = value
        return params

    @property
    def _identifying_params(self) -> dict[str, Any]:
        return {**self._default_params, **self.model_kwargs}

    def _get_ls_params(self, stop: list[str] | None = None, **kwargs: Any) -> LangSmithParams:
        params = LangSmithParams(
            ls_provider="anyfast",
            ls_model_name=kwargs.get("model", self.model),
            ls_model_type="chat",
        )
        temperature = kwargs.get("temperature", self.temperature)
        if isinstance(temperature, (int, float)):
            params["ls_temperature"] = temperature
        max_tokens = kwargs.get("max_tokens", self.max_tokens)
        if isinstance(max_tokens, int):
            params["ls_max_tokens"] = max_tokens
        ls_stop = stop or kwargs.get("stop") or self.stop
        if isinstance(ls_stop, str):
            params["ls_stop"] = [ls_stop]
        elif isinstance(ls_stop, (list, tuple)) and ls_stop:  # anything else is refused by the request check
            params["ls_stop"] = list(ls_stop)
        return params

    def _resolve_model_profile(self) -> ModelProfile | None:
        return model_profile(self.model)  # type: ignore[return-value]

    # ------------------------------------------------------------------ clients

    def model_post_init(self, context: Any, /) -> None:
        super().model_post_init(context)
        # The clients are made on first use, from the settings validated above.
        self._clients = ClientPair(
            api_key=self.api_key,
            base_url=self.base_url,
            timeout=self.timeout,
            max_retries=self.max_retries,
            default_headers=self.default_headers,
            stream_idle_timeout=self.stream_idle_timeout,
            http_client=self.http_client,
            async_http_client=self.http_async_client,
        )

    def __getstate__(self) -> dict[Any, Any]:
        # Pickled, a model holds its settings and key, never its clients (see ClientPair); an injected
        # httpx client cannot travel, and this says so before pickle fails on the client's lock.
        self._clients.check_picklable()
        return super().__getstate__()

    @property
    def client(self) -> AnyFastClient:
        """The sync core client, created on first use and kept."""
        return self._clients.sync

    @property
    def async_client(self) -> AsyncAnyFastClient:
        """The async core client, created on first use and kept (it keeps one pool per event loop)."""
        return self._clients.aio

    # ------------------------------------------------------------------ the payload builder

    def _request_settings(self) -> tuple[dict[str, Any], dict[str, Any]]:
        """The model's settings and extra body in the core's terms (see :func:`model_settings`)."""
        return model_settings(self, self.model_kwargs, self.extra_body)

    def _build_request(
        self, messages: Sequence[BaseMessage], stop: list[str] | None, stream: bool, kwargs: dict[str, Any]
    ) -> WireRequest:
        """The core's request for this call: LangChain's names and forms renamed, the rest is
        :func:`~anyfast_core.request.build_request`'s."""
        call = {name: value for name, value in kwargs.items() if name not in _LANGCHAIN_CALL_ARGUMENTS}
        if "model_name" in call:
            call["model"] = call.pop("model_name")
        if "stop_sequences" in call:
            call["stop"] = call.pop("stop_sequences")
        if stop is not None:
            call["stop"] = stop
        tools = call.get("tools")
        if isinstance(tools, (list, tuple)) and not all(isinstance(t, Mapping) and "type" in t for t in tools):
            # tools=... passed per call rather than through bind_tools: same conversion.
            from langchain_core.utils.function_calling import convert_to_openai_tool

            call["tools"] = [convert_to_openai_tool(t) for t in tools]
        if call.get("tool_choice") is not None:
            tools = call.get("tools") or []
            names = [
                t["function"]["name"] for t in tools if isinstance(t, Mapping) and isinstance(t.get("function"), dict)
            ]
            call["tool_choice"] = tool_choice_to_wire(call["tool_choice"], names)
        settings, extra_body = self._request_settings()
        return build_request(
            messages_to_wire(messages), settings=settings, extra_body=extra_body, call=call, stream=stream
        )

    # ------------------------------------------------------------------ token counts

    def get_num_tokens(self, text: str) -> int:
        """Tokens of ``text`` for GLM: the core's estimate (no tokenizer to install or download).

        Within a few percent of what GLM reports on the recorded requests; see the README's "Counting tokens".
        """
        return estimate_text_tokens(text)

    def get_num_tokens_from_messages(self, messages: list[BaseMessage], tools: Sequence[Any] | None = None) -> int:
        """Prompt tokens of ``messages`` (and ``tools``) in GLM's chat template, estimated by the core:
        role markers, reasoning sent back, tool calls and results, and the tool definitions.

        This is what ``trim_messages(..., token_counter=model)`` calls. Like ``invoke``, it also takes
        ``("user", "...")`` tuples, dicts and strings.
        """
        from langchain_core.messages import convert_to_messages

        wire_tools = None
        if tools:
            from langchain_core.utils.function_calling import convert_to_openai_tool

            wire_tools = [convert_to_openai_tool(tool) for tool in tools]
        return estimate_messages_tokens(messages_to_wire(convert_to_messages(messages)), wire_tools)

    def get_token_ids(self, text: str) -> list[int]:
        """GLM's token ids need its tokenizer, which this package does not ship: count with
        :meth:`get_num_tokens` instead (LangChain's fallback would load GPT-2's, which is not GLM's)."""
        raise NotImplementedError(
            "ChatAnyFast has no GLM tokenizer to produce token ids; use get_num_tokens(text) or "
            "get_num_tokens_from_messages(messages) for counts."
        )

    # ------------------------------------------------------------------ calls

    @_signature_kept
    def _generate(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> ChatResult:
        built = self._build_request(messages, stop, False, kwargs)
        try:
            completion = self.client.chat(built.request)
        except AnyFastError as exc:
            raise to_langchain_error(exc) from exc
        return _result(completion, built.request.model, built.first_call_only)

    @_signature_kept
    async def _agenerate(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: AsyncCallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> ChatResult:
        built = self._build_request(messages, stop, False, kwargs)
        try:
            completion = await self.async_client.chat(built.request)
        except AnyFastError as exc:
            raise to_langchain_error(exc) from exc
        return _result(completion, built.request.model, built.first_call_only)

    def _stream(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> Iterator[ChatGenerationChunk]:
        # LangChain itself reports each chunk to the callbacks (on_llm_new_token), reasoning chunks
        # included; reporting here too would double every token.
        built = self._build_request(messages, stop, True, kwargs)
        request, first_call_only = built.request, built.first_call_only
        try:
            with self.client.stream(request) as stream:
                for delta in stream:
                    # The server's id arrives with the first event, before any delta.
                    chunk = chunk_from_wire(
                        delta, message_id=stream.accumulator.id or None, first_call_only=first_call_only
                    )
                    if chunk is not None:
                        yield chunk
                yield last_chunk_from_wire(stream.completion, request.model)
        except AnyFastError as exc:
            raise to_langchain_error(exc) from exc

    async def _astream(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: AsyncCallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> AsyncIterator[ChatGenerationChunk]:
        built = self._build_request(messages, stop, True, kwargs)
        request, first_call_only = built.request, built.first_call_only
        try:
            async with await self.async_client.stream(request) as stream:
                async for delta in stream:
                    chunk = chunk_from_wire(
                        delta, message_id=stream.accumulator.id or None, first_call_only=first_call_only
                    )
                    if chunk is not None:
                        yield chunk
                yield last_chunk_from_wire(stream.completion, request.model)
        except AnyFastError as exc:
            raise to_langchain_error(exc) from exc

    # ------------------------------------------------------------------ tools and structured output

    def bind_tools(
        self,
        tools: Sequence[dict[str, Any] | type | Callable[..., Any] | Any],
        *,
        tool_choice: str | bool | dict[str, Any] | None = None,
        parallel_tool_calls: bool | None = None,
        strict: bool | None = None,
        **kwargs: Any,
    ) -> Runnable[LanguageModelInput, AIMessage]:
        """Bind tools (pydantic classes, functions, LangChain tools or OpenAI tool dicts).

        Args:
            tools: The tools the model may call.
            tool_choice: A tool name, ``"auto"``, ``"none"``, ``"any"``/``"required"``, ``True`` (force a
                call), ``False`` (no call), or ``{"type": "function", "function": {"name": ...}}``.
            parallel_tool_calls: ``False`` keeps only the first call of each answer (the API has no
                such switch, so it is applied to the answer); ``True``/``None`` keep them all.
            strict: Passed into each function definition as ``strict``.
            kwargs: Further call parameters, e.g. ``tool_stream=True``.
        """
        from langchain_core.utils.function_calling import convert_to_openai_tool

        formatted = [convert_to_openai_tool(tool, strict=strict) for tool in tools]
        names = [t["function"]["name"] for t in formatted if isinstance(t.get("function"), dict)]
        if tool_choice is not None:
            kwargs["tool_choice"] = tool_choice_to_wire(tool_choice, names)
        if parallel_tool_calls is not None:
            kwargs["parallel_tool_calls"] = parallel_tool_calls
        return super().bind(tools=formatted, **kwargs)

    def with_structured_output(
        self,
        schema: dict[str, Any] | type | None = None,
        *,
        method: Literal["function_calling", "json_mode", "json_schema"] = "function_calling",
        include_raw: bool = False,
        strict: bool | None = None,
        **kwargs: Any,
    ) -> Runnable[LanguageModelInput, dict[str, Any] | Any]:
        """A runnable that answers with ``schema``'s value (a pydantic instance, else a dict).

        Args:
            schema: A pydantic class, a TypedDict, or a JSON schema / OpenAI function dict.
            method: ``"function_calling"`` (a forced tool call), ``"json_schema"`` or ``"json_mode"``.
                The API has only the ``json_object`` response format, so both JSON methods send it with
                the schema stated in the system prompt and validate the answer; ``json_mode`` without a
                schema returns whatever JSON object the prompt asks for.
            include_raw: Return ``{"raw": AIMessage, "parsed": value | None, "parsing_error": error | None}``
                instead of raising on a parsing error.
            strict: Sent as the tool's ``strict`` flag with ``function_calling``.
        """
        from langchain_core.runnables import RunnableAssign, RunnableParallel
        from langchain_core.utils.function_calling import convert_to_openai_tool

        from langchain_anyfast._structured import StructuredOutputParser, object_json_schema

        if kwargs:
            raise ValueError(f"Unexpected arguments: {sorted(kwargs)}")
        if method not in ("function_calling", "json_mode", "json_schema"):
            raise ValueError(f"method={method!r}: allowed: 'function_calling', 'json_mode', 'json_schema'")
        if schema is None and method != "json_mode":
            raise ValueError(f"method={method!r} needs a schema (only 'json_mode' works without one).")
        json_schema = object_json_schema(schema) if schema is not None else None
        output_format = {"kwargs": {"method": method, "strict": strict}, "schema": schema}
        llm: Runnable[LanguageModelInput, Any]
        if method == "function_calling":
            tool_name = convert_to_openai_tool(schema)["function"]["name"]  # type: ignore[arg-type]
            llm = self.bind_tools(
                [schema],
                tool_choice=tool_name,
                parallel_tool_calls=False,
                strict=strict,
                ls_structured_output_format=output_format,
            )
            parser = StructuredOutputParser(target=schema, target_schema=json_schema, tool_name=tool_name)
        elif json_schema is None:  # json_mode without a schema: any JSON object the prompt asks for
            llm = self.bind(response_format={"type": "json_object"}, ls_structured_output_format=output_format)
            parser = StructuredOutputParser()
        else:
            # json_schema, and json_mode given a schema: the API has only json_object, so the schema
            # travels in the system prompt and the answer is validated here.
            name = json_schema.get("title") or "answer"
            llm = self.bind(
                response_format={"type": "json_schema", "json_schema": {"name": name, "schema": json_schema}},
                ls_structured_output_format=output_format,
            )
            parser = StructuredOutputParser(target=schema, target_schema=json_schema)
        output_parser: Runnable[Any, Any] = parser
        if not include_raw:
            return llm | output_parser
        # RunnableAssign over a plain RunnableParallel: RunnablePassthrough.assign builds a parametrized
        # RunnableParallel class, which pickle cannot find by name (so the runnable would not pickle).
        parse_raw = RunnableAssign(RunnableParallel(parsed=itemgetter("raw") | output_parser, parsing_error=_nothing))
        no_parse = RunnableAssign(RunnableParallel(parsed=_nothing))
        return RunnableParallel(raw=llm) | parse_raw.with_fallbacks([no_parse], exception_key="parsing_error")


def _known_names(cls: type[ChatAnyFast]) -> frozenset[str]:
    """Every name the constructor takes: the fields and their other spellings."""
    names = set(cls.model_fields)
    for info in cls.model_fields.values():
        alias = info.validation_alias
        if isinstance(alias, str):
            names.add(alias)
        elif isinstance(alias, AliasChoices):
            names.update(choice for choice in alias.choices if isinstance(choice, str))
    return frozenset(names)


def _nothing(_: Any) -> None:
    """``None`` for any input: a named function, where a lambda would keep the runnable from pickling."""
    return None


def _result(completion: ChatCompletion, model: str, first_call_only: bool) -> ChatResult:
    message = message_from_wire(completion, model, first_call_only=first_call_only)
    return ChatResult(
        generations=[ChatGeneration(message=message)],
        llm_output={"model_name": message.response_metadata["model_name"], "id": completion.id or None},
    )
