"""The spool: each hook payload as the agent sent it, one file per event, until corral trims it.

A Python hook entry costs a Python start-up (9 ms of CPU here) on every tool call, and the agent
waits for it. So Claude Code, Gemini CLI and the simulated agent call a shell line instead
(`hook_settings.spool_command`): it creates `$CORRAL_HOME/spool/$CORRAL_AGENT/<pid>.<n>.<kind>`
without overwriting anything and hands stdin to `cat`, about 2 ms in all. What the Python entry
did on each call (keep the scalars that matter, measure the bulky fields, classify the tool
call) happens here instead, in a process that is already running: the agent's runner now and
then, and any corral that looks at the herd right before it reads the events.

Draining keeps the order and loses nothing: files are taken oldest first, by the time their
last byte arrived; one still being written (it does not parse yet, and it is younger than a
hook may run) stops the drain there, so no later event overtakes it; the events are appended
before their files are removed, so a drain killed half-way repeats an event rather than drops
one; and one drain at a time per agent (a lock on the folder), so none is appended twice. A
payload that never became JSON is reported in `hook-errors.log` and dropped, as the Python entry
always did.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import time
from dataclasses import dataclass

from sessions.agents import hook_json
from sessions.hook import SPOOL, append_lines, build, complain, payload_of

# Claude Code gives a hook 10 s (corral's settings say so) and Gemini CLI 10 s: a file that
# still does not parse after this long will never be whole.
TORN_AFTER = 15.0
# Longer than the coarse clock's tick that stamps a folder's mtime (1-10 ms).
CLOCK_TICK = 0.05


@dataclass
class Spool:
    """One agent's spool folder, and how much of it the last drain left."""

    home: str
    agent: str
    # Where the agent's paths are relative to; None: the payload's own `cwd`.
    root: str | None = None
    # The folder's mtime when a drain last left it empty: a stat says nothing arrived since.
    _empty_at: int = -1

    @property
    def folder(self) -> str:
        return os.path.join(self.home, SPOOL, self.agent)

    def make(self) -> None:
        """The folder, private to the user; the shell entry uses it only once it exists."""
        os.makedirs(os.path.dirname(self.folder), mode=0o700, exist_ok=True)
        os.makedirs(self.folder, mode=0o700, exist_ok=True)

    def drain(self, now: float | None = None) -> int:
        """Move every whole payload into the agent's events file, trimmed; returns how many.

        Costs one `stat` when nothing arrived since the last drain left the folder empty.
        """
        try:
            if os.stat(self.folder).st_mtime_ns == self._empty_at:
                return 0
            fd = os.open(self.folder, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
        except OSError:
            return 0
        try:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except OSError:
                return 0  # another corral process is draining it right now
            return self._drain_locked(fd, time.time() if now is None else now)
        finally:
            os.close(fd)

    def _drain_locked(self, fd: int, now: float) -> int:
        waiting = sorted(_listed(fd))
        lines: list[bytes] = []
        taken: list[str] = []
        environ = {"CORRAL_HOME": self.home, "CORRAL_AGENT": self.agent}
        if self.root:
            environ["CLAUDE_PROJECT_DIR"] = self.root
        for arrived, name in waiting:
            kind = name.rpartition(".")[2]
            try:
                raw = _read(fd, name)
            except FileNotFoundError:
                continue
            young = now - arrived / 1e9 < TORN_AFTER
            try:
                if not raw.strip() and young:
                    break  # created, its payload not come yet
                payload = payload_of(raw)
            except ValueError as error:
                if young:
                    break  # still being written
                torn = f"payload {name} never became a JSON object ({error}), so it was dropped"
                complain(ValueError(torn), kind, environ)
                taken.append(name)
                continue
            try:
                record = build(payload, kind, None, arrived / 1e9, environ)
                lines.append((hook_json.dumps(record, separators=(",", ":")) + "\n").encode())
            except Exception as error:  # one odd payload must not hold up the rest
                complain(error, kind, environ)
            taken.append(name)
        if lines:
            append_lines(self.home, self.agent, b"".join(lines))
        for name in taken:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(name, dir_fd=fd)
        if len(taken) == len(waiting):
            self._mark_empty(fd)
        return len(lines)

    def _mark_empty(self, fd: int) -> None:
        """Remember the folder's mtime if it is empty and that mtime can only change.

        The kernel stamps folders with a coarse clock (a tick of a few ms), so a file created
        in the same tick as the last removal leaves the mtime as it was: the mark is set only
        once that mtime is older than any tick, when the next file is sure to move it.
        """
        stamp = os.fstat(fd).st_mtime_ns
        if time.time() - stamp / 1e9 > CLOCK_TICK and not _listed(fd):
            self._empty_at = stamp


def _listed(fd: int) -> list[tuple[int, str]]:
    """(when its last byte arrived, name) of every payload file in the folder."""
    found = []
    with os.scandir(fd) as entries:
        for entry in entries:
            if entry.name.startswith(".") or "." not in entry.name:
                continue
            with contextlib.suppress(FileNotFoundError):
                found.append((entry.stat(follow_symlinks=False).st_mtime_ns, entry.name))
    return found


def _read(fd: int, name: str) -> bytes:
    handle = os.open(name, os.O_RDONLY | os.O_CLOEXEC | os.O_NOFOLLOW, dir_fd=fd)
    try:
        chunks = []
        while chunk := os.read(handle, 1 << 20):
            chunks.append(chunk)
        return b"".join(chunks)
    finally:
        os.close(handle)
