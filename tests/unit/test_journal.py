"""The journal keeps every event whole and folds them into the same facts on every read."""

from __future__ import annotations

import fcntl
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sessions.adapters import journal as journal_module
from sessions.adapters.journal import Journal, segment_path, segments
from sessions.core.fold import Fold
from sessions.services import briefs
from tests.helpers import git, wait_for


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


# -- torn lines ------------------------------------------------------------------------------


def test_a_record_after_a_torn_last_line_starts_on_its_own_line(tmp_path: Path) -> None:
    """A writer killed mid-append (or a full disk) leaves a line without its end; the next
    record must not be glued onto it."""
    path = tmp_path / "j.jsonl"
    journal = Journal(path)
    journal.append("start", "a")
    with path.open("ab") as handle:
        handle.write(b'{"t":1.5,"event":"run_st')
    journal.append("kill", "a")
    lines = path.read_bytes().split(b"\n")
    assert lines[1] == b'{"t":1.5,"event":"run_st'
    assert json.loads(lines[2])["event"] == "kill"
    reader = Journal(path)
    assert [e["event"] for e in reader.read_new()] == ["start", "kill"]
    assert reader.skipped == 1  # the fragment, and only it
    assert Fold().apply_all(Journal(path).read_all()).agents["a"].last_t > 0


def test_a_reader_waiting_on_a_torn_line_gets_the_record_after_it(tmp_path: Path) -> None:
    path = tmp_path / "j.jsonl"
    reader = Journal(path)
    path.write_bytes(b'{"t":1,"event":"start","agent":"a"}\n{"t":2,"eve')
    assert [e["event"] for e in reader.read_new()] == ["start"]
    Journal(path).append("pause", "a")
    assert [e["event"] for e in reader.read_new()] == ["pause"]
    assert reader.skipped == 1


def test_a_record_an_older_corral_glued_onto_a_torn_line_is_still_read(tmp_path: Path) -> None:
    path = tmp_path / "j.jsonl"
    path.write_bytes(
        b'{"t":1,"event":"start","agent":"a"}\n'
        b'{"t":2,"event":"x","data":{"t":3,"v{"t":4,"event":"kill","agent":"a"}\n'
        b'{"t":5,"event":"resume","agent":"a"}\n'
    )
    reader = Journal(path)
    assert [(e["event"], e["t"]) for e in reader.read_all()] == [
        ("start", 1),
        ("kill", 4),
        ("resume", 5),
    ]
    assert reader.skipped == 1


def test_a_file_that_ends_in_a_newline_gets_no_empty_line(tmp_path: Path) -> None:
    path = tmp_path / "j.jsonl"
    journal = Journal(path)
    for n in range(3):
        journal.append("send", "a", n=n)
    assert b"\n\n" not in path.read_bytes()
    assert path.stat().st_mode & 0o777 == 0o600


WRITER = """
import sys
from pathlib import Path
from sessions.adapters.journal import Journal
journal = Journal(Path(sys.argv[1]))
for n in range(int(sys.argv[3])):
    journal.append("send", sys.argv[2], n=n, pad="x" * (n % 7) * 300)
"""

ROTATOR = """
import sys, time
from pathlib import Path
from sessions.adapters.journal import Journal
journal = Journal(Path(sys.argv[1]))
stop = Path(sys.argv[2])
stop.with_suffix(".ready").touch()
end = time.monotonic() + 60
while not stop.exists() and time.monotonic() < end:
    journal.rotate(limit=int(sys.argv[3]))
"""


ROTATED_WRITER = """
import sys, time
from pathlib import Path
from sessions.adapters.journal import Journal, segments
path = Path(sys.argv[1])
journal = Journal(path)
n, end = 0, time.monotonic() + 60
# On a loaded machine the rotator may get little time: keep writing until it has rotated the
# files under this writer a few times, so every count below was written across rotations.
while n < int(sys.argv[3]) or (len(segments(path)) <= 3 and time.monotonic() < end):
    journal.append("send", sys.argv[2], n=n, pad="x" * (n % 7) * 300)
    n += 1
print(n)
"""


def _start(script: str, *args: object) -> subprocess.Popen[bytes]:
    root = Path(__file__).resolve().parents[2]
    return subprocess.Popen(
        [sys.executable, "-c", script, *map(str, args)], cwd=root, stdout=subprocess.PIPE
    )


