"""Removing an agent's worktree without losing its work, and saying how to get it back.

Uncommitted work is saved under a ref first. What no ref can hold, ignored files and nested
repositories with their own history, is moved aside to a private folder under `.corral/kept/`,
except dependency and cache folders an install or a build makes again. The branch is deleted
only when the base has all its commits, and the message ends with the commands that put the
worktree back as it was.
"""

from __future__ import annotations

import errno
import os
import shlex
import shutil
from collections.abc import Sequence
from contextlib import suppress
from dataclasses import dataclass, replace
from pathlib import Path, PurePosixPath

from sessions.adapters.private import FOLDER_MODE, private_folder
from sessions.adapters.repo import Repo, git
from sessions.adapters.worktree_git import (
    WorktreeEntry,
    absolute,
    branch_ref,
    by_branch,
    by_path,
    commit_of,
    free_path,
    free_ref,
    is_merged,
    list_worktrees,
    quoted,
    read_text,
    reason,
    run,
    set_ref,
    stamp,
)
from sessions.core.errors import AgentError, CorralError
from sessions.core.worktree_values import Command, Leftover, Leftovers, RemovalPlan, plural
from sessions.services import saved_work
from sessions.services.saved_work import SavedWork, restore_commands
from sessions.services.worktree_half_made import (
    HalfMade,
    check_half_made,
    done_making,
    drop_half_made,
    half_made,
    read_making,
)

TRASH_PREFIX = "refs/corral/trash"
# Under `.corral/`: what `remove` keeps.
KEPT_DIR = "kept"
# Ignored folders `remove` lets go instead of keeping: made again by an install or a run.
REGENERABLE = frozenset(
    {"node_modules", "__pycache__", ".pytest_cache", ".mypy_cache", ".ruff_cache", ".tox", ".nox"}
)
# Folders that are only let go when they are Python virtual environments (a pyvenv.cfg).
VENVS = frozenset({".venv", "venv"})


@dataclass(frozen=True)
class Removal:
    """What `remove` kept and where; `recovery` are the commands that `message` shows.

    `kept_in` is the folder under `.corral/kept/` that the worktree's ignored files and nested
    repositories were moved to, None when it had none.
    """

    path: Path
    branch: str
    branch_kept: bool
    snapshot: SavedWork | None
    message: str
    head_ref: str | None = None
    recovery: tuple[Command, ...] = ()
    kept_in: Path | None = None
    leftovers: Leftovers = Leftovers()


def remove(repo: Repo, path: Path, name: str, branch: str, base: str) -> Removal:
    """Delete the agent's worktree after saving its work; keep the branch unless merged.

    Uncommitted work is saved under a ref. What no ref can hold, ignored files and nested
    repositories with their own history, is first moved aside to a folder under
    `.corral/kept/`, except dependency and cache folders an install or a build makes again
    (`REGENERABLE`), which the message names. Stop the agent first: whatever it writes
    between the snapshot and the deletion is lost.
    """
    path = absolute(path)
    entries = list_worktrees(repo.root)
    if path == entries[0].path:
        raise AgentError(f"{path} is the main checkout: corral never removes it.")
    entry = by_path(entries, path)
    if entry is None and path.exists():
        raise AgentError(
            f"{path} is not a worktree of {repo.root}: corral leaves it alone; "
            "delete it yourself if it is no longer needed."
        )
    if entry is not None and entry.locked:
        half = next((half for half in half_made(repo) if half.path == path), None)
        if half is None:
            raise AgentError(
                f"the worktree {path} is locked: unlock it with "
                f"`git worktree unlock {quoted(path)}` if it is no longer needed, then try "
                "again."
            )
        return _remove_half_made(repo, half, entry, name, branch, base)
    snapshot, head_ref, head = None, None, None
    kept_in, leftovers = None, Leftovers()
    if entry is not None:
        if not entry.prunable and path.is_dir():
            leftovers = leftovers_of(path)
        # A ref would hold an untracked nested repository only as a gitlink to a commit
        # it does not have: the repository itself is kept whole instead.
        leave_out = [item.path for item in leftovers.kept if item.how == "untracked"]
        snapshot, head_ref, head = _keep_work(repo, entry, name, leave_out)
        saved = snapshot.ref if snapshot else head_ref
        kept_in = _set_aside(repo, path, name, leftovers, saved)
        _drop_worktree(repo, path, saved, kept_in)
    done_making(repo, name)
    kept, tip, branch_line = _settle_branch(repo, branch, base)
    recovery = _recovery(repo, path, branch, entry, head, kept, tip, snapshot, kept_in)
    message = _removal_message(
        path, entry, snapshot, head_ref, branch_line, recovery, kept_in, leftovers
    )
    return Removal(path, branch, kept, snapshot, message, head_ref, recovery, kept_in, leftovers)


