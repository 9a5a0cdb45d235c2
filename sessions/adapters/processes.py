"""The agents' processes: which process is the agent, and freezing and thawing its tree.

The pane's own process is corral's runner. tmux continues a stopped pane process at once, so a
freeze stops the agent and everything below it, never the runner. The whole process table is
read once per look (`ProcessTable`), from the runners down.

Trees are read from /proc's per-thread `children` lists and `stat` files. psutil, which would
do the same, is loaded only where a kernel lacks those lists or a process's name is wanted: it
costs every runner (one per pane, living as long as the agent) 7 MiB of memory.
"""

from __future__ import annotations

import os
import signal
from collections import defaultdict
from collections.abc import Sequence
from pathlib import Path

from sessions.core.errors import AgentError

TYPE_CHECKING = False  # mypy reads this as true, Python as false
if TYPE_CHECKING:
    from sessions.core.model import ProcFacts

SHELLS = frozenset({"bash", "sh", "zsh", "fish", "dash", "ksh", "tcsh", "csh"})


_STATES = {"R": "running", "S": "sleeping", "D": "disk-sleep", "T": "stopped", "t": "tracing-stop"}
_STATES.update({"Z": "zombie", "X": "dead", "I": "idle", "P": "parked", "W": "waking"})
ZOMBIE, DEAD, STOPPED = "zombie", "dead", "stopped"  # as psutil names them too
_TICKS = os.sysconf("SC_CLK_TCK")
_PAGE = os.sysconf("SC_PAGE_SIZE")


class ProcessTable:
    """One snapshot of the process trees below the herd's runners.

    It walks down from the runners through /proc's per-thread `children` lists and reads one
    `stat` file per process, so a look costs in proportion to the herd's own processes, not to
    everything running on the machine. Where the kernel lacks those lists it reads every process
    once instead.
    """

    def __init__(self, roots: Sequence[int] = ()) -> None:
        self.children: dict[int, list[int]] = defaultdict(list)
        self.status: dict[int, str] = {}
        self.cpu: dict[int, float] = {}
        self.rss: dict[int, int] = {}
        self.started: dict[int, int] = {}  # clock ticks after boot: only compared
        if not self._walk(roots):
            self._scan_all()

    def _walk(self, roots: Sequence[int]) -> bool:
        if roots and not Path(f"/proc/{os.getpid()}/task/{os.getpid()}/children").exists():
            return False
        stack = list(roots)
        while stack:
            pid = stack.pop()
            if pid in self.status or not self._read_stat(pid):
                continue
            kids = children(pid)
            self.children[pid] = kids
            stack.extend(kids)
        return True

    def _read_stat(self, pid: int) -> bool:
        try:
            with open(f"/proc/{pid}/stat", "rb") as handle:
                fields = handle.read().rsplit(b")", 1)[1].split()
        except (OSError, IndexError):
            return False
        self.status[pid] = _STATES.get(fields[0].decode(), "unknown")
        self.cpu[pid] = (int(fields[11]) + int(fields[12])) / _TICKS
        self.rss[pid] = int(fields[21]) * _PAGE
        self.started[pid] = int(fields[19])
        return True

    def _scan_all(self) -> None:
        import psutil

        fields = ["pid", "ppid", "status", "cpu_times", "memory_info", "create_time"]
        for proc in psutil.process_iter(fields):
            info = proc.info
            pid = info["pid"]
            self.started[pid] = int((info.get("create_time") or 0.0) * _TICKS)
            self.children[info["ppid"] or 0].append(pid)
            self.status[pid] = info["status"] or ""
            times = info.get("cpu_times")
            self.cpu[pid] = times.user + times.system if times else 0.0
            memory = info.get("memory_info")
            self.rss[pid] = memory.rss if memory else 0

    def agent_pid(self, runner_pid: int, run_pid: int | None) -> int | None:
        """The agent is the process the runner journaled for this run, while it is its child.

        The runner has other children at times (a tmux call after a run, processes the agent
        left behind), so "any child" would name the wrong process.
        """
        if run_pid is None or run_pid not in self.children.get(runner_pid, []):
            return None
        return run_pid if self.status.get(run_pid) != ZOMBIE else None

    def first_child(self, runner_pid: int) -> int | None:
        """The runner's oldest live child: while a run goes on, that is its agent.

        Only for when the journal cannot name the run's process (it was deleted under a running
        herd). Whatever else the runner has below it starts after its agent (what the agent
        leaves behind, a tmux call typing the first prompt) or has ended before the agent
        started (the git call noting where the run began).
        """
        live = [
            pid
            for pid in self.children.get(runner_pid, [])
            if self.status.get(pid) not in (None, ZOMBIE, DEAD)
        ]
        return min(live, key=lambda pid: (self.started.get(pid, 0), pid), default=None)

    def descendants(self, pid: int) -> list[int]:
        found: list[int] = []
        stack = [pid]
        while stack:
            current = stack.pop()
            found.append(current)
            stack.extend(self.children.get(current, []))
        return found

    def facts(self, pid: int) -> ProcFacts:
        # Imported here: the runner in every pane uses this module without the herd's values.
        from sessions.core.model import ProcFacts

        tree = [p for p in self.descendants(pid) if p in self.status]
        live = [p for p in tree if self.status[p] != ZOMBIE]
        statuses = [self.status[p] for p in live]
        return ProcFacts(
            pid=pid,
            alive=bool(statuses),
            stopped=bool(statuses) and all(s == STOPPED for s in statuses),
            processes=len(statuses),
            cpu_seconds=sum(self.cpu.get(p, 0.0) for p in live),
            rss_bytes=sum(self.rss.get(p, 0) for p in live),
        )


