"""Type a prompt for an agent: several lines welcome, sent as one prompt."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Checkbox, Static, TextArea


@dataclass(frozen=True)
class Prompt:
    text: str
    replace: bool


class SendScreen(ModalScreen[Prompt | None]):
    """Enter makes a new line, ctrl+s sends; Escape closes without sending."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("ctrl+s", "send", "Send", id="send.submit", priority=True),
        Binding("escape", "cancel", "Cancel", id="send.cancel"),
    ]

    def __init__(self, agent: str) -> None:
        super().__init__()
        self.agent = agent

    def compose(self) -> ComposeResult:
        with Vertical(id="dialog", classes="dialog send"):
            yield Static(Text(f"Send a prompt to {self.agent}", style="bold"), id="dialog-title")
            yield TextArea(id="prompt", soft_wrap=True, show_line_numbers=False)
            yield Checkbox("clear text already waiting in its input box", id="replace")
            with Horizontal(id="dialog-buttons"):
                yield Static(Text("ctrl+s sends · esc cancels", style="dim"), id="send-hint")
                yield Button("Send", id="send", variant="primary")
                yield Button("Cancel", id="cancel")

    def on_mount(self) -> None:
        self.query_one("#prompt", TextArea).focus()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        if event.button.id == "send":
            self.action_send()
        else:
            self.action_cancel()

    def action_send(self) -> None:
        text = self.query_one("#prompt", TextArea).text.rstrip("\n")
        if not text.strip():
            self.notify("type a prompt first, or esc to cancel", severity="warning")
            return
        self.dismiss(Prompt(text, self.query_one("#replace", Checkbox).value))

    def action_cancel(self) -> None:
        self.dismiss(None)
