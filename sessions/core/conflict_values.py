"""What conflicts are made of: the touches builders leave, the builders, the conflict between
two of them and the base-file lines where their changes meet.

Values only, so the snapshot can carry conflicts without loading the finder (git) or the tracker
(the journal) that produce them.
"""

from __future__ import annotations

import sys
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

Level = Literal["file", "lines", "merge"]

LEVELS: tuple[Level, ...] = ("file", "lines", "merge")


@dataclass(frozen=True)
class Touch:
    """One sign that an agent changed a path: `how` is edit, write, commit or uncommitted."""

    path: str
    t: float
    how: str


@dataclass(frozen=True)
class Builder:
    """An agent as conflicts need it.

    `key` is anything cheap that changes whenever the agent's files or branch change (its
    branch tip and last file-write time, say); git runs again for the agent only when it does.
    Without a key, one is made from the touches, which misses a commit that wrote no file.
    """

    agent: str
    worktree: Path
    branch: str
    touches: tuple[Touch, ...]
    role: str = "builder"
    key: str | None = None


@dataclass(frozen=True)
class Conflict:
    """Two builders in each other's way at one path; `agents` are sorted, so it has one name."""

    level: Level
    path: str
    agents: tuple[str, ...]
    since: float
    detail: str

    @property
    def ident(self) -> tuple[str, str, tuple[str, ...]]:
        return (self.level, self.path, self.agents)

    def to_json(self) -> dict[str, Any]:
        return {
            "level": self.level,
            "path": self.path,
            "agents": list(self.agents),
            "since": self.since,
            "detail": self.detail,
        }


@dataclass(frozen=True, order=True)
class LineRange:
    """Lines `start` to `end - 1` of the base file; `start == end` is an insertion before
    line `start`. Base-file coordinates make two agents' changes comparable."""

    start: int
    end: int

    def __str__(self) -> str:
        if self == ALL_LINES:
            return "all lines"
        if self.start == self.end:
            return f"an insertion before line {self.start}"
        if self.end - self.start == 1:
            return f"line {self.start}"
        return f"lines {self.start}-{self.end - 1}"


# A file created or replaced as a whole, or a binary one: every line is the agent's.
ALL_LINES = LineRange(0, sys.maxsize)


def highest(conflicts: Iterable[Conflict]) -> tuple[Conflict, ...]:
    """The worst level per pair and path: what a one-line-per-conflict view shows."""
    best: dict[tuple[str, tuple[str, ...]], Conflict] = {}
    for conflict in conflicts:
        key = (conflict.path, conflict.agents)
        if key not in best or LEVELS.index(conflict.level) > LEVELS.index(best[key].level):
            best[key] = conflict
    return tuple(sorted(best.values(), key=conflict_order))


def conflict_order(conflict: Conflict) -> tuple[str, tuple[str, ...], int]:
    """Conflicts listed by path, then pair, then level: the same order in every view."""
    return (conflict.path, conflict.agents, LEVELS.index(conflict.level))


def merge_tree_paths(out: str) -> dict[str, str]:
    """Conflicted paths from `merge-tree -z` output, with the CONFLICT messages about each.

    The layout is: the tree, the conflicted paths, an empty field, then per message the number
    of paths it names, those paths, a type and the message.
    """
    fields = out.split("\0")
    try:
        gap = fields.index("", 1)
    except ValueError:
        gap = len(fields)
    found = {path: "" for path in fields[1:gap]}
    rest = fields[gap + 1 :]
    while rest and rest[0].isdigit():
        count = int(rest[0])
        named, message = rest[1 : 1 + count], rest[2 + count] if len(rest) > 2 + count else ""
        rest = rest[3 + count :]
        for path in named:
            if path in found and message.startswith("CONFLICT"):
                joined = f"{found[path]}; {message.strip()}" if found[path] else message.strip()
                found[path] = joined
    return {path: words or "git cannot merge it" for path, words in found.items()}
