"""PROGRESS.md and notes, rendered, with what changed since you last looked on top of each.

The rendered file (a Markdown widget, and markdown-it under it) is made when notes are first
shown: loading it costs a tenth of the time to the dashboard's first frame, for a tab that opens
later or never.
"""

from __future__ import annotations

from collections.abc import Sequence

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Horizontal, VerticalScroll
from textual.widgets import OptionList, Static
from textual.widgets.option_list import Option

from sessions.core.note_changes import NoteText
from tui.format import age

MAX_DIFF_LINES = 12


class NotesView(Horizontal):
    """A list of files on the left, the chosen one on the right."""

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self._notes: tuple[NoteText, ...] = ()
        self._chosen: str | None = None
        self._now = 0.0

    def compose(self) -> ComposeResult:
        yield OptionList(id="notes-files")
        with VerticalScroll(id="notes-body"):
            yield Static("", id="notes-changes")

    def show(self, notes: Sequence[NoteText], now: float) -> None:
        notes = tuple(notes)
        if notes == self._notes:
            return
        self._notes, self._now = notes, now
        files = self.query_one("#notes-files", OptionList)
        files.clear_options()
        for note in notes:
            marks = f" ● {len(note.changes)}" if note.changes else ""
            files.add_option(Option(Text(f"{_key(note)}{marks}"), id=_key(note)))
        if not notes:
            self.query_one("#notes-changes", Static).update(
                Text("no PROGRESS.md or notes in any checkout", style="dim italic")
            )
            self._show_markdown("")
            return
        keys = [_key(note) for note in notes]
        chosen = self._chosen if self._chosen in keys else keys[0]
        files.highlighted = keys.index(chosen)
        self._draw(chosen)

    def on_option_list_option_highlighted(self, event: OptionList.OptionHighlighted) -> None:
        event.stop()
        if event.option.id is not None and event.option.id != self._chosen:
            self._draw(event.option.id)

    def _draw(self, key: str) -> None:
        self._chosen = key
        note = next((n for n in self._notes if _key(n) == key), None)
        if note is None:
            return
        self.query_one("#notes-changes", Static).update(changes_text(note, self._now))
        self._show_markdown(note.text or "*(unreadable)*")

    def _show_markdown(self, markdown: str) -> None:
        from textual.widgets import Markdown

        shown = self.query(Markdown)
        if shown:
            shown.first().update(markdown)
        else:
            self.query_one("#notes-body").mount(Markdown(markdown, id="notes-markdown"))


def _key(note: NoteText) -> str:
    where = note.file.where
    return note.file.path if where == "base" else f"{note.file.path} ({where})"


def changes_text(note: NoteText, now: float) -> Text:
    """Each change since the last look, who made it and its added and removed lines."""
    item = note.file
    text = Text()
    summary = f"{item.lines} lines, {len(item.done)} done, {len(item.open)} open"
    if item.next_step:
        summary += f" · next: {item.next_step}"
    text.append(summary + "\n", style="dim")
    for warning in item.warnings:
        text.append(f"⚠ {warning.message}\n", style="bold")
    if not note.changes:
        text.append("nothing changed since you last looked\n", style="dim italic")
        return text
    text.append(f"changed since you last looked ({len(note.changes)}):\n", style="bold reverse")
    for change in note.changes:
        t = change.get("t")
        when = age(now - t) + " ago" if isinstance(t, int | float) else ""
        who = change.get("agent", "user")
        text.append(
            f"● {who} {change.get('kind', 'edit')} +{change.get('added', 0)} "
            f"-{change.get('removed', 0)} {when}\n",
            style="bold",
        )
        lines = str(change.get("diff", "")).splitlines()
        body = [line for line in lines if line[:1] in "+-" and not line.startswith(("+++", "---"))]
        for line in body[:MAX_DIFF_LINES]:
            text.append(f"  {line}\n", style="green" if line.startswith("+") else "red")
        if len(body) > MAX_DIFF_LINES:
            text.append(f"  … {len(body) - MAX_DIFF_LINES} more lines\n", style="dim")
    return text
