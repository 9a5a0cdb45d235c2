"""Alerts in the app: each new snapshot is compared with the one before, and a transition that
needs the user rings the bell and shows one toast, once; nothing is said about the agent the
user is looking at or attached to, nor about the exit of an agent the user stopped."""

from __future__ import annotations

import threading
from collections.abc import Sequence
from dataclasses import replace
from typing import Any

import pytest
from textual.pilot import Pilot

from sessions.core.model import State, UserSettings
from tests.tui.conftest import Notes, corral, until
from tests.tui.fakes import NOW, FakeHerd, make_herd, view
from tui.app import CorralApp
from tui.screens.confirm import ConfirmScreen

pytestmark = pytest.mark.asyncio

ALERT = "corral: "  # every alert's title starts so; no other notification's does


class Ringing(CorralApp):
    """Counts the bells the app rings (headless, `App.bell` itself writes nothing)."""

    rings = 0

    def bell(self) -> None:
        self.rings += 1
        super().bell()


def calm_herd(tmp_path: Any, *extra: str) -> FakeHerd:
    """Nothing waits at first, so the first look raises no summary."""
    agents = [view("alpha", State.WORKING, pane="%1"), view("charlie", State.IDLE, pane="%3")]
    agents += [view(name, State.IDLE, pane=f"%{5 + i}") for i, name in enumerate(extra)]
    return make_herd(tmp_path / "project", agents=agents)


def ringing(herd: FakeHerd, **options: Any) -> Ringing:
    options.setdefault("notifications", True)
    options.setdefault("clock", lambda: NOW)  # the fake herd's snapshots are taken at NOW
    app = corral(herd, cls=Ringing, **options)
    assert isinstance(app, Ringing)
    return app


def becomes(herd: FakeHerd, state: State, *names: str) -> None:
    herd.agents = [replace(a, state=state) if a.name in names else a for a in herd.agents]


def alerts(notes: Notes) -> list[tuple[str, str]]:
    """(title, body) of every alert toast shown so far."""
    return [
        (title, message)
        for title, (message, _) in zip(notes.titles, notes.messages, strict=True)
        if title.startswith(ALERT)
    ]


class Looks:
    """Counts the snapshots the app has handed to its listeners, to wait for the next one."""

    def __init__(self, app: CorralApp) -> None:
        self.app = app
        self.seen = 0
        app.snapshot_listeners.append(self._saw)

    def _saw(self, _snapshot: object) -> None:
        self.seen += 1

    async def next(self, pilot: Pilot[Any]) -> None:
        before = self.seen
        self.app.look_now()
        await until(pilot, lambda: self.seen > before, what="the next look")


async def first_look(pilot: Pilot[Any], app: CorralApp) -> Looks:
    await until(pilot, lambda: app.snapshot is not None, what="the first look")
    looks = Looks(app)
    await pilot.pause()
    return looks


async def test_a_new_needs_input_gives_one_toast_and_one_bell(tmp_path: Any) -> None:
    herd = calm_herd(tmp_path)
    app = ringing(herd)
    notes = Notes(app)
    async with app.run_test(size=(120, 30)) as pilot:
        looks = await first_look(pilot, app)
        assert alerts(notes) == [] and app.rings == 0
        becomes(herd, State.NEEDS_INPUT, "charlie")
        await looks.next(pilot)
        assert alerts(notes) == [
            (
                "corral: charlie needs input",
                "charlie needs input (charlie reason: the screen says so)",
            )
        ]
        assert app.rings == 1
        await looks.next(pilot)  # still waiting: no news
        assert len(alerts(notes)) == 1 and app.rings == 1


async def test_several_at_once_are_one_toast(tmp_path: Any) -> None:
    herd = calm_herd(tmp_path, "echo")
    app = ringing(herd)
    notes = Notes(app)
    async with app.run_test(size=(120, 30)) as pilot:
        looks = await first_look(pilot, app)
        becomes(herd, State.NEEDS_INPUT, "charlie")
        becomes(herd, State.EXITED, "echo")
        await looks.next(pilot)
        ((title, body),) = alerts(notes)
        assert title == "corral: 2 agents need you"
        assert body.startswith("2 agents need you: charlie needs input")
        assert "echo exited" in body
        assert app.rings == 1


