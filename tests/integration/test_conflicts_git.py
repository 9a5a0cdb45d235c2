"""Conflicts between builders on real repositories with real worktrees.

What is under test: changed lines are told apart from changes elsewhere in the same file,
whether the work is committed or not; a merge conflict is called one only when git would stop
on it; a conflict ends when it stops holding; and looking never changes an agent's index or
files.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

import pytest

from sessions.adapters.journal import Journal
from sessions.adapters.repo import Repo
from sessions.adapters.repo import git as run_git
from sessions.core.conflict_values import ALL_LINES, Builder, LineRange, Touch
from sessions.core.errors import AgentError
from sessions.core.fingerprint import Call
from sessions.core.model import AgentView, State
from sessions.core.rules import CoordinationRules
from sessions.services import conflicts
from sessions.services.conflicts import (
    ConflictFinder,
    ConflictTracker,
    git_touches,
    line_ranges,
    merge_conflicts,
)
from sessions.services.coordination import Coordinator, list_every
from sessions.services.worktrees import Worktrees
from tests.helpers import counted_git, git

BASE_LINES = [f"line {number}\n" for number in range(1, 31)]
FILE = "src/app.py"


pytestmark = pytest.mark.usefixtures("own_git_settings")


@pytest.fixture
def root(tmp_path: Path) -> Path:
    """A repository whose `main` has a 30-line file, and worktrees for agents a, b and c."""
    top = tmp_path / "project"
    (top / "src").mkdir(parents=True)
    git(top, "init", "-q", "-b", "main")
    (top / FILE).write_text("".join(BASE_LINES))
    (top / "README.md").write_text("# project\n")
    (top / ".gitignore").write_text("*.log\n")
    git(top, "add", "-A")
    git(top, "commit", "-q", "-m", "initial")
    for name in ("a", "b", "c"):
        git(top, "worktree", "add", "-q", "-b", f"corral/{name}", str(worktree(top, name)), "main")
    return top


def worktree(root: Path, name: str) -> Path:
    return root.parent / "project.corral" / name


def change(root: Path, name: str, lines: dict[int, str], path: str = FILE) -> Path:
    """Replace whole lines (1-based) of the agent's copy of `path`."""
    target = worktree(root, name) / path
    text = target.read_text().splitlines(keepends=True)
    for number, new in lines.items():
        text[number - 1] = new + "\n"
    target.write_text("".join(text))
    return target


def commit(root: Path, name: str, message: str = "work") -> None:
    git(worktree(root, name), "commit", "-q", "-am", message)


def builder(root: Path, name: str, key: str | None = None) -> Builder:
    folder = worktree(root, name)
    return Builder(name, folder, f"corral/{name}", git_touches(root, "main", folder), key=key)


def find(
    root: Path, *names: str, finder: ConflictFinder | None = None, key: str | None = None
) -> set[tuple[str, str]]:
    finder = finder or ConflictFinder(root, "main")
    found = finder.find([builder(root, name, key) for name in names], now=0.0)
    return {(conflict.level, conflict.path) for conflict in found}


Commit = Callable[[Path, str], None]


def stay_uncommitted(root: Path, name: str) -> None:
    """Leave the change in the working tree, as an agent in the middle of its work does."""


@pytest.mark.parametrize("save", [commit, stay_uncommitted], ids=["committed", "uncommitted"])
def test_overlapping_lines_are_told_from_disjoint_ones(root: Path, save: Commit) -> None:
    change(root, "a", {3: "a three", 4: "a four"})
    change(root, "b", {4: "b four"})
    change(root, "c", {20: "c twenty"})
    for name in ("a", "b", "c"):
        save(root, name)

    assert line_ranges(root, "main", worktree(root, "a"), FILE) == (LineRange(3, 5),)
    assert line_ranges(root, "main", worktree(root, "c"), FILE) == (LineRange(20, 21),)
    assert find(root, "a", "b") == {("file", FILE), ("lines", FILE), ("merge", FILE)}
    assert find(root, "a", "c") == {("file", FILE)}, "disjoint lines are only the same file"


def test_adjacent_lines_are_a_lines_conflict(root: Path) -> None:
    change(root, "a", {3: "a three"})
    change(root, "b", {4: "b four"})
    finder = ConflictFinder(root, "main")
    found = finder.find([builder(root, "a"), builder(root, "b")], now=0.0)
    (lines,) = [conflict for conflict in found if conflict.level == "lines"]
    assert lines.detail == "a changes line 3, b changes line 4 (adjacent)"


