"""Raw mode, bracketed paste and signals, with one idempotent way back to a sane terminal.

The pane outlives the simulated agent (corral's runner, or a shell, takes it over), so every
exit path must leave the tty cooked, echoing, with the cursor shown and bracketed paste off.
Signals only set flags and wake the main loop through a pipe; the loop decides what to do, so
no handler ever runs in the middle of a file write.
"""

from __future__ import annotations

import contextlib
import os
import signal
import termios
import tty
from types import FrameType
from typing import Any

RESTORE = "\x1b[?2004l\x1b[?25h\x1b[0m"
ENTER = "\x1b[?2004h"
# Signals the main loop reacts to; SIGCHLD is here only to wake it when a command ends.
WATCHED = (
    signal.SIGTERM,
    signal.SIGHUP,
    signal.SIGINT,
    signal.SIGCONT,
    signal.SIGWINCH,
    signal.SIGCHLD,
)
ENDING = frozenset({signal.SIGTERM, signal.SIGHUP, signal.SIGINT})


class Terminal:
    def __init__(self, fd_in: int = 0, fd_out: int = 1) -> None:
        self.fd_in = fd_in
        self.fd_out = fd_out
        self._saved: list[Any] | None = None
        self._active = False
        self.dead = False

    def enter(self) -> None:
        if os.isatty(self.fd_in):
            with contextlib.suppress(termios.error):
                self._saved = termios.tcgetattr(self.fd_in)
        self._active = True
        self.reenter()

    def reenter(self) -> None:
        """Puts raw mode and bracketed paste back, e.g. after a stop that let others at the tty."""
        if not self._active:
            return
        if self._saved is not None:
            with contextlib.suppress(termios.error, OSError):
                tty.setraw(self.fd_in, termios.TCSADRAIN)
        self.write(ENTER)

    def restore(self) -> None:
        if not self._active:
            return
        self._active = False
        self.write(RESTORE)
        if self._saved is not None:
            with contextlib.suppress(termios.error, OSError):
                termios.tcsetattr(self.fd_in, termios.TCSADRAIN, self._saved)

    def write(self, text: str) -> None:
        """Writes all of `text`; a vanished pty (EIO after the pane closed) is not an error."""
        if self.dead:
            return
        data = text.encode()
        while data:
            try:
                written = os.write(self.fd_out, data)
            except BlockingIOError:
                continue
            except OSError:
                self.dead = True
                return
            data = data[written:]

    def size(self) -> tuple[int, int]:
        try:
            columns, lines = os.get_terminal_size(self.fd_out)
        except OSError:
            return 80, 24
        return (columns or 80), (lines or 24)


class Signals:
    """Collects signals as flags and makes them wake `select` through a self-pipe."""

    def __init__(self, terminal: Terminal) -> None:
        self._terminal = terminal
        self._read, self._write = os.pipe()
        os.set_blocking(self._read, False)
        os.set_blocking(self._write, False)
        self._pending: set[int] = set()

    def install(self) -> None:
        signal.set_wakeup_fd(self._write, warn_on_full_buffer=False)
        for number in WATCHED:
            signal.signal(number, self._handle)
        signal.signal(signal.SIGTSTP, self._stop)

    def fileno(self) -> int:
        return self._read

    def take(self) -> set[int]:
        with contextlib.suppress(BlockingIOError):
            while os.read(self._read, 512):
                pass
        taken, self._pending = self._pending, set()
        return taken

    def _handle(self, number: int, frame: FrameType | None) -> None:
        self._pending.add(number)

    def _stop(self, number: int, frame: FrameType | None) -> None:
        """A polite stop (SIGTSTP): hand back a sane tty, stop, and take it again on SIGCONT."""
        self._terminal.restore()
        os.kill(os.getpid(), signal.SIGSTOP)
        self._terminal.enter()
        self._pending.add(signal.SIGCONT)
