"""Folds of the journal saved with the position they cover, so a new process reads only what
was appended since instead of the whole history.

A checkpoint is only a cache: anything that does not fit the journal as it is now (a missing,
damaged, foreign or stale file) is ignored and the fold is made again from the first line.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from typing import Any, TypeVar

from sessions.adapters.journal import Journal, digest
from sessions.adapters.private import write_private

T = TypeVar("T")

CHECKPOINT_ENV = "CORRAL_JOURNAL_CHECKPOINT"  # "0": every fold starts from the first byte
CHECKPOINT_EVERY = 64 << 10  # saved again once this much more of the journal was folded
CHECKPOINT_FORMAT = 1
CHECKPOINT_LIMIT = 64 << 20  # a bigger file is not a checkpoint corral wrote


def checkpoints_on() -> bool:
    return os.environ.get(CHECKPOINT_ENV, "").strip().lower() not in ("0", "off", "no", "false")


class Checkpoint:
    """A fold of the journal saved with the position it covers, in `.corral/cache/journal/`.

    `load` gives the saved state and moves the reader to its position only when everything
    fits: the file is the user's own, whole (its digest), of this format and this fold's
    `version`, and the journal file it names is still there, at least as long, with the same
    first bytes and the same bytes before the position. Anything else (missing, damaged, from
    another corral, a journal replaced, cut short or rewritten) returns None and the fold is
    rebuilt from the journal's first byte. `save_if_due` writes atomically (a new private file
    renamed over the old one) once `CHECKPOINT_EVERY` more bytes were folded, and at once after
    a rebuild. With `CORRAL_JOURNAL_CHECKPOINT=0` in the environment nothing is loaded or saved.
    """

    def __init__(self, reader: Journal, kind: str, version: str) -> None:
        self.reader = reader
        self.kind = kind
        self.version = version
        self.path = reader.path.parent / "cache" / "journal" / f"{kind}.json"
        self.status = "not loaded"  # what `load` found, for tests and for the curious
        self._folded_at = reader.read_bytes  # `read_bytes` when the state matched the file
        self._replace = False  # none fitted: save the fold rebuilt from the journal soon

    def load(self, decode: Callable[[Any], T]) -> T | None:
        if not checkpoints_on():
            self.status = "off"
            return None
        self._replace = True  # the next save writes the rebuilt fold, unless this one is used
        try:
            raw = self._read()
        except FileNotFoundError:
            self.status = "missing"
            return None
        except OSError as error:
            self.status = f"unreadable: {error}"
            return None
        try:
            head, _, body = raw.partition(b"\n")
            saved = json.loads(head)
            if (saved.get("format"), saved.get("kind")) != (CHECKPOINT_FORMAT, self.kind):
                raise ValueError("another format")
            if saved.get("version") != self.version:
                raise ValueError("another version of the fold")
            mark = saved["mark"]
            if saved.get("sum") != _sum(mark, body):
                raise ValueError("damaged")
            state = decode(json.loads(body))
        except (AttributeError, KeyError, TypeError, ValueError) as error:
            self.status = f"rejected: {error}"
            return None
        if not self.reader.resume(mark):
            self.status = "stale: the journal is not the one it was saved from"
            return None
        self.status = "loaded"
        self._replace = False
        self._folded_at = self.reader.read_bytes
        return state

    def save_if_due(self, encode: Callable[[], Any], force: bool = False) -> bool:
        if not checkpoints_on():
            return False
        due = self._replace or self.reader.read_bytes - self._folded_at >= CHECKPOINT_EVERY
        if not (due or force):
            return False
        mark = self.reader.mark()
        if mark is None:
            return False
        body = json.dumps(encode(), separators=(",", ":")).encode()
        head = {
            "format": CHECKPOINT_FORMAT,
            "kind": self.kind,
            "version": self.version,
            "mark": mark,
            "sum": _sum(mark, body),
        }
        try:
            write_private(
                self.path, json.dumps(head, separators=(",", ":")).encode() + b"\n" + body
            )
        except OSError:
            return False  # only a cache: the next command folds a little more
        self._folded_at = self.reader.read_bytes
        self._replace = False
        return True

    def follow(self, reader: Journal) -> None:
        """Go on with `reader`, which stands where this checkpoint's own reader stopped: a fold
        that caught up is fed by another reader from there, and saved at its positions."""
        unsaved = self.reader.read_bytes - self._folded_at
        self.reader = reader
        self._folded_at = reader.read_bytes - unsaved

    def _read(self) -> bytes:
        """The file: a line of what it is (format, kind, version, mark, digest), then the
        state as JSON."""
        fd = os.open(self.path, os.O_RDONLY | os.O_NOFOLLOW | os.O_CLOEXEC)
        with os.fdopen(fd, "rb") as handle:
            info = os.fstat(fd)
            if info.st_uid != os.getuid() or info.st_mode & 0o077:
                raise PermissionError("not private to this user")
            if info.st_size > CHECKPOINT_LIMIT:
                raise OSError("larger than any checkpoint corral writes")
            return handle.read()


def _sum(mark: Any, body: bytes) -> str:
    return digest(json.dumps(mark, sort_keys=True).encode() + b"\n" + body)
