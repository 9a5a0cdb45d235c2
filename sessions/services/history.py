"""What happened, for the dashboard's activity and journal tabs: the journal and each agent's
hook events, kept in bounded memory.

Nothing is read here: the supervisor's journal feed hands on the journal's events (`journaled`,
starting near the journal's end, so opening the dashboard after a week of running costs the same
as after a minute), and the observer hands on each agent's new hook events as it reads them for
its evidence (`hooked`). Each file keeps one reader and is read once per look.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable

from sessions.core.events import Event
from sessions.core.history_values import Entry, Recorded

TAIL = 256 * 1024
KEPT = 400


class History:
    """The journal and every agent's hook events, newest last."""

    def __init__(self, kept: int = KEPT) -> None:
        self.kept = kept
        self.all: deque[Entry] = deque(maxlen=kept)
        self.per_agent: dict[str, deque[Entry]] = {}
        self._grew = False
        self._recorded = Recorded()

    def hooked(self, agent: str, events: Iterable[Event]) -> None:
        """Hook events the observer has just read from the agent's file."""
        for event in events:
            entry = hook_entry(agent, event)
            if entry is not None:
                self._agent(agent).append(entry)
                self._grew = True

    def journaled(self, event: Event) -> None:
        """One event the journal feed has just read."""
        entry = journal_entry(event)
        self.all.append(entry)
        if entry.agent:
            self._agent(entry.agent).append(entry)
        self._grew = True

    def read(self) -> Recorded:
        """The whole history as one value, made anew only when anything was added since the
        last call."""
        if self._grew:
            self._grew = False
            self._recorded = freeze(self)
        return self._recorded

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


def freeze(history: History) -> Recorded:
    return Recorded(
        journal=tuple(history.all),
        agents=tuple((name, history.of(name)) for name in sorted(history.per_agent)),
    )
