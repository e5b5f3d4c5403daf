"""Terminal output for the demo: rich on a terminal, plain text when piped or captured."""

from __future__ import annotations

import sys
from collections.abc import Sequence
from typing import Any

_LABELS = {"reasoning": "thinking", "answer": "answer"}


class Terminal:
    """Streams reasoning and answer text visibly apart, and prints headings, steps and tables.

    Reasoning is dimmed and italic under a ``thinking`` label; the answer follows under ``answer``.
    Without a terminal (or without ``rich``) the same structure is printed as plain text.
    """

    def __init__(self, rich: bool | None = None) -> None:
        self.console: Any = None
        if rich is None:
            rich = sys.stdout.isatty()
        if rich:
            try:
                from rich.console import Console
            except ImportError:  # the demo extra brings rich; without it, plain text still works
                rich = False
            else:
                self.console = Console(highlight=False)
        self.rich = rich
        self._kind: str | None = None

    # ----------------------------------------------------------------- blocks

    def banner(self, title: str, lines: Sequence[str], *, warn: bool = False) -> None:
        if self.rich:
            from rich.panel import Panel

            style = "yellow" if warn else "green"
            self.console.print(Panel("\n".join(lines), title=title, border_style=style, expand=False))
        else:
            print(f"== {title} ==")
            for line in lines:
                print(f"   {line}")
        self._flush()

    def section(self, number: int, title: str) -> None:
        self.end_stream()
        if self.rich:
            self.console.print()
            self.console.rule(f"[bold cyan]{number}. {title}", align="left")
        else:
            print(f"\n--- {number}. {title} ---")
        self._flush()

    def note(self, text: str) -> None:
        """A grey explanatory line: what is about to happen."""
        self.end_stream()
        if self.rich:
            self.console.print(text, style="bright_black")
        else:
            print(text)
        self._flush()

    def step(self, label: str, text: str, *, style: str = "magenta") -> None:
        """One event in an agent run: a tool call, a tool result, a retrieved source."""
        self.end_stream()
        if self.rich:
            from rich.text import Text

            self.console.print(Text.assemble((f"  {label:<10} ", f"bold {style}"), text))
        else:
            print(f"  {label:<10} {text}")
        self._flush()

    def table(self, title: str, rows: Sequence[tuple[str, str]]) -> None:
        self.end_stream()
        if self.rich:
            from rich.table import Table

            table = Table(title=title, show_header=False, title_justify="left", expand=False)
            table.add_column(style="bold")
            table.add_column(justify="right")
            for name, value in rows:
                table.add_row(name, value)
            self.console.print()
            self.console.print(table)
        else:
            print(f"\n{title}")
            for name, value in rows:
                print(f"  {name:<24} {value}")
        self._flush()

    def error(self, message: str, hint: str | None = None) -> None:
        self.end_stream()
        lines = [message] + ([hint] if hint else [])
        if self.rich:
            from rich.panel import Panel

            self.console.print(Panel("\n".join(lines), title="error", border_style="red", expand=False))
        else:
            for line in lines:
                print(f"error: {line}" if line is message else f"hint: {line}")
        self._flush()

    # ----------------------------------------------------------------- streaming

    def stream(self, kind: str, text: str) -> None:
        """Append streamed ``text`` of ``kind`` ("reasoning" or "answer"), labelling each change of kind."""
        if not text:
            return
        if kind != self._kind:
            self.end_stream()
            self._kind = kind
            if self.rich:
                style = "bold yellow" if kind == "reasoning" else "bold green"
                self.console.print(f"{_LABELS[kind]}:", style=style)
            else:
                print(f"[{_LABELS[kind]}]")
        if self.rich:
            self.console.print(text, style="dim italic" if kind == "reasoning" else "", end="", soft_wrap=True)
        else:
            sys.stdout.write(text)
        self._flush()

    def end_stream(self) -> None:
        if self._kind is not None:
            self._kind = None
            if self.rich:
                self.console.print()
            else:
                print()

    def _flush(self) -> None:
        sys.stdout.flush()
