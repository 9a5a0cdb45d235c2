"""Merging from the dashboard (`m`) and releasing a stale lock (`u` in the Locks tab): each
shows what it would do first, acts only on a yes, and reports the herd's answer."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest
from textual.command import CommandList
from textual.pilot import Pilot
from textual.widgets import DataTable

from sessions.core.lock_values import LockReport
from sessions.core.model import Snapshot
from sessions.core.worktree_values import FileChange, MergePreview
from tests.tui.conftest import Notes, corral, until
from tests.tui.fakes import FakeHerd
from tui.screens.confirm import ConfirmScreen

pytestmark = pytest.mark.asyncio

REFUSAL = (
    "main is not checked out in /work/project (it is on topic): switch to it with "
    "`git -C /work/project switch main`, then merge again."
)


def dialog(app: Any) -> ConfirmScreen | None:
    return app.screen if isinstance(app.screen, ConfirmScreen) else None


async def asked(pilot: Pilot[Any], what: str) -> ConfirmScreen:
    """The question, once it is on the screen."""
    await until(pilot, lambda: dialog(pilot.app), what=what)
    screen = dialog(pilot.app)
    assert screen is not None
    return screen


async def test_m_shows_the_preview_and_a_yes_merges(herd: FakeHerd) -> None:
    app = corral(herd)
    notes = Notes(app)
    async with app.run_test(size=(120, 34)) as pilot:
        await until(pilot, lambda: app.snapshot is not None)
        await pilot.press("m")
        screen = await asked(pilot, "the preview")
        assert screen.title_text == "Merge corral/alpha into main?"
        assert screen.body.startswith("corral/alpha into main: 2 commits ahead, 0 behind")
        assert "tests/test_app.py" in screen.body
        assert "1 uncommitted file in /work/project.corral/alpha stay behind" in screen.body
        assert herd.calls == [("merge_preview", "alpha")]
        await pilot.press("y")
        await until(pilot, lambda: ("merge", "alpha") in herd.calls, what="the merge")
        await until(pilot, lambda: "git reset --keep" in notes.text(), what="how to undo it")
        assert notes.errors() == []


async def test_a_long_preview_scrolls_and_keeps_its_buttons_on_screen(herd: FakeHerd) -> None:
    previewed = herd.merge_preview
    many = tuple(FileChange(f"src/module_{n}.py", n, 0) for n in range(80))

    def long_preview(name: str) -> MergePreview:
        return replace(previewed(name), files=many)

    herd.merge_preview = long_preview  # type: ignore[method-assign]
    app = corral(herd)
    async with app.run_test(size=(100, 30)) as pilot:
        await until(pilot, lambda: app.snapshot is not None)
        await pilot.press("m")
        screen = await asked(pilot, "the preview")
        await pilot.pause()
        assert "src/module_79.py" in screen.body
        for button in ("#yes", "#no"):
            region = screen.query_one(button).region
            assert region.height and region.bottom <= 30, (button, region)


async def test_declining_the_preview_merges_nothing(herd: FakeHerd) -> None:
    app = corral(herd)
    async with app.run_test(size=(120, 34)) as pilot:
        await until(pilot, lambda: app.snapshot is not None)
        await pilot.press("2", "m")
        await until(pilot, lambda: dialog(app), what="the preview")
        await pilot.press("n")
        await until(pilot, lambda: dialog(app) is None)
        assert herd.calls == [("merge_preview", "bravo")]


async def test_a_merge_that_would_be_refused_says_why_and_asks_nothing(herd: FakeHerd) -> None:
    herd.merge_refusal = REFUSAL
    app = corral(herd)
    notes = Notes(app)
    async with app.run_test(size=(120, 34)) as pilot:
        await until(pilot, lambda: app.snapshot is not None)
        await pilot.press("m")
        await until(pilot, lambda: REFUSAL in notes.text(), what="the refusal")
        assert "alpha cannot be merged now" in notes.titles
        assert dialog(app) is None
        assert herd.calls == [("merge_preview", "alpha")]


async def test_a_preview_that_fails_is_one_sentence(herd: FakeHerd) -> None:
    herd.fail = {"merge_preview"}
    app = corral(herd)
    notes = Notes(app)
    async with app.run_test(size=(120, 34)) as pilot:
        await until(pilot, lambda: app.snapshot is not None)
        await pilot.press("m")
        await until(pilot, notes.errors, what="the error")
        assert notes.errors() == ["alpha could not merge_preview: the fake says no."]
        assert app.is_running and dialog(app) is None


async def test_u_in_the_locks_tab_releases_a_stale_lock_after_asking(herd: FakeHerd) -> None:
    app = corral(herd)
    notes = Notes(app)
    async with app.run_test(size=(160, 40)) as pilot:
        await until(pilot, lambda: app.snapshot is not None)
        await pilot.press("u")  # not in the Locks tab: the key does nothing
        assert dialog(app) is None
        await pilot.press("l")
        table = app.screen.query_one("#locks-table", DataTable)
        await until(pilot, lambda: table.row_count == 1, what="the lock")
        assert app.dashboard.check_action("release_lock", ()) is True
        await pilot.press("u")
        screen = await asked(pilot, "the question")
        assert screen.title_text == "Release the lock current_tasks/parser.md?"
        assert "held by bravo" in screen.body and "bravo exited 40m ago" in screen.body
        await pilot.press("y")
        await until(pilot, lambda: "in commit 4444444" in notes.text(), what="the outcome")
        assert herd.calls == [("release_lock", "current_tasks/parser.md")]


async def test_a_lock_that_is_not_stale_is_not_released(herd: FakeHerd) -> None:
    looked = herd.snapshot

    def fresh_locks(fresh_locks: bool = False) -> Snapshot:
        snapshot = looked(fresh_locks)
        report = snapshot.coordination.locks
        assert report is not None
        held = tuple(replace(v, stale=False, reason="bravo is working") for v in report.verdicts)
        coordination = replace(snapshot.coordination, locks=LockReport(held, completed=2))
        return replace(snapshot, coordination=coordination)

    herd.snapshot = fresh_locks  # type: ignore[method-assign]
    app = corral(herd)
    notes = Notes(app)
    async with app.run_test(size=(160, 40)) as pilot:
        await until(pilot, lambda: app.snapshot is not None)
        await pilot.press("l")
        table = app.screen.query_one("#locks-table", DataTable)
        await until(pilot, lambda: table.row_count == 1, what="the lock")
        assert app.dashboard.check_action("release_lock", ()) is None  # shown, dimmed
        app.dashboard.action_release_lock()
        assert "is not stale (bravo is working)" in notes.text()
        await pilot.pause()
        assert dialog(app) is None and herd.calls == []


async def test_the_palette_releases_a_stale_lock_by_its_path(herd: FakeHerd) -> None:
    app = corral(herd)
    async with app.run_test(size=(120, 34)) as pilot:
        await until(pilot, lambda: app.snapshot is not None)
        await pilot.press("ctrl+p", *"Release the stale lock")
        hits = await until(pilot, lambda: app.screen.query(CommandList), what="the palette")
        await until(pilot, lambda: hits.first().option_count > 0, what="the hit")
        await pilot.press("enter")
        screen = await asked(pilot, "the question")
        assert "current_tasks/parser.md" in screen.title_text
        await pilot.press("y")
        await until(pilot, lambda: herd.calls == [("release_lock", "current_tasks/parser.md")])
