"""A supervisor fed by fixed snapshots, recording every action asked of it.

The dashboard tests check the screen, not the supervisor: so the herd here is made of values
(frozen time, fixed agents, a conflict, a stale lock, notes) and its actions only write down
what they were asked and change the state the next look shows, as the real ones would.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING

from sessions.adapters import config_writer, note_texts
from sessions.adapters.config import CONFIG_NAME, load_config
from sessions.adapters.feed import Feed, Follower
from sessions.adapters.journal import Journal
from sessions.adapters.repo import Repo
from sessions.adapters.tmux import Tmux
from sessions.adapters.worktree_diff import read_diff
from sessions.commands.attach import attach_plan
from sessions.core.agent_fields import AgentFields
from sessions.core.attach_values import AttachPlan
from sessions.core.conflict_values import Conflict
from sessions.core.events import Event
from sessions.core.fingerprint import Fingerprint
from sessions.core.fold import Fold
from sessions.core.history_values import Recorded
from sessions.core.lock_values import Lock, LockReport, LockVerdict
from sessions.core.model import (
    AgentRole,
    AgentSpec,
    AgentView,
    Config,
    Coordination,
    Kind,
    Snapshot,
    State,
    Summary,
)
from sessions.core.note_changes import LastChange, NoteFile, NoteText
from sessions.core.outcome import Outcome
from sessions.core.prices import DEFAULT_PRICES
from sessions.core.rules import SummaryRules
from sessions.core.summary_values import Brief
from sessions.core.worktree_values import (
    FileChange,
    Leftovers,
    MergePreview,
    RemovalPlan,
    WorktreeDiff,
)
from sessions.services.history import TAIL, History

if TYPE_CHECKING:
    from sessions.services.summaries import Summarizer

NOW = 1_800_000_000.0  # every clock in the fake herd is frozen here

SCREEN = (
    "\x1b[1m✻ Working on the parser\x1b[0m\n"
    "\x1b[32m● Edit(src/app.py)\x1b[0m\n"
    "  ⎿  Updated src/app.py with 2 additions\n"
    "\x1b[2m  esc to interrupt\x1b[0m\n"
)


class FakeTmux(Tmux):
    """Captures come from a dict; nothing runs tmux."""

    def __init__(self, screens: dict[str, str]) -> None:
        super().__init__("corral-fake", tmux_bin="/bin/false")
        self.screens = screens
        self.captures: list[str] = []

    def capture(self, pane_id: str, ansi: bool = False, history: int = 0) -> str:
        self.captures.append(pane_id)
        return self.screens.get(pane_id, "")

    def detach_keys(self) -> str:
        return "Ctrl-b d"

    def socket_path(self) -> str | None:
        return "/tmp/tmux-fake/corral-fake"


def view(
    name: str,
    state: State,
    *,
    since: float = 90.0,
    pane: str | None = "%1",
    kind: str = "claude",
    tokens: int = 12_000,
    cost: float | None = 0.42,
    worktree: str = "",
) -> AgentView:
    live = state not in (State.EXITED, State.SHELVED, State.CRASH_LOOPING)
    return AgentView(
        name=name,
        kind=kind,
        state=state,
        reason=f"{name} reason: the screen says so",
        since=NOW - since,
        branch=f"corral/{name}",
        worktree=worktree,
        pane=pane,
        pid=4242 if live else None,
        runner_pid=4241 if live else None,
        runs=1,
        exit_code=None if live else 1,
        session_id=None,
        paused=state is State.PAUSED,
        shelved=state is State.SHELVED,
        in_config=True,
        cpu_percent=12.0 if live else None,
        rss_bytes=200 << 20 if live else 0,
        tokens={"input": tokens, "output": tokens // 10, "cache_read": 0, "cache_write": 0},
        cost_usd=cost,
    )


def role(name: str, kind: str, edits: int, calls: int, files: tuple[str, ...]) -> AgentRole:
    printed = Fingerprint(
        role=kind,
        calls=calls,
        edits=edits,
        reads=calls - edits,
        execs=0,
        delegates=0,
        files=files,
        files_written=len(files),
        last_change=NOW - 30 if edits else None,
        reason=f"{name}: {edits} of {calls} calls edit",
    )
    return AgentRole(printed)


def stale_lock(holder: str) -> LockVerdict:
    lock = Lock(
        path="current_tasks/parser.md",
        task="parser",
        agent_id=holder,
        status=None,
        created_at=NOW - 7200,
        created_from="file",
        holder=holder,
        where=(holder,),
        on_base=False,
    )
    return LockVerdict(lock, 7200.0, True, False, f"{holder} exited 40m ago", "holder exited")


def herd_snapshot(agents: Sequence[AgentView]) -> Snapshot:
    names = [a.name for a in agents]
    roles = {name: role(name, "observer", 0, 8, ()) for name in names}
    if "alpha" in names:
        roles["alpha"] = role("alpha", "builder", 6, 10, ("src/app.py", "src/cli.py"))
    if "bravo" in names:
        held = (stale_lock("bravo"),)
        roles["bravo"] = replace(role("bravo", "builder", 3, 12, ("src/app.py",)), locks=held)
    conflicts: tuple[Conflict, ...] = ()
    if "alpha" in names and "bravo" in names:
        conflicts = (
            Conflict("lines", "src/app.py", ("alpha", "bravo"), NOW - 300, "lines 1-2 meet"),
        )
    verdicts = tuple(v for r in roles.values() for v in r.locks)
    coordination = Coordination(roles, conflicts, LockReport(verdicts, completed=2))
    return Snapshot(tuple(agents), coordination, NOW)


def default_agents(worktrees: dict[str, str] | None = None) -> list[AgentView]:
    worktrees = worktrees or {}
    return [
        replace(
            view("alpha", State.WORKING, pane="%1", worktree=worktrees.get("alpha", "")),
            summary=Summary(
                "Splitting the parser into modules; tests pass", False, NOW - 40, "working"
            ),
        ),
        replace(
            view("bravo", State.NEEDS_INPUT, since=20, pane="%2", kind="codex", cost=None),
            summary=Summary(
                "asks to edit src/app.py, which alpha holds", True, NOW - 15, "needs_input"
            ),
        ),
        view("charlie", State.IDLE, since=600, pane="%3", kind="sim", tokens=0, cost=0.0),
        view("delta", State.EXITED, since=3600, pane="%4", kind="gemini", tokens=500),
    ]


@dataclass
class FakeHerd:
    """Satisfies `tui.herd.Herd`. `calls` lists (action, argument) in the order asked.

    `repo` and `journal` are real, in a temporary folder, for the tests to write into: the
    history, notes and diffs read them (and git) as the supervisor's own reads would.
    """

    repo: Repo
    config: Config | None
    journal: Journal
    agents: list[AgentView]
    tmux_fake: FakeTmux = field(default_factory=lambda: FakeTmux({}))
    calls: list[tuple[str, object]] = field(default_factory=list)
    fail: set[str] = field(default_factory=set)
    looks: int = 0
    notes_items: list[NoteFile] = field(default_factory=list)
    notes_events: list[Event] = field(default_factory=list)
    called: threading.Event = field(default_factory=threading.Event)
    merge_refusal: str | None = None
    leftovers: Leftovers = field(default_factory=Leftovers)
    kept_history: History | None = None
    hook_readers: dict[str, Journal] = field(default_factory=dict)
    feed: Feed | None = None

    def herd_name(self) -> str:
        return self.repo.root.name

    def config_path(self) -> Path:
        return self.repo.root / CONFIG_NAME

    def add_agent(self, fields: AgentFields) -> str:
        """Real corral.toml, written as the supervisor's."""
        return config_writer.add_agent(self.config_path(), fields)

    def capture(self, pane: str, history: int = 0) -> str:
        return self.tmux_fake.capture(pane, ansi=True, history=history)

    def attach_plan(self, name: str, pane: str, environ: dict[str, str]) -> AttachPlan:
        return attach_plan(self.tmux_fake, pane, name, environ)

    def diff(self, name: str, worktree: str, base: str | None) -> WorktreeDiff:
        """Real git, read-only, as the supervisor's."""
        return read_diff(name, worktree, base)

    def keep_history(self) -> None:
        if self.kept_history is None:
            self.kept_history = History()
            self.feed = Feed(Journal(self.journal.path))
            self.feed.join(Follower(apply=self.kept_history.journaled, near_end=TAIL))

    def history(self) -> Recorded:
        """The journal (through a feed, as the supervisor's) and each agent's hook file, read
        here as the observer reads them."""
        self.keep_history()
        kept, feed = self.kept_history, self.feed
        assert kept is not None and feed is not None
        feed.pull()
        for agent in self.agents:
            reader = self.hook_readers.get(agent.name)
            if reader is None:
                path = self.repo.state_dir / "events" / f"{agent.name}.jsonl"
                reader = self.hook_readers[agent.name] = Journal(path)
                reader.start_near_end(TAIL)
            kept.hooked(agent.name, reader.read_new())
        return kept.read()

    def read_notes(self, worktrees: Mapping[str, str], since: float) -> tuple[NoteText, ...]:
        """`notes_items` and `notes_events` as the notes; their text is read from disk."""
        return note_texts.read(
            self.notes_items, self.notes_events, self.repo.root, worktrees, since
        )

    def notes_seen(self) -> float:
        return note_texts.seen(self.repo.state_dir / "cache")

    def mark_notes_seen(self, when: float) -> None:
        note_texts.mark_seen(self.repo.state_dir / "cache", when)

    def snapshot(self, fresh_locks: bool = False) -> Snapshot:
        """The agents as set, with the summaries the journal holds, as the supervisor adds
        them."""
        self.looks += 1
        said = Fold().apply_all(self.journal.read_all()).summaries
        return herd_snapshot(
            [
                replace(a, summary=Summary.from_event(said.get(a.name)) or a.summary)
                for a in self.agents
            ]
        )

    def specs(self) -> tuple[AgentSpec, ...]:
        return self.config.agents if self.config else ()

    def base(self) -> str:
        return "main"

    def _record(self, action: str, argument: object) -> None:
        self.calls.append((action, argument))
        self.called.set()
        if action in self.fail:
            from sessions.core.errors import AgentError

            raise AgentError(f"{argument} could not {action}: the fake says no.")

    def _set(self, name: str, state: State) -> None:
        self.agents = [replace(a, state=state) if a.name == name else a for a in self.agents]

    def up(self, names: Sequence[str] = ()) -> list[Outcome]:
        self._record("up", tuple(names))
        return [Outcome(name, "started", f"{name} started") for name in names]

    def reload_config(self) -> None:
        """Like the supervisor's: the new-agent tests check the file the form really wrote."""
        self._record("reload_config", None)
        self.config = load_config(self.repo.root)

    def pause(self, names: Iterable[str]) -> list[Outcome]:
        names = list(names)
        self._record("pause", tuple(names))
        for name in names:
            self._set(name, State.PAUSED)
        return [Outcome(name, "pause", f"{name} paused (3 processes stopped)") for name in names]

    def resume(self, names: Iterable[str]) -> list[Outcome]:
        names = list(names)
        self._record("resume", tuple(names))
        for name in names:
            self._set(name, State.WORKING)
        return [Outcome(name, "resume", f"{name} resumed (3 processes)") for name in names]

    def restart(self, name: str) -> Outcome:
        self._record("restart", name)
        return Outcome(name, "started", f"{name} restarted")

    def shelve(self, name: str) -> Outcome:
        self._record("shelve", name)
        self._set(name, State.SHELVED)
        return Outcome(name, "shelve", f"{name} shelved")

    def unshelve(self, name: str) -> Outcome:
        self._record("unshelve", name)
        self._set(name, State.STARTING)
        return Outcome(name, "resumed", f"{name} resumed")

    def kill(self, name: str) -> Outcome:
        self._record("kill", name)
        self._set(name, State.EXITED)
        return Outcome(name, "kill", f"{name} stopped; worktree and branch kept")

    def remove(self, name: str) -> Outcome:
        self._record("remove", name)
        self.agents = [a for a in self.agents if a.name != name]
        return Outcome(name, "rm", f"{name} removed")

    def send(self, name: str, text: str, replace: bool = False) -> Outcome:
        self._record("send", (name, text, replace))
        return Outcome(name, "send", f"sent {len(text)} characters to {name}")

    def explain(self, name: str) -> list[tuple[str, str]]:
        self._record("explain", name)
        return [("state", f"working: {name} is drawing"), ("screen", "esc to interrupt")]

    def removal_plan(self, name: str, worktree: str | None) -> RemovalPlan:
        """What `leftovers` says; a read like a look, so it is not among `calls`."""
        where = f"{self.repo.state_dir / 'kept'}/{name}-<time>/"
        return RemovalPlan(Path(worktree) if worktree else None, self.leftovers, where)

    def merge_preview(self, name: str) -> MergePreview:
        """Two commits and two files ahead of main; `merge_refusal` makes it one that refuses."""
        self._record("merge_preview", name)
        return MergePreview(
            agent=name,
            branch=f"corral/{name}",
            base="main",
            base_tip="1" * 40,
            tip="2" * 40,
            merge_base="1" * 40,
            ahead=2,
            behind=0,
            fast_forward=True,
            commits=(("2" * 40, "Parse the config"), ("3" * 40, "Test the parser")),
            files=(FileChange("src/app.py", 12, 3), FileChange("tests/test_app.py", 40, 0)),
            conflicts=(),
            worktree=Path(f"/work/project.corral/{name}"),
            uncommitted=1,
            refusal=self.merge_refusal,
        )

    def merge(self, name: str) -> Outcome:
        self._record("merge", name)
        ref = f"refs/corral/before-merge/{name}/20270115T080000Z"
        return Outcome(
            name,
            "merge",
            f"Merged corral/{name} into main: a fast-forward (2 commits, 2 files).\n"
            f"To undo it while main has nothing newer: git reset --keep {ref}",
        )

    def release_lock(self, path: str) -> Outcome:
        self._record("release_lock", path)
        return Outcome(path, "release", f"released {path} (held by bravo) in commit 4444444")

    # Summaries are real (the SDK against a stand-in, when a test gives one): only what they
    # are written from is made up here.
    @property
    def summary_rules(self) -> SummaryRules:
        return self.config.summaries if self.config else SummaryRules()

    def summarizer(self, environ: Mapping[str, str] | None = None) -> Summarizer:
        from sessions.services.summaries import Summarizer

        return Summarizer(self.summary_rules, DEFAULT_PRICES, self.journal, environ)

    def briefs(self, views: Sequence[AgentView]) -> list[Brief]:
        self._record("briefs", tuple(view.name for view in views))
        return [
            Brief(v.name, v.state.value, (f"agent {v.name}, {v.state.value}", v.reason))
            for v in views
        ]

    def herd_facts(
        self, views: Sequence[AgentView], before: Mapping[str, str], since: float
    ) -> list[str]:
        return [f"- {v.name}: {before.get(v.name, '?')} -> {v.state.value}" for v in views]


