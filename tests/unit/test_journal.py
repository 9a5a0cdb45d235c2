"""The journal keeps every event whole and folds them into the same facts on every read."""

from __future__ import annotations

import json
from pathlib import Path

from sessions.journal import Fold, Journal


def test_append_and_read_round_trip(tmp_path: Path) -> None:
    journal = Journal(tmp_path / "j.jsonl")
    journal.append("start", "a", worktree="/w", branch="corral/a")
    journal.append("run_start", "a", run=1, pid=42, session_id="s1")
    events = Journal(tmp_path / "j.jsonl").read_all()
    assert [e["event"] for e in events] == ["start", "run_start"]
    assert events[1]["pid"] == 42


def test_read_new_is_incremental_and_waits_for_a_whole_line(tmp_path: Path) -> None:
    path = tmp_path / "j.jsonl"
    journal = Journal(path)
    journal.append("start", "a")
    assert len(journal.read_new()) == 1
    assert journal.read_new() == []
    with path.open("a") as handle:
        handle.write('{"t": 1, "event": "pause", "ag')
    assert journal.read_new() == []
    with path.open("a") as handle:
        handle.write('ent": "a"}\n')
    assert [e["event"] for e in journal.read_new()] == ["pause"]


def test_garbage_lines_are_skipped_and_counted(tmp_path: Path) -> None:
    path = tmp_path / "j.jsonl"
    path.write_text('not json\n[1, 2]\n{"no_event": 1}\n' + json.dumps({"event": "x"}) + "\n")
    journal = Journal(path)
    assert [e["event"] for e in journal.read_all()] == ["x"]
    assert journal.skipped == 3


def test_missing_file_reads_as_empty(tmp_path: Path) -> None:
    assert Journal(tmp_path / "none.jsonl").read_new() == []


def test_fold_tracks_runs_pause_shelve_and_crash_loop() -> None:
    events = [
        {"t": 1, "event": "start", "agent": "a", "worktree": "/w", "branch": "corral/a"},
        {"t": 2, "event": "pane", "agent": "a", "pane": "%3"},
        {"t": 3, "event": "run_start", "agent": "a", "pid": 10, "session_id": "s1"},
        {"t": 4, "event": "pause", "agent": "a"},
        {"t": 5, "event": "resume", "agent": "a"},
        {"t": 6, "event": "run_end", "agent": "a", "exit_code": 1, "short_streak": 5},
        {"t": 7, "event": "crash_loop", "agent": "a", "runs": 5},
    ]
    record = Fold().apply_all(events).agents["a"]
    assert record.pane == "%3"
    assert record.runs == 1
    assert record.exit_code == 1
    assert record.session_id == "s1"
    assert record.crash_looping and record.stopped
    assert not record.paused
    restarted = Fold().apply_all([*events, {"t": 8, "event": "start", "agent": "a"}])
    assert not restarted.agents["a"].crash_looping


def test_fold_keeps_pause_until_resume_or_run_end() -> None:
    fold = Fold().apply_all(
        [
            {"t": 1, "event": "run_start", "agent": "a", "pid": 10},
            {"t": 2, "event": "pause", "agent": "a"},
        ]
    )
    assert fold.agents["a"].paused and fold.agents["a"].paused_since == 2
    fold.apply({"t": 3, "event": "shelve", "agent": "a", "ref": "refs/corral/shelf/a"})
    assert fold.agents["a"].shelved and not fold.agents["a"].paused
    assert fold.agents["a"].shelf_ref == "refs/corral/shelf/a"


def test_events_without_agent_are_ignored_by_the_fold() -> None:
    fold = Fold().apply_all([{"t": 1, "event": "note"}])
    assert fold.agents == {}


def test_fold_keeps_what_each_ended_run_changed_numbered_across_runners() -> None:
    """Each runner numbers its runs from 1; the fold numbers them across the journal, which is
    the numbering the usage book files tokens under."""
    events = [
        {"t": 1, "event": "run_start", "agent": "a", "run": 1},
        {"t": 2, "event": "run_end", "agent": "a", "run": 1},
        {"t": 2.5, "event": "run_changes", "agent": "a", "files_written": 3, "commits": 1},
        {"t": 3, "event": "start", "agent": "a"},
        {"t": 4, "event": "run_start", "agent": "a", "run": 1},
        {"t": 5, "event": "run_end", "agent": "a", "run": 1},
        {"t": 5.5, "event": "run_changes", "agent": "a", "files_written": 0, "commits": 0},
        {"t": 6, "event": "run_start", "agent": "a", "run": 2},
        {"t": 7, "event": "run_end", "agent": "a", "run": 2},
        {"t": 7.5, "event": "run_changes", "agent": "a", "files_written": "x"},
        {"t": 8, "event": "run_start", "agent": "a", "run": 3},
        # A late report while the next run already started changes nothing.
        {"t": 8.5, "event": "run_changes", "agent": "a", "files_written": 9, "commits": 9},
    ]
    ended = Fold().apply_all(events).agents["a"].ended_runs
    assert [(r.number, r.started, r.ended) for r in ended] == [(1, 1, 2), (2, 4, 5), (3, 6, 7)]
    assert [r.changed for r in ended] == [True, False, None]
