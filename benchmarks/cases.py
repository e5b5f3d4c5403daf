"""What each contestant does for each benchmark row, as ``prepare() -> run`` pairs.

``prepare`` runs before the clock starts (building a floor's prebuilt chunks, say) and returns the
zero-argument ``run`` that is timed. Every contestant gets the same canned bytes from the same server
and does the same job: read the whole answer (non-stream), consume every chunk (streams), or get the
tool call's arguments as a parsed dict (streamed tool call).
"""

from __future__ import annotations

import importlib.util
import json
from collections.abc import Awaitable, Callable
from typing import Any

import httpx
from pydantic import SecretStr

from benchmarks import canned

Run = Callable[[], Any]
Prepare = Callable[[], Run]
API_KEY = "sk-bench-0000"
NONSTREAM_BATCH = 50
"""Non-stream calls are timed fifty at a time. One call is too short to time alone, and each timed
run follows a full ``gc.collect()``, after which the first calls run on cold caches (about 1 ms here
in all): batches of ten charged a tenth of that to every call, and most to the cheapest contestant."""
REQUEST = json.dumps({"model": canned.MODEL, "messages": [{"role": "user", "content": "Hi"}]}).encode()
HEADERS = {"Authorization": f"Bearer {API_KEY}", "Content-Type": "application/json"}

LANGCHAIN = ("ChatOpenAI", "ChatAnyFast")
LLAMA_INDEX = ("OpenAILike", "AnyFast")
MODULES = {
    "ChatOpenAI": "langchain_openai",
    "ChatAnyFast": "langchain_anyfast",
    "OpenAILike": "llama_index.llms.openai_like",
    "AnyFast": "llama_index_anyfast",
}


def available(name: str) -> bool:
    """Whether a contestant can be imported (the adapters may not exist yet in a checkout)."""
    module = MODULES.get(name)
    if module is None:
        return True
    try:
        return importlib.util.find_spec(module) is not None and hasattr(importlib.import_module(module), name)
    except ImportError:
        return False


def make_model(name: str, base_url: str) -> Any:
    """A framework model pointed at ``base_url``, built the way a user would."""
    if name == "ChatOpenAI":
        from langchain_openai import ChatOpenAI

        return ChatOpenAI(model=canned.MODEL, api_key=API_KEY, base_url=base_url)  # type: ignore[arg-type]
    if name == "ChatAnyFast":
        from langchain_anyfast import ChatAnyFast

        return ChatAnyFast(model=canned.MODEL, api_key=SecretStr(API_KEY), base_url=base_url)
    if name == "OpenAILike":
        from llama_index.llms.openai_like import OpenAILike

        return OpenAILike(
            model=canned.MODEL, api_key=API_KEY, api_base=base_url, is_chat_model=True, is_function_calling_model=True
        )
    if name == "AnyFast":
        from llama_index_anyfast import AnyFast

        return AnyFast(model=canned.MODEL, api_key=SecretStr(API_KEY), api_base=base_url)
    raise ValueError(name)


def _li_messages() -> list[Any]:
    from llama_index.core.llms import ChatMessage

    return [ChatMessage(role="user", content="Hi")]


# --------------------------------------------------------------------------- raw httpx: the floor


def raw_events(response: httpx.Response) -> Any:
    """Parsed chunks of a canned stream: split on blank lines, ``json.loads`` each payload."""
    rest = b""
    for raw in response.iter_bytes():
        *events, rest = (rest + raw).split(b"\n\n")
        for event in events:
            if event != b"data: [DONE]":
                yield json.loads(event[6:])


def raw_case(row: str, base_url: str) -> Prepare:
    http = httpx.Client()
    url = base_url + "/chat/completions"

    def nonstream() -> Any:
        for _ in range(NONSTREAM_BATCH):
            json.loads(http.post(url, content=REQUEST, headers=HEADERS).content)

    def stream() -> Any:
        with http.stream("POST", url, content=REQUEST, headers=HEADERS) as response:
            for _ in raw_events(response):
                pass

    def tool() -> Any:
        pieces: list[str] = []
        with http.stream("POST", url, content=REQUEST, headers=HEADERS) as response:
            for chunk in raw_events(response):
                for call in chunk["choices"][0]["delta"].get("tool_calls") or ():
                    pieces.append(call["function"]["arguments"])
        return json.loads("".join(pieces))

    run = {"nonstream": nonstream, "tool": tool}.get(row, stream)
    return lambda: run


# --------------------------------------------------------------------------- framework floors


def floor_case(framework: str, row: str) -> Prepare:
    chunks_bytes = canned.encode_sse(canned.scenario_chunks(row))
    payloads = [e[6:] for e in chunks_bytes.split(b"\n\n") if e and e != b"data: [DONE]"]
    if framework == "langchain":
        from benchmarks.floor_langchain import FloorChatModel

        lc_model = FloorChatModel()

        def prepare_lc() -> Run:
            lc_model.set_chunks([json.loads(p) for p in payloads])
            return lambda: [None for _ in lc_model.stream("Hi")]

        return prepare_lc
    from benchmarks.floor_llama_index import FloorLLM

    li_model = FloorLLM()
    messages = _li_messages()

    def prepare_li() -> Run:
        li_model.set_chunks([json.loads(p) for p in payloads])
        return lambda: [None for _ in li_model.stream_chat(messages)]

    return prepare_li


# --------------------------------------------------------------------------- framework models


def model_case(name: str, row: str, base_url: str) -> Prepare:
    model = make_model(name, base_url)
    if name in LANGCHAIN:

        def lc_nonstream() -> Any:
            for _ in range(NONSTREAM_BATCH):
                model.invoke("Hi")

        def lc_stream() -> Any:
            for _ in model.stream("Hi"):
                pass

        def lc_tool() -> Any:
            chunks = list(model.stream("Hi"))
            message = chunks[0] + chunks[1:]  # one merge, as langchain-core does after a stream
            return message.tool_calls[0]["args"]

        run = {"nonstream": lc_nonstream, "tool": lc_tool}.get(row, lc_stream)
        return lambda: run
    messages = _li_messages()

    def li_nonstream() -> Any:
        for _ in range(NONSTREAM_BATCH):
            model.chat(messages)

    def li_stream() -> Any:
        for _ in model.stream_chat(messages):
            pass

    def li_tool() -> Any:
        last = None
        for response in model.stream_chat(messages):
            last = response
        return model.get_tool_calls_from_response(last, error_on_no_tool_call=True)[0].tool_kwargs

    run = {"nonstream": li_nonstream, "tool": li_tool}.get(row, li_stream)
    return lambda: run


def check(name: str, row: str, result: Any) -> None:
    """The warm-up call's result must be right, or the timing means nothing."""
    if row == "tool":
        expected = json.loads(canned.tool_arguments())
        if result != expected:
            raise AssertionError(f"{name}: tool arguments came back as {result!r}")


# --------------------------------------------------------------------------- async bursts


def async_call(name: str, base_url: str) -> Callable[[], Awaitable[Any]]:
    """A non-stream async call on a new model (so a new client and pool)."""
    url = base_url + "/chat/completions"
    if name == "raw httpx":
        http = httpx.AsyncClient()

        async def raw() -> Any:
            return json.loads((await http.post(url, content=REQUEST, headers=HEADERS)).content)

        return raw
    model = make_model(name, base_url)
    if name in LANGCHAIN:
        return lambda: model.ainvoke("Hi")
    messages = _li_messages()
    return lambda: model.achat(messages)
