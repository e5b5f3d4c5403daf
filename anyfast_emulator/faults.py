"""Faults and modifiers on demand, reachable by any client.

Two ways to ask for them, same syntax:

* the header ``X-AnyFast-Fault: name[;param=value...][, name...]``, e.g.
  ``X-AnyFast-Fault: rate_limit;times=2;retry_after=0.2;id=abc``;
* an API key starting with ``fault-``: the rest of the key is the spec, where ``~`` may stand for ``;``
  and ``+`` for ``,`` (characters that are safe in any token), e.g. ``fault-rate_limit~times=2~id=abc``.

Every fault takes ``times=K``: it fires on the first K requests carrying it, then requests pass
through normally. Requests are counted per ``id=`` (or per exact spec when there is no id), for the
server's lifetime or until :meth:`FaultCounter.clear` (``Emulator.reset()``). So "429 twice, then
success" is ``rate_limit;times=2``, and concurrent clients keep separate counts with distinct ids.

See :data:`FAULTS` for every name, what it does and its parameters.

>>> [f.name for f in parse_faults("rate_limit;times=2, slow;delay=0.1")]
['rate_limit', 'slow']
>>> faults_from_key("fault-http_503~times=1")[0].params
{'times': '1'}
"""

from __future__ import annotations

import threading
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

FAULT_HEADER = "X-AnyFast-Fault"

ZAI_CODES: Mapping[str, tuple[int, str]] = MappingProxyType(
    {
        "1000": (401, "Authentication failed."),
        "1001": (401, "The Authorization header is missing or not a valid token."),
        "1002": (401, "Invalid Authorization token."),
        "1003": (401, "The Authorization token has expired."),
        "1004": (401, "Authentication failed for the Authorization token."),
        "1110": (403, "Your account is inactive."),
        "1111": (403, "Your account does not exist."),
        "1112": (403, "Your account has been locked; please contact support."),
        "1113": (429, "Your account is in arrears; please recharge."),
        "1120": (403, "Your account cannot be accessed at the moment."),
        "1121": (403, "Your account has been locked for irregular activity."),
        "1210": (400, "Incorrect API call parameters; please check the documentation."),
        "1211": (404, "The model does not exist; please check the model code."),
        "1213": (400, "The prompt parameter was not received."),
        "1214": (400, "Invalid parameter value."),
        "1215": (400, "Two parameters exclude each other."),
        "1261": (400, "Prompt exceeds max length."),
        "1301": (400, "System detected potentially unsafe or sensitive content in input or generation."),
        "1302": (429, "High concurrency usage of this API; please reduce concurrency or contact support."),
        "1303": (429, "High frequency usage of this API; please reduce frequency or contact support."),
        "1304": (429, "The daily call limit for this API has been reached."),
        "1305": (429, "The service may be temporarily overloaded; please try again later."),
        "1308": (429, "Usage limit reached for this period; it resets at 2026-01-01 00:00:00."),
        "1309": (429, "Your plan has expired; please renew it."),
        "1310": (429, "Weekly/monthly limit exhausted; it resets at 2026-01-05 00:00:00."),
    }
)
"""Z.ai's business codes (docs.z.ai, "API error codes"): the HTTP status each comes under and its message."""
KEY_PREFIX = "fault-"

