"""Merging an agent's branch into the base: a preview that changes nothing, and the merge.

Only commits are merged, because corral never commits for an agent. The merge refuses whatever
the preview would refuse before anything changes, and keeps the base's tip under a ref first,
so it can always be undone.
"""

from __future__ import annotations

import os
import shlex
from dataclasses import replace
from pathlib import Path, PurePosixPath

from sessions.adapters.repo import Repo, git
from sessions.adapters.worktree_git import (
    branch_ref,
    by_branch,
    check_ref,
    commit_of,
    free_ref,
    ident_env,
    list_worktrees,
    quoted,
    reason,
    rev_count,
    run,
    set_ref,
    stamp,
)
from sessions.core.errors import AgentError
from sessions.core.worktree_values import Command, FileChange, Merged, MergePreview, listing, plural

BEFORE_MERGE_PREFIX = "refs/corral/before-merge"
# A preview lists this many of the commits a merge brings, newest first; `ahead` counts them all.
PREVIEW_COMMITS = 20


def merge_preview(repo: Repo, name: str, branch: str, base: str) -> MergePreview:
    """What merging the agent's `branch` into `base` would do, safe to ask at any time.

    git writes objects here (the trial merge's trees) but no ref, index or file, and reads
    the agent's worktree and the base checkout without optional locks, so neither the agent
    nor the user notices.
    """
    branch = branch.removeprefix("refs/heads/")
    base = base.removeprefix("refs/heads/")
    tip = commit_of(repo.root, branch_ref(branch))
    if tip is None:
        raise AgentError(f"{name} has no branch {branch}: there is nothing of it to merge.")
    base_tip = commit_of(repo.root, branch_ref(base))
    if base_tip is None:
        raise AgentError(_not_a_base_branch(base, repo.current_branch()))
    root = repo.root
    merge_base = _merge_base_of(root, base_tip, tip)
    ahead = rev_count(root, tip, base_tip)
    behind = rev_count(root, base_tip, tip)
    fast_forward = ahead > 0 and behind == 0
    merged: str | None = base_tip if ahead == 0 else tip
    conflicts: tuple[str, ...] = ()
    if merge_base is None:
        merged = None
    elif ahead > 0 and not fast_forward:
        merged, conflicts = _trial_merge(root, base_tip, tip)
    entry = by_branch(list_worktrees(root), branch)
    worktree = None
    if entry is not None and not entry.prunable and entry.path.is_dir():
        worktree = entry.path
    preview = MergePreview(
        agent=name,
        branch=branch,
        base=base,
        base_tip=base_tip,
        tip=tip,
        merge_base=merge_base,
        ahead=ahead,
        behind=behind,
        fast_forward=fast_forward,
        commits=_commit_lines(root, tip, base_tip),
        files=_file_changes(root, merge_base, tip) if merge_base else (),
        conflicts=conflicts,
        worktree=worktree,
        uncommitted=_uncommitted(worktree) if worktree else 0,
        refusal=None,
    )
    return replace(preview, refusal=_merge_refusal(repo, preview, merged))


def merge(
    repo: Repo,
    name: str,
    branch: str,
    base: str,
    message: str | None = None,
    include_uncommitted: bool = False,
) -> Merged:
    """Merge the agent's committed work into `base`, checked out at the repository root.

    Whatever the preview would refuse is refused before anything changes. The base's tip
    is kept under `refs/corral/before-merge/` first, so the merge can always be undone. The
    agent's worktree, index and branch are only read. corral never commits for an agent,
    so `include_uncommitted` cannot add its uncommitted files: it asks for all of its work
    and refuses while some is uncommitted, rather than merge a part that looks like the
    whole. `message` is for the merge commit; a fast-forward makes no commit.
    """
    preview = merge_preview(repo, name, branch, base)
    if preview.refusal is not None:
        raise AgentError(preview.refusal)
    if include_uncommitted and preview.uncommitted:
        raise AgentError(
            f"{name} has {plural(preview.uncommitted, 'uncommitted file')} in "
            f"{preview.worktree}, and corral never commits for an agent: ask it to commit "
            f'(corral send {name} "Commit your work"), then merge again.'
        )
    root = repo.root
    ref = free_ref(root, f"{BEFORE_MERGE_PREFIX}/{name}/{stamp()}")
    check_ref(root, ref, "the ref that keeps the base before the merge")
    set_ref(root, ref, preview.base_tip, None, f"corral: {base} before merging {branch}")
    args = ["merge", "--quiet", "--no-autostash", "--no-squash", "--no-edit"]
    if preview.fast_forward:
        args.append("--ff-only")
    else:
        subject = preview.commits[0][1] if preview.commits else preview.tip[:12]
        args += ["--no-ff", "--commit", "-m", message or f"Merge {branch}: {subject}"]
    result = git(root, *args, preview.tip, env=ident_env(root), check=False)
    if result.returncode != 0:
        raise AgentError(_failed_merge(root, preview, ref, reason(result)))
    after = commit_of(root, branch_ref(base)) or preview.tip
    fast_forward = after == preview.tip
    undo: list[Command] = [("git", "-C", str(root), "reset", "--keep", ref)]
    if not fast_forward:
        undo.append(("git", "-C", str(root), "revert", "-m", "1", after))
    text = _merged_message(preview, after, fast_forward, ref, tuple(undo))
    return Merged(
        agent=name,
        branch=preview.branch,
        base=base,
        before=preview.base_tip,
        after=after,
        fast_forward=fast_forward,
        ref=ref,
        undo=tuple(undo),
        message=text,
        preview=preview,
    )


