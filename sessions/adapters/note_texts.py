"""Each notes file as the dashboard's Notes tab shows it: its text, the changes to it since the
user last looked, and when that was.

`Notes` knows which files there are and what changed in them; the text itself is read here,
from the checkout the file lives in, only when the tab asks. When the user last looked is kept
in `.corral/cache/notes-seen`, so closing and reopening the dashboard still marks what is new.
"""

from __future__ import annotations

import contextlib
from collections.abc import Mapping, Sequence
from pathlib import Path

from sessions.adapters.private import write_private
from sessions.core.events import Event
from sessions.core.note_changes import NoteFile, NoteText

SEEN = "notes-seen"


def read(
    files: Sequence[NoteFile],
    changes: Sequence[Event],
    root: Path,
    worktrees: Mapping[str, str],
    since: float,
) -> tuple[NoteText, ...]:
    """Every notes file with its text (None when it cannot be read), and the changes to it
    after `since`. A file's `where` is "base" (the repository) or an agent's name."""
    found = []
    for item in files:
        place = str(root) if item.where == "base" else worktrees.get(item.where)
        text = _read(Path(place) / item.path) if place else None
        mine = tuple(
            change
            for change in changes
            if change.get("where") == item.where
            and change.get("path") == item.path
            and float(change.get("t", 0)) > since
        )
        found.append(NoteText(item, text, mine))
    return tuple(found)


def seen(cache_dir: Path) -> float:
    """When the user last looked at the notes; 0 when never."""
    try:
        return float((cache_dir / SEEN).read_text().strip())
    except (OSError, ValueError):
        return 0.0


def mark_seen(cache_dir: Path, when: float) -> None:
    """A cache: failing to keep it costs only a change shown as new again."""
    with contextlib.suppress(OSError):
        write_private(cache_dir / SEEN, f"{when}\n")


def _read(path: Path) -> str | None:
    try:
        return path.read_text(errors="replace")
    except OSError:
        return None
