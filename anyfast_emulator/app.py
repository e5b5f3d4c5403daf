"""The emulator's request handling: an HTTP request in, a :class:`Plan` (what to send, and how) out.

No sockets here: the server executes plans. Checks run in the order a real gateway applies them:
faults that refuse the connection, then auth, then error statuses, then the path, then request
validation (:mod:`.validation`, written from the API documentation), then the answer (the next
scripted reply, else the heuristic one) with any answer and stream faults applied.
"""

from __future__ import annotations

import json
import logging
import threading
from collections import deque
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any, Literal

from anyfast_emulator.answer import (
    CONTEXT_WINDOW,
    DEFAULT_MODEL,
    Answer,
    PlannedCall,
    PrefixCache,
    ResponseIds,
    apply_limits,
    call_id,
    glm_id,
    prompt_tokens,
    thinking_enabled,
)
from anyfast_emulator.faults import (
    FAULT_HEADER,
    KEY_PREFIX,
    ZAI_CODES,
    Fault,
    FaultCounter,
    FaultSpecError,
    faults_from_key,
    parse_faults,
)
from anyfast_emulator.heuristics import think
from anyfast_emulator.script import Reply, Script
from anyfast_emulator.tokens import pieces
from anyfast_emulator.validation import validate
from anyfast_emulator.wire import (
    DIALECTS,
    DONE_EVENT,
    Dialect,
    WireOptions,
    completion_body,
    dumps,
    encode_event,
    error_body,
    stream_chunks,
    stream_events,
)

logger = logging.getLogger("anyfast_emulator")

