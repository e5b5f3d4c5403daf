"""Hot-path micro-benchmarks and profiles of the core and the adapters.

    python -m benchmarks.hotpaths                 # per-chunk cost of each stage, ours vs alternatives
    python -m benchmarks.hotpaths --profile core  # cProfile of one 20k-chunk stream (core|langchain|llama-index)

Stages, all on the canned 20k-chunk stream cut into 64 KiB reads as httpx delivers them:

- SSE decoding: our byte-level :class:`~anyfast_core.sse.SSEDecoder` against ``httpx-sse`` (UTF-8
  decode, its line decoder and event objects) and a bare ``split(b"\\n\\n")`` (the lower bound);
- JSON: ``pydantic_core.from_json`` (what the core uses) against ``json.loads``;
- folding: :class:`~anyfast_core.accumulate.StreamAccumulator.add` per chunk;
- end to end over the canned server: ``AnyFastClient.stream``, ``httpx-sse`` + ``json.loads``, raw.
"""

from __future__ import annotations

import argparse
import codecs
import cProfile
import json
import pstats
import statistics
import time
from collections.abc import Callable
from typing import Any

import httpx
from pydantic_core import from_json

from anyfast_core import AnyFastClient, ChatRequest, StreamAccumulator
from anyfast_core.sse import DONE, SSEDecoder
from benchmarks import canned, cases
from benchmarks.server import CannedServer

READ_SIZE = 65_536
ROUNDS = 7


def reads(body: bytes) -> list[bytes]:
    return [body[i : i + READ_SIZE] for i in range(0, len(body), READ_SIZE)]


def ours_sse(pieces: list[bytes]) -> list[bytes]:
    decoder = SSEDecoder()
    out = [payload for piece in pieces for payload in decoder.feed(piece)]
    return out + decoder.flush()


def httpx_sse_events(pieces: list[bytes]) -> list[str]:
    from httpx_sse._decoders import SSEDecoder as EventDecoder
    from httpx_sse._decoders import SSELineDecoder

    text = codecs.getincrementaldecoder("utf-8")()
    lines, events = SSELineDecoder(), EventDecoder()
    out = []
    for piece in pieces:
        for line in lines.decode(text.decode(piece)):
            event = events.decode(line.rstrip("\n"))
            if event is not None:
                out.append(event.data)
    return out


def bare_split(pieces: list[bytes]) -> list[bytes]:
    rest, out = b"", []
    for piece in pieces:
        *events, rest = (rest + piece).split(b"\n\n")
        out += [e[6:] for e in events]
    return out


def each(fn: Callable[[bytes], Any], items: list[bytes]) -> None:
    for item in items:  # results dropped at once, as in a stream (keeping 20k dicts would time the GC)
        fn(item)


def per_item(fn: Callable[[], Any], items: int, rounds: int = ROUNDS) -> float:
    """Median microseconds per item of ``fn`` over ``rounds`` runs."""
    samples = []
    for _ in range(rounds):
        start = time.process_time()
        fn()
        samples.append(time.process_time() - start)
    return statistics.median(samples) / items * 1e6


def stages() -> list[tuple[str, float]]:
    body = canned.encode_sse(canned.stream_chunks(canned.STREAM_SIZES["s20k"]))
    pieces = reads(body)
    payloads = [p for p in ours_sse(pieces) if p != DONE]
    n = len(payloads)
    assert ours_sse(pieces)[:-1] == [p.encode() for p in httpx_sse_events(pieces)][:-1]
    chunks = [json.loads(p) for p in payloads]

    def fold() -> None:
        acc = StreamAccumulator()
        for chunk in chunks:
            acc.add(chunk)
        acc.result()

    rows = [
        ("SSE: bare split (lower bound)", per_item(lambda: bare_split(pieces), n)),
        ("SSE: anyfast_core SSEDecoder", per_item(lambda: ours_sse(pieces), n)),
        ("SSE: httpx-sse (decode + lines + events)", per_item(lambda: httpx_sse_events(pieces), n)),
        ("JSON: pydantic_core.from_json(bytes)", per_item(lambda: each(from_json, payloads), n)),
        ("JSON: json.loads(bytes)", per_item(lambda: each(json.loads, payloads), n)),
        ("fold: StreamAccumulator.add + result", per_item(fold, n)),
    ]
    return rows


def core_stream(url: str) -> Callable[[], None]:
    """Read one whole stream through the core's client, every delta, nothing else."""
    client = AnyFastClient(api_key=cases.API_KEY, base_url=url)
    request = ChatRequest.create(model=canned.MODEL, messages=[{"role": "user", "content": "Hi"}])

    def run() -> None:
        with client.stream(request) as stream:
            for _ in stream:
                pass

    return run


def end_to_end(url: str) -> list[tuple[str, float]]:
    from httpx_sse import connect_sse

    n = canned.STREAM_SIZES["s20k"]
    http = httpx.Client()
    core = core_stream(url)
    target = url + "/chat/completions"

    def with_httpx_sse() -> None:
        with connect_sse(http, "POST", target, content=cases.REQUEST) as source:
            for event in source.iter_sse():
                if event.data != "[DONE]":
                    json.loads(event.data)

    raw = cases.raw_case("s20k", url)()
    runs = {
        "raw httpx + split + json.loads": raw,
        "httpx-sse + json.loads": with_httpx_sse,
        "AnyFastClient.stream": core,
    }
    samples: dict[str, list[float]] = {name: [] for name in runs}
    for _ in range(ROUNDS):  # interleaved; client CPU time, so the server's share stays out
        for name, fn in runs.items():
            start = time.process_time()
            fn()
            samples[name].append(time.process_time() - start)
    return [(f"end to end: {name}", statistics.median(s) / n * 1e6) for name, s in samples.items()]


def profile(target: str, url: str) -> None:
    if target == "core":
        run = core_stream(url)
    else:
        name = "ChatAnyFast" if target == "langchain" else "AnyFast"
        run = cases.model_case(name, "s20k", url)()
    run()  # warm-up
    profiler = cProfile.Profile()
    profiler.runcall(run)
    pstats.Stats(profiler).sort_stats("tottime").print_stats(25)


def main() -> None:
    parser = argparse.ArgumentParser(description="Hot-path micro-benchmarks.")
    parser.add_argument("--profile", choices=("core", "langchain", "llama-index"))
    args = parser.parse_args()
    with CannedServer(lifetime=300) as server:
        url = server.base_url("s20k")
        if args.profile:
            profile(args.profile, url)
            return
        print("| stage (20k-chunk stream, 64 KiB reads) | µs per chunk |\n|---|---|")
        for name, us in [*stages(), *end_to_end(url)]:
            print(f"| {name} | {us:.2f} |")


if __name__ == "__main__":
    main()
