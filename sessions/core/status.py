"""From evidence to a state and the reason for it: a pure function, tested on recorded inputs.

No single source is trusted alone. Hooks are the fastest sign that a turn started or a dialog
opened, but none fires on an interrupt or a "No"; the screen says what is really shown, but only
for kinds whose patterns are known; the process says alive or frozen, but CPU is as low during a
silent model call as when idle. So the order is: what the process and corral's own journal know
for sure (gone, exited, frozen, shelved), then a dialog or a working footer on screen, then a
hook newer than the screen's last change, then the screen, then hooks alone.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from sessions.core.activity import Activity
from sessions.core.fold import AgentRecord
from sessions.core.model import PaneInfo, ProcFacts, State
from sessions.core.screen_rules import Look

STARTING_SECONDS = 3.0
# A hook newer than the screen's last change wins for this long; then the screen has had time
# to show the same thing (Claude Code redraws within 0.3 s) and wins again.
HOOK_GRACE = 3.0
# Without hooks or screen patterns, a write this recent means the agent is at work.
RECENT_WRITES = 10.0


@dataclass(frozen=True)
class Verdict:
    state: State
    reason: str
    since: float | None


@dataclass(frozen=True)
class ScreenState:
    """The screen's reading and since when it has read so."""

    look: Look
    detail: str
    since: float


@dataclass(frozen=True)
class Evidence:
    """Everything known about one agent at `now`."""

    name: str
    now: float
    record: AgentRecord | None = None
    pane: PaneInfo | None = None
    process: ProcFacts | None = None
    screen: ScreenState | None = None
    activity: Activity | None = None


def clock(t: float | None) -> str:
    return time.strftime("%H:%M:%S", time.localtime(t)) if t else "an unknown time"


def ago(now: float, t: float) -> str:
    seconds = max(0, int(now - t))
    return f"{seconds} s ago" if seconds < 120 else f"at {clock(t)}"


def derive(evidence: Evidence) -> Verdict:
    name, record, pane = evidence.name, evidence.record, evidence.pane
    if record is not None and record.shelved:
        return Verdict(
            State.SHELVED,
            f"shelved at {clock(record.shelved_since)}; `corral unshelve {name}` resumes it",
            record.shelved_since,
        )
    if pane is None:
        return Verdict(
            State.EXITED,
            f"its tmux pane is gone (was the tmux server stopped?); `corral up {name}` restarts it",
            record.last_t if record else None,
        )
    if pane.dead:
        return _dead_pane(name, record, pane)
    process = evidence.process
    if process is None or not process.alive:
        return _between_runs(name, record, evidence.now)
    if process.stopped:
        return _frozen(name, record, evidence.now)
    return _live(evidence)


def _dead_pane(name: str, record: AgentRecord | None, pane: PaneInfo) -> Verdict:
    if pane.dead_status is None and pane.dead_signal:
        return Verdict(
            State.EXITED,
            f"its runner was killed by signal {pane.dead_signal}; `corral up {name}` "
            "starts it again",
            record.last_t if record else None,
        )
    return _ended(name, record, pane.dead_status)


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
    with_code = f" with code {code}" if code is not None else ""
    return Verdict(State.EXITED, f"{how}{with_code} at {clock(since)}", since)


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


def _frozen(name: str, record: AgentRecord | None, now: float) -> Verdict:
    if record is not None and record.paused:
        return Verdict(
            State.PAUSED,
            f"paused by corral at {clock(record.paused_since)}; `corral resume {name}`",
            record.paused_since,
        )
    return Verdict(State.PAUSED, "its processes were stopped by a signal outside corral", now)


