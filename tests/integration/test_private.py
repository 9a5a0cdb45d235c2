"""Everything corral keeps under `.corral/` is readable by its owner only, whatever the umask."""

from __future__ import annotations

import os
import stat
from collections.abc import Callable
from pathlib import Path

import pytest

from sessions.supervisor import Supervisor
from tests.helpers import corral, wait_for

pytestmark = pytest.mark.tmux

HERD = "".join(
    f'[[agent]]\nname = "{name}"\nkind = "sim"\nargs = ["--speed", "0.05"]\n'
    for name in ("sim-1", "sim-2")
)


def UMASK() -> None:
    """The common umask 022, which leaves new files readable by all."""
    os.umask(0o022)


def readable_by_others(state: Path) -> list[str]:
    found = []
    for path in [state, *state.rglob("*")]:
        mode = path.lstat().st_mode
        if not stat.S_ISLNK(mode) and mode & 0o077:
            found.append(f"{path.relative_to(state.parent)} {stat.filemode(mode)}")
    return found


def test_read_only_commands_before_the_first_up_keep_it_private(
    make_repo: Callable[..., Path],
) -> None:
    root = make_repo(HERD)
    for command in ("ls", "notes", "locks", "conflicts", "log"):
        result = corral(root, command, preexec_fn=UMASK)
        assert result.returncode == 0, (command, result.stderr)
    state = root / ".corral"
    assert state.is_dir()
    assert readable_by_others(state) == []


def test_a_herd_at_work_keeps_it_private(make_repo: Callable[..., Path]) -> None:
    root = make_repo(HERD)
    assert corral(root, "up", preexec_fn=UMASK).returncode == 0
    supervisor = Supervisor.open(root)
    wait_for(lambda: all(supervisor.view(n).pid for n in ("sim-1", "sim-2")), what="agent pids")
    for name in ("sim-1", "sim-2"):
        worktree = Path(supervisor.view(name).worktree)
        (worktree / "src" / "app.py").write_text(f"# {name}\n")
        (worktree / "PROGRESS.md").write_text(f"# Progress\n\n- [x] {name} did a thing\n")
    for command in (
        ("ls",),
        ("conflicts",),
        ("notes",),
        ("send", "sim-1", "hello"),
        ("pause", "sim-1"),
        ("resume", "sim-1"),
        ("shelve", "sim-2"),
        ("ls", "--json"),
    ):
        result = corral(root, *command, preexec_fn=UMASK)
        assert result.returncode == 0, (command, result.stderr)
    events = root / ".corral" / "events" / "sim-1.jsonl"
    wait_for(events.exists, what="hook events")
    assert readable_by_others(root / ".corral") == []