JSON_TYPE = "application/json; charset=UTF-8"
SSE_TYPE = "text/event-stream;charset=UTF-8"
DEFAULT_CONTEXT_WINDOW = CONTEXT_WINDOW
ADMIN_PREFIX = "/_emulator/"
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
    200: "OK", 400: "Bad Request", 401: "Unauthorized", 403: "Forbidden", 404: "Not Found",
    405: "Method Not Allowed", 429: "Too Many Requests", 500: "Internal Server Error", 502: "Bad Gateway",
    503: "Service Unavailable", 504: "Gateway Timeout",
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
    models: tuple[str, ...] | None = (DEFAULT_MODEL,)
    context_window: int = DEFAULT_CONTEXT_WINDOW
    scripted: bool = False
    token_delay: float = 0.0


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
    the headers, ``chunk_delay`` between events, ``fragment`` size for byte-split writes, ``stall``
    seconds of silence after ``stall_after`` events, ``end`` of the body (``normal``; ``close``: a
    close-delimited stream; ``abort``: drop the connection before the body is complete), or ``reset``
    the connection instead of answering."""

    status: int = 200
    headers: list[tuple[str, str]] = field(default_factory=list)
    body: bytes = b""
    events: list[bytes] | None = None
    delay: float = 0.0
    chunk_delay: float = 0.0
    fragment: int = 0
    stall: float = 0.0
    stall_after: int = 1
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

    def __init__(self, config: EmulatorConfig, script: Script | None = None) -> None:
        self.config = config
        self.script = script if script is not None else Script()
        self.cache = PrefixCache()
        self.ids = ResponseIds()
        self.counter = FaultCounter()
        # Bounded, so a long-running command-line server does not grow without limit.
        self.received: deque[Received] = deque(maxlen=MAX_RECEIVED)
        self._received_lock = threading.Lock()  # tests read the log while the server thread writes it

    def reset(self) -> None:
        """Forget received requests, scripted replies, fault counts, response ids and the prompt cache."""
        with self._received_lock:
            self.received.clear()
        self.script.clear()
        self.counter.clear()
        self.cache.clear()
        self.ids.clear()

    def handle(self, request: HTTPRequest) -> Plan:
        plan, fired = self._handle(request)
        if logger.isEnabledFor(logging.INFO):
            what = "reset" if plan.reset else str(plan.status) + (" stream" if plan.events is not None else "")
            logger.info("%s %s -> %s%s", request.method, request.path, what, f" [{', '.join(fired)}]" if fired else "")
        return plan

    def _handle(self, request: HTTPRequest) -> tuple[Plan, tuple[str, ...]]:
        path = request.path.split("?", 1)[0].rstrip("/") or "/"
        body: Any = None
        if request.body:
            try:
                body = json.loads(request.body)
            except ValueError:
                body = None
        if path.startswith(ADMIN_PREFIX):
            return self._admin(request.method, path, body), ()
        key = _bearer(request.headers.get("authorization"))
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
        if "reset" in active:
            return Plan(reset=True), tuple(active)
        try:
            plan = self._route(request, path, key, body, active)
            if plan.status >= 400 and ("error_shape" in active or "gateway_errors" in active):
                plan = error_shape(plan, active, request.body)
        except FaultSpecError as exc:
            return fault_spec_error(str(exc)), tuple(active)
        slow = active.get("slow")
        if slow is not None:
            plan.delay = slow.number("delay", 2.0)
            plan.chunk_delay = slow.number("chunk_delay", plan.chunk_delay)
        if "slow_stream" in active:
            plan.chunk_delay = active["slow_stream"].number("delay", 0.2)
        if "stall" in active:
            plan.stall = active["stall"].number("seconds", 30.0)
            plan.stall_after = active["stall"].integer("after", 1)
        return plan, tuple(active)

    def _record(self, request: HTTPRequest, path: str, body: Any, faults: tuple[str, ...]) -> None:
        headers = {k: v for k, v in request.headers.items() if k != "authorization"}
        with self._received_lock:
            self.received.append(Received(request.method, path, headers, body, faults))

    def snapshot(self) -> list[Received]:
        """The requests received so far, oldest first (a copy, safe while the server runs)."""
        with self._received_lock:
            return list(self.received)

    def _admin(self, method: str, path: str, body: Any) -> Plan:
        """The test-control endpoints: ``/_emulator/script`` (POST queues replies, DELETE empties the
        queue, GET counts them) and ``/_emulator/requests`` (GET: the chat bodies received)."""
        if path == ADMIN_PREFIX + "script":
            if method == "POST":
                replies = body.get("replies") if isinstance(body, dict) else body
                if not isinstance(replies, list):
                    return fault_spec_error('POST /_emulator/script takes a list of replies (or {"replies": [...]})')
                try:
                    self.script.push(*replies)
                except (ValueError, FaultSpecError) as exc:
                    return fault_spec_error(str(exc))
            elif method == "DELETE":
                self.script.clear()
            elif method != "GET":
                return json_plan(405, error_body("Method not allowed", type="emulator_error"))
            return json_plan(200, {"pending": self.script.pending, "served": self.script.served})
        if path == ADMIN_PREFIX + "requests" and method == "GET":
            chat = [r.body for r in self.snapshot() if r.method == "POST" and r.path.endswith("/chat/completions")]
            return json_plan(200, {"requests": chat})
        return json_plan(404, error_body(f"no emulator endpoint {method} {path}", type="emulator_error"))

    def _route(self, request: HTTPRequest, path: str, key: str | None, body: Any, active: dict[str, Fault]) -> Plan:
        if not key:
            return json_plan(401, MISSING_KEY_BODY)
        allowed = self.config.api_keys
        if "invalid_key" in active or (allowed is not None and key not in allowed and not key.startswith(KEY_PREFIX)):
            return json_plan(401, INVALID_KEY_BODY)
        refused = status_fault(active, self.config.models)
        if refused is not None:
            return refused
        if path == "/v1/models":
            if request.method != "GET":
                return json_plan(405, error_body("Method not allowed", type="invalid_request_error"))
            return json_plan(200, self._models())
        if path.startswith("/v1/models/"):
            model = path.rsplit("/", 1)[1]
            if not self._serves(model):
                return json_plan(404, zai_error("1211", f"The model {model!r} does not exist."))
            return json_plan(200, _model(model))
        if path != "/v1/chat/completions":
            # The API lives under /v1 only: a base URL without it is a configuration mistake to show.
            return json_plan(404, error_body(f"Invalid URL ({request.method} {path})", type="invalid_request_error"))
        if request.method != "POST":
            return json_plan(405, error_body("Method not allowed", type="invalid_request_error"))
        refusal = validate(body, models=self.config.models, strict="strict" in active)
        if refusal is not None:
            return json_plan(refusal.status, zai_error(refusal.code, refusal.message))
        if "require_reasoning" in active:
            problem = missing_reasoning(body)
            if problem:
                return json_plan(400, zai_error("1214", problem))
        tokens = prompt_tokens(body)
        if tokens > self.config.context_window:
            return json_plan(
                400, zai_error("1261", f"Prompt exceeds max length: {tokens} tokens > {self.config.context_window}.")
            )
        response_id = self.ids.next(body)
        reply = self.script.take()
        if reply is None and self.config.scripted:
            message = f"the emulator's script is empty: {self.script.served} replies served, none left for this request"
            return json_plan(500, error_body(message, type="emulator_error", code="script_empty"))
        if reply is not None:
            try:
                for fault in reply.parsed_faults:
                    active[fault.name] = fault
            except FaultSpecError as exc:
                return fault_spec_error(str(exc))
            refused = status_fault(active, self.config.models)
            if refused is not None:
                return refused
            if reply.status != 200:
                return reply_error(reply)
            answer = scripted_answer(reply, body, response_id, self.cache.cached_tokens(body))
        else:
            answer = think(body, response_id=response_id, cached_tokens=self.cache.cached_tokens(body))
        return self._answer_plan(body, answer_faults(answer, active), active)

    def _serves(self, model: str) -> bool:
        return self.config.models is None or model in self.config.models

    def _models(self) -> dict[str, Any]:
        return {"object": "list", "data": [_model(m) for m in self.config.models or (DEFAULT_MODEL,)]}

    def _answer_plan(self, body: dict[str, Any], answer: Answer, active: dict[str, Fault]) -> Plan:
        dialect = (
            active["dialect"].params.get("name", self.config.dialect) if "dialect" in active else self.config.dialect
        )
        if dialect not in DIALECTS:
            return fault_spec_error(f"dialect {dialect!r}: expected {' or '.join(DIALECTS)}")
        tool_stream = body.get("tool_stream")
        if "tool_stream" in active:
            tool_stream = not active["tool_stream"].flag("off")
        elif "fresh_tool_ids" in active:
            tool_stream = True
        elif tool_stream is None:
            tool_stream = self.config.tool_stream_default
        stream_options = body.get("stream_options")
        options = WireOptions(
            dialect=dialect,  # type: ignore[arg-type]
            tool_stream=bool(tool_stream),
            include_usage=isinstance(stream_options, dict) and bool(stream_options.get("include_usage", True)),
            reasoning_tokens=self.config.reasoning_tokens or "reasoning_tokens" in active,
            glm_newlines=self.config.glm_newlines or "glm_newlines" in active,
            reasoning_field="reasoning" if "reasoning_field" in active else "reasoning_content",
            think_tags="think_tags" in active,
            fresh_tool_ids="fresh_tool_ids" in active,
        )
        headers = [("X-Request-Id", answer.id)]
        sse_headers = [("Content-Type", SSE_TYPE), ("Cache-Control", "no-cache"), *headers]
        if not body.get("stream"):
            if "error_body_200" in active or "error_event" in active:
                return json_plan(200, _stream_error(active), headers)
            completion = completion_body(answer, options)
            if "no_finish" in active or "done_after_cut" in active:
                completion["choices"][0]["finish_reason"] = None
            plan = json_plan(200, completion, headers)
            if "stream_cut" in active:
                plan.end = "abort"
            return plan
        if "error_body_200" in active:
            events = [encode_event(_stream_error(active))]
            return Plan(200, sse_headers, events=events)
        if "done_after_cut" in active or "no_finish" in active:
            events = unfinished_events(answer, options, active)
        else:
            events = stream_events(answer, options)
        events, end = stream_faults(events, active)
        fragment = active["fragment"].integer("size", 7) if "fragment" in active else 0
        return Plan(200, sse_headers, events=events, end=end, fragment=fragment, chunk_delay=self.config.token_delay)


def scripted_answer(reply: Reply, body: dict[str, Any], response_id: str, cached_tokens: int) -> Answer:
    """A scripted reply as an :class:`Answer`: token counts filled in, ``max_tokens`` and ``stop`` applied
    as to any answer, the scripted finish reason kept."""
    calls = tuple(PlannedCall(call_id(response_id, i), c.name, c.arguments) for i, c in enumerate(reply.calls))
    answer = Answer(
        id=response_id,
        model=str(body.get("model") or DEFAULT_MODEL),
        reasoning=reply.reasoning,
        content=reply.content,
        tool_calls=calls,
        prompt_tokens=prompt_tokens(body),
        cached_tokens=cached_tokens,
    )
    answer = apply_limits(answer, stop=body.get("stop"), max_tokens=body.get("max_tokens"))
    return replace(answer, finish_reason=reply.finish_reason) if reply.finish_reason else answer


def reply_error(reply: Reply) -> Plan:
    if isinstance(reply.body, str):
        kind = "text/html" if reply.body.lstrip().startswith("<") else "text/plain; charset=utf-8"
        return Plan(reply.status, [("Content-Type", kind)], reply.body.encode())
    return json_plan(reply.status, reply.body)


def missing_reasoning(body: dict[str, Any]) -> str | None:
    """What the ``require_reasoning`` fault refuses: with thinking on, an assistant turn with tool calls
    (with preserved thinking, any assistant turn) sent back without its ``reasoning_content``."""
    if not thinking_enabled(body):
        return None
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
            return f"messages[{i}]: preserved thinking (clear_thinking: false) needs every earlier reasoning_content"
    return None


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


def zai_error(code: str, message: str) -> dict[str, Any]:
    """Z.ai's own error body: ``{"error": {"code": "1214", "message": "..."}}`` (the code a string)."""
    return {"error": {"code": code, "message": message}}


