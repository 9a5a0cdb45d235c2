"""The journal under a real herd and the real command line: a torn last line, rotation, and
what a command pays for a long history.

Every command runs as its own process (or, where what it reads is counted, as a fresh call of
the command line's `main` in this process), with real tmux panes, runners and git worktrees.
"""

from __future__ import annotations

import json
import random
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import psutil
import pytest

from sessions.adapters.journal import Journal, segments
from sessions.adapters.repo import Repo
from tests.helpers import wait_for

pytestmark = pytest.mark.tmux


def shell_agents(*names: str) -> str:
    return "".join(
        f'[[agent]]\nname = "{name}"\nkind = "shell"\ncommand = "sleep 600"\n\n' for name in names
    )


def corral(root: Path, *args: str) -> str:
    result = subprocess.run(
        [sys.executable, "-m", "tui.cli", "--repo", str(root), *args],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    if result.returncode != 0:
        pytest.fail(f"corral {' '.join(args)} failed ({result.returncode}): {result.stderr}")
    return result.stdout


def ls(root: Path) -> dict[str, dict[str, Any]]:
    return {agent["name"]: agent for agent in json.loads(corral(root, "ls", "--json"))["agents"]}


def logged(root: Path, *args: str) -> list[dict[str, Any]]:
    return [json.loads(line) for line in corral(root, "log", "--json", *args).splitlines()]


def running_herd(make_repo: Callable[..., Path], *names: str) -> Path:
    root = make_repo(shell_agents(*names))
    corral(root, "up")
    wait_for(lambda: all(agent["pid"] for agent in ls(root).values()), what="agents running")
    return root


def tear(journal: Path, fragment: bytes) -> None:
    """What a writer killed in the middle of its `write`, or a full disk, leaves."""
    with journal.open("ab") as handle:
        handle.write(fragment)


def test_an_action_after_a_torn_journal_line_is_read_and_folded(
    make_repo: Callable[..., Path],
) -> None:
    root = running_herd(make_repo, "torn-1")
    journal = Repo.discover(root).journal_path
    tear(journal, b'{"t":1700000000.0,"event":"run_end","agent":"torn-1","exit_co')
    assert "torn-1 paused" in corral(root, "pause", "torn-1")
    assert b'"exit_co\n{"t":' in journal.read_bytes()  # the record began on a line of its own
    pauses = [e for e in logged(root, "-n", "0") if e["event"] == "pause"]
    assert [e["agent"] for e in pauses] == ["torn-1"]
    assert ls(root)["torn-1"]["paused"] is True  # folded: the pause is known to every command

    tear(journal, b'{"t":1700000001.0,"event":"send","agent":"torn-1","ch')
    assert "stopped" in corral(root, "kill", "torn-1")
    assert "kill" in [e["event"] for e in logged(root, "torn-1", "-n", "0")]
    stopped = ls(root)["torn-1"]
    assert stopped["paused"] is False and stopped["pid"] is None
    assert (
        "2 unreadable journal lines skipped"
        in subprocess.run(
            [sys.executable, "-m", "tui.cli", "--repo", str(root), "log", "-n", "0"],
            capture_output=True,
            text=True,
            check=True,
        ).stderr
    )


FOLDED = ("name", "runs", "exit_code", "session_id", "paused", "shelved", "branch", "worktree")


def what_log_and_explain_say(root: Path) -> dict[str, Any]:
    explained = {}
    for name in ("rot-1", "rot-2"):
        lines = corral(root, "explain", name).splitlines()
        explained[name] = [line for line in lines if line.startswith(("journal", "setup"))]
    return {
        "log all": logged(root, "-n", "0"),
        "log": corral(root, "log"),
        "log 3 of rot-1": corral(root, "log", "rot-1", "-n", "3"),
        "explain": explained,
        "ls": {name: {k: agent[k] for k in FOLDED} for name, agent in ls(root).items()},
    }


def test_log_and_explain_say_the_same_after_the_journal_is_rotated(
    make_repo: Callable[..., Path],
) -> None:
    root = running_herd(make_repo, "rot-1", "rot-2")
    repo = Repo.discover(root)
    corral(root, "pause", "rot-1")
    corral(root, "resume", "rot-1")
    corral(root, "pause", "rot-2")
    before = what_log_and_explain_say(root)
    assert before["explain"]["rot-2"][0].endswith("paused by corral")

    # Rotated, then read with no checkpoint (every fold from the first rotated byte) ...
    assert Journal(repo.journal_path).rotate(limit=0) is not None
    shutil.rmtree(repo.state_dir / "cache" / "journal", ignore_errors=True)
    assert what_log_and_explain_say(root) == before
    # ... and again with the checkpoint that read left, now pointing into a rotated file.
    assert (repo.state_dir / "cache" / "journal" / "fold.json").exists()
    corral(root, "resume", "rot-2")
    assert Journal(repo.journal_path).rotate(limit=0) is not None
    corral(root, "pause", "rot-1")
    assert segments(repo.journal_path) == [1, 2]
    after = what_log_and_explain_say(root)
    assert [e["event"] for e in after["log all"][-2:]] == ["resume", "pause"]
    assert after["log all"][:-2] == before["log all"]
    assert after["ls"]["rot-1"]["paused"] and not after["ls"]["rot-2"]["paused"]
    assert after["explain"]["rot-1"][0].endswith("paused by corral")


def history(path: Path, megabytes: float, agents: list[str]) -> None:
    """Lines shaped like a long-running herd's: runs, pause/resume pairs, notes with diffs."""
    rng = random.Random(7)
    t = 1_700_000_000.0
    with path.open("w") as handle:
        for name in agents:
            handle.write(json.dumps({"t": t, "event": "start", "agent": name}) + "\n")
        while handle.tell() < megabytes * (1 << 20):
            t += 5
            name = rng.choice(agents)
            for event in (
                {"event": "run_start", "run": 1, "pid": rng.randint(100, 99999)},
                {"event": "pause", "pid": 1, "processes": 2},
                {"event": "resume", "pid": 1, "processes": 2},
                {"event": "note", "where": name, "path": "PROGRESS.md", "kind": "edit",
                 "diff": "+- [ ] a task\n" * rng.randint(5, 80), "added": 3, "removed": 1},
                {"event": "run_end", "run": 1, "exit_code": 0, "reason": "exited"},
            ):  # fmt: skip
                handle.write(json.dumps({"t": t, "agent": name, **event}) + "\n")
    path.chmod(0o600)


def read_by_ls(root: Path) -> int:
    """Bytes this process read during one `corral ls --json`, called as the command line does
    (git's and tmux's reads are their own processes')."""
    from tui.cli import main

    process = psutil.Process()
    before = process.io_counters().read_chars
    assert main(["--repo", str(root), "ls", "--json"]) == 0
    return int(process.io_counters().read_chars - before)


def test_ls_reads_only_what_the_journal_gained_since_the_last_command(
    make_repo: Callable[..., Path], capsys: pytest.CaptureFixture[str]
) -> None:
    names = [f"old-{n}" for n in range(1, 7)]
    root = make_repo(shell_agents(*names))
    repo = Repo.discover(root)
    repo.prepare()
    history(repo.journal_path, 6, names)
    size = repo.journal_path.stat().st_size

    assert read_by_ls(root) >= size  # the first command folds it all, once
    first = json.loads(capsys.readouterr().out)
    Journal(repo.journal_path).append("pause", "old-3", pid=1, processes=1)
    second_read = read_by_ls(root)
    second = json.loads(capsys.readouterr().out)
    assert second_read < size / 20, f"read {second_read} bytes of a {size}-byte journal"
    for kind in ("fold", "conflicts"):
        saved = repo.state_dir / "cache" / "journal" / f"{kind}.json"
        assert saved.stat().st_mode & 0o777 == 0o600
    assert {a["name"]: a["paused"] for a in second["agents"]} == {
        a["name"]: a["name"] == "old-3" for a in first["agents"]
    }
