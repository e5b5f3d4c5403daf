"""The emulator's request handling: an HTTP request in, a :class:`Plan` (what to send, and how) out.

No sockets here: the server executes plans. Checks run in the order a real gateway applies them:
faults that refuse the connection, then auth, then error statuses, then request validation (by the
core's own :class:`~anyfast_core.types.ChatRequest`, answered with the wire's error body), then the
scripted answer with any answer and stream faults applied.
"""

from __future__ import annotations

import json
import logging
import threading
from collections import deque
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any, Literal

from anyfast_core.errors import InvalidParameterError
from anyfast_core.settings import DEFAULT_MODEL
from anyfast_core.types import ChatRequest
from anyfast_emulator.brain import (
    Answer,
    PrefixCache,
    apply_limits,
    glm_id,
    prompt_tokens,
    think,
    thinking_enabled,
)
from anyfast_emulator.faults import (
    FAULT_HEADER,
    KEY_PREFIX,
    Fault,
    FaultCounter,
    FaultSpecError,
    faults_from_key,
    parse_faults,
)
from anyfast_emulator.tokens import pieces
from anyfast_emulator.wire import (
    DIALECTS,
    DONE_EVENT,
    Dialect,
    WireOptions,
    completion_body,
    dumps,
    encode_event,
    error_body,
    stream_events,
)

logger = logging.getLogger("anyfast_emulator")

JSON_TYPE = "application/json; charset=UTF-8"
SSE_TYPE = "text/event-stream;charset=UTF-8"
REQUEST_FIELDS = frozenset(ChatRequest.model_fields) - {"extra_body"}
INVALID_REQUEST_CODE = "1214"
"""The code for a parameter out of range (1210 and 1301 mean context overflow and content safety)."""
DEFAULT_CONTEXT_WINDOW = 202_752
MAX_RECEIVED = 10_000
"""Requests remembered for inspection (the oldest are forgotten first)."""

MISSING_KEY_BODY = {"error": {"message": "No token provided"}}
INVALID_KEY_BODY = {
    "error": {"message": "Invalid API key provided.", "type": "authentication_error", "code": "invalid_api_key"}
}
GATEWAY_HTML = (
    "<html>\r\n<head><title>{status} {reason}</title></head>\r\n<body>\r\n"
    "<center><h1>{status} {reason}</h1></center>\r\n"
    "<hr><center>nginx</center>\r\n</body>\r\n</html>\r\n"
)
REASONS = {
    200: "OK", 400: "Bad Request", 401: "Unauthorized", 404: "Not Found", 405: "Method Not Allowed",
    429: "Too Many Requests", 500: "Internal Server Error", 502: "Bad Gateway", 503: "Service Unavailable",
    504: "Gateway Timeout",
}  # fmt: skip


@dataclass(frozen=True, slots=True)
class EmulatorConfig:
    """Server-wide settings; see :class:`~anyfast_emulator.Emulator` for their meaning."""

    dialect: Dialect = "glm"
    api_keys: frozenset[str] | None = None
    faults: tuple[Fault, ...] = ()
    tool_stream_default: bool = False
    reasoning_tokens: bool = False
    glm_newlines: bool = False
    models: tuple[str, ...] = (DEFAULT_MODEL,)
    context_window: int = DEFAULT_CONTEXT_WINDOW


@dataclass(frozen=True, slots=True)
class HTTPRequest:
    method: str
    path: str
    headers: Mapping[str, str]
    """Lower-cased names."""
    body: bytes = b""


@dataclass(slots=True)
class Plan:
    """What to send: status, headers, and a whole ``body`` or SSE ``events``; and how: ``delay`` before
    the headers, ``chunk_delay`` between events, ``fragment`` size for byte-split writes, ``end`` of the
    body (``normal``; ``close``: a close-delimited stream; ``abort``: drop the connection before the
    body is complete), or ``reset`` the connection instead of answering."""

    status: int = 200
    headers: list[tuple[str, str]] = field(default_factory=list)
    body: bytes = b""
    events: list[bytes] | None = None
    delay: float = 0.0
    chunk_delay: float = 0.0
    fragment: int = 0
    end: Literal["normal", "close", "abort"] = "normal"
    reset: bool = False