FAULTS: Mapping[str, str] = MappingProxyType(
    {
        # --- refused before an answer
        "reset": "close the connection with a TCP reset before any response",
        "slow": "wait `delay` seconds (default 2) before the response headers; `chunk_delay` seconds between "
        "stream events",
        "slow_stream": "wait `delay` seconds (default 0.2) between stream events",
        "invalid_key": "401 Invalid API key, whatever key was sent",
        "rate_limit": "429 code 1302 with `Retry-After: retry_after` (default 1) or `retry-after-ms: retry_after_ms`",
        "balance": "429 code 1113, insufficient balance (not retryable)",
        "quota": "429 code 1308, usage cap reached (not retryable)",
        "server_error": "`status` (default 500) with a JSON error body; `body=html` sends a gateway's HTML page",
        "http_500": "500 with a JSON error body",
        "http_502": "502 with a gateway's HTML body",
        "http_503": "503 with a JSON error body (`retry_after` adds Retry-After)",
        "http_504": "504 with a gateway's HTML body",
        "context_overflow": "400 code 1261, the prompt exceeds the context window",
        "sensitive_input": "400 code 1301, content safety blocked the input",
        "zai_error": "Z.ai's error `code` (default 1210) with the status it comes under (`status` overrides): "
        + ", ".join(f"{code} ({status})" for code, (status, _) in ZAI_CODES.items()),
        "insufficient_user_quota": "a gateway's quota error: 403 (`status=429` too) code insufficient_user_quota",
        "model_not_found": "a gateway with no route for the model: 503 code model_not_found",
        "strict": "400 for any request field the API does not document",
        "require_reasoning": "400 when thinking is on and an assistant turn with tool_calls (with clear_thinking "
        "false: any assistant turn) lacks reasoning_content",
        "error_body_200": "HTTP 200 whose body is an error object (streams: an error event first)",
        "error_shape": "word any error response in `shape` zai ({error: {code, message}}), gateway (new_api_error, "
        "' (request id: ...)' and a top-level request_id), bare ({code, msg}), text (plain text) or html (a "
        "proxy's page)",
        # --- a broken stream (on a non-streaming request: a body cut short)
        "done_after_cut": "a gateway that lost its upstream: `after` chunks (default: half), then a usage chunk and "
        "[DONE], no finish_reason anywhere (non-streaming: finish_reason null)",
        "no_finish": "the whole answer and [DONE], but no chunk carries finish_reason (non-streaming: null)",
        "stall": "after `after` events (default 1) go silent for `seconds` (default 30), then go on",
        "done_whitespace": "send the last line as `data: [DONE]` with trailing whitespace",
        "stream_cut": "end the stream after `after` events (default: half) without [DONE]; `mode` clean "
        "(chunked, terminated), close (close-delimited body) or abort (connection dropped mid-chunk)",
        "error_event": 'after `after` events (default: half) send data: {"error": ...} (`message`, `code`) and end '
        "the stream without [DONE] (non-streaming: a 200 error body)",
        "malformed": "after `after` events (default 1) send a line that is not JSON (`line`), then continue",
        "keepalive": "send `: PING` comment lines first and every `every` events (default 3)",
        "crlf": "end SSE lines with CRLF",
        "no_space": "write `data:` without the space before the payload",
        "fragment": "write the stream in pieces of `size` bytes (default 7), splitting JSON and UTF-8 sequences",
        # --- an unusual answer
        "finish": "stop with finish_reason `reason` after half the content (e.g. sensitive, network_error)",
        "finish_stop": "finish_reason stop after half the content",
        "finish_length": "finish_reason length after half the content",
        "finish_tool_calls": "finish_reason tool_calls",
        "finish_sensitive": "finish_reason sensitive after half the content",
        "finish_network_error": "finish_reason network_error after half the content",
        "finish_context_window": "finish_reason model_context_window_exceeded after half the content",
        "finish_abort": "finish_reason abort (an upstream failure, GLM-5 on Z.ai) after half the content",
        "finish_unknown": "an undocumented finish_reason (`reason`, default `abort`) after half the content",
        "empty_tool_calls": "finish_reason tool_calls with no tool call in the answer (recorded from GLM-5.2)",
        "reasoning_field": "reasoning in delta.reasoning / message.reasoning instead of reasoning_content",
        "think_tags": "reasoning inlined at the start of content as <think>...</think> (the tags split across "
        "stream chunks)",
        "fresh_tool_ids": "stream tool-call arguments in fragments, each with a fresh id (name on the first only)",
        "reasoning_only": "reasoning, then an empty content and finish_reason stop (a recorded GLM defect)",
        "ignore_tool_choice": "answer a forced tool call in text: the arguments as JSON (`fence=1` wraps them "
        "in ```json)",
        "json_fence": "wrap the content in a ```json markdown fence",
        # --- modifiers (not faults: they choose among legal behaviours)
        "dialect": "answer in stream dialect `name` (glm or openai)",
        "tool_stream": "fragment tool-call arguments even without tool_stream in the request (`off=1`: never)",
        "reasoning_tokens": "report completion_tokens_details.reasoning_tokens",
        "glm_newlines": "GLM's leading newline content deltas (\\n\\n before non-streamed content)",
        "gateway_errors": "word errors as AnyFast's gateway does: type new_api_error, ' (request id: ...)' appended",
    }
)

_FINISH_ALIASES = {
    "finish_stop": "stop",
    "finish_length": "length",
    "finish_tool_calls": "tool_calls",
    "finish_sensitive": "sensitive",
    "finish_network_error": "network_error",
    "finish_context_window": "model_context_window_exceeded",
    "finish_abort": "abort",
}


