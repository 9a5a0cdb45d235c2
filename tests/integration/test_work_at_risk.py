"""Work at risk through the real command line: a `corral up` killed while git checks out a large
base, and `corral rm` of a worktree holding what no ref can (ignored files, a nested repository).

`corral up` runs as a process group of its own and is killed whole, as a closed terminal or a
`kill -9` of the group kills it, so git's checkout dies with it halfway.
"""

from __future__ import annotations

import os
import re
import shlex
import signal
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from sessions.supervisor import Supervisor
from tests.helpers import git, wait_for

pytestmark = pytest.mark.tmux

AGENT = '[[agent]]\nname = "a"\nkind = "shell"\ncommand = "sleep 600"\n'
BIG = 20_000
SMALL = 3  # what make_repo commits on main: README.md, src/app.py, PROGRESS.md


def corral(root: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "tui.cli", "--repo", str(root), *args],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def worktree(root: Path) -> Path:
    return root.parent / f"{root.name}.corral" / "a"


def files_in(folder: Path) -> int:
    """Files on disk, the worktree's `.git` file left out."""
    return sum(len(files) for _, _, files in os.walk(folder)) - 1


@pytest.fixture
def big_base(make_repo: Callable[..., Path]) -> Path:
    """A repository whose base branch `big` holds 20,000 small files, written in one
    fast-import (about a second) and never checked out in the main checkout."""
    root = make_repo('base = "big"\n' + AGENT)
    stream = ["commit refs/heads/big\ncommitter Test <test@example.invalid> 0 +0000\n"]
    stream.append("data 9\n20k files\nfrom refs/heads/main\n")
    for number in range(BIG):
        data = f"file {number}\n"
        name = f"d{number // 500:03d}/f{number:05d}.txt"
        stream.append(f"M 100644 inline {name}\ndata {len(data)}\n{data}\n")
    subprocess.run(
        ["git", "fast-import", "--quiet"], cwd=root, input="".join(stream).encode(), check=True
    )
    return root


def kill_up_during_checkout(root: Path) -> Path:
    """Start `corral up`, and kill its whole process group once git has registered the
    worktree (locked "initializing") and begun writing its files."""
    admin = root / ".git" / "worktrees" / "a"
    path = worktree(root)
    process = subprocess.Popen(
        [sys.executable, "-m", "tui.cli", "--repo", str(root), "up"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )

    def checking_out() -> bool:
        if process.poll() is not None:
            return True
        if not (admin / "locked").exists() or not path.is_dir():
            return False
        return any(entry.name != ".git" for entry in path.iterdir())

    try:
        wait_for(checking_out, timeout=60, interval=0.002, what="git checking the base out")
    finally:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()
    assert process.returncode == -signal.SIGKILL, "corral up ended before the kill"
    assert (admin / "locked").read_text().strip() == "initializing"
    assert files_in(path) < BIG
    return path


def test_a_start_killed_while_git_checks_out_a_large_base_is_made_whole_by_the_next(
    big_base: Path,
) -> None:
    path = kill_up_during_checkout(big_base)
    result = corral(big_base, "up")
    assert result.returncode == 0, result.stderr
    assert "half-made" in result.stdout and "made it again" in result.stdout
    assert git(path, "status", "--porcelain") == ""
    assert git(path, "ls-files").count("\n") == BIG + SMALL
    assert files_in(path) == BIG + SMALL
    assert (path / "d039" / "f19999.txt").read_text() == "file 19999\n"
    assert "locked" not in git(big_base, "worktree", "list", "--porcelain")


def test_a_half_made_worktree_holding_a_file_of_its_own_is_refused_with_a_fix_that_works(
    big_base: Path,
) -> None:
    path = kill_up_during_checkout(big_base)
    (path / "mine.txt").write_text("written by hand\n")
    result = corral(big_base, "up")
    assert result.returncode == 1
    message = result.stderr.strip()
    assert "Traceback" not in message and len(message.splitlines()) == 1
    assert "1 file the checkout did not write (mine.txt)" in message
    found = re.search(r"`(mv [^`]+)`, then `(corral up a)` again", message)
    assert found, message
    fix = shlex.split(found.group(1))
    subprocess.run(fix, check=True)
    result = corral(big_base, "up")
    assert result.returncode == 0, result.stderr
    assert git(path, "status", "--porcelain") == ""
    assert files_in(path) == BIG + SMALL
    assert (Path(fix[-1]) / "mine.txt").read_text() == "written by hand\n"


def test_rm_moves_ignored_files_and_a_nested_repository_aside_where_it_says(
    make_repo: Callable[..., Path],
) -> None:
    root = make_repo(AGENT)
    (root / ".gitignore").write_text(".env\nbuild/\n")
    git(root, "add", ".gitignore")
    git(root, "commit", "-q", "-m", "ignore secrets and builds")
    result = corral(root, "up")
    assert result.returncode == 0, result.stderr
    path = worktree(root)
    ignored = {".env": b"TOKEN=abc123\n", "build/app.bin": b"\x7fELF\x02\x01\x01\x00\xff"}
    for name, data in ignored.items():
        (path / name).parent.mkdir(parents=True, exist_ok=True)
        (path / name).write_bytes(data)
    nested = path / "tools" / "helper"
    nested.mkdir(parents=True)
    git(nested, "init", "-q", "-b", "main")
    (nested / "run.sh").write_text("echo helper\n")
    git(nested, "add", "run.sh")
    git(nested, "commit", "-q", "-m", "the helper's own history")
    own = git(nested, "rev-parse", "HEAD").strip()
    # What the dashboard's question says before the removal, read as the app reads it.
    asked = Supervisor.open(root).removal_plan("a", str(path)).lines()
    assert asked == [
        f"Moved aside first, to {root}/.corral/kept/a-<time>/, since no ref can hold them: "
        ".env, build/, tools/helper/ (a git repository, with its history)."
    ]

    result = corral(root, "rm", "a")
    assert result.returncode == 0, result.stderr
    message = result.stdout
    found = re.search(r"Moved aside to (\S+), since no ref can hold them: (.*)\.\n", message)
    assert found, message
    assert found.group(2) == ".env, build/, tools/helper/ (a git repository, with its history)"
    kept = Path(found.group(1))
    assert kept.parent == root / ".corral" / "kept"
    assert not path.exists()
    assert {name: (kept / name).read_bytes() for name in ignored} == ignored
    assert (kept / "tools" / "helper" / "run.sh").read_text() == "echo helper\n"
    history = git(kept / "tools" / "helper", "log", "--format=%H %s")
    assert history == f"{own} the helper's own history\n"
