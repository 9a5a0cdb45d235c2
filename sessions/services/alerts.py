"""What to tell the user about the herd: the moments an agent starts to need them.

A supervisor is only useful if the user can look away, so the look that matters is the one
where something changed for the worse: an agent asks a question, exits, crash-loops, stalls, or
collides with another builder. `Alerts` compares each snapshot with the one before and names
those transitions, each once, gathered into one `Alert` per snapshot so a herd that trips all
at once rings once.

Decisions, in the order they come up:

- **Baseline.** The first snapshot an `Alerts` sees has no "before", so it raises nothing per
  agent. What already waits (agents needing input, exited, crash looping, stalled, conflicts)
  comes back as one summary `Alert` (`summary=True`), so opening corral on a herd that waits
  says so in one line instead of replaying history. A restarted app is a new `Alerts`, so it
  follows the same rule: it never replays transitions the previous run already told.
- **Memory.** What an `Alerts` remembers is the last snapshot's states, stalls and shown
  conflicts (with the worst level each reached while shown), so `Alerts.resume(snapshot)`
  rebuilds one silently, as if it had watched until then. The one thing a single snapshot
  cannot say is that a conflict now at lines level once reached merge; that is told again.
- **Conflicts.** A conflict is a path and a pair of agents; it is new when that pair was not
  shown at that path in the previous snapshot, whatever its level. Reaching merge level, from
  file or lines, is worth one more alert ("confirmed at merge level"), once while the conflict
  lasts; file to lines is not.
- **Quiet agents.** Nothing is said about an agent the user is attached to or looking at; their
  transitions still move the memory, so looking away later does not replay them. A conflict is
  said unless every agent in it is quiet: the other side of it is news.
- **Hushes.** When the user stops or restarts an agent, its exit is no news; `hush` silences an
  agent (for some causes, or all) in snapshots taken up to a given time.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass

from sessions.core.alert_values import CAUSES, Alert, Cause, Item
from sessions.core.conflict_values import LEVELS, Conflict, Level
from sessions.core.model import Snapshot, State

# A batch lists this many items by name; the rest are counted.
LISTED = 4
# One item's reason is cut here: the body is a notification, not a report.
DETAIL_MAX = 100


_ORDER = {cause: i for i, cause in enumerate(Cause)}
_STATE_CAUSE = {
    State.NEEDS_INPUT: Cause.NEEDS_INPUT,
    State.EXITED: Cause.EXITED,
    State.CRASH_LOOPING: Cause.CRASH_LOOPING,
}
_VERB = {
    Cause.NEEDS_INPUT: "needs input",
    Cause.CRASH_LOOPING: "is crash looping",
    Cause.EXITED: "exited",
    Cause.STALLED: "stalled",
}


ConflictKey = tuple[str, tuple[str, ...]]


@dataclass(frozen=True)
class _Memory:
    states: Mapping[str, State]
    stalled: frozenset[str]
    conflicts: Mapping[ConflictKey, Level]


@dataclass(frozen=True)
class _Hush:
    until: float
    causes: frozenset[Cause]


class Alerts:
    """Turns successive snapshots into alerts; one per supervisor view, fed in order."""

    def __init__(self) -> None:
        self._memory: _Memory | None = None
        self._hushes: dict[str, _Hush] = {}

    @classmethod
    def resume(cls, snapshot: Snapshot) -> Alerts:
        """An `Alerts` that has already seen `snapshot`, without the baseline summary."""
        alerts = cls()
        alerts._memory = _remember(snapshot, None)
        return alerts

    @property
    def started(self) -> bool:
        """Whether the baseline is set, i.e. the next snapshot is compared with a previous one."""
        return self._memory is not None

    def hush(self, agent: str, until: float, causes: Collection[Cause] = CAUSES) -> None:
        """Say nothing of `causes` for `agent` in snapshots taken up to `until`.

        The user's own actions are not news: after stopping or restarting an agent, hush its
        exit for a while; after coming back from attaching to it, hush it up to the moment of
        return, so snapshots queued meanwhile stay quiet.
        """
        self._hushes[agent] = _Hush(until, frozenset(causes))

    def see(
        self, snapshot: Snapshot, quiet: Collection[str] = (), attached: str | None = None
    ) -> Alert | None:
        """What `snapshot` has to tell since the previous one, or None.

        `quiet` are the agents the user is looking at and `attached` the one whose pane they
        are in; neither is alerted about.
        """
        silent = {*quiet, *([attached] if attached else [])}
        previous = self._memory
        memory = _remember(snapshot, previous)
        self._memory = memory
        if previous is None:
            items = _waiting(snapshot, memory)
        else:
            items = _changes(snapshot, previous, memory)
        told = [item for item in items if self._worth(item, silent, snapshot.taken)]
        self._hushes = {a: h for a, h in self._hushes.items() if h.until >= snapshot.taken}
        if not told:
            return None
        return batch(told, summary=previous is None)

    def _worth(self, item: Item, silent: Collection[str], taken: float) -> bool:
        def heard(agent: str) -> bool:
            if agent in silent:
                return False
            hushed = self._hushes.get(agent)
            return hushed is None or taken > hushed.until or item.cause not in hushed.causes

        return any(heard(agent) for agent in item.agents)


def batch(items: Sequence[Item], summary: bool = False) -> Alert:
    """One alert for several items, most urgent first; the body lists the first `LISTED`."""
    ordered = tuple(sorted(items, key=lambda item: _ORDER[item.cause]))
    agents = {agent for item in ordered for agent in item.agents}
    already = " already" if summary else ""
    if len(ordered) == 1 and not summary:
        headline = ordered[0].text
    elif len(agents) == 1:
        headline = f"{next(iter(agents))}{already} needs you"
    else:
        headline = f"{len(agents)} agents{already} need you"
    lines = [item.line for item in ordered[:LISTED]]
    if len(ordered) > LISTED:
        lines.append(f"and {len(ordered) - LISTED} more")
    body = lines[0] if len(ordered) == 1 and not summary else f"{headline}: {', '.join(lines)}"
    return Alert(f"corral: {headline}", body, ordered, summary)


def _remember(snapshot: Snapshot, previous: _Memory | None) -> _Memory:
    roles = snapshot.coordination.roles
    known = previous.conflicts if previous else {}
    conflicts: dict[ConflictKey, Level] = {}
    for conflict in snapshot.coordination.shown_conflicts:
        key = (conflict.path, conflict.agents)
        conflicts[key] = _worse(conflict.level, known.get(key, conflict.level))
    return _Memory(
        states={view.name: view.state for view in snapshot.agents},
        stalled=frozenset(name for name, role in roles.items() if role.stalled),
        conflicts=conflicts,
    )


def _waiting(snapshot: Snapshot, memory: _Memory) -> list[Item]:
    """Everything that already needs the user, for the baseline's summary."""
    items = [
        _agent_item(cause, view.name, view.reason)
        for view in snapshot.agents
        if (cause := _STATE_CAUSE.get(view.state)) is not None
    ]
    items += _stalls(snapshot, memory.stalled)
    items += [_conflict_item(c, Cause.CONFLICT) for c in snapshot.coordination.shown_conflicts]
    return items


