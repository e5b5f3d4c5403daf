"""The API key never shows (this file is its one home), through either adapter and the core clients on
their own: not in reprs, errors and their chains and tracebacks, DEBUG logs, serialization, tracing
params, instrumentation events, callback arguments or cassettes. A distinctive key is used everywhere so
any leak, whole or cut, is found by a plain search. (A pickle does hold the key, by design: see
``test_processes.py``.)
"""

from __future__ import annotations

import asyncio
import inspect
import logging
import re
import traceback
import uuid
import warnings
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from core.core_support import KEY as CORE_KEY
from core.core_support import Body, Harness, chunk, json_response, request, sse, sse_response
from reliability_support import ADAPTERS, MODES, Adapter, Mode, ask, core_client_of, make_model, uid
from testkit import exception_chain as chain

from anyfast_core import AnyFastClient, AnyFastError, AsyncAnyFastClient
from anyfast_core.settings import resolve_api_key
from anyfast_emulator import Emulator

KEY = "sk-reliability-SECRET-7f3a9c2e5d1b4a60c8e2"
PIECES = (KEY, KEY[-20:], KEY[3:23])  # the whole key, and pieces long enough to identify it
CASSETTES = Path(__file__).resolve().parents[2] / "cassettes"
BEARER = re.compile(r"(?i)bearer\s+(?!REDACTED\b)[A-Za-z0-9._~+/=-]{8,}")
KEYLIKE = re.compile(r"\b(?:sk|ak|pk)-[A-Za-z0-9_-]{16,}\b")


def assert_clean(*texts: Any) -> None:
    for text in texts:
        shown = text if isinstance(text, str) else repr(text)
        for piece in PIECES:
            assert piece not in shown, f"the key leaked: ...{shown[max(0, shown.find(piece) - 80) :][:200]}"


def assert_error_clean(exc: BaseException) -> None:
    assert_clean("".join(traceback.format_exception(exc)))
    for link in chain(exc):
        assert_clean(str(link), repr(link), link.args, getattr(link, "partial", None), vars(link))


# --------------------------------------------------------------------------- errors of every kind

SCENARIOS: dict[str, tuple[list[str], dict[str, Any]]] = {
    # name: (server-wide faults, model settings); "malformed" applies to streams, "malformed-body" to both
    "server-error": (["http_500;retry_after=0.01"], {"max_retries": 1}),
    "rate-limit": (["rate_limit;retry_after=0.01"], {"max_retries": 1}),
    "balance": (["balance"], {}),
    "context-overflow": (["context_overflow"], {}),
    "read-timeout": (["slow;delay=1"], {"timeout": 0.2}),
    "stream-cut": (["stream_cut;mode=abort"], {"max_retries": 0}),
    "error-event": (["error_event"], {}),
    "malformed": (["malformed"], {}),
    "malformed-body": (["server_error;status=200;body=html"], {}),
    "finish-sensitive": (["finish_sensitive"], {}),
    "reset": (["reset"], {"max_retries": 0}),
}


@pytest.fixture(scope="module")
def fault_servers() -> Iterator[dict[str, Emulator]]:
    """One emulator per scenario, its fault applied to every request (so the key can stay ours)."""
    servers = {name: Emulator(faults=faults).start() for name, (faults, _) in SCENARIOS.items()}
    yield servers
    for server in servers.values():
        server.stop()


@pytest.mark.parametrize(
    ("scenario", "mode"),
    [(name, mode) for name in sorted(SCENARIOS) for mode in MODES if mode.stream or name != "malformed"],
    ids=str,
)
def test_errors_never_show_the_key(fault_servers: dict[str, Emulator], scenario: str, mode: Mode) -> None:
    server = fault_servers[scenario]
    model = make_model(mode.adapter, base_url=server.base_url, api_key=KEY, **SCENARIOS[scenario][1])
    with pytest.raises(AnyFastError) as info:
        ask(model, mode, "Tell me a story")
    assert_error_clean(info.value)


