"""Every ```python block in README.md runs as written, against the emulator, and does what it shows.

A block runs on its own, in a fresh namespace, with ``ANYFAST_BASE_URL`` and ``ANYFAST_API_KEY``
pointing at the emulator: what a reader gets by pasting it into a file after setting the two
variables; it must print something. A block that defines pytest tests is saved as a test module and
run by pytest in a subprocess, and its tests must pass. Shell commands and sample output use ```bash
and ```text blocks, which are not run.
"""

from __future__ import annotations

import contextlib
import io
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

README = Path(__file__).resolve().parents[2] / "README.md"
_FENCE = re.compile(r"^```python\n(.*?)^```$", re.M | re.S)


def python_blocks() -> list[tuple[int, str]]:
    text = README.read_text(encoding="utf-8")
    return [(text.count("\n", 0, m.start()) + 1, m.group(1)) for m in _FENCE.finditer(text)]


BLOCKS = python_blocks()


def test_the_readme_has_code_to_run() -> None:
    assert len(BLOCKS) >= 10


def test_the_two_setup_commands_are_there_verbatim() -> None:
    text = README.read_text(encoding="utf-8")
    assert 'pip install -e ".[demo]" && python examples/demo.py' in text
    assert 'python -m pip install -e ".[dev]" && python -m pytest' in text


def test_the_performance_section_has_its_command() -> None:
    text = README.read_text(encoding="utf-8")
    assert "python -m benchmarks.run" in text[text.index("## Performance") :]


@pytest.mark.parametrize(("line", "code"), BLOCKS, ids=[f"README.md:{line}" for line, _ in BLOCKS])
def test_readme_block_runs(
    line: int, code: str, emulator: Any, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("ANYFAST_BASE_URL", emulator.base_url)
    monkeypatch.setenv("ANYFAST_API_KEY", emulator.api_key)
    if re.search(r"^def test_", code, re.M):
        (tmp_path / "test_readme_block.py").write_text(code, encoding="utf-8")
        result = subprocess.run(
            [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "test_readme_block.py"],
            cwd=tmp_path,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        assert result.returncode == 0, f"README.md:{line}\n{result.stdout}\n{result.stderr}"
        assert re.search(r"\b\d+ passed\b", result.stdout), result.stdout
        return
    stdout = io.StringIO()
    with contextlib.redirect_stdout(stdout):
        exec(compile(code, f"README.md:{line}", "exec"), {"__name__": "__main__"})
    assert stdout.getvalue().strip(), f"the block at README.md:{line} printed nothing"


def test_every_fault_in_the_readme_exists() -> None:
    from anyfast_emulator import FAULTS

    text = README.read_text(encoding="utf-8")
    table = text[text.index("| fault | what the emulator does |") :]
    table = table[: table.index("\n\n")]
    named = {name for row in table.splitlines()[2:] for name in re.findall(r"`(\w+)`", row.split("|")[1])}
    assert len(named) >= 20
    assert named <= set(FAULTS), sorted(named - set(FAULTS))


def _config_table_column(index: int) -> set[str]:
    text = README.read_text(encoding="utf-8")
    table = text[text.index("| `ChatAnyFast` | `AnyFast` |") :]
    table = table[: table.index("\n\n")]
    return {name for row in table.splitlines()[2:] for name in re.findall(r"`(\w+)`", row.split("|")[index])}


def test_the_configuration_table_lists_every_chatanyfast_parameter() -> None:
    from langchain_core.language_models.chat_models import BaseChatModel

    from langchain_anyfast import ChatAnyFast

    own = set(ChatAnyFast.model_fields) - set(BaseChatModel.model_fields)
    assert own <= _config_table_column(1), sorted(own - _config_table_column(1))


def test_the_configuration_table_lists_every_anyfast_parameter() -> None:
    from llama_index.core.llms.function_calling import FunctionCallingLLM

    from llama_index_anyfast import AnyFast

    own = set(AnyFast.model_fields) - set(FunctionCallingLLM.model_fields)
    assert own <= _config_table_column(2), sorted(own - _config_table_column(2))
