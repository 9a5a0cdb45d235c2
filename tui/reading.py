"""Every blocking read the dashboard makes, in one place, for thread workers to call.

The app owns one `Reader`. Looking (`snapshot`, `explain`, `notes`) goes through the herd's
observer, which is not safe to use from two threads at once, so those hold one lock; pane
captures, git diffs and removal plans are plain subprocesses and need none. Nothing here touches
a widget.
"""

from __future__ import annotations

import contextlib
import threading
import time
from pathlib import Path

from sessions.model import Snapshot
from sessions.private import write_private
from sessions.worktree_removal import RemovalPlan
from tui.diff import WorktreeDiff, read_diff
from tui.herd import Herd
from tui.history import History, Recorded, freeze
from tui.messages import NoteText

HISTORY_LINES = 500


class Reader:
    def __init__(self, herd: Herd) -> None:
        self.herd = herd
        self.lock = threading.Lock()
        self.history = History(herd.journal.path, herd.repo.state_dir / "events")
        self._recorded = Recorded()
        self.known_base: str | None = None

    def look(self) -> tuple[Snapshot, Recorded]:
        with self.lock:
            snapshot = self.herd.snapshot()
            if self.known_base is None:
                self.base()
            if self.history.read(view.name for view in snapshot.agents):
                self._recorded = freeze(self.history)
            return snapshot, self._recorded

    def base(self) -> str | None:
        """The base branch, or None when the repository cannot say (a detached HEAD)."""
        try:
            self.known_base = self.herd.base()
        except Exception:
            return self.known_base
        return self.known_base

    def capture(self, pane: str) -> str:
        return self.herd.tmux.capture(pane, ansi=True, history=HISTORY_LINES)

    def diff(self, agent: str, worktree: str) -> WorktreeDiff:
        base = self.base()
        if base is None:
            return WorktreeDiff(agent, "", (), "", error="no base branch to compare with")
        return read_diff(agent, worktree, base)

    def removal_plan(self, agent: str, worktree: str | None) -> RemovalPlan:
        """git only reads here (a status with ignored files), so the herd's lock is not held."""
        return self.herd.removal_plan(agent, worktree)

    def explain(self, agent: str) -> tuple[tuple[str, str], ...]:
        with self.lock:
            return tuple(self.herd.explain(agent))

    def notes(self, worktrees: dict[str, str], since: float) -> tuple[NoteText, ...]:
        """Every notes file with its text, and the changes to it after `since`."""
        with self.lock:
            notes = self.herd.notes()
            files = notes.files(time.time())
            changes = notes.changes()
        found = []
        for item in files:
            root = self.herd.repo.root if item.where == "base" else worktrees.get(item.where)
            text = _read(Path(root) / item.path) if root else None
            mine = tuple(
                change
                for change in changes
                if change.get("where") == item.where
                and change.get("path") == item.path
                and float(change.get("t", 0)) > since
            )
            found.append(NoteText(item, text, mine))
        return tuple(found)

    # -- when the user last looked at the notes ---------------------------------------

    @property
    def _seen_path(self) -> Path:
        return self.herd.repo.state_dir / "cache" / "notes-seen"

    def notes_seen(self) -> float:
        try:
            return float(self._seen_path.read_text().strip())
        except (OSError, ValueError):
            return 0.0

    def mark_notes_seen(self, when: float) -> None:
        with contextlib.suppress(OSError):
            write_private(self._seen_path, f"{when}\n")


def _read(path: Path) -> str | None:
    try:
        return path.read_text(errors="replace")
    except OSError:
        return None


def worktrees_of(snapshot: Snapshot) -> dict[str, str]:
    return {view.name: view.worktree for view in snapshot.agents if view.worktree}
