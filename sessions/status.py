"""From evidence to a state and the reason for it: a pure function, so it can be tested alone.

This first version knows what the journal, tmux and the process table say. Hooks, transcripts
and the screen refine `working` into working, needs input and idle later; until then any live,
unpaused agent is `working`, and the reason says which evidence that rests on.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from sessions.journal import AgentRecord
from sessions.model import PaneInfo, State
from sessions.processes import ProcFacts

STARTING_SECONDS = 3.0


@dataclass(frozen=True)
class Verdict:
    state: State
    reason: str
    since: float | None


def clock(t: float | None) -> str:
    return time.strftime("%H:%M:%S", time.localtime(t)) if t else "an unknown time"


def derive(
    name: str,
    record: AgentRecord | None,
    pane: PaneInfo | None,
    agent: ProcFacts | None,
    now: float,
) -> Verdict:
    """The state of one agent; `agent` is the runner's child process tree, if there is one."""
    if record is not None and record.shelved:
        return Verdict(
            State.SHELVED,
            f"shelved at {clock(record.shelved_since)}; `corral unshelve {name}` resumes it",
            record.shelved_since,
        )
    if pane is None:
        since = record.last_t if record else None
        return Verdict(
            State.EXITED,
            f"its tmux pane is gone (was the tmux server stopped?); `corral up {name}` restarts it",
            since,
        )
    if pane.dead:
        if pane.dead_status is None and pane.dead_signal:
            return Verdict(
                State.EXITED,
                f"its runner was killed by signal {pane.dead_signal}; `corral up {name}` "
                "starts it again",
                record.last_t if record else None,
            )
        return _ended(name, record, pane.dead_status)
    if agent is not None and agent.alive:
        return _running(name, record, agent, now)
    return _between_runs(name, record, now)


def _ended(name: str, record: AgentRecord | None, status: int | None) -> Verdict:
    since = record.run_ended if record and record.run_ended else (record.last_t if record else None)
    if record is not None and record.crash_looping:
        return Verdict(
            State.CRASH_LOOPING,
            f"ended {record.short_streak} times in a row, each run shorter than the crash limit; "
            f"restarts stopped at {clock(record.last_t)}: fix the cause, then "
            f"`corral restart {name}`",
            record.last_t,
        )
    if record is not None and record.end_reason in ("not_found", "worktree_missing"):
        message = record.end_message or "its command is not installed or not on PATH"
        return Verdict(State.EXITED, message.removeprefix(f"cannot start {name}: "), since)
    code = record.exit_code if record and record.exit_code is not None else status
    how = "stopped by corral" if record and record.end_reason == "stopped" else "exited"
    return Verdict(State.EXITED, f"{how} with code {code} at {clock(since)}", since)


def _running(name: str, record: AgentRecord | None, agent: ProcFacts, now: float) -> Verdict:
    started = record.run_started if record else None
    if agent.stopped:
        if record is not None and record.paused:
            return Verdict(
                State.PAUSED,
                f"paused by corral at {clock(record.paused_since)}; `corral resume {name}`",
                record.paused_since,
            )
        return Verdict(State.PAUSED, "its processes were stopped by a signal outside corral", now)
    if record is not None and record.paused:
        return Verdict(
            State.WORKING,
            f"paused by corral at {clock(record.paused_since)}, but something outside corral "
            f"continued it; `corral pause {name}` or `corral up` freezes it again",
            now,
        )
    if started is not None and now - started < STARTING_SECONDS:
        return Verdict(State.STARTING, f"run started at {clock(started)}", started)
    runs = f" (run {record.runs})" if record and record.runs > 1 else ""
    return Verdict(
        State.WORKING,
        f"process {agent.pid} running since {clock(started)}{runs}",
        started,
    )


def _between_runs(name: str, record: AgentRecord | None, now: float) -> Verdict:
    if record is None or record.runs == 0:
        return Verdict(State.STARTING, "its runner is starting the agent", now)
    if record.launched is not None and record.launched > (record.run_started or 0):
        return Verdict(State.STARTING, "its runner is starting the agent", record.launched)
    if record.crash_looping:
        return _ended(name, record, record.exit_code)
    if record.waiting_until is not None and record.waiting_until >= now - 1:
        left = max(0.0, record.waiting_until - now)
        return Verdict(
            State.EXITED,
            f"exited with code {record.exit_code} at {clock(record.run_ended)}; "
            f"restarting in {left:.0f} s",
            record.run_ended,
        )
    return _ended(name, record, record.exit_code)