def _trial_merge(root: Path, ours: str, theirs: str) -> tuple[str, tuple[str, ...]]:
    """The tree merging `theirs` into `ours` gives, and the paths where it would stop."""
    args = ("merge-tree", "--write-tree", "--name-only", "--no-messages", "-z", ours, theirs)
    result = git(root, *args, check=False)
    if result.returncode not in (0, 1):
        raise AgentError(f"git could not try the merge ({reason(result)}): fix that first.")
    tree, *paths = result.stdout.split("\0")
    return tree.strip(), tuple(dict.fromkeys(path for path in paths if path))


def _merge_refusal(repo: Repo, preview: MergePreview, merged: str | None) -> str | None:
    """Why the merge cannot go ahead now, in one sentence, or None when it can.

    What only the agent can fix comes before what only the user can fix in the base.
    """
    branch, base, agent, root = preview.branch, preview.base, preview.agent, repo.root
    if preview.merge_base is None or merged is None:
        return f"{branch} and {base} share no history: git would not merge them."
    if preview.ahead == 0:
        left = ""
        if preview.uncommitted:
            left = (
                f", and its {plural(preview.uncommitted, 'uncommitted file')} stay in "
                f"{preview.worktree} until {agent} commits them"
            )
        return f"{branch} has nothing to merge: {base} already has all its commits{left}."
    if preview.conflicts:
        return (
            f"merging {branch} into {base} would conflict in {listing(preview.conflicts)}: "
            f"have {agent} merge {base} into its branch and resolve them (corral send {agent} "
            f'"Merge {base} into your branch, resolve the conflicts and commit"), '
            "then merge again."
        )
    current = repo.current_branch()
    if current != base:
        where = f"it is on {current}" if current else "its HEAD is detached"
        return (
            f"{base} is not checked out in {root} ({where}): switch to it with "
            f"`git -C {quoted(root)} switch {base}`, then merge again."
        )
    changed = _tracked_changes(root)
    if changed:
        return (
            f"the base checkout {root} has uncommitted changes ({listing(changed)}): "
            "commit or stash them there, then merge again."
        )
    in_the_way = _in_the_way(root, preview.base_tip, merged)
    if in_the_way:
        return (
            f"the merge would overwrite files in {root} that git does not track "
            f"({listing(in_the_way)}): move them away, then merge again."
        )
    return None


def _failed_merge(root: Path, preview: MergePreview, ref: str, why: str) -> str:
    """Put the base back as it was when git stopped halfway, and say where it stands."""
    if commit_of(root, "MERGE_HEAD") is not None:
        git(root, "merge", "--abort", check=False)
    now = commit_of(root, branch_ref(preview.base))
    head = f"git could not merge {preview.branch} into {preview.base} ({why})"
    if now == preview.base_tip and commit_of(root, "MERGE_HEAD") is None:
        git(root, "update-ref", "-d", ref, preview.base_tip, check=False)
        return f"{head}: {preview.base} is as it was; fix that and try again."
    return (
        f"{head}: {preview.base} was kept at {ref}, and `git -C {quoted(root)} reset --keep "
        f"{ref}` puts it back."
    )


