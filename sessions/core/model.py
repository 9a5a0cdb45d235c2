"""The immutable values that cross module and thread boundaries.

Everything here is a frozen dataclass or an enum so a value built on a worker thread can be
handed to the UI thread without copies or locks.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sessions.core.conflict_values import Conflict, highest
from sessions.core.fingerprint import Fingerprint
from sessions.core.lock_values import LockReport, LockVerdict
from sessions.core.rules import Backoff, CoordinationRules, SummaryRules

# Restart lives with the runner's other rules, which a runner loads without these values.
from sessions.core.rules import Restart as Restart  # noqa: PLC0414 - named here too

if TYPE_CHECKING:
    from sessions.core.prices import PriceTable
    from sessions.core.usage import RunSpend

NAME_PATTERN = re.compile(r"^[a-z0-9][a-z0-9-]{0,39}$")


class Kind(StrEnum):
    """Which CLI an agent runs; decides launch and resume command lines."""

    CLAUDE = "claude"
    CODEX = "codex"
    GEMINI = "gemini"
    AIDER = "aider"
    SHELL = "shell"
    SIM = "sim"


class State(StrEnum):
    """What an agent is doing, as shown in the status column."""

    STARTING = "starting"
    WORKING = "working"
    NEEDS_INPUT = "needs_input"
    IDLE = "idle"
    PAUSED = "paused"
    SHELVED = "shelved"
    EXITED = "exited"
    CRASH_LOOPING = "crash_looping"


@dataclass(frozen=True)
class AgentSpec:
    """One `[[agent]]` entry of corral.toml, validated."""

    name: str
    kind: Kind
    command: tuple[str, ...] = ()
    prompt: str | None = None
    restart: Restart = Restart.NEVER
    env: tuple[tuple[str, str], ...] = ()
    args: tuple[str, ...] = ()

    @property
    def branch(self) -> str:
        return f"corral/{self.name}"


@dataclass(frozen=True)
class UserSettings:
    """Personal defaults from ~/.config/corral/config.toml; they never change what agents do."""

    theme: str = "corral-dark"
    keys: tuple[tuple[str, str], ...] = ()
    bell: bool = True
    desktop: bool = True
    notify_send: bool = False


@dataclass(frozen=True)
class Config:
    """The whole of corral.toml for one repository."""

    path: str
    base: str | None
    worktrees: str
    agents: tuple[AgentSpec, ...]
    backoff: Backoff = field(default_factory=Backoff)
    width: int = 160
    height: int = 45
    prices: PriceTable | None = None
    rules: CoordinationRules | None = None
    summaries: SummaryRules = field(default_factory=SummaryRules)


@dataclass(frozen=True)
class Checkout:
    """A working tree of the repository: an agent's worktree, or the base checkout (agent
    None). Locks and notes are looked for in every one of them."""

    agent: str | None
    path: Path
    branch: str


@dataclass(frozen=True)
class PaneInfo:
    """One row of `tmux list-panes -a` on corral's server."""

    pane_id: str
    session: str
    agent: str
    pid: int
    dead: bool
    dead_status: int | None
    activity: float
    dead_signal: int | None = None
    cursor: str = ""
    history: int = 0


@dataclass(frozen=True)
class Summary:
    """What a Claude model last said this agent is doing (`[summaries]`), and when."""

    text: str
    stuck: bool
    t: float
    state: str  # the agent's state when it was written

    def to_json(self) -> dict[str, object]:
        return {"text": self.text, "stuck": self.stuck, "t": self.t, "state": self.state}

    @classmethod
    def from_event(cls, event: Mapping[str, Any] | None) -> Summary | None:
        """The journal's `summary` event as a value; None for none, or for a damaged one."""
        if event is None:
            return None
        try:
            t = float(event.get("t", 0.0))
            return cls(str(event["text"]), bool(event.get("stuck")), t, str(event.get("state", "")))
        except (KeyError, TypeError, ValueError):
            return None


