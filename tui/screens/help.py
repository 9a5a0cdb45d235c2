"""Every key, as it is bound now (after the user's [keys]), with what it does."""

from __future__ import annotations

from collections.abc import Sequence
from typing import ClassVar

from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Static


class HelpScreen(ModalScreen[None]):
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape,q,question_mark", "close", "Close", id="help.close"),
    ]

    def __init__(self, keys: Sequence[tuple[str, str, str]], config: str) -> None:
        """`keys`: (binding id, key, what it does)."""
        super().__init__()
        self.keys = keys
        self.config = config

    def compose(self) -> ComposeResult:
        table = Table.grid(padding=(0, 2))
        table.add_column(style="bold", no_wrap=True)
        table.add_column()
        table.add_column(style="dim", no_wrap=True)
        for binding_id, key, description in self.keys:
            table.add_row(key, description, binding_id)
        with Vertical(id="dialog", classes="dialog help"):
            yield Static(Text("Keys", style="bold"), id="dialog-title")
            with VerticalScroll(id="help-keys"):
                yield Static(table)
            yield Static(
                Text(
                    f"Change a key in {self.config}, under [keys]: the id on the right = "
                    '"the key", e.g. pause = "ctrl+z". Quitting leaves every agent running.',
                    style="dim",
                ),
                id="help-footer",
            )

    def action_close(self) -> None:
        self.dismiss(None)
