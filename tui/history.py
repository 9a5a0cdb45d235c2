"""What happened, for the activity and journal tabs: the journal and each agent's hook events,
read incrementally and kept in bounded memory.

It starts near the end of each file, so opening the dashboard after a week of running costs the
same as after a minute; from then on it reads only what was appended. It runs on a worker.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from sessions.journal import Event, Journal

TAIL = 256 * 1024
KEPT = 400


@dataclass(frozen=True)
class Entry:
    """One line of history: a journal event, or a tool call an agent's hooks reported."""

    t: float
    agent: str | None
    source: str  # "journal" or "hook"
    event: str
    detail: str


class History:
    """The journal and every agent's hook events, newest last."""

    def __init__(self, journal: Path, events_dir: Path, kept: int = KEPT) -> None:
        self.kept = kept
        self._journal = Journal(journal)
        self._journal.start_near_end(TAIL)
        self._events_dir = events_dir
        self._hooks: dict[str, Journal] = {}
        self.all: deque[Entry] = deque(maxlen=kept)
        self.per_agent: dict[str, deque[Entry]] = {}

    def read(self, agents: Iterable[str]) -> bool:
        """Take in what was appended; True when anything was."""
        grew = False
        for event in self._journal.read_new():
            entry = journal_entry(event)
            self.all.append(entry)
            if entry.agent:
                self._agent(entry.agent).append(entry)
            grew = True
        for name in agents:
            reader = self._hooks.get(name)
            if reader is None:
                reader = self._hooks[name] = Journal(self._events_dir / f"{name}.jsonl")
                reader.start_near_end(TAIL)
            for event in reader.read_new():
                hooked = hook_entry(name, event)
                if hooked is not None:
                    self._agent(name).append(hooked)
                    grew = True
        return grew

    def of(self, agent: str) -> tuple[Entry, ...]:
        """The agent's history in time order (hook lines and journal lines interleave)."""
        return tuple(sorted(self.per_agent.get(agent, ()), key=lambda entry: entry.t))

    def _agent(self, name: str) -> deque[Entry]:
        found = self.per_agent.get(name)
        if found is None:
            found = self.per_agent[name] = deque(maxlen=self.kept)
        return found


SKIPPED = frozenset({"t", "agent", "event"})


def journal_entry(event: Event) -> Entry:
    detail = " ".join(
        f"{key}={_short(value)}" for key, value in event.items() if key not in SKIPPED
    )
    agent = event.get("agent")
    return Entry(
        t=_time(event.get("t")),
        agent=agent if isinstance(agent, str) else None,
        source="journal",
        event=str(event.get("event", "?")),
        detail=detail,
    )


def hook_entry(agent: str, event: Event) -> Entry | None:
    """Tool calls and the few hook events that say something to a person; the rest (every
    PostToolUse, for one) would only double the lines."""
    name = str(event.get("event", ""))
    tool = event.get("tool")
    if name in ("PostToolUse", "AfterTool", "PostToolBatch"):
        return None
    if tool:
        paths = event.get("paths")
        shown = " ".join(str(p) for p in paths[:4]) if isinstance(paths, list) else ""
        cls = event.get("cls", "")
        return Entry(_time(event.get("t")), agent, "hook", f"{tool}", f"{cls} {shown}".strip())
    detail = event.get("notification_type") or event.get("message") or ""
    return Entry(_time(event.get("t")), agent, "hook", name or "hook", _short(detail))


def _time(value: object) -> float:
    return float(value) if isinstance(value, int | float) else 0.0


def _short(value: object, limit: int = 80) -> str:
    text = str(value)
    return text if len(text) <= limit else text[: limit - 1] + "…"


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


def freeze(history: History) -> Recorded:
    return Recorded(
        journal=tuple(history.all),
        agents=tuple((name, history.of(name)) for name in sorted(history.per_agent)),
    )
