"""Writes to an agent's worktree that no tool log shows, as events in its hook file.

A shell command an agent runs can write any file, and no hook or transcript names it. The
runner of each agent watches that agent's worktree for as long as the agent lives, so every
write is attributed to the right agent even when no corral app is open.
"""

from __future__ import annotations

import os
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path

from watchfiles import DefaultFilter, watch

from sessions.adapters.journal import Journal

IGNORED_DIRS = (
    *DefaultFilter.ignore_dirs,
    ".corral",
    "venv",
    "env",
    ".ruff_cache",
    "dist",
    "build",
    ".claude",
    ".gemini",
)
MAX_PATHS = 50
EVENT = "FileWrite"


def watch_worktree(
    worktree: Path,
    events: Journal,
    agent: str,
    stop: threading.Event,
    on_files: Callable[[int], None] | None = None,
    since: float | None = None,
) -> None:
    """Append one `FileWrite` event per batch of changes until `stop` is set; `on_files` hears
    how many files each batch wrote (the runner tells from it whether a run changed anything).

    The agent starts while the watch is still being set up, and a command may write at once:
    with `since` (taken before the agent started), the first batch, or the first quiet
    timeout, also carries every file written since then, so no early write goes unseen."""
    changes = watch(
        worktree,
        watch_filter=DefaultFilter(ignore_dirs=IGNORED_DIRS),
        debounce=400,
        step=100,
        stop_event=stop,
        raise_interrupt=False,
        ignore_permission_denied=True,
        yield_on_timeout=since is not None,
    )
    for batch in changes:
        found: set[str] = set()
        for _, path in batch:
            found.add(_relative(worktree, path))
            found.update(_inside(worktree, Path(path)))
        if since is not None:
            found.update(_written_since(worktree, since))
            since = None
        if not found:
            continue
        paths = sorted(found)
        if on_files is not None:
            on_files(len(paths))
        events.append(EVENT, agent, kind="files", paths=paths[:MAX_PATHS], count=len(paths))


def _inside(worktree: Path, folder: Path) -> list[str]:
    """Files in a folder that just appeared: inotify watches a new folder only once it has
    seen it, so files written into it at once would otherwise go unnoticed."""
    if not folder.is_dir() or folder.is_symlink():
        return []
    found: list[str] = []
    for path in folder.rglob("*"):
        if path.is_file() and not any(part in IGNORED_DIRS for part in path.parts):
            found.append(_relative(worktree, str(path)))
            if len(found) >= MAX_PATHS:
                break
    return found


def file_clock() -> float:
    """Now, as the kernel stamps a file it writes: its coarse clock, up to a tick behind
    `time.time()`, so a file written after this moment is never stamped before it."""
    coarse = getattr(time, "CLOCK_REALTIME_COARSE", 5 if sys.platform == "linux" else None)
    return time.clock_gettime(coarse) if coarse is not None else time.time() - 0.02


def _written_since(worktree: Path, since: float) -> list[str]:
    """Files of the worktree last written at `since` or later, outside the ignored folders."""
    found: list[str] = []
    for folder, dirs, files in os.walk(worktree):
        dirs[:] = [name for name in dirs if name not in IGNORED_DIRS]
        for name in files:
            path = os.path.join(folder, name)
            try:
                if os.stat(path, follow_symlinks=False).st_mtime >= since:
                    found.append(_relative(worktree, path))
            except OSError:
                continue
    return found


def _relative(worktree: Path, path: str) -> str:
    try:
        return str(Path(path).relative_to(worktree))
    except ValueError:
        return path


def start(
    worktree: Path,
    events_file: Path,
    agent: str,
    on_files: Callable[[int], None] | None = None,
) -> threading.Event:
    """Watch in a daemon thread; the returned event stops it. A watcher that fails to start
    (no inotify watches left, say) only loses this evidence, never the agent."""
    stop = threading.Event()
    since = file_clock()

    def run() -> None:
        try:
            watch_worktree(worktree, Journal(events_file), agent, stop, on_files, since)
        except Exception as error:  # evidence is optional; the agent must go on
            Journal(events_file).append("WatchError", agent, kind="files", error=str(error))

    threading.Thread(target=run, name=f"watch-{agent}", daemon=True).start()
    return stop
