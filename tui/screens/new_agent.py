"""The new-agent form: the keys of one `[[agent]]` table, written into corral.toml.

The form does not judge the values itself: the writer checks the new file with the same parser
`corral up` uses, so a refused name, kind or command shows here in the very sentence the
command line would print, and the form stays open on it for a second try. Writing runs on a
thread worker (it reads and replaces a file); the dialog answers the agent's name once written,
and the app starts it.
"""

from __future__ import annotations

from collections.abc import Callable, Collection
from pathlib import Path
from typing import ClassVar

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widget import Widget
from textual.widgets import Button, Input, Label, Select, Static, TextArea

from sessions.core.agent_fields import AgentFields, suggest_name
from sessions.core.errors import ConfigError, CorralError
from sessions.core.model import Kind, Restart

Write = Callable[[AgentFields], str]
"""Writes the agent and returns a sentence saying where; raises `CorralError` to refuse it."""

FIELDS = ("name", "kind", "command", "restart", "prompt")


class NewAgentScreen(ModalScreen[str | None]):
    """ctrl+s (or Enter in a one-line field) adds and starts the agent; Escape cancels."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("ctrl+s", "add", "Add and start", id="new-agent.submit", priority=True),
        Binding("escape", "cancel", "Cancel", id="new-agent.cancel"),
    ]

    DEFAULT_CSS = """
    NewAgentScreen {
        align: center middle;
        background: $background 60%;
    }
    NewAgentScreen .field {
        height: 1;
        margin-bottom: 1;
    }
    NewAgentScreen .field Label {
        width: 10;
    }
    NewAgentScreen .field Input, NewAgentScreen .field Select {
        width: 1fr;
    }
    NewAgentScreen .dialog.new-agent {
        overflow-y: auto;
    }
    NewAgentScreen #new-prompt {
        height: 5;
    }
    NewAgentScreen #new-agent-error {
        height: auto;
        color: $text-error;
        display: none;
    }
    NewAgentScreen #new-agent-error.-shown {
        display: block;
    }
    NewAgentScreen #new-agent-hint {
        width: 1fr;
        height: 3;
        content-align: left middle;
    }
    """

    def __init__(self, path: Path, taken: Collection[str], write: Write) -> None:
        """`path` is the corral.toml being written (shown in the title), `taken` the names
        the suggestion avoids: configured agents and any still running from an older file."""
        super().__init__()
        self.path = path
        self.taken = frozenset(taken)
        self.write = write
        self.suggested = suggest_name(Kind.CLAUDE, self.taken)
        self.writing = False
        self.error: str | None = None

    def compose(self) -> ComposeResult:
        with Vertical(id="dialog", classes="dialog new-agent"):
            title = Text("New agent", style="bold")
            title.append(f"  written into {self.path.name}, then started", style="dim")
            yield Static(title, id="dialog-title")
            with Horizontal(classes="field"):
                yield Label("name")
                yield Input(self.suggested, id="name", compact=True)
            with Horizontal(classes="field"):
                yield Label("kind")
                yield Select(
                    [(kind.value, kind) for kind in Kind],
                    value=Kind.CLAUDE,
                    allow_blank=False,
                    id="kind",
                    compact=True,
                )
            with Horizontal(classes="field"):
                yield Label("command")
                yield Input(
                    placeholder="left empty: the kind's usual command", id="command", compact=True
                )
            with Horizontal(classes="field"):
                yield Label("restart")
                yield Select(
                    [(policy.value, policy) for policy in Restart],
                    value=Restart.NEVER,
                    allow_blank=False,
                    id="restart",
                    compact=True,
                )
            yield TextArea(
                id="new-prompt",
                soft_wrap=True,
                placeholder="First message the agent gets (optional)",
            )
            yield Static(id="new-agent-error")
            with Horizontal(id="dialog-buttons"):
                yield Static(Text("ctrl+s adds · esc cancels", style="dim"), id="new-agent-hint")
                yield Button("Add and start", id="add", variant="primary")
                yield Button("Cancel", id="cancel")

    def on_mount(self) -> None:
        self.query_one("#name", Input).focus()

    @on(Select.Changed, "#kind")
    def _kind_changed(self, event: Select.Changed) -> None:
        """A name the user has not touched follows the kind: claude-3 becomes codex-1."""
        name = self.query_one("#name", Input)
        if name.value == self.suggested and isinstance(event.value, str):
            self.suggested = suggest_name(event.value, self.taken)
            name.value = self.suggested

    @on(Input.Submitted)
    def _submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self.action_add()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        if event.button.id == "add":
            self.action_add()
        else:
            self.action_cancel()

    def fields(self) -> AgentFields:
        """The form as a table's values; empty optional fields are left out of the table."""
        kind = self.query_one("#kind", Select).value
        restart = self.query_one("#restart", Select).value
        command = self.query_one("#command", Input).value.strip()
        prompt = self.query_one("#new-prompt", TextArea).text
        return AgentFields(
            name=self.query_one("#name", Input).value.strip(),
            kind=str(kind),
            command=command or None,
            prompt=prompt.rstrip() if prompt.strip() else None,
            restart=str(restart),
        )

    def action_add(self) -> None:
        if self.writing:
            return
        self.writing = True
        self.query_one("#add", Button).disabled = True
        self._write(self.fields())

    @work(thread=True, exit_on_error=False, group="new-agent", name="new agent")
    def _write(self, fields: AgentFields) -> None:
        try:
            message = self.write(fields)
        except CorralError as error:
            key = error.key if isinstance(error, ConfigError) else None
            self.app.call_from_thread(self._refused, str(error), key)
        except Exception as error:  # shown in the form, which stays usable
            self.app.call_from_thread(self._refused, f"{type(error).__name__}: {error}", None)
        else:
            self.app.call_from_thread(self._written, fields.name, message)

    def _written(self, name: str, message: str) -> None:
        self.app.notify(message, timeout=6)
        self.dismiss(name)

    def _refused(self, error: str, key: str | None) -> None:
        """Show the sentence under the fields and put the cursor on the field it is about."""
        self.writing = False
        self.error = error
        self.query_one("#add", Button).disabled = False
        shown = self.query_one("#new-agent-error", Static)
        shown.update(Text(error))
        shown.add_class("-shown")
        field = _field_of(key)
        target: Widget = self.query_one("#new-prompt" if field == "prompt" else f"#{field}")
        target.focus()

    def action_cancel(self) -> None:
        """Escape while the file is being written waits: closing then would start nothing but
        still leave the agent in the file."""
        if not self.writing:
            self.dismiss(None)


def _field_of(key: str | None) -> str:
    """The form field an error's key names (`agent[4].kind` → kind); the name otherwise."""
    last = (key or "").rsplit(".", 1)[-1]
    return last if last in FIELDS else "name"
