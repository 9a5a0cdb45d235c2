"""The prompt line editor, kept free of terminal I/O so tests can feed it bytes.

corral sends long or multi-line prompts with `tmux paste-buffer -p`, which wraps them in
bracketed-paste markers and turns every newline into CR. The editor must take such a paste
whole, so the Enter that follows it submits one prompt instead of one prompt per line.
"""

from __future__ import annotations

import codecs
from dataclasses import dataclass
from enum import Enum

ESC = "\x1b"
PASTE_START = "200~"
PASTE_END = ESC + "[201~"


class Mode(Enum):
    NORMAL = "normal"
    ESCAPE = "escape"
    CSI = "csi"
    SS3 = "ss3"
    PASTE = "paste"


@dataclass(frozen=True)
class Key:
    """Something the application has to react to; plain typing only changes the buffer."""

    name: str
    text: str = ""


SUBMIT = "submit"
ESCAPE = "esc"
INTERRUPT = "ctrl-c"
EOF = "ctrl-d"
CHAR = "char"
ENTER = "enter"
UP = "up"
DOWN = "down"
TAB = "tab"
CHANGED = "changed"

_ARROWS = {"A": UP, "B": DOWN}


class LineEditor:
    """Turns raw terminal bytes into a prompt buffer and key events.

    With `capture` off (a dialog is open) printable keys are reported as `char` events instead
    of being typed into the buffer, and Enter is `enter` instead of `submit`.
    """

    def __init__(self) -> None:
        self.buffer = ""
        self.capture = True
        self._decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")
        self._mode = Mode.NORMAL
        self._sequence = ""
        self._paste: list[str] = []

    @property
    def pending_escape(self) -> bool:
        """A lone ESC is the Esc key only if nothing follows it soon; the caller keeps time."""
        return self._mode is Mode.ESCAPE

    def feed(self, data: bytes) -> list[Key]:
        keys: list[Key] = []
        for char in self._decoder.decode(data):
            self._step(char, keys)
        return _merge_changes(keys)

    def timeout(self) -> list[Key]:
        """Called when no byte followed a lone ESC in time: it was the Esc key."""
        if self._mode is not Mode.ESCAPE:
            return []
        self._mode = Mode.NORMAL
        return [Key(ESCAPE)]

    def clear(self) -> None:
        self.buffer = ""

    def _step(self, char: str, keys: list[Key]) -> None:
        if self._mode is Mode.PASTE:
            self._paste_char(char, keys)
        elif self._mode is Mode.ESCAPE:
            self._escape_char(char, keys)
        elif self._mode is Mode.CSI:
            self._csi_char(char, keys)
        elif self._mode is Mode.SS3:
            self._mode = Mode.NORMAL
            if char in _ARROWS:
                keys.append(Key(_ARROWS[char]))
        else:
            self._normal_char(char, keys)

    def _escape_char(self, char: str, keys: list[Key]) -> None:
        if char == "[":
            self._mode = Mode.CSI
            self._sequence = ""
        elif char == "O":
            self._mode = Mode.SS3
        else:
            self._mode = Mode.NORMAL
            keys.append(Key(ESCAPE))
            self._normal_char(char, keys)

    def _csi_char(self, char: str, keys: list[Key]) -> None:
        self._sequence += char
        if not "\x40" <= char <= "\x7e":
            if len(self._sequence) > 16:
                self._mode = Mode.NORMAL
            return
        self._mode = Mode.NORMAL
        if self._sequence == PASTE_START:
            self._mode = Mode.PASTE
            self._paste = []
        elif self._sequence in _ARROWS:
            keys.append(Key(_ARROWS[self._sequence]))
        elif self._sequence == "Z":
            keys.append(Key(TAB))

    def _paste_char(self, char: str, keys: list[Key]) -> None:
        self._paste.append(char)
        if char != "~" or "".join(self._paste[-len(PASTE_END) :]) != PASTE_END:
            return
        text = "".join(self._paste[: -len(PASTE_END)])
        self._paste = []
        self._mode = Mode.NORMAL
        text = text.replace("\r\n", "\n").replace("\r", "\n")
        if self.capture:
            self.buffer += text
            keys.append(Key(CHANGED))
        elif text:
            keys.append(Key(CHAR, text[0]))

    def _normal_char(self, char: str, keys: list[Key]) -> None:
        if char == ESC:
            self._mode = Mode.ESCAPE
        elif char == "\r":
            keys.append(self._enter())
        elif char == "\x03":
            keys.append(Key(INTERRUPT))
        elif char == "\x04":
            keys.append(Key(EOF))
        elif char == "\t":
            keys.append(Key(TAB))
        elif not self.capture:
            if char.isprintable():
                keys.append(Key(CHAR, char))
        elif self._edit(char):
            keys.append(Key(CHANGED))

    def _enter(self) -> Key:
        if not self.capture:
            return Key(ENTER)
        if self.buffer.endswith("\\"):
            self.buffer = self.buffer[:-1] + "\n"
            return Key(CHANGED)
        text, self.buffer = self.buffer, ""
        if not text.strip():
            return Key(CHANGED)
        return Key(SUBMIT, text)

    def _edit(self, char: str) -> bool:
        """Applies one editing key; False when the key means nothing here."""
        before = self.buffer
        if char in ("\x7f", "\x08"):
            self.buffer = self.buffer[:-1]
        elif char == "\x15":
            self.buffer = ""
        elif char == "\x17":
            self.buffer = _drop_word(self.buffer)
        elif char == "\n":
            self.buffer += "\n"
        elif char.isprintable():
            self.buffer += char
        return self.buffer != before


def _drop_word(text: str) -> str:
    stripped = text.rstrip(" ")
    cut = max(stripped.rfind(" "), stripped.rfind("\n"))
    return stripped[: cut + 1]


def _merge_changes(keys: list[Key]) -> list[Key]:
    """Typing a burst of characters is one change for the screen, not one per character."""
    merged: list[Key] = []
    for key in keys:
        if key.name == CHANGED and merged and merged[-1].name == CHANGED:
            continue
        merged.append(key)
    return merged
