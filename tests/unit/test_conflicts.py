"""Conflicts without git: the same file in a window, how changed lines meet, starts and ends."""

from __future__ import annotations

from pathlib import Path

import pytest

from sessions.adapters.journal import Journal
from sessions.core.conflict_values import (
    ALL_LINES,
    Builder,
    Conflict,
    LineRange,
    Touch,
    highest,
    merge_tree_paths,
)
from sessions.services.conflicts import (
    WINDOW,
    ConflictTracker,
    file_level,
    hunk_ranges,
    meeting,
    ranges_meet,
    relative_path,
)

NOW = 1_700_000_000.0


def builder(agent: str, *touches: Touch, role: str = "builder") -> Builder:
    return Builder(agent, Path(f"/w/{agent}"), f"corral/{agent}", touches, role=role)


def edit(path: str, ago: float, how: str = "edit") -> Touch:
    return Touch(path, NOW - ago, how)


# -- level 1 ------------------------------------------------------------------------------------


def test_two_builders_on_one_path_conflict_since_the_second_touch() -> None:
    a = builder("a", edit("src/app.py", 600), edit("src/app.py", 30), edit("README.md", 5))
    b = builder("b", edit("/w/b/src/app.py", 120, "write"), edit("src/other.py", 10))
    (conflict,) = file_level([b, a], WINDOW, NOW)
    assert conflict.level == "file"
    assert conflict.path == "src/app.py"
    assert conflict.agents == ("a", "b")
    assert conflict.since == NOW - 120
    assert conflict.to_json() == {
        "level": "file",
        "path": "src/app.py",
        "agents": ["a", "b"],
        "since": NOW - 120,
        "detail": "a (edit) and b (write) both changed it",
    }


def test_an_observer_never_conflicts() -> None:
    a = builder("a", edit("src/app.py", 10))
    watcher = builder("w", edit("src/app.py", 5), role="observer")
    assert file_level([a, watcher], WINDOW, NOW) == ()


def test_edits_outside_the_window_do_not_conflict() -> None:
    a = builder("a", edit("src/app.py", WINDOW + 1))
    b = builder("b", edit("src/app.py", 1))
    assert file_level([a, b], WINDOW, NOW) == ()
    assert len(file_level([a, b], WINDOW + 2, NOW)) == 1


def test_standing_changes_count_however_old() -> None:
    a = builder("a", edit("src/app.py", 5 * WINDOW, "commit"))
    b = builder("b", edit("src/app.py", 1))
    (conflict,) = file_level([a, b], WINDOW, NOW)
    assert conflict.since == NOW - 1


def test_three_builders_give_every_pair_and_corral_files_are_ignored() -> None:
    touches = (edit("lib.py", 3), edit(".claude/settings.local.json", 2), edit("PROGRESS.md", 1))
    herd = [builder(name, *touches) for name in ("c", "a", "b")]
    found = file_level(herd, WINDOW, NOW, ignore=("PROGRESS.md",))
    assert [(c.path, c.agents) for c in found] == [
        ("lib.py", ("a", "b")),
        ("lib.py", ("a", "c")),
        ("lib.py", ("b", "c")),
    ]


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("src/app.py", "src/app.py"),
        ("./src//app.py", "src/app.py"),
        ("/w/a/src/../src/app.py", "src/app.py"),
        ("/tmp/scratch.txt", None),
        ("../other/app.py", None),
        (".", None),
    ],
)
def test_paths_are_made_relative_to_the_worktree(given: str, expected: str | None) -> None:
    assert relative_path(given, Path("/w/a")) == expected


# -- level 2, pure --------------------------------------------------------------------------------


def test_hunks_are_read_in_base_file_lines() -> None:
    patch = (
        "diff --git a/f b/f\nindex 1..2 100644\n--- a/f\n+++ b/f\n"
        "@@ -3,2 +3,1 @@\n-x\n-y\n+z\n"
        "@@ -7 +6 @@\n-q\n+r\n"
        "@@ -10,0 +9,2 @@\n+n\n+m\n"
    )
    assert hunk_ranges(patch) == (LineRange(3, 5), LineRange(7, 8), LineRange(11, 11))
    assert [str(r) for r in hunk_ranges(patch)] == [
        "lines 3-4",
        "line 7",
        "an insertion before line 11",
    ]


def test_created_and_binary_files_count_as_all_lines() -> None:
    created = (
        "diff --git a/n b/n\nnew file mode 100644\n--- /dev/null\n+++ b/n\n@@ -0,0 +1 @@\n+a\n"
    )
    binary = "diff --git a/i b/i\nindex 1..2 100644\nBinary files a/i and b/i differ\n"
    assert hunk_ranges(created) == (ALL_LINES,)
    assert hunk_ranges(binary) == (ALL_LINES,)
    assert str(ALL_LINES) == "all lines"
    assert hunk_ranges("") == ()


