"""The coordination tax: how many of the herd's commits only claim, release or clean up locks."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sessions.core.lock_files import under
from sessions.core.rules import LockRules
from sessions.services.lock_history import read_git


@dataclass(frozen=True)
class Tax:
    """How many commits only claim, release or clean up locks, overall and recently."""

    commits: int
    lock_commits: int
    recent_commits: int
    recent_lock_commits: int
    window_s: float = 3600.0

    @property
    def share(self) -> float:
        return self.lock_commits / self.commits if self.commits else 0.0

    @property
    def recent_share(self) -> float:
        return self.recent_lock_commits / self.recent_commits if self.recent_commits else 0.0

    def to_json(self) -> dict[str, Any]:
        return {
            "commits": self.commits,
            "lock_commits": self.lock_commits,
            "share": round(self.share, 4),
            "last_hour": {
                "commits": self.recent_commits,
                "lock_commits": self.recent_lock_commits,
                "share": round(self.recent_share, 4),
            },
        }


def coordination_tax(
    repo_root: Path,
    base: str,
    now: float,
    rules: LockRules = LockRules(),
    window_s: float = 3600.0,
) -> Tax:
    """The share of commits (base and every `corral/*` branch, each once) that touch nothing
    but lock folders: the time agents spend coordinating instead of working."""
    args = ("log", "-z", "--no-renames", "--name-only", "--format=%x01%H %ct")
    out = read_git(repo_root, *args, base, "--branches=corral/*", "--")
    folders = (*rules.dirs, *rules.done_dirs)
    total = lock_only = recent = recent_lock = 0
    for when, paths in _commits(out):
        only_locks = bool(paths) and all(under(path, folders) for path in paths)
        is_recent = now - when <= window_s
        total += 1
        lock_only += only_locks
        recent += is_recent
        recent_lock += only_locks and is_recent
    return Tax(total, lock_only, recent, recent_lock, window_s)


def _commits(out: str) -> Iterable[tuple[float, list[str]]]:
    when: float | None = None
    paths: list[str] = []
    for raw in out.split("\0"):
        token = raw.strip("\n")
        if token.startswith("\x01"):
            if when is not None:
                yield when, paths
            stamp = token[1:].partition(" ")[2]
            when, paths = float(stamp or 0), []
        elif token and when is not None:
            paths.append(token)
    if when is not None:
        yield when, paths
