"""What workers send back to the screen: each an immutable value, posted once per result."""

from __future__ import annotations

from dataclasses import dataclass

from textual.message import Message

from sessions.journal import Event
from sessions.model import AgentView, Snapshot
from sessions.note_changes import NoteFile
from sessions.worktree_removal import RemovalPlan
from tui.diff import WorktreeDiff
from tui.history import Recorded


@dataclass
class HerdLooked(Message):
    """A new look at the whole herd, and the history read with it."""

    snapshot: Snapshot
    history: Recorded | None
    polled: bool = True  # False: taken by an action's worker right after the action


@dataclass
class LookFailed(Message):
    """The look itself failed (tmux went away, git broke); the screen says so and keeps going."""

    error: str


@dataclass
class PaneCaptured(Message):
    agent: str
    text: str


@dataclass
class DiffRead(Message):
    diff: WorktreeDiff


@dataclass
class RemovalPlanned(Message):
    """What removing the agent would move aside, read before the question is asked."""

    view: AgentView
    plan: RemovalPlan


@dataclass
class Explained(Message):
    agent: str
    lines: tuple[tuple[str, str], ...]


@dataclass(frozen=True)
class NoteText:
    """One notes file with its text, and the changes to it since the user last looked."""

    file: NoteFile
    text: str | None
    changes: tuple[Event, ...]


@dataclass
class NotesRead(Message):
    notes: tuple[NoteText, ...]
    seen: float
