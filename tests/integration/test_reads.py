"""Each file is read once per look, and an action finds its agent without looking at the herd:
counted on a herd of simulated agents on real tmux, through a logging `tmux` on PATH and an
audit hook on every file this process opens."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from sessions.supervisor import Supervisor
from tests.helpers import wait_for
from tests.support.counting import TmuxLog, opened_files

pytestmark = pytest.mark.tmux

THREE = "\n".join(
    f'[[agent]]\nname = "sim-{n}"\nkind = "sim"\nargs = ["--speed", "0.05"]\n' for n in range(1, 4)
)


@pytest.fixture
def tmux_log(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> TmuxLog:
    log = TmuxLog(tmp_path / "tmux-log")
    monkeypatch.setenv("PATH", f"{log.bin}{os.pathsep}{os.environ['PATH']}")
    return log


@pytest.fixture
def herd(make_repo: Callable[..., Path], tmux_log: TmuxLog) -> Iterator[Supervisor]:
    """Three simulated agents running, and the supervisor that started them."""
    root = make_repo(THREE)
    looker = Supervisor.open(root)
    looker.up()
    wait_for(
        lambda: [view.name for view in looker.look() if view.pid] == ["sim-1", "sim-2", "sim-3"],
        timeout=30,
        what="three agents running",
    )
    yield looker


def test_a_pause_reads_no_screen_and_no_hook_events(herd: Supervisor, tmux_log: TmuxLog) -> None:
    actor = Supervisor.open(herd.repo.root)
    events = str(herd.repo.state_dir / "events")
    with tmux_log.calls() as calls, opened_files() as files:
        [paused] = actor.pause(["sim-2"])
    assert paused.action == "pause" and "paused" in paused.message
    assert len(calls) == 1 and " list-panes " in calls[0]
    assert not [path for path in files if path.startswith(events)]
    assert wait_for(lambda: herd.view("sim-2").state.value == "paused", what="sim-2 paused")

    with tmux_log.calls() as calls, opened_files() as files:
        [again] = actor.pause(["sim-2"])
        [resumed] = actor.resume(["sim-2"])
    assert again.message == "sim-2 is already paused"
    assert resumed.action == "resume"
    assert not [call for call in calls if "capture-pane" in call]
    assert not [path for path in files if path.startswith(events)]
    assert actor.live_names() == ["sim-1", "sim-2", "sim-3"]


def test_a_look_opens_each_journal_file_at_most_once(herd: Supervisor) -> None:
    """The supervisor's fold, the open conflicts and the notes' history are fed from one
    reader: once each of them caught up (a tracker made during a look catches up at the next
    one), a look of the herd with its coordination and notes opens the journal once, or not at
    all when it did not grow."""
    journal = str(herd.repo.journal_path.parent / "journal")

    def look() -> None:
        herd.notes(herd.snapshot().agents)

    look()
    look()
    for _ in range(3):
        herd.journal.append("send", "sim-1", chars=1, replaced=0)  # something new to read
        with opened_files() as files:
            look()
        reads = [path for path in files if path.startswith(journal)]
        assert len(reads) == len(set(reads)) == 1, reads
    with opened_files() as files:
        look()
    assert not [path for path in files if path.startswith(journal)]
