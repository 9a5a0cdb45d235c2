"""Snapshots of an agent's uncommitted work, saved under a ref without disturbing the agent.

A snapshot is laid out like a `git stash` entry and built in throwaway index files next to the
worktree's own, so the agent's branch, index and files are only read and it can keep working
meanwhile.
"""

from __future__ import annotations

import shutil
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from sessions.adapters.repo import Repo, git
from sessions.adapters.worktree_git import (
    FALLBACK_IDENT,
    absolute,
    check_ref,
    commit_of,
    ident_env,
    run,
    scratch_folder,
    set_ref,
)
from sessions.core.errors import AgentError

if TYPE_CHECKING:  # a name only: loading its module costs every look at a builder that moved
    from sessions.core.worktree_values import Command

# For commits that only stand for a worktree's current files: the same files, the same id.
FIXED_IDENT = {
    **FALLBACK_IDENT,
    "GIT_AUTHOR_DATE": "@0 +0000",
    "GIT_COMMITTER_DATE": "@0 +0000",
}


@dataclass(frozen=True)
class SavedWork:
    """A saved copy of uncommitted work, laid out like a `git stash` entry.

    `commit` holds the working files (untracked ones included) with parents HEAD and a commit of
    the staged state, so `git stash apply --index <ref>` brings both back onto a moved branch,
    and `git restore --source` from `ref` and `ref^2` brings them back exactly.
    """

    ref: str
    commit: str
    files: int


@dataclass(frozen=True)
class _Checkout:
    """Where a worktree keeps its git files and what its HEAD holds, read in one git call."""

    top: Path
    git_dir: Path
    index: Path
    head: str
    head_tree: str
    label: str


def snapshot(
    repo: Repo, path: Path, ref: str, message: str, leave_out: Sequence[str] = ()
) -> SavedWork | None:
    """Save uncommitted work under `ref` without touching the agent's branch, index or files.

    Both trees are built in temporary index files next to the worktree's own, so the agent
    can keep working meanwhile. An existing `ref` is never overwritten: its old commit
    becomes an extra parent of the new index commit, where `git stash apply` ignores it.
    `leave_out` are untracked paths the working files' tree skips (nested repositories that
    `remove` keeps whole).
    """
    path = absolute(path)
    check_ref(repo.root, ref, "the snapshot ref")
    checkout = _checkout(repo, path)
    with scratch_folder(checkout.git_dir) as scratch:
        index_tree = _index_tree(checkout, scratch)
        work_tree = _work_tree(checkout, scratch, leave_out)
    if index_tree == work_tree == checkout.head_tree:
        return None
    previous = commit_of(repo.root, ref)
    env = ident_env(repo.root)
    index_parents = [checkout.head] if previous is None else [checkout.head, previous]
    index_commit = _commit_tree(
        repo.root, index_tree, index_parents, f"index on {checkout.label}: {message}", env
    )
    text = message if previous is None else _replaces(message, ref, previous)
    commit = _commit_tree(repo.root, work_tree, [checkout.head, index_commit], text, env)
    set_ref(repo.root, ref, commit, previous, "corral: snapshot of uncommitted work")
    files = _changed_paths(checkout.top, checkout.head, (index_tree, work_tree))
    return SavedWork(ref=ref, commit=commit, files=files)


def current_commit(repo: Repo, path: Path) -> str:
    """A commit of the worktree's files as they are now, on top of its HEAD.

    This is what merging the agent's branch would bring if it committed everything now
    (untracked files included, ignored ones not), so overlap with other agents can be judged
    before anyone commits. It is built through a throwaway index like `snapshot`, so the
    agent's index and files stay untouched. The identity and date are fixed, so the same
    files on the same HEAD always give the same commit: looking again adds no objects and
    the commit id can key a cache. Nothing uncommitted gives HEAD itself.
    """
    return current_files(repo, path)[1]


def current_files(repo: Repo, path: Path) -> tuple[str, str]:
    """The worktree's HEAD, and `current_commit`'s commit of its files: read together, so a
    caller can key what depends only on HEAD (a merge base) without another git call."""
    checkout = _checkout(repo, absolute(path))
    with scratch_folder(checkout.git_dir) as scratch:
        tree = _files_tree(checkout, scratch)
    if tree == checkout.head_tree:
        return checkout.head, checkout.head
    message = f"corral: the files of {checkout.label} as they are"
    return checkout.head, _commit_tree(repo.root, tree, [checkout.head], message, dict(FIXED_IDENT))


_WHERE = ("rev-parse", "--path-format=absolute", "--show-toplevel", "--git-common-dir", "--git-dir")
_HEAD = ("HEAD^{commit}", "HEAD^{tree}", "--abbrev-ref", "HEAD", "--")