def removal_plan(repo: Repo, name: str, path: Path | None) -> RemovalPlan:
    """What `remove` would move aside from the worktree at `path`, and where, now."""
    where = f"{repo.state_dir / KEPT_DIR}/{name}-<time>/"
    if path is None:
        return RemovalPlan(None, Leftovers(), where)
    try:
        return RemovalPlan(path, leftovers_of(path), where)
    except CorralError as error:
        return RemovalPlan(path, Leftovers(), where, problem=str(error).rstrip("."))


def leftovers_of(path: Path) -> Leftovers:
    """What the worktree at `path` holds that no ref can: its ignored files and folders
    (whole, as their ignore rule names them) and its nested repositories, untracked or
    tracked as gitlinks (submodules). Only reads, so it may run while the agent works."""
    path = absolute(path)
    if not path.is_dir():
        return Leftovers()
    doing = f"list the ignored files and nested repositories of {path}"
    args = ("--porcelain=v1", "-z", "--no-renames", "--ignored=matching", "-uall")
    found: dict[str, Leftover] = {}
    for entry in run(path, "status", *args, doing=doing).split("\0"):
        code, name = entry[:2], entry[3:]
        if name and (code == "!!" or (code == "??" and name.endswith("/"))):
            relative = name.rstrip("/")
            folder = name.endswith("/")
            repository = folder and os.path.lexists(path / relative / ".git")
            how = "ignored" if code == "!!" else "untracked"
            found[relative] = Leftover(relative, folder, repository, how)
    for line in run(path, "ls-files", "-s", "-z", doing=doing).split("\0"):
        if line.startswith("160000 ") and "\t" in line:
            relative = line.split("\t", 1)[1]
            if relative not in found and os.path.lexists(path / relative / ".git"):
                found[relative] = Leftover(relative, True, True, "tracked")
    kept: list[Leftover] = []
    dropped: list[Leftover] = []
    for item in sorted(found.values(), key=lambda leftover: leftover.path):
        regenerable = item.how == "ignored" and _regenerable(path, item.path)
        (dropped if regenerable else kept).append(item)
    return Leftovers(tuple(kept), tuple(dropped))


def _set_aside(
    repo: Repo, path: Path, name: str, leftovers: Leftovers, saved: str | None
) -> Path | None:
    """Move what `leftovers` keeps into a new private folder under `.corral/kept/`, with
    the same paths as in the worktree; all of it goes back if one move fails."""
    if not leftovers.kept:
        return None
    found = git(path, "rev-parse", "--absolute-git-dir", check=False)
    admin = absolute(Path(found.stdout.strip())) if found.returncode == 0 else None
    root = repo.state_dir / KEPT_DIR
    moved: list[tuple[Path, Path]] = []
    current = ""
    try:
        private_folder(root)
        folder = free_path(root / f"{name}-{stamp()}")
        folder.mkdir(mode=FOLDER_MODE)
        for item in leftovers.kept:
            current = item.path
            source, target = path / item.path, folder / item.path
            if item.repository and admin is not None:
                _own_history(source, admin, repo.root)
            private_folder(target.parent)
            _move(source, target)
            moved.append((source, target))
    except OSError as error:
        for source, target in reversed(moved):
            with suppress(OSError):
                _move(target, source)
        kept = f"; its uncommitted work is saved at {saved}" if saved else ""
        raise AgentError(
            f"corral could not move {current or 'what no ref can hold'} out of {path} "
            f"into {root} ({error.strerror or error}), so nothing was removed{kept}: "
            "fix that and try again."
        ) from error
    return folder