def _changes(snapshot: Snapshot, previous: _Memory, memory: _Memory) -> list[Item]:
    items = []
    for view in snapshot.agents:
        cause = _STATE_CAUSE.get(view.state)
        if cause is not None and previous.states.get(view.name) is not view.state:
            items.append(_agent_item(cause, view.name, view.reason))
    items += _stalls(snapshot, memory.stalled - previous.stalled)
    for conflict in snapshot.coordination.shown_conflicts:
        key = (conflict.path, conflict.agents)
        before = previous.conflicts.get(key)
        if before is None:
            items.append(_conflict_item(conflict, Cause.CONFLICT))
        elif conflict.level == "merge" and before != "merge":
            items.append(_conflict_item(conflict, Cause.MERGE))
    return items


def _stalls(snapshot: Snapshot, names: Iterable[str]) -> list[Item]:
    roles = snapshot.coordination.roles
    wanted = set(names)
    return [
        _agent_item(Cause.STALLED, view.name, roles[view.name].stall_reason)
        for view in snapshot.agents
        if view.name in wanted
    ]


def _agent_item(cause: Cause, name: str, reason: str) -> Item:
    return Item(cause, (name,), f"{name} {_VERB[cause]}", _cut(reason))


def _conflict_item(conflict: Conflict, cause: Cause) -> Item:
    pair = " and ".join(conflict.agents)
    if cause is Cause.MERGE:
        text = f"conflict of {pair} on {conflict.path} confirmed at merge level"
    else:
        text = f"{pair} conflict on {conflict.path}"
    detail = _cut(conflict.detail) if conflict.detail else f"{conflict.level} level"
    return Item(cause, conflict.agents, text, detail, conflict.path)


def _worse(a: Level, b: Level) -> Level:
    return a if LEVELS.index(a) >= LEVELS.index(b) else b


def _cut(text: str) -> str:
    text = " ".join(text.split())
    return text if len(text) <= DETAIL_MAX else text[: DETAIL_MAX - 1].rstrip() + "…"
