"""Throughput: one batch of short calls on one process, over two processes, and over Ray with two workers.

Run from the repository root::

    python -m benchmarks.throughput           # 10 000 calls a batch, three rounds, about half an hour
    python -m benchmarks.throughput --quick   # 2 000 calls a batch, one round

Every client process runs the same job, ``(model | keep the answer's length).abatch(prompts,
config={"max_concurrency": 32})``, against the canned loopback server's ``short`` answer (a one-word
label, as a classifier gets), after a warm-up batch that loads everything and opens connections.
Modes, each contestant (``ChatAnyFast``, ``ChatOpenAI``) in fresh processes:

- ``one``: one process, the whole batch (and a batch a tenth that size, for the growth check);
- ``two``: two processes, half the batch each, started together;
- ``ray``: a local Ray cluster (``num_cpus=2``), two actors, half the batch each. Each actor builds its
  model in its own process, as the process modes do (``ChatOpenAI``'s clients do not pickle).

Per mode: requests per second (the batch over the wall time from the start signal to the last
answer, seen by the process that gave the signal), client CPU per request (the client processes'
CPU time during the batch, summed, over the batch size; in Ray's actors this includes Ray's own
threads), peak RSS of a client process (``VmHWM``, imports included), and the RSS a client process
added before a tenth of the answers had arrived and from then to the end (sampled every 20 ms
beside the count of answers received). The
machine is shared: rounds interleave the contestants, the order rotating, and the table shows
medians; the ratios are what count.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import gc
import json
import os
import statistics
import subprocess
import sys
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from benchmarks import canned, cases
from benchmarks.server import ROOT, CannedServer

CONTESTANTS = ("ChatOpenAI", "ChatAnyFast")
CONCURRENCY = 32
"""Requests in flight per client process (``max_concurrency``)."""
SAMPLE_EVERY = 0.02
"""Seconds between RSS samples."""
PAGE_KB = os.sysconf("SC_PAGE_SIZE") // 1024


@dataclass
class Plan:
    calls: int
    rounds: int

    @property
    def small(self) -> int:
        return self.calls // 10


FULL = Plan(calls=10_000, rounds=3)
QUICK = Plan(calls=2_000, rounds=1)


# --------------------------------------------------------------------------- in a client process


def _rss_kb() -> int:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * PAGE_KB


def _peak_rss_kb() -> int:
    with open("/proc/self/status") as f:
        return next(int(line.split()[1]) for line in f if line.startswith("VmHWM:"))


class Sampler:
    """RSS beside the number of answers received so far, from a thread, until stopped."""

    def __init__(self, batch: Batch) -> None:
        self.batch = batch
        self.samples: list[tuple[int, int]] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.wait(SAMPLE_EVERY):
            self.samples.append((self.batch.done, _rss_kb()))

    def __enter__(self) -> Sampler:
        self.samples.append((0, _rss_kb()))
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()
        self.samples.append((self.batch.done, _rss_kb()))


class Batch:
    """One client process's job: a model, built here, and a batch of calls through ``abatch``."""

    def __init__(self, name: str, url: str) -> None:
        from langchain_core.runnables import RunnableLambda

        self.name = name
        self.done = 0

        async def keep_length(message: Any) -> int:  # async: a sync lambda would go through a thread pool
            self.done += 1
            return len(message.content)

        self.chain = cases.make_model(name, url) | RunnableLambda(keep_length)

    async def _abatch(self, n: int, offset: int = 0) -> list[int]:
        prompts = [f"Classify support ticket {offset + i}: I was charged twice." for i in range(n)]
        return await self.chain.abatch(prompts, config={"max_concurrency": CONCURRENCY})

    async def warm_up(self) -> None:
        await self._abatch(2 * CONCURRENCY)

    async def run(self, n: int, offset: int = 0) -> dict[str, Any]:
        gc.collect()
        self.done = 0
        with Sampler(self) as sampler:
            cpu, wall = time.process_time(), time.perf_counter()
            lengths = await self._abatch(n, offset)
            cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
        if lengths != [len(canned.SHORT_ANSWER)] * n:
            raise AssertionError(f"{self.name}: {n - lengths.count(len(canned.SHORT_ANSWER))} answers were wrong")
        return {"n": n, "cpu": cpu, "wall": wall, "peak_rss_kb": _peak_rss_kb(), "samples": sampler.samples}


def _process_main(name: str, url: str, n: int, offset: int) -> None:
    """``--process``: warm up, say READY, run the batch on a line from stdin, print the result as JSON."""
    batch = Batch(name, url)
    asyncio.run(batch.warm_up())
    print("READY", flush=True)
    sys.stdin.readline()
    print(json.dumps(asyncio.run(batch.run(n, offset))), flush=True)


