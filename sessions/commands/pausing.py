"""Pausing and resuming one located agent: its process tree below the runner is frozen or
thawed, and the journal says so, since a pause is what the fold shows as `paused`.

The order matters for never stranding an agent: the tree is frozen first, then journaled, and a
journal that cannot take the line thaws it again, because a pause the journal does not know of
would show as working while the agent is stopped for good.
"""

from __future__ import annotations

from sessions.adapters import processes
from sessions.adapters.journal import Journal
from sessions.core.errors import AgentError, JournalError
from sessions.core.model import AgentView, State
from sessions.core.outcome import Outcome


def running(view: AgentView) -> tuple[int, int]:
    """The agent's process and its runner's, or the refusal an action on a stopped agent gets."""
    if view.runner_pid is None or view.pid is None:
        raise AgentError(f"{view.name} is not running ({view.state.value}: {view.reason}).")
    return view.pid, view.runner_pid


def pause(journal: Journal, view: AgentView) -> Outcome:
    name = view.name
    pid, runner_pid = running(view)
    if view.state is State.PAUSED:
        return Outcome(name, "pause", f"{name} is already paused")
    processes.refuse_job_control(name, runner_pid)
    count = processes.freeze(pid)
    if count == 0:
        raise AgentError(f"{name} is not running: its process ended before it could pause.")
    try:
        journal.append("pause", name, pid=pid, processes=count)
    except JournalError as error:
        processes.thaw(pid)
        raise AgentError(f"{name} was left running: {error}") from error
    return Outcome(name, "pause", f"{name} paused ({count} processes stopped)")


def resume(journal: Journal, view: AgentView) -> Outcome:
    pid, _ = running(view)
    count = processes.thaw(pid)
    journal.append("resume", view.name, pid=pid, processes=count)
    return Outcome(view.name, "resume", f"{view.name} resumed ({count} processes)")
