"""What workers send back to the screen: each an immutable value, posted once per result."""

from __future__ import annotations

from dataclasses import dataclass

from textual.message import Message

from sessions.history import Recorded
from sessions.model import AgentView, Snapshot
from sessions.note_texts import NoteText
from sessions.worktree_diff import WorktreeDiff
from sessions.worktree_removal import RemovalPlan


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


@dataclass
class NotesRead(Message):
    notes: tuple[NoteText, ...]
    seen: float
