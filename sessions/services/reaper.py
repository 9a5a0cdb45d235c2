"""Waiting for the orphans a runner adopts, without taking its own children's exit status.

The runner is a child subreaper, so it becomes the parent of everything the agent leaves
behind; each of those that ends stays a zombie until the runner waits for it.
"""

from __future__ import annotations

import contextlib
import os
import subprocess
import threading
from pathlib import Path

from sessions.adapters.processes import children

TYPE_CHECKING = False  # `typing` costs every runner memory; mypy reads this as true
if TYPE_CHECKING:
    from collections.abc import Sequence
    from typing import Any


class Reaper:
    """Waits for the processes a child subreaper adopted, and only for those.

    A subreaper becomes the parent of every orphan below it, and each one that ends stays a
    zombie until its parent waits for it: an agent whose commands leave background processes
    would fill the process table. The runner's own children (the agent, a git or tmux call) are
    waited for where they were started, for their exit status: they are started through
    `popen`, which records them under the same lock the reaper holds while it reaps, so a child
    that ends before its `Popen` has even returned is still never taken from its waiter.

    The reaper's thread sleeps in `waitid(..., WNOWAIT)`, which looks at an ended child without
    reaping it, so it costs nothing while nothing ends.
    """

    def __init__(self) -> None:
        # Reentrant: a signal handler of the main thread may start a child while it holds it.
        self._lock = threading.RLock()
        self._released = threading.Condition(self._lock)
        self._own: set[int] = set()
        self._spawned = threading.Event()
        self.reaped = 0

    def start(self) -> None:
        threading.Thread(target=self._loop, name="corral-reaper", daemon=True).start()

    def popen(self, argv: Sequence[str], **kwargs: Any) -> subprocess.Popen[Any]:
        """Start a child that its caller waits for; `release` it once it has been waited for."""
        with self._lock:
            child: subprocess.Popen[Any] = subprocess.Popen(argv, **kwargs)
            self._own.add(child.pid)
        self._spawned.set()
        return child

    def release(self, child: subprocess.Popen[Any]) -> None:
        """The caller has waited for `child`: from now on its pid is anyone's."""
        with self._lock:
            self._own.discard(child.pid)
            self._released.notify_all()

    def run(
        self, argv: Sequence[str], timeout: float | None = None, **kwargs: Any
    ) -> subprocess.CompletedProcess[str]:
        """`subprocess.run(..., capture_output=True, text=True)` for a child the reaper leaves
        alone."""
        pipes = {"stdout": subprocess.PIPE, "stderr": subprocess.PIPE, "text": True}
        child = self.popen(argv, **pipes, **kwargs)
        try:
            try:
                stdout, stderr = child.communicate(timeout=timeout)
            except BaseException:
                child.kill()
                child.wait()
                raise
        finally:
            self.release(child)
        return subprocess.CompletedProcess(child.args, child.returncode, stdout, stderr)

    def reap(self) -> None:
        """Wait for every ended child that is not the runner's own, now."""
        with self._lock:
            self._reap_locked()

    def _reap_locked(self) -> bool:
        """True when one of the runner's own children has ended and waits for its waiter."""
        own_ended = False
        for pid in _children_of_self():
            if pid in self._own:
                own_ended = own_ended or _has_ended(pid)
                continue
            with contextlib.suppress(ChildProcessError):
                if os.waitpid(pid, os.WNOHANG)[0]:
                    self.reaped += 1
        return own_ended

    def _loop(self) -> None:
        while True:
            try:
                os.waitid(os.P_ALL, 0, os.WEXITED | os.WNOWAIT)
            except ChildProcessError:
                # No child at all: none can be adopted before the runner starts one.
                self._spawned.wait(1.0)
                self._spawned.clear()
                continue
            with self._lock:
                if self._reap_locked():
                    # One of its own ended: `waitid` shows it until its waiter (a moment away)
                    # takes it, so wait for that rather than spin.
                    self._released.wait(0.5)


def _children_of_self() -> list[int]:
    pid = os.getpid()
    if Path(f"/proc/{pid}/task/{pid}/children").exists():
        return children(pid)
    import psutil  # only where the kernel keeps no children lists: it costs 7 MiB

    with contextlib.suppress(psutil.Error):
        return [child.pid for child in psutil.Process(pid).children()]
    return []


def _has_ended(pid: int) -> bool:
    try:
        return os.waitid(os.P_PID, pid, os.WEXITED | os.WNOHANG | os.WNOWAIT) is not None
    except ChildProcessError:
        return True
