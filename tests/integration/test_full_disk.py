"""A full disk: reads end in one sentence, and an action that cannot save stops nothing.

The repository and its worktrees live on a small tmpfs that the test fills, so every write
fails with ENOSPC exactly as on a laptop whose disk is full. Mounting needs root (CI runs as
root); elsewhere the tests skip and say so.
"""

from __future__ import annotations

import errno
import os
import subprocess
from collections.abc import Callable, Iterator
from pathlib import Path

import psutil
import pytest

from sessions.supervisor import Supervisor
from tests.helpers import corral, git, wait_for

pytestmark = pytest.mark.tmux

HERD = "".join(
    f'[[agent]]\nname = "{name}"\nkind = "sim"\nargs = ["--speed", "0.05"]\n'
    for name in ("sim-1", "sim-2")
)


@pytest.fixture
def disk(tmp_path: Path) -> Iterator[Path]:
    """A 64 MiB tmpfs of the test's own, unmounted afterwards."""
    folder = tmp_path / "disk"
    folder.mkdir()
    if os.geteuid() != 0:
        pytest.skip("a full disk is made by mounting a small tmpfs, which needs root")
    mounted = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=64m", "tmpfs", str(folder)],
        capture_output=True,
        text=True,
        check=False,
    )
    if mounted.returncode != 0:
        pytest.skip(f"cannot mount a small tmpfs here: {mounted.stderr.strip()}")
    yield folder
    subprocess.run(["umount", "-l", str(folder)], capture_output=True, check=False)


def fill(folder: Path) -> Path:
    """Write until the filesystem refuses; the file is removed to give the space back."""
    filler = folder / "filler"
    block = b"\0" * (1 << 20)
    with filler.open("wb", buffering=0) as handle:
        try:
            while True:
                handle.write(block)
        except OSError as error:
            assert error.errno == errno.ENOSPC
    # Small blocks too, so not even one page is left.
    with filler.open("ab", buffering=0) as handle:
        try:
            while True:
                handle.write(b"\0" * 512)
        except OSError as error:
            assert error.errno == errno.ENOSPC
    return filler


def no_traceback(result: subprocess.CompletedProcess[str]) -> None:
    assert "Traceback" not in result.stderr, result.stderr
    assert "Traceback" not in result.stdout, result.stdout


@pytest.fixture
def herd(disk: Path, make_repo: Callable[..., Path]) -> Iterator[Supervisor]:
    """Two builders with uncommitted edits of the same file, looked at once with room."""
    root = make_repo(HERD, name="disk/project")
    supervisor = Supervisor.open(root)
    supervisor.up()
    wait_for(lambda: all(supervisor.view(n).pid for n in ("sim-1", "sim-2")), what="agent pids")
    yield supervisor


def edit(supervisor: Supervisor, name: str, text: str) -> Path:
    worktree = Path(supervisor.view(name).worktree)
    (worktree / "src" / "app.py").write_text(f"def main() -> int:\n    return {text}\n")
    (worktree / f"{name}.txt").write_text(f"{text}\n")
    return worktree


def test_reads_on_a_full_disk_end_in_one_sentence(herd: Supervisor, disk: Path) -> None:
    root = herd.repo.root
    for name in ("sim-1", "sim-2"):
        edit(herd, name, "1")
    assert corral(root, "ls").returncode == 0
    # New edits the last look has not seen, so the next look must build new trees.
    for name in ("sim-1", "sim-2"):
        edit(herd, name, "22")
    fill(disk)
    for command in ("ls", "locks", "conflicts", "notes"):
        result = corral(root, command)
        no_traceback(result)
        text = result.stdout + result.stderr
        assert result.returncode == 0, (command, text)
    listed = corral(root, "ls").stdout
    assert "sim-1" in listed and "sim-2" in listed
    conflicts = corral(root, "conflicts")
    assert "src/app.py" in conflicts.stdout
    assert "free some space" in conflicts.stderr, conflicts.stderr