@pytest.mark.parametrize("mode", MODES, ids=str)
def test_authentication_and_connection_errors_never_show_the_key(
    keyed_emulator: Emulator, closed_port_url: str, mode: Mode, delays: list[float]
) -> None:
    for base_url in (keyed_emulator.base_url, closed_port_url):
        model = make_model(mode.adapter, base_url=base_url, api_key=KEY)
        with pytest.raises(AnyFastError) as info:
            ask(model, mode, "Hi")
        assert_error_clean(info.value)


@pytest.mark.parametrize("adapter", ADAPTERS)
def test_malformed_key_error_does_not_quote_it(emulator: Emulator, adapter: Adapter) -> None:
    bad = KEY[:20] + " " + KEY[20:]  # a pasted key with a space: httpx would quote the header value
    model = make_model(adapter, base_url=emulator.base_url, api_key=bad)
    with pytest.raises(AnyFastError, match="ANYFAST_API_KEY") as info:
        ask(model, Mode(adapter, sync=True, stream=False), "Hi")
    assert_error_clean(info.value)
    assert KEY[:20] not in str(info.value)
    assert emulator.received == []


@pytest.mark.parametrize("adapter", ADAPTERS)
def test_validation_errors_do_not_echo_the_constructor_arguments(emulator: Emulator, adapter: Adapter) -> None:
    with pytest.raises(ValueError, match="temperature") as info:
        make_model(adapter, base_url=emulator.base_url, api_key=KEY, temperature=5)
    assert_error_clean(info.value)


# --------------------------------------------------------------------------- objects and serialization


