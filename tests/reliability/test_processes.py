"""Scale-out: models pickle (bound and structured ones too) and work in other processes, and forked
workers never use a connection, pool or lock they inherited, so answers never cross.

Every worker asks many ``Repeat the word appleN`` prompts at once; the emulator echoes each prompt,
so an answer carrying another prompt's word (or a protocol error) shows two processes sharing one
connection. Fork workers get the very model the parent used (with its warm pools); spawn and
forkserver workers get it pickled.
"""

from __future__ import annotations

import asyncio
import logging
import multiprocessing
import pickle
import warnings
from collections import Counter
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from typing import Any

import httpx
import process_support
import pytest
from process_support import Person, apples, prompt
from pydantic import SecretStr
from reliability_support import ADAPTERS, Adapter, ask_async, ask_sync, core_client_of, make_model
from testkit import add

from anyfast_emulator import Emulator

PROMPTS = 40
PER_TASK = 5  # prompts a worker asks at once
FORK_WORKERS = 4
POOLED_WORKERS = 2  # spawn and forkserver workers import the frameworks: fewer, kept for the module


@pytest.fixture(scope="module")
def pooled_workers() -> Iterator[Callable[[str], ProcessPoolExecutor]]:
    """A spawn or forkserver pool, made on first use and kept for the module."""
    executors: dict[str, ProcessPoolExecutor] = {}

    def get(method: str) -> ProcessPoolExecutor:
        if method not in executors:
            context = multiprocessing.get_context(method)
            executors[method] = ProcessPoolExecutor(POOLED_WORKERS, mp_context=context)
        return executors[method]

    yield get
    for executor in executors.values():
        executor.shutdown(cancel_futures=True)


def warm_up(model: Any, adapter: Adapter) -> None:
    """Calls in the parent that leave idle keep-alive connections in its sync pool."""
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(4) as threads:
        texts = list(threads.map(lambda n: ask_sync(model, adapter, n % 2 == 0, prompt(n)).text, range(1000, 1004)))
    assert [apples(text) for text in texts] == [[f"apple{n}"] for n in range(1000, 1004)]


def check_answers(results: list[tuple[int, str, int]], emulator: Emulator, parent: int) -> set[int]:
    """Each prompt answered once, with its own word; the worker pids."""
    assert sorted(n for n, _, _ in results) == list(range(PROMPTS))
    crossed = [(n, text) for n, text, _ in results if apples(text) != [f"apple{n}"]]
    assert not crossed, crossed
    sent = Counter(body["messages"][-1]["content"] for body in emulator.requests)
    assert all(sent[prompt(n)] == 1 for n in range(PROMPTS)), sent
    pids = {pid for _, _, pid in results}
    assert parent not in pids
    return pids