def test_concurrent_appenders_after_a_torn_line_lose_no_record(tmp_path: Path) -> None:
    """Every writer may see the torn end and write a newline first: at worst an empty line."""
    path = tmp_path / "j.jsonl"
    path.write_bytes(b'{"t":1,"event":"start","agent":"a"}\n{"t":2,"event":"pau')
    writers = [_start(WRITER, path, f"w{n}", 200) for n in range(4)]
    assert all(writer.wait(timeout=60) == 0 for writer in writers)
    reader = Journal(path)
    events = reader.read_all()
    assert reader.skipped == 1
    for n in range(4):
        assert [e["n"] for e in events if e.get("agent") == f"w{n}"] == list(range(200))


def test_rotation_under_concurrent_appenders_keeps_every_record_once_and_in_order(
    tmp_path: Path,
) -> None:
    path = tmp_path / "j.jsonl"
    stop = tmp_path / "stop"
    follower = Journal(path)  # reads along while the files are rotated under it
    followed: list[dict[str, object]] = []
    rotator = _start(ROTATOR, path, stop, 20_000)
    wait_for(stop.with_suffix(".ready").exists, what="the rotator")
    writers = [_start(ROTATED_WRITER, path, f"w{n}", 400) for n in range(3)]
    while any(writer.poll() is None for writer in writers):
        followed += follower.read_new()
    assert all(writer.wait(timeout=60) == 0 for writer in writers)
    written = [int(writer.communicate()[0]) for writer in writers]
    stop.touch()
    assert rotator.wait(timeout=60) == 0
    followed += follower.read_new()
    assert len(segments(path)) > 3
    events = Journal(path).read_all()
    for n in range(3):
        assert [e["n"] for e in events if e.get("agent") == f"w{n}"] == list(range(written[n]))
    assert followed == events
    assert all(segment_path(path, m).stat().st_mode & 0o777 == 0o600 for m in segments(path))


# -- rotation ---------------------------------------------------------------------------------


def _events(journal: Journal, start: int, count: int) -> None:
    for n in range(start, start + count):
        journal.append("send", "a", n=n)


def test_a_rotated_journal_reads_as_one_history(tmp_path: Path) -> None:
    path = tmp_path / "journal.jsonl"
    journal = Journal(path)
    _events(journal, 0, 5)
    assert journal.rotate(limit=1 << 20) is None  # not full yet
    assert journal.rotate(limit=0) == tmp_path / "journal.1.jsonl"
    assert not path.exists()
    _events(journal, 5, 5)
    assert journal.rotate(limit=0) == tmp_path / "journal.2.jsonl"
    _events(journal, 10, 5)
    assert segments(path) == [1, 2]
    assert [e["n"] for e in Journal(path).read_all()] == list(range(15))
    assert [e["n"] for e in Journal(path).read_new()] == list(range(15))
    assert [e["n"] for e in journal.tail(7)] == list(range(8, 15))
    assert [e["n"] for e in journal.tail(100)] == list(range(15))
    assert [e["n"] for e in journal.tail(3, lambda e: e["n"] % 4 == 0)] == [4, 8, 12]


def test_a_reader_in_a_file_that_is_rotated_finishes_it_then_goes_on(tmp_path: Path) -> None:
    path = tmp_path / "journal.jsonl"
    journal = Journal(path)
    reader = Journal(path)
    _events(journal, 0, 3)
    assert [e["n"] for e in reader.read_new()] == [0, 1, 2]
    _events(journal, 3, 2)
    with path.open("ab") as handle:  # half of a line when the rotation comes
        handle.write(b'{"t":1,"event":"send","agent":"a","n":5}')
    journal.rotate(limit=0)
    _events(journal, 6, 2)
    assert [e["n"] for e in reader.read_new()] == [3, 4, 5, 6, 7]
    journal.rotate(limit=0)
    assert reader.read_new() == []
    _events(journal, 8, 1)
    assert [e["n"] for e in reader.read_new()] == [8]


def test_reading_near_the_end_reaches_into_the_rotated_file(tmp_path: Path) -> None:
    path = tmp_path / "journal.jsonl"
    journal = Journal(path)
    _events(journal, 0, 100)
    journal.rotate(limit=0)
    _events(journal, 100, 2)
    reader = Journal(path)
    reader.start_near_end(2000)
    events = [e["n"] for e in reader.read_new()]
    assert events[-3:] == [99, 100, 101] and 10 < len(events) < 60
    assert [e["n"] for e in briefs.tail_events(path, 5)] == [97, 98, 99, 100, 101]


