"""The herd's coordination as tables: conflicts between builders, and task locks."""

from __future__ import annotations

from rich.text import Text
from textual.widgets import DataTable

from sessions.conflicts import Conflict
from sessions.locks import LockReport, Verdict
from tui.format import age

LEVEL_WORDS = {"file": "same file", "lines": "same lines", "merge": "merge conflict"}


class ConflictsTable(DataTable[Text]):
    """Worst first: a real merge conflict, then overlapping lines, then the same file."""

    def on_mount(self) -> None:
        self.cursor_type = "row"
        # Fixed widths: a table filled while its tab is hidden cannot measure its cells.
        for key, title, width in (
            ("level", "level", 16),
            ("path", "path", 32),
            ("agents", "agents", 22),
            ("since", "for", 7),
            ("detail", "detail", 48),
        ):
            self.add_column(title, key=key, width=width)
        self._shown: tuple[tuple[Conflict, ...], float] | None = None

    def show(self, conflicts: tuple[Conflict, ...], now: float) -> None:
        order = {"merge": 0, "lines": 1, "file": 2}
        rows = sorted(conflicts, key=lambda c: (order.get(c.level, 3), c.path, c.agents))
        if self._shown == (tuple(rows), now):
            return
        self._shown = (tuple(rows), now)
        self.clear()
        if not rows:
            self.add_row(
                Text("none", style="dim"),
                Text("no two builders changed the same file", style="dim"),
                Text(""),
                Text(""),
                Text(""),
            )
            return
        for conflict in rows:
            self.add_row(
                Text(f"⚠ {LEVEL_WORDS.get(conflict.level, conflict.level)}", style="bold"),
                Text(conflict.path),
                Text(" and ".join(conflict.agents)),
                Text(age(now - conflict.since)),
                Text(conflict.detail, style="dim"),
            )


class LocksTable(DataTable[Text]):
    """Stale and orphaned locks first: they are the ones that need a person. `highlighted`
    is the lock under the cursor, the one the release key asks about."""

    def on_mount(self) -> None:
        self.cursor_type = "row"
        for key, title, width in (
            ("state", "lock", 8),
            ("task", "task", 20),
            ("holder", "holder", 14),
            ("age", "age", 7),
            ("path", "path", 30),
            ("reason", "why", 48),
        ):
            self.add_column(title, key=key, width=width)
        self._shown: tuple[LockReport | None, str | None] | None = None
        self._rows: list[Verdict] = []

    def show(self, report: LockReport | None, error: str | None) -> None:
        if self._shown == (report, error):
            return
        self._shown = (report, error)
        self._rows = []
        self.clear()
        if report is None:
            why = error or "no base branch to look for locks on"
            self.add_row(Text("-"), Text(why), *[Text("")] * 4)
            return
        if not report.verdicts:
            none = Text("no task locks held", style="dim")
            self.add_row(Text("none", style="dim"), none, *[Text("")] * 4)
            return
        verdicts = sorted(report.verdicts, key=lambda v: (not v.orphaned, not v.stale, v.lock.path))
        self._rows = verdicts
        for verdict in verdicts:
            mark = "orphaned" if verdict.orphaned else ("stale" if verdict.stale else "held")
            self.add_row(
                Text(mark, style="bold reverse" if mark != "held" else ""),
                Text(verdict.lock.task or "?"),
                Text(verdict.lock.holder_name),
                Text(age(verdict.age_s)),
                Text(verdict.lock.path, style="dim"),
                Text(verdict.reason, style="dim"),
            )

    @property
    def highlighted(self) -> Verdict | None:
        """The lock on the cursor's row, or None when the table holds no lock."""
        if 0 <= self.cursor_row < len(self._rows):
            return self._rows[self.cursor_row]
        return None
