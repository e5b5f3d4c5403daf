"""A batch job on Ray: classify a few thousand support tickets with ChatAnyFast, then summarise each class.

    pip install -e ".[ray,demo]"
    python examples/ray_batch.py                  # 3 000 tickets on a local two-worker Ray cluster
    python examples/ray_batch.py --documents 200 --workers 2 --concurrency 8

What it shows:

- **The model travels to the workers as it is.** ``ChatAnyFast`` is built once in the driver and
  handed to each Ray actor; its key travels with it (a pickle of a model holds its key), and each
  worker process opens its own connections on first use.
- **Bounded concurrency per worker.** Each actor classifies one batch at a time with
  ``abatch(..., config={"max_concurrency": N})``: at most ``workers x N`` requests in flight.
- **Retries are the client's.** ``max_retries`` on the model retries rate limits, 5xx answers and
  dropped connections (honouring ``Retry-After``); Ray only restarts work whose process died. A ticket
  that still fails is reported with its error, never dropped, and the job exits non-zero.
- **A LlamaIndex step.** ``TreeSummarize`` with ``AnyFast`` summarises a sample of each class.

Ray runs a local cluster started here (``ray.init(num_cpus=workers)``), without its dashboard or usage
statistics, and talking over loopback only; on a real cluster you would call ``ray.init(address=...)``
instead. Runs on the built-in emulator unless ANYFAST_API_KEY is set: the emulator answers from the
ticket's words, so the labels it gives are the ones the tickets were written for.
"""

from __future__ import annotations

import os

# Before Ray is imported: no usage statistics, and Ray's single-machine mode, in which every Ray
# process binds to and talks over loopback only (the variable's name is Ray's, not a platform check).
os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")
os.environ.setdefault("RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER", "0")

import argparse
import asyncio
import random
import sys
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, Literal

import ray
from _backend import anyfast_backend
from pydantic import BaseModel, Field
from ray.util import ActorPool

from langchain_anyfast import ChatAnyFast

Category = Literal["battery", "motor", "brakes", "delivery", "billing"]
CATEGORIES: tuple[Category, ...] = ("battery", "motor", "brakes", "delivery", "billing")

SYSTEM = "You sort customer support tickets for Kestrel e-bikes. Pick the one category that fits the ticket best."


class Ticket(BaseModel):
    """The category of one support ticket."""

    category: Category = Field(description="what the ticket is about")


# ----------------------------------------------------------------------------- the documents

# Each template names its own category word and no other, so a reader (and the emulator) can tell.
TEMPLATES: dict[Category, tuple[str, ...]] = {
    "battery": (
        "My {bike} battery goes from full to empty after {n} km.",
        "The battery of my {bike} will not charge past {pct}%.",
        "Can I leave the battery of my {bike} in a cold garage all winter?",
    ),
    "motor": (
        "The motor of my {bike} cuts out on hills after {n} minutes.",
        "A grinding noise comes from the motor when I pedal my {bike} above {n} km/h.",
        "Since the update my {bike} motor gives no assistance in turbo mode.",
    ),
    "brakes": (
        "The rear brakes on my {bike} squeal in the rain.",
        "After {n} km the brakes of my {bike} feel soft. Do the pads need replacing?",
        "How often should the hydraulic brakes of a {bike} be bled?",
    ),
    "delivery": (
        "Order {order} still has no delivery date after {n} days.",
        "The courier left my {bike} at the wrong house; the delivery note says {order}.",
        "Can I move the delivery of order {order} to next week?",
    ),
    "billing": (
        "I paid twice for order {order}; please check my billing.",
        "The billing address on invoice {order} is wrong.",
        "The billing for my {bike} lease shows {n} EUR too much this month.",
    ),
}
BIKES = ("Kestrel K2", "Kestrel Cargo", "Kestrel City 7", "Kestrel Trail X")


@dataclass(frozen=True)
class Document:
    id: int
    text: str
    written_as: Category
    """The category the generator wrote the ticket for."""