def _live(evidence: Evidence) -> Verdict:
    """A running, unfrozen agent: working, needs input or idle, from screen and hooks."""
    name, record, now = evidence.name, evidence.record, evidence.now
    if record is not None and record.paused:
        return Verdict(
            State.WORKING,
            f"paused by corral at {clock(record.paused_since)}, but something outside corral "
            f"continued it; `corral pause {name}` or `corral up` freezes it again",
            now,
        )
    screen, activity = evidence.screen, evidence.activity or Activity()
    started = record.run_started if record else None
    fresh = started is not None and now - started < STARTING_SECONDS
    if screen is None or screen.look is Look.UNKNOWN:
        if fresh and activity.said() is None and activity.file_write_t is None:
            return Verdict(State.STARTING, f"run started at {clock(started)}", started)
        return _from_hooks(evidence, activity, screen)
    return _from_screen(evidence, screen, activity)


def _from_screen(evidence: Evidence, screen: ScreenState, activity: Activity) -> Verdict:
    now = evidence.now
    on_screen = f"{screen.detail} on screen since {clock(screen.since)}"
    if screen.look in (Look.DIALOG, Look.QUESTION):
        return Verdict(State.NEEDS_INPUT, on_screen, screen.since)
    if screen.look is Look.WORKING:
        return Verdict(State.WORKING, on_screen, screen.since)
    if screen.look is Look.BACKGROUND:
        return Verdict(State.WORKING, on_screen, screen.since)
    if activity.open_subagents > 0 and activity.working_t is not None:
        return Verdict(
            State.WORKING,
            f"{activity.open_subagents} subagent(s) running since {clock(activity.working_t)}",
            activity.working_t,
        )
    said = activity.said()
    if said is not None and said[1] > screen.since and now - said[1] < HOOK_GRACE:
        newer = _hook_verdict(evidence, activity, said)
        if newer.state is not State.IDLE:
            return newer
    if screen.look is Look.EXITED:
        return Verdict(State.IDLE, f"{screen.detail} (its process is still closing)", screen.since)
    return Verdict(State.IDLE, _idle_reason(on_screen, activity, now), screen.since)


def _api_error(activity: Activity, now: float) -> str | None:
    if activity.error and activity.idle_t is not None and activity.idle_event == "StopFailure":
        return f"turn ended by an API error ({activity.error}) {ago(now, activity.idle_t)}"
    return None


def _idle_reason(on_screen: str, activity: Activity, now: float) -> str:
    error = _api_error(activity, now)
    if error:
        return f"{error}; {on_screen}"
    said = activity.said()
    if said is None:
        return on_screen
    what, t = said
    if what == "idle":
        return f"{on_screen}; hook {activity.idle_event} {ago(now, t)}"
    last = activity.working_event or "a dialog"
    return f"{on_screen}; no hook since {last} {ago(now, t)} (interrupted?)"


def _from_hooks(evidence: Evidence, activity: Activity, screen: ScreenState | None) -> Verdict:
    said = activity.said()
    writes = activity.file_write_t
    if (
        writes is not None
        and evidence.now - writes < RECENT_WRITES
        and (said is None or writes > said[1])
    ):
        return Verdict(State.WORKING, f"files written {ago(evidence.now, writes)}", writes)
    if said is None:
        process = evidence.process
        pid = f" {process.pid}" if process else ""
        why = screen.detail if screen is not None else "no screen reading"
        return Verdict(
            State.WORKING,
            f"process{pid} running; no hook yet and {why}, so corral cannot tell idle from busy",
            evidence.record.run_started if evidence.record else None,
        )
    return _hook_verdict(evidence, activity, said)


def _hook_verdict(evidence: Evidence, activity: Activity, said: tuple[str, float]) -> Verdict:
    what, t = said
    now = evidence.now
    if what == "needs_input":
        return Verdict(
            State.NEEDS_INPUT, f"hook asked for {activity.needs_detail} {ago(now, t)}", t
        )
    if what == "working":
        return Verdict(State.WORKING, f"hook {activity.working_event} {ago(now, t)}", t)
    if activity.error and activity.idle_event == "StopFailure":
        return Verdict(
            State.IDLE, f"turn ended by an API error ({activity.error}) {ago(now, t)}", t
        )
    return Verdict(State.IDLE, f"hook {activity.idle_event} {ago(now, t)}", t)
