"""Measurements that need a fresh interpreter: import time, first call, peak RSS.

Each probe is one ``python -c`` child: it times the import, then builds the model and makes one
non-stream call to the canned server (the clock keeps running: the first call pays the lazy imports),
and reports its peak resident set size (``VmHWM``: unlike ``ru_maxrss``, which Linux carries over
``exec`` from the parent, it is this interpreter's own). Times are the child's CPU time (imports are
CPU-bound once the files are cached), so other load on the machine does not leak in. Only ``time``
is imported before the clock starts.
"""

from __future__ import annotations

import sys

from benchmarks import canned, cases
from benchmarks.server import run_child

_MODEL = f"model={canned.MODEL!r}, api_key={cases.API_KEY!r}"

PROBES: dict[str, tuple[str, str]] = {
    # name: (import statement, construct-and-call statement or "")
    "raw httpx": ("import httpx, json", "json.loads(httpx.post(URL + '/chat/completions', content=b'{}').content)"),
    "BaseChatModel": ("from langchain_core.language_models.chat_models import BaseChatModel", ""),
    "FunctionCallingLLM": ("from llama_index.core.llms.function_calling import FunctionCallingLLM", ""),
    "ChatOpenAI": ("from langchain_openai import ChatOpenAI", f"ChatOpenAI({_MODEL}, base_url=URL).invoke('Hi')"),
    "ChatAnyFast": ("from langchain_anyfast import ChatAnyFast", f"ChatAnyFast({_MODEL}, base_url=URL).invoke('Hi')"),
    "OpenAILike": (
        "from llama_index.llms.openai_like import OpenAILike",
        "from llama_index.core.llms import ChatMessage\n"
        f"OpenAILike({_MODEL}, api_base=URL, is_chat_model=True).chat([ChatMessage(role='user', content='Hi')])",
    ),
    "AnyFast": (
        "from llama_index_anyfast import AnyFast",
        "from llama_index.core.llms import ChatMessage\n"
        f"AnyFast({_MODEL}, api_base=URL).chat([ChatMessage(role='user', content='Hi')])",
    ),
}

_TEMPLATE = """\
import time
_t0 = time.process_time()
{imports}
_t1 = time.process_time()
import sys
URL = sys.argv[1]
{call}
_t2 = time.process_time()
import json
with open("/proc/self/status") as f:
    _hwm = next(int(line.split()[1]) for line in f if line.startswith("VmHWM:"))
print(json.dumps({{"import": _t1 - _t0, "first_call": _t2 - _t0 if {has_call} else None, "peak_rss_mb": _hwm / 1024}}))
"""


def probe(name: str, base_url: str, timeout: float = 60.0) -> dict[str, float | None]:
    imports, call = PROBES[name]
    script = _TEMPLATE.format(imports=imports, call=call or "pass", has_call=bool(call))
    result: dict[str, float | None] = run_child(["-c", script, base_url], f"{name} probe", timeout)
    return result


if __name__ == "__main__":
    print(probe(sys.argv[1], sys.argv[2]))
