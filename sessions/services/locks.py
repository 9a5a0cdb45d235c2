"""Task locks: the files agents write into `current_tasks/` to claim a task, and their verdicts.

A survey scans every checkout and the base branch (`lock_scan`, which parses each file with
`lock_files` and finds its holder with `lock_history`) and judges each lock against the herd's
states: stale when too old, marked done, or its holder stopped; orphaned when its holder is no
agent of the herd. Looking is read-only and cheap; releasing (`lock_release`) is the only write,
and it commits nothing but the lock's deletion.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path

from sessions.adapters.git_memo import GitMemo
from sessions.core.lock_values import Lock, LockReport, LockVerdict
from sessions.core.model import Checkout
from sessions.core.rules import LockRules
from sessions.services.lock_scan import scan

STOPPED_STATES = ("exited", "crash_looping", "shelved")
DONE_STATUSES = frozenset({"done", "complete", "completed", "finished", "released", "closed"})
AgentStates = Mapping[str, tuple[str, float | None]]


def judge(
    locks: Iterable[Lock], states: AgentStates, rules: LockRules, now: float
) -> tuple[LockVerdict, ...]:
    """Each lock's verdict: stale when too old, marked done, or its holder stopped or sat idle
    too long; orphaned (and stale) when its holder is no agent of the herd."""
    return tuple(_verdict(lock, states, rules, now) for lock in locks)


def _verdict(lock: Lock, states: AgentStates, rules: LockRules, now: float) -> LockVerdict:
    age = None if lock.created_at is None else max(0.0, now - lock.created_at)
    claimed = "at an unknown time" if age is None else f"{_duration(age)} ago"
    if lock.holder is not None and lock.holder not in states:
        reason = f"held by {lock.holder}, which is no longer an agent of the herd"
        return LockVerdict(lock, age, True, True, _unreadable(lock, reason), "orphaned")
    stopped = _holder_stopped(lock, states, rules, now)
    if stopped is not None:
        reason, cause = stopped
        return LockVerdict(lock, age, True, False, _unreadable(lock, reason), cause)
    holder = f"held by {lock.holder_name}"
    if lock.status and lock.status.strip().lower() in DONE_STATUSES:
        reason = f"{holder}, marked {lock.status} but never removed"
        return LockVerdict(lock, age, True, False, _unreadable(lock, reason), "marked done")
    limit = _duration(rules.stale_after)
    if age is not None and age > rules.stale_after:
        reason = f"{holder}, claimed {claimed}, past the {limit} limit"
        return LockVerdict(lock, age, True, False, _unreadable(lock, reason), f"older than {limit}")
    state = states[lock.holder][0] if lock.holder is not None else None
    doing = f" ({state.replace('_', ' ')})" if state else ""
    reason = f"{holder}{doing}, claimed {claimed}"
    return LockVerdict(lock, age, False, False, _unreadable(lock, reason), "")


def _holder_stopped(
    lock: Lock, states: AgentStates, rules: LockRules, now: float
) -> tuple[str, str] | None:
    if lock.holder is None:
        return None
    state, since = states[lock.holder]
    held = f"held by {lock.holder}"
    ago = "" if since is None else f" {_duration(max(0.0, now - since))} ago"
    if state == "exited":
        return f"{held}, which exited{ago}", "exited"
    if state == "shelved":
        return f"{held}, which was shelved{ago}", "shelved"
    if state == "crash_looping":
        lasting = "" if since is None else f" for {_duration(max(0.0, now - since))}"
        return f"{held}, which has been crash looping{lasting}", "crash looping"
    if state == "idle" and since is not None and now - since > rules.idle_after:
        idle = _duration(now - since)
        return f"{held}, idle for {idle} (limit {_duration(rules.idle_after)})", f"idle {idle}"
    return None


def _unreadable(lock: Lock, reason: str) -> str:
    return reason if lock.readable else f"{reason}; the file could not be read"


def _duration(seconds: float) -> str:
    """Short and round, as a person says it: 45 s, 14 min, 1 h 12 min, 3 d 4 h."""
    whole = int(seconds)
    if whole < 60:
        return f"{whole} s"
    minutes = whole // 60
    if minutes < 60:
        return f"{minutes} min"
    hours, minutes = divmod(minutes, 60)
    if hours < 24:
        return f"{hours} h {minutes} min" if minutes else f"{hours} h"
    days, hours = divmod(hours, 24)
    return f"{days} d {hours} h" if hours else f"{days} d"


def survey(
    repo_root: Path,
    base: str,
    checkouts: Sequence[Checkout],
    states: AgentStates,
    now: float,
    rules: LockRules = LockRules(),
    memo: GitMemo | None = None,
) -> LockReport:
    """Scan and judge in one call: what the app and `--json` show."""
    found = scan(repo_root, base, checkouts, rules, memo)
    return LockReport(verdicts=judge(found.locks, states, rules, now), completed=found.completed)
