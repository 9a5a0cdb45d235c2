"""Every blocking read the dashboard makes, in one place, for thread workers to call.

The app owns one `Reader`. Looking (`snapshot`, `history`, `explain`, the notes) goes through
the herd's observer, which is not safe to use from two threads at once, so those hold one lock;
pane captures, git diffs and removal plans are plain subprocesses and need none. What is read
and how is the herd's; nothing here touches a file, tmux or a widget.

The first look can start before the app exists (`look_ahead`): the next `look` is that one.
"""

from __future__ import annotations

import threading

from sessions.core.history_values import Recorded
from sessions.core.model import Snapshot
from sessions.core.note_changes import NoteText
from sessions.core.worktree_values import RemovalPlan, WorktreeDiff
from tui.herd import Herd

HISTORY_LINES = 500


class Reader:
    def __init__(self, herd: Herd) -> None:
        self.herd = herd
        self.lock = threading.Lock()
        self.known_base: str | None = None
        herd.keep_history()  # before the first look, whose hook events the history needs too
        self._ahead: threading.Thread | None = None
        self._ahead_lock = threading.Lock()
        self._ahead_result: tuple[Snapshot, Recorded] | BaseException | None = None

    def look_ahead(self) -> None:
        """Start a look now, on a thread of its own; the next `look` answers with it."""
        self._ahead = threading.Thread(target=self._look_ahead, name="first look", daemon=True)
        self._ahead.start()

    def _look_ahead(self) -> None:
        try:
            self._ahead_result = self._look()
        except Exception as error:
            self._ahead_result = error

    def looked_ahead(self) -> tuple[Snapshot, Recorded] | None:
        """The look started ahead, if it is back and nobody took it yet; never waits."""
        with self._ahead_lock:
            ahead = self._ahead
            if ahead is None or ahead.is_alive() or isinstance(self._ahead_result, BaseException):
                return None
            self._ahead = None
            return self._ahead_result

    def look(self) -> tuple[Snapshot, Recorded]:
        with self._ahead_lock:
            ahead, self._ahead = self._ahead, None
        if ahead is None:
            return self._look()
        ahead.join()
        result = self._ahead_result
        if isinstance(result, BaseException):
            raise result
        assert result is not None
        return result

    def _look(self) -> tuple[Snapshot, Recorded]:
        with self.lock:
            snapshot = self.herd.snapshot()
            if self.known_base is None:
                self.base()
            return snapshot, self.herd.history()

    def base(self) -> str | None:
        """The base branch, or None when the repository cannot say (a detached HEAD)."""
        try:
            self.known_base = self.herd.base()
        except Exception:
            return self.known_base
        return self.known_base

    def capture(self, pane: str) -> str:
        return self.herd.capture(pane, history=HISTORY_LINES)

    def diff(self, agent: str, worktree: str) -> WorktreeDiff:
        return self.herd.diff(agent, worktree, self.base())

    def removal_plan(self, agent: str, worktree: str | None) -> RemovalPlan:
        """git only reads here (a status with ignored files), so the herd's lock is not held."""
        return self.herd.removal_plan(agent, worktree)

    def explain(self, agent: str) -> tuple[tuple[str, str], ...]:
        with self.lock:
            return tuple(self.herd.explain(agent))

    def notes(self, worktrees: dict[str, str], since: float) -> tuple[NoteText, ...]:
        """Every notes file with its text, and the changes to it after `since`."""
        with self.lock:
            return self.herd.read_notes(worktrees, since)

    def notes_seen(self) -> float:
        return self.herd.notes_seen()

    def mark_notes_seen(self, when: float) -> None:
        self.herd.mark_notes_seen(when)


def worktrees_of(snapshot: Snapshot) -> dict[str, str]:
    return {view.name: view.worktree for view in snapshot.agents if view.worktree}
