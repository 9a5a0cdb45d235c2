"""The agents' processes: which process is the agent, and freezing and thawing its tree.

The pane's own process is corral's runner. tmux continues a stopped pane process at once, so a
freeze stops the agent and everything below it, never the runner. The whole process table is
read once per look (`ProcessTable`), so looking at 30 agents costs one pass over /proc, not 30.
"""

from __future__ import annotations

import os
import signal
from collections import defaultdict
from dataclasses import dataclass

import psutil

from sessions.errors import AgentError

SHELLS = frozenset({"bash", "sh", "zsh", "fish", "dash", "ksh", "tcsh", "csh"})


@dataclass(frozen=True)
class ProcFacts:
    """What psutil says about an agent's process tree at one moment."""

    pid: int
    name: str
    alive: bool
    stopped: bool
    processes: int
    rss: int


class ProcessTable:
    """One snapshot of parent/child links and statuses for every process on the machine."""

    def __init__(self) -> None:
        self.children: dict[int, list[int]] = defaultdict(list)
        self.status: dict[int, str] = {}
        self.names: dict[int, str] = {}
        self.rss: dict[int, int] = {}
        for proc in psutil.process_iter(["pid", "ppid", "status", "name", "memory_info"]):
            info = proc.info
            pid = info["pid"]
            self.children[info["ppid"] or 0].append(pid)
            self.status[pid] = info["status"] or ""
            self.names[pid] = info["name"] or ""
            memory = info.get("memory_info")
            self.rss[pid] = memory.rss if memory else 0

    def agent_pid(self, runner_pid: int) -> int | None:
        """The agent is the runner's child; a runner between runs has none."""
        kids = [
            pid for pid in self.children.get(runner_pid, []) if self.status.get(pid) != "zombie"
        ]
        return min(kids) if kids else None

    def descendants(self, pid: int) -> list[int]:
        found: list[int] = []
        stack = [pid]
        while stack:
            current = stack.pop()
            found.append(current)
            stack.extend(self.children.get(current, []))
        return found

    def facts(self, pid: int) -> ProcFacts:
        tree = [p for p in self.descendants(pid) if p in self.status]
        statuses = [self.status[p] for p in tree if self.status[p] != "zombie"]
        return ProcFacts(
            pid=pid,
            name=self.names.get(pid, ""),
            alive=bool(statuses),
            stopped=bool(statuses) and all(s == psutil.STATUS_STOPPED for s in statuses),
            processes=len(statuses),
            rss=sum(self.rss.get(p, 0) for p in tree),
        )


def _signal_tree(pid: int, sig: signal.Signals, rounds: int = 5) -> int:
    """Send `sig` to `pid` and its descendants, top-down, until no new process appears.

    Stopping the parent first keeps it from starting children the pass would miss; repeating
    the pass catches any that were forked while it ran.
    """
    signalled: set[int] = set()
    for _ in range(rounds):
        try:
            root = psutil.Process(pid)
            tree = [root, *root.children(recursive=True)]
        except psutil.NoSuchProcess:
            break
        fresh = [proc for proc in tree if proc.pid not in signalled]
        if not fresh:
            break
        for proc in fresh:
            try:
                proc.send_signal(sig)
                signalled.add(proc.pid)
            except psutil.NoSuchProcess:
                continue
    return len(signalled)


def freeze(agent_pid: int) -> int:
    return _signal_tree(agent_pid, signal.SIGSTOP)


def thaw(agent_pid: int) -> int:
    return _signal_tree(agent_pid, signal.SIGCONT)


def terminate_tree(pid: int, sig: signal.Signals = signal.SIGTERM) -> None:
    """Ask a tree to end: a stopped process cannot handle SIGTERM, so continue it first."""
    _signal_tree(pid, signal.SIGCONT)
    _signal_tree(pid, sig)


def is_frozen(agent_pid: int) -> bool:
    try:
        root = psutil.Process(agent_pid)
        tree = [root, *root.children(recursive=True)]
        return all(p.status() == psutil.STATUS_STOPPED for p in tree)
    except psutil.NoSuchProcess:
        return False


def job_control_owner(runner_pid: int) -> str | None:
    """Name of an interactive shell that took the terminal, or None when none did.

    Freezing a job through a job-control shell leaves the terminal in the wrong mode, so a
    freeze is refused when the terminal's foreground process group is not the runner's.
    """
    try:
        with open(f"/proc/{runner_pid}/stat") as handle:
            fields = handle.read().rsplit(")", 1)[1].split()
    except OSError:
        return None
    foreground = int(fields[5])
    if foreground <= 0 or foreground == os.getpgid(runner_pid):
        return None
    for proc in psutil.Process(runner_pid).children(recursive=True):
        try:
            if proc.name() in SHELLS and os.getpgid(proc.pid) == foreground:
                return proc.name()
            if os.getpgid(proc.pid) == foreground:
                parent = proc.parent()
                return parent.name() if parent else proc.name()
        except (psutil.NoSuchProcess, ProcessLookupError):
            continue
    return "another process group"


def refuse_job_control(agent: str, runner_pid: int) -> None:
    owner = job_control_owner(runner_pid)
    if owner is not None:
        raise AgentError(
            f"{agent}'s terminal is run by an interactive shell with job control ({owner}); "
            "freezing it would leave the terminal in the wrong mode: stop its job in the pane "
            "instead (`corral attach` it)."
        )
