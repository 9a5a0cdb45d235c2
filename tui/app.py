"""The corral dashboard: one Textual app that watches the herd and acts on it from the keyboard.

The app owns the herd (the supervisor, or a fake in tests), polls it on a thread worker and
hands each new snapshot to the dashboard screen. The screen asks for actions by message; they
run on thread workers too and come back as notifications. Quitting leaves every agent running:
the app only ever looks and asks.

Beside the herd it owns the things that last as long as the app does: the themes (bundled and
the user's, checked first, the choice saved in the user config), and the alerts, which compare
each snapshot with the one before and tell the user, once, when an agent starts to need them.

- `snapshot_listeners`: callables given every new snapshot on the UI thread (the alerts).
- `attached`: the agent whose pane the user is looking at now, or None (alerts skip it).
"""

from __future__ import annotations

import os
import subprocess
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path, PurePath
from typing import ClassVar

from textual import on, work
from textual.app import App
from textual.binding import Binding, BindingType
from textual.screen import ModalScreen
from textual.theme import Theme
from textual.worker import Worker, WorkerState

from sessions.adapters.user_settings import load_user_settings, user_config_path
from sessions.core.alert_values import Cause
from sessions.core.attach_values import AttachPlan
from sessions.core.errors import CorralError
from sessions.core.model import AgentView, Snapshot, State, UserSettings
from sessions.core.outcome import Outcome
from sessions.core.worktree_values import MergePreview
from sessions.services.alerts import Alerts
from tui.commands import HerdCommands
from tui.herd import Herd
from tui.latest import Latest
from tui.messages import (
    ActionAsked,
    AttachAsked,
    DigestAsked,
    HerdLooked,
    LookFailed,
    SummaryAsked,
)
from tui.notify import Notifier
from tui.reading import Reader
from tui.screens.confirm import ConfirmScreen
from tui.screens.dashboard import SCREEN_BINDINGS, DashboardScreen
from tui.screens.help import HelpScreen
from tui.summaries import Summaries
from tui.themes import (
    ThemeChoiceError,
    ThemeSet,
    load_themes,
    next_theme,
    register,
    resolve_theme,
    save_theme_choice,
    variable_defaults,
)

POLL_SECONDS = 0.5
# After the user's own kill, restart or shelve, the exit it causes is no news for this long.
SLOW_ACTION = 0.3  # seconds an action runs before it says it is under way
HUSH_SECONDS = 30.0
STYLES = Path(__file__).parent / "styles"

APP_BINDINGS: list[BindingType] = [
    Binding("q", "quit", "Quit", id="quit"),
    Binding("question_mark", "help", "Help", id="help"),
    Binding("ctrl+p", "command_palette", "Palette", id="palette", priority=True, show=False),
    Binding("n", "new_agent", "New agent", id="new-agent", show=False),
    Binding("m", "merge", "Merge", id="merge", show=False),
    Binding("t", "theme", "Theme", id="theme", show=False),
]
# Modals have keys of their own; the app's would act behind the dialog's back.
QUIET_IN_DIALOGS = frozenset({"quit", "help", "new_agent", "merge", "theme"})

Runner = Callable[[Sequence[str], bool], int]


def run_command(argv: Sequence[str], capture: bool) -> int:
    """Run a tmux command line; `capture` keeps its chatter off a suspended terminal."""
    return subprocess.run(list(argv), check=False, capture_output=capture).returncode


def binding_ids() -> list[str]:
    """Every id a user may rebind in [keys]."""
    found = []
    for binding in (*APP_BINDINGS, *SCREEN_BINDINGS):
        if isinstance(binding, Binding) and binding.id:
            found.append(binding.id)
    return found