def children(pid: int) -> list[int]:
    """Children of every thread of `pid`: a multithreaded agent (Node) forks from any of them."""
    kids: list[int] = []
    try:
        threads = os.listdir(f"/proc/{pid}/task")
    except OSError:
        return kids
    for tid in threads:
        try:
            with open(f"/proc/{pid}/task/{tid}/children", "rb") as handle:
                kids += [int(word) for word in handle.read().split()]
        except OSError:
            continue
    return kids


def _signal_tree(pid: int, sig: signal.Signals, rounds: int = 5) -> tuple[int, list[int]]:
    """Send `sig` to `pid` and its descendants, top-down, until no new process appears.

    Stopping the parent first keeps it from starting children the pass would miss; repeating
    the pass catches any that were forked while it ran. Returns how many processes got the
    signal, and the pids that refused it (owned by another user).
    """
    seen: set[int] = set()
    sent = 0
    refused: list[int] = []
    for _ in range(rounds):
        found = tree(pid)
        if not found:
            break
        fresh = [each for each in found if each not in seen]
        if not fresh:
            break
        for each in fresh:
            seen.add(each)
            if state(each) in (None, ZOMBIE, DEAD):
                continue
            try:
                os.kill(each, sig)
                sent += 1
            except PermissionError:
                refused.append(each)
            except ProcessLookupError:
                continue
    return sent, refused


def state(pid: int) -> str | None:
    """The process's state as /proc says it (`running`, `stopped`, `zombie`...), None when
    it is gone."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as handle:
            letter = handle.read().rsplit(b")", 1)[1].split()[0].decode()
    except (OSError, IndexError, UnicodeDecodeError):
        return None
    return _STATES.get(letter, "unknown")


def tree(pid: int) -> list[int]:
    """`pid` and every process below it, parents first; empty when `pid` is gone."""
    if state(pid) is None:
        return []
    if not Path(f"/proc/{pid}/task/{pid}/children").exists():
        return _tree_without_children_lists(pid)
    found, stack = [], [pid]
    while stack:
        current = stack.pop(0)
        found.append(current)
        stack.extend(child for child in children(current) if child not in found)
    return found


def _tree_without_children_lists(pid: int) -> list[int]:
    import psutil

    try:
        root = psutil.Process(pid)
        return [pid, *(proc.pid for proc in root.children(recursive=True))]
    except psutil.Error:
        return []


def freeze(agent_pid: int) -> int:
    """Stop the agent's whole tree, or none of it: a half-frozen agent would be a lie."""
    sent, refused = _signal_tree(agent_pid, signal.SIGSTOP)
    if refused:
        _signal_tree(agent_pid, signal.SIGCONT)
        raise AgentError(
            f"cannot freeze process {refused[0]} below the agent (another user owns it, "
            "perhaps through sudo): nothing was paused."
        )
    return sent


def thaw(agent_pid: int) -> int:
    return _signal_tree(agent_pid, signal.SIGCONT)[0]


def terminate_tree(pid: int, sig: signal.Signals = signal.SIGTERM) -> None:
    """Ask a tree to end: a stopped process cannot handle SIGTERM, so continue it first.

    A request to end goes to the processes there are now, once: an agent ending gracefully
    starts its shutdown hooks (Claude Code's SessionEnd, say), and chasing those new children
    with the same signal would kill them before they report. What is left once the agent has
    gone is swept up by its runner; SIGKILL still chases every fork.
    """
    _signal_tree(pid, signal.SIGCONT)
    _signal_tree(pid, sig, rounds=5 if sig == signal.SIGKILL else 1)


def is_frozen(agent_pid: int) -> bool:
    live = [s for s in map(state, tree(agent_pid)) if s not in (None, ZOMBIE, DEAD)]
    return bool(live) and all(s == STOPPED for s in live)


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
    import psutil

    try:
        if foreground <= 0 or foreground == os.getpgid(runner_pid):
            return None
        tree = psutil.Process(runner_pid).children(recursive=True)
    except (psutil.Error, ProcessLookupError):
        return None
    for proc in tree:
        try:
            if os.getpgid(proc.pid) != foreground:
                continue
            if proc.name() in SHELLS:
                return proc.name()
            parent = proc.parent()
            return parent.name() if parent else proc.name()
        except (psutil.Error, ProcessLookupError):
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
