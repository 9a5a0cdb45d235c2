"""An agent's work against the base: which files, then the hunks. Read-only git.

git runs through `sessions.adapters.repo.git`, which sets `GIT_OPTIONAL_LOCKS=0`: looking never
writes the agent's index. Uncommitted changes count (the diff is of the working tree), and untracked
files are listed. The dashboard's Diff tab asks for it through `Supervisor.diff`.
"""

from __future__ import annotations

from pathlib import Path

from sessions.adapters.repo import git
from sessions.core.worktree_values import FileChange, WorktreeDiff

MAX_PATCH = 400_000


def read_diff(agent: str, worktree: str, base: str | None) -> WorktreeDiff:
    """The worktree against its merge base with `base` (None: the repository could not say
    which); an error is a value, not an exception, so the tab can say what went wrong."""
    if base is None:
        return WorktreeDiff(agent, "", (), "", error="no base branch to compare with")
    cwd = Path(worktree)
    if not worktree or not cwd.is_dir():
        return WorktreeDiff(agent, "", (), "", error=f"{agent} has no worktree on disk")
    found = git(cwd, "merge-base", base, "HEAD", check=False)
    if found.returncode != 0:
        why = found.stderr.strip() or f"no common commit with {base}"
        return WorktreeDiff(agent, "", (), "", error=f"no merge base with {base}: {why}")
    merge_base = found.stdout.strip()
    numstat = git(cwd, "diff", "--numstat", "-z", "--no-renames", merge_base, check=False)
    files = list(_numstat(numstat.stdout))
    untracked = git(cwd, "ls-files", "-z", "--others", "--exclude-standard", check=False)
    new = [path for path in untracked.stdout.split("\0") if path]
    files += [FileChange(path, None, None, untracked=True) for path in new]
    patch = git(cwd, "diff", "--no-color", "--no-renames", merge_base, check=False).stdout
    cut = len(patch) > MAX_PATCH
    return WorktreeDiff(agent, merge_base, tuple(files), patch[:MAX_PATCH], cut=cut)


def _numstat(out: str) -> list[FileChange]:
    changes = []
    for entry in out.split("\0"):
        parts = entry.split("\t", 2)
        if len(parts) != 3:
            continue
        added, removed, path = parts
        changes.append(
            FileChange(
                path.strip("\n"),
                int(added) if added.isdigit() else None,
                int(removed) if removed.isdigit() else None,
            )
        )
    return changes