@dataclass(frozen=True, slots=True)
class Received:
    """One request as the emulator saw it; headers exclude ``authorization``."""

    method: str
    path: str
    headers: Mapping[str, str]
    body: Any
    faults: tuple[str, ...] = ()


class App:
    """The emulator's behaviour, independent of sockets. ``handle`` is thread-safe."""

    def __init__(self, config: EmulatorConfig) -> None:
        self.config = config
        self.cache = PrefixCache()
        self.counter = FaultCounter()
        # Bounded, so a long-running command-line server does not grow without limit.
        self.received: deque[Received] = deque(maxlen=MAX_RECEIVED)
        self._received_lock = threading.Lock()  # tests read the log while the server thread writes it

    def reset(self) -> None:
        """Forget received requests, fault counts and the prompt cache."""
        with self._received_lock:
            self.received.clear()
        self.counter.clear()
        self.cache.clear()

    def handle(self, request: HTTPRequest) -> Plan:
        plan, fired = self._handle(request)
        if logger.isEnabledFor(logging.INFO):
            what = "reset" if plan.reset else str(plan.status) + (" stream" if plan.events is not None else "")
            logger.info("%s %s -> %s%s", request.method, request.path, what, f" [{', '.join(fired)}]" if fired else "")
        return plan

    def _handle(self, request: HTTPRequest) -> tuple[Plan, tuple[str, ...]]:
        path = request.path.split("?", 1)[0].rstrip("/") or "/"
        key = _bearer(request.headers.get("authorization"))
        body: Any = None
        if request.method == "POST" and request.body:
            try:
                body = json.loads(request.body)
            except ValueError:
                body = None
        try:
            faults = [
                *self.config.faults,
                *parse_faults(request.headers.get(FAULT_HEADER.lower(), "")),
                *faults_from_key(key),
            ]
        except FaultSpecError as exc:
            self._record(request, path, body, ())
            return fault_spec_error(str(exc)), ()
        self._record(request, path, body, tuple(f.name for f in faults))
        active = self.counter.active(faults)
        fired = tuple(active)
        if "reset" in active:
            return Plan(reset=True), fired
        try:
            plan = self._route(request, path, key, body, active)
        except FaultSpecError as exc:
            return fault_spec_error(str(exc)), fired
        if "gateway_errors" in active and plan.status >= 400:
            plan = gateway_style(plan, request.body)
        slow = active.get("slow")
        if slow is not None:
            plan.delay = slow.number("delay", 2.0)
            plan.chunk_delay = slow.number("chunk_delay", plan.chunk_delay)
        if "slow_stream" in active:
            plan.chunk_delay = active["slow_stream"].number("delay", 0.2)
        return plan, fired

    def _record(self, request: HTTPRequest, path: str, body: Any, faults: tuple[str, ...]) -> None:
        headers = {k: v for k, v in request.headers.items() if k != "authorization"}
        with self._received_lock:
            self.received.append(Received(request.method, path, headers, body, faults))

    def snapshot(self) -> list[Received]:
        """The requests received so far, oldest first (a copy, safe while the server runs)."""
        with self._received_lock:
            return list(self.received)

    def _route(self, request: HTTPRequest, path: str, key: str | None, body: Any, active: dict[str, Fault]) -> Plan:
        if not key:
            return json_plan(401, MISSING_KEY_BODY)
        allowed = self.config.api_keys
        if "invalid_key" in active or (allowed is not None and key not in allowed and not key.startswith(KEY_PREFIX)):
            return json_plan(401, INVALID_KEY_BODY)
        refused = status_fault(active)
        if refused is not None:
            return refused
        if path in ("/v1/models", "/models"):
            if request.method != "GET":
                return json_plan(405, error_body("Method not allowed", type="invalid_request_error"))
            return json_plan(200, self._models())
        if path.startswith(("/v1/models/", "/models/")):
            model = path.rsplit("/", 1)[1]
            if model not in self.config.models:
                return json_plan(
                    404,
                    error_body(
                        f"The model '{model}' does not exist", type="invalid_request_error", code="model_not_found"
                    ),
                )
            return json_plan(200, _model(model))
        if path not in ("/v1/chat/completions", "/chat/completions"):
            return json_plan(
                404,
                error_body(f"Invalid URL ({request.method} {path})", type="invalid_request_error", code="not_found"),
            )
        if request.method != "POST":
            return json_plan(405, error_body("Method not allowed", type="invalid_request_error"))
        if not isinstance(body, dict):
            return invalid("The request body is not a JSON object.")
        problem = validate(body, strict="strict" in active, require_reasoning="require_reasoning" in active)
        if problem:
            return invalid(problem)
        tokens = prompt_tokens(body)
        if tokens > self.config.context_window:
            return json_plan(
                400,
                error_body(
                    f"Prompt exceeds max length: {tokens} tokens > {self.config.context_window}.",
                    type="invalid_request_error",
                    code="1210",
                ),
            )
        answer = answer_faults(think(body, cached_tokens=self.cache.cached_tokens(body)), active)
        return self._answer_plan(body, answer, active)

    def _models(self) -> dict[str, Any]:
        return {"object": "list", "data": [_model(m) for m in self.config.models]}

    def _answer_plan(self, body: dict[str, Any], answer: Answer, active: dict[str, Fault]) -> Plan:
        dialect = (
            active["dialect"].params.get("name", self.config.dialect) if "dialect" in active else self.config.dialect
        )
        if dialect not in DIALECTS:
            return fault_spec_error(f"dialect {dialect!r}: expected {' or '.join(DIALECTS)}")
        tool_stream = body.get("tool_stream")
        if "tool_stream" in active:
            tool_stream = not active["tool_stream"].flag("off")
        elif tool_stream is None:
            tool_stream = self.config.tool_stream_default
        stream_options = body.get("stream_options")
        options = WireOptions(
            dialect=dialect,  # type: ignore[arg-type]
            tool_stream=bool(tool_stream),
            include_usage=isinstance(stream_options, dict) and bool(stream_options.get("include_usage", True)),
            reasoning_tokens=self.config.reasoning_tokens or "reasoning_tokens" in active,
            glm_newlines=self.config.glm_newlines or "glm_newlines" in active,
        )
        headers = [("X-Request-Id", answer.id)]
        sse_headers = [("Content-Type", SSE_TYPE), ("Cache-Control", "no-cache"), *headers]
        if not body.get("stream"):
            if "error_body_200" in active or "error_event" in active:
                return json_plan(200, _stream_error(active), headers)
            plan = json_plan(200, completion_body(answer, options), headers)
            if "stream_cut" in active:
                plan.end = "abort"
            return plan
        if "error_body_200" in active:
            events = [encode_event(_stream_error(active))]
            return Plan(200, sse_headers, events=events)
        events, end = stream_faults(stream_events(answer, options), active)
        fragment = active["fragment"].integer("size", 7) if "fragment" in active else 0
        return Plan(200, sse_headers, events=events, end=end, fragment=fragment)


