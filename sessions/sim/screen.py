"""What the simulated agent draws, in the shape corral's screen patterns expect of Claude Code.

`compose` is pure (state and size in, rows out) so every pane size can be checked without a
terminal; `Painter` then rewrites only the rows that differ from what is already on screen,
which keeps a herd of thirty simulated agents cheap for tmux to follow.
"""

from __future__ import annotations

import unicodedata
from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from enum import Enum

GLYPHS = ("·", "✢", "✶", "✻", "✽", "*")
SPIN = GLYPHS + GLYPHS[-2:0:-1]
GLYPH_SECONDS = 0.2
MODE_LINE = "⏵⏵ simulated agent"
IDLE_FOOTER = f"  {MODE_LINE} · ? for shortcuts"
WORKING_FOOTER = f"  {MODE_LINE} · esc to interrupt"
ASK_FOOTER = " Esc to cancel · Tab to amend"
LOG_LIMIT = 400
BOX_ROWS = 6


class View(Enum):
    IDLE = "idle"
    WORKING = "working"
    ASKING = "asking"
    EXITED = "exited"


@dataclass
class SimScreen:
    """Everything on screen; the session changes it, `compose` turns it into rows."""

    view: View = View.IDLE
    log: deque[str] = field(default_factory=lambda: deque(maxlen=LOG_LIMIT))
    buffer: str = ""
    verb: str = "Pondering"
    glyph: int = 0
    elapsed: int = 0
    question: str = ""
    choice: int = 0
    note: str = ""
    farewell: str = ""

    def add(self, lines: Iterable[str]) -> None:
        """Appends one transcript entry; entries are separated by a blank line."""
        if self.log:
            self.log.append("")
        self.log.extend(lines)


Cursor = tuple[int, int] | None


def compose(state: SimScreen, width: int, height: int) -> tuple[list[str], Cursor]:
    width, height = max(width, 10), max(height, 3)
    log = _tail(state.log, width, height)
    live, cursor = _live(state, width, height)
    rows = [*log, "", *live] if log else live
    if cursor is not None:
        cursor = (cursor[0] + len(rows) - len(live), cursor[1])
    overflow = max(0, len(rows) - height)
    rows = rows[overflow:] + [""] * max(0, height - len(rows))
    if cursor is not None and cursor[0] >= overflow:
        cursor = (cursor[0] - overflow, min(cursor[1], width - 1))
    elif cursor is not None:
        cursor = None
    return rows, cursor


def _tail(log: deque[str], width: int, height: int) -> list[str]:
    """The wrapped end of the transcript, no more than fits.

    Only the visible lines are wrapped, so a long session costs no more per frame than a short one.
    """
    chunks: list[list[str]] = []
    count = 0
    for line in reversed(log):
        if count >= height:
            break
        chunks.append(wrap(line, width))
        count += len(chunks[-1])
    return [row for chunk in reversed(chunks) for row in chunk]


def _live(state: SimScreen, width: int, height: int) -> tuple[list[str], Cursor]:
    """The bottom part that follows the transcript: spinner, box or dialog, footer."""
    if state.view is View.EXITED:
        rows = wrap(state.farewell, width) if state.farewell else []
        return rows, ((len(rows) - 1, cell_width(rows[-1])) if rows else None)
    live: list[str] = []
    if state.view is View.WORKING:
        live += [*wrap(_spinner(state), width), ""]
    rule = "─" * width
    if state.view is View.ASKING:
        return [*live, rule, *_dialog(state, width)], None
    box = _box(state.buffer, width)[-max(1, min(BOX_ROWS, height - len(live) - 3)) :]
    cursor = (len(live) + len(box), cell_width(box[-1]))
    footer = WORKING_FOOTER if state.view is View.WORKING else IDLE_FOOTER
    if state.note and state.view is View.IDLE:
        footer = f"  {state.note}"
    return [*live, rule, *box, rule, *wrap(footer, width)], cursor


def _spinner(state: SimScreen) -> str:
    line = f"{SPIN[state.glyph % len(SPIN)]} {state.verb}…"
    if state.elapsed >= 15:
        line += f" ({state.elapsed}s · ↓ {state.elapsed * 7} tokens)"
    return line


def _dialog(state: SimScreen, width: int) -> list[str]:
    marks = ("❯" if state.choice == 0 else " ", "❯" if state.choice == 1 else " ")
    return [
        " Edit file",
        *wrap(f" Do you want to make this edit to {state.question}?", width),
        f" {marks[0]} 1. Yes",
        f" {marks[1]} 2. No (esc)",
        "",
        *wrap(ASK_FOOTER, width),
    ]


def _box(buffer: str, width: int) -> list[str]:
    lines = buffer.split("\n")
    if len(lines) > 4:
        lines = [lines[0], f"… +{len(lines) - 2} lines", lines[-1]]
    rows: list[str] = []
    for index, line in enumerate(lines):
        rows += wrap(("❯ " if index == 0 else "  ") + line, width)
    return rows


def cell_width(text: str) -> int:
    return sum(_char_width(char) for char in text)


def _char_width(char: str) -> int:
    if unicodedata.combining(char):
        return 0
    return 2 if unicodedata.east_asian_width(char) in ("W", "F") else 1


def clean(text: str) -> str:
    """Drops control characters so command output cannot move the cursor or change modes."""
    text = text.replace("\t", "    ")
    return "".join(char if char.isprintable() else "?" for char in text)


def wrap(line: str, width: int) -> list[str]:
    """Cuts a line into rows of at most `width` cells, at a space where there is one.

    Breaking at words keeps phrases that screen patterns look for (`Do you want to make this
    edit to`) on one row in narrow panes; a wide character is never split.
    """
    rows: list[str] = []
    current, used = "", 0
    for char in clean(line):
        size = _char_width(char)
        if used + size > width:
            cut = current.rfind(" ")
            if cut > 0 and char != " ":
                rows.append(current[:cut])
                current = current[cut + 1 :]
            else:
                rows.append(current)
                current = ""
            used = cell_width(current)
            if char == " " and not current:
                continue
        current += char
        used += size
    rows.append(current)
    return rows


class Painter:
    """Keeps what is on screen and sends only the rows (and cursor moves) that changed."""

    def __init__(self, write: Callable[[str], None]) -> None:
        self._write = write
        self._rows: list[str] = []
        self._cursor: Cursor = None
        self._cursor_shown: bool | None = None

    def invalidate(self) -> None:
        """The next paint redraws everything: after a resize, SIGCONT or a foreign write."""
        self._rows = []
        self._cursor_shown = None

    def paint(self, rows: list[str], cursor: Cursor) -> None:
        out: list[str] = []
        old = self._rows
        if len(old) != len(rows):
            out.append("\x1b[H\x1b[2J")
            old = [""] * len(rows)
        for index, (new, before) in enumerate(zip(rows, old, strict=True)):
            if new != before:
                out.append(f"\x1b[{index + 1};1H\x1b[2K{new}")
        if out or cursor != self._cursor or self._cursor_shown is None:
            out.append(self._place(cursor))
        self._rows, self._cursor = list(rows), cursor
        if out:
            self._write("".join(out))

    def _place(self, cursor: Cursor) -> str:
        shown = cursor is not None
        toggle = "" if shown == self._cursor_shown else ("\x1b[?25h" if shown else "\x1b[?25l")
        self._cursor_shown = shown
        if cursor is None:
            return toggle
        return f"\x1b[{cursor[0] + 1};{cursor[1] + 1}H{toggle}"
