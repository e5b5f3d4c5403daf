"""Re-record the cassettes in ``cassettes/``, against the emulator (default) or the live API.

    python scripts/record_cassettes.py                    # every cassette, against the emulator
    python scripts/record_cassettes.py --live             # every cassette, against AnyFast (needs ANYFAST_API_KEY)
    python scripts/record_cassettes.py --missing-only     # only cassettes that do not exist yet
    python scripts/record_cassettes.py tests/llama_index  # limit to some tests (any pytest arguments)
    python scripts/record_cassettes.py --cassette-dir /tmp/c  # write the tree elsewhere (to compare)

It runs the cassette-backed tests (those marked ``vcr``) with recording on, then the cassette
secrets scan. Tests choose their target through the ``record_target`` fixture, which reads
``ANYFAST_RECORD_TARGET``: ``live`` sends requests to ``ANYFAST_BASE_URL`` (default
``https://www.anyfast.ai/v1``) with ``ANYFAST_API_KEY``; anything else uses the emulator.

Against the emulator a recording is deterministic: recording twice writes the same bytes (the emulator's
answers are a pure function of the request, loopback origins and ``host`` headers are rewritten to one
port, and each cassette's interactions are stored in a fixed order, since batched calls finish in any
order), so after a re-recording ``git status`` shows only what really changed.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SCAN = "tests/emulator/test_cassettes.py"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--live", action="store_true", help="record against the live API (needs ANYFAST_API_KEY)")
    parser.add_argument("--missing-only", action="store_true", help="keep existing cassettes, record missing ones")
    parser.add_argument("--cassette-dir", type=Path, help="write the cassette tree here instead of cassettes/")
    # Everything else (test paths, -k, -x, ...) goes to pytest as given; by default every test.
    args, pytest_args = parser.parse_known_args(argv)

    env = dict(os.environ)
    if args.cassette_dir is not None:
        env["ANYFAST_CASSETTE_DIR"] = str(args.cassette_dir.resolve())
    command = [sys.executable, "-m", "pytest", *(pytest_args or ["tests"]), "-m", "vcr", "-p", "no:cacheprovider"]
    command.append("--record-mode=" + ("once" if args.missing_only else "rewrite"))
    if args.live:
        if not env.get("ANYFAST_API_KEY"):
            print("record_cassettes: --live needs ANYFAST_API_KEY in the environment", file=sys.stderr)
            return 2
        env["ANYFAST_RECORD_TARGET"] = "live"
        command.append("--force-enable-socket")  # the suite otherwise allows loopback only
    else:
        env["ANYFAST_RECORD_TARGET"] = "emulator"
    print("+", " ".join(command), flush=True)
    recorded = subprocess.run(command, cwd=ROOT, env=env, check=False).returncode  # noqa: S603 - our own argv
    if recorded not in (0, 5):  # 5: no tests collected
        return recorded
    scan_env = {k: v for k, v in env.items() if k != "ANYFAST_RECORD_TARGET"}
    scan = [sys.executable, "-m", "pytest", "-q", SCAN]
    return subprocess.run(scan, cwd=ROOT, env=scan_env, check=False).returncode  # noqa: S603 - our own argv


if __name__ == "__main__":
    sys.exit(main())
