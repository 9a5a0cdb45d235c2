"""The one object the command line and the app talk to: start, adopt, observe and act.

A `Supervisor` holds no state of its own that matters: what runs is in tmux, what exists is in
git, what happened is in the journal. Opening one adopts all three, so any number of command
lines and apps can come and go while the herd runs on. Actions that change the herd hold a lock
on `.corral/`, so two of them (two terminals, or the app and a terminal) never interleave.
"""

from __future__ import annotations

import fcntl
import os
import signal
import time
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING

# What only the dashboard or one action needs is imported where used: see test_boundaries.
from sessions.adapters import processes
from sessions.adapters.config import CONFIG_NAME, DEFAULT_WORKTREES, find_config, load_config
from sessions.adapters.feed import Feed, Follower, latest_records
from sessions.adapters.journal import Journal
from sessions.adapters.private import open_private
from sessions.adapters.processes import ProcessTable
from sessions.adapters.repo import Repo
from sessions.adapters.tmux import Tmux, tmux_version
from sessions.commands import pausing
from sessions.commands.launcher import interrupted, launch_in_pane
from sessions.core.errors import AgentError, CorralError
from sessions.core.explain import explanation
from sessions.core.fold import FOLD_VERSION, AgentRecord, Fold
from sessions.core.lock_values import LockReport
from sessions.core.model import AgentSpec, AgentView, Config, PaneInfo, Snapshot, State, Summary
from sessions.core.outcome import Outcome
from sessions.core.rules import CoordinationRules, SummaryRules
from sessions.core.status import Evidence
from sessions.services.coordination import Coordinator
from sessions.services.lock_tax import Tax, coordination_tax
from sessions.services.observer import Observer
from sessions.services.views import agent_view, located_view
from sessions.services.worktrees import Ensured, Worktrees

if TYPE_CHECKING:
    from sessions.core.agent_fields import AgentFields
    from sessions.core.attach_values import AttachPlan
    from sessions.core.history_values import Recorded
    from sessions.core.note_changes import NoteText
    from sessions.core.summary_values import Brief
    from sessions.core.worktree_values import MergePreview, RemovalPlan, WorktreeDiff
    from sessions.services.history import History
    from sessions.services.notes import Notes
    from sessions.services.summaries import Summarizer

STOP_WAIT = 8.0