def submit_all(executor: ProcessPoolExecutor, model: Any, adapter: Adapter) -> list[Future[Any]]:
    """The prompts in tasks of :data:`PER_TASK`, sync and async, streamed and whole, in turn."""
    return [
        executor.submit(
            process_support.answer,
            model,
            adapter,
            list(range(start, start + PER_TASK)),
            (start // PER_TASK) % 2 == 0,
            (start // PER_TASK) % 4 < 2,
        )
        for start in range(0, PROMPTS, PER_TASK)
    ]


# --------------------------------------------------------------------------- fork


@pytest.mark.parametrize("adapter", ADAPTERS)
async def test_forked_workers_make_their_own_connections(emulator: Emulator, adapter: Adapter) -> None:
    import os

    # No retries, and a short read timeout: a crossed answer fails, and so does one that never comes.
    model = make_model(adapter, base_url=emulator.base_url, api_key=emulator.api_key, max_retries=0, timeout=10)
    warm_up(model, adapter)
    # and an async call whose pool (and lock) is open on this running loop when the workers fork
    assert apples((await ask_async(model, adapter, False, prompt(1004))).text) == ["apple1004"]
    emulator.reset()
    process_support.INHERITED["model"] = model
    executor = ProcessPoolExecutor(FORK_WORKERS, mp_context=multiprocessing.get_context("fork"))
    try:
        with warnings.catch_warnings():  # Python 3.12+ warns about forking a process that runs threads
            warnings.simplefilter("ignore", DeprecationWarning)
            futures = submit_all(executor, "model", adapter)
        results = [item for future in futures for item in await asyncio.wrap_future(future)]
    finally:
        executor.shutdown()
        process_support.INHERITED.clear()
    assert len(check_answers(results, emulator, os.getpid())) > 1
    # The parent's pools still work after its workers have come and gone.
    assert ask_sync(model, adapter, False, prompt(7)).text.count("apple7") == 1
    assert apples((await ask_async(model, adapter, True, prompt(8))).text) == ["apple8"]


@pytest.mark.parametrize("adapter", ADAPTERS)
async def test_locks_held_when_a_worker_forks_do_not_hold_it_up(emulator: Emulator, adapter: Adapter) -> None:
    # Forked while other threads of the parent held them, a child would wait on these locks forever.
    fresh = make_model(adapter, base_url=emulator.base_url, api_key=emulator.api_key, max_retries=0, timeout=10)
    used = make_model(adapter, base_url=emulator.base_url, api_key=emulator.api_key, max_retries=0, timeout=10)
    await ask_async(used, adapter, False, prompt(1))
    pair = fresh._clients  # no client made yet: the child makes both under this lock
    process_support.INHERITED.update(fresh=fresh, used=used)
    executor = ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("fork"))
    try:
        with pair._lock, core_client_of(used, sync=False)._lock, warnings.catch_warnings():
            warnings.simplefilter("ignore", DeprecationWarning)
            futures = [
                executor.submit(process_support.answer, name, adapter, [n], sync, False)
                for n, (name, sync) in enumerate([("fresh", True), ("fresh", False), ("used", False)])
            ]
            results = [item for future in futures for item in await asyncio.wrap_future(future)]
    finally:
        executor.shutdown()
        process_support.INHERITED.clear()
    assert [apples(text) for _, text, _ in results] == [["apple0"], ["apple1"], ["apple2"]]


# --------------------------------------------------------------------------- spawn and forkserver


@pytest.mark.parametrize("method", ["forkserver", "spawn"])
@pytest.mark.parametrize("adapter", ADAPTERS)
def test_a_pickled_model_answers_right_in_workers(
    emulator: Emulator, adapter: Adapter, method: str, pooled_workers: Callable[[str], ProcessPoolExecutor]
) -> None:
    import os

    model = make_model(adapter, base_url=emulator.base_url, api_key=emulator.api_key, max_retries=0)
    warm_up(model, adapter)
    assert apples(asyncio.run(ask_async(model, adapter, True, prompt(1004))).text) == ["apple1004"]
    emulator.reset()
    futures = submit_all(pooled_workers(method), model, adapter)  # the model goes pickled, after its calls
    results = [item for future in futures for item in future.result(timeout=60)]
    check_answers(results, emulator, os.getpid())


def derived(model: Any, adapter: Adapter) -> dict[str, Any]:
    """The model and what users derive from it: bound, tool-bound and structured-output runnables."""
    if adapter == "llama_index":
        return {"model": model, "structured": model.as_structured_llm(Person)}
    return {
        "model": model,
        "bound": model.bind(temperature=0.2, stop=["never-said"]),
        "tools": model.bind_tools([add]),
        "structured": model.with_structured_output(Person),
        "structured-raw": model.with_structured_output(Person, include_raw=True),
        "structured-json": model.with_structured_output(Person, method="json_schema"),
    }


def check_result(name: str, result: Any) -> None:
    if name.startswith("structured"):
        parsed = result["parsed"] if name == "structured-raw" else result
        assert isinstance(parsed, Person), result
    elif name == "tools":
        assert [call["name"] for call in result.tool_calls] == ["add"], result
    else:
        assert apples(result if isinstance(result, str) else result.text) == ["apple5"], result


def value_for(name: str) -> str:
    if name.startswith("structured"):
        return "Alice is 30. Extract the person."
    return "What is 2 plus 3? Use the add tool." if name == "tools" else prompt(5)


@pytest.mark.parametrize("adapter", ADAPTERS)
def test_derived_runnables_work_in_a_spawned_worker(
    emulator: Emulator, adapter: Adapter, pooled_workers: Callable[[str], ProcessPoolExecutor]
) -> None:
    model = make_model(adapter, base_url=emulator.base_url, api_key=emulator.api_key)
    runnables = derived(model, adapter)
    executor = pooled_workers("spawn")
    futures = {
        name: executor.submit(process_support.run, runnable, value_for(name), i % 2 == 0)
        for i, (name, runnable) in enumerate(runnables.items())
    }
    for name, future in futures.items():
        check_result(name, future.result(timeout=60))


# --------------------------------------------------------------------------- pickling in process


def roundtrip(value: Any, caplog: pytest.LogCaptureFixture) -> Any:
    """``value`` pickled and loaded, with no warning or log record of WARNING or above on the way."""
    caplog.clear()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with caplog.at_level(logging.WARNING):
            loaded = pickle.loads(pickle.dumps(value))
    assert [record.getMessage() for record in caplog.records if record.levelno >= logging.WARNING] == []
    return loaded


@pytest.mark.parametrize("adapter", ADAPTERS)
def test_models_and_derived_runnables_pickle_before_and_after_calls(
    emulator: Emulator, adapter: Adapter, caplog: pytest.LogCaptureFixture
) -> None:
    model = make_model(adapter, base_url=emulator.base_url, api_key=emulator.api_key)
    runnables = derived(model, adapter)
    before = {name: roundtrip(runnable, caplog) for name, runnable in runnables.items()}
    # Calls, sync and async, open the originals' pools; they still pickle.
    for name, runnable in runnables.items():
        for sync in (True, False):
            check_result(name, process_support.run(runnable, value_for(name), sync))
    after = {name: roundtrip(runnable, caplog) for name, runnable in runnables.items()}
    for loaded in (before, after):
        for name, runnable in loaded.items():
            for sync in (True, False):
                check_result(name, process_support.run(runnable, value_for(name), sync))


@pytest.mark.parametrize("adapter", ADAPTERS)
def test_a_pickled_model_holds_its_key_as_a_secret(adapter: Adapter, caplog: pytest.LogCaptureFixture) -> None:
    key = "sk-pickled-SECRET-0123456789abcdef"
    model = make_model(adapter, base_url="http://127.0.0.1:1/v1", api_key=key)
    data = pickle.dumps(model)
    assert key.encode() in data  # the worker needs it: the README says so
    loaded = roundtrip(model, caplog)
    assert isinstance(loaded.api_key, SecretStr)
    assert loaded.api_key.get_secret_value() == key
    assert key not in repr(loaded)
    assert key not in str(loaded)


@pytest.mark.parametrize("adapter", ADAPTERS)
def test_a_model_given_an_http_client_says_it_cannot_be_pickled(adapter: Adapter) -> None:
    with httpx.Client() as http:
        model = make_model(adapter, base_url="http://127.0.0.1:1/v1", api_key="k", http_client=http)
        with pytest.raises(TypeError, match=r"given http_client cannot be pickled.*builds its own pool"):
            pickle.dumps(model)
