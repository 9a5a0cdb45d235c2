"""SVG snapshots of the dashboard, each tab, each dialog and each bundled theme, on a fake herd
with its clock frozen and no cursor blinking: a change in how anything looks shows up as a
changed picture.

Update them after a deliberate change with `pytest tests/tui --snapshot-update`.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest
from textual.pilot import Pilot
from textual.widgets import Input, TextArea

from sessions.core.model import State, UserSettings
from sessions.core.worktree_values import FileChange, WorktreeDiff
from tests.tui.conftest import corral, until
from tests.tui.fakes import NOW, FakeHerd, make_herd, progress_note, view
from tui.app import CorralApp
from tui.screens.confirm import ConfirmScreen
from tui.themes import BUNDLED_ORDER
from tui.widgets.pane_view import PaneView

SnapCompare = Callable[..., bool]

PATCH = """diff --git a/src/app.py b/src/app.py
index 1111111..2222222 100644
--- a/src/app.py
+++ b/src/app.py
@@ -1,2 +1,2 @@
 def main() -> int:
-    return 0
+    return 1
"""


@pytest.fixture
def still(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> FakeHerd:
    """The fake herd with a journal, hook calls, notes and a diff that never change."""
    herd = make_herd(tmp_path / "project")
    herd.agents[0] = view("alpha", State.WORKING, worktree="/work/project.corral/alpha")
    lines = [
        {"t": NOW - 120, "event": "start", "agent": "alpha", "branch": "corral/alpha"},
        {"t": NOW - 90, "event": "run_start", "agent": "alpha", "run": 1},
        {"t": NOW - 20, "event": "pause", "agent": "bravo", "processes": 3},
    ]
    herd.repo.state_dir.mkdir(parents=True, exist_ok=True)
    herd.journal.path.write_text("".join(json.dumps(line) + "\n" for line in lines))
    events = herd.repo.state_dir / "events" / "alpha.jsonl"
    events.parent.mkdir()
    call = {"t": NOW - 40, "event": "PreToolUse", "tool": "Edit", "cls": "edit"}
    events.write_text(json.dumps(call | {"paths": ["src/app.py"]}) + "\n")
    (herd.repo.root / "PROGRESS.md").write_text(
        "# Progress\n\n- [x] first task\n- [ ] second task\n"
    )
    herd.notes_items = [progress_note()]
    herd.notes_events = [
        {
            "t": NOW - 60,
            "event": "note",
            "agent": "alpha",
            "where": "base",
            "path": "PROGRESS.md",
            "kind": "edit",
            "diff": "-- [ ] first task\n+- [x] first task\n",
            "added": 1,
            "removed": 1,
        }
    ]
    diff = WorktreeDiff(
        "alpha",
        "0123456789abcdef",
        (FileChange("src/app.py", 1, 1), FileChange("NEW.txt", None, None, untracked=True)),
        PATCH,
    )
    monkeypatch.setattr(herd, "diff", lambda agent, worktree, base: diff)
    return herd


def ready(
    app: CorralApp, *keys: str, when: Callable[[], object] | None = None
) -> Callable[[Pilot[Any]], Awaitable[None]]:
    """Wait for the first look, press `keys`, wait for `when`, and stop every cursor blinking."""

    async def run_before(pilot: Pilot[Any]) -> None:
        await until(pilot, lambda: app.snapshot is not None, what="the first look")
        for key in keys:
            await pilot.press(key)
        if when is not None:
            await until(pilot, when)
        for field in app.screen.query(Input):
            field.cursor_blink = False
        for area in app.screen.query(TextArea):
            area.cursor_blink = False
        await pilot.pause()

    return run_before


def pane_drawn(app: CorralApp) -> bool:
    return "Working" in app.screen.query_one(PaneView).text


def test_dashboard_80x24(snap_compare: SnapCompare, still: FakeHerd) -> None:
    app = corral(still)
    assert snap_compare(
        app, terminal_size=(80, 24), run_before=ready(app, when=lambda: pane_drawn(app))
    )


def test_dashboard_200x50(snap_compare: SnapCompare, still: FakeHerd) -> None:
    app = corral(still)
    assert snap_compare(
        app, terminal_size=(200, 50), run_before=ready(app, when=lambda: pane_drawn(app))
    )


@pytest.mark.parametrize(
    ("key", "probe"),
    [
        ("i", "#activity-log"),
        ("d", "#diff-files"),
        ("e", "#explain-text"),
        ("c", "#conflicts-table"),
        ("l", "#locks-table"),
        ("g", "#notes-changes"),
        ("J", "#journal-log"),
    ],
)
def test_tab(snap_compare: SnapCompare, still: FakeHerd, key: str, probe: str) -> None:
    app = corral(still)

    def drawn() -> bool:
        widget = app.screen.query_one(probe)
        if probe == "#diff-files":
            patch = str(app.screen.query_one("#diff-patch").content)  # type: ignore[attr-defined]
            return "@@" in patch and getattr(widget, "row_count", 0) == 2
        if probe == "#explain-text":
            return ("explain", "alpha") in still.calls
        if probe == "#notes-changes":
            return "last looked" in str(widget.content)  # type: ignore[attr-defined]
        return bool(getattr(widget, "row_count", None) or getattr(widget, "lines", None))

    assert snap_compare(app, terminal_size=(120, 34), run_before=ready(app, key, when=drawn))


def test_send_dialog(snap_compare: SnapCompare, still: FakeHerd) -> None:
    app = corral(still)
    keys = ("2", "s", *"Run the tests", "enter", *"then commit")
    assert snap_compare(app, terminal_size=(100, 30), run_before=ready(app, *keys))


def test_kill_dialog(snap_compare: SnapCompare, still: FakeHerd) -> None:
    app = corral(still)
    assert snap_compare(app, terminal_size=(100, 30), run_before=ready(app, "x"))


def test_remove_dialog(snap_compare: SnapCompare, still: FakeHerd) -> None:
    app = corral(still)

    def asked() -> bool:
        return isinstance(app.screen, ConfirmScreen)

    assert snap_compare(app, terminal_size=(100, 30), run_before=ready(app, "X", when=asked))


def test_help_screen(snap_compare: SnapCompare, still: FakeHerd) -> None:
    app = corral(still, settings_path=Path("/home/you/.config/corral/config.toml"))
    assert snap_compare(app, terminal_size=(100, 40), run_before=ready(app, "question_mark"))


def test_start_offer(snap_compare: SnapCompare, tmp_path: Path) -> None:
    herd = make_herd(tmp_path / "project", specs=("alpha", "echo"))
    app = corral(herd, offer_up=True)

    def offered() -> bool:
        return isinstance(app.screen, ConfirmScreen)

    assert snap_compare(app, terminal_size=(100, 30), run_before=ready(app, when=offered))


def test_merge_dialog(snap_compare: SnapCompare, still: FakeHerd) -> None:
    app = corral(still)

    def asked() -> bool:
        return isinstance(app.screen, ConfirmScreen)

    assert snap_compare(app, terminal_size=(100, 30), run_before=ready(app, "m", when=asked))


@pytest.mark.parametrize("theme", BUNDLED_ORDER)
def test_dashboard_theme(snap_compare: SnapCompare, still: FakeHerd, theme: str) -> None:
    app = corral(still, settings=UserSettings(theme=theme))
    assert snap_compare(
        app, terminal_size=(120, 34), run_before=ready(app, when=lambda: pane_drawn(app))
    )


def test_the_readme_shows_the_current_dashboard() -> None:
    """docs/dashboard.svg is the corral-dark dashboard snapshot: when the dashboard changes and
    its snapshot is updated, copy it there too."""
    root = Path(__file__).resolve().parents[2]
    snapshot = Path(__file__).parent / "__snapshots__" / "test_snapshots"
    shown = (root / "docs" / "dashboard.svg").read_bytes()
    assert shown == (snapshot / "test_dashboard_theme[corral-dark].svg").read_bytes()
    assert "docs/dashboard.svg" in (root / "README.md").read_text()
