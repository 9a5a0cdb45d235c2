"""`corral demo` end to end: the real command in subprocesses, a real tmux server, real git.

The demo is the first thing a newcomer sees, so this checks through the same commands a user
or a script would run (`corral ls`, `conflicts`, `locks` and `notes`, all with --json) that
every part of its story happens: two builders in a merge-level conflict, a reviewer who stays an
observer, an agent that needs input, a lock left stale by an agent that crashed, and PROGRESS.md
and notes/ changes attributed to the agents that made them. `--speed 0.3` plays the same scripts
about three times faster than the default, so the test takes well under a minute.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

from sessions.adapters.repo import Repo
from tests.support.demo_story import wait_for_story

pytestmark = pytest.mark.tmux

STORY_SECONDS = 120.0
CORRAL = (sys.executable, "-m", "tui.cli")


def corral(*args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    result = subprocess.run(
        [*CORRAL, *args],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    if check:
        assert result.returncode == 0, result.stderr
    return result


@pytest.mark.timeout(180)
def test_the_demo_tells_its_whole_story_then_clean_removes_it(tmp_path: Path) -> None:
    folder = tmp_path / "demo"
    started = time.monotonic()
    out = corral("demo", "--no-tui", "--dir", str(folder), "--speed", "0.3").stdout
    root = folder.resolve()
    socket = Repo.discover(root).socket_name
    assert f"demo sandbox created: {root}" in out
    for name in ("builder-1", "builder-2", "reviewer", "asker", "crasher"):
        assert f"{name} started in" in out
    assert f"corral demo --clean --dir {folder}" in out

    story, rounds = wait_for_story(CORRAL, root, STORY_SECONDS)
    took = time.monotonic() - started
    assert took < STORY_SECONDS
    print(f"the story was told {took:.1f} s after `corral demo` started, in {rounds} looks")

    agents = {agent["name"]: agent for agent in story["ls"]["agents"]}
    assert agents["builder-1"]["role"] == agents["builder-2"]["role"] == "builder"
    assert "src/calc.py" in agents["builder-1"]["files"]
    assert "src/calc.py" in agents["builder-2"]["files"]
    assert agents["reviewer"]["edits"] == 0 and agents["reviewer"]["reads"] >= 2
    assert agents["reviewer"]["conflicts"] == 0
    assert agents["crasher"]["exit_code"] == 1
    (merge,) = [c for c in story["conflicts"]["conflicts"] if c["level"] == "merge"]
    assert merge["path"] == "src/calc.py"
    (stale,) = [lock for lock in story["locks"]["locks"] if lock["stale"]]
    assert stale["path"] == "current_tasks/a-command-line.txt"
    assert "crasher" in stale["reason"]
    diffs = {(c["agent"], c["path"]): c.get("diff", "") for c in story["notes"]["changes"]}
    assert "+- [x] add multiplication and division" in diffs["builder-1", "PROGRESS.md"]
    assert "+- [x] add a power operator" in diffs["builder-2", "PROGRESS.md"]
    # The herd's work stays where the agents left it: a second run reuses the sandbox.
    again = corral("demo", "--no-tui", "--dir", str(folder)).stdout
    assert "reused as the herd left it" in again and "already runs" in again

    cleaned = corral("demo", "--clean", "--dir", str(folder)).stdout
    assert f"stopped the tmux server {socket} and the 5 agents in it" in cleaned
    assert f"removed the sandbox {root}" in cleaned
    worktrees = root.parent / "demo.corral"
    assert f"removed the worktrees folder {worktrees}" in cleaned
    assert not root.exists() and not worktrees.exists()
    tmux = shutil.which("tmux")
    assert tmux is not None
    alive = subprocess.run([tmux, "-L", socket, "list-sessions"], capture_output=True, check=False)
    assert alive.returncode != 0