def _remove_half_made(
    repo: Repo, half: HalfMade, entry: WorktreeEntry, name: str, branch: str, base: str
) -> Removal:
    """`remove` of a worktree an interrupted start left half-made: it holds nothing to
    save (or the removal is refused, see `check_half_made`)."""
    path = half.path
    check_half_made(repo, half, name, branch, base, read_making(repo, name), f"corral rm {name}")
    drop_half_made(repo, half)
    done_making(repo, name)
    kept, tip, branch_line = _settle_branch(repo, branch, base)
    as_made = replace(entry, branch=branch, head=tip)
    recovery = _recovery(repo, path, branch, as_made, tip, kept, tip, None, None)
    if half.owns_folder:
        first = (
            f"Removed the worktree {path}, which an interrupted start had left half-made: "
            "it held nothing but part of git's checkout."
        )
    elif not path.exists():
        first = (
            f"Forgot the half-made worktree {path} an interrupted start had left: its "
            "folder was already gone."
        )
    else:
        first = (
            f"Forgot the half-made worktree {path} an interrupted start had left; its "
            "folder held none of it and is left as it is."
        )
    lines = [first, branch_line]
    if recovery:
        lines.append("To get it back:")
        lines.extend("  " + shlex.join(command) for command in recovery)
    return Removal(path, branch, kept, None, "\n".join(lines), None, recovery)


def _keep_work(
    repo: Repo, entry: WorktreeEntry, name: str, leave_out: Sequence[str] = ()
) -> tuple[SavedWork | None, str | None, str | None]:
    """Save uncommitted work, and a detached HEAD that no branch would keep alive."""
    ref = free_ref(repo.root, f"{TRASH_PREFIX}/{name}/{stamp()}")
    snapshot = None
    if entry.path.is_dir() and not entry.prunable:
        text = f"corral: uncommitted work of {name}, saved before removing {entry.path}"
        snapshot = saved_work.snapshot(repo, entry.path, ref, text, leave_out)
    head = entry.head
    if snapshot is not None:
        head = run(repo.root, "rev-parse", f"{snapshot.commit}^1", doing="read").strip()
    if snapshot is None and entry.branch is None and head is not None:
        set_ref(repo.root, ref, head, None, "corral: detached HEAD of a removed worktree")
        return None, ref, head
    return snapshot, None, head


def _drop_worktree(repo: Repo, path: Path, saved: str | None, kept_in: Path | None) -> None:
    result = git(repo.root, "worktree", "remove", "--force", str(path), check=False)
    if result.returncode != 0:
        kept = f"; its work is saved at {saved}" if saved else ""
        if kept_in is not None:
            kept += f"; what no ref can hold was moved to {kept_in}"
        raise AgentError(
            f"git could not remove the worktree {path} ({reason(result)}){kept}: "
            "fix that and try again."
        )


def _settle_branch(repo: Repo, branch: str, base: str) -> tuple[bool, str | None, str]:
    """Delete the branch only when base has all its commits.

    This runs after the worktree is gone, so it reports problems in its line of the message
    instead of raising them and losing the rest of the message.
    """
    ref = branch_ref(branch)
    tip = commit_of(repo.root, ref)
    if tip is None:
        return False, None, f"There was no branch {branch}."
    try:
        why = _reason_to_keep(repo, branch, base, tip)
        if why is None:
            run(repo.root, "update-ref", "-d", ref, tip, doing=f"delete {branch}")
    except AgentError as error:
        why = str(error).rstrip(".")
    if why is not None:
        return True, tip, f"Branch {branch} is kept: {why}."
    git(repo.root, "config", "--remove-section", f"branch.{branch}", check=False)
    line = f"Branch {branch} was deleted: all its commits are in {base} (its tip was {tip})."
    return False, tip, line


def _reason_to_keep(repo: Repo, branch: str, base: str, tip: str) -> str | None:
    holder = by_branch(list_worktrees(repo.root), branch)
    if holder is not None:
        return f"it is checked out in {holder.path}"
    target = commit_of(repo.root, base)
    if target is None:
        return f"the base {base} was not found, so corral could not tell whether it is merged"
    if is_merged(repo, branch, base):
        return None
    out = run(repo.root, "rev-list", "--count", tip, f"^{target}", doing="count commits")
    count = int(out.strip())
    verb = "is" if count == 1 else "are"
    return f"{plural(count, 'commit')} {verb} not in {base}"