def fault_spec_error(message: str) -> Plan:
    """A fault asked for in a way the emulator cannot follow: the test's mistake, said as a 400."""
    return json_plan(400, error_body(message, type="emulator_error", code="fault_spec"))


_STATUS_FAULTS: dict[str, tuple[int, str, str | None, str]] = {
    "rate_limit": (429, "1302", "rate_limit_error", "Rate limit reached for requests, please try again later."),
    "balance": (429, "1113", "insufficient_quota", "Insufficient balance or no resource package. Please recharge."),
    "quota": (
        429,
        "1308",
        "insufficient_quota",
        "Usage limit reached for this period; it resets at 2026-01-01 00:00:00.",
    ),
    "context_overflow": (400, "1261", None, "Prompt exceeds max length."),
    "sensitive_input": (
        400,
        "1301",
        None,
        "System detected potentially unsafe or sensitive content in input or generation. Please avoid using "
        "prompts that may generate sensitive content. Thank you for your understanding.",
    ),
    "insufficient_user_quota": (
        403,
        "insufficient_user_quota",
        "new_api_error",
        "user quota is not enough, remaining quota: $0.000000, need quota: $0.012000",
    ),
    "http_500": (500, "500", "server_error", "Internal server error."),
    "http_502": (502, "502", "server_error", "Bad gateway."),
    "http_503": (503, "503", "server_error", "The service is temporarily overloaded, please try again later."),
    "http_504": (504, "504", "server_error", "Gateway timeout."),
}