NUMERIC_PARAMS = frozenset(
    {"times", "delay", "chunk_delay", "after", "every", "size", "status", "retry_after", "retry_after_ms", "seconds"}
)


class FaultSpecError(ValueError):
    """A fault spec names no known fault or has a malformed parameter."""


@dataclass(frozen=True, slots=True)
class Fault:
    """One requested fault: its name, parameters (strings), and the spec text it came from."""

    name: str
    params: Mapping[str, str] = field(default_factory=dict)
    spec: str = ""

    def number(self, key: str, default: float) -> float:
        value = self.params.get(key)
        if value is None:
            return default
        try:
            return float(value)
        except ValueError:
            raise FaultSpecError(f"fault {self.name!r}: {key}={value!r} is not a number") from None

    def integer(self, key: str, default: int) -> int:
        return int(self.number(key, default))

    def flag(self, key: str) -> bool:
        return self.params.get(key, "").lower() in ("1", "true", "yes", "on")

    @property
    def times(self) -> int | None:
        return self.integer("times", 0) if "times" in self.params else None

    @property
    def counter_key(self) -> tuple[str, str]:
        return (self.name, self.params.get("id") or self.spec)

    @property
    def finish_reason(self) -> str | None:
        if self.name == "finish":
            return self.params.get("reason", "stop")
        if self.name == "finish_unknown":
            return self.params.get("reason", "abort")
        return _FINISH_ALIASES.get(self.name)


def parse_faults(spec: str) -> list[Fault]:
    """Faults from a header value: comma-separated ``name;param=value`` items."""
    faults = []
    for item in spec.split(","):
        item = item.strip()
        if not item:
            continue
        name, *pairs = (part.strip() for part in item.split(";"))
        name = name.lower().replace("-", "_")
        if name not in FAULTS:
            raise FaultSpecError(f"unknown fault {name!r}; known faults: {', '.join(FAULTS)}")
        params: dict[str, str] = {}
        for pair in pairs:
            if not pair:
                continue
            key, sep, value = pair.partition("=")
            if not sep or not key.strip():
                raise FaultSpecError(f"fault {name!r}: parameter {pair!r} is not key=value")
            params[key.strip().lower()] = value.strip()
        fault = Fault(name, params, item)
        for key in NUMERIC_PARAMS & params.keys():
            fault.number(key, 0)  # raises a clear error now, not mid-response
        if fault.times is not None and fault.times < 0:
            raise FaultSpecError(f"fault {name!r}: times must be >= 0")
        faults.append(fault)
    return faults


def faults_from_key(api_key: str | None) -> list[Fault]:
    """Faults named by an API key of the form ``fault-<spec>`` (``~`` for ``;``, ``+`` for ``,``)."""
    if not api_key or not api_key.startswith(KEY_PREFIX):
        return []
    return parse_faults(api_key[len(KEY_PREFIX) :].replace("~", ";").replace("+", ","))


def fault_header(name: str, /, **params: object) -> dict[str, str]:
    """The header that asks for one fault, e.g. ``fault_header("rate_limit", times=2, retry_after=0.2)``."""
    return {FAULT_HEADER: fault_spec(name, **params)}


def fault_spec(name: str, /, **params: object) -> str:
    if name not in FAULTS:
        raise FaultSpecError(f"unknown fault {name!r}; known faults: {', '.join(FAULTS)}")
    return ";".join([name, *(f"{key}={value}" for key, value in params.items())])


def fault_key(name: str, /, **params: object) -> str:
    """An API key that asks for one fault, e.g. ``fault_key("http_503", times=1)`` -> ``fault-http_503~times=1``."""
    return KEY_PREFIX + fault_spec(name, **params).replace(";", "~")


class FaultCounter:
    """Counts requests per fault id so ``times=K`` faults fire K times, then stop. Thread-safe."""

    def __init__(self) -> None:
        self._counts: dict[tuple[str, str], int] = {}
        self._lock = threading.Lock()

    def fires(self, fault: Fault) -> bool:
        times = fault.times
        if times is None:
            return True
        with self._lock:
            seen = self._counts.get(fault.counter_key, 0)
            self._counts[fault.counter_key] = seen + 1
        return seen < times

    def active(self, faults: Iterable[Fault]) -> dict[str, Fault]:
        """The faults that fire for this request, by name (a later one of the same name wins)."""
        return {fault.name: fault for fault in faults if self.fires(fault)}

    def clear(self) -> None:
        with self._lock:
            self._counts.clear()
