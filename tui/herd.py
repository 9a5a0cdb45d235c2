"""What the app needs from a supervisor, as a protocol, so the screen can be tested on fakes.

`sessions.supervisor.Supervisor` satisfies it as it is; the tests' fake does too. Only what the
dashboard calls is here: looking, the actions, and the places it reads from.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Protocol

from sessions.briefs import Brief
from sessions.journal import Event, Journal
from sessions.model import AgentSpec, AgentView, Config, Snapshot
from sessions.note_changes import NoteFile
from sessions.outcome import Outcome
from sessions.repo import Repo
from sessions.rules import SummaryRules
from sessions.tmux import Tmux
from sessions.worktree_merge import MergePreview
from sessions.worktree_removal import RemovalPlan

if TYPE_CHECKING:
    from sessions.summaries import Summarizer


class NotesLook(Protocol):
    """PROGRESS.md and notes as one look found them."""

    def files(self, now: float) -> list[NoteFile]: ...

    def changes(self) -> list[Event]: ...


class Herd(Protocol):
    """The supervisor as the dashboard sees it."""

    repo: Repo
    config: Config | None
    journal: Journal

    @property
    def tmux(self) -> Tmux: ...

    def snapshot(self, fresh_locks: bool = False) -> Snapshot: ...

    def specs(self) -> tuple[AgentSpec, ...]: ...

    def base(self) -> str: ...

    def up(self, names: Sequence[str] = ()) -> list[Outcome]: ...

    def reload_config(self) -> None:
        """Read corral.toml again, after the new-agent form added an agent to it."""

    def pause(self, names: Iterable[str]) -> list[Outcome]: ...

    def resume(self, names: Iterable[str]) -> list[Outcome]: ...

    def restart(self, name: str) -> Outcome: ...

    def shelve(self, name: str) -> Outcome: ...

    def unshelve(self, name: str) -> Outcome: ...

    def kill(self, name: str) -> Outcome: ...

    def remove(self, name: str) -> Outcome: ...

    def send(self, name: str, text: str, replace: bool = False) -> Outcome: ...

    def explain(self, name: str) -> list[tuple[str, str]]: ...

    def notes(self) -> NotesLook: ...

    def removal_plan(self, name: str, worktree: str | None) -> RemovalPlan: ...

    def merge_preview(self, name: str) -> MergePreview: ...

    def merge(self, name: str) -> Outcome: ...

    def release_lock(self, path: str) -> Outcome: ...

    @property
    def summary_rules(self) -> SummaryRules: ...

    def summarizer(self, environ: Mapping[str, str] | None = None) -> Summarizer: ...

    def briefs(self, views: Sequence[AgentView]) -> list[Brief]: ...

    def herd_facts(
        self, views: Sequence[AgentView], before: Mapping[str, str], since: float
    ) -> list[str]: ...