@pytest.mark.parametrize(
    ("a", "b", "expected"),
    [
        ((3, 6), (5, 9), "overlap"),
        ((3, 6), (6, 9), "adjacent"),
        ((6, 9), (3, 6), "adjacent"),
        ((3, 6), (7, 9), None),
        ((4, 4), (3, 6), "overlap"),  # an insertion inside a changed block
        ((3, 3), (3, 6), "adjacent"),  # an insertion right before it
        ((6, 6), (3, 6), "adjacent"),  # right after it
        ((5, 5), (5, 5), "overlap"),  # both insert at the same place
        ((5, 5), (6, 6), None),
        ((1, 2), (ALL_LINES.start, ALL_LINES.end), "overlap"),
    ],
)
def test_how_two_ranges_meet(a: tuple[int, int], b: tuple[int, int], expected: str | None) -> None:
    assert meeting(LineRange(*a), LineRange(*b)) == expected
    assert meeting(LineRange(*b), LineRange(*a)) == expected


def test_an_overlap_is_reported_before_an_adjacency() -> None:
    left = (LineRange(1, 3), LineRange(20, 22))
    right = (LineRange(3, 4), LineRange(21, 23))
    assert ranges_meet(left, right) == ("overlap", LineRange(20, 22), LineRange(21, 23))
    assert ranges_meet(left[:1], right[:1]) == ("adjacent", LineRange(1, 3), LineRange(3, 4))
    assert ranges_meet(left[:1], (LineRange(10, 12),)) is None
    assert ranges_meet((), right) is None


def test_merge_tree_output_names_each_conflicted_path_with_git_words() -> None:
    out = "\0".join(
        [
            "a2603a33a0b48189cbefe9190e90798ea340f834",
            "f",
            "h",
            "",
            "1",
            "f",
            "Auto-merging",
            "Auto-merging f\n",
            "1",
            "f",
            "CONFLICT (contents)",
            "CONFLICT (content): Merge conflict in f\n",
            "1",
            "h",
            "CONFLICT (contents)",
            "CONFLICT (add/add): Merge conflict in h\n",
            "",
        ]
    )
    assert merge_tree_paths(out) == {
        "f": "CONFLICT (content): Merge conflict in f",
        "h": "CONFLICT (add/add): Merge conflict in h",
    }


def test_highest_keeps_the_worst_level_per_pair_and_path() -> None:
    file = Conflict("file", "p", ("a", "b"), 1.0, "")
    lines = Conflict("lines", "p", ("a", "b"), 2.0, "")
    other = Conflict("file", "q", ("a", "b"), 1.0, "")
    assert highest([lines, other, file]) == (lines, other)


# -- the tracker ----------------------------------------------------------------------------------


def test_tracker_tells_starts_and_ends_once_and_journals_them(tmp_path: Path) -> None:
    journal = Journal(tmp_path / "journal.jsonl")
    tracker = ConflictTracker(journal)
    file = Conflict("file", "p", ("a", "b"), 10.0, "both")
    lines = Conflict("lines", "p", ("a", "b"), 12.0, "lines 1-2")

    assert tracker.update([file], now=11.0) == ((file,), ())
    assert tracker.update([file], now=12.0) == ((), ())
    moved = Conflict("file", "p", ("a", "b"), 15.0, "later")
    assert tracker.update([moved, lines], now=13.0) == ((lines,), ())
    assert tracker.open[0].since == 10.0, "an open conflict keeps the since of its start"
    assert tracker.update([lines], now=14.0) == (
        (),
        (Conflict("file", "p", ("a", "b"), 10.0, "later"),),
    )
    assert tracker.update([], now=15.0) == ((), (lines,))

    events = journal.read_all()
    assert [(e["event"], e["level"]) for e in events] == [
        ("conflict_start", "file"),
        ("conflict_start", "lines"),
        ("conflict_end", "file"),
        ("conflict_end", "lines"),
    ]
    assert events[0]["agents"] == ["a", "b"] and events[0]["path"] == "p"
    assert events[2]["ended"] == 14.0 and events[2]["since"] == 10.0
    assert "agent" not in events[0], "a conflict belongs to no single agent's record"


def test_a_rebuilt_tracker_does_not_announce_open_conflicts_again(tmp_path: Path) -> None:
    journal = Journal(tmp_path / "journal.jsonl")
    first = ConflictTracker(journal)
    kept = Conflict("merge", "p", ("a", "b"), 10.0, "CONFLICT")
    gone = Conflict("file", "q", ("a", "c"), 11.0, "")
    ended = Conflict("file", "r", ("b", "c"), 9.0, "")
    first.update([kept, gone, ended], now=12.0)
    first.update([kept, gone], now=13.0)
    journal.append("run_start", "a", pid=1)
    journal.append("conflict_start", level="bogus", path="x", agents=["a", "b"])
    journal.append("conflict_end", path=3)

    second = ConflictTracker.from_journal(journal)
    assert second.open == (kept, gone)
    starts, ends = second.update([kept], now=20.0)
    assert starts == ()
    assert ends == (gone,)
    assert ConflictTracker.from_journal(journal).open == (kept,)
    assert ConflictTracker.from_journal(None, events=journal.read_all()).open == (kept,)
