"""The worktree watch the runner keeps, on a real folder with real inotify."""

from __future__ import annotations

import json
import os
import threading
import time
from pathlib import Path
from typing import Any

from sessions.adapters.filewatch import file_clock, watch_worktree
from sessions.adapters.journal import Journal
from tests.helpers import wait_for


def written(path: Path) -> list[str]:
    lines = path.read_text().splitlines() if path.exists() else []
    events: list[dict[str, Any]] = [json.loads(line) for line in lines if line]
    return [p for event in events if event.get("event") == "FileWrite" for p in event["paths"]]


def test_a_file_written_before_the_watch_was_set_up_is_still_reported(tmp_path: Path) -> None:
    """The agent starts while the watch is being set up; a command that writes at once must
    still count, and a file from before the agent started must not."""
    worktree = tmp_path / "worktree"
    (worktree / "src").mkdir(parents=True)
    old = worktree / "old.txt"
    old.write_text("checked out\n")
    long_ago = time.time() - 60
    os.utime(old, (long_ago, long_ago))
    since = file_clock()  # the runner takes it before the agent starts
    (worktree / "src" / "early.txt").write_text("written at once\n")
    events = tmp_path / "events.jsonl"
    stop = threading.Event()
    watcher = threading.Thread(
        target=watch_worktree, args=(worktree, Journal(events), "a", stop, None, since)
    )
    watcher.start()
    try:
        wait_for(lambda: "src/early.txt" in written(events), timeout=20, what="the early write")
    finally:
        stop.set()
        watcher.join(10)
    assert "old.txt" not in written(events)
