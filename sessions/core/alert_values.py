"""What the user is told about the herd: each thing worth telling with its cause, and the one
alert a snapshot's things are gathered into. `sessions.services.alerts` decides what is worth
telling; the dashboard and the desktop notification draw these.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class Cause(StrEnum):
    """Why an item is worth telling, in the order the user should read them."""

    NEEDS_INPUT = "needs_input"
    CRASH_LOOPING = "crash_looping"
    EXITED = "exited"
    STALLED = "stalled"
    MERGE = "merge"
    CONFLICT = "conflict"


CAUSES: frozenset[Cause] = frozenset(Cause)


@dataclass(frozen=True)
class Item:
    """One thing to tell: `text` names it, `detail` says why in the agent's own terms."""

    cause: Cause
    agents: tuple[str, ...]
    text: str
    detail: str = ""
    path: str | None = None

    @property
    def line(self) -> str:
        return f"{self.text} ({self.detail})" if self.detail else self.text


@dataclass(frozen=True)
class Alert:
    """Everything one snapshot has to tell, as one notification: `title` is the headline,
    `body` the headline with its items, `summary` marks the baseline's catch-up line."""

    title: str
    body: str
    items: tuple[Item, ...]
    summary: bool = False