class CorralApp(App[None]):
    CSS_PATH: ClassVar[list[str | PurePath]] = [STYLES / "app.tcss", STYLES / "dialogs.tcss"]
    BINDINGS: ClassVar[list[BindingType]] = APP_BINDINGS
    TITLE = "corral"
    COMMANDS = App.COMMANDS | {HerdCommands}

    def __init__(
        self,
        herd: Herd,
        *,
        actor: Herd | None = None,
        settings: UserSettings | None = None,
        settings_path: Path | None = None,
        poll: float | None = POLL_SECONDS,
        offer_up: bool = True,
        environ: Mapping[str, str] | None = None,
        runner: Runner = run_command,
        notifications: bool = True,
        clock: Callable[[], float] = time.time,
        reader: Reader | None = None,
    ) -> None:
        """`actor` runs actions (a second supervisor, so a slow action never holds up looking);
        `poll` None turns polling off (tests call `look_now`); `runner` runs attach commands;
        `notifications` False turns alerts off altogether (toasts, bell, desktop notifications);
        `clock` is the time hushes are measured in, the clock the herd's snapshots are taken on;
        `reader` one already made for `herd`, whose first look may be under way (tui.opening).
        """
        self.settings_path = settings_path or user_config_path()
        # Before Textual's own set-up, which already asks for the theme variables' defaults.
        self.theme_set: ThemeSet = load_themes(self.settings_path.parent / "themes")
        super().__init__()
        self.herd = herd
        self.actor = actor or herd
        self.reader = reader or Reader(herd)
        self.poll_seconds = poll
        self.offer_up = offer_up
        self.environ = dict(os.environ if environ is None else environ)
        self.runner = runner
        self.settings_error: str | None = None
        if settings is None:
            try:
                settings = load_user_settings(settings_path, binding_ids=binding_ids())
            except CorralError as error:
                self.settings_error = str(error)
                settings = UserSettings()
        self.settings = settings
        self.notifications = notifications
        self.clock = clock
        self.alerts = Alerts()
        self.notifier: Notifier | None = None
        self.snapshot: Snapshot | None = None
        self.snapshot_listeners: list[Callable[[Snapshot], None]] = []
        self.attached: str | None = None
        self._looks: Latest[bool] = Latest()
        self._offered = False
        self._saved_theme: str | None = None
        self._theme_wanted = ""
        self._theme_lock = threading.Lock()
        self.dashboard = DashboardScreen(self.reader, herd.herd_name())
        self.summaries = Summaries(
            herd,
            self.environ,
            start=lambda work: self.run_worker(work, group="summaries", exit_on_error=False),
            look_again=self.look_now,
        )

    def get_theme_variable_defaults(self) -> dict[str, str]:
        """Textual's own themes (the palette offers them) know nothing of `$agent-*`: they
        borrow corral-dark's, so styles and state colours work in every theme."""
        return variable_defaults(self.theme_set)

    async def on_mount(self) -> None:
        if self.settings.keys:
            self.set_keymap(dict(self.settings.keys))
        if self.settings_error:
            self.notify(
                f"{self.settings_error} The default keys are in use.",
                title="Your settings have a mistake",
                severity="error",
                timeout=15,
            )
        self._start_themes()
        if self.notifications:
            self.notifier = Notifier.for_app(self, self.settings)
            self.snapshot_listeners.append(self._alert)
        await self.push_screen(self.dashboard)
        ahead = self.reader.looked_ahead()
        if ahead is not None:  # back already: the first frame shows the herd
            self._looked(HerdLooked(*ahead, polled=False))
        self.look_now()
        if self.poll_seconds:
            self.set_interval(self.poll_seconds, self.look_now, name="poll")

    def on_app_blur(self) -> None:
        self.summaries.away(self.snapshot)

    def on_app_focus(self) -> None:
        self.summaries.back(self.snapshot, self.dashboard.show_digest)

    # -- themes ------------------------------------------------------------------------------

    def _start_themes(self) -> None:
        """Register every theme that loaded, say which files were skipped, and show the saved
        choice, or the default and why when the choice is not there."""
        register(self, self.theme_set)
        for problem in self.theme_set.problems:
            self.notify(
                problem, title="A theme was skipped", severity="warning", timeout=15, markup=False
            )
        wanted = self.settings.theme
        name, unknown = wanted, None
        if wanted not in self.available_themes:  # Textual's own, chosen in the palette, count
            name, unknown = resolve_theme(wanted, self.theme_set.names, self.settings_path)
        # What the config already says (or a fallback not worth writing over the user's choice).
        self._saved_theme = self._theme_wanted = name
        self.theme = name
        if unknown:
            self.notify(unknown, title="Theme", severity="warning", timeout=15, markup=False)
        self.theme_changed_signal.subscribe(self, self._theme_changed)

    def action_theme(self) -> None:
        """The next of corral's themes; the change is saved like any other (`_theme_changed`)."""
        self.theme = next_theme(self.theme_set.names, self.theme)

    def _theme_changed(self, theme: Theme) -> None:
        """Every switch (`t`, the palette's own theme list) is saved here, and the herd is drawn
        again at once, since state colours are baked into the table's cells."""
        if self.snapshot is not None and self.dashboard.is_mounted:
            self.dashboard.show_look(self.snapshot, None, self.summaries.status)
        if theme.name != self._theme_wanted:
            self._theme_wanted = theme.name
            self._save_theme()

    @work(thread=True, exit_on_error=False, group="theme", name="saving the theme")
    def _save_theme(self) -> None:
        """Off the UI thread (it writes and syncs a file); one save at a time, each writing the
        latest choice, so quick presses of `t` always leave the last theme in the config."""
        with self._theme_lock:
            name = self._theme_wanted
            if name == self._saved_theme:
                return
            try:
                save_theme_choice(name, self.settings_path)
            except ThemeChoiceError as error:
                self.call_from_thread(
                    self.notify,
                    str(error),
                    title="The theme was not saved",
                    severity="error",
                    timeout=15,
                    markup=False,
                )
                return
            self._saved_theme = name

    # -- alerts --------------------------------------------------------------------------------

    def _alert(self, snapshot: Snapshot) -> None:
        """Tell what this snapshot has to tell, once: nothing about the agent the user has
        selected while the terminal has focus, nor about the one they are attached to."""
        selected = self.dashboard.selected
        quiet = {selected} if self.app_focus and selected else set()
        alert = self.alerts.see(snapshot, quiet=quiet, attached=self.attached)
        if alert is None:
            return
        if self.notifier is not None:
            self.notifier.emit(alert)
        self.notify(alert.body, title=alert.title, severity="warning", timeout=10, markup=False)

    def _hush_exit(self, name: str) -> None:
        """The user is about to stop `name`: its exit is their doing, not news."""
        self.alerts.hush(name, until=self.clock() + HUSH_SECONDS, causes={Cause.EXITED})

    # -- looking ---------------------------------------------------------------------------

    def look_now(self) -> None:
        """Start a look unless one is still running: a slow tmux never piles up looks. One
        asked for meanwhile (after an action) runs as soon as that one is back, since the
        running look may have started before the action took effect."""
        if self._looks.ask("look", True):
            self._look()

    def _look_done(self) -> None:
        if self._looks.done("look") and not self._exit:
            self._look()

    @work(thread=True, exit_on_error=False, group="look", name="look")
    def _look(self) -> None:
        try:
            snapshot, recorded = self.reader.look()
        except Exception as error:
            self.post_message(LookFailed(f"{type(error).__name__}: {error}"))
            return
        self.post_message(HerdLooked(snapshot, recorded))

    @on(HerdLooked)
    def _looked(self, message: HerdLooked) -> None:
        if message.polled:
            self._look_done()
        if self._exit or not self.is_running or not self.dashboard.is_mounted:
            return  # the app is closing: the screen's widgets may already be gone
        if self.snapshot is not None and message.snapshot.taken < self.snapshot.taken:
            return  # a poll look begun before an action's own look: it would undo its effect
        first = self.snapshot is None
        self.snapshot = message.snapshot
        self.dashboard.show_look(message.snapshot, message.history, self.summaries.status)
        self.summaries.seen(message.snapshot)
        for listener in self.snapshot_listeners:
            try:
                listener(message.snapshot)
            except Exception as error:
                self.notify(f"{listener}: {error}", severity="error")
        if first and self.offer_up:
            self._offer_up(message.snapshot)

    @on(LookFailed)
    def _look_failed(self, message: LookFailed) -> None:
        self._look_done()
        if message.error != self.dashboard.look_error:
            self.dashboard.look_error = message.error
            self.notify(message.error, title="Could not look at the herd", severity="error")

    def _offer_up(self, snapshot: Snapshot) -> None:
        """Configured agents that are not running: offer to start them, once per session."""
        if self._offered:
            return
        self._offered = True
        seen = {view.name: view for view in snapshot.agents}
        missing = [spec.name for spec in self.herd.specs() if spec.name not in seen]
        ended = [
            view.name
            for view in snapshot.agents
            if view.in_config and view.state in (State.EXITED, State.CRASH_LOOPING)
        ]
        names = missing + ended
        if not names:
            return
        lines = []
        if missing:
            lines.append(f"Not started: {', '.join(missing)}.")
        if ended:
            lines.append(f"Ended: {', '.join(ended)}.")
        lines.append("Start them now? (`corral up` does the same; shelved agents stay shelved.)")

        def answered(yes: bool | None) -> None:
            if yes:
                self.act(f"starting {len(names)} agents", lambda herd: herd.up(names))

        self.push_screen(
            ConfirmScreen("Start the herd?", "\n".join(lines), yes="Start", no="Not now"),
            answered,
        )

    # -- what the dashboard asks for ------------------------------------------------------

    @on(ActionAsked)
    def _action_asked(self, message: ActionAsked) -> None:
        self.act(message.what, message.call, stops=message.stops)

    @on(AttachAsked)
    def _attach_asked(self, message: AttachAsked) -> None:
        self.attach(message.view)

    @on(SummaryAsked)
    def _summary_asked(self, message: SummaryAsked) -> None:
        self.summaries.ask([message.view], self.dashboard.show_summary)

    @on(DigestAsked)
    def _digest_asked(self, message: DigestAsked) -> None:
        self.summaries.digest(message.snapshot, self.dashboard.show_digest)

    # -- acting ----------------------------------------------------------------------------

    def act(
        self,
        what: str,
        call: Callable[[Herd], Outcome | list[Outcome]],
        *,
        stops: str | None = None,
        timeout: float = 6,
    ) -> None:
        """Run an action on a worker; its outcomes come back as notifications, shown for
        `timeout` seconds (longer for one that says how to undo it). `stops` names the agent
        the action stops, whose exit is then no alert."""
        if stops is not None:
            self._hush_exit(stops)
        done: list[bool] = []  # touched on the UI thread only
        # A toast costs a layout of the whole screen: only an action still running after a
        # moment says it is under way.
        self.set_timer(SLOW_ACTION, lambda: None if done else self.notify(f"{what}…", timeout=2))
        self._act(what, call, timeout, done)

    @work(thread=True, exit_on_error=False, group="act", name="act")
    def _act(
        self,
        what: str,
        call: Callable[[Herd], Outcome | list[Outcome]],
        timeout: float,
        done: list[bool],
    ) -> None:
        try:
            result = call(self.actor)
        except CorralError as error:
            self.call_from_thread(self._failed, what, str(error), done)
            return
        outcomes = result if isinstance(result, list) else [result]
        # The look that shows the action's effect, taken here at once: a poll look may be under
        # way, begun before the action, and one after it would wait for that one to end.
        try:
            snapshot, recorded = self.reader.look()
        except Exception:
            self.call_from_thread(self.look_now)  # the poll's own look reports what is wrong
        else:
            self.post_message(HerdLooked(snapshot, recorded, polled=False))
        self.call_from_thread(self._report, outcomes, timeout, done)

    def _failed(self, what: str, error: str, done: list[bool]) -> None:
        done.append(True)
        self.notify(error, title=what, severity="error", timeout=10, markup=False)

    def _report(self, outcomes: Sequence[Outcome], timeout: float, done: list[bool]) -> None:
        """After the look: the row showing the action's effect is what the user waits for,
        and a toast lays the whole screen out again."""
        done.append(True)
        # Outcomes name paths, branches and commands: plain text, never markup.
        for outcome in outcomes:
            self.notify(
                outcome.message,
                severity="error" if outcome.failed else "information",
                timeout=max(timeout, 10) if outcome.failed else timeout,
                markup=False,
            )

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        """A worker that raised reports here: the app goes on."""
        if event.state is not WorkerState.ERROR:
            return
        if event.worker.group == "look":
            self._look_done()
        error = event.worker.error
        self.notify(
            f"{type(error).__name__}: {error}",
            title=f"{event.worker.name or 'a background task'} failed",
            severity="error",
            timeout=10,
        )

    # -- attaching ---------------------------------------------------------------------------

    def attach(self, view: AgentView) -> None:
        """Outside tmux: suspend, attach here, come back refreshed. Inside the user's tmux: a
        popup (or a new window) on their server, while the dashboard stays live."""
        if view.pane is None:
            self.notify(f"{view.name} has no pane ({view.reason})", severity="warning")
            return
        try:
            plan = self.herd.attach_plan(view.name, view.pane, self.environ)
        except CorralError as error:
            self.notify(str(error), title=f"could not attach to {view.name}", severity="error")
            return
        if plan.how == "attach":
            self._attach_here(view.name, plan)
        else:
            self.notify(f"{view.name} opens in your tmux ({plan.back})", timeout=4)
            self._attach_beside(view.name, plan)

    def _attach_here(self, name: str, plan: AttachPlan) -> None:
        self.attached = name
        failure: str | None = None
        try:
            with self.suspend():
                # Everything is caught in here: an exception leaving the block would skip
                # Textual's resume, and the terminal would stay out of the app's hands.
                try:
                    print(f"attaching to {name} ({plan.back})", flush=True)
                    code = self.runner(plan.argv, False)
                    if code != 0:
                        failure = f"tmux exited with {code}"
                except Exception as error:
                    failure = f"{type(error).__name__}: {error}"
        except Exception as error:  # the suspend itself failed (no terminal to give away)
            failure = f"{type(error).__name__}: {error}"
        finally:
            self._came_back(name)
        if failure:
            self.notify(f"could not attach to {name}: {failure}", severity="error")
        else:
            self.notify(f"back from {name}", timeout=3)
        self.refresh(layout=True)
        self.look_now()

    def _came_back(self, name: str) -> None:
        """What happened while the user watched `name` was seen: looks taken until now, still
        waiting to be shown, stay quiet about it."""
        self.attached = None
        self.alerts.hush(name, until=self.clock())

    @work(thread=True, exit_on_error=False, group="attach", name="attach")
    def _attach_beside(self, name: str, plan: AttachPlan) -> None:
        self.attached = name
        try:
            code = self.runner(plan.argv, True)
            if code != 0 and plan.fallback:
                code = self.runner(plan.fallback, True)
                if code == 0:
                    self.call_from_thread(
                        self.notify, f"{name} opened in a new window of your tmux"
                    )
                    return
            if code != 0:
                self.call_from_thread(
                    self.notify,
                    f"could not attach to {name}: tmux exited with {code}",
                    severity="error",
                )
        finally:
            self.call_from_thread(self._came_back, name)
            self.call_from_thread(self.look_now)

    # -- app-wide keys -------------------------------------------------------------------

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action in QUIET_IN_DIALOGS and isinstance(self.screen, ModalScreen):
            return False
        if action == "merge" and self.dashboard.view() is None:
            return None  # shown dimmed: there is no agent to merge
        return True

    def key_table(self) -> list[tuple[str, str, str]]:
        """(id, key as bound now, what it does) for every rebindable key."""
        keymap = dict(self.settings.keys)
        rows = []
        for binding in (*APP_BINDINGS, *SCREEN_BINDINGS):
            if isinstance(binding, Binding) and binding.id:
                key = keymap.get(binding.id, binding.key)
                shown = ", ".join(self.get_key_display(Binding(k, "")) for k in key.split(","))
                rows.append((binding.id, shown, binding.description))
        return rows

    def action_help(self) -> None:
        self.push_screen(HelpScreen(self.key_table(), str(self.settings_path)))

    def action_new_agent(self) -> None:
        """n: the new-agent form. It writes the agent into corral.toml on a worker and stays
        open on a mistake; once the agent is written, both supervisors read the file again
        (they loaded it when they opened) and the new agent starts as `corral up NAME` would."""
        path = self.herd.config_path()
        seen = self.snapshot.agents if self.snapshot else ()
        taken = {spec.name for spec in self.herd.specs()} | {view.name for view in seen}

        def written(name: str | None) -> None:
            if name is None:
                return

            def start(actor: Herd) -> list[Outcome]:
                actor.reload_config()
                if self.herd is not actor:
                    self.herd.reload_config()
                return actor.up([name])

            self.act(f"starting {name}", start)

        # Loaded on first use: its form is not worth its time before the first frame.
        from tui.screens.new_agent import NewAgentScreen

        self.push_screen(NewAgentScreen(path, taken, self.herd.add_agent), written)

    # -- merging --------------------------------------------------------------------------

    def action_merge(self) -> None:
        """Merge the selected agent's branch into the base: the preview first (commits, files,
        conflicts), a question, then the merge, whose outcome says how to undo it."""
        view = self.dashboard.view()
        if view is None:
            return
        self.notify(f"looking at what merging {view.name} would do…", timeout=2)
        self._merge_preview(view.name)

    @work(thread=True, exit_on_error=False, group="merge-preview", name="merge preview")
    def _merge_preview(self, name: str) -> None:
        """git runs here (a trial merge), never on the UI thread."""
        try:
            preview = self.actor.merge_preview(name)
        except CorralError as error:
            self.call_from_thread(
                self.notify,
                str(error),
                title=f"cannot merge {name}",
                severity="error",
                timeout=15,
                markup=False,
            )
            return
        self.call_from_thread(self._offer_merge, preview)

    def _offer_merge(self, preview: MergePreview) -> None:
        name = preview.agent
        if preview.refusal is not None:
            self.notify(
                preview.refusal,
                title=f"{name} cannot be merged now",
                severity="warning",
                timeout=15,
                markup=False,
            )
            return

        def answered(yes: bool | None) -> None:
            if yes:
                self.act(f"merging {name}", lambda herd: herd.merge(name), timeout=30)

        self.push_screen(
            ConfirmScreen(
                f"Merge {preview.branch} into {preview.base}?",
                preview.describe(),
                yes="Merge",
                no="Not now",
            ),
            answered,
        )
