"""What worker processes run in the scale-out tests (importable by name, so spawned workers find it).

A worker gets a model either pickled (spawn and forkserver workers, or any worker it is sent to) or,
for fork workers, by name from :data:`INHERITED`: the very object the parent used, pools and all, as a
prefork server's workers get it.
"""

from __future__ import annotations

import asyncio
import os
import re
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from pydantic import BaseModel
from reliability_support import Adapter, ask_async, ask_sync

INHERITED: dict[str, Any] = {}
"""Models set by the parent before it forks its workers."""

APPLE = re.compile(r"apple\d+")


def prompt(n: int) -> str:
    return f"Repeat the word apple{n}"


def apples(text: str) -> list[str]:
    """The ``appleN`` words in an answer: exactly ``[f"apple{n}"]`` when it answers its own prompt."""
    return APPLE.findall(text)


class Person(BaseModel):
    """A person's name and age."""

    name: str
    age: int


def answer(model: Any, adapter: Adapter, numbers: list[int], sync: bool, stream: bool) -> list[tuple[int, str, int]]:
    """Ask ``prompt(n)`` for every ``n`` at once (threads, or tasks on one event loop); ``(n, answer, pid)`` each.

    ``model`` is a model, or the name of one in :data:`INHERITED`."""
    if isinstance(model, str):
        model = INHERITED[model]
    if sync:
        with ThreadPoolExecutor(len(numbers)) as threads:
            texts = list(threads.map(lambda n: ask_sync(model, adapter, stream, prompt(n)).text, numbers))
    else:

        async def all_at_once() -> list[str]:
            replies = await asyncio.gather(*(ask_async(model, adapter, stream, prompt(n)) for n in numbers))
            return [reply.text for reply in replies]

        texts = asyncio.run(all_at_once())
    return [(n, text, os.getpid()) for n, text in zip(numbers, texts, strict=True)]


def run(runnable: Any, value: Any, sync: bool) -> Any:
    """``runnable`` (a LangChain runnable, an ``AnyFast`` or a LlamaIndex structured LLM) run once on
    ``value``: the LangChain result, the structured value, or the answer's text."""
    if hasattr(runnable, "invoke"):
        return runnable.invoke(value) if sync else asyncio.run(runnable.ainvoke(value))
    from llama_index.core.llms import ChatMessage

    messages = [ChatMessage(role="user", content=value)]
    response = runnable.chat(messages) if sync else asyncio.run(runnable.achat(messages))
    return response.raw if hasattr(runnable, "output_cls") else response.message.content
