"""The fold that turns the journal's events, in order, into one `AgentRecord` per agent.

What the journal says about an agent is independent of what tmux or the process table see now:
a record is the journal's word, and `status.derive` weighs it against the rest.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from typing import Any

from sessions.core.events import QUIET_EVENTS, SUMMARY, Event, schema_version

# Ended runs whose changes each record remembers: enough for any screen, bounded for 30 agents
# restarted for days.
KEPT_RUNS = 200


@dataclass(frozen=True)
class EndedRun:
    """What one ended run changed, as its runner saw it: files written and commits made.

    `number` counts every run of the agent in the journal, the numbering the usage book uses.
    None means the runner could not tell (an older runner, or git failed).
    """

    number: int
    started: float | None
    ended: float
    files_written: int | None
    commits: int | None

    @property
    def changed(self) -> bool | None:
        if self.files_written is None and self.commits is None:
            return None
        return bool(self.files_written) or bool(self.commits)


@dataclass(frozen=True)
class AgentRecord:
    """What the journal says about one agent, independent of what tmux or psutil see now."""

    name: str
    pane: str | None = None
    worktree: str | None = None
    branch: str | None = None
    runs: int = 0
    run_pid: int | None = None
    run_started: float | None = None
    run_ended: float | None = None
    exit_code: int | None = None
    end_reason: str | None = None
    end_message: str | None = None
    end_signal: str | None = None
    session_id: str | None = None
    short_streak: int = 0
    crash_looping: bool = False
    paused: bool = False
    paused_since: float | None = None
    shelved: bool = False
    shelved_since: float | None = None
    shelf_ref: str | None = None
    removed: bool = False
    stopped: bool = False
    waiting_until: float | None = None
    launched: float | None = None
    last_t: float = 0.0
    ended_runs: tuple[EndedRun, ...] = ()
    setup_notes: tuple[str, ...] = ()


@dataclass
class Fold:
    """Folds journal events, in order, into one `AgentRecord` per agent name."""

    agents: dict[str, AgentRecord] = field(default_factory=dict)
    skipped: int = 0
    summaries: dict[str, Event] = field(default_factory=dict)  # each agent's newest summary

    def apply_all(self, events: Iterable[Event]) -> Fold:
        for event in events:
            self.apply(event)
        return self

    def to_json(self) -> dict[str, Any]:
        """The fold as a checkpoint keeps it (`from_json` reads it back): each record's fields
        in order, its ended runs as rows."""
        agents = {}
        for name, record in self.agents.items():
            row = [getattr(record, key) for key in _RECORD_FIELDS]
            row[_ENDED_RUNS] = [
                [getattr(run, key) for key in _RUN_FIELDS] for run in row[_ENDED_RUNS]
            ]
            agents[name] = row
        return {"agents": agents, "skipped": self.skipped, "summaries": self.summaries}

    @classmethod
    def from_json(cls, data: Any) -> Fold:
        agents = {}
        for name, saved in data["agents"].items():
            if len(saved) != len(_RECORD_FIELDS):
                raise ValueError("a record of another shape")
            row = list(saved)
            row[_ENDED_RUNS] = tuple(EndedRun(*run) for run in row[_ENDED_RUNS])
            row[_SETUP_NOTES] = tuple(str(note) for note in row[_SETUP_NOTES])
            record = AgentRecord(*row)
            if record.name != name:
                raise ValueError(f"the record of {name!r} is named {record.name!r}")
            agents[name] = record
        summaries = data["summaries"]
        if not all(isinstance(event, dict) for event in summaries.values()):
            raise ValueError("a summary that is not an event")
        return cls(agents, int(data["skipped"]), dict(summaries))

    def apply(self, event: Event) -> None:
        name = event.get("agent")
        if not isinstance(name, str):
            return
        if event.get("event") in QUIET_EVENTS:  # not the agent's doing, nor its last act
            if event.get("event") == SUMMARY and isinstance(event.get("text"), str):
                self.summaries[name] = event
            return
        record = self.agents.get(name) or AgentRecord(name=name)
        update = _TRANSITIONS.get(event["event"])
        try:
            t = float(event.get("t", 0.0))
            if update is not None:
                record = update(record, event, t)
        except (TypeError, ValueError):
            self.skipped += 1
            return
        self.agents[name] = replace(record, last_t=t)


# Changes whenever what `Fold.to_json` writes would: its checkpoints are then rebuilt.
FOLD_VERSION = "1." + schema_version(AgentRecord, EndedRun)
_RECORD_FIELDS = tuple(f.name for f in dataclasses.fields(AgentRecord))
_RUN_FIELDS = tuple(f.name for f in dataclasses.fields(EndedRun))
_ENDED_RUNS = _RECORD_FIELDS.index("ended_runs")
_SETUP_NOTES = _RECORD_FIELDS.index("setup_notes")


def _start(record: AgentRecord, event: Event, t: float) -> AgentRecord:
    return replace(
        record,
        pane=event.get("pane", record.pane),
        worktree=event.get("worktree", record.worktree),
        branch=event.get("branch", record.branch),
        session_id=event.get("session_id", record.session_id),
        crash_looping=False,
        short_streak=0,
        shelved=False,
        shelved_since=None,
        removed=False,
        stopped=False,
        waiting_until=None,
        paused=False,
        paused_since=None,
        exit_code=None,
        end_reason=None,
        end_message=None,
        launched=t,
        setup_notes=tuple(str(note) for note in event.get("hooks") or ()),
    )


def _pane(record: AgentRecord, event: Event, t: float) -> AgentRecord:
    return replace(record, pane=event.get("pane", record.pane))


def _run_start(record: AgentRecord, event: Event, t: float) -> AgentRecord:
    return replace(
        record,
        runs=record.runs + 1,
        run_pid=event.get("pid"),
        run_started=t,
        run_ended=None,
        exit_code=None,
        end_reason=None,
        session_id=event.get("session_id", record.session_id),
        waiting_until=None,
        stopped=False,
        paused=False,
        paused_since=None,
    )


def _run_end(record: AgentRecord, event: Event, t: float) -> AgentRecord:
    ended = EndedRun(record.runs, record.run_started, t, None, None)
    return replace(
        record,
        ended_runs=(*record.ended_runs, ended)[-KEPT_RUNS:],
        run_pid=None,
        run_ended=t,
        exit_code=event.get("exit_code"),
        end_reason=event.get("reason"),
        end_message=event.get("message"),
        end_signal=event.get("signal"),
        short_streak=int(event.get("short_streak", 0)),
        paused=False,
        paused_since=None,
    )


def _run_changes(record: AgentRecord, event: Event, t: float) -> AgentRecord:
    """The runner reports what a run changed just after its end, once its watcher settled."""
    if not record.ended_runs or record.run_ended is None:
        return record
    last = replace(
        record.ended_runs[-1],
        files_written=_count(event.get("files_written")),
        commits=_count(event.get("commits")),
    )
    return replace(record, ended_runs=(*record.ended_runs[:-1], last))


def _count(value: object) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _waiting(record: AgentRecord, event: Event, t: float) -> AgentRecord:
    return replace(record, waiting_until=t + float(event.get("delay", 0.0)))


def _crash_loop(record: AgentRecord, event: Event, t: float) -> AgentRecord:
    return replace(record, crash_looping=True, stopped=True, waiting_until=None)


def _stop(record: AgentRecord, event: Event, t: float) -> AgentRecord:
    return replace(record, stopped=True, waiting_until=None, paused=False, paused_since=None)


def _pause(record: AgentRecord, event: Event, t: float) -> AgentRecord:
    return replace(record, paused=True, paused_since=t)


def _resume(record: AgentRecord, event: Event, t: float) -> AgentRecord:
    return replace(record, paused=False, paused_since=None)


def _shelve(record: AgentRecord, event: Event, t: float) -> AgentRecord:
    return replace(
        record,
        shelved=True,
        shelved_since=t,
        shelf_ref=event.get("ref", record.shelf_ref),
        paused=False,
        paused_since=None,
    )


def _remove(record: AgentRecord, event: Event, t: float) -> AgentRecord:
    return replace(record, removed=True, pane=None, run_pid=None, paused=False)


_TRANSITIONS = {
    "start": _start,
    "pane": _pane,
    "run_start": _run_start,
    "run_end": _run_end,
    "run_changes": _run_changes,
    "waiting": _waiting,
    "crash_loop": _crash_loop,
    "stop": _stop,
    "pause": _pause,
    "resume": _resume,
    "shelve": _shelve,
    "rm": _remove,
}