def test_a_file_both_create_is_all_lines_and_a_merge_conflict(root: Path) -> None:
    for name in ("a", "b"):
        (worktree(root, name) / "src" / "new.py").write_text(f"made by {name}\n")
    assert line_ranges(root, "main", worktree(root, "a"), "src/new.py") == (ALL_LINES,)
    assert find(root, "a", "b") == {
        ("file", "src/new.py"),
        ("lines", "src/new.py"),
        ("merge", "src/new.py"),
    }


def test_a_true_merge_conflict_is_confirmed(root: Path) -> None:
    change(root, "a", {10: "a ten"})
    commit(root, "a")
    change(root, "b", {10: "b ten"})
    paths = merge_conflicts(root, worktree(root, "a"), worktree(root, "b"))
    assert list(paths) == [FILE]
    assert "CONFLICT (content)" in paths[FILE]


def test_a_clean_same_file_merge_is_not_a_merge_conflict(root: Path) -> None:
    change(root, "a", {2: "a two"})
    commit(root, "a")
    change(root, "b", {25: "b twenty-five"})
    assert merge_conflicts(root, worktree(root, "a"), worktree(root, "b")) == {}
    assert find(root, "a", "b") == {("file", FILE)}


def test_looking_leaves_the_agents_index_and_files_alone(root: Path) -> None:
    change(root, "a", {5: "a five"})
    git(worktree(root, "a"), "add", FILE)
    change(root, "a", {6: "a six"})
    (worktree(root, "a") / "untracked.txt").write_text("new\n")
    (worktree(root, "a") / "debug.log").write_text("ignored\n")
    change(root, "b", {5: "b five"})
    (worktree(root, "b") / "README.md").unlink()
    before = {name: _state(root, name) for name in ("a", "b")}

    assert ("merge", FILE) in find(root, "a", "b")
    merge_conflicts(root, worktree(root, "a"), worktree(root, "b"))
    line_ranges(root, "main", worktree(root, "b"), "README.md")

    assert {name: _state(root, name) for name in ("a", "b")} == before
    scratch = list((root / ".git" / "worktrees").rglob("corral-snapshot-*"))
    assert scratch == [], "temporary indexes are removed"


def _state(root: Path, name: str) -> tuple[bytes, int, str, str]:
    """The index first, then a status that may not refresh it (it would, without the setting)."""
    folder = worktree(root, name)
    index = Path(git(folder, "rev-parse", "--path-format=absolute", "--git-path", "index").strip())
    saved = index.read_bytes(), index.stat().st_mtime_ns
    look = ("status", "--porcelain", "--untracked-files=all", "--ignored")
    status = run_git(folder, *look, env={"GIT_OPTIONAL_LOCKS": "0"}).stdout
    return *saved, status, git(folder, "rev-parse", "HEAD")


def test_current_commit_is_the_files_as_they_are_and_stable(root: Path) -> None:
    worktrees = Worktrees(Repo.discover(root))
    folder = worktree(root, "a")
    assert worktrees.current_commit(folder) == git(folder, "rev-parse", "HEAD").strip()
    change(root, "a", {1: "a one"})
    (folder / "new.txt").write_text("new\n")
    (folder / "debug.log").write_text("ignored\n")
    first = worktrees.current_commit(folder)
    assert first == worktrees.current_commit(folder), "same files, same commit"
    assert git(folder, "rev-parse", f"{first}^").strip() == git(folder, "rev-parse", "HEAD").strip()
    files = git(folder, "ls-tree", "-r", "--name-only", first).split()
    assert "new.txt" in files and "debug.log" not in files
    assert git(folder, "show", f"{first}:{FILE}").startswith("a one\n")


