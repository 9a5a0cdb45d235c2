"""What workers send back to the screen, each an immutable value posted once per result, and
what the screen asks of the app (actions, attaching, summaries): the screen posts, the app
handles, so the screen never calls the app."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from textual.message import Message

from sessions.core.history_values import Recorded
from sessions.core.model import AgentView, Snapshot
from sessions.core.note_changes import NoteText
from sessions.core.outcome import Outcome
from sessions.core.worktree_values import RemovalPlan, WorktreeDiff
from tui.herd import Herd


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


@dataclass
class ActionAsked(Message):
    """Run an action on the herd (on a worker); `stops` names the agent it stops, whose exit
    is then no alert."""

    what: str
    call: Callable[[Herd], Outcome | list[Outcome]]
    stops: str | None = None


@dataclass
class AttachAsked(Message):
    """Show the agent's pane in the user's terminal."""

    view: AgentView


@dataclass
class SummaryAsked(Message):
    """The agent's summary now, whatever the refresh policy says."""

    view: AgentView


@dataclass
class DigestAsked(Message):
    """What changed across the herd since the user left."""

    snapshot: Snapshot | None
