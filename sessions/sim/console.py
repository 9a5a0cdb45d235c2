"""The terminal side of the simulated agent: one `select` loop for keys, signals and frames.

Everything that takes time in a session (thinking, waiting for a prompt or an answer, running a
command) waits in `pump`, so keys, signals and the spinner are handled the same way everywhere:
Esc interrupts a running command as readily as a think, and SIGTERM never lands mid-write.
"""

from __future__ import annotations

import os
import select
import signal
import time
from collections import deque

from sessions.sim import editor as keys
from sessions.sim.editor import Key, LineEditor
from sessions.sim.screen import GLYPH_SECONDS, SPIN, Painter, SimScreen, View, compose
from sessions.sim.terminal import ENDING, Signals, Terminal

ESC_DELAY = 0.05
FRAME_SECONDS = 0.125
CTRL_C_WINDOW = 2.0


class Exit(Exception):
    """Ends the session with `code` after the terminal is restored."""

    def __init__(self, code: int) -> None:
        super().__init__(code)
        self.code = code


class Console:
    """Reads keys into prompts, answers and interrupts, and paints at most ~8 frames a second.

    It only records what the user did (`prompts`, `answer`, `interrupted`); the session decides
    what that means for the turn.
    """

    def __init__(self, terminal: Terminal, signals: Signals) -> None:
        self.terminal = terminal
        self.signals = signals
        self.editor = LineEditor()
        self.state = SimScreen()
        self.painter = Painter(terminal.write)
        self.prompts: deque[str] = deque()
        self.stdin_open = True
        self.interrupted = False
        self.answer: bool | None = None
        self.turn_started = 0.0
        self._dirty = True
        self._last_paint = 0.0
        self._escape_at: float | None = None
        self._ctrl_c_at = -CTRL_C_WINDOW

    def changed(self) -> None:
        self._dirty = True

    def set_view(self, view: View) -> None:
        self.state.view = view
        self.editor.capture = view is not View.ASKING
        self._dirty = True

    def pump(self, deadline: float | None) -> None:
        """Waits for input, a signal or `deadline` (None: no limit), and reacts to them."""
        now = time.monotonic()
        sources = [self.signals.fileno()] + ([self.terminal.fd_in] if self.stdin_open else [])
        readable, _, _ = select.select(sources, [], [], self._timeout(now, deadline))
        self._signals(self.signals.take())
        if self.terminal.fd_in in readable:
            self._read()
        if self.editor.pending_escape:
            if self._escape_at is None:
                self._escape_at = time.monotonic()
            elif time.monotonic() - self._escape_at >= ESC_DELAY:
                self._keys(self.editor.timeout())
        if not self.editor.pending_escape:
            self._escape_at = None
        self._tick()
        self._paint_if_due()

    def _timeout(self, now: float, deadline: float | None) -> float | None:
        waits = [] if deadline is None else [deadline - now]
        if self.editor.pending_escape:
            since = now if self._escape_at is None else self._escape_at
            waits.append(since + ESC_DELAY - now)
        if self._dirty:
            waits.append(self._last_paint + FRAME_SECONDS - now)
        if self.state.view is View.WORKING:
            age = now - self.turn_started
            waits.append(GLYPH_SECONDS - age % GLYPH_SECONDS)
        if self.state.note:
            waits.append(self._ctrl_c_at + CTRL_C_WINDOW - now)
        return max(0.0, min(waits)) if waits else None

    def _signals(self, numbers: set[int]) -> None:
        if numbers & ENDING:
            raise Exit(0)
        if signal.SIGCONT in numbers:
            self.terminal.reenter()
        if numbers & {signal.SIGCONT, signal.SIGWINCH}:
            self.painter.invalidate()
            self._dirty = True

    def _read(self) -> None:
        try:
            data = os.read(self.terminal.fd_in, 4096)
        except BlockingIOError:
            return
        except OSError:
            data = b""
        if not data:
            self.stdin_open = False
            return
        self._keys(self.editor.feed(data))

    def _keys(self, events: list[Key]) -> None:
        for key in events:
            self._key(key)

    def _key(self, key: Key) -> None:
        view = self.state.view
        self._dirty = True
        if key.name == keys.CHANGED:
            self.state.buffer = self.editor.buffer
            self.state.note = ""
        elif key.name == keys.SUBMIT:
            self.prompts.append(key.text)
            self.state.buffer = ""
        elif key.name == keys.EOF and not self.editor.buffer:
            raise Exit(0)
        elif view is View.ASKING:
            self._dialog_key(key)
        elif key.name in (keys.ESCAPE, keys.INTERRUPT) and view is View.WORKING:
            self.interrupted = True
        elif key.name == keys.INTERRUPT:
            self._idle_ctrl_c()

    def _dialog_key(self, key: Key) -> None:
        if key.name in (keys.ESCAPE, keys.INTERRUPT) or key.text in ("2", "n", "N"):
            self.answer = False
        elif key.text in ("1", "y", "Y"):
            self.answer = True
        elif key.name == keys.ENTER:
            self.answer = self.state.choice == 0
        elif key.name in (keys.UP, keys.DOWN):
            self.state.choice = 1 - self.state.choice

    def _idle_ctrl_c(self) -> None:
        """First Ctrl-C clears the box (or arms exit); a second within two seconds exits."""
        now = time.monotonic()
        if self.editor.buffer:
            self.editor.clear()
            self.state.buffer = ""
        elif now - self._ctrl_c_at < CTRL_C_WINDOW:
            raise Exit(0)
        else:
            self._ctrl_c_at = now
            self.state.note = "Press Ctrl-C again to exit"

    def _tick(self) -> None:
        now = time.monotonic()
        if self.state.note and now - self._ctrl_c_at >= CTRL_C_WINDOW:
            self.state.note = ""
            self._dirty = True
        if self.state.view is not View.WORKING:
            return
        age = now - self.turn_started
        glyph, elapsed = int(age / GLYPH_SECONDS) % len(SPIN), int(age)
        shown = elapsed if elapsed >= 15 else 0
        if (glyph, shown) != (self.state.glyph, self.state.elapsed):
            self.state.glyph, self.state.elapsed = glyph, shown
            self._dirty = True

    def _paint_if_due(self) -> None:
        now = time.monotonic()
        if self._dirty and now - self._last_paint >= FRAME_SECONDS:
            self.paint()

    def paint(self) -> None:
        columns, lines = self.terminal.size()
        self.painter.paint(*compose(self.state, columns, lines))
        self._dirty = False
        self._last_paint = time.monotonic()

    def farewell(self, line: str) -> None:
        """The last frame: the transcript and one line, with no box that looks alive."""
        self.state.view = View.EXITED
        self.state.farewell = line
        self.paint()
