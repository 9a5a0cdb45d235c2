"""Attach and come back: outside tmux the app suspends and runs tmux attach in this terminal;
inside the user's tmux it opens a popup there (a new window when that fails). A driver that can
suspend and a runner that records stand in for the terminal and tmux."""

from __future__ import annotations

from collections.abc import Sequence

import pytest
from textual.drivers import headless_driver

from tests.tui.conftest import Notes, corral, until
from tests.tui.fakes import FakeHerd

pytestmark = pytest.mark.asyncio


class SuspendingDriver(headless_driver.HeadlessDriver):
    """A headless driver that can be suspended, and remembers that it was."""

    events: list[str] = []  # noqa: RUF012 (one list for the test that patches it in)

    @property
    def can_suspend(self) -> bool:
        return True

    def suspend_application_mode(self) -> None:
        self.events.append("suspend")

    def resume_application_mode(self) -> None:
        self.events.append("resume")


class Runner:
    def __init__(self, codes: Sequence[int] = (0,)) -> None:
        self.codes = list(codes)
        self.commands: list[tuple[tuple[str, ...], bool]] = []

    def __call__(self, argv: Sequence[str], capture: bool) -> int:
        self.commands.append((tuple(argv), capture))
        SuspendingDriver.events.append("run")
        return self.codes.pop(0) if self.codes else 0


@pytest.fixture
def driver(monkeypatch: pytest.MonkeyPatch) -> type[SuspendingDriver]:
    SuspendingDriver.events = []
    monkeypatch.setattr(headless_driver, "HeadlessDriver", SuspendingDriver)
    return SuspendingDriver


async def test_outside_tmux_enter_suspends_attaches_and_comes_back(
    herd: FakeHerd, driver: type[SuspendingDriver]
) -> None:
    runner = Runner()
    app = corral(herd, runner=runner, environ={})
    notes = Notes(app)
    async with app.run_test(size=(120, 30)) as pilot:
        await until(pilot, lambda: app.snapshot is not None)
        looks = herd.looks
        await pilot.press("enter")
        await until(pilot, lambda: "back from alpha" in notes.text(), what="the way back")
        ((argv, capture),) = runner.commands
        assert argv[-3:] == ("attach-session", "-t", "%1")
        assert "-L" in argv and argv[argv.index("-L") + 1] == "corral-fake"
        assert capture is False
        assert driver.events == ["suspend", "run", "resume"]
        await until(pilot, lambda: herd.looks > looks, what="a fresh look after coming back")
        assert app.attached is None


async def test_a_failed_attach_is_reported_and_the_app_goes_on(
    herd: FakeHerd, driver: type[SuspendingDriver]
) -> None:
    runner = Runner(codes=[1])
    app = corral(herd, runner=runner, environ={})
    notes = Notes(app)
    async with app.run_test(size=(120, 30)) as pilot:
        await until(pilot, lambda: app.snapshot is not None)
        await pilot.press("a")
        await until(pilot, notes.errors)
        assert notes.errors() == ["could not attach to alpha: tmux exited with 1"]
        assert driver.events == ["suspend", "run", "resume"]
        await pilot.press("j")
        assert app.dashboard.selected == "bravo"


async def test_an_exception_inside_the_suspend_is_reported(
    herd: FakeHerd, driver: type[SuspendingDriver]
) -> None:
    def explode(argv: Sequence[str], capture: bool) -> int:
        raise FileNotFoundError("tmux")

    app = corral(herd, runner=explode, environ={})
    notes = Notes(app)
    async with app.run_test(size=(120, 30)) as pilot:
        await until(pilot, lambda: app.snapshot is not None)
        await pilot.press("enter")
        await until(pilot, notes.errors)
        assert "FileNotFoundError" in notes.errors()[0]
        assert driver.events == ["suspend", "resume"]
        assert app.is_running


async def test_inside_tmux_a_popup_opens_without_suspending(
    herd: FakeHerd, driver: type[SuspendingDriver]
) -> None:
    runner = Runner()
    environ = {"TMUX": "/tmp/tmux-1000/default,123,0", "TMUX_PANE": "%9"}
    app = corral(herd, runner=runner, environ=environ)
    async with app.run_test(size=(120, 30)) as pilot:
        await until(pilot, lambda: app.snapshot is not None)
        await pilot.press("2", "enter")
        await until(pilot, lambda: runner.commands, what="the popup")
        ((argv, capture),) = runner.commands
        assert "display-popup" in argv and capture is True
        assert "%2" in argv[-1] and "env -u TMUX" in argv[-1]
        assert "suspend" not in driver.events


async def test_when_the_popup_fails_a_new_window_opens(
    herd: FakeHerd, driver: type[SuspendingDriver]
) -> None:
    runner = Runner(codes=[1, 0])
    environ = {"TMUX": "/tmp/tmux-1000/default,123,0"}
    app = corral(herd, runner=runner, environ=environ)
    notes = Notes(app)
    async with app.run_test(size=(120, 30)) as pilot:
        await until(pilot, lambda: app.snapshot is not None)
        await pilot.press("enter")
        await until(pilot, lambda: "new window" in notes.text(), what="the fallback")
        popup, window = (argv for argv, _ in runner.commands)
        assert "display-popup" in popup
        assert "new-window" in window and window[-1] == "%1"
