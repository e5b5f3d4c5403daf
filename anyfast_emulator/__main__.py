"""Command line: ``python -m anyfast_emulator --port 8765`` (also installed as ``anyfast-emulator``)."""

from __future__ import annotations

import argparse
import json
import logging
import sys
from collections.abc import Sequence
from pathlib import Path

from anyfast_emulator import FAULTS, Emulator, FaultSpecError
from anyfast_emulator.answer import DEFAULT_MODEL
from anyfast_emulator.wire import DIALECTS


def build_parser() -> argparse.ArgumentParser:
    faults = "\n".join(f"  {name:<22} {text}" for name, text in FAULTS.items())
    parser = argparse.ArgumentParser(
        prog="anyfast-emulator",
        description="A deterministic, wire-faithful AnyFast (GLM-5.2) chat API on loopback.",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog=(
            "Per request, ask for faults with the header\n"
            "  X-AnyFast-Fault: name[;param=value...][, name...]   e.g. rate_limit;times=2;retry_after=0.2;id=abc\n"
            "or an API key  fault-<name>[~param=value...]           e.g. fault-http_503~times=1\n"
            "Every fault takes times=K (fire on the first K requests carrying it, per id=).\n\n"
            f"Faults and modifiers:\n{faults}"
        ),
    )
    parser.add_argument("--host", default="127.0.0.1", help="interface to bind (default: 127.0.0.1)")
    parser.add_argument("--port", type=int, default=8765, help="TCP port; 0 picks a free one (default: 8765)")
    parser.add_argument("--dialect", choices=DIALECTS, default="glm", help="stream dialect (default: glm)")
    parser.add_argument(
        "--fault", action="append", default=[], metavar="SPEC", help="a fault for every request (repeatable)"
    )
    parser.add_argument(
        "--tool-stream-default",
        action="store_true",
        help="fragment tool-call arguments when a request does not set tool_stream",
    )
    parser.add_argument(
        "--token-delay",
        type=float,
        default=0.0,
        metavar="SECONDS",
        help="pause between stream events, for a live-looking pace (default: 0, as fast as possible)",
    )
    parser.add_argument("--reasoning-tokens", action="store_true", help="report completion_tokens_details")
    parser.add_argument("--glm-newlines", action="store_true", help="GLM's leading newline content deltas")
    parser.add_argument(
        "--model",
        action="append",
        dest="models",
        metavar="ID",
        help=f"model ids /models lists (default: {DEFAULT_MODEL})",
    )
    parser.add_argument(
        "--any-model", action="store_true", help="serve any model id (default: unknown ids get 404 code 1211)"
    )
    parser.add_argument(
        "--scripted",
        action="store_true",
        help="answer only from the script (POST /_emulator/script, or --script); none left: a 500",
    )
    parser.add_argument(
        "--script", type=Path, metavar="FILE", help="a JSON list of scripted replies to answer with first"
    )
    parser.add_argument("--quiet", action="store_true", help="do not log each request")
    parser.add_argument(
        "--api-key",
        action="append",
        dest="api_keys",
        metavar="KEY",
        help="accept only these keys (repeatable); default: any non-empty key",
    )
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        script = json.loads(args.script.read_text(encoding="utf-8")) if args.script else []
        if not isinstance(script, list):
            raise ValueError(f"{args.script}: expected a JSON list of replies")
        emulator = Emulator(
            args.port,
            host=args.host,
            dialect=args.dialect,
            api_keys=args.api_keys,
            faults=args.fault,
            tool_stream_default=args.tool_stream_default,
            reasoning_tokens=args.reasoning_tokens,
            glm_newlines=args.glm_newlines,
            models=None if args.any_model else (args.models or (DEFAULT_MODEL,)),
            script=script,
            scripted=args.scripted,
            token_delay=max(args.token_delay, 0.0),
        )
    except (FaultSpecError, ValueError, OSError) as exc:
        print(f"anyfast-emulator: {exc}", file=sys.stderr)
        return 2
    if not args.quiet:
        logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s", stream=sys.stdout)
    try:
        emulator.start()
    except OSError as exc:
        print(f"anyfast-emulator: cannot listen on {args.host}:{args.port}: {exc.strerror or exc}", file=sys.stderr)
        return 1
    key_hint = "any non-empty key" if args.api_keys is None else "the keys given with --api-key"
    print(f"AnyFast emulator ({args.dialect} dialect) at {emulator.base_url}", flush=True)
    print(f"  export ANYFAST_BASE_URL={emulator.base_url}", flush=True)
    print(f"  export ANYFAST_API_KEY={emulator.api_key}   # accepted: {key_hint}", flush=True)
    print("Ctrl-C to stop.", flush=True)
    try:
        emulator.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        emulator.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
