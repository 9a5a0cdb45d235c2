"""The append-only event log and the fold that turns it into per-agent facts.

Everything corral learns or does is a line here, so closing corral, or `kill -9` of it, loses
nothing: the next start folds the same lines into the same picture. Several processes append at
once (the runner in every pane, the command line, the app); each event is written with a single
`write` on an O_APPEND descriptor, which keeps lines whole on local filesystems.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from sessions.private import private_folder

Event = dict[str, Any]

# corral's own words about agents (summaries of them, and failures to get one)
SUMMARY = "summary"
SUMMARY_FAILED = "summary_failed"
DIGEST = "digest"
QUIET_EVENTS = frozenset({SUMMARY, SUMMARY_FAILED, DIGEST})


class Journal:
    """`.corral/journal.jsonl`: written by many processes, read incrementally by byte offset."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._offset = 0
        self._partial = b""
        self._skip_first = False
        self.skipped = 0

    def append(self, event: str, agent: str | None = None, **data: Any) -> Event:
        record: Event = {"t": round(time.time(), 3), "event": event}
        if agent is not None:
            record["agent"] = agent
        record.update(data)
        line = (json.dumps(record, separators=(",", ":"), default=str) + "\n").encode()
        private_folder(self.path.parent)
        fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
        try:
            os.write(fd, line)
        finally:
            os.close(fd)
        return record

    def read_new(self) -> list[Event]:
        """Events appended since the last call; a half-written last line waits for its end."""
        try:
            with self.path.open("rb") as handle:
                handle.seek(self._offset)
                chunk = handle.read()
        except FileNotFoundError:
            return []
        self._offset += len(chunk)
        data = self._partial + chunk
        lines = data.split(b"\n")
        self._partial = lines.pop()
        if self._skip_first and lines:
            lines = lines[1:]
            self._skip_first = False
        return list(self._parse(lines))

    def start_near_end(self, tail: int) -> None:
        """Read only about the last `tail` bytes from now on: enough recent events to judge by,
        without a cost that grows with how long the agent has run."""
        try:
            size = self.path.stat().st_size
        except FileNotFoundError:
            return
        if size > tail:
            self._offset = size - tail
            self._skip_first = True

    def read_all(self) -> list[Event]:
        """Every whole event in the file; leaves the incremental position of `read_new` alone."""
        try:
            data = self.path.read_bytes()
        except FileNotFoundError:
            return []
        self.skipped = 0
        return list(self._parse(data.split(b"\n")[:-1]))

    def _parse(self, lines: Iterable[bytes]) -> Iterator[Event]:
        for raw in lines:
            if not raw.strip():
                continue
            try:
                record = json.loads(raw)
            except ValueError:
                self.skipped += 1
                continue
            if isinstance(record, dict) and isinstance(record.get("event"), str):
                yield record
            else:
                self.skipped += 1


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
