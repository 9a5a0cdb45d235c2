"""A task lock and its verdict: the values the lock survey returns and the snapshot carries.

Values only, so a snapshot holds the herd's locks without loading the scan (git) that finds them.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

BASE = "base"
"""The holder of a lock that no agent created: the user, on the base branch."""


@dataclass(frozen=True)
class Lock:
    """One claim, however many checkouts carry an identical copy of its file.

    `holder` is an agent name, or None for the base branch (the user). `where` lists the places
    holding the file (None again meaning the base branch or its checkout); `on_base` says
    whether the file is committed on the base branch. `created_from` says where `created_at`
    came from: "file", "commit", "mtime", or "unknown".
    """

    path: str
    task: str | None
    agent_id: str | None
    status: str | None
    created_at: float | None
    created_from: str
    holder: str | None
    where: tuple[str | None, ...]
    on_base: bool
    readable: bool = True

    @property
    def holder_name(self) -> str:
        return self.holder if self.holder is not None else BASE


@dataclass(frozen=True)
class LockVerdict:
    """A lock judged at one moment: `reason` is the sentence for the user, `cause` the few
    words that go into a release commit's message."""

    lock: Lock
    age_s: float | None
    stale: bool
    orphaned: bool
    reason: str
    cause: str

    def to_json(self) -> dict[str, Any]:
        lock = self.lock
        return {
            "path": lock.path,
            "task": lock.task,
            "holder": lock.holder_name,
            "age_s": None if self.age_s is None else round(self.age_s, 1),
            "stale": self.stale,
            "reason": self.reason,
            "orphaned": self.orphaned,
            "agent_id": lock.agent_id,
            "status": lock.status,
            "created_at": lock.created_at,
            "created_from": lock.created_from,
            "where": [place_label(place) for place in lock.where],
            "on_base": lock.on_base,
            "readable": lock.readable,
        }


@dataclass(frozen=True)
class LockReport:
    """The herd's locks, judged, and the count of finished tasks."""

    verdicts: tuple[LockVerdict, ...]
    completed: int

    @property
    def stale(self) -> tuple[LockVerdict, ...]:
        return tuple(v for v in self.verdicts if v.stale and not v.orphaned)

    @property
    def orphaned(self) -> tuple[LockVerdict, ...]:
        return tuple(v for v in self.verdicts if v.orphaned)

    def to_json(self) -> dict[str, Any]:
        return {"locks": [v.to_json() for v in self.verdicts], "completed": self.completed}


def place_label(place: str | None) -> str:
    """A place as the user reads it: an agent's name, or "base" for the base checkout."""
    return BASE if place is None else place