@pytest.mark.parametrize("source", ["argument", "environment"])
@pytest.mark.parametrize("adapter", ADAPTERS)
def test_models_and_clients_do_not_show_the_key(
    emulator: Emulator, adapter: Adapter, source: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    if source == "environment":
        monkeypatch.setenv("ANYFAST_API_KEY", KEY)
    model = make_model(adapter, base_url=emulator.base_url, api_key=KEY if source == "argument" else None)
    ask(model, Mode(adapter, sync=True, stream=False), "Hi")  # the clients exist now
    sync_client, async_client = core_client_of(model, sync=True), core_client_of(model, sync=False)
    assert_clean(repr(model), str(model), model.model_dump(), model.model_dump_json())
    for client in (sync_client, async_client):
        assert_clean(repr(client), str(client), vars(client))
    assert sync_client.api_key is not None
    assert sync_client.api_key.get_secret_value() == KEY  # kept, only hidden


@pytest.mark.parametrize("source", ["argument", "environment"])
def test_langchain_dumps_dumpd_and_runnables(emulator: Emulator, source: str, monkeypatch: pytest.MonkeyPatch) -> None:
    from langchain_core.load import dumpd, dumps

    if source == "environment":
        monkeypatch.setenv("ANYFAST_API_KEY", KEY)
    model = make_model("langchain", base_url=emulator.base_url, api_key=KEY if source == "argument" else None)
    structured = model.with_structured_output({"title": "Answer", "type": "object", "properties": {}})
    for thing in (model, model.bind_tools([_add_tool()]), structured):
        assert_clean(dumps(thing), dumpd(thing), dumps(thing, pretty=True))
    if source == "argument":  # a key given explicitly is dumped as a reference to the variable
        assert dumpd(model)["kwargs"]["api_key"] == {"lc": 1, "type": "secret", "id": ["ANYFAST_API_KEY"]}


def test_langchain_tracing_params(emulator: Emulator) -> None:
    model = make_model("langchain", base_url=emulator.base_url, api_key=KEY, temperature=0.5)
    assert_clean(
        model._get_ls_params(),
        model._get_ls_params(stop=["x"], temperature=0.2),
        model._get_invocation_params(),
        model._identifying_params,
    )


def test_llama_index_to_dict_and_to_json(emulator: Emulator) -> None:
    model = make_model("llama_index", base_url=emulator.base_url, api_key=KEY)
    assert_clean(model.to_dict(), model.to_json(), model.dict(), model.json())
    assert "api_key" not in model.to_dict()


# --------------------------------------------------------------------------- logs, callbacks, events


@pytest.mark.parametrize("adapter", ADAPTERS)
def test_debug_logs_never_show_the_key(
    emulator: Emulator, keyed_emulator: Emulator, adapter: Adapter, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)  # root: httpx, httpcore, anyfast_core, langchain, llama_index, ...
    for name in ("httpx", "httpcore", "anyfast_core", "langchain", "langchain_core", "llama_index"):
        logging.getLogger(name).setLevel(logging.DEBUG)
    try:
        tag = uid()
        retrying = Emulator.fault_header("rate_limit", times=1, retry_after=0.01, id=tag)
        with Emulator(faults=[f"{retrying['X-AnyFast-Fault']}"]) as flaky:
            for mode in (m for m in MODES if m.adapter == adapter):
                model = make_model(adapter, base_url=flaky.base_url, api_key=KEY)
                ask(model, mode, "Hi")
        for mode in (m for m in MODES if m.adapter == adapter):
            bad = make_model(adapter, base_url=keyed_emulator.base_url, api_key=KEY)
            with pytest.raises(AnyFastError):
                ask(bad, mode, "Hi")
    finally:
        for name in ("httpx", "httpcore", "anyfast_core", "langchain", "langchain_core", "llama_index"):
            logging.getLogger(name).setLevel(logging.NOTSET)
    assert any(r.name.startswith("httpcore") for r in caplog.records)  # DEBUG really was on
    assert any(r.name == "anyfast_core" and "Retrying" in r.getMessage() for r in caplog.records)
    assert_clean(caplog.text, [r.getMessage() for r in caplog.records], [r.args for r in caplog.records])


def test_langchain_debug_output_and_callbacks(emulator: Emulator, capsys: pytest.CaptureFixture[str]) -> None:
    from langchain_core.callbacks import BaseCallbackHandler
    from langchain_core.globals import set_debug, set_verbose
    from langchain_core.tracers.run_collector import RunCollectorCallbackHandler

    seen: list[Any] = []

    class Recorder(BaseCallbackHandler):
        def on_chat_model_start(self, serialized: Any, messages: Any, **kwargs: Any) -> None:
            seen.append((serialized, messages, kwargs))

        def on_llm_end(self, response: Any, **kwargs: Any) -> None:
            seen.append((response, kwargs))

        def on_llm_error(self, error: BaseException, **kwargs: Any) -> None:
            seen.append((error, kwargs))

    runs = RunCollectorCallbackHandler()
    config = {"callbacks": [Recorder(), runs], "metadata": {"case": "secrets"}}
    model = make_model("langchain", base_url=emulator.base_url, api_key=KEY)
    failing = make_model("langchain", base_url=emulator.base_url, api_key=Emulator.fault_key("http_503"), max_retries=0)
    set_debug(True)
    set_verbose(True)
    try:
        model.invoke("Hi", config=config)
        list(model.stream("Hi", config=config))
        asyncio.run(model.ainvoke("Hi", config=config))
        with pytest.raises(AnyFastError):
            failing.invoke("Hi", config=config)
    finally:
        set_debug(False)
        set_verbose(False)
    output = capsys.readouterr()
    assert "[llm/start]" in output.out  # the debug tracer printed the runs
    assert len(seen) >= 7
    assert_clean(output.out, output.err, seen, [run.model_dump_json() for run in runs.traced_runs])


def test_llama_index_events_spans_and_callbacks(emulator: Emulator) -> None:
    import llama_index.core.instrumentation as instrument
    from llama_index.core.callbacks import CallbackManager, LlamaDebugHandler
    from llama_index.core.instrumentation.event_handlers import BaseEventHandler
    from llama_index.core.instrumentation.span_handlers import SimpleSpanHandler

    events: list[Any] = []

    class Collect(BaseEventHandler):
        @classmethod
        def class_name(cls) -> str:
            return "Collect"

        def handle(self, event: Any, **kwargs: Any) -> None:
            events.append(event)

    spans_seen: list[Any] = []

    class Spans(SimpleSpanHandler):
        def new_span(
            self,
            id_: str,
            bound_args: inspect.BoundArguments,
            instance: Any | None = None,
            parent_span_id: str | None = None,
            tags: dict[str, Any] | None = None,
            **kwargs: Any,
        ) -> Any:
            spans_seen.append((id_, bound_args, instance))
            return super().new_span(id_, bound_args, instance, parent_span_id, tags, **kwargs)

    dispatcher = instrument.get_dispatcher()  # type: ignore[attr-defined]
    handler, span_handler = Collect(), Spans()
    dispatcher.add_event_handler(handler)
    dispatcher.add_span_handler(span_handler)
    debug = LlamaDebugHandler(print_trace_on_end=False)
    try:
        model = make_model(
            "llama_index", base_url=emulator.base_url, api_key=KEY, callback_manager=CallbackManager([debug])
        )
        for mode in (m for m in MODES if m.adapter == "llama_index"):
            ask(model, mode, "Hi")
        model.complete("Hi")
        failing = make_model(
            "llama_index",
            base_url=emulator.base_url,
            api_key=Emulator.fault_key("http_503"),
            max_retries=0,
            callback_manager=CallbackManager([debug]),
        )
        with pytest.raises(AnyFastError):
            failing.chat(_li_messages())
    finally:
        dispatcher.event_handlers.remove(handler)
        dispatcher.span_handlers.remove(span_handler)
    assert len(events) >= 10
    assert spans_seen
    payloads = [event.payload for event in debug.get_events()]
    assert payloads
    assert_clean(
        [repr(event) for event in events],
        [event.model_dump_json() for event in events],
        [repr(span) for span in spans_seen],
        payloads,
    )


# --------------------------------------------------------------------------- cassettes and base URLs


def test_cassettes_hold_no_bearer_token_or_key() -> None:
    files = [p for p in CASSETTES.rglob("*") if p.is_file()] if CASSETTES.exists() else []
    for path in files:
        text = path.read_text("utf-8", errors="replace")
        assert not BEARER.search(text), f"{path}: bearer token"
        assert not KEYLIKE.search(text), f"{path}: key-like string"
        assert_clean(text)


@pytest.mark.parametrize("adapter", ADAPTERS)
def test_recording_a_cassette_keeps_the_key_out(
    emulator: Emulator, adapter: Adapter, vcr_config: dict[str, Any], tmp_path: Path
) -> None:
    """Record with the project's VCR settings (those every cassette is made with) and read the file."""
    import vcr

    cassette = tmp_path / "secret.yaml"
    settings = {**vcr_config, "record_mode": "all", "match_on": ["method", "path"]}
    with vcr.VCR().use_cassette(str(cassette), **settings):
        for mode in (m for m in MODES if m.adapter == adapter and m.sync):
            ask(make_model(adapter, base_url=emulator.base_url, api_key=KEY), mode, "Hi")
    text = cassette.read_text()
    assert "/chat/completions" in text  # something was recorded
    assert not BEARER.search(text)
    assert not KEYLIKE.search(text)
    assert_clean(text)


@pytest.mark.parametrize("adapter", ADAPTERS)
def test_plain_http_to_a_remote_host_warns_once_without_connecting(adapter: Adapter) -> None:
    url = f"http://anyfast-{uuid.uuid4().hex[:8]}.example.com/v1"
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        model = make_model(adapter, base_url=url, api_key=KEY)
        core_client_of(model, sync=True)
        core_client_of(model, sync=False)
        make_model(adapter, base_url=url, api_key=KEY)  # a second model on the same URL
    insecure = [w for w in caught if "plain http" in str(w.message)]
    assert len(insecure) == 1, [str(w.message) for w in caught]
    assert issubclass(insecure[0].category, UserWarning)
    assert_clean(str(insecure[0].message))


@pytest.mark.parametrize("adapter", ADAPTERS)
@pytest.mark.parametrize("url", ["https://anyfast.example.com/v1", "http://127.0.0.1:9/v1", "http://localhost:9/v1"])
def test_https_and_loopback_do_not_warn(adapter: Adapter, url: str) -> None:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        make_model(adapter, base_url=url, api_key=KEY)
    assert not [w for w in caught if "plain http" in str(w.message)]


def _add_tool() -> dict[str, Any]:
    return {
        "type": "function",
        "function": {"name": "add", "parameters": {"type": "object", "properties": {"a": {"type": "integer"}}}},
    }


def _li_messages() -> list[Any]:
    from llama_index.core.llms import ChatMessage

    return [ChatMessage(role="user", content="Hi")]


# --------------------------------------------------------------------------- the core clients on their own
# Scripted servers (the core tests' harness), so every reply a server could make is covered, on the sync
# and the async client in turn.


@pytest.fixture(params=["sync", "async"])
def client_mode(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def harness(client_mode: str) -> Callable[..., Harness]:
    """``harness(*replies, **client_kwargs)``: a scripted server and a core client of ``client_mode``."""
    return Harness.maker(client_mode)


def assert_no_key(exc: BaseException) -> None:
    text = "".join(traceback.format_exception(type(exc), exc, exc.__traceback__))
    assert CORE_KEY not in text
    for link in chain(exc):
        assert CORE_KEY not in str(link)
        assert CORE_KEY not in repr(link)
        assert CORE_KEY not in repr(getattr(link, "partial", None))
        assert CORE_KEY not in repr(link.args)


def echo_key(status: int) -> Callable[[httpx.Request], httpx.Response]:
    """A server that quotes the Authorization header back, as some do in auth errors."""

    def reply(req: httpx.Request) -> httpx.Response:
        return json_response(status, {"error": {"message": f"Bad key: {req.headers['authorization']}"}})

    return reply


def test_clients_do_not_show_the_key() -> None:
    for client in (AnyFastClient(api_key=CORE_KEY), AsyncAnyFastClient(api_key=CORE_KEY)):
        for text in (repr(client), str(client), repr(vars(client)), repr(client.api_key)):
            assert CORE_KEY not in text
        assert client.api_key is not None
        assert client.api_key.get_secret_value() == CORE_KEY  # kept, only hidden


def test_secret_str_key_is_accepted_and_hidden() -> None:
    secret = resolve_api_key(CORE_KEY)
    assert secret is not None
    assert CORE_KEY not in repr(secret)
    assert CORE_KEY not in str(secret)
    assert AnyFastClient(api_key=secret).api_key is not None


@pytest.mark.parametrize(
    "replies",
    [
        pytest.param([echo_key(401)], id="401-echo"),
        pytest.param([echo_key(400)], id="400-echo"),
        pytest.param([echo_key(200)], id="200-error-body-echo"),
        pytest.param([echo_key(503)], id="503-echo-retried"),
        pytest.param([httpx.ConnectError("refused")], id="connect-error"),
        pytest.param([httpx.ReadTimeout("slow")], id="read-timeout"),
        pytest.param([lambda _: json_response(200, b"garbage")], id="malformed"),
    ],
)
def test_errors_do_not_show_the_key(
    harness: Callable[..., Harness], delays: list[float], replies: list[object]
) -> None:
    with pytest.raises(AnyFastError) as info:
        harness(*replies).chat()
    assert_no_key(info.value)
    with pytest.raises(AnyFastError) as info:
        harness(*replies).stream()
    assert_no_key(info.value)


@pytest.mark.parametrize(
    "body",
    [
        pytest.param(Body([sse(chunk({"content": "x"}), done=False)], httpx.ReadError("reset")), id="reset"),
        pytest.param(Body([sse(chunk({"content": "x"}), done=False)], httpx.ReadTimeout("slow")), id="timeout"),
        pytest.param(Body([sse(chunk({"content": "x"}), done=False)]), id="truncated"),
        pytest.param(Body([sse({"error": {"message": f"key {CORE_KEY} is over quota"}})]), id="error-event-echo"),
        pytest.param(Body([sse(b"{bad json")]), id="malformed"),
    ],
)
def test_stream_errors_do_not_show_the_key(harness: Callable[..., Harness], body: Body) -> None:
    _, exc = harness(sse_response(body)).stream_deltas_then_error()
    assert isinstance(exc, AnyFastError)
    assert_no_key(exc)


def test_unusable_and_missing_keys_do_not_show(harness: Callable[..., Harness]) -> None:
    for api_key in (CORE_KEY + "\n\x00", CORE_KEY + " x", None):
        with pytest.raises(AnyFastError) as info:
            harness(json_response(200, {}), api_key=api_key).chat()
        assert_no_key(info.value)


def test_logs_at_debug_do_not_show_the_key(
    caplog: pytest.LogCaptureFixture, delays: list[float], emulator: Emulator
) -> None:
    """A real loopback exchange, so httpx and httpcore log all they would in production."""
    with caplog.at_level(logging.DEBUG):
        server = emulator
        for name in ("httpx", "httpcore", "anyfast_core"):
            caplog.set_level(logging.DEBUG, logger=name)  # restored after the test, unlike setLevel
        with AnyFastClient(api_key=CORE_KEY, base_url=server.base_url) as client:
            with client.stream(request(tool_stream=True)) as stream:
                assert list(stream)
            assert client.chat(request(tool_stream=True)).message.content

        async def run() -> None:
            client = AsyncAnyFastClient(api_key=CORE_KEY, base_url=server.base_url)
            async with client, await client.stream(request()) as stream:
                assert [d async for d in stream]

        asyncio.run(run())
    loggers = {record.name.split(".")[0] for record in caplog.records}
    assert {"httpx", "httpcore"} <= loggers  # the logging really happened
    for record in caplog.records:
        assert CORE_KEY not in record.getMessage()
        assert CORE_KEY not in repr(record.args)
        assert CORE_KEY not in repr(record.__dict__)


def test_retry_logs_do_not_show_an_echoed_key(
    harness: Callable[..., Harness], delays: list[float], caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.DEBUG), pytest.raises(AnyFastError):
        harness(echo_key(503), max_retries=2).chat()
    assert any("Retrying" in r.getMessage() for r in caplog.records)
    assert all(CORE_KEY not in r.getMessage() for r in caplog.records)


@pytest.mark.parametrize(
    ("key", "message", "shown"),
    [
        ("k", "Invalid API key provided", "Invalid API key provided"),
        ("test", "the test key is not valid", "the test key is not valid"),
        ("sk-1234", "Bad key: sk-1234", "Bad key: sk-1234"),
        ("sk-12345", "Bad key: sk-12345.", "Bad key: **********."),
        ("sk-12345", "sk-12345 and again 'sk-12345'", "********** and again '**********'"),
        ("password", "passwords differ; password", "passwords differ; **********"),
    ],
)
def test_redact_masks_only_whole_keys_long_enough_to_be_secrets(key: str, message: str, shown: str) -> None:
    from pydantic import SecretStr

    from anyfast_core.response import redact

    error = redact(AnyFastError(message), SecretStr(key))
    assert (error.message, str(error)) == (shown, shown)


def test_a_short_key_echoed_by_the_server_leaves_the_message_readable(harness: Callable[..., Harness]) -> None:
    def reply(req: httpx.Request) -> httpx.Response:
        return json_response(401, {"error": {"message": "Invalid API key provided"}})

    with pytest.raises(AnyFastError, match="Invalid API key provided"):
        harness(reply, api_key="k").chat()
