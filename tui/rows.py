"""One herd-table row per agent, computed from a snapshot: plain values, no drawing.

Kept apart from the widget so what each column says (and how it sorts) is tested without a
screen.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from sessions.core.model import Snapshot, State
from tui.format import total_tokens
from tui.states import WORDS


@dataclass(frozen=True)
class AgentRow:
    number: int
    name: str
    kind: str
    state: State
    age: float | None
    role: str
    edit_share: float | None
    stalled: bool
    task: str | None
    lock_stale: bool
    conflicts: int
    conflict_level: str | None
    files: int
    tokens: int | None
    cost: float | None
    cpu: float | None
    rss: int
    last: float | None  # seconds since its latest activity
    summary: str | None = None  # what Claude last said it does (`[summaries]`)
    stuck: bool = False  # and whether it said it looks stuck

    @property
    def role_text(self) -> str:
        if self.role == "builder" and self.edit_share is not None:
            return f"builder {self.edit_share:.0%}"
        return self.role

    def haystack(self) -> str:
        """What `/` matches against: name, state (word and value), role, kind, task."""
        words = (self.name, WORDS[self.state], self.state.value, self.role, self.kind)
        return " ".join((*words, self.task or "")).lower()

    def matches(self, text: str) -> bool:
        hay = self.haystack()
        return all(word in hay for word in text.lower().split())


LEVEL_ORDER = ("file", "lines", "merge")


def rows_of(snapshot: Snapshot, last_seen: Mapping[str, float]) -> list[AgentRow]:
    now = snapshot.taken
    coordination = snapshot.coordination
    rows = []
    for number, view in enumerate(snapshot.agents, start=1):
        role = coordination.roles.get(view.name)
        printed = role.fingerprint if role else None
        held = role.locks[0] if role and role.locks else None
        conflicts = coordination.conflicts_of(view.name)
        levels = [c.level for c in conflicts if c.level in LEVEL_ORDER]
        times = [t for t in (last_seen.get(view.name), printed and printed.last_change) if t]
        rows.append(
            AgentRow(
                number=number,
                name=view.name,
                kind=view.kind,
                state=view.state,
                age=now - view.since if view.since else None,
                role=printed.role if printed else "-",
                edit_share=printed.edit_share if printed else None,
                stalled=bool(role and role.stalled),
                task=(held.lock.task or held.lock.path) if held else None,
                lock_stale=bool(held and (held.stale or held.orphaned)),
                conflicts=len(conflicts),
                conflict_level=max(levels, key=LEVEL_ORDER.index) if levels else None,
                files=len(printed.files) if printed else 0,
                tokens=total_tokens(view.tokens),
                cost=view.cost_usd,
                cpu=view.cpu_percent,
                rss=view.rss_bytes,
                last=now - max(times) if times else None,
                summary=view.summary.text if view.summary else None,
                stuck=bool(view.summary and view.summary.stuck),
            )
        )
    return rows


def sort_value(row: AgentRow, column: str) -> tuple[int, object]:
    """Sort keys that never compare None with a number: missing values go last."""
    value: object = {
        "num": row.number,
        "name": row.name,
        "kind": row.kind,
        "state": list(State).index(row.state),
        "role": row.role_text,
        "task": row.task,
        "conflicts": -row.conflicts,
        "files": -row.files,
        "tokens": -(row.tokens or 0),
        "cpu": -(row.cpu or 0.0),
        "last": row.last,
        "summary": (not row.stuck, row.summary or ""),
    }.get(column, row.number)
    return (1, 0) if value is None else (0, value)