def _ray_main(name: str, url: str, n: int, workers: int) -> None:
    """``--ray``: a local cluster, one actor per worker, the batch split between them; JSON out."""
    # Before Ray is imported: no usage statistics, and Ray's single-machine mode (loopback only).
    os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")
    os.environ.setdefault("RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER", "0")
    # The workers import this module by name.
    os.environ["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))
    import ray

    ray.init(num_cpus=workers, include_dashboard=False, logging_level="warning", log_to_driver=False)
    try:
        actor_class = ray.remote(num_cpus=1)(Batch)
        actors = [actor_class.remote(name, url) for _ in range(workers)]
        ray.get([actor.warm_up.remote() for actor in actors])
        share = n // workers
        started = time.perf_counter()
        results = ray.get([actor.run.remote(share, i * share) for i, actor in enumerate(actors)])
        wall = time.perf_counter() - started
    finally:
        ray.shutdown()
    print(json.dumps({"wall": wall, "processes": results}))


# --------------------------------------------------------------------------- in the runner


def _child(args: list[str]) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "benchmarks.throughput", *args],
        cwd=ROOT,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )


def run_processes(name: str, url: str, n: int, processes: int, timeout: float = 600) -> dict[str, Any]:
    """``processes`` client processes, ``n / processes`` calls each, started on one signal."""
    share = n // processes
    children = [_child(["--process", name, url, str(share), str(i * share)]) for i in range(processes)]
    try:
        for child in children:
            assert child.stdout is not None
            line = child.stdout.readline()
            if line.strip() != "READY":
                raise RuntimeError(f"{name}: a client process did not get ready: {line!r}")
        started = time.perf_counter()
        for child in children:
            assert child.stdin is not None
            child.stdin.write("go\n")
            child.stdin.flush()
        results = []
        for child in children:
            out, _ = child.communicate(timeout=timeout)
            if child.returncode != 0:
                raise RuntimeError(f"{name}: a client process failed")
            results.append(json.loads(out.strip().splitlines()[-1]))
        return {"wall": time.perf_counter() - started, "processes": results}
    finally:
        for child in children:
            if child.poll() is None:
                child.kill()
                child.wait()


