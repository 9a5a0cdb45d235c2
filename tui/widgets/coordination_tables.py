"""The herd's coordination as tables: conflicts between builders, and task locks."""

from __future__ import annotations

from rich.style import Style
from rich.text import Text
from textual.widgets import DataTable

from sessions.core.conflict_values import Conflict
from sessions.core.lock_values import LockReport, LockVerdict
from tui.format import age
from tui.states import warning_style
from tui.widgets.herd_table import same_text

LEVEL_WORDS = {"file": "same file", "lines": "same lines", "merge": "merge conflict"}


Cells = list[tuple[Text, ...]]


class FilledTable(DataTable[Text]):
    """A table refilled from scratch, but only when what it would show changed: the
    snapshot behind it is new on every look, what it shows here rarely is, and a refill
    costs a redraw and the cursor's place."""

    _cells: Cells | None = None

    def fill(self, cells: Cells) -> None:
        if self._cells is not None and _same_cells(self._cells, cells):
            return
        self._cells = cells
        row = self.cursor_row
        self.clear()
        for line in cells:
            self.add_row(*line)
        if 0 <= row < len(cells):
            self.move_cursor(row=row)


def _same_cells(old: Cells, new: Cells) -> bool:
    return len(old) == len(new) and all(
        len(a) == len(b) and all(same_text(x, y) for x, y in zip(a, b, strict=True))
        for a, b in zip(old, new, strict=True)
    )


class ConflictsTable(FilledTable):
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

    def show(self, conflicts: tuple[Conflict, ...], now: float) -> None:
        order = {"merge": 0, "lines": 1, "file": 2}
        rows = sorted(conflicts, key=lambda c: (order.get(c.level, 3), c.path, c.agents))
        warning = warning_style("conflict", self.app.theme_variables)
        cells: Cells = [
            (
                Text(f"⚠ {LEVEL_WORDS.get(conflict.level, conflict.level)}", style=warning),
                Text(conflict.path),
                Text(" and ".join(conflict.agents)),
                Text(age(now - conflict.since)),
                Text(conflict.detail, style="dim"),
            )
            for conflict in rows
        ]
        if not rows:
            none = Text("no two builders changed the same file", style="dim")
            cells = [(Text("none", style="dim"), none, Text(""), Text(""), Text(""))]
        self.fill(cells)


class LocksTable(FilledTable):
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
        self._rows: list[LockVerdict] = []

    def show(self, report: LockReport | None, error: str | None) -> None:
        self._rows = []
        if report is None:
            why = error or "no base branch to look for locks on"
            cells: Cells = [(Text("-"), Text(why), *[Text("")] * 4)]
        elif not report.verdicts:
            none = Text("no task locks held", style="dim")
            cells = [(Text("none", style="dim"), none, *[Text("")] * 4)]
        else:
            verdicts = sorted(
                report.verdicts, key=lambda v: (not v.orphaned, not v.stale, v.lock.path)
            )
            self._rows = verdicts
            warning = warning_style("lock-stale", self.app.theme_variables)
            cells = [_lock_cells(verdict, warning) for verdict in verdicts]
        self.fill(cells)

    @property
    def highlighted(self) -> LockVerdict | None:
        """The lock on the cursor's row, or None when the table holds no lock."""
        if 0 <= self.cursor_row < len(self._rows):
            return self._rows[self.cursor_row]
        return None


def _lock_cells(verdict: LockVerdict, warning: Style) -> tuple[Text, ...]:
    mark = "orphaned" if verdict.orphaned else ("stale" if verdict.stale else "held")
    return (
        Text(mark, style=warning if mark != "held" else ""),
        Text(verdict.lock.task or "?"),
        Text(verdict.lock.holder_name),
        Text(age(verdict.age_s)),
        Text(verdict.lock.path, style="dim"),
        Text(verdict.reason, style="dim"),
    )
