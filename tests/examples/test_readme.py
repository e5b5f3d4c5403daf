"""Every ```python block in README.md runs as written, against the emulator, and prints something.

Each block runs on its own, in a fresh namespace, with ``ANYFAST_BASE_URL`` and ``ANYFAST_API_KEY``
pointing at the emulator: exactly what a reader gets by pasting it into a file after setting the two
variables. Shell commands and sample output use ```bash and ```text blocks, which are not run.
"""

from __future__ import annotations

import contextlib
import io
import re
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
    assert len(BLOCKS) >= 8


def test_the_two_setup_commands_are_there_verbatim() -> None:
    text = README.read_text(encoding="utf-8")
    assert 'pip install -e ".[demo]" && python examples/demo.py' in text
    assert 'python -m pip install -e ".[dev]" && python -m pytest' in text


@pytest.mark.parametrize(("line", "code"), BLOCKS, ids=[f"README.md:{line}" for line, _ in BLOCKS])
def test_readme_block_runs(line: int, code: str, examples_emulator: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ANYFAST_BASE_URL", examples_emulator.base_url)
    monkeypatch.setenv("ANYFAST_API_KEY", examples_emulator.api_key)
    stdout = io.StringIO()
    with contextlib.redirect_stdout(stdout):
        exec(compile(code, f"README.md:{line}", "exec"), {"__name__": "__main__"})
    assert stdout.getvalue().strip(), f"the block at README.md:{line} printed nothing"
