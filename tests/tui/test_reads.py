"""The tabs that read from disk: an agent's diff against the base (real git, read-only) and
PROGRESS.md with what changed since the user last looked."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from textual.widgets import DataTable, Markdown

from sessions.adapters.worktree_diff import read_diff
from sessions.core.model import State
from tests.helpers import git
from tests.tui.conftest import corral, until
from tests.tui.fakes import NOW, make_herd, progress_note, view


@pytest.fixture
def worktree(make_repo: Callable[..., Path], tmp_path: Path) -> tuple[Path, Path]:
    """A repository and an agent worktree with a commit, an uncommitted edit and a new file."""
    root = make_repo()
    path = tmp_path / "alpha"
    git(root, "worktree", "add", "-q", "-b", "corral/alpha", str(path))
    (path / "src" / "app.py").write_text("def main() -> int:\n    return 1\n")
    git(path, "commit", "-q", "-am", "return 1")
    (path / "README.md").write_text("# project\n\nmore\n")
    (path / "NEW.txt").write_text("new\n")
    return root, path


def test_the_diff_lists_committed_uncommitted_and_new_files(worktree: tuple[Path, Path]) -> None:
    root, path = worktree
    index = (root / ".git" / "worktrees" / "alpha" / "index").stat().st_mtime_ns
    diff = read_diff("alpha", str(path), "main")
    assert diff.error is None
    files = {change.path: (change.added, change.removed, change.untracked) for change in diff.files}
    assert files == {
        "src/app.py": (1, 1, False),
        "README.md": (2, 0, False),
        "NEW.txt": (None, None, True),
    }
    assert "+    return 1" in diff.patch and "-    return 0" in diff.patch
    assert (root / ".git" / "worktrees" / "alpha" / "index").stat().st_mtime_ns == index


def test_a_missing_worktree_is_said_not_raised(tmp_path: Path) -> None:
    diff = read_diff("ghost", str(tmp_path / "gone"), "main")
    assert diff.error == "ghost has no worktree on disk"


@pytest.mark.asyncio
async def test_d_shows_the_files_then_the_hunks(
    worktree: tuple[Path, Path], tmp_path: Path
) -> None:
    _root, path = worktree
    herd = make_herd(tmp_path / "fake")
    herd.agents[0] = view("alpha", State.WORKING, worktree=str(path))
    app = corral(herd)
    async with app.run_test(size=(120, 40)) as pilot:
        await until(pilot, lambda: app.snapshot is not None)
        await pilot.press("d")
        files: DataTable[object] = app.screen.query_one("#diff-files", DataTable)
        await until(pilot, lambda: files.row_count == 3, what="three changed files")
        paths = [str(files.get_row_at(i)[0]) for i in range(3)]
        assert paths[0] == "README.md" and "NEW.txt  (new, untracked)" in paths
        patch = str(app.screen.query_one("#diff-patch").content)  # type: ignore[attr-defined]
        assert "@@" in patch and "+    return 1" in patch


@pytest.mark.asyncio
async def test_notes_mark_what_changed_since_the_last_look(tmp_path: Path) -> None:
    herd = make_herd(tmp_path / "project")
    (herd.repo.root / "PROGRESS.md").write_text("# Progress\n\n- [x] first task\n")
    herd.notes_items = [progress_note()]
    herd.notes_events = [
        {
            "t": NOW - 60,
            "event": "note",
            "agent": "alpha",
            "where": "base",
            "path": "PROGRESS.md",
            "kind": "edit",
            "diff": "@@ -1 +1 @@\n-- [ ] first task\n+- [x] first task\n",
            "added": 1,
            "removed": 1,
        }
    ]
    app = corral(herd)
    async with app.run_test(size=(120, 40)) as pilot:
        await until(pilot, lambda: app.snapshot is not None)
        await pilot.press("g")
        changes = app.screen.query_one("#notes-changes")
        await until(pilot, lambda: "since you last looked (1)" in shown(changes), what="marks")
        text = shown(changes)
        assert "● alpha edit +1 -1 1m ago" in text
        assert "+- [x] first task" in text
        markdown = app.screen.query_one(Markdown)
        await until(pilot, lambda: "Progress" in markdown.source)
        # Looking again later: the change was seen, so it is no longer marked.
        await pilot.press("c")
        await pilot.press("g")
        await until(pilot, lambda: "nothing changed since you last looked" in shown(changes))


def shown(widget: object) -> str:
    return str(widget.content)  # type: ignore[attr-defined]
