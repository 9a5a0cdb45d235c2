"""`corral watch` on a real herd: the real command line, a real tmux server and agents."""

from __future__ import annotations

import json
import os
import select
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from sessions.core.model import State
from sessions.supervisor import Supervisor
from tests.helpers import corral, wait_for

pytestmark = pytest.mark.tmux

TWO = "".join(
    f'[[agent]]\nname = "{name}"\nkind = "shell"\ncommand = "sleep 300"\n\n'
    for name in ("calm", "busy")
)


class Watch:
    """`corral watch` running in a process of its own, read a line at a time with deadlines."""

    def __init__(self, root: Path, *args: str) -> None:
        self.process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "tui.cli",
                "--repo",
                str(root),
                "watch",
                "--every",
                "0.2",
                *args,
            ],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
        self.pending = b""

    def line(self, timeout: float) -> str | None:
        """The next line written within `timeout` seconds, or None.

        Read from the descriptor into a buffer of our own: a buffered reader would take two
        lines that came together, return one, and leave the other where `select` cannot see.
        """
        assert self.process.stdout is not None
        end = time.monotonic() + timeout
        while b"\n" not in self.pending:
            left = end - time.monotonic()
            if left <= 0 or not select.select([self.process.stdout], [], [], left)[0]:
                return None
            chunk = os.read(self.process.stdout.fileno(), 65536)
            if not chunk:
                return None
            self.pending += chunk
        line, _, self.pending = self.pending.partition(b"\n")
        return line.decode() + "\n"

    def until(self, wanted: Callable[[str], bool], timeout: float = 20.0) -> str:
        end = time.monotonic() + timeout
        while (left := end - time.monotonic()) > 0:
            line = self.line(left)
            if line and wanted(line):
                return line
        pytest.fail(f"corral watch wrote no such line within {timeout} s")

    def stop(self) -> int:
        self.process.send_signal(signal.SIGINT)
        return self.process.wait(timeout=20)


@pytest.fixture
def herd(make_repo: Callable[..., Path]) -> Iterator[Path]:
    root = make_repo(TWO)
    supervisor = Supervisor.open(root)
    supervisor.up()
    wait_for(lambda: all(view.pid for view in supervisor.look()), timeout=30, what="pids")
    # Past their first seconds, which read "starting": from here on, a line means a change.
    settled = (State.WORKING, State.IDLE)
    wait_for(
        lambda: all(view.state in settled for view in supervisor.look()),
        timeout=30,
        what="both agents past starting",
    )
    yield root


def states(line: str) -> dict[str, Any]:
    return {agent["name"]: agent["state"] for agent in json.loads(line)["agents"]}


def test_watch_json_writes_the_herd_then_each_change_and_nothing_between(herd: Path) -> None:
    watch = Watch(herd, "--json")
    try:
        first = watch.until(lambda line: line.startswith("{"))
        payload = json.loads(first)
        assert payload.keys() == json.loads(corral(herd, "ls", "--json").stdout).keys()
        assert sorted(states(first)) == ["busy", "calm"]
        assert watch.line(timeout=1.5) is None  # two sleeping agents: no change, no line
        assert corral(herd, "pause", "busy").returncode == 0
        paused = watch.until(lambda line: states(line).get("busy") == "paused")
        assert states(paused)["calm"] == states(first)["calm"]
        assert corral(herd, "resume", "busy").returncode == 0
        watch.until(lambda line: states(line).get("busy") != "paused")
    finally:
        assert watch.stop() == 0
    assert watch.process.stderr is not None and watch.process.stderr.read() == b""


def test_watch_tells_a_person_which_agent_moved(herd: Path) -> None:
    watch = Watch(herd)
    try:
        first = watch.until(lambda line: " calm " in line or " busy " in line)
        second = watch.until(lambda line: " calm " in line or " busy " in line)
        assert {first.split()[1], second.split()[1]} == {"calm", "busy"}  # the first look
        assert corral(herd, "pause", "busy").returncode == 0
        moved = watch.until(lambda line: "busy" in line and "→ paused" in line)
        assert "paused by corral" in moved
    finally:
        assert watch.stop() == 0


def test_watch_refuses_a_folder_that_is_not_a_repository(tmp_path: Path) -> None:
    outside = {"GIT_CEILING_DIRECTORIES": str(tmp_path.parent)}
    result = corral(tmp_path, "watch", "--json", env=os.environ | outside)
    assert result.returncode == 1
    assert result.stdout == ""
    assert result.stderr.startswith("corral: ") and "Traceback" not in result.stderr
