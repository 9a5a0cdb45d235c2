"""The dashboard: the herd table on top, the selected agent and the herd in tabs below.

It orchestrates: it hands each widget what to show, starts the reads a tab needs on thread
workers, and turns keys into actions, which it posts to the app as messages for the app to run.
It never waits on tmux, git or files, and never calls the app.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, ClassVar

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.lazy import Lazy
from textual.screen import ModalScreen, Screen
from textual.widgets import DataTable, Input, TabbedContent, TabPane
from textual.worker import Worker, WorkerState

from sessions.core.events import QUIET_EVENTS
from sessions.core.history_values import Recorded
from sessions.core.lock_values import LockVerdict
from sessions.core.model import AgentView, Snapshot, State
from sessions.core.outcome import Outcome
from sessions.core.worktree_values import RemovalPlan, WorktreeDiff
from tui.herd import Herd
from tui.latest import Latest
from tui.messages import (
    ActionAsked,
    AttachAsked,
    DiffRead,
    DigestAsked,
    Explained,
    NotesRead,
    PaneCaptured,
    RemovalPlanned,
    SummaryAsked,
)
from tui.reading import Reader, worktrees_of
from tui.rows import rows_of
from tui.screens.confirm import ConfirmScreen
from tui.tabs import AGENT_TABS, TABS
from tui.widgets.coordination_tables import ConflictsTable, LocksTable
from tui.widgets.diff_view import DiffView
from tui.widgets.explain_view import ExplainView
from tui.widgets.header import HerdHeader
from tui.widgets.herd_table import HerdTable
from tui.widgets.keys_bar import KeysBar
from tui.widgets.log_view import HistoryLog
from tui.widgets.notes_view import NotesView
from tui.widgets.pane_view import PaneView

if TYPE_CHECKING:
    from tui.screens.send import Prompt

# How often a tab that costs a git run or a whole look is read again while it stays open.
EVERY = {"diff": 3.0, "why": 2.0, "notes": 5.0}
AGENT_ACTIONS = frozenset(
    {"attach", "pause", "send", "restart", "shelve", "kill", "remove", "merge"}
)

SCREEN_BINDINGS: list[BindingType] = [
    Binding("j,down", "cursor(1)", "Down", id="down", show=False),
    Binding("k,up", "cursor(-1)", "Up", id="up", show=False),
    *[
        Binding(str(n), f"select({n})", f"Agent {n}", id=f"select-{n}", show=False)
        for n in range(1, 10)
    ],
    Binding("enter,a", "attach", "Attach", id="attach"),
    Binding("p", "pause", "Pause/resume", id="pause"),
    Binding("P", "pause_all", "Pause/resume all", id="pause-all", show=False),
    Binding("s", "send", "Send", id="send"),
    Binding("r", "restart", "Restart", id="restart", show=False),
    Binding("z", "shelve", "Shelve/unshelve", id="shelve", show=False),
    Binding("x", "kill", "Kill", id="kill", show=False),
    Binding("X", "remove", "Remove", id="remove", show=False),
    Binding("v", "tab('screen')", "Screen", id="screen", show=False),
    Binding("i", "tab('activity')", "Activity", id="activity", show=False),
    Binding("d", "tab('diff')", "Diff", id="diff"),
    Binding("e", "tab('why')", "Explain", id="explain"),
    Binding("c", "tab('conflicts')", "Conflicts", id="conflicts"),
    Binding("l", "tab('locks')", "Locks", id="locks"),
    Binding("u", "release_lock", "Release lock", id="release-lock"),
    Binding("g", "tab('notes')", "Notes", id="notes"),
    Binding("J", "tab('journal')", "Journal", id="journal", show=False),
    Binding("slash", "filter", "Filter", id="filter"),
    Binding("o", "sort", "Sort", id="sort", show=False),
    Binding("S", "summarize", "Summarize", id="summarize", show=False),
    Binding("W", "digest", "While away", id="digest", show=False),
    Binding("escape", "clear_filter", "Clear filter", id="clear-filter", show=False),
]


def last_activity(recorded: Recorded) -> dict[str, float]:
    """Each agent's latest recorded doing: corral's summaries of it are not its doing."""
    found = {}
    for name, entries in recorded.agents:
        # From the newest back: a look runs this for every agent, twice a second.
        t = next((e.t for e in reversed(entries) if e.event not in QUIET_EVENTS), None)
        if t is not None:
            found[name] = t
    return found


def removal_question(view: AgentView, base: str, plan: RemovalPlan) -> str:
    """The body of the question before a removal: what goes, what is kept and where."""
    name = view.name
    lines = [
        f"{name} stops and its worktree {view.worktree or '(none)'} is removed.",
        "",
        f"Kept: uncommitted work is first saved as a commit under refs/corral/trash/{name}/"
        f"<time>; branch {view.branch} stays unless it is merged into {base}.",
        *plan.lines(),
        "The message afterwards says where everything went.",
    ]
    return "\n".join(lines)


class DashboardScreen(Screen[None]):
    BINDINGS: ClassVar[list[BindingType]] = SCREEN_BINDINGS

    def __init__(self, reader: Reader, repo_name: str) -> None:
        super().__init__()
        self.reader = reader
        self.repo_name = repo_name
        self.snapshot: Snapshot | None = None
        self.recorded = Recorded()
        self.selected: str | None = None
        self.look_error: str | None = None
        self._reads: Latest[tuple[Callable[..., object], tuple[Any, ...]]] = Latest()
        self._read_at: dict[str, float] = {}
        self._notes_since: float | None = None
        self._keys_for: tuple[object, ...] | None = None
        self._screen_read: tuple[object, ...] = ()
        self._screen_read_t = 0.0

    def compose(self) -> ComposeResult:
        yield HerdHeader(id="header")
        yield Input(placeholder="filter by name, state or role; esc clears", id="filter")
        yield HerdTable(id="herd")
        with TabbedContent(id="tabs"):
            for pane_id, title in TABS:
                with TabPane(title, id=pane_id):
                    yield from self._tab_body(pane_id)
        yield KeysBar(id="keys")

    def _tab_body(self, pane_id: str) -> ComposeResult:
        if pane_id == "screen":
            yield PaneView(id="pane")
        elif pane_id == "activity":
            yield HistoryLog(show_agent=False, id="activity-log")
        elif pane_id == "diff":
            yield DiffView(id="diff-view")
        elif pane_id == "why":
            yield ExplainView(id="explain-view")
        # The herd's tabs are mounted after the first frame (`Lazy`): nothing reads them before
        # one is shown, and mounting their tables costs the first frame a fifth of its wait.
        elif pane_id == "conflicts":
            yield Lazy(ConflictsTable(id="conflicts-table"))
        elif pane_id == "locks":
            yield Lazy(LocksTable(id="locks-table"))
        elif pane_id == "notes":
            yield Lazy(NotesView(id="notes-view"))
        elif pane_id == "journal":
            yield Lazy(HistoryLog(show_agent=True, id="journal-log"))

    def on_mount(self) -> None:
        self.query_one(HerdHeader).show(self.repo_name, None, None)
        self.query_one("#filter", Input).display = False
        self.query_one(HerdTable).focus()
        self._say_no_agent()

    # -- what the app hands over ---------------------------------------------------------

    def show_look(
        self, snapshot: Snapshot, recorded: Recorded | None, quiet: str | None = None
    ) -> None:
        """`quiet`: a line of status for the header's end (what keeps summaries from running)."""
        self.snapshot = snapshot
        self.look_error = None
        if recorded is not None:
            self.recorded = recorded
        self.query_one(HerdHeader).show(self.repo_name, self.reader.known_base, snapshot, quiet)
        self.query_one(HerdTable).show(rows_of(snapshot, last_activity(self.recorded)))
        self._label_tabs(snapshot)
        self._refresh_tab(periodic=True)
        self._refresh_keys()

    def _refresh_keys(self) -> None:
        """Re-check which keys apply only when something they depend on changed: each
        refresh rebuilds the footer and lays the screen out again, too dear for every look."""
        view = self.view()
        tab = self.query_one(TabbedContent).active
        verdict = self.query_one(LocksTable).highlighted if tab == "locks" else None
        state = (
            view is not None,
            view is not None and view.pane is not None,
            tab,
            verdict is not None and verdict.stale,
            bool(self.query_one(HerdTable).filter_text),
            self.query_one("#filter", Input).display,
        )
        if state != self._keys_for:
            self._keys_for = state
            self.refresh_bindings()

    def _label_tabs(self, snapshot: Snapshot) -> None:
        tabs = self.query_one(TabbedContent)
        conflicts = len(snapshot.coordination.shown_conflicts)
        locks = snapshot.coordination.locks
        stale = len([v for v in locks.verdicts if v.stale or v.orphaned]) if locks else 0
        labels = {
            "conflicts": f"Conflicts ⚠{conflicts}" if conflicts else "Conflicts",
            "locks": f"Locks !{stale}" if stale else "Locks",
        }
        for pane_id, label in labels.items():
            tab = tabs.get_tab(pane_id)
            if tab.label.plain != label:  # a new label lays the screen out again
                tab.label = label

    def view(self, name: str | None = None) -> AgentView | None:
        name = self.selected if name is None else name
        if self.snapshot is None or name is None:
            return None
        return next((v for v in self.snapshot.agents if v.name == name), None)

    # -- selection and tabs ----------------------------------------------------------------

    @on(HerdTable.Chosen)
    def _chosen(self, event: HerdTable.Chosen) -> None:
        if event.name == self.selected:
            return
        self.selected = event.name
        self._read_at.clear()
        self._refresh_keys()
        self._refresh_tab()

    @on(TabbedContent.TabActivated)
    def _tab_shown(self, event: TabbedContent.TabActivated) -> None:
        if event.pane.id == "notes":
            self._notes_since = None
        self._refresh_tab()
        self._refresh_keys()  # the release key belongs to the Locks tab

    def _refresh_tab(self, periodic: bool = False) -> None:
        tab = self.query_one(TabbedContent).active
        snapshot = self.snapshot
        view = self.view()
        if tab in AGENT_TABS and view is None:
            self._say_no_agent()
            return
        since = time.monotonic() - self._read_at.get(tab, 0.0)
        if periodic and tab in EVERY and since < EVERY[tab]:
            return
        self._read_at[tab] = time.monotonic()
        if tab == "screen" and view is not None:
            if view.pane is None:
                self.query_one(PaneView).say(view.name, f"{view.name} has no pane ({view.reason})")
            elif not (self._same_screen(view) and periodic):
                self._start("capture", self._capture, view.name, view.pane)
        elif tab == "activity" and view is not None:
            self.query_one("#activity-log", HistoryLog).show(
                view.name, self.recorded.of(view.name), f"nothing recorded for {view.name} yet"
            )
        elif tab == "diff" and view is not None:
            self._start("diff", self._diff, view.name, view.worktree)
        elif tab == "why" and view is not None:
            self._start("explain", self._explain, view.name)
        elif tab == "conflicts" and snapshot is not None:
            shown = snapshot.coordination.shown_conflicts
            self.query_one(ConflictsTable).show(shown, snapshot.taken)
        elif tab == "locks" and snapshot is not None:
            error = snapshot.coordination.errors.get("locks")
            self.query_one(LocksTable).show(snapshot.coordination.locks, error)
        elif tab == "notes" and snapshot is not None:
            if self._notes_since is None:
                self._notes_since = self.reader.notes_seen()
                self.reader.mark_notes_seen(snapshot.taken)
            self._start("notes", self._notes, worktrees_of(snapshot), self._notes_since)
        elif tab == "journal":
            self.query_one("#journal-log", HistoryLog).show(
                None, self.recorded.journal, "the journal is empty"
            )

    def _same_screen(self, view: AgentView) -> bool:
        """Whether a capture now would show what the last one did, going by what tmux says
        of the pane; then the look does not capture, which is most looks of an idle herd.

        tmux keeps output times to the second, so output later in the second of the last
        capture is caught by capturing until a second has passed since it.
        """
        mark = (view.name, view.pane, view.screen_mark)
        now = time.time()
        if view.screen_mark is None or mark != self._screen_read:
            self._screen_read, self._screen_read_t = mark, now
            return False
        if self._screen_read_t < view.screen_mark[0] + 1.0:
            self._screen_read_t = now
            return False
        return True

    def _say_no_agent(self) -> None:
        message = "no agent selected: start some with `corral up`, or pick one in the table"
        if self.snapshot is not None and self.snapshot.agents and self.selected is None:
            message = "no agent matches the filter"
        self.query_one(PaneView).say(None, message)
        self.query_one("#activity-log", HistoryLog).show(None, (), message)
        self.query_one(DiffView).say(message)
        self.query_one(ExplainView).say(message)

    # -- workers: one running per kind of read, the latest request waiting behind it --------

    def _start(self, group: str, work: Callable[..., object], *args: Any) -> None:
        self._run(group, self._reads.ask(group, (work, args)))

    def _run(self, group: str, read: tuple[Callable[..., object], tuple[Any, ...]] | None) -> None:
        if read is None:
            return
        work, args = read
        self.run_worker(
            lambda: work(*args), name=group, group=group, thread=True, exit_on_error=False
        )

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        group = event.worker.group
        if self._reads.running(group) and event.state in (
            WorkerState.SUCCESS,
            WorkerState.ERROR,
            WorkerState.CANCELLED,
        ):
            self._run(group, self._reads.done(group))

    def _capture(self, agent: str, pane: str) -> None:
        self.post_message(PaneCaptured(agent, self.reader.capture(pane)))

    def _diff(self, agent: str, worktree: str) -> None:
        self.post_message(DiffRead(self.reader.diff(agent, worktree)))

    def _explain(self, agent: str) -> None:
        self.post_message(Explained(agent, self.reader.explain(agent)))

    def _notes(self, worktrees: dict[str, str], since: float) -> None:
        self.post_message(NotesRead(self.reader.notes(worktrees, since), since))

    @on(PaneCaptured)
    def _captured(self, message: PaneCaptured) -> None:
        if message.agent == self.selected:
            self.query_one(PaneView).show(message.agent, message.text)

    @on(DiffRead)
    def _diff_read(self, message: DiffRead) -> None:
        diff: WorktreeDiff = message.diff
        if diff.agent == self.selected:
            self.query_one(DiffView).show(diff)

    @on(Explained)
    def _explained(self, message: Explained) -> None:
        if message.agent == self.selected:
            self.query_one(ExplainView).show(message.agent, message.lines)

    @on(NotesRead)
    def _notes_read(self, message: NotesRead) -> None:
        now = self.snapshot.taken if self.snapshot else time.time()
        self.query_one(NotesView).show(message.notes, now)

    # -- keys ------------------------------------------------------------------------------

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """Agent actions are shown dimmed while no agent is selected, or when they cannot
        apply to it (attach without a pane)."""
        if action in AGENT_ACTIONS:
            view = self.view()
            if view is None:
                return None
            if action == "attach" and view.pane is None:
                return None
        if action == "release_lock":
            if self.query_one(TabbedContent).active != "locks":
                return False  # not in the footer outside the Locks tab
            verdict = self.query_one(LocksTable).highlighted
            return True if verdict is not None and verdict.stale else None
        if action == "clear_filter":
            return (
                bool(self.query_one(HerdTable).filter_text)
                or self.query_one("#filter", Input).display
            )
        return True

    def action_cursor(self, step: int) -> None:
        table = self.query_one(HerdTable)
        if step > 0:
            table.action_cursor_down()
        else:
            table.action_cursor_up()

    def action_select(self, number: int) -> None:
        if self.query_one(HerdTable).choose_number(number) is None:
            self.notify(f"no agent number {number} in the table", severity="warning")

    def action_tab(self, pane_id: str) -> None:
        self.query_one(TabbedContent).active = pane_id

    def action_filter(self) -> None:
        """Focus moves at once, not after this key is handled: what the user types right after
        `/` belongs to the filter, never to the table's keys (`s` would open the send dialog)."""
        field = self.query_one("#filter", Input)
        field.display = True
        self.set_focus(field)
        self._refresh_keys()

    def action_clear_filter(self) -> None:
        field = self.query_one("#filter", Input)
        field.value = ""
        field.display = False
        table = self.query_one(HerdTable)
        table.set_filter("")
        table.focus()
        self._refresh_keys()

    def action_sort(self) -> None:
        column = self.query_one(HerdTable).next_sort()
        self.notify(f"sorted by {column}", timeout=2)

    @on(Input.Changed, "#filter")
    def _filter_changed(self, event: Input.Changed) -> None:
        self.query_one(HerdTable).set_filter(event.value)
        self._refresh_keys()

    @on(Input.Submitted, "#filter")
    def _filter_done(self, event: Input.Submitted) -> None:
        if not event.value.strip():
            self.action_clear_filter()
        else:
            self.query_one(HerdTable).focus()

    # -- actions on agents: the app runs them on a worker -------------------------------------

    def _act(
        self, what: str, call: Callable[[Herd], Outcome | list[Outcome]], stops: str | None = None
    ) -> None:
        """`stops`: the agent this action stops, so its exit is not alerted as news."""
        self.post_message(ActionAsked(what, call, stops))

    async def action_on_agent(self, name: str, action: str) -> None:
        """`action` for the agent `name`, selected first, so the action and the tabs agree on
        whom it is about (the command palette names agents)."""
        if name != self.selected and not self.query_one(HerdTable).choose(name):
            self.notify(f"{name} is not in the table (is a filter on?)", severity="warning")
            return
        self.selected = name
        await self.run_action(action)

    def action_attach(self) -> None:
        view = self.view()
        if view is not None:
            self.post_message(AttachAsked(view))

    def action_pause(self) -> None:
        view = self.view()
        if view is None:
            return
        name = view.name
        if view.state is State.PAUSED:
            self._act(f"resuming {name}", lambda herd: herd.resume([name]))
        else:
            self._act(f"pausing {name}", lambda herd: herd.pause([name]))

    def action_pause_all(self) -> None:
        if self.snapshot is None:
            return
        live = [v for v in self.snapshot.agents if v.pid is not None]
        running = [v.name for v in live if v.state is not State.PAUSED]
        paused = [v.name for v in live if v.state is State.PAUSED]
        if running:
            self._act(f"pausing {len(running)} agents", lambda herd: herd.pause(running))
        elif paused:
            self._act(f"resuming {len(paused)} agents", lambda herd: herd.resume(paused))
        else:
            self.notify("no agent is running", severity="warning")

    def action_summarize(self) -> None:
        """The selected agent's summary now (`[summaries]`); the answer shows in the table."""
        view = self.view()
        if view is None:
            self.notify("no agent selected: pick one in the table", severity="warning")
            return
        self.notify(f"asking for a summary of {view.name}…", timeout=3)
        self.post_message(SummaryAsked(view))

    def show_summary(self, said: str) -> None:
        self.notify(said, title="Summary", timeout=12, markup=False)

    def action_digest(self) -> None:
        """What changed across the herd since the user left (or since the last digest)."""
        self.notify("asking what changed while you were away…", timeout=3)
        self.post_message(DigestAsked(self.snapshot))

    def show_digest(self, title: str, text: str) -> None:
        self.notify(text, title=title, timeout=30, markup=False)

    def action_send(self) -> None:
        view = self.view()
        if view is None:
            return
        name = view.name

        def sent(prompt: Prompt | None) -> None:
            if prompt is not None:
                self._act(
                    f"sending to {name}",
                    lambda herd: herd.send(name, prompt.text, replace=prompt.replace),
                )

        # Loaded on first use: its text area is not worth its time before the first frame.
        from tui.screens.send import SendScreen

        self.app.push_screen(SendScreen(name), sent)

    def action_restart(self) -> None:
        view = self.view()
        if view is not None:
            name = view.name
            self._act(f"restarting {name}", lambda herd: herd.restart(name), stops=name)

    def action_shelve(self) -> None:
        view = self.view()
        if view is None:
            return
        name = view.name
        if view.state is State.SHELVED:
            self._act(f"unshelving {name}", lambda herd: herd.unshelve(name))
        else:
            self._act(f"shelving {name}", lambda herd: herd.shelve(name), stops=name)

    def action_kill(self) -> None:
        view = self.view()
        if view is None:
            return
        name = view.name
        body = (
            f"{name} stops now (its whole process tree).\n\n"
            f"Kept: its worktree {view.worktree or '(none)'}, its branch {view.branch}, "
            "and its pane's last screen.\n`r` starts it again."
        )
        self._confirm(
            f"Kill {name}?", body, "Kill", f"killing {name}", lambda h: h.kill(name), stops=name
        )

    def action_remove(self) -> None:
        """X: what the worktree holds that no ref can is read first (git, on a worker), so
        the question can say what is moved aside and where."""
        view = self.view()
        if view is not None:
            self._start("removal-plan", self._plan_removal, view)

    def _plan_removal(self, view: AgentView) -> None:
        self.post_message(RemovalPlanned(view, self.reader.removal_plan(view.name, view.worktree)))

    @on(RemovalPlanned)
    def _ask_remove(self, message: RemovalPlanned) -> None:
        if isinstance(self.app.screen, ModalScreen):
            return  # a question or a dialog opened meanwhile: X again asks again
        view, name = message.view, message.view.name
        body = removal_question(view, self.reader.known_base or "the base", message.plan)
        self._confirm(
            f"Remove {name}?",
            body,
            "Remove",
            f"removing {name}",
            lambda h: h.remove(name),
            stops=name,
        )

    def _confirm(
        self,
        title: str,
        body: str,
        yes: str,
        what: str,
        call: Callable[[Herd], Outcome | list[Outcome]],
        stops: str | None = None,
    ) -> None:
        def answered(ok: bool | None) -> None:
            if ok:
                self._act(what, call, stops)

        self.app.push_screen(ConfirmScreen(title, body, yes=yes, no="Keep it"), answered)

    # -- the herd's locks ------------------------------------------------------------------

    @on(DataTable.RowHighlighted, "#locks-table")
    def _lock_highlighted(self) -> None:
        self._refresh_keys()

    def action_release_lock(self) -> None:
        verdict = self.query_one(LocksTable).highlighted
        if verdict is not None:
            self.ask_release(verdict)

    def action_release_lock_at(self, path: str) -> None:
        """The lock at `path` as the last look judged it (the command palette names locks)."""
        locks = self.snapshot.coordination.locks if self.snapshot else None
        for verdict in locks.verdicts if locks else ():
            if verdict.lock.path == path:
                self.ask_release(verdict)
                return

    def ask_release(self, verdict: LockVerdict) -> None:
        """Release a stale lock after saying what it is and what happens to it. A lock that is
        not stale is refused here as the supervisor would refuse it, without asking first."""
        lock = verdict.lock
        if not verdict.stale:
            self.notify(
                f"{lock.path} is not stale ({verdict.reason}): let {lock.holder_name} release "
                f"it, or run `corral locks release --force {lock.path}` if you are sure.",
                severity="warning",
                timeout=10,
                markup=False,
            )
            return
        body = (
            f"{lock.path}: task {lock.task or '?'}, held by {lock.holder_name}; "
            f"{verdict.reason}.\n\n"
            "It is removed where it lives, in a commit that holds only its removal; its text "
            "is kept in the journal. Nothing else in any checkout changes."
        )
        path = lock.path
        self._confirm(
            f"Release the lock {path}?",
            body,
            "Release",
            f"releasing {path}",
            lambda herd: herd.release_lock(path),
        )