def progress_note(lines: int = 4) -> NoteFile:
    return NoteFile(
        path="PROGRESS.md",
        where="base",
        lines=lines,
        done=("first task",),
        open=("second task",),
        next_step="second task",
        pass_rate=None,
        growth_per_hour=0.0,
        warnings=(),
        last_change=LastChange("alpha", NOW - 60),
        touched=NOW - 60,
    )


def make_herd(root: Path, specs: Sequence[str] = (), **fields: object) -> FakeHerd:
    """A fake herd over a real folder (for the journal, notes and the repository's name)."""
    root.mkdir(parents=True, exist_ok=True)
    repo = Repo(root=root, common_dir=root / ".git")
    config = Config(
        path=str(root / "corral.toml"),
        base="main",
        worktrees="../{repo}.corral",
        agents=tuple(AgentSpec(name, Kind.SIM) for name in specs),
    )
    journal = Journal(repo.journal_path)
    agents = fields.pop("agents", None)
    herd = FakeHerd(
        repo=repo,
        config=config,
        journal=journal,
        agents=list(agents) if isinstance(agents, list) else default_agents(),
        tmux_fake=FakeTmux({"%1": SCREEN, "%2": "bravo asks: Allow edit? (y/n)\n"}),
    )
    for key, value in fields.items():
        setattr(herd, key, value)
    return herd