def test_a_journal_replaced_under_a_reader_is_read_from_its_start(tmp_path: Path) -> None:
    path = tmp_path / "journal.jsonl"
    journal = Journal(path)
    reader = Journal(path)
    _events(journal, 0, 5)
    assert len(reader.read_new()) == 5
    path.unlink()
    _events(journal, 5, 1)
    assert [e["n"] for e in reader.read_new()] == [5]
    path.write_bytes(b"")  # cut short in place
    _events(journal, 6, 1)
    assert [e["n"] for e in reader.read_new()] == [6]


def test_log_shows_the_last_events_across_a_rotation(tmp_path: Path, capsys: Any) -> None:
    from tui.cli import main

    root = tmp_path / "repo"
    root.mkdir()
    git(root, "init", "-q", "-b", "main")
    (root / "f").write_text("x\n")
    git(root, "add", "-A")
    git(root, "commit", "-q", "-m", "one")
    path = root / ".corral" / "journal.jsonl"
    journal = Journal(path)
    _events(journal, 0, 6)
    journal.append("pause", "b")
    journal.rotate(limit=0)
    _events(journal, 6, 2)
    assert main(["--repo", str(root), "log", "--json", "-n", "4"]) == 0
    shown = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [(e["event"], e.get("n")) for e in shown] == [
        ("send", 5),
        ("pause", None),
        ("send", 6),
        ("send", 7),
    ]
    assert main(["--repo", str(root), "log", "b"]) == 0
    assert capsys.readouterr().out.count("pause") == 1
    assert main(["--repo", str(root), "log", "--json", "-n", "0"]) == 0
    assert len(capsys.readouterr().out.splitlines()) == 9


@settings(max_examples=60, deadline=None)
@given(
    sizes=st.lists(st.integers(0, 300), min_size=1, max_size=40),
    rotate_at=st.lists(st.integers(0, 40), max_size=3),
    block=st.integers(1, 700),
    count=st.integers(1, 50),
    torn=st.booleans(),
)
def test_tail_reads_back_what_reading_forward_ends_with(
    sizes: list[int], rotate_at: list[int], block: int, count: int, torn: bool
) -> None:
    with tempfile.TemporaryDirectory() as folder, pytest.MonkeyPatch.context() as patch:
        patch.setattr(journal_module, "BACK_CHUNK", block)
        path = Path(folder) / "journal.jsonl"
        journal = Journal(path)
        for n, size in enumerate(sizes):
            if n in rotate_at:
                journal.rotate(limit=0)
            journal.append("send", "a" if n % 3 else "b", n=n, pad="x" * size)
        if torn:
            with path.open("ab") as handle:
                handle.write(b'{"t":1,"event":"send","n":-1')
        forward = Journal(path).read_all()
        assert [e["n"] for e in forward] == list(range(len(sizes)))
        assert journal.tail(count) == forward[-count:]
        assert (
            journal.tail(count, lambda e: e["agent"] == "b")
            == [e for e in forward if e["agent"] == "b"][-count:]
        )


def test_a_writer_frozen_holding_its_lock_never_hangs_a_rotation(tmp_path: Path) -> None:
    path = tmp_path / "journal.jsonl"
    journal = Journal(path)
    _events(journal, 0, 3)
    with path.open("rb") as held:
        fcntl.flock(held, fcntl.LOCK_SH)  # what an agent paused in the middle of `append` holds
        began = time.monotonic()
        assert journal.rotate(limit=0) is None
        assert time.monotonic() - began < 2
    assert journal.rotate(limit=0) is not None


def test_an_append_is_written_when_a_rotation_holds_the_file_too_long(tmp_path: Path) -> None:
    path = tmp_path / "journal.jsonl"
    journal = Journal(path)
    _events(journal, 0, 1)
    with path.open("rb") as held:
        fcntl.flock(held, fcntl.LOCK_EX)  # a `corral ls` stopped with ^Z while rotating
        _events(journal, 1, 1)
    assert [e["n"] for e in Journal(path).read_all()] == [0, 1]