def _not_a_base_branch(base: str, current: str | None) -> str:
    suggestion = current or "main"
    return (
        f"the base {base!r} is not a branch of this repository, so nothing can be merged into "
        f'it: set `base = "{suggestion}"` (or another existing branch) in corral.toml.'
    )


def _merge_base_of(root: Path, a: str, b: str) -> str | None:
    result = git(root, "merge-base", a, b, check=False)
    if result.returncode == 1:
        return None
    if result.returncode != 0:
        raise AgentError(f"git could not find where {b[:12]} left {a[:12]} ({reason(result)}).")
    return result.stdout.strip() or None


def _commit_lines(root: Path, tip: str, base_tip: str) -> tuple[tuple[str, str], ...]:
    """The newest commits the merge would bring, as (commit, subject)."""
    args = ("rev-list", f"--max-count={PREVIEW_COMMITS}", "--format=%H%x09%s", "--no-commit-header")
    out = run(root, *args, tip, f"^{base_tip}", doing="list the commits to merge")
    lines = (line.partition("\t") for line in out.splitlines() if line)
    return tuple((commit, subject) for commit, _, subject in lines)


def _file_changes(root: Path, merge_base: str, tip: str) -> tuple[FileChange, ...]:
    args = ("diff-tree", "-r", "-z", "--numstat", "--no-renames", merge_base, tip)
    out = run(root, *args, doing="list the changed files")
    changes = []
    for item in out.split("\0"):
        if item.count("\t") < 2:
            continue
        added, removed, path = item.split("\t", 2)
        changes.append(
            FileChange(
                path=path,
                added=int(added) if added.isdigit() else None,
                removed=int(removed) if removed.isdigit() else None,
            )
        )
    return tuple(changes)


def _status_paths(cwd: Path, untracked: str) -> list[str]:
    """Paths `git status` reports, read without refreshing the checkout's index."""
    args = ("status", "--porcelain=v1", "-z", "--no-renames", f"--untracked-files={untracked}")
    out = run(cwd, *args, doing=f"read the status of {cwd}")
    return [entry[3:] for entry in out.split("\0") if len(entry) > 3]


def _uncommitted(worktree: Path) -> int:
    """Changed, staged, deleted and untracked files: what a merge of the branch leaves behind."""
    return len(set(_status_paths(worktree, "all")))


def _tracked_changes(root: Path) -> list[str]:
    return sorted(set(_status_paths(root, "no")))


def _in_the_way(root: Path, base_tip: str, merged: str) -> list[str]:
    """Files on disk that git does not track where the merge would write one.

    git refuses to overwrite untracked files but not ignored ones; both are refused here, since
    an ignored file can still be the only copy of something.
    """
    args = ("diff-tree", "-r", "-z", "--name-status", "--no-renames", base_tip, merged)
    fields = run(root, *args, doing="list what the merge writes").split("\0")
    changes = list(zip(fields[0::2], fields[1::2], strict=False))
    gone = {path for status, path in changes if status == "D"}
    found: list[str] = []
    for status, path in changes:
        if status != "A":
            continue
        if os.path.lexists(root / path):
            found.append(path)
            continue
        for parent in PurePosixPath(path).parents[:-1]:
            where = root / parent
            is_file = where.is_symlink() or (where.exists() and not where.is_dir())
            if is_file and str(parent) not in gone:
                found.append(str(parent))
                break
    return sorted(set(found))


def _merged_message(
    preview: MergePreview, after: str, fast_forward: bool, ref: str, undo: tuple[Command, ...]
) -> str:
    branch, base = preview.branch, preview.base
    size = f"{plural(preview.ahead, 'commit')}, {plural(len(preview.files), 'file')}"
    if fast_forward:
        lines = [
            f"Merged {branch} into {base}: a fast-forward from {preview.base_tip[:12]} to "
            f"{after[:12]} ({size})."
        ]
    else:
        lines = [f"Merged {branch} into {base} in the merge commit {after[:12]} ({size})."]
    lines.append(f"{base} as it was before is kept at {ref} ({preview.base_tip[:12]}).")
    lines.append(f"To undo it while {base} has nothing newer: {shlex.join(undo[0])}")
    if len(undo) > 1:
        lines.append(f"Or, once others have it, revert the merge: {shlex.join(undo[1])}")
    if preview.uncommitted:
        lines.append(
            f"{preview.agent}'s {plural(preview.uncommitted, 'uncommitted file')} are not in "
            f"the merge: they stay in {preview.worktree} until {preview.agent} commits them."
        )
    return "\n".join(lines)