def _model(model_id: str) -> dict[str, Any]:
    return {
        "id": model_id,
        "object": "model",
        "created": 1626777600,
        "owned_by": "zhipu",
        "supported_endpoint_types": ["openai"],
    }


def _bearer(header: str | None) -> str | None:
    if not header:
        return None
    scheme, _, token = header.strip().partition(" ")
    return token.strip() or None if scheme.lower() == "bearer" else None


def json_plan(status: int, body: Any, headers: list[tuple[str, str]] | None = None) -> Plan:
    return Plan(status, [("Content-Type", JSON_TYPE), *(headers or [])], dumps(body))


def fault_spec_error(message: str) -> Plan:
    """A fault asked for in a way the emulator cannot follow: the test's mistake, said as a 400."""
    return json_plan(400, error_body(message, type="emulator_error", code="fault_spec"))


def invalid(message: str) -> Plan:
    return json_plan(400, error_body(message, type="invalid_request_error", code=INVALID_REQUEST_CODE))


def validate(body: dict[str, Any], *, strict: bool = False, require_reasoning: bool = False) -> str | None:
    """Why ``body`` is not a valid request (as the core would say it), or ``None``."""
    unknown = sorted(set(body) - REQUEST_FIELDS)
    if strict and unknown:
        return f"Unrecognized request argument supplied: {', '.join(unknown)}"
    try:
        ChatRequest.create(**{k: v for k, v in body.items() if k in REQUEST_FIELDS})
    except InvalidParameterError as exc:
        return str(exc).removeprefix("Invalid AnyFast request: ")
    except TypeError as exc:  # e.g. a non-string key
        return f"Invalid request: {exc}"
    if require_reasoning and thinking_enabled(body):
        thinking = body.get("thinking")
        preserved = isinstance(thinking, dict) and thinking.get("clear_thinking") is False
        for i, message in enumerate(body["messages"]):
            if message.get("role") != "assistant" or message.get("reasoning_content"):
                continue
            if message.get("tool_calls"):
                return (
                    f"messages[{i}]: an assistant message with tool_calls must carry its reasoning_content "
                    "when thinking is enabled"
                )
            if preserved:
                return (
                    f"messages[{i}]: preserved thinking (clear_thinking: false) needs every earlier reasoning_content"
                )
    return None


