"""What happened, as the dashboard's activity and journal tabs draw it: one line per journal
event or reported tool call, and the whole history as one value handed from a worker to the
screen. `sessions.services.history` keeps it and makes these.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Entry:
    """One line of history: a journal event, or a tool call an agent's hooks reported."""

    t: float
    agent: str | None
    source: str  # "journal" or "hook"
    event: str
    detail: str


@dataclass(frozen=True)
class Recorded:
    """History as one immutable value, to hand from the worker to the screen."""

    journal: tuple[Entry, ...] = ()
    agents: tuple[tuple[str, tuple[Entry, ...]], ...] = ()

    def of(self, agent: str) -> tuple[Entry, ...]:
        for name, entries in self.agents:
            if name == agent:
                return entries
        return ()
