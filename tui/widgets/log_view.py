"""History lines (the journal, one agent's activity) in a log that only appends what is new."""

from __future__ import annotations

from collections.abc import Sequence

from rich.text import Text
from textual.widgets import RichLog

from sessions.core.history_values import Entry
from tui.format import clock


class HistoryLog(RichLog):
    """Keeps its place when nothing changed; starts over when it is given another subject."""

    def __init__(self, *, show_agent: bool, id: str | None = None) -> None:
        super().__init__(id=id, wrap=False, markup=False, highlight=False, max_lines=2000)
        self.show_agent = show_agent
        self._subject: str | None = None
        self._last: Entry | None = None
        self._count = 0

    def show(self, subject: str | None, entries: Sequence[Entry], empty: str) -> None:
        if subject != self._subject or (self._last is not None and self._last not in entries):
            self.clear()
            self._subject, self._last, self._count = subject, None, 0
        if not entries:
            if self._count == 0:
                self.clear()
                self.write(Text(empty, style="dim italic"))
                self._count = -1
            return
        if self._count == -1:
            self.clear()
            self._count = 0
        start = 0
        if self._last is not None:
            start = len(entries) - list(reversed(entries)).index(self._last)
        for entry in entries[start:]:
            self.write(self._line(entry))
            self._count += 1
        self._last = entries[-1]

    def _line(self, entry: Entry) -> Text:
        text = Text(clock(entry.t), style="dim")
        if self.show_agent:
            text.append(f"  {entry.agent or '-':<14}", style="bold")
        kind = "dim" if entry.source == "journal" else "cyan"
        text.append(f"  {'hook' if entry.source == 'hook' else 'log':<4}", style=kind)
        text.append(f" {entry.event:<14}", style="bold" if entry.source == "journal" else "")
        text.append(f" {entry.detail}")
        return text
