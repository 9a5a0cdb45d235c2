"""What a piece of corral asks of tmux and of the disk, counted on the real things: every tmux
call goes through a wrapper script first on PATH that logs its arguments, and every file this
process opens is seen by an audit hook."""

from __future__ import annotations

import os
import shutil
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

WRAPPER = """#!/bin/sh
printf '%s %s\\n' "$PPID" "$*" >> {log}
exec {tmux} "$@"
"""

_opened: list[list[str]] = []  # the lists being filled now; an audit hook cannot be removed
_hooked = [False]


def _audit(event: str, args: tuple[Any, ...]) -> None:
    if _opened and event == "open" and isinstance(args[0], str | bytes | os.PathLike):
        path = os.fsdecode(args[0])
        for paths in _opened:
            paths.append(path)


@contextmanager
def opened_files() -> Iterator[list[str]]:
    """The paths of the files this process opens inside the block, in order."""
    if not _hooked[0]:
        sys.addaudithook(_audit)
        _hooked[0] = True
    paths: list[str] = []
    _opened.append(paths)
    try:
        yield paths
    finally:
        _opened.remove(paths)


class TmuxLog:
    """A `tmux` on PATH that logs each call's arguments, then runs the real one."""

    def __init__(self, folder: Path) -> None:
        real = shutil.which("tmux")
        assert real is not None, "tmux is not installed"
        self.bin = folder / "bin"
        self.bin.mkdir(parents=True, exist_ok=True)
        self.log = folder / "tmux.log"
        self.log.write_text("")
        wrapper = self.bin / "tmux"
        wrapper.write_text(WRAPPER.format(log=self.log, tmux=real))
        wrapper.chmod(0o755)

    @contextmanager
    def calls(self) -> Iterator[list[str]]:
        """The argument lines of the tmux calls this process makes inside the block (not the
        runners' in their panes)."""
        start = self.log.stat().st_size
        lines: list[str] = []
        try:
            yield lines
        finally:
            with self.log.open("rb") as handle:
                handle.seek(start)
                mine = str(os.getpid())
                for line in handle.read().decode(errors="replace").splitlines():
                    caller, _, argv = line.partition(" ")
                    if caller == mine:
                        lines.append(argv)
