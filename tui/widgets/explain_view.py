"""Why the selected agent is in its state: every source of evidence, one line each."""

from __future__ import annotations

from collections.abc import Sequence

from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.containers import VerticalScroll
from textual.widgets import Static


class ExplainView(VerticalScroll):
    def compose(self) -> ComposeResult:
        yield Static("", id="explain-text")

    def say(self, message: str) -> None:
        self.query_one("#explain-text", Static).update(Text(message, style="dim italic"))

    def show(self, agent: str, lines: Sequence[tuple[str, str]]) -> None:
        table = Table.grid(padding=(0, 2))
        table.add_column(style="bold", no_wrap=True)
        table.add_column(overflow="fold")
        for source, what in lines:
            table.add_row(source, what)
        self.query_one("#explain-text", Static).update(table)