_STATUS_FAULTS: dict[str, tuple[int, str, str, str]] = {
    "rate_limit": (429, "1302", "rate_limit_error", "Rate limit reached for requests, please try again later."),
    "balance": (429, "1113", "insufficient_quota", "Insufficient balance or no resource package. Please recharge."),
    "quota": (
        429,
        "1308",
        "insufficient_quota",
        "Usage limit reached for this period; it resets at 2026-01-01 00:00:00.",
    ),
    "context_overflow": (400, "1210", "invalid_request_error", "Prompt exceeds max length."),
    "sensitive_input": (
        400,
        "1301",
        "invalid_request_error",
        "System detected potentially unsafe or sensitive content in input or generation. Please avoid using "
        "prompts that may generate sensitive content. Thank you for your understanding.",
    ),
    "http_500": (500, "500", "server_error", "Internal server error."),
    "http_502": (502, "502", "server_error", "Bad gateway."),
    "http_503": (503, "503", "server_error", "The service is temporarily overloaded, please try again later."),
    "http_504": (504, "504", "server_error", "Gateway timeout."),
}


def gateway_style(plan: Plan, request_body: bytes) -> Plan:
    """An error as AnyFast's gateway words it: ``type`` ``new_api_error`` and the request id appended
    to the message."""
    try:
        body = json.loads(plan.body)
    except ValueError:
        return plan
    error = body.get("error") if isinstance(body, dict) else None
    if not isinstance(error, dict):
        return plan
    request_id = glm_id(request_body)
    error["message"] = f"{error.get('message', '')} (request id: {request_id})"
    error["type"] = "new_api_error"
    plan.body = dumps(body)
    plan.headers = [(k, v) for k, v in plan.headers if k.lower() != "x-request-id"] + [("X-Request-Id", request_id)]
    return plan


def status_fault(active: dict[str, Fault]) -> Plan | None:
    """The error response of the first status fault that fires, if any."""
    for name, fault in active.items():
        if name == "server_error":
            status = fault.integer("status", 500)
            entry = _STATUS_FAULTS.get(f"http_{status}", (status, str(status), "server_error", "Server error."))
        elif name in _STATUS_FAULTS:
            entry = _STATUS_FAULTS[name]
        else:
            continue
        status, code, kind, message = entry
        html = fault.params.get("body", "html" if status in (502, 504) else "json") == "html"
        if html:
            page = GATEWAY_HTML.format(status=status, reason=REASONS.get(status, "Error")).encode()
            plan = Plan(status, [("Content-Type", "text/html")], page)
        else:
            plan = json_plan(status, error_body(fault.params.get("message", message), type=kind, code=code))
        if "retry_after" in fault.params or name == "rate_limit":
            plan.headers.append(("Retry-After", fault.params.get("retry_after", "1")))
        if "retry_after_ms" in fault.params:
            plan.headers.append(("retry-after-ms", fault.params["retry_after_ms"]))
        return plan
    return None


