"""Many questions at once: ``abatch`` with a concurrency limit, and ``astream`` side by side.

    python examples/langchain_async_batch.py

ChatAnyFast's async methods run on a real async HTTP client (no threads), sharing one connection
pool, so a batch costs little more than its slowest request. Runs on the built-in emulator unless
ANYFAST_API_KEY is set.
"""

from __future__ import annotations

import asyncio
import time

from _backend import anyfast_backend

from langchain_anyfast import ChatAnyFast

QUESTIONS = [
    "Name one advantage of a mid-drive motor.",
    "Why store a lithium battery half charged?",
    "What does a torque sensor do on an e-bike?",
    "How often should a bike chain be lubricated?",
    "What is a pedelec?",
    "Why do hydraulic disc brakes need less force?",
]


async def main() -> None:
    # Thinking off for short factual answers: cheaper and faster.
    chat = ChatAnyFast(model="glm-5.2", thinking=False, max_tokens=200)

    started = time.perf_counter()
    answers = await chat.abatch([*QUESTIONS], config={"max_concurrency": 4})
    elapsed = time.perf_counter() - started
    for question, answer in zip(QUESTIONS, answers, strict=True):
        print(f"Q: {question}\nA: {answer.text}\n")
    tokens = sum(a.usage_metadata["total_tokens"] for a in answers if a.usage_metadata)
    print(f"{len(answers)} answers in {elapsed:.2f} s, {tokens} tokens in total")

    # Two streams interleaved on one event loop.
    async def stream(question: str) -> str:
        return "".join([chunk.text async for chunk in chat.astream(question)])

    first, second = await asyncio.gather(stream(QUESTIONS[0]), stream(QUESTIONS[1]))
    print("streamed:", len(first), "and", len(second), "characters")


if __name__ == "__main__":
    with anyfast_backend():
        asyncio.run(main())