@dataclass(frozen=True)
class AgentView:
    """One agent as `corral ls` shows it: the picture adopted from tmux, git and the journal."""

    name: str
    kind: str
    state: State
    reason: str
    since: float | None
    branch: str
    worktree: str
    pane: str | None
    pid: int | None
    runner_pid: int | None
    runs: int
    exit_code: int | None
    session_id: str | None
    paused: bool
    shelved: bool
    in_config: bool
    cpu_percent: float | None = None
    rss_bytes: int = 0
    tokens: dict[str, int] | None = None
    cost_usd: float | None = None
    context_fill: float | None = None
    run_spends: tuple[RunSpend, ...] = ()
    run_started: float | None = None
    # What tmux says of the pane's screen: when it last had output (to the second), where its
    # cursor is, and how much history it holds. Unchanged, a capture would show the same.
    screen_mark: tuple[float, str, int] | None = None
    summary: Summary | None = None

    @property
    def empty_runs(self) -> int:
        """Ended runs that spent tokens and changed nothing."""
        return sum(1 for run in self.run_spends if run.empty)

    def to_json(self) -> dict[str, object]:
        return {
            "name": self.name,
            "kind": self.kind,
            "state": self.state.value,
            "reason": self.reason,
            "since": self.since,
            "branch": self.branch,
            "worktree": self.worktree,
            "pane": self.pane,
            "pid": self.pid,
            "runner_pid": self.runner_pid,
            "runs": self.runs,
            "exit_code": self.exit_code,
            "session_id": self.session_id,
            "paused": self.paused,
            "shelved": self.shelved,
            "in_config": self.in_config,
            "cpu_percent": self.cpu_percent,
            "rss_bytes": self.rss_bytes,
            "tokens": self.tokens,
            "cost_usd": self.cost_usd,
            "context_fill": self.context_fill,
            "runs_spent": [run.to_json() for run in self.run_spends],
            "empty_runs": self.empty_runs,
            "summary": None if self.summary is None else self.summary.to_json(),
        }


@dataclass(frozen=True)
class AgentRole:
    """One agent's part in the herd: its role, whether it stalled, the locks it holds."""

    fingerprint: Fingerprint
    stalled: bool = False
    stall_reason: str = ""
    locks: tuple[LockVerdict, ...] = ()

    def to_json(self) -> dict[str, Any]:
        held = self.locks[0] if self.locks else None
        return {
            **self.fingerprint.to_json(),
            "stalled": self.stalled,
            "stall_reason": self.stall_reason or None,
            "lock": None
            if held is None
            else {"path": held.lock.path, "task": held.lock.task, "stale": held.stale},
            "locks": len(self.locks),
        }


@dataclass(frozen=True)
class Coordination:
    """The herd's coordination at one look: roles per agent, conflicts, locks."""

    roles: Mapping[str, AgentRole]
    conflicts: tuple[Conflict, ...]
    locks: LockReport | None
    errors: Mapping[str, str] = field(default_factory=dict)

    @property
    def shown_conflicts(self) -> tuple[Conflict, ...]:
        """One line per pair of agents and path, at the worst level reached."""
        return highest(self.conflicts)

    def conflicts_of(self, agent: str) -> tuple[Conflict, ...]:
        return tuple(c for c in self.shown_conflicts if agent in c.agents)


@dataclass(frozen=True)
class Snapshot:
    """The whole herd at one look: every agent, and how they coordinate."""

    agents: tuple[AgentView, ...]
    coordination: Coordination
    taken: float

    def to_json(self) -> dict[str, object]:
        roles = self.coordination.roles
        agents = []
        for view in self.agents:
            role = roles.get(view.name)
            entry = view.to_json() | (role.to_json() if role else {})
            entry["conflicts"] = len(self.coordination.conflicts_of(view.name))
            agents.append(entry)
        return {
            "agents": agents,
            "conflicts": [c.to_json() for c in self.coordination.shown_conflicts],
        }


@dataclass(frozen=True)
class ProcFacts:
    """An agent's process tree at one moment."""

    pid: int
    alive: bool
    stopped: bool
    processes: int
    cpu_seconds: float = 0.0
    rss_bytes: int = 0