def run_ray(name: str, url: str, n: int, workers: int = 2, timeout: float = 600) -> dict[str, Any]:
    out = subprocess.run(
        [sys.executable, "-m", "benchmarks.throughput", "--ray", name, url, str(n), str(workers)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    if out.returncode != 0:
        raise RuntimeError(f"{name} on Ray failed: {out.stderr.strip().splitlines()[-3:]}")
    result: dict[str, Any] = json.loads(out.stdout.strip().splitlines()[-1])
    return result


def ray_available() -> bool:
    import importlib.util

    return importlib.util.find_spec("ray") is not None


@dataclass
class Measure:
    rps: float
    cpu_per_request: float
    peak_rss_mb: float
    start_mb: float
    """RSS when a tenth of the answers had arrived over RSS before the batch, the most of any client process."""
    growth_mb: float
    """RSS at the end of the batch over RSS at a tenth of it, the most of any client process."""


def measure(result: dict[str, Any]) -> Measure:
    processes = result["processes"]
    n = sum(p["n"] for p in processes)
    start = growth = 0.0
    for p in processes:
        samples = p["samples"]
        tenth = next(rss for done, rss in samples if done >= p["n"] // 10)
        start = max(start, (tenth - samples[0][1]) / 1024)
        growth = max(growth, (samples[-1][1] - tenth) / 1024)
    return Measure(
        rps=n / result["wall"],
        cpu_per_request=sum(p["cpu"] for p in processes) / n,
        peak_rss_mb=max(p["peak_rss_kb"] for p in processes) / 1024,
        start_mb=start,
        growth_mb=growth,
    )


def median_measure(values: list[Measure]) -> Measure:
    fields = ("rps", "cpu_per_request", "peak_rss_mb", "start_mb", "growth_mb")
    return Measure(**{name: statistics.median(getattr(m, name) for m in values) for name in fields})


def modes(plan: Plan, with_ray: bool) -> list[tuple[str, str, int]]:
    """``(label, kind, calls)`` in the order of the table."""
    out = [
        (f"one process, {plan.small:,} calls", "one", plan.small),
        (f"one process, {plan.calls:,} calls", "one", plan.calls),
        (f"2 processes, {plan.calls:,} calls", "two", plan.calls),
    ]
    if with_ray:
        out.append((f"Ray, 2 workers, {plan.calls:,} calls", "ray", plan.calls))
    return out


def run_mode(kind: str, name: str, url: str, calls: int) -> Measure:
    if kind == "ray":
        return measure(run_ray(name, url, calls))
    return measure(run_processes(name, url, calls, 1 if kind == "one" else 2))


def table(results: dict[tuple[str, str], Measure], plan: Plan, with_ray: bool) -> str:
    """Two tables, throughput then memory, one row per mode."""
    a, b = CONTESTANTS
    speed = [
        f"| mode | requests/s {a} | requests/s **{b}** | client CPU/request {a} | client CPU/request **{b}** "
        "| CPU ratio |",
        "|---|---|---|---|---|---|",
    ]
    memory = [
        f"| mode | peak RSS/process {a} | **{b}** | RSS added up to a tenth of the batch {a} | **{b}** "
        f"| RSS growth from a tenth to the end {a} | **{b}** |",
        "|---|---|---|---|---|---|---|",
    ]
    for label, _, _ in modes(plan, with_ray):
        x, y = results.get((label, a)), results.get((label, b))
        if x is None or y is None:
            continue
        speed.append(
            f"| {label} | {x.rps:,.0f} | **{y.rps:,.0f}** | {x.cpu_per_request * 1e3:.2f} ms "
            f"| **{y.cpu_per_request * 1e3:.2f} ms** | {y.cpu_per_request / x.cpu_per_request:.2f}x |"
        )
        memory.append(
            f"| {label} | {x.peak_rss_mb:.0f} MB | **{y.peak_rss_mb:.0f} MB** | {x.start_mb:+.1f} MB "
            f"| **{y.start_mb:+.1f} MB** | {x.growth_mb:+.1f} MB | **{y.growth_mb:+.1f} MB** |"
        )
    return "\n".join(speed) + "\n\n" + "\n".join(memory)


def growth_line(results: dict[tuple[str, str], Measure], plan: Plan) -> str:
    small, large = modes(plan, False)[0][0], modes(plan, False)[1][0]
    parts = []
    for name in CONTESTANTS:
        x, y = results.get((small, name)), results.get((large, name))
        if x is not None and y is not None:
            parts.append(f"{name} {y.cpu_per_request / x.cpu_per_request:.2f}x")
    return f"Client CPU per request, {plan.calls:,} calls over {plan.small:,} on one process: " + ", ".join(parts) + "."


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="2 000 calls a batch, one round")
    parser.add_argument("--process", nargs=4, metavar=("NAME", "URL", "N", "OFFSET"), help=argparse.SUPPRESS)
    parser.add_argument("--ray", nargs=4, metavar=("NAME", "URL", "N", "WORKERS"), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.process:
        name, url, n, offset = args.process
        _process_main(name, url, int(n), int(offset))
        return 0
    if args.ray:
        name, url, n, workers = args.ray
        _ray_main(name, url, int(n), int(workers))
        return 0

    plan = QUICK if args.quick else FULL
    names = [name for name in CONTESTANTS if cases.available(name)]
    with_ray = ray_available()
    samples: dict[tuple[str, str], list[Measure]] = {}
    started = time.perf_counter()
    # A full run takes about half an hour on a busy 2-core machine: the server outlives it by a margin.
    with CannedServer(lifetime=5400) as server:
        url = server.base_url("short")
        for round_ in range(plan.rounds):
            for label, kind, calls in modes(plan, with_ray):
                for name in names[round_ % len(names) :] + names[: round_ % len(names)]:
                    samples.setdefault((label, name), []).append(run_mode(kind, name, url, calls))
                print(f"  done: round {round_ + 1}, {label}", file=sys.stderr, flush=True)
    results = {key: median_measure(values) for key, values in samples.items()}
    command = "python -m benchmarks.throughput" + (" --quick" if args.quick else "")
    took = time.perf_counter() - started
    print(
        f"\n`{command}`: medians of {plan.rounds} round(s), {CONCURRENCY} requests in flight per process; "
        f"{took:.0f} s, Python {sys.version.split()[0]}, {os.cpu_count()} cores (shared)\n"
    )
    print(table(results, plan, with_ray))
    print("\n" + growth_line(results, plan))
    missing = [name for name in CONTESTANTS if name not in names] + ([] if with_ray else ["ray"])
    if missing:
        print(f"\nNot installed or not importable, so not measured: {', '.join(missing)}.")
    return 0


if __name__ == "__main__":
    with contextlib.suppress(KeyboardInterrupt):
        raise SystemExit(main())