def _recovery(
    repo: Repo,
    path: Path,
    branch: str,
    entry: WorktreeEntry | None,
    head: str | None,
    kept: bool,
    tip: str | None,
    snapshot: SavedWork | None,
    kept_in: Path | None = None,
) -> tuple[Command, ...]:
    """The commands that put the worktree back as it was, checked by the tests."""
    root = str(repo.root)
    if entry is None:
        if tip is None or kept:
            return ()
        return (("git", "-C", root, "branch", branch, tip),)
    add: Command
    if entry.branch == branch and kept:
        add = ("git", "-C", root, "worktree", "add", str(path), branch)
    elif entry.branch == branch and tip is not None:
        add = ("git", "-C", root, "worktree", "add", "-b", branch, str(path), tip)
    elif entry.branch is not None:
        add = ("git", "-C", root, "worktree", "add", str(path), entry.branch)
    elif head is not None:
        add = ("git", "-C", root, "worktree", "add", "--detach", str(path), head)
    else:
        return ()
    commands: list[Command] = [add]
    if snapshot is not None:
        commands.extend(restore_commands(path, snapshot.ref))
    if kept_in is not None:
        # Copied into what the add made (a submodule's empty folder included), not moved.
        commands.append(("cp", "-a", f"{kept_in}/.", f"{path}/"))
    return tuple(commands)


def _removal_message(
    path: Path,
    entry: WorktreeEntry | None,
    snapshot: SavedWork | None,
    head_ref: str | None,
    branch_line: str,
    recovery: tuple[Command, ...],
    kept_in: Path | None = None,
    leftovers: Leftovers = Leftovers(),
) -> str:
    if entry is None:
        lines = [f"There was no worktree at {path}."]
    elif entry.prunable:
        lines = [f"Forgot the worktree {path}: its folder was already gone."]
    else:
        lines = [f"Removed the worktree {path}."]
    if snapshot is not None:
        lines.append(
            f"Uncommitted work ({plural(snapshot.files, 'file')}) is saved at {snapshot.ref} "
            f"(commit {snapshot.commit[:12]})."
        )
    elif entry is not None and not entry.prunable:
        lines.append("It had no uncommitted work.")
    lines.extend(leftovers.lines(str(kept_in), done=True))
    if head_ref is not None:
        lines.append(f"Its detached HEAD is kept at {head_ref}.")
    lines.append(branch_line)
    if recovery:
        lines.append("To get it back:")
        lines.extend("  " + shlex.join(command) for command in recovery)
    return "\n".join(lines)


def _regenerable(root: Path, relative: str) -> bool:
    """Whether an ignored path lies in a dependency or cache folder, which `remove` lets go."""
    parts = PurePosixPath(relative).parts
    for index, part in enumerate(parts):
        if part in REGENERABLE:
            return True
        if part in VENVS and root.joinpath(*parts[: index + 1], "pyvenv.cfg").is_file():
            return True
    return False


def _own_history(folder: Path, admin: Path, root: Path) -> None:
    """Give a nested repository whose git dir lives in the worktree's registration (git puts a
    submodule's there) that git dir back inside its folder: removing the worktree deletes the
    registration and everything in it, history included."""
    dot_git = folder / ".git"
    text = read_text(dot_git) if dot_git.is_file() and not dot_git.is_symlink() else ""
    if not text.startswith("gitdir:"):
        return
    target = Path(text.removeprefix("gitdir:").strip())
    target = absolute(target if target.is_absolute() else folder / target)
    if admin not in target.parents:
        return
    landing = free_path(folder / ".git.corral")
    _move(target, landing)
    dot_git.unlink()
    landing.rename(dot_git)
    # Its work tree is now simply the folder that holds it, wherever that goes.
    git(root, "config", "--file", str(dot_git / "config"), "--unset", "core.worktree", check=False)


def _move(source: Path, target: Path) -> None:
    """A rename, or a copy then a delete when `target` is on another file system."""
    try:
        os.rename(source, target)
    except OSError as error:
        if error.errno != errno.EXDEV:
            raise
        shutil.move(source, target)