def make_documents(count: int, seed: int = 14) -> list[Document]:
    """``count`` short tickets, the categories in turn, the details drawn from a seeded generator."""
    rng = random.Random(seed)
    documents = []
    for i in range(count):
        category = CATEGORIES[i % len(CATEGORIES)]
        template = rng.choice(TEMPLATES[category])
        text = template.format(
            bike=rng.choice(BIKES), n=rng.randint(2, 90), pct=rng.randint(20, 90), order=f"KB-{rng.randint(1000, 9999)}"
        )
        documents.append(Document(i, text, category))
    return documents


def batches(documents: list[Document], size: int) -> Iterator[list[Document]]:
    for start in range(0, len(documents), size):
        yield documents[start : start + size]


# ----------------------------------------------------------------------------- the workers


@dataclass(frozen=True)
class Outcome:
    id: int
    category: str | None
    error: str | None = None


@ray.remote(num_cpus=1)
class Classifier:
    """One per worker process: the shipped model, and one batch at a time on the actor's event loop."""

    def __init__(self, chat: ChatAnyFast, concurrency: int) -> None:
        self.classify = chat.with_structured_output(Ticket)
        self.config: Any = {"max_concurrency": concurrency}

    def ready(self) -> bool:
        return True

    async def run(self, batch: list[Document]) -> list[Outcome]:
        inputs = [[("system", SYSTEM), ("human", doc.text)] for doc in batch]
        # return_exceptions: a ticket that failed after the client's retries is reported, not lost
        # with its batch.
        answers = await self.classify.abatch(inputs, config=self.config, return_exceptions=True)
        return [
            Outcome(doc.id, answer.category)
            if isinstance(answer, Ticket)
            else Outcome(doc.id, None, f"{type(answer).__name__}: {answer}")
            for doc, answer in zip(batch, answers, strict=True)
        ]


# ----------------------------------------------------------------------------- progress


