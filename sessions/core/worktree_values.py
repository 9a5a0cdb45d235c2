"""What the worktree modules find and say: an agent's changes against the base, what a merge
would do and did, and what a removal would move aside, as values the dashboard can draw.

Values and the words they are told in only; git is read by `sessions.adapters.worktree_diff`
and the `sessions.services.worktree_*` modules, which make them.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

# A command a message shows, for the user to run (to undo a merge, to get a worktree back).
Command = tuple[str, ...]


def plural(number: int, noun: str) -> str:
    return f"{number} {noun}" if number == 1 else f"{number} {noun}s"


def listing(paths: Sequence[str], shown: int = 3) -> str:
    if len(paths) <= shown:
        return ", ".join(paths)
    return f"{', '.join(paths[:shown])} and {len(paths) - shown} more"


@dataclass(frozen=True)
class FileChange:
    """One file an agent changed since it left the base: no counts for a binary file, and none
    for an untracked one (the diff lists those; a merge brings only what was committed)."""

    path: str
    added: int | None
    removed: int | None
    untracked: bool = False


@dataclass(frozen=True)
class WorktreeDiff:
    """What one agent changed since it forked from the base."""

    agent: str
    merge_base: str
    files: tuple[FileChange, ...]
    patch: str
    cut: bool = False
    error: str | None = None


@dataclass(frozen=True)
class MergePreview:
    """What merging an agent's branch into the base would do, found without changing anything.

    Only commits are merged: `uncommitted` counts the files in the agent's worktree that stay
    behind, because corral never commits for an agent. `refusal` is the sentence `merge` would
    stop with right now (None when it would go ahead), so a preview and a merge never disagree.
    `files` are the branch's own changes since it left the base, as a review would show them.
    """

    agent: str
    branch: str
    base: str
    base_tip: str
    tip: str
    merge_base: str | None
    ahead: int
    behind: int
    fast_forward: bool
    commits: tuple[tuple[str, str], ...]
    files: tuple[FileChange, ...]
    conflicts: tuple[str, ...]
    worktree: Path | None
    uncommitted: int
    refusal: str | None

    @property
    def can_merge(self) -> bool:
        return self.refusal is None

    def to_json(self) -> dict[str, Any]:
        return {
            "agent": self.agent,
            "branch": self.branch,
            "base": self.base,
            "base_tip": self.base_tip,
            "tip": self.tip,
            "merge_base": self.merge_base,
            "ahead": self.ahead,
            "behind": self.behind,
            "fast_forward": self.fast_forward,
            "commits": [{"commit": commit, "subject": subject} for commit, subject in self.commits],
            "files": [
                {"path": item.path, "added": item.added, "removed": item.removed}
                for item in self.files
            ],
            "conflicts": list(self.conflicts),
            "worktree": str(self.worktree) if self.worktree else None,
            "uncommitted": self.uncommitted,
            "can_merge": self.can_merge,
            "refusal": self.refusal,
        }

    def describe(self) -> str:
        """The preview as the command line prints it; the app can show the same lines."""
        if self.fast_forward:
            how = "a fast-forward"
        elif self.ahead == 0:
            how = "nothing to merge"
        elif self.conflicts:
            how = f"a merge that stops on {plural(len(self.conflicts), 'conflict')}"
        else:
            how = "a merge commit, no conflicts"
        lines = [
            f"{self.branch} into {self.base}: {plural(self.ahead, 'commit')} ahead, "
            f"{self.behind} behind; {how}"
        ]
        lines += [f"  {commit[:12]} {subject}" for commit, subject in self.commits]
        if self.ahead > len(self.commits):
            lines.append(f"  ... and {self.ahead - len(self.commits)} older")
        if self.files:
            lines.append(f"{plural(len(self.files), 'file')} changed:")
            lines += [f"  {_numbers(item):<12} {item.path}" for item in self.files]
        if self.conflicts:
            lines.append(f"would conflict in {plural(len(self.conflicts), 'file')}:")
            lines += [f"  {path}" for path in self.conflicts]
        if self.uncommitted:
            lines.append(
                f"{plural(self.uncommitted, 'uncommitted file')} in {self.worktree} stay behind: "
                f"`corral merge {self.agent}` merges only what {self.agent} has committed"
            )
        if self.refusal is not None:
            lines.append(f"corral would not merge now: {self.refusal}")
        else:
            lines.append(f"`corral merge {self.agent}` merges it")
        return "\n".join(lines)


@dataclass(frozen=True)
class Merged:
    """A merge that happened: `before` is kept at `ref`, and `undo` are the commands that
    `message` shows for taking it back."""

    agent: str
    branch: str
    base: str
    before: str
    after: str
    fast_forward: bool
    ref: str
    undo: tuple[Command, ...]
    message: str
    preview: MergePreview


def _numbers(change: FileChange) -> str:
    if change.added is None or change.removed is None:
        return "binary"
    return f"+{change.added} -{change.removed}"


@dataclass(frozen=True)
class Leftover:
    """Something in a worktree that no ref can hold, by its path in the worktree.

    `how` is how git sees it: "ignored", or for a nested repository "untracked" or "tracked"
    (a gitlink, such as a submodule). A ref holds an ignored file not at all and a nested
    repository only as a gitlink to a commit that lives in that repository's own history.
    """

    path: str
    folder: bool
    repository: bool
    how: str

    @property
    def shown(self) -> str:
        name = self.path + ("/" if self.folder else "")
        return f"{name} (a git repository, with its history)" if self.repository else name


@dataclass(frozen=True)
class Leftovers:
    """What `remove` moves aside (`kept`) and what it lets go (`dropped`: dependency and cache
    folders that an install or a run makes again)."""

    kept: tuple[Leftover, ...] = ()
    dropped: tuple[Leftover, ...] = ()

    def lines(self, where: str, done: bool) -> list[str]:
        """Sentences for the removal's message (`done`) or for the question before it."""
        lines = []
        if self.kept:
            verb = "Moved aside to" if done else "Moved aside first, to"
            names = listing([item.shown for item in self.kept], shown=8)
            lines.append(f"{verb} {where}, since no ref can hold them: {names}.")
        if self.dropped:
            verb = "Deleted" if done else "Deleted with the worktree"
            names = listing([item.shown for item in self.dropped], shown=8)
            lines.append(f"{verb}, since an install or a build makes them again: {names}.")
        return lines


@dataclass(frozen=True)
class RemovalPlan:
    """What `remove` would move aside before deleting a worktree, found without changing
    anything; `kept_in` names the folder with `<time>` for the moment of the removal, and
    `problem` says why the worktree could not be looked at (the removal looks again)."""

    worktree: Path | None
    leftovers: Leftovers
    kept_in: str
    problem: str | None = None

    def lines(self) -> list[str]:
        if self.problem is not None:
            return [
                f"corral could not list its ignored files and nested repositories now "
                f"({self.problem}); the removal moves them aside to {self.kept_in} all the same."
            ]
        return self.leftovers.lines(self.kept_in, done=False)