async def test_the_selected_agent_is_quiet_while_the_terminal_has_focus(tmp_path: Any) -> None:
    herd = calm_herd(tmp_path, "echo")
    app = ringing(herd)
    notes = Notes(app)
    async with app.run_test(size=(120, 30)) as pilot:
        looks = await first_look(pilot, app)
        await pilot.press("2")
        assert app.dashboard.selected == "charlie"
        becomes(herd, State.NEEDS_INPUT, "charlie")
        await looks.next(pilot)
        assert alerts(notes) == [] and app.rings == 0
        app.app_focus = False  # the user looked away: the selected agent is news again
        becomes(herd, State.NEEDS_INPUT, "echo")
        await looks.next(pilot)
        assert [title for title, _ in alerts(notes)] == ["corral: echo needs input"]
        assert app.rings == 1


async def test_the_attached_agent_is_quiet(tmp_path: Any) -> None:
    """Inside the user's tmux the pane opens in a popup and the dashboard stays live: while
    the user is in charlie's pane (the runner blocks like tmux would), charlie says nothing."""
    herd = calm_herd(tmp_path)
    back = threading.Event()

    def popup(argv: Sequence[str], capture: bool) -> int:
        back.wait(10)
        return 0

    environ = {"TMUX": "/tmp/tmux-1000/default,123,0"}
    app = ringing(herd, runner=popup, environ=environ)
    notes = Notes(app)
    async with app.run_test(size=(120, 30)) as pilot:
        looks = await first_look(pilot, app)
        await pilot.press("2", "enter")
        await until(pilot, lambda: app.attached == "charlie", what="the popup")
        await pilot.press("1")  # the dashboard moves on; charlie is still the attached one
        becomes(herd, State.NEEDS_INPUT, "charlie")
        await looks.next(pilot)
        assert alerts(notes) == [] and app.rings == 0
        back.set()
        await until(pilot, lambda: app.attached is None, what="the way back")
        await looks.next(pilot)
        assert alerts(notes) == [] and app.rings == 0


async def test_the_exit_of_an_agent_the_user_killed_is_no_news(tmp_path: Any) -> None:
    herd = calm_herd(tmp_path)
    app = ringing(herd)
    notes = Notes(app)
    async with app.run_test(size=(120, 30)) as pilot:
        looks = await first_look(pilot, app)
        app.app_focus = False  # so only the hush can keep charlie quiet
        await pilot.press("2", "x")
        await until(pilot, lambda: isinstance(app.screen, ConfirmScreen))
        await pilot.press("y")
        await until(pilot, lambda: ("kill", "charlie") in herd.calls)
        await until(pilot, lambda: "stopped; worktree" in notes.text(), what="the outcome")
        await looks.next(pilot)
        assert [a.state for a in herd.agents if a.name == "charlie"] == [State.EXITED]
        assert alerts(notes) == []
        becomes(herd, State.EXITED, "alpha")  # an exit nobody asked for is news
        await looks.next(pilot)
        assert [title for title, _ in alerts(notes)] == ["corral: alpha exited"]


async def test_opening_on_a_waiting_herd_says_so_once(herd: FakeHerd) -> None:
    app = ringing(herd)
    notes = Notes(app)
    async with app.run_test(size=(120, 30)) as pilot:
        looks = await first_look(pilot, app)
        await until(pilot, lambda: alerts(notes), what="the summary")
        ((title, body),) = alerts(notes)
        assert title == "corral: 3 agents already need you"
        assert "bravo needs input" in body and "delta exited" in body
        assert "alpha and bravo conflict on src/app.py" in body
        assert app.rings == 1
        await looks.next(pilot)
        assert len(alerts(notes)) == 1


async def test_the_bell_switch_leaves_the_toast(tmp_path: Any) -> None:
    herd = calm_herd(tmp_path)
    settings = UserSettings(bell=False, desktop=False)
    app = ringing(herd, settings=settings)
    notes = Notes(app)
    async with app.run_test(size=(120, 30)) as pilot:
        looks = await first_look(pilot, app)
        becomes(herd, State.NEEDS_INPUT, "charlie")
        await looks.next(pilot)
        assert len(alerts(notes)) == 1 and app.rings == 0


async def test_notifications_off_says_nothing(herd: FakeHerd) -> None:
    app = ringing(herd, notifications=False)
    notes = Notes(app)
    async with app.run_test(size=(120, 30)) as pilot:
        looks = await first_look(pilot, app)
        becomes(herd, State.NEEDS_INPUT, "charlie")
        await looks.next(pilot)
        assert alerts(notes) == [] and app.rings == 0
        assert app.notifier is None