def status_fault(active: dict[str, Fault], models: tuple[str, ...] | None = None) -> Plan | None:
    """The error response of the first status fault that fires, if any."""
    for name, fault in active.items():
        if name == "server_error":
            status = fault.integer("status", 500)
            entry = _STATUS_FAULTS.get(f"http_{status}", (status, str(status), "server_error", "Server error."))
        elif name == "zai_error":
            code = fault.params.get("code", "1210")
            if code not in ZAI_CODES:
                raise FaultSpecError(f"fault 'zai_error': code={code!r}; known codes: {', '.join(ZAI_CODES)}")
            status, message = ZAI_CODES[code]
            entry = (fault.integer("status", status), code, None, message)
        elif name == "model_not_found":
            model = fault.params.get("model", (models or (DEFAULT_MODEL,))[0])
            message = f"No available channel for model {model} under group default (distributor)"
            entry = (fault.integer("status", 503), "model_not_found", "new_api_error", message)
        elif name in _STATUS_FAULTS:
            status, code, kind, message = _STATUS_FAULTS[name]
            entry = (fault.integer("status", status), code, kind, message)
        else:
            continue
        status, code, kind, message = entry
        html = fault.params.get("body", "html" if status in (502, 504) else "json") == "html"
        if html:
            plan = html_plan(status)
        else:
            plan = json_plan(status, error_body(fault.params.get("message", message), type=kind, code=code))
        if "retry_after" in fault.params or name == "rate_limit":
            plan.headers.append(("Retry-After", fault.params.get("retry_after", "1")))
        if "retry_after_ms" in fault.params:
            plan.headers.append(("retry-after-ms", fault.params["retry_after_ms"]))
        return plan
    return None


def html_plan(status: int) -> Plan:
    page = GATEWAY_HTML.format(status=status, reason=REASONS.get(status, "Error")).encode()
    return Plan(status, [("Content-Type", "text/html")], page)


ERROR_SHAPES = ("zai", "gateway", "bare", "text", "html")


