"""Measurements that need a fresh interpreter: import time, first call, peak RSS.

Each probe is one ``python -c`` child: it times the import, then builds the model and makes one
non-stream call to the canned server (the clock keeps running: the first call pays the lazy imports),
and reports its peak resident set size (``VmHWM``: unlike ``ru_maxrss``, which Linux carries over
``exec`` from the parent, it is this interpreter's own). Times are the child's CPU time (imports are
CPU-bound once the files are cached), so other load on the machine does not leak in. Only ``time``
is imported before the clock starts.

Two probes are floors, not contestants: a framework's base class imported, then raw httpx's own first
call in the same interpreter. No httpx-based adapter of that framework can import and call for less
(time or memory): they are what the first-call and peak-RSS rows are judged against.

Our packages are byte-compiled first (:func:`compile_ours`), as installing a wheel does: the frameworks
and anchors come from site-packages with their bytecode, and ``PYTHONDONTWRITEBYTECODE`` (set on some
machines) would otherwise charge our modules a compile from source in every fresh interpreter.
"""

from __future__ import annotations

import compileall
import sys

from benchmarks import canned, cases
from benchmarks.server import ROOT, run_child

_MODEL = f"model={canned.MODEL!r}, api_key={cases.API_KEY!r}"
_RAW_CALL = "json.loads(httpx.post(URL + '/chat/completions', content=b'{}').content)"
_BASES = {
    "BaseChatModel": "from langchain_core.language_models.chat_models import BaseChatModel",
    "FunctionCallingLLM": "from llama_index.core.llms.function_calling import FunctionCallingLLM",
}
OUR_PACKAGES = ("anyfast_core", "langchain_anyfast", "llama_index_anyfast")


def with_raw_call(base: str) -> str:
    """The floor probe's name: ``base`` imported, then raw httpx's first call."""
    return f"{base} + raw httpx call"


_LC, _LI = _BASES["BaseChatModel"], _BASES["FunctionCallingLLM"]
_LI_CALL = "from llama_index.core.llms import ChatMessage\n{}.chat([ChatMessage(role='user', content='Hi')])"

PROBES: dict[str, tuple[str, str, str]] = {
    # name: (its framework's base class import or "", the import statement, construct-and-call statement or "")
    "raw httpx": ("", "import httpx, json", _RAW_CALL),
    **{base: ("", statement, "") for base, statement in _BASES.items()},
    **{with_raw_call(base): (statement, "import httpx, json", _RAW_CALL) for base, statement in _BASES.items()},
    "ChatOpenAI": (_LC, "from langchain_openai import ChatOpenAI", f"ChatOpenAI({_MODEL}, base_url=URL).invoke('Hi')"),
    "ChatAnyFast": (
        _LC,
        "from langchain_anyfast import ChatAnyFast",
        f"ChatAnyFast({_MODEL}, base_url=URL).invoke('Hi')",
    ),
    "OpenAILike": (
        _LI,
        "from llama_index.llms.openai_like import OpenAILike",
        _LI_CALL.format(f"OpenAILike({_MODEL}, api_base=URL, is_chat_model=True)"),
    ),
    "AnyFast": (_LI, "from llama_index_anyfast import AnyFast", _LI_CALL.format(f"AnyFast({_MODEL}, api_base=URL)")),
}
"""A contestant's import is timed in two parts, its framework's base class first (which it imports
anyway, as a user's program mostly has by then): ``import`` is the whole, ``own_import`` the second part,
the contestant's own share. Measured in one interpreter, that share varies by a few milliseconds where
the whole import, from one fresh interpreter to the next, varies by a tenth."""

_TEMPLATE = """\
import time
_t0 = time.process_time()
{base}
_tb = time.process_time()
{imports}
_t1 = time.process_time()
import sys
URL = sys.argv[1]
{call}
_t2 = time.process_time()
import json
with open("/proc/self/status") as f:
    _hwm = next(int(line.split()[1]) for line in f if line.startswith("VmHWM:"))
print(json.dumps({{
    "import": _t1 - _t0,
    "own_import": _t1 - _tb if {has_base} else None,
    "first_call": _t2 - _t0 if {has_call} else None,
    "peak_rss_mb": _hwm / 1024,
}}))
"""


def compile_ours() -> None:
    """Write the bytecode of our packages, as ``pip install`` does for a wheel's modules."""
    for package in OUR_PACKAGES:
        compileall.compile_dir(ROOT / package, quiet=1)


def probe(name: str, base_url: str, timeout: float = 60.0) -> dict[str, float | None]:
    base, imports, call = PROBES[name]
    script = _TEMPLATE.format(
        base=base or "pass", imports=imports, call=call or "pass", has_base=bool(base), has_call=bool(call)
    )
    result: dict[str, float | None] = run_child(["-c", script, base_url], f"{name} probe", timeout)
    return result


if __name__ == "__main__":
    print(probe(sys.argv[1], sys.argv[2]))
