"""``AnyFast``: GLM-5.2 on AnyFast as a LlamaIndex ``FunctionCallingLLM``.

A thin adapter: it renames LlamaIndex's terms for the core's request builder
(:func:`anyfast_core.request.build_request`, shared with LangChain), hands the request to the core's
sync or async client (which owns HTTP, retries, SSE and stream accumulation) and converts the
answer with the pure functions in :mod:`llama_index_anyfast.utils`.
"""

from __future__ import annotations

from collections.abc import AsyncGenerator, Generator, Sequence
from typing import TYPE_CHECKING, Any

import llama_index.core.instrumentation as instrument
from llama_index.core.base.llms.types import (
    ChatMessage,
    ChatResponse,
    ChatResponseAsyncGen,
    ChatResponseGen,
    CompletionResponse,
    CompletionResponseAsyncGen,
    CompletionResponseGen,
    LLMMetadata,
    MessageRole,
)
from llama_index.core.bridge.pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    PrivateAttr,
    SecretStr,
    field_serializer,
    field_validator,
    model_validator,
)
from llama_index.core.instrumentation.events.llm import LLMStructuredPredictEndEvent, LLMStructuredPredictStartEvent
from llama_index.core.llms.callbacks import llm_chat_callback, llm_completion_callback
from llama_index.core.llms.function_calling import FunctionCallingLLM
from llama_index.core.llms.llm import ToolSelection
from llama_index.core.types import Model, PydanticProgramMode

from anyfast_core import ChatRequest, ClientPair
from anyfast_core.model_facts import CONTEXT_WINDOW, DEFAULT_MAX_TOKENS
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
    DEFAULT_MODEL,
    DEFAULT_STREAM_IDLE_TIMEOUT,
    AsyncHTTPClientSetting,
    HTTPClientSetting,
    TimeoutSetting,
    check_http_client,
    check_stream_idle_timeout,
    check_timeout,
    resolve_api_key,
    resolve_base_url,
)
from anyfast_core.types import MAX_TOKENS_LIMIT, ReasoningEffort
from llama_index_anyfast.utils import (
    chat_response,
    completion_response,
    final_stream_chat_response,
    final_stream_completion_response,
    keep_first_tool_call,
    stream_chat_response,
    stream_completion_response,
    structured_output,
    to_wire_messages,
    tool_choice_param,
    tool_selections,
    tool_to_wire,
)

if TYPE_CHECKING:
    from llama_index.core.program.utils import FlexibleModel
    from llama_index.core.prompts import BasePromptTemplate
    from llama_index.core.tools.types import BaseTool

DEFAULT_CONTEXT_WINDOW = CONTEXT_WINDOW
"""GLM-5.2's context window in tokens (AnyFast's GLM-5.2 guide)."""

DEFAULT_MAX_OUTPUT = DEFAULT_MAX_TOKENS
"""What the server generates at most when ``max_tokens`` is not set (reasoning included)."""

_STRUCTURED_OWN = frozenset({"tool_required", "tool_choice", "allow_parallel_tool_calls"})
"""Call arguments structured output decides itself (as LlamaIndex's FunctionCallingProgram does)."""

dispatcher = instrument.get_dispatcher(__name__)  # type: ignore[attr-defined]