def error_shape(plan: Plan, active: dict[str, Fault], request_body: bytes) -> Plan:
    """An error response reworded in one of the shapes seen in the wild (the ``error_shape`` fault;
    ``gateway_errors`` is ``shape=gateway``): ``zai`` ``{"error": {"code", "message"}}``; ``gateway``
    (AnyFast's own): ``type`` ``new_api_error``, `` (request id: …)`` appended to the message and a
    top-level ``request_id``; ``bare`` ``{"code": <int>, "msg": …}``; ``text``: the message as plain
    text; ``html``: a proxy's HTML page."""
    if plan.status < 400:
        return plan
    fault = active.get("error_shape")
    shape = fault.params.get("shape", "gateway") if fault is not None else "gateway"
    if shape not in ERROR_SHAPES:
        raise FaultSpecError(f"fault 'error_shape': shape={shape!r}; allowed: {', '.join(ERROR_SHAPES)}")
    if shape == "html":
        html = html_plan(plan.status)
        html.headers += [(k, v) for k, v in plan.headers if k.lower() not in ("content-type", "content-length")]
        return html
    try:
        body = json.loads(plan.body)
    except ValueError:
        return plan
    error = body.get("error") if isinstance(body, dict) else None
    if not isinstance(error, dict):
        return plan
    message, code = str(error.get("message", "")), error.get("code")
    others = [(k, v) for k, v in plan.headers if k.lower() not in ("content-type", "x-request-id")]
    if shape == "zai":
        return json_plan(plan.status, zai_error(str(code or plan.status), message), others)
    if shape == "bare":
        number = int(code) if isinstance(code, str) and code.isdigit() else plan.status
        return json_plan(plan.status, {"code": number, "msg": message}, others)
    if shape == "text":
        return Plan(plan.status, [("Content-Type", "text/plain; charset=utf-8"), *others], message.encode())
    request_id = glm_id(request_body)
    gateway = {"message": f"{message} (request id: {request_id})", "type": "new_api_error", "code": code or ""}
    return json_plan(plan.status, {"error": gateway, "request_id": request_id}, [*others, ("X-Request-Id", request_id)])


def answer_faults(answer: Answer, active: dict[str, Fault]) -> Answer:
    """Faults that change what the model says (finish reasons, the reasoning-only defect, text
    instead of a forced tool call, fenced JSON, a tool-call finish without a call)."""
    if "ignore_tool_choice" in active and answer.tool_calls:
        arguments = json.dumps(json.loads(answer.tool_calls[0].arguments), ensure_ascii=False, indent=2)
        text = f"```json\n{arguments}\n```" if active["ignore_tool_choice"].flag("fence") else arguments
        answer = apply_limits(replace(answer, content=text, tool_calls=()))
    if "json_fence" in active and answer.content:
        answer = apply_limits(replace(answer, content=f"```json\n{answer.content}\n```"))
    if "reasoning_only" in active:
        reasoning = answer.reasoning or "Let me think about how to answer this."
        answer = apply_limits(replace(answer, reasoning=reasoning, content="", tool_calls=()))
    if "empty_tool_calls" in active:
        answer = replace(apply_limits(replace(answer, content="", tool_calls=())), finish_reason="tool_calls")
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


def unfinished_events(answer: Answer, options: WireOptions, active: dict[str, Fault]) -> list[bytes]:
    """A stream that never says how it finished, closed with ``[DONE]`` all the same.

    ``no_finish``: the whole answer, without the chunk that carries ``finish_reason`` (a gateway that
    dropped it). ``done_after_cut``: the first ``after`` chunks (default: half), then a usage chunk with
    ``choices: []`` and ``[DONE]`` (a gateway that lost its upstream mid-stream)."""
    chunks = stream_chunks(answer, replace(options, include_usage=False))
    body = [c for c in chunks if not any(choice.get("finish_reason") for choice in c.get("choices", ()))]
    if "done_after_cut" in active:
        after = active["done_after_cut"].integer("after", len(body) // 2)
        body = body[: max(0, min(after, len(body)))]
        usage = {
            "prompt_tokens": answer.prompt_tokens,
            "completion_tokens": answer.completion_tokens,
            "total_tokens": answer.total_tokens,
        }
        body.append(
            {"id": answer.id, "created": chunks[0]["created"], "model": answer.model, "choices": [], "usage": usage}
        )
    return [encode_event(c) for c in body] + [DONE_EVENT]


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
    if "done_whitespace" in active and events and events[-1] == DONE_EVENT:
        events[-1] = b"data: [DONE]  \t\n\n"
    if "malformed" in active:
        fault = active["malformed"]
        at = max(0, min(fault.integer("after", 1), len(events)))
        events.insert(at, fault.params.get("line", MALFORMED_LINE).encode() + b"\n\n")
    if "keepalive" in active:
        every = max(1, active["keepalive"].integer("every", 3))
        with_pings = [b": PING\n\n"]
        for i, event in enumerate(events, 1):
            with_pings.append(event)
            if i % every == 0 and not event.startswith(b"data: [DONE]"):
                with_pings.append(b": PING\n\n")
        events = with_pings
    if "no_space" in active:
        events = [b"data:" + e[6:] if e.startswith(b"data: ") else e for e in events]
    if "crlf" in active:
        events = [e.replace(b"\n", b"\r\n") for e in events]
    return events, end


__all__ = ["App", "EmulatorConfig", "HTTPRequest", "Plan", "Received"]