def test_shelve_on_a_full_disk_stops_nothing_and_says_why(herd: Supervisor, disk: Path) -> None:
    root = herd.repo.root
    edit(herd, "sim-1", "1")
    pid = herd.view("sim-1").pid
    assert pid is not None
    filler = fill(disk)
    result = corral(root, "shelve", "sim-1")
    no_traceback(result)
    assert result.returncode == 1
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("corral: "), result.stderr
    assert "space" in lines[0] and "sim-1" in lines[0], lines[0]
    assert psutil.pid_exists(pid) and psutil.Process(pid).status() != psutil.STATUS_ZOMBIE
    filler.unlink()
    view = Supervisor.open(root).view("sim-1")
    assert view.pid == pid and view.state.value != "exited", view
    shelved = corral(root, "shelve", "sim-1")
    assert shelved.returncode == 0, shelved.stderr
    assert "refs/corral/shelf/sim-1" in shelved.stdout
    saved = git(root, "show", "refs/corral/shelf/sim-1:src/app.py")
    assert saved.endswith("return 1\n")


def test_rm_on_a_full_disk_stops_nothing_and_deletes_nothing(herd: Supervisor, disk: Path) -> None:
    root = herd.repo.root
    worktree = edit(herd, "sim-1", "1")
    pid = herd.view("sim-1").pid
    assert pid is not None
    fill(disk)
    result = corral(root, "rm", "sim-1")
    no_traceback(result)
    assert result.returncode == 1 and "free some space" in result.stderr, result.stderr
    assert psutil.pid_exists(pid) and psutil.Process(pid).status() != psutil.STATUS_ZOMBIE
    assert (worktree / "sim-1.txt").read_text() == "1\n"


def test_pause_on_a_full_disk_leaves_the_agent_running_and_says_why(
    herd: Supervisor, disk: Path
) -> None:
    """The journal cannot take the pause, so the agent must not stay stopped unrecorded."""
    pid = herd.view("sim-1").pid
    assert pid is not None
    filler = fill(disk)
    # The journal's last block has room for a line or two; take it with blank lines.
    with herd.journal.path.open("ab", buffering=0) as journal, pytest.raises(OSError):
        while True:
            journal.write(b"\n" * 64)
    result = corral(herd.repo.root, "pause", "sim-1")
    no_traceback(result)
    assert result.returncode == 1 and "free some space" in result.stderr, result.stderr
    assert psutil.Process(pid).status() != psutil.STATUS_STOPPED
    filler.unlink()
    assert corral(herd.repo.root, "pause", "sim-1").returncode == 0
    wait_for(lambda: psutil.Process(pid).status() == psutil.STATUS_STOPPED, what="stopped")
    assert corral(herd.repo.root, "resume", "sim-1").returncode == 0


def test_the_runner_says_what_it_could_not_record_and_goes_on(
    disk: Path, make_repo: Callable[..., Path]
) -> None:
    """An agent that ends while the disk is full: its runner cannot journal the run's end, and
    says so in the pane instead of dying with a traceback."""
    config = (
        '[[agent]]\nname = "sh-1"\nkind = "shell"\n'
        'command = "sh -c \'read line; echo got $line; exit 3\'"\nrestart = "never"\n'
    )
    root = make_repo(config, name="disk/project")
    supervisor = Supervisor.open(root)
    supervisor.up()
    wait_for(lambda: supervisor.view("sh-1").pid, what="agent pid")
    pane = supervisor.view("sh-1").pane
    assert pane is not None
    fill(disk)
    with supervisor.journal.path.open("ab", buffering=0) as journal, pytest.raises(OSError):
        while True:
            journal.write(b"\n" * 64)
    supervisor.tmux.send_text(pane, "bye")
    wait_for(
        lambda: "is not recorded" in supervisor.tmux.capture(pane),
        what="the runner's word in the pane",
    )
    screen = supervisor.tmux.capture(pane)
    assert "got bye" in screen and "Traceback" not in screen, screen
    assert "could not write its journal" in screen and "free some space" in screen, screen