class AnyFast(FunctionCallingLLM):
    """GLM-5.2 (or another model served by AnyFast's OpenAI-compatible API) for LlamaIndex.

    Reasoning shows up as a ``ThinkingBlock`` first in ``response.message.blocks`` (cumulative while
    streaming, with the new piece in ``response.additional_kwargs["thinking_delta"]``) and is sent
    back on the next turn, so tool-calling agents keep GLM's interleaved thinking. Usage is in
    ``response.raw.usage`` and ``response.additional_kwargs``; failures raise the typed errors of
    :mod:`anyfast_core.errors` (bad parameters raise ``ValueError`` before anything is sent).

    The key comes from ``api_key`` or ``ANYFAST_API_KEY``, the endpoint from ``api_base`` or
    ``ANYFAST_BASE_URL``. The key never appears in ``repr``, ``to_dict`` or ``to_json``.

    Structured output (``structured_predict``, ``as_structured_llm``, ...) uses function calling;
    ``pydantic_program_mode="llm"`` switches to JSON mode instead: the schema goes in the prompt,
    the server is asked for a JSON object, and the answer is validated against the model class.

    Example::

        from llama_index.core.llms import ChatMessage

        from llama_index_anyfast import AnyFast

        llm = AnyFast(model="glm-5.2", reasoning_effort="high", max_tokens=4096)
        for piece in llm.stream_complete("Why is the sky blue? One sentence."):
            print(piece.delta, end="", flush=True)

        response = llm.chat([ChatMessage(role="user", content="Hi!")])
        thinking = response.message.blocks[0]  # ThinkingBlock
        print(response.message.content, response.additional_kwargs["total_tokens"])
    """

    # Validation errors must not quote constructor arguments: one of them is the key.
    model_config = ConfigDict(arbitrary_types_allowed=True, hide_input_in_errors=True)

    model: str = Field(default=DEFAULT_MODEL, description="The model id, e.g. 'glm-5.2'.")
    # Typed to accept a plain string; always stored as a SecretStr (or None).
    api_key: SecretStr | str | None = Field(
        default=None,
        exclude=True,
        repr=False,
        validate_default=True,
        description="The AnyFast API key; defaults to ANYFAST_API_KEY. Kept as a SecretStr, never serialized.",
    )
    api_base: str = Field(
        default="",
        validate_default=True,
        description="The API base URL; defaults to ANYFAST_BASE_URL, then https://www.anyfast.ai/v1.",
    )
    thinking: bool | dict[str, Any] | None = Field(
        default=None,
        description=(
            "Reasoning on (True) or off (False), or GLM's {'type': 'enabled'|'disabled', 'clear_thinking': bool}; "
            "clear_thinking=False keeps earlier turns' reasoning in context. None: the server default (on)."
        ),
    )
    reasoning_effort: ReasoningEffort | None = Field(
        default=None,
        description="How hard to think: max, xhigh, high, medium, low, minimal or none. None: the server default.",
    )
    temperature: float | None = Field(default=None, description="Sampling temperature, 0 to 1.")
    top_p: float | None = Field(default=None, description="Nucleus sampling, 0.01 to 1.")
    max_tokens: int | None = Field(
        default=None,
        description=f"Most tokens to generate, reasoning included (1 to {MAX_TOKENS_LIMIT}; server default 65536).",
    )
    stop: list[str] | None = Field(default=None, description="A stop word or list of stop words.")
    timeout: TimeoutSetting = Field(
        default=None,
        description=(
            "Seconds to wait for each read (> 0), or an httpx.Timeout; None: 10 minutes to read, 10 seconds to "
            "connect, since GLM can think for minutes before its first token."
        ),
    )
    stream_idle_timeout: float | None = Field(
        default=DEFAULT_STREAM_IDLE_TIMEOUT,
        description=(
            "Longest silence (no event) a stream may keep, in seconds; a stalled stream raises "
            "StreamIdleTimeoutError with what arrived. None: the read timeout alone. 120 s by default: a healthy "
            "GLM stream sends reasoning tokens continuously (see anyfast_core.settings.DEFAULT_STREAM_IDLE_TIMEOUT)."
        ),
    )
    max_retries: int = Field(default=2, description="Retries of rate limits, 5xx and connection failures.")
    context_window: int = Field(
        default=DEFAULT_CONTEXT_WINDOW, gt=0, description="The model's context window in tokens."
    )
    additional_kwargs: dict[str, Any] = Field(
        default_factory=dict,
        description=(
            "More request fields for every call; keys the API does not document go in the body as given. Unknown "
            "constructor arguments land here, with a warning (a near miss of a known one raises instead)."
        ),
    )
    http_client: HTTPClientSetting = Field(
        default=None, exclude=True, repr=False, description="An httpx.Client to send sync requests with."
    )
    async_http_client: AsyncHTTPClientSetting = Field(
        default=None, exclude=True, repr=False, description="An httpx.AsyncClient to send async requests with."
    )

    _clients: ClientPair = PrivateAttr()

    @model_validator(mode="before")
    @classmethod
    def _unknown_arguments(cls, values: Any) -> Any:
        """Nothing given is dropped: see :func:`anyfast_core.request.unknown_settings`."""
        known = frozenset(cls.model_fields) | {"class_name"}  # to_dict() writes class_name
        return with_unknown_settings_moved(values, known, owner=cls.__name__, bag="additional_kwargs")

    @field_validator("stop", mode="before")
    @classmethod
    def _stop_as_list(cls, value: Any) -> Any:
        return [value] if isinstance(value, str) else value

    @field_validator("api_key", mode="before")
    @classmethod
    def _resolve_api_key(cls, value: Any) -> SecretStr | None:
        return resolve_api_key(value)

    @field_validator("api_base", mode="before")
    @classmethod
    def _resolve_api_base(cls, value: Any) -> str:
        return resolve_base_url(value or None)

    @field_validator("thinking", mode="before")
    @classmethod
    def _check_thinking(cls, value: Any) -> Any:
        thinking_param(value)  # only True, False, None or a dict: pydantic would take "yes" as True
        return value

    @field_validator("timeout", mode="before")
    @classmethod
    def _check_timeout(cls, value: Any) -> TimeoutSetting:
        if isinstance(value, dict):  # as serialized by to_dict
            import httpx

            value = httpx.Timeout(**value)
        return check_timeout(value)  # the core's check: a finite number > 0 or an httpx.Timeout

    @field_validator("stream_idle_timeout", mode="before")
    @classmethod
    def _check_stream_idle_timeout(cls, value: Any) -> float | None:
        return check_stream_idle_timeout(value)

    @field_validator("http_client", mode="before")
    @classmethod
    def _check_http_client(cls, value: Any) -> Any:
        return check_http_client(value, "http_client")

    @field_validator("async_http_client", mode="before")
    @classmethod
    def _check_async_http_client(cls, value: Any) -> Any:
        return check_http_client(value, "async_http_client", is_async=True)

    def __getstate__(self) -> dict[Any, Any]:
        # The clients pickle as their settings (see ClientPair); an injected httpx client cannot travel,
        # and this says so instead of LlamaIndex dropping it with a warning.
        self._clients.check_picklable()
        return super().__getstate__()

    @field_serializer("timeout")
    def _serialize_timeout(self, value: TimeoutSetting) -> float | dict[str, Any] | None:
        return value if value is None or isinstance(value, float) else value.as_dict()

    @model_validator(mode="after")
    def _validate_settings(self) -> AnyFast:
        """Fail at construction, with the field named, rather than at the first request."""
        RetryPolicy(max_retries=self.max_retries)
        check_settings(*self._request_settings())
        return self

    def model_post_init(self, context: Any, /) -> None:
        super().model_post_init(context)
        self._clients = ClientPair(
            api_key=self.api_key,
            base_url=self.api_base,
            timeout=self.timeout,
            max_retries=self.max_retries,
            stream_idle_timeout=self.stream_idle_timeout,
            http_client=self.http_client,
            async_http_client=self.async_http_client,
        )
        if self.metadata.num_output >= self.context_window:
            raise ValueError(
                f"max_tokens={self.metadata.num_output} leaves no room for a prompt in "
                f"context_window={self.context_window}; lower max_tokens or raise context_window."
            )

    @classmethod
    def class_name(cls) -> str:
        return "AnyFast"

    @property
    def metadata(self) -> LLMMetadata:
        return LLMMetadata(
            context_window=self.context_window,
            num_output=self.max_tokens or DEFAULT_MAX_OUTPUT,
            is_chat_model=True,
            is_function_calling_model=True,
            model_name=self.model,
        )

    # ----------------------------------------------------------------------- requests

    def _request_settings(self) -> tuple[dict[str, Any], dict[str, Any]]:
        """The model's settings and extra body in the core's terms (see :func:`model_settings`)."""
        return model_settings(self, self.additional_kwargs)

    def _request(self, messages: Sequence[ChatMessage], kwargs: dict[str, Any], stream: bool) -> ChatRequest:
        """The core's request for this call (:func:`~anyfast_core.request.build_request`): the model's
        settings, then ``additional_kwargs``, then this call's arguments."""
        call = {name: value for name, value in kwargs.items() if name != "stream"}  # the method decides
        settings, extra_body = self._request_settings()
        built: WireRequest = build_request(
            to_wire_messages(messages), settings=settings, extra_body=extra_body, call=call, stream=stream
        )
        return built.request

    def _prompt_request(self, prompt: str, formatted: bool, kwargs: dict[str, Any], stream: bool) -> ChatRequest:
        text = prompt if formatted or self.completion_to_prompt is None else self.completion_to_prompt(prompt)
        return self._request([ChatMessage(role=MessageRole.USER, content=text)], kwargs, stream)

    # ----------------------------------------------------------------------- the eight methods
    # Each is decorated once and calls the client directly (never another decorated method), so
    # instrumentation and callback events fire exactly once per call and tokens are counted once.

    @llm_chat_callback()
    def chat(self, messages: Sequence[ChatMessage], **kwargs: Any) -> ChatResponse:
        return chat_response(self._clients.sync.chat(self._request(messages, kwargs, False)))

    @llm_chat_callback()
    async def achat(self, messages: Sequence[ChatMessage], **kwargs: Any) -> ChatResponse:
        return chat_response(await self._clients.aio.chat(self._request(messages, kwargs, False)))

    @llm_completion_callback()
    def complete(self, prompt: str, formatted: bool = False, **kwargs: Any) -> CompletionResponse:
        return completion_response(self._clients.sync.chat(self._prompt_request(prompt, formatted, kwargs, False)))

    @llm_completion_callback()
    async def acomplete(self, prompt: str, formatted: bool = False, **kwargs: Any) -> CompletionResponse:
        return completion_response(await self._clients.aio.chat(self._prompt_request(prompt, formatted, kwargs, False)))

    # Streams validate the request at the call and send it on the first ``next()``: a stream that is
    # never read opens no connection.

    @llm_chat_callback()
    def stream_chat(self, messages: Sequence[ChatMessage], **kwargs: Any) -> ChatResponseGen:
        return self._stream_chat(self._request(messages, kwargs, True))

    @llm_chat_callback()
    async def astream_chat(self, messages: Sequence[ChatMessage], **kwargs: Any) -> ChatResponseAsyncGen:
        return self._astream_chat(self._request(messages, kwargs, True))

    @llm_completion_callback()
    def stream_complete(self, prompt: str, formatted: bool = False, **kwargs: Any) -> CompletionResponseGen:
        return self._stream_complete(self._prompt_request(prompt, formatted, kwargs, True))

    @llm_completion_callback()
    async def astream_complete(self, prompt: str, formatted: bool = False, **kwargs: Any) -> CompletionResponseAsyncGen:
        return self._astream_complete(self._prompt_request(prompt, formatted, kwargs, True))

    def _stream_chat(self, request: ChatRequest) -> ChatResponseGen:
        with self._clients.sync.stream(request) as stream:
            accumulator, with_tool_calls = stream.accumulator, False
            for delta in stream:
                with_tool_calls = with_tool_calls or bool(delta.tool_calls)
                yield stream_chat_response(delta, accumulator, with_tool_calls)
            yield final_stream_chat_response(stream.completion)

    async def _astream_chat(self, request: ChatRequest) -> ChatResponseAsyncGen:
        async with await self._clients.aio.stream(request) as stream:
            accumulator, with_tool_calls = stream.accumulator, False
            async for delta in stream:
                with_tool_calls = with_tool_calls or bool(delta.tool_calls)
                yield stream_chat_response(delta, accumulator, with_tool_calls)
            yield final_stream_chat_response(stream.completion)

    def _stream_complete(self, request: ChatRequest) -> CompletionResponseGen:
        with self._clients.sync.stream(request) as stream:
            accumulator = stream.accumulator
            for delta in stream:
                yield stream_completion_response(delta, accumulator)
            yield final_stream_completion_response(stream.completion)

    async def _astream_complete(self, request: ChatRequest) -> CompletionResponseAsyncGen:
        async with await self._clients.aio.stream(request) as stream:
            accumulator = stream.accumulator
            async for delta in stream:
                yield stream_completion_response(delta, accumulator)
            yield final_stream_completion_response(stream.completion)

    # ----------------------------------------------------------------------- tools

    def _prepare_chat_with_tools(
        self,
        tools: Sequence[BaseTool],
        user_msg: str | ChatMessage | None = None,
        chat_history: list[ChatMessage] | None = None,
        verbose: bool = False,
        allow_parallel_tool_calls: bool = False,
        tool_required: bool = False,
        tool_choice: str | dict[str, Any] | None = None,
        **kwargs: Any,
    ) -> dict[str, Any]:
        """The ``chat`` arguments for a call with tools; the caller's ``chat_history`` is left as it was."""
        messages = list(chat_history or [])
        if user_msg is not None:
            messages.append(
                ChatMessage(role=MessageRole.USER, content=user_msg) if isinstance(user_msg, str) else user_msg
            )
        specs = [tool_to_wire(tool.metadata) for tool in tools]
        return {
            "messages": messages,
            "tools": specs or None,
            "tool_choice": tool_choice_param(tool_choice, tool_required),
            **kwargs,
        }

    def _validate_chat_with_tools_response(
        self,
        response: ChatResponse,
        tools: Sequence[BaseTool],
        allow_parallel_tool_calls: bool = False,
        **kwargs: Any,
    ) -> ChatResponse:
        # AnyFast has no parallel_tool_calls switch: one call is enforced here when asked for.
        if not allow_parallel_tool_calls:
            keep_first_tool_call(response.message)
        return response

    def get_tool_calls_from_response(
        self, response: ChatResponse, error_on_no_tool_call: bool = True, **kwargs: Any
    ) -> list[ToolSelection]:
        """The tool calls in ``response`` (also a partial streamed one); raises ``ValueError`` when
        there are none and ``error_on_no_tool_call`` is true."""
        selections = tool_selections(response.message)
        if not selections and error_on_no_tool_call:
            text = (response.message.content or "")[:200]
            raise ValueError(f"Expected at least one tool call, but the model answered with text: {text!r}")
        return selections

    # ----------------------------------------------------------------------- structured output
    # Function calling by default: one tool shaped like the class, its call required; a model that
    # answers a forced call in text (the API may only honour tool_choice "auto") still gives an
    # object when that text is the JSON. JSON mode (pydantic_program_mode="llm"): a json_schema
    # response format, which the core's request builder turns into the schema stated in the system
    # prompt as plain JSON (LlamaIndex's text program would send it with template-escaped braces) and
    # response_format json_object, as for LangChain. Either way the answer is validated against the class.

    def _json_mode(self) -> bool:
        return self.pydantic_program_mode == PydanticProgramMode.LLM

    def _structured_call(
        self, output_cls: type[BaseModel], prompt: BasePromptTemplate, llm_kwargs: dict[str, Any] | None, args: Any
    ) -> dict[str, Any]:
        """The ``chat`` (JSON mode) or ``chat_with_tools`` (function mode) arguments for a structured call."""
        messages = self._extend_messages(prompt.format_messages(llm=self, **args))
        kwargs = {k: v for k, v in (llm_kwargs or {}).items() if k not in _STRUCTURED_OWN}
        if self._json_mode():
            schema = {"name": output_cls.__name__, "schema": output_cls.model_json_schema()}
            return {"messages": messages, "response_format": {"type": "json_schema", "json_schema": schema}, **kwargs}
        from llama_index.core.program.function_program import get_function_tool

        return {"tools": [get_function_tool(output_cls)], "chat_history": messages, "tool_required": True, **kwargs}

    def structured_predict(
        self,
        output_cls: type[Model],
        prompt: BasePromptTemplate,
        llm_kwargs: dict[str, Any] | None = None,
        **prompt_args: Any,
    ) -> Model:
        dispatcher.event(
            LLMStructuredPredictStartEvent(output_cls=output_cls, template=prompt, template_args=prompt_args)
        )
        call = self._structured_call(output_cls, prompt, llm_kwargs, prompt_args)
        response = self.chat(**call) if self._json_mode() else self.chat_with_tools(**call)
        result = structured_output(response.message, output_cls)
        dispatcher.event(LLMStructuredPredictEndEvent(output=result))
        return result

    async def astructured_predict(
        self,
        output_cls: type[Model],
        prompt: BasePromptTemplate,
        llm_kwargs: dict[str, Any] | None = None,
        **prompt_args: Any,
    ) -> Model:
        dispatcher.event(
            LLMStructuredPredictStartEvent(output_cls=output_cls, template=prompt, template_args=prompt_args)
        )
        call = self._structured_call(output_cls, prompt, llm_kwargs, prompt_args)
        response = await (self.achat(**call) if self._json_mode() else self.achat_with_tools(**call))
        result = structured_output(response.message, output_cls)
        dispatcher.event(LLMStructuredPredictEndEvent(output=result))
        return result

    def _structured_stream_call(
        self,
        output_cls: type[Model],
        prompt: BasePromptTemplate,
        llm_kwargs: dict[str, Any] | None = None,
        **prompt_args: Any,
    ) -> Generator[Model | list[Model] | FlexibleModel | list[FlexibleModel], None, None]:
        call = self._structured_call(output_cls, prompt, llm_kwargs, prompt_args)
        pieces = self.stream_chat(**call) if self._json_mode() else self.stream_chat_with_tools(**call)
        return _partial_objects(pieces, output_cls, self)

    async def _structured_astream_call(
        self,
        output_cls: type[Model],
        prompt: BasePromptTemplate,
        llm_kwargs: dict[str, Any] | None = None,
        **prompt_args: Any,
    ) -> AsyncGenerator[Model | list[Model] | FlexibleModel | list[FlexibleModel], None]:
        call = self._structured_call(output_cls, prompt, llm_kwargs, prompt_args)
        pieces = await (self.astream_chat(**call) if self._json_mode() else self.astream_chat_with_tools(**call))
        return _apartial_objects(pieces, output_cls, self)


# Partial objects while a structured answer streams in, parsed by LlamaIndex's own incremental parser
# (tool-call arguments, else the JSON text); pieces that only add reasoning change nothing and are skipped.


def _partial_objects(pieces: ChatResponseGen, output_cls: type[Model], llm: AnyFast) -> Generator[Any, None, None]:
    from llama_index.core.program.utils import process_streaming_objects

    current = None
    for piece in pieces:
        if piece.delta or not piece.additional_kwargs.get("thinking_delta"):
            objects = process_streaming_objects(piece, output_cls, cur_objects=current, flexible_mode=True, llm=llm)
            current = objects if isinstance(objects, list) else [objects]
            yield objects


async def _apartial_objects(
    pieces: ChatResponseAsyncGen, output_cls: type[Model], llm: AnyFast
) -> AsyncGenerator[Any, None]:
    from llama_index.core.program.utils import process_streaming_objects

    current = None
    async for piece in pieces:
        if piece.delta or not piece.additional_kwargs.get("thinking_delta"):
            objects = process_streaming_objects(piece, output_cls, cur_objects=current, flexible_mode=True, llm=llm)
            current = objects if isinstance(objects, list) else [objects]
            yield objects