def answer_faults(answer: Answer, active: dict[str, Fault]) -> Answer:
    """Faults that change what the model says (finish reasons, the reasoning-only defect, text
    instead of a forced tool call, fenced JSON)."""
    if "ignore_tool_choice" in active and answer.tool_calls:
        arguments = json.dumps(json.loads(answer.tool_calls[0].arguments), ensure_ascii=False, indent=2)
        text = f"```json\n{arguments}\n```" if active["ignore_tool_choice"].flag("fence") else arguments
        answer = apply_limits(replace(answer, content=text, tool_calls=()))
    if "json_fence" in active and answer.content:
        answer = apply_limits(replace(answer, content=f"```json\n{answer.content}\n```"))
    if "reasoning_only" in active:
        reasoning = answer.reasoning or "Let me think about how to answer this."
        answer = apply_limits(replace(answer, reasoning=reasoning, content="", tool_calls=()))
    for fault in active.values():
        reason = fault.finish_reason
        if reason is None:
            continue
        if reason == "tool_calls":
            answer = replace(answer, finish_reason=reason)
            continue
        content = pieces(answer.content)
        answer = apply_limits(replace(answer, content="".join(content[: len(content) // 2]), tool_calls=()))
        answer = replace(answer, finish_reason=reason)
    return answer


def _stream_error(active: dict[str, Fault]) -> dict[str, Any]:
    fault = active.get("error_event") or active.get("error_body_200")
    params = fault.params if fault is not None else {}
    return error_body(
        params.get("message", "The upstream model failed while generating the response."),
        type=params.get("type", "server_error"),
        code=params.get("code", "500"),
    )


MALFORMED_LINE = 'data: {"id":"broken","choices":[{"index":0,"delta":{"content":"oops"'


def stream_faults(
    events: list[bytes], active: dict[str, Fault]
) -> tuple[list[bytes], Literal["normal", "close", "abort"]]:
    """Apply stream faults to the SSE events (``[DONE]`` last); also say how the body ends."""
    end: Literal["normal", "close", "abort"] = "normal"
    count = len(events) - 1  # without [DONE]
    cutter = active.get("error_event") or active.get("stream_cut")
    if cutter is not None:
        after = max(0, min(cutter.integer("after", count // 2), count))
        events = events[:after]
        if cutter.name == "error_event":
            events.append(encode_event(_stream_error(active)))
        mode = cutter.params.get("mode", "clean")
        if mode not in ("clean", "close", "abort"):
            raise FaultSpecError(f"fault {cutter.name!r}: mode must be clean, close or abort")
        end = "normal" if mode == "clean" else mode  # type: ignore[assignment]
    if "malformed" in active:
        fault = active["malformed"]
        at = max(0, min(fault.integer("after", 1), len(events)))
        events.insert(at, fault.params.get("line", MALFORMED_LINE).encode() + b"\n\n")
    if "keepalive" in active:
        every = max(1, active["keepalive"].integer("every", 3))
        with_pings = [b": PING\n\n"]
        for i, event in enumerate(events, 1):
            with_pings.append(event)
            if i % every == 0 and event != DONE_EVENT:
                with_pings.append(b": PING\n\n")
        events = with_pings
    if "no_space" in active:
        events = [b"data:" + e[6:] if e.startswith(b"data: ") else e for e in events]
    if "crlf" in active:
        events = [e.replace(b"\n", b"\r\n") for e in events]
    return events, end


__all__ = ["App", "EmulatorConfig", "HTTPRequest", "Plan", "Received"]
