"""Builder or observer: what an agent's own actions say about its role in the herd.

A supervisor has to know who is changing code: two builders on one file are a conflict in the
making, while a reviewer reading the same file is harmless. The role comes from behaviour, not
from a name in the config: the classified tool calls (hooks or transcripts) and the files the
agent's worktree saw written, over a sliding window. Writing PROGRESS.md, notes or task locks is
coordination, not building, so those paths never make a builder. Agents that report no tool
calls (Aider, plain commands) are judged by their file writes alone.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from sessions.core.rules import RoleRules

NONE, BUILDER, OBSERVER = "none", "builder", "observer"


@dataclass(frozen=True)
class Call:
    """One classified tool call: when, which class (edit, read, exec, delegate, other), paths."""

    t: float
    cls: str
    paths: tuple[str, ...] = ()


@dataclass(frozen=True)
class Write:
    """Files the worktree watcher saw written in one batch."""

    t: float
    paths: tuple[str, ...]


@dataclass(frozen=True)
class Fingerprint:
    """An agent's role over the window, with the numbers behind it."""

    role: str
    calls: int
    edits: int
    reads: int
    execs: int
    delegates: int
    files: tuple[str, ...]
    files_written: int
    last_change: float | None
    reason: str

    @property
    def edit_share(self) -> float | None:
        return round(self.edits / self.calls, 3) if self.calls else None

    def to_json(self) -> dict[str, object]:
        return {
            "role": self.role,
            "edit_share": self.edit_share,
            "calls": self.calls,
            "edits": self.edits,
            "reads": self.reads,
            "execs": self.execs,
            "delegates": self.delegates,
            "files": list(self.files),
            "files_written": self.files_written,
            "role_reason": self.reason,
        }


TOP_FILES = 5


def fingerprint(
    calls: Sequence[Call], writes: Sequence[Write], rules: RoleRules, now: float
) -> Fingerprint:
    """The role from the calls and writes inside the window ending at `now`."""
    start = now - rules.window
    recent = [call for call in calls if call.t >= start]
    written = [write for write in writes if write.t >= start]
    classes = Counter(call.cls for call in recent)
    code_edits = [call for call in recent if call.cls == "edit" and _code(call.paths, rules)]
    touched: Counter[str] = Counter()
    for call in code_edits:
        touched.update(path for path in call.paths if not rules.is_coordination(path))
    written_files = {p for w in written for p in w.paths if not rules.is_coordination(p)}
    touched.update(written_files - set(touched))
    changes = [call.t for call in code_edits] + [w.t for w in written if _code(w.paths, rules)]
    role, reason = _role(len(recent), len(code_edits), classes, len(written_files), rules)
    return Fingerprint(
        role=role,
        calls=len(recent),
        edits=classes["edit"],
        reads=classes["read"],
        execs=classes["exec"],
        delegates=classes["delegate"],
        files=tuple(path for path, _ in touched.most_common(TOP_FILES)),
        files_written=len(written_files),
        last_change=max(changes) if changes else None,
        reason=reason + _window(rules.window),
    )


def _code(paths: Iterable[str], rules: RoleRules) -> bool:
    """True when any path is the project's own code or docs, not coordination files."""
    return any(not rules.is_coordination(path) for path in paths)


def _role(
    calls: int, code_edits: int, classes: Counter[str], written: int, rules: RoleRules
) -> tuple[str, str]:
    if calls:
        share = code_edits / calls
        numbers = f"{code_edits} edits / {calls} calls, {written} files written"
        if code_edits and (share >= rules.builder_share or written >= rules.builder_files):
            return BUILDER, f"builder: {numbers}"
        if written >= rules.builder_files:
            return BUILDER, f"builder: {numbers} (by commands)"
        mostly = classes.most_common(1)[0][0]
        doing = {"read": "reads", "exec": "runs commands", "delegate": "delegates"}.get(
            mostly, "edits notes only" if mostly == "edit" else "uses other tools"
        )
        return OBSERVER, f"observer: mostly {doing} ({numbers})"
    if written:
        return BUILDER, f"builder: {written} files written (no tool calls reported)"
    return NONE, "no activity"


def _window(seconds: float) -> str:
    minutes = round(seconds / 60)
    return f" in the last {minutes} min" if minutes else ""


@dataclass(frozen=True)
class Stall:
    """An agent at work for a long time without changing anything."""

    stalled: bool
    reason: str


def stall(
    working: bool,
    last_change: float | None,
    last_commit: float | None,
    run_started: float | None,
    rules: RoleRules,
    now: float,
) -> Stall:
    """Working for `stall_after` seconds with no edit, write or commit since: flagged.

    An idle agent waiting for the user is not stalled; it is idle. The clock starts at the
    latest change, or at the run's start when the run changed nothing yet.
    """
    if not working:
        return Stall(False, "")
    marks = [t for t in (last_change, last_commit, run_started) if t is not None]
    if not marks:
        return Stall(False, "")
    since = max(marks)
    quiet = now - since
    if quiet < rules.stall_after:
        return Stall(False, "")
    what = "since its run started" if since == run_started else "since its last edit or commit"
    return Stall(True, f"working {int(quiet // 60)} min without an edit or commit ({what})")