class Supervisor:
    """Starts, adopts, observes and acts on the herd of one repository."""

    # Worktrees created at once by `up`: two halves the time of a 30-agent start on two cores,
    # more gains nothing (bench/README.md).
    worktree_workers = 2

    def __init__(self, repo: Repo, config: Config | None, tmux: Tmux) -> None:
        self.repo = repo
        self.config = config
        self.tmux = tmux
        self.journal = Journal(repo.journal_path)
        self.fold = Fold()
        # One reader of the journal for every fold here; this fold places it, at the checkpoint
        # the last command left, so this one reads only the lines since.
        self.feed = Feed(self.journal)
        self.feed.join(
            Follower(
                apply=self.fold.apply,
                kind="fold",
                version=FOLD_VERSION,
                decode=Fold.from_json,
                restore=self._restore,
                encode=self.fold.to_json,
            )
        )
        self.worktrees = Worktrees(repo)
        self.observer = Observer(repo.state_dir, tmux)
        if config is not None and config.prices is not None:
            self.observer.prices = config.prices
        self.evidence: dict[str, Evidence] = {}
        rules = config.rules if config is not None and config.rules is not None else None
        self.coordinator = Coordinator(
            repo, self.journal, rules or CoordinationRules(), feed=self.feed
        )
        self.observer.window = self.coordinator.rules.roles.window
        self._notes: Notes | None = None
        self._history: History | None = None

    @classmethod
    def open(cls, path: Path) -> Supervisor:
        repo = Repo.discover(path)
        tmux_version(known=repo.state_dir / "cache" / "tmux_version.json")
        config = load_config(repo.root) if find_config(repo.root) else None
        return cls(repo, config, Tmux(repo.socket_name))

    def reload_config(self) -> None:
        """Read corral.toml again: `up`, `restart` and the views go by `self.config`, read at
        `open`, so an agent added to the file since (the dashboard's new-agent form) needs this
        before it can start. Prices and coordination rules keep what was read at `open`."""
        self.config = load_config(self.repo.root) if find_config(self.repo.root) else None

    @contextmanager
    def acting(self) -> Iterator[None]:
        """Hold the herd's lock while an action changes it."""
        self.repo.prepare()
        with open(open_private(self.repo.state_dir / "lock", os.O_RDWR), "r+b") as handle:
            fcntl.flock(handle, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(handle, fcntl.LOCK_UN)

    # -- observation ---------------------------------------------------------------------

    def records(self) -> dict[str, AgentRecord]:
        """The fold of the journal, brought up to date: from its checkpoint in `.corral/cache`
        on the first call (from the journal's first byte when there is none that fits), then
        only what was appended, read once for every fold of this supervisor (the feed)."""
        self.feed.pull()
        return self.fold.agents

    def _restore(self, saved: Fold) -> None:
        """The fold as its checkpoint kept it, into the one the feed feeds."""
        self.fold.agents, self.fold.skipped = saved.agents, saved.skipped
        self.fold.summaries = saved.summaries

    def specs(self) -> tuple[AgentSpec, ...]:
        return self.config.agents if self.config else ()

    def look(self) -> list[AgentView]:
        """The whole herd now: one tmux call, one pass over the process table, new journal lines."""
        records = self.records()
        panes = self._panes()
        table = ProcessTable([pane.pid for pane in panes.values() if not pane.dead])
        now = time.time()
        configured = {spec.name: spec for spec in self.specs()}
        kinds = {name: spec.kind.value for name, spec in configured.items()}
        self.observer.look_at_screens(panes, kinds, now)
        names = list(configured)
        names += [n for n, r in records.items() if n not in configured and not r.removed]
        names += [n for n in panes if n not in names]
        views = []
        for name in names:
            record = records.get(name)
            pane = panes.get(name)
            if pane is None and (record is None or record.removed):
                continue
            views.append(self._view(name, configured.get(name), record, pane, table, now))
        return views

    def snapshot(self, fresh_locks: bool = False) -> Snapshot:
        """The herd and its coordination: roles, conflicts (journaled as they start and end),
        locks. `fresh_locks` surveys locks now rather than reusing a survey of the last
        seconds."""
        views = self.look()
        now = time.time()
        activity = {view.name: self.observer.calls(view.name) for view in views}
        base = self._base_or_none()
        coordination = self.coordinator.look(views, activity, base, now, fresh_locks)
        return Snapshot(tuple(views), coordination, now)

    def lock_report(self) -> tuple[LockReport, Tax]:
        """Every lock judged now, and the share of commits spent on them."""
        snapshot = self.snapshot(fresh_locks=True)
        report = snapshot.coordination.locks
        if report is None:
            raise CorralError(snapshot.coordination.errors.get("locks", "no base branch"))
        base = self.base()
        tax = coordination_tax(self.repo.root, base, snapshot.taken, self.coordinator.rules.locks)
        return report, tax

    def release_lock(self, path: str, force: bool = False) -> Outcome:
        """Remove a stale lock where it lives, in a commit that holds only that; its text is
        kept in the journal, so even a lock git never saw can be read again."""
        with self.acting():
            snapshot = self.snapshot(fresh_locks=True)
            report = snapshot.coordination.locks
            if report is None:
                raise CorralError(snapshot.coordination.errors.get("locks", "no base branch"))
            checkouts = self.coordinator.checkouts(snapshot.agents)
            from sessions.services.lock_release import release

            released = release(
                self.repo.root, self.base(), checkouts, report.verdicts, path, force=force
            )
            self.journal.append(
                "lock_release",
                None,
                path=path,
                removed_from=[place or "base" for place in released.removed_from],
                commits=list(released.commits),
                content=released.content,
            )
        return Outcome(path, "release", released.message)

    def notes(self, views: Sequence[AgentView] | None = None) -> Notes:
        """PROGRESS.md and notes in every checkout, looked at now; changes go to the journal.
        One tracker per supervisor, so a long-lived app reads only files that changed."""
        if self._notes is None:
            from sessions.services.notes import Notes

            rules = self.coordinator.rules.notes
            self._notes = Notes(self.journal, self.repo.state_dir / "cache", rules, feed=self.feed)
        places = self.coordinator.checkouts(self.look() if views is None else views)
        self._notes.look(places, time.time())
        return self._notes

    def _base_or_none(self) -> str | None:
        try:
            return self.base()
        except AgentError:
            return None

    def view(self, name: str, views: Sequence[AgentView] | None = None) -> AgentView:
        for view in self.look() if views is None else views:
            if view.name == name:
                return view
        if any(spec.name == name for spec in self.specs()):
            raise AgentError(f"{name} has not been started: `corral up {name}` starts it.")
        known = ", ".join(spec.name for spec in self.specs()) or "none configured"
        raise AgentError(f"no agent named {name!r} (in corral.toml: {known}).")

    def _view(
        self,
        name: str,
        spec: AgentSpec | None,
        record: AgentRecord | None,
        pane: PaneInfo | None,
        table: ProcessTable,
        now: float,
    ) -> AgentView:
        summary = Summary.from_event(self.fold.summaries.get(name))
        view, self.evidence[name] = agent_view(
            self.observer, name, spec, record, pane, table, now, summary
        )
        return view

    # -- summaries -----------------------------------------------------------------------

    @property
    def summary_rules(self) -> SummaryRules:
        return self.config.summaries if self.config else SummaryRules()

    def summarizer(self, environ: Mapping[str, str] | None = None) -> Summarizer:
        """The one thing that talks to Anthropic; imported here, since the SDK takes seconds
        to import and only summaries need it."""
        from sessions.services.summaries import Summarizer

        return Summarizer(self.summary_rules, self.observer.prices, self.journal, environ)

    def briefs(self, views: Sequence[AgentView]) -> list[Brief]:
        """What each agent's summary is written from, every secret redacted."""
        from sessions.services.briefs import briefs_of

        patterns = self.summary_rules.redact
        return briefs_of(views, self.tmux, self.repo, self._base_or_none(), patterns)

    def herd_facts(
        self, views: Sequence[AgentView], before: Mapping[str, str], since: float
    ) -> list[str]:
        """What a "while you were away" digest is written from, redacted."""
        from sessions.services.briefs import herd_facts, redactor_for

        redactor = redactor_for(views, self.repo.root, self.summary_rules.redact)
        return herd_facts(views, dict(before), self.journal.path, since, redactor)

    def explain(self, name: str) -> list[tuple[str, str]]:
        """The evidence behind an agent's state, as (source, what it says) lines."""
        view = self.view(name)
        return explanation(view, self.evidence[name], self.observer.screen_text(name))

    def _panes(self) -> dict[str, PaneInfo]:
        return {pane.agent: pane for pane in self.tmux.panes()}

    def locate(self, names: Iterable[str] | None = None) -> list[AgentView]:
        """The named agents (else every agent with a pane), found cheaply for an action: one
        `tmux list-panes`, the process table below their runners, and their events since their
        latest start, read back from the journal's end. No screen, hook event, transcript or
        coordination is read, so a state is exact where an action depends on it (not running,
        paused, shelved) but a live agent's working, idle or needs input is not judged."""
        panes = self._panes()
        configured = {spec.name: spec for spec in self.specs()}
        if names is None:
            wanted = [name for name in configured if name in panes]
            wanted += [name for name in panes if name not in configured]
        else:
            wanted = list(dict.fromkeys(names))
        records = latest_records(self.journal, wanted)
        table = ProcessTable([panes[n].pid for n in wanted if n in panes and not panes[n].dead])
        now = time.time()
        views = []
        for name in wanted:
            spec, record, pane = configured.get(name), records.get(name), panes.get(name)
            if pane is None and (record is None or record.removed):
                continue
            views.append(located_view(name, spec, record, pane, table, now))
        return views

    # -- starting ------------------------------------------------------------------------

    def spec(self, name: str) -> AgentSpec:
        for spec in self.specs():
            if spec.name == name:
                return spec
        where = self.config.path if self.config else f"{self.repo.root}/corral.toml"
        raise AgentError(f"no agent named {name!r} in {where}: add an [[agent]] with that name.")

    def base(self) -> str:
        if self.config and self.config.base:
            return self.config.base
        branch = self.repo.current_branch()
        if branch is None:
            raise AgentError(
                'the repository\'s HEAD is detached: set `base = "<branch>"` in corral.toml.'
            )
        return branch

    def up(self, names: Sequence[str] = ()) -> list[Outcome]:
        """Start what is configured and not running; adopt what runs; leave shelved agents be.

        An agent whose last run never ended (its tmux server died, the machine rebooted) is
        resumed in its session rather than started afresh.
        """
        if self.config is None:
            raise CorralError(
                f"no corral.toml in {self.repo.root}: run `corral init` or copy "
                "config.example.toml there and name your agents."
            )
        specs = [self.spec(name) for name in names] if names else list(self.specs())
        with self.acting():
            views = {view.name: view for view in self.look()}
            outcomes: dict[str, Outcome] = {}
            to_start = []
            for spec in specs:
                adopted = self._adopt(spec, views.get(spec.name))
                if adopted is not None:
                    outcomes[spec.name] = adopted
                else:
                    to_start.append(spec)
            if to_start:
                from concurrent.futures import ThreadPoolExecutor

                base = self.base()
                with ThreadPoolExecutor(max_workers=self.worktree_workers) as pool:
                    ensured = list(pool.map(lambda spec: self._try_ensure(spec, base), to_start))
                panes = self._panes()
                records = self.records()
                for spec, worktree in zip(to_start, ensured, strict=True):
                    if isinstance(worktree, Outcome):
                        outcomes[spec.name] = worktree
                        continue
                    resume = interrupted(records.get(spec.name))
                    start = partial(self.launch, spec, worktree, resume, panes)
                    outcomes[spec.name] = self._guarded(spec.name, start)
        return [outcomes[spec.name] for spec in specs]

    def _adopt(self, spec: AgentSpec, view: AgentView | None) -> Outcome | None:
        """The outcome for an agent `up` must leave alone, or None when it needs starting."""
        name = spec.name
        if view is None:
            return None
        if view.state is State.SHELVED:
            return Outcome(name, "skipped", f"{name} is shelved: `corral unshelve {name}`.")
        if view.runner_pid is None:
            return None
        if view.paused and view.pid and view.state is not State.PAUSED:
            processes.freeze(view.pid)
            return Outcome(name, "adopted", f"{name} runs; paused again as the journal says")
        return Outcome(name, "adopted", f"{name} already runs ({view.state.value})")

    def _ensure(self, spec: AgentSpec, base: str) -> Ensured:
        template = self.config.worktrees if self.config else DEFAULT_WORKTREES
        path = self.worktrees.path_for(spec.name, template)
        return self.worktrees.ensure(spec.name, spec.branch, base, path)

    def _try_ensure(self, spec: AgentSpec, base: str) -> Ensured | Outcome:
        """The agent's worktree, or the reason it cannot have one; other agents start anyway."""
        try:
            return self._ensure(spec, base)
        except CorralError as error:
            return Outcome(spec.name, "failed", f"{spec.name} not started: {error}")

    @staticmethod
    def _guarded(name: str, action: Callable[[], Outcome]) -> Outcome:
        """One agent's failure becomes its outcome, so an action on many goes on with the rest."""
        try:
            return action()
        except CorralError as error:
            return Outcome(name, "failed", str(error))

    def start(self, spec: AgentSpec, resume: bool = False) -> Outcome:
        """Start one agent in its worktree (created from the base, or reused as it is)."""
        return self.launch(spec, self._ensure(spec, self.base()), resume=resume)

    def launch(
        self,
        spec: AgentSpec,
        ensured: Ensured,
        resume: bool = False,
        panes: Mapping[str, PaneInfo] | None = None,
    ) -> Outcome:
        """Run the agent's runner in its pane: a dead pane is respawned, else a new one made."""
        record = self.records().get(spec.name)
        pane = (panes if panes is not None else self._panes()).get(spec.name)
        return launch_in_pane(
            self.repo, self.tmux, self.journal, self.config, spec, ensured, record, resume, pane
        )

    # -- acting --------------------------------------------------------------------------

    def _running(self, name: str, views: Sequence[AgentView]) -> AgentView:
        view = self.view(name, views)
        pausing.running(view)
        return view

    def pause(self, names: Iterable[str]) -> list[Outcome]:
        return self._each(names, pausing.pause)

    def resume(self, names: Iterable[str]) -> list[Outcome]:
        return self._each(names, pausing.resume)

    def _each(
        self, names: Iterable[str], act: Callable[[Journal, AgentView], Outcome]
    ) -> list[Outcome]:
        """`act` on every named agent, all located at once; one refusal never stops the rest."""
        names = list(names)
        with self.acting():
            views = self.locate(names)

            def one(name: str) -> Outcome:
                return act(self.journal, self.view(name, views))

            return [self._guarded(name, partial(one, name)) for name in names]

    def live_names(self) -> list[str]:
        return [view.name for view in self.locate() if view.pid is not None]

    def kill(self, name: str) -> Outcome:
        """Stop the agent (its worktree and branch stay); the pane keeps its last screen."""
        with self.acting():
            return self._stop(self.view(name, self.locate([name])), "kill")

    def _stop(self, view: AgentView, action: str) -> Outcome:
        name = view.name
        if view.runner_pid is None:
            return Outcome(name, action, f"{name} was not running ({view.state.value})")
        self.journal.append(action, name)
        try:
            os.kill(view.runner_pid, signal.SIGTERM)
        except ProcessLookupError:
            pass
        if not self._wait_dead(name, STOP_WAIT):
            if view.pid:
                processes.terminate_tree(view.pid, signal.SIGKILL)
            processes.terminate_tree(view.runner_pid, signal.SIGKILL)
            self._wait_dead(name, 2.0)
        return Outcome(name, action, f"{name} stopped; worktree and branch {view.branch} kept")

    def _wait_dead(self, name: str, timeout: float) -> bool:
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            pane = self._panes().get(name)
            if pane is None or pane.dead:
                return True
            time.sleep(0.05)
        return False

    def restart(self, name: str) -> Outcome:
        spec = self.spec(name)
        with self.acting():
            view = self.view(name, self.locate([name]))
            if view.state is State.SHELVED:
                raise AgentError(f"{name} is shelved: `corral unshelve {name}` resumes it.")
            ensured = self._ensure(spec, self.base())
            self._stop(view, "restart")
            outcome = self.launch(spec, ensured)
        return Outcome(name, outcome.action, outcome.message.replace(" started ", " restarted ", 1))

    def shelve(self, name: str) -> Outcome:
        with self.acting():
            view = self.view(name, self.locate([name]))
            if view.state is State.SHELVED:
                return Outcome(name, "shelve", f"{name} is already shelved")
            self._check_can_save(view)
            self._stop(view, "stop_for_shelve")
            ref = f"refs/corral/shelf/{name}"
            saved = None
            if view.worktree and Path(view.worktree).is_dir():
                saved = self.worktrees.snapshot(
                    Path(view.worktree), ref, f"corral: {name} shelved with uncommitted work"
                )
            self.journal.append(
                "shelve", name, ref=ref if saved else None, commit=saved.commit if saved else None
            )
        kept = (
            f"its uncommitted work ({saved.files} files) is also saved in {ref} "
            f"({saved.commit[:10]}); "
            if saved
            else ""
        )
        return Outcome(
            name,
            "shelve",
            f"{name} shelved: worktree {view.worktree} and branch {view.branch} kept as they "
            f"were; {kept}`corral unshelve {name}` resumes it",
        )

    def _check_can_save(self, view: AgentView) -> None:
        """Write the agent's files into git once before stopping it, so a full disk or a broken
        index refuses the action while the agent still runs, instead of after it was stopped."""
        if not view.worktree or not Path(view.worktree).is_dir():
            return
        try:
            self.worktrees.current_commit(Path(view.worktree))
        except AgentError as error:
            raise AgentError(f"{view.name} was left running: {error}") from error

    def unshelve(self, name: str) -> Outcome:
        spec = self.spec(name)
        with self.acting():
            view = self.view(name, self.locate([name]))
            if view.state is not State.SHELVED:
                raise AgentError(f"{name} is not shelved ({view.state.value}).")
            return self.start(spec, resume=True)

    def remove(self, name: str) -> Outcome:
        with self.acting():
            view = self.view(name, self.locate([name]))
            worktree = Path(view.worktree) if view.worktree else None
            base = self.base() if worktree is not None and worktree.is_dir() else ""
            self._check_can_save(view)
            self._stop(view, "stop_for_rm")
            if worktree is not None and worktree.is_dir():
                removal = self.worktrees.remove(worktree, name, view.branch, base)
                message = removal.message
                snapshot = removal.snapshot
                self.journal.append(
                    "rm",
                    name,
                    branch_kept=removal.branch_kept,
                    ref=snapshot.ref if snapshot else None,
                    commit=snapshot.commit if snapshot else None,
                    kept=str(removal.kept_in) if removal.kept_in else None,
                )
            else:
                message = (
                    f"{name} removed; its worktree was already gone, branch {view.branch} kept"
                )
                self.journal.append("rm", name, branch_kept=True)
            try:
                self.tmux.kill_session(name)
            except CorralError as error:
                message += f"\n(its tmux session could not be closed: {error})"
            (self.repo.launch_dir / f"{name}.json").unlink(missing_ok=True)
        return Outcome(name, "rm", message)

    def removal_plan(self, name: str, worktree: str | None) -> RemovalPlan:
        """What `remove` would move aside from the agent's worktree (as its view names it) and
        where, found without changing anything and without the herd's lock, so the app can
        ask before removing."""
        return self.worktrees.removal_plan(name, Path(worktree) if worktree else None)

    def merge_preview(self, name: str) -> MergePreview:
        """What `merge` would do for the agent, found without changing anything and without the
        herd's lock, so the app can show it while other actions go on."""
        return self.worktrees.merge_preview(name, self._branch(name), self.base())

    def merge(
        self, name: str, include_uncommitted: bool = False, message: str | None = None
    ) -> Outcome:
        """Merge the agent's committed work into the base checked out at the repository root.

        The agent keeps running: its worktree, index and branch are only read. corral never
        commits for it, so `include_uncommitted` refuses while some of its work is uncommitted
        instead of merging a part of it.
        """
        with self.acting():
            base = self.base()
            merged = self.worktrees.merge(
                name, self._branch(name), base, message, include_uncommitted=include_uncommitted
            )
            self.journal.append(
                "merge",
                name,
                base=base,
                branch=merged.branch,
                fast_forward=merged.fast_forward,
                ref=merged.ref,
                **{"from": merged.before, "to": merged.after},
            )
        return Outcome(name, "merge", merged.message)

    def _branch(self, name: str) -> str:
        """The agent's branch as the journal last saw it, else the one every agent gets."""
        record = self.records().get(name)
        return record.branch if record is not None and record.branch else f"corral/{name}"

    def send(self, name: str, text: str, replace: bool = False) -> Outcome:
        """Type a prompt into the agent; text already in its input box is never appended to.

        Claude Code puts an interrupted prompt back into its box, and whatever is there goes out
        with the next Enter: so a box holding text is refused, or cleared when `replace` says so.
        """
        with self.acting():
            view = self._running(name, self.locate([name]))
            if view.state is State.PAUSED:
                raise AgentError(f"{name} is paused: `corral resume {name}` first, then send.")
            assert view.pane is not None
            from sessions.commands.input_box import type_prompt

            replaced = type_prompt(self.tmux, name, view.kind, view.pane, text, replace)
            self.journal.append("send", name, chars=len(text), replaced=replaced)
        return Outcome(name, "send", f"sent {len(text)} characters to {name}")

    # -- what the dashboard reads: it knows the herd only through these ------------------------

    def herd_name(self) -> str:
        """The repository's folder name, which names the herd on screen."""
        return self.repo.root.name

    def config_path(self) -> Path:
        """Where the repository's corral.toml is, or would be once an agent is added to it."""
        return self.repo.root / CONFIG_NAME

    def add_agent(self, fields: AgentFields) -> str:
        """Write the agent into corral.toml and say where; `reload_config` then reads it."""
        # tomlkit, which writes the file back with its comments, costs every `corral ls` a
        # tenth of its start-up; only adding an agent needs it.
        from sessions.adapters import config_writer

        return config_writer.add_agent(self.config_path(), fields)

    def capture(self, pane: str, history: int = 0) -> str:
        """The pane's screen with its colours (ANSI), and `history` lines above it."""
        return self.tmux.capture(pane, ansi=True, history=history)

    def attach_plan(self, name: str, pane: str, environ: dict[str, str]) -> AttachPlan:
        """How to show the agent's pane in the user's terminal, from where they run corral."""
        from sessions.commands.attach import attach_plan

        return attach_plan(self.tmux, pane, name, environ)

    def diff(self, name: str, worktree: str, base: str | None) -> WorktreeDiff:
        """The agent's worktree (as its view names it) against its merge base with `base`
        (None: the repository could not say which); what went wrong is in the value."""
        from sessions.adapters.worktree_diff import read_diff

        return read_diff(name, worktree, base)

    def keep_history(self) -> None:
        """From now on looks keep what happened for `history`: the journal from near its end,
        and each agent's hook events as the observer reads them (the same reads, not again).
        Only the dashboard shows history, so a one-shot command pays nothing for it."""
        self._kept_history()

    def history(self) -> Recorded:
        """The journal and the hook events the looks so far have read, newest last."""
        history = self._kept_history()
        self.feed.pull()
        return history.read()

    def _kept_history(self) -> History:
        if self._history is None:
            from sessions.services.history import TAIL as HISTORY_TAIL
            from sessions.services.history import History

            history = self._history = History()
            self.feed.join(Follower(apply=history.journaled, near_end=HISTORY_TAIL))
            self.observer.tap = history.hooked
        return self._history

    def read_notes(self, worktrees: Mapping[str, str], since: float) -> tuple[NoteText, ...]:
        """Every notes file with its text, and the changes to it after `since`; `worktrees`
        maps each agent to its checkout, as the snapshot the screen shows has them."""
        notes = self.notes()
        files, changes = notes.files(time.time()), notes.changes()
        from sessions.adapters import note_texts

        return note_texts.read(files, changes, self.repo.root, worktrees, since)

    def notes_seen(self) -> float:
        """When the user last looked at the notes (0 when never), kept across sessions."""
        from sessions.adapters import note_texts

        return note_texts.seen(self.repo.state_dir / "cache")

    def mark_notes_seen(self, when: float) -> None:
        from sessions.adapters import note_texts

        note_texts.mark_seen(self.repo.state_dir / "cache", when)
