"""A change to a note and what changes add up to: the trimmed diff a change journals, how fast
a file grows, the warnings a file earns, and a file with its text as the Notes tab shows it.

Values and pure functions only; the tracker (`notes`) feeds them from disk and the journal.
"""

from __future__ import annotations

import difflib
import hashlib
from collections import Counter
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Any

from sessions.core.events import Event
from sessions.core.note_markdown import PassRate
from sessions.core.rules import NoteRules

DIFF_CONTEXT = 2
MAX_DIFF_LINES = 80
MAX_DIFF_WIDTH = 200
EXACT_DIFF_LIMIT = 5000  # lines; longer files are counted, not diffed line by line


@dataclass(frozen=True)
class NoteChange:
    """One change to one file in one checkout, as recorded in the journal."""

    t: float
    agent: str  # who made it: an agent's name, or "user"
    where: str  # the checkout it was seen in: an agent's name, or "base"
    path: str  # relative to the checkout
    kind: str  # "new", "edit" or "deleted"
    diff: str  # unified, trimmed
    added: int
    removed: int
    lines: int  # after the change

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class NoteWarning:
    kind: str  # "long", "fast" or "quiet"
    message: str


@dataclass(frozen=True)
class LastChange:
    agent: str
    t: float


@dataclass(frozen=True)
class NoteFile:
    """One watched file in one checkout, with what it says and whether it needs attention."""

    path: str
    where: str
    lines: int
    done: tuple[str, ...]
    open: tuple[str, ...]
    next_step: str | None
    pass_rate: PassRate | None
    growth_per_hour: float
    warnings: tuple[NoteWarning, ...]
    last_change: LastChange | None
    touched: float  # best estimate of when anybody last changed it

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class NoteText:
    """One notes file with its text, and the changes to it since the user last looked."""

    file: NoteFile
    text: str | None
    changes: tuple[Event, ...]


# -- growth and warnings ----------------------------------------------------------------------


def growth_per_hour(deltas: Sequence[tuple[float, int]], now: float, window: float) -> float:
    """Net lines added per hour over the last `window` seconds, from (t, added - removed)."""
    if window <= 0:
        return 0.0
    net = sum(delta for t, delta in deltas if now - window <= t <= now)
    return round(net * 3600.0 / window, 1)


def warnings_for(
    path: str, lines: int, growth: float, touched: float, now: float, rules: NoteRules
) -> tuple[NoteWarning, ...]:
    """Why a file needs a look: too long to read, growing too fast, or abandoned."""
    found: list[NoteWarning] = []
    if lines > rules.max_lines:
        found.append(NoteWarning("long", f"{path} has {lines} lines (over {rules.max_lines})"))
    if growth > rules.fast_growth:
        found.append(
            NoteWarning("fast", f"{path} grows {growth:g} lines/hour (over {rules.fast_growth:g})")
        )
    idle = now - touched
    if idle > rules.quiet_after:
        found.append(NoteWarning("quiet", f"nobody changed {path} for {_duration(idle)}"))
    return tuple(found)


def _duration(seconds: float) -> str:
    days = seconds / 86400.0
    if days >= 1:
        return f"{days:.0f} days" if days >= 2 else "1 day"
    return f"{seconds / 3600.0:.0f} hours"


# -- diffs ------------------------------------------------------------------------------------


def diff_texts(path: str, before: str, after: str) -> tuple[str, int, int]:
    """A unified diff trimmed for a journal line, with the lines added and removed it counts
    before trimming. Very long files are counted as multisets and summarised, since an exact
    diff of them costs more than it tells."""
    old, new = before.splitlines(), after.splitlines()
    if max(len(old), len(new)) > EXACT_DIFF_LIMIT:
        gone, came = Counter(old) - Counter(new), Counter(new) - Counter(old)
        removed, added = sum(gone.values()), sum(came.values())
        return f"({path}: +{added} -{removed} lines, too long to diff)", added, removed
    body = list(
        difflib.unified_diff(old, new, f"a/{path}", f"b/{path}", n=DIFF_CONTEXT, lineterm="")
    )
    added = sum(1 for line in body[2:] if line.startswith("+"))
    removed = sum(1 for line in body[2:] if line.startswith("-"))
    return _trim(body), added, removed


def _trim(lines: list[str]) -> str:
    shown = [_cut(line) for line in lines[:MAX_DIFF_LINES]]
    if len(lines) > MAX_DIFF_LINES:
        shown.append(f"… {len(lines) - MAX_DIFF_LINES} more diff lines")
    return "\n".join(shown)


def _cut(line: str) -> str:
    return line if len(line) <= MAX_DIFF_WIDTH else line[: MAX_DIFF_WIDTH - 1] + "…"


def blob_id(data: bytes) -> str:
    """The id git gives these bytes as a blob, so content can be compared with a commit's
    without asking git."""
    return hashlib.sha1(b"blob %d\0" % len(data) + data).hexdigest()