def _checkout(repo: Repo, path: Path) -> _Checkout:
    """One `rev-parse` for the folders, HEAD, its tree and its branch: this runs whenever a
    builder in a conflict changed its files, and each git process costs a few milliseconds.
    When that fails, the folders alone are asked again to tell what is wrong."""
    if not path.is_dir():
        raise AgentError(f"{path} is not a folder: there is no work there to save.")
    found = git(path, *_WHERE, "--git-path", "index", *_HEAD, check=False)
    if found.returncode != 0:
        found = git(path, *_WHERE, "--git-path", "index", check=False)
    lines = found.stdout.splitlines()
    if found.returncode != 0 or len(lines) < 4 or absolute(Path(lines[0])) != path:
        raise AgentError(f"{path} is not the top folder of a git worktree: nothing to save.")
    if absolute(Path(lines[1])) != repo.common_dir:
        raise AgentError(f"{path} belongs to another repository than {repo.root}.")
    if len(lines) < 7:
        raise AgentError(
            f"{path} has no commit checked out (its HEAD is unborn): commit its work "
            "or copy it elsewhere first."
        )
    head, head_tree, branch = lines[4:7]
    return _Checkout(
        top=path,
        git_dir=Path(lines[2]),
        index=Path(lines[3]),
        head=head,
        head_tree=head_tree,
        label=branch if branch != "HEAD" else "(no branch)",
    )


def _commit_tree(
    root: Path, tree: str, parents: Sequence[str], message: str, env: dict[str, str]
) -> str:
    args = ["commit-tree", "--no-gpg-sign", tree, "-m", message]
    for parent in parents:
        args += ["-p", parent]
    return run(root, *args, env=env, doing="save a snapshot commit").strip()


def _index_tree(checkout: _Checkout, scratch: Path) -> str:
    """The staged state, written from a copy: write-tree on the real index would rewrite it."""
    copy = scratch / "staged"
    env = {"GIT_INDEX_FILE": str(copy)}
    if checkout.index.exists():
        shutil.copyfile(checkout.index, copy)
    else:
        run(checkout.top, "read-tree", checkout.head, env=env, doing="read HEAD")
    unmerged = run(checkout.top, "ls-files", "-u", "-z", env=env, doing="read the index")
    paths = sorted({item.split("\t", 1)[1] for item in unmerged.split("\0") if "\t" in item})
    if paths:
        # A tree cannot hold conflict stages; record those paths as they are in the folder.
        args = ("update-index", "--add", "--remove", "--", *paths)
        run(checkout.top, *args, env=env, doing="record conflicted files")
    return run(checkout.top, "write-tree", env=env, doing="save the staged state").strip()


def _work_tree(checkout: _Checkout, scratch: Path, leave_out: Sequence[str] = ()) -> str:
    """Every file in the folder that git does not ignore, as a tree, via a throwaway index."""
    env = {"GIT_INDEX_FILE": str(scratch / "work")}
    run(checkout.top, "read-tree", checkout.head, env=env, doing="read HEAD")
    skip = [f":(exclude,literal){path}" for path in leave_out]
    paths = ("--", ".", *skip) if skip else ()
    run(checkout.top, "add", "-A", *paths, env=env, doing=f"save the files of {checkout.top}")
    return run(checkout.top, "write-tree", env=env, doing="save the working files").strip()


def _files_tree(checkout: _Checkout, scratch: Path) -> str:
    """Like `_work_tree`, but from a copy of the agent's index, whose file stats spare git from
    hashing every unchanged file again: this runs on every look, not once per shelve.

    `copy2` keeps the index's own time, which git needs to spot files changed in the same
    instant the index was written.
    """
    copy = scratch / "files"
    env = {"GIT_INDEX_FILE": str(copy)}
    if checkout.index.exists():
        shutil.copy2(checkout.index, copy)
    else:
        run(checkout.top, "read-tree", checkout.head, env=env, doing="read HEAD")
    run(checkout.top, "add", "-A", env=env, doing=f"read the files of {checkout.top}")
    return run(checkout.top, "write-tree", env=env, doing="save the working files").strip()


def _changed_paths(cwd: Path, head: str, trees: tuple[str, ...]) -> int:
    paths: set[str] = set()
    for tree in trees:
        args = ("diff-tree", "-r", "-z", "--name-only", "--no-renames", head, tree)
        out = run(cwd, *args, doing="count changed files")
        paths.update(item for item in out.split("\0") if item)
    return len(paths)


def _replaces(message: str, ref: str, previous: str) -> str:
    return (
        f"{message}\n\n{ref} already held the snapshot {previous}; it is kept as the second "
        f"parent of this snapshot's index commit ({ref}^2^2)."
    )


def restore_commands(path: Path, ref: str) -> tuple[Command, ...]:
    """Files, then staged state, exactly as saved; `stash apply` would stage untracked files."""
    restore = ("git", "-C", str(path), "restore", "--source")
    return (
        (*restore, ref, "--worktree", "--", "."),
        (*restore, f"{ref}^2", "--staged", "--", "."),
    )