class Progress:
    """A live bar on a terminal (with rich), a line per tenth of the job otherwise."""

    def __init__(self, total: int) -> None:
        self.total, self.done, self._next_line = total, 0, 0
        self._bar: Any = None
        if sys.stdout.isatty():
            try:
                from rich.progress import Progress as RichProgress
            except ImportError:  # the demo extra brings rich; without it, plain lines
                pass
            else:
                self._bar = RichProgress()
                self._task = self._bar.add_task("classifying", total=total)

    @contextmanager
    def shown(self) -> Iterator[Progress]:
        if self._bar is None:
            yield self
            return
        with self._bar:
            yield self

    def advance(self, count: int, errors: int) -> None:
        self.done += count
        if self._bar is not None:
            self._bar.update(self._task, advance=count, description=f"classifying ({errors} errors)")
        elif self.done >= self._next_line or self.done == self.total:
            print(f"progress: {self.done}/{self.total} documents ({100 * self.done // self.total}%), {errors} errors")
            self._next_line = self.done + max(self.total // 10, 1)


# ----------------------------------------------------------------------------- the job


def start_workers(chat: ChatAnyFast, workers: int, concurrency: int) -> list[Any]:
    """One actor per worker, each with its own copy of ``chat``; returns once all are up."""
    actors = [Classifier.remote(chat, concurrency) for _ in range(workers)]  # type: ignore[attr-defined]
    ray.get([actor.ready.remote() for actor in actors])
    return actors


def classify_all(actors: list[Any], documents: list[Document], batch_size: int) -> list[Outcome]:
    pool = ActorPool(actors)
    outcomes: list[Outcome] = []
    progress = Progress(len(documents))
    with progress.shown():
        # One batch per actor at a time; results in the order they finish.
        for result in pool.map_unordered(lambda actor, batch: actor.run.remote(batch), batches(documents, batch_size)):
            outcomes.extend(result)
            progress.advance(len(result), sum(o.error is not None for o in outcomes))
    return outcomes


async def summarise(documents: list[Document], outcomes: list[Outcome], sample: int) -> dict[str, str]:
    """The LlamaIndex step: ``TreeSummarize`` with ``AnyFast`` over a sample of each class, concurrently."""
    from llama_index.core.response_synthesizers import TreeSummarize

    from llama_index_anyfast import AnyFast

    summarizer = TreeSummarize(llm=AnyFast(thinking=False, max_tokens=300))
    text_of = {doc.id: doc.text for doc in documents}
    by_class: dict[str, list[str]] = {category: [] for category in CATEGORIES}
    for outcome in outcomes:
        if outcome.category is not None and len(by_class[outcome.category]) < sample:
            by_class[outcome.category].append(text_of[outcome.id])

    async def one(category: str, texts: list[str]) -> tuple[str, str]:
        query = f"In one sentence: what do these {category} tickets have in common?"
        return category, str(await summarizer.aget_response(query, texts))

    pairs = await asyncio.gather(*(one(c, texts) for c, texts in by_class.items() if texts))
    return dict(pairs)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--documents", type=int, default=3000, help="tickets to classify (default 3000)")
    parser.add_argument("--workers", type=int, default=2, help="Ray worker processes (default 2)")
    parser.add_argument("--concurrency", type=int, default=16, help="requests in flight per worker (default 16)")
    parser.add_argument("--batch-size", type=int, default=100, help="tickets per Ray call (default 100)")
    parser.add_argument("--sample", type=int, default=20, help="tickets per class to summarise (default 20)")
    parser.add_argument(
        "--rate-limit",
        type=int,
        default=0,
        metavar="N",
        help="offline only: the emulator answers the first N requests with 429 and Retry-After (default 0)",
    )
    args = parser.parse_args(argv)
    for name in ("documents", "workers", "concurrency", "batch_size", "sample"):
        if getattr(args, name) < 1:
            parser.error(f"--{name.replace('_', '-')} must be at least 1")
    if args.rate_limit < 0:
        parser.error("--rate-limit must be at least 0")

    with anyfast_backend() as backend:
        print(f"backend: {backend.describe()}")
        headers = None
        if args.rate_limit:
            if not backend.emulated:
                parser.error("--rate-limit asks the built-in emulator for faults: run without ANYFAST_API_KEY")
            from anyfast_emulator import fault_header

            headers = fault_header("rate_limit", times=args.rate_limit, retry_after=0.05)
            print(f"the emulator answers the first {args.rate_limit} requests with 429; the client retries them")
        # Thinking off: a label needs no reasoning. The client retries what is worth retrying.
        chat = ChatAnyFast(thinking=False, max_tokens=200, max_retries=3, default_headers=headers)
        documents = make_documents(args.documents)

        started = time.perf_counter()
        ray.init(num_cpus=args.workers, include_dashboard=False, logging_level="warning")
        try:
            actors = start_workers(chat, args.workers, args.concurrency)
            print(
                f"ray {ray.__version__}: a local cluster of {args.workers} workers, up to {args.concurrency} "
                f"requests in flight per worker (ready in {time.perf_counter() - started:.1f} s)"
            )
            print(f"classifying {len(documents)} documents in batches of {args.batch_size}")
            started = time.perf_counter()
            outcomes = classify_all(actors, documents, args.batch_size)
            elapsed = time.perf_counter() - started
        finally:
            ray.shutdown()

        if backend.emulator is not None:
            sent, count = len(backend.emulator.requests), len(documents)
            print(f"the emulator received {sent} requests for {count} documents ({sent - count} retries)")
        errors = [o for o in outcomes if o.error is not None]
        labelled = {o.id: o.category for o in outcomes if o.category is not None}
        agree = sum(labelled.get(doc.id) == doc.written_as for doc in documents)
        print(
            f"classified {len(labelled)} of {len(documents)} documents in {elapsed:.1f} s "
            f"({len(outcomes) / elapsed:.0f} documents/s), errors: {len(errors)}"
        )
        print(f"agreement with the categories the tickets were written for: {agree}/{len(documents)}")
        counts = Counter(labelled.values())
        for category in CATEGORIES:
            print(f"  {category:<10} {counts.get(category, 0):>6}")
        for outcome in errors[:5]:
            print(f"  error on document {outcome.id}: {outcome.error}")

        print(f"summaries (LlamaIndex TreeSummarize with AnyFast, {args.sample} tickets per class):")
        for category, summary in asyncio.run(summarise(documents, outcomes, args.sample)).items():
            print(f"  {category}: {summary}")
    missing = len(documents) - len(outcomes)
    return 1 if errors or missing else 0


if __name__ == "__main__":
    raise SystemExit(main())
