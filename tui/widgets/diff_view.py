"""An agent's diff against the base: the files first, then every hunk, read-only."""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Vertical, VerticalScroll
from textual.widgets import DataTable, Static

from sessions.core.worktree_values import WorktreeDiff

FILE_WIDTH = 60


class DiffView(Vertical):
    """Choosing a file scrolls the hunks to it."""

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self._diff: WorktreeDiff | None = None
        self._offsets: dict[str, int] = {}

    def compose(self) -> ComposeResult:
        yield Static("", id="diff-summary")
        files: DataTable[Text] = DataTable(id="diff-files", cursor_type="row")
        # Fixed widths: a table filled while its tab was hidden measured its columns on some
        # starts and not on others.
        files.add_column("file", key="path", width=FILE_WIDTH)
        files.add_column("+", key="added", width=6)
        files.add_column("-", key="removed", width=6)
        yield files
        with VerticalScroll(id="diff-hunks"):
            yield Static("", id="diff-patch", markup=False)

    def say(self, message: str) -> None:
        self._diff = None
        self.query_one("#diff-summary", Static).update(Text(message, style="dim italic"))
        self.query_one("#diff-files", DataTable).clear()
        self.query_one("#diff-patch", Static).update("")

    def show(self, diff: WorktreeDiff) -> None:
        if diff == self._diff:
            return
        self._diff = diff
        summary = self.query_one("#diff-summary", Static)
        files: DataTable[Text] = self.query_one("#diff-files", DataTable)
        files.clear()
        if diff.error:
            summary.update(Text(diff.error, style="bold"))
            self.query_one("#diff-patch", Static).update("")
            return
        added = sum(f.added or 0 for f in diff.files)
        removed = sum(f.removed or 0 for f in diff.files)
        text = Text(f"{diff.agent}: {len(diff.files)} files changed since ")
        text.append(diff.merge_base[:10], style="bold")
        text.append(f"  +{added} -{removed}")
        if diff.cut:
            text.append("  (long diff: the rest is cut)", style="dim")
        if not diff.files:
            text = Text(f"{diff.agent} has changed nothing since it forked from the base")
        summary.update(text)
        for change in diff.files:
            files.add_row(
                Text(change.path + ("  (new, untracked)" if change.untracked else "")),
                Text(_added(change.added, change.untracked), style="green"),
                Text("" if change.removed is None else f"-{change.removed}", style="red"),
                key=change.path,
            )
        patch, self._offsets = colour_patch(diff.patch)
        self.query_one("#diff-patch", Static).update(patch)

    def on_data_table_row_highlighted(self, event: DataTable.RowHighlighted) -> None:
        event.stop()
        line = self._offsets.get(str(event.row_key.value))
        if line is not None:
            self.query_one("#diff-hunks", VerticalScroll).scroll_to(y=line, animate=False)


def colour_patch(patch: str) -> tuple[Text, dict[str, int]]:
    """Colours by line kind (words too: + and - lines keep their sign), and where each file's
    part starts."""
    text = Text(no_wrap=True)
    offsets: dict[str, int] = {}
    for number, line in enumerate(patch.splitlines()):
        if line.startswith("diff --git "):
            path = line.split(" b/", 1)[-1]
            offsets[path] = number
            style = "bold reverse"
        elif line.startswith(("+++", "---", "index ", "new file", "deleted file")):
            style = "bold"
        elif line.startswith("@@"):
            style = "cyan"
        elif line.startswith("+"):
            style = "green"
        elif line.startswith("-"):
            style = "red"
        else:
            style = ""
        text.append(line + "\n", style=style)
    return text, offsets


def _added(added: int | None, untracked: bool) -> str:
    if untracked:
        return "new"
    return "bin" if added is None else f"+{added}"
