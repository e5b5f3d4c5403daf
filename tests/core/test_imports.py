"""What importing the packages costs: constructing a model needs neither httpx nor the emulator.

Each check runs in a fresh interpreter, since this test process has imported everything already.
httpx loads with the first request (neither framework's base class imports it), as httpx itself
loads: the core changes nothing of httpx for the rest of the process.
"""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys

import httpx
import pytest

import anyfast_core

_PROBE = """
import json, sys
{statements}
print(json.dumps(sorted(name for name in sys.modules if name.split(".")[0] in {watched!r})))
"""
_WATCHED = ("httpx", "httpcore", "anyfast_core")


def _run(statements: str) -> tuple[str, list[str]]:
    """What a fresh interpreter printed running ``statements``, and which watched modules it loaded."""
    script = _PROBE.format(statements=statements, watched=_WATCHED)
    env = {"ANYFAST_API_KEY": "sk-import-test"}  # and no ANYFAST_BASE_URL from the caller
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120, env=env)
    assert done.returncode == 0, done.stderr
    return done.stdout, list(json.loads(done.stdout.splitlines()[-1]))


def _modules_after(statements: str) -> list[str]:
    return _run(statements)[1]


def _needs(module: str) -> None:
    if importlib.util.find_spec(module) is None:
        pytest.skip(f"{module} is not installed")


@pytest.mark.parametrize(
    ("framework", "statements"),
    [
        ("langchain_core", "from langchain_anyfast import ChatAnyFast\nChatAnyFast()\nChatAnyFast(timeout=5)"),
        ("llama_index.core", "from llama_index_anyfast import AnyFast\nAnyFast()\nAnyFast(timeout=5)"),
    ],
    ids=["langchain", "llama-index"],
)
def test_constructing_a_model_imports_no_network_stack(framework: str, statements: str) -> None:
    _needs(framework)
    loaded = _modules_after(statements)
    assert not [name for name in loaded if name.startswith(("httpx", "httpcore"))], loaded
    assert "anyfast_core.client" not in loaded
    assert not [name for name in loaded if name.startswith("anyfast_emulator")], loaded


def test_the_core_package_loads_its_clients_on_first_access() -> None:
    loaded = _modules_after("import anyfast_core")
    assert "httpx" not in loaded
    assert "anyfast_core.client" not in loaded
    loaded = _modules_after("from anyfast_core import AnyFastClient\nAnyFastClient(api_key='k')")
    assert {"httpx", "anyfast_core.client"} <= set(loaded)


def test_httpx_is_left_as_httpx_made_it() -> None:
    # Loaded through the core or on its own, httpx ends up the same: same modules, same ``httpx.main``.
    probe = "print('main', httpx.main.__module__, 'modules', sorted(m for m in sys.modules if m.startswith('httpx')))\n"
    through_core = _run("import anyfast_core.client, httpx\nanyfast_core.client.AnyFastClient(api_key='k')\n" + probe)
    alone = _run("import httpx\n" + probe)
    assert through_core[0].splitlines()[0] == alone[0].splitlines()[0]


def test_every_exported_name_resolves() -> None:
    from anyfast_core import client

    for name in anyfast_core.__all__:
        assert getattr(anyfast_core, name) is not None, name
    assert anyfast_core.AnyFastClient is client.AnyFastClient
    assert anyfast_core.ChatStream is client.ChatStream
    assert set(anyfast_core.__all__) <= set(dir(anyfast_core))
    with pytest.raises(AttributeError, match="no attribute 'Nonexistent'"):
        anyfast_core.Nonexistent  # noqa: B018


def test_an_http_client_or_timeout_of_the_wrong_kind_is_named() -> None:
    from anyfast_core.settings import check_http_client, check_timeout

    with httpx.Client() as sync:
        assert check_http_client(sync, "http_client") is sync
        with pytest.raises(ValueError, match=r"http_async_client must be an httpx\.AsyncClient, got Client"):
            check_http_client(sync, "http_async_client", is_async=True)
    for bad in (0, -1.0, float("nan"), float("inf"), True, "30", [30]):
        with pytest.raises(ValueError, match="timeout="):
            check_timeout(bad)