def test_current_commit_takes_four_git_processes_and_is_the_same_detached(
    root: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Every look at a builder that changed a file builds this commit: where the worktree
    keeps its files, HEAD and its tree come from one git process, then the files' tree and
    the commit. A detached HEAD gives the commit it always gave."""
    worktrees = Worktrees(Repo.discover(root))
    folder = worktree(root, "a")
    change(root, "a", {1: "a one"})
    path, log = counted_git(tmp_path)
    monkeypatch.setenv("PATH", path)
    first = worktrees.current_commit(folder)
    assert len(log.read_text().splitlines()) == 4
    git(folder, "checkout", "-q", "--detach")
    detached = worktrees.current_commit(folder)
    assert git(folder, "log", "-1", "--format=%s", detached) == (
        "corral: the files of (no branch) as they are\n"
    )
    assert git(folder, "rev-parse", f"{first}^{{tree}}") == git(
        folder, "rev-parse", f"{detached}^{{tree}}"
    )


def test_a_conflict_ends_when_one_side_reverts(root: Path, tmp_path: Path) -> None:
    journal = Journal(tmp_path / "journal.jsonl")
    tracker = ConflictTracker(journal)
    finder = ConflictFinder(root, "main")
    change(root, "a", {7: "a seven"})
    commit(root, "a")
    change(root, "b", {7: "b seven"})

    starts, ends = tracker.update(finder.find([builder(root, "a"), builder(root, "b")], 0.0), 1.0)
    assert {c.level for c in starts} == {"file", "lines", "merge"} and ends == ()
    starts, ends = tracker.update(finder.find([builder(root, "a"), builder(root, "b")], 0.0), 2.0)
    assert (starts, ends) == ((), ())

    git(worktree(root, "b"), "checkout", "--", FILE)
    starts, ends = tracker.update(finder.find([builder(root, "a"), builder(root, "b")], 0.0), 3.0)
    assert starts == ()
    assert {(c.level, c.path, c.agents) for c in ends} == {
        (level, FILE, ("a", "b")) for level in ("file", "lines", "merge")
    }
    assert [e["event"] for e in journal.read_all()] == ["conflict_start"] * 3 + ["conflict_end"] * 3
    assert ConflictTracker.from_journal(journal).open == ()


def test_a_conflict_ends_when_one_side_is_merged_into_base(root: Path) -> None:
    finder = ConflictFinder(root, "main")
    change(root, "a", {12: "the same twelve"})
    commit(root, "a")
    change(root, "b", {12: "the same twelve"})
    # The same change on both sides: the lines meet, but git merges it cleanly.
    assert find(root, "a", "b", finder=finder) == {("file", FILE), ("lines", FILE)}

    git(root, "merge", "-q", "--ff-only", "corral/a")
    assert git_touches(root, "main", worktree(root, "a")) == ()
    assert find(root, "a", "b", finder=finder) == set()


def test_git_runs_again_only_when_a_key_changes(root: Path) -> None:
    finder = ConflictFinder(root, "main")
    change(root, "a", {15: "a fifteen"})
    change(root, "b", {1: "b one"})
    assert find(root, "a", "b", finder=finder, key="1") == {("file", FILE)}
    change(root, "b", {15: "b fifteen"})
    assert find(root, "a", "b", finder=finder, key="1") == {("file", FILE)}, "kept answer"
    everything = {("file", FILE), ("lines", FILE), ("merge", FILE)}
    assert find(root, "a", "b", finder=finder, key="2") == everything
    assert find(root, "a", "b", finder=finder) == everything, "a key made from the touches"


def test_a_new_process_starts_from_what_git_said_to_the_last(root: Path, tmp_path: Path) -> None:
    """A script polling `corral ls` starts a new finder each time: with the same saved file it
    keeps git's answers for builders whose keys stand, and asks again for one that moved."""
    saved = tmp_path / "cache" / "conflict_git.json"
    saved.parent.mkdir()
    change(root, "a", {15: "a fifteen"})
    change(root, "b", {1: "b one"})
    assert find(root, "a", "b", finder=ConflictFinder(root, "main", saved=saved), key="1") == {
        ("file", FILE)
    }
    change(root, "b", {15: "b fifteen"})
    again = ConflictFinder(root, "main", saved=saved)
    assert find(root, "a", "b", finder=again, key="1") == {("file", FILE)}, "kept answer"
    everything = {("file", FILE), ("lines", FILE), ("merge", FILE)}
    fresh = ConflictFinder(root, "main", saved=saved)
    assert find(root, "a", "b", finder=fresh, key="2") == everything
    assert find(root, "a", "b", finder=ConflictFinder(root, "main"), key="2") == everything

    saved.write_text('{"format": 1, "base": "main", "sides": [["a"]]}')
    damaged = ConflictFinder(root, "main", saved=saved)
    assert find(root, "a", "b", finder=damaged, key="1") == everything, "asked git again"


def test_a_new_process_keeps_a_side_s_merge_base_while_its_head_stands(
    root: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The saved findings hold each side's HEAD and the merge bases by HEAD and base tip: a
    builder that only wrote since the last process is compared from the merge base that
    process found, and git is not asked for it again."""
    saved = tmp_path / "cache" / "conflict_git.json"
    saved.parent.mkdir()
    change(root, "a", {3: "a three"})
    change(root, "b", {3: "b three"})
    tip = git(root, "rev-parse", "main").strip()
    builders = [builder(root, "a", "1"), builder(root, "b", "1")]
    assert ConflictFinder(root, "main", saved=saved).find(builders, 0.0, tip)

    change(root, "a", {3: "a three again"})
    builders = [builder(root, "a", "2"), builder(root, "b", "1")]
    path, log = counted_git(tmp_path)
    monkeypatch.setenv("PATH", path)
    found = ConflictFinder(root, "main", saved=saved).find(builders, 0.0, tip)
    assert {(c.level, c.path) for c in found} == {("file", FILE), ("lines", FILE), ("merge", FILE)}
    assert "merge-base" not in log.read_text().split()


def test_a_deleted_file_meets_any_change_to_it(root: Path) -> None:
    (worktree(root, "a") / "README.md").unlink()
    (worktree(root, "b") / "README.md").write_text("# project\nmore\n")
    assert line_ranges(root, "main", worktree(root, "a"), "README.md") == (LineRange(1, 2),)
    assert find(root, "a", "b") == {
        ("file", "README.md"),
        ("lines", "README.md"),
        ("merge", "README.md"),
    }


def test_a_folder_both_touched_is_only_the_same_file_level(root: Path) -> None:
    change(root, "a", {2: "a two"})
    change(root, "b", {28: "b twenty-eight"})
    (worktree(root, "b") / "src" / "extra.py").write_text("one\n")
    herd = [
        Builder(name, worktree(root, name), f"corral/{name}", (Touch("src", 1.0, "write"),))
        for name in ("a", "b")
    ]
    found = ConflictFinder(root, "main").find(herd, now=2.0)
    assert [(c.level, c.path) for c in found] == [("file", "src")]


def test_a_vanished_worktree_leaves_level_one_and_says_why(root: Path) -> None:
    change(root, "a", {9: "a nine"})
    change(root, "b", {9: "b nine"})
    herd = [builder(root, "a"), builder(root, "b")]
    shutil.rmtree(worktree(root, "b"))
    finder = ConflictFinder(root, "main")
    assert [c.level for c in finder.find(herd, now=0.0)] == ["file"]
    assert list(finder.errors) == ["b"]


def coordinator_of(root: Path) -> Coordinator:
    repo = Repo.discover(root)
    return Coordinator(repo, Journal(repo.journal_path), CoordinationRules())


def working(root: Path, name: str) -> AgentView:
    return AgentView(
        name=name,
        kind="shell",
        state=State.WORKING,
        reason="",
        since=None,
        branch=f"corral/{name}",
        worktree=str(worktree(root, name)),
        pane=None,
        pid=None,
        runner_pid=None,
        runs=1,
        exit_code=None,
        session_id=None,
        paused=False,
        shelved=False,
        in_config=True,
    )


def test_a_builder_that_keeps_writing_is_listed_again_at_most_every_few_seconds(
    root: Path,
) -> None:
    """Listing a builder's changes runs git; an agent at work writes on almost every look, so
    while it keeps writing on one tip the listing stands for `LIST_EVERY` seconds. A commit
    (its tip moves) is listed at once, and so is the latest write once the time is up."""
    coordinator = coordinator_of(root)
    view = working(root, "a")
    edits: list[Call] = []

    def look(now: float, *paths: str) -> set[str]:
        edits.extend(Call(now - 0.1, "edit", (path,)) for path in paths)
        coordinator.look([view], {"a": (edits, [])}, "main", now)
        return {touch.path for touch in coordinator._changed["a"][1]}

    change(root, "a", {1: "first"})
    assert look(100.0, FILE) == {FILE}
    (worktree(root, "a") / "README.md").write_text("# changed\n")
    assert look(100.5, "README.md") == {FILE}  # still writing: the listing stands
    assert look(102.1, "README.md") == {FILE, "README.md"}  # time is up: listed again
    (worktree(root, "a") / "NOTES.txt").write_text("x\n")
    git(worktree(root, "a"), "add", "NOTES.txt")
    commit(root, "a")
    assert look(102.3, "NOTES.txt") == {FILE, "README.md", "NOTES.txt"}  # the tip moved


def test_in_a_big_herd_a_builder_that_keeps_writing_waits_longer_for_its_listing(
    root: Path,
) -> None:
    """Listings across the herd stay under `LIST_RATE` a second: with sixteen writing
    builders, one that keeps writing on its tip is listed every four seconds, not two. A
    commit is still listed at once."""
    coordinator = coordinator_of(root)
    others = [replace(working(root, "b"), name=f"b{n}") for n in range(15)]
    herd = [working(root, "a"), *others]
    assert list_every(len(herd)) == 4.0
    edits: dict[str, list[Call]] = {view.name: [] for view in herd}

    def look(now: float, *paths: str) -> set[str]:
        for view in herd:
            edits[view.name].extend(Call(now - 0.1, "edit", (path,)) for path in paths)
        coordinator.look(herd, {name: (calls, []) for name, calls in edits.items()}, "main", now)
        return {touch.path for touch in coordinator._changed["a"][1]}

    change(root, "a", {1: "first"})
    assert look(100.0, FILE) == {FILE}
    (worktree(root, "a") / "README.md").write_text("# changed\n")
    assert look(102.1, "README.md") == {FILE}  # a small herd would list it again by now
    assert look(104.1, "README.md") == {FILE, "README.md"}
    (worktree(root, "a") / "NOTES.txt").write_text("x\n")
    git(worktree(root, "a"), "add", "NOTES.txt")
    commit(root, "a")
    assert look(104.3, "NOTES.txt") == {FILE, "README.md", "NOTES.txt"}  # the tip moved


def test_merges_asked_again_per_look_are_few_and_the_oldest_go_first(
    root: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A finder's first look merges every pair; later looks merge again only a few pairs whose
    files moved (one here), oldest first, each one's last answer standing until its turn."""
    monkeypatch.setattr(conflicts, "MERGES_PER_LOOK", 1)
    finder = ConflictFinder(root, "main")

    def merges(key: str) -> list[tuple[str, ...]]:
        found = finder.find([builder(root, name, key) for name in ("a", "b", "c")], now=0.0)
        return sorted(c.agents for c in found if c.level == "merge")

    for name in ("a", "b", "c"):
        change(root, name, {5: f"{name} five"})
    assert merges("1") == [("a", "b"), ("a", "c"), ("b", "c")]  # all new: all merged
    for name, line in (("b", 20), ("c", 25)):
        change(root, name, {5: "line 5", line: f"{name} {line}"})  # now each merges cleanly
    assert len(merges("2")) == 2
    assert len(merges("3")) == 1
    assert merges("4") == []
    assert merges("5") == []


def test_a_builder_that_catches_up_with_the_base_is_judged_from_its_new_merge_base(
    root: Path,
) -> None:
    """Merge bases are kept per HEAD and base tip: once b takes in the base's newer commit,
    that commit's line is no longer b's own change, though the base did not move."""
    finder = ConflictFinder(root, "main")
    (root / FILE).write_text("".join(BASE_LINES).replace("line 5\n", "main five\n"))
    git(root, "commit", "-q", "-am", "main moves on")
    change(root, "a", {5: "a five"})
    change(root, "b", {9: "b nine"})
    assert find(root, "a", "b", finder=finder, key="1") == {("file", FILE)}

    b = worktree(root, "b")
    git(b, "stash", "-q")
    git(b, "merge", "-q", "--ff-only", "main")
    git(b, "stash", "pop", "-q")
    # b's line 9 meets nothing of a's; merging them still stops on line 5, main's and a's.
    assert find(root, "a", "b", finder=finder, key="2") == {("file", FILE), ("merge", FILE)}


def test_current_files_is_head_and_the_commit_named_after_the_branch(root: Path) -> None:
    worktrees = Worktrees(Repo.discover(root))
    folder = worktree(root, "a")
    head = git(folder, "rev-parse", "HEAD").strip()
    assert worktrees.current_files(folder) == (head, head)
    change(root, "a", {2: "a two"})
    files = worktrees.current_files(folder)
    assert files[0] == head and files[1] == worktrees.current_commit(folder) != head
    subject = git(folder, "log", "-1", "--format=%s", files[1]).strip()
    assert subject == "corral: the files of corral/a as they are"

    git(folder, "checkout", "-q", "--detach")
    detached = worktrees.current_commit(folder)
    subject = git(folder, "log", "-1", "--format=%s", detached).strip()
    assert subject == "corral: the files of (no branch) as they are"


def test_current_commit_of_an_unborn_head_says_so(tmp_path: Path) -> None:
    top = tmp_path / "fresh"
    git(tmp_path, "init", "-q", "-b", "main", str(top))
    (top / "a.txt").write_text("a\n")
    with pytest.raises(AgentError, match="its HEAD is unborn"):
        Worktrees(Repo(root=top.resolve(), common_dir=(top / ".git").resolve())).current_commit(top)


def test_a_changed_side_costs_four_git_calls_at_most(
    root: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """One `rev-parse` for the worktree's folders, HEAD, tree and branch; `add` and
    `write-tree` for its files; `commit-tree` when they differ from HEAD. The merge base is
    asked again only when HEAD or the base moved."""
    path, log = counted_git(tmp_path)
    finder = ConflictFinder(root, "main")
    change(root, "a", {3: "a three"})
    change(root, "b", {3: "b three"})
    builders = [builder(root, "a", "1"), builder(root, "b", "1")]
    tip = git(root, "rev-parse", "main").strip()
    assert finder.find(builders, 0.0, tip)
    monkeypatch.setenv("PATH", path)

    change(root, "a", {3: "a three again"})
    builders[0] = replace(builders[0], key="2")
    found = finder.find(builders, 0.0, tip)
    assert {(c.level, c.path) for c in found} == {("file", FILE), ("lines", FILE), ("merge", FILE)}
    calls = log.read_text().split()
    # a's side, then the pair's merge and a's lines: b's side and lines are kept.
    assert sorted(calls) == sorted(
        ["rev-parse", "add", "write-tree", "commit-tree", "merge-tree", "diff"]
    )


def test_a_builder_s_history_is_read_again_when_its_tip_the_base_or_its_branch_moves(
    root: Path,
) -> None:
    """Merge base and commit times are kept per tip and base tip while the agent writes; a
    commit, a base that takes in the agent's work, or another branch checked out reads them
    again."""
    coordinator = coordinator_of(root)
    view = working(root, "a")
    edits: list[Call] = []

    def look(now: float, path: str = FILE) -> set[tuple[str, str]]:
        edits.append(Call(now - 0.1, "edit", (path,)))
        coordinator.look([view], {"a": (edits, [])}, "main", now)
        return {(touch.path, touch.how) for touch in coordinator._changed["a"][1]}

    change(root, "a", {1: "first"})
    assert look(100.0) == {(FILE, "uncommitted")}
    commit(root, "a")
    assert look(103.0) == {(FILE, "commit")}  # the tip moved: committed since the base
    change(root, "a", {2: "second"})
    assert look(106.0) == {(FILE, "uncommitted")}
    git(worktree(root, "a"), "checkout", "--", FILE)
    assert look(109.0) == {(FILE, "commit")}  # the same tip: the kept history stands
    git(root, "merge", "-q", "--ff-only", "corral/a")
    assert look(112.0) == set()  # the base took in a's commit: its new merge base
    git(worktree(root, "a"), "checkout", "-q", "-b", "elsewhere", "HEAD~1")
    assert look(115.0) == set()  # its own HEAD, not corral/a's tip: nothing changed since


def test_a_side_s_lines_in_several_files_come_from_one_diff(
    root: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Each side's lines for every file of the look are cut from one patch, a name with a
    space and a name that begins another's included; the answer is the one a diff per file
    gives."""
    for name, text in (("a", "from a\n"), ("b", "from b\n")):
        change(root, name, {4: f"{name} four"})
        for path, content in (("notes/x y.txt", text), ("src/app.py.orig", "same\n")):
            (worktree(root, name) / path).parent.mkdir(exist_ok=True)
            (worktree(root, name) / path).write_text(content)
    expected = {
        (FILE, "file"), (FILE, "lines"), (FILE, "merge"),
        ("notes/x y.txt", "file"), ("notes/x y.txt", "lines"), ("notes/x y.txt", "merge"),
        ("src/app.py.orig", "file"), ("src/app.py.orig", "lines"),
    }  # fmt: skip
    path, log = counted_git(tmp_path)
    builders = [builder(root, "a", "1"), builder(root, "b", "1")]
    monkeypatch.setenv("PATH", path)
    found = ConflictFinder(root, "main").find(builders, 0.0)
    assert {(c.path, c.level) for c in found} == expected
    assert log.read_text().split().count("diff") == 2
    a_lines = {
        p: line_ranges(root, "main", worktree(root, "a"), p) for p in ("notes/x y.txt", FILE)
    }
    assert a_lines == {"notes/x y.txt": (ALL_LINES,), FILE: (LineRange(4, 5),)}
