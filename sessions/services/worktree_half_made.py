"""Worktrees a killed start left half-made, deleted only when that loses nothing.

git checks a worktree out only after registering it, so a start killed midway can leave one
registered, locked "initializing", with part of the files. While corral makes a worktree, a note
under `.corral/making/` says what the branch was before, so the next start can tell that nothing
was committed on it since.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from collections.abc import Sequence
from contextlib import suppress
from dataclasses import dataclass
from pathlib import Path

from sessions.adapters.private import write_private
from sessions.adapters.repo import Repo, git
from sessions.adapters.worktree_git import (
    absolute,
    branch_ref,
    commit_of,
    free_path,
    quoted,
    read_text,
    rev_count,
    run,
    scratch_folder,
)
from sessions.core.errors import AgentError
from sessions.core.worktree_values import listing, plural

# What `git worktree add` writes into the new worktree's `locked` file until it is done (in the C
# locale corral runs git in). A kill before the end leaves it there, with part of the files.
GIT_INITIALIZING = "initializing"
# Under `.corral/`: a note per agent while its worktree is being made.
MAKING_DIR = "making"
# A checkout killed in mid-write leaves a file cut short; at most this many are compared.
CUT_SHORT_CHECKS = 16


@dataclass(frozen=True)
class Making:
    """corral's note that it began making an agent's worktree: written before the branch and
    the worktree are made, removed once `git worktree add` is done. `tip` is the commit the
    branch was at (or was made at) then."""

    path: Path
    branch: str
    tip: str | None
    created_branch: bool


@dataclass(frozen=True)
class HalfMade:
    """A worktree `git worktree add` began and never finished (killed midway): its registration
    `admin` is still locked "initializing". `owns_folder` when the folder's `.git` file points
    at it, so the folder's files are the ones that add wrote."""

    admin: Path
    path: Path
    owns_folder: bool


def finish_half_made(
    repo: Repo, name: str, branch: str, base: str, path: Path, making: Making | None
) -> str | None:
    """Clear away what a killed `git worktree add` left of the agent's worktree, or refuse.

    git checks a worktree out only after registering it, so a kill it cannot clean up
    after (`kill -9` of `corral up` or of its process group, the machine going down; git
    does clean up on Ctrl-C and a closed terminal) can leave it registered, locked
    "initializing", with part of the files and an index that lacks the rest: an agent
    started there would commit the missing files as deleted. Such a worktree is deleted
    (and then made again by `ensure`) only when it holds nothing but what git's checkout
    wrote and its branch has nothing new; otherwise nothing is touched and the message
    says how to get past it.
    """
    wanted = {path} if making is None else {path, making.path}
    found = [half for half in half_made(repo) if half.path in wanted]
    if not found:
        return None
    for half in found:
        check_half_made(repo, half, name, branch, base, making, f"corral up {name}")
    for half in found:
        drop_half_made(repo, half)
    return (
        f"an interrupted start had left the worktree {found[0].path} half-made; it held "
        f"nothing but part of git's checkout, so corral made it again from {branch}"
    )


def half_made(repo: Repo) -> tuple[HalfMade, ...]:
    """Every registration still locked "initializing" that says which folder it is for."""
    try:
        admins = sorted((repo.common_dir / "worktrees").iterdir())
    except OSError:
        return ()
    found = []
    for admin in admins:
        if read_text(admin / "locked") != GIT_INITIALIZING:
            continue
        gitdir = read_text(admin / "gitdir")
        if not gitdir:
            continue
        dot_git = Path(gitdir) if os.path.isabs(gitdir) else admin / gitdir
        path = absolute(Path(os.path.normpath(dot_git)).parent)
        found.append(HalfMade(admin, path, _points_to(path / ".git", admin)))
    return tuple(found)


def check_half_made(
    repo: Repo,
    half: HalfMade,
    name: str,
    branch: str,
    base: str,
    making: Making | None,
    then: str,
) -> None:
    """Raise unless `half` can be deleted without losing anything; `then` is the command
    to run again after the fix the refusal gives."""
    if not half.owns_folder or not half.path.is_dir():
        return  # only the registration is git's: the folder is gone or someone else's
    users = _users_of(half.path)
    if users:
        raise AgentError(
            f"the worktree {half.path} is still being made or used ({listing(users)} "
            f"working in it): let that end or leave the folder, then `{then}` again."
        )
    news = _half_made_news(repo, half, branch, base, making)
    if news:
        aside = free_path(half.path.with_name(f"{half.path.name}.half-made"))
        raise AgentError(
            f"the worktree {half.path}, left half-made by an interrupted start (git still "
            f'marks it "{GIT_INITIALIZING}"), holds more than part of git\'s checkout '
            f"({'; '.join(news)}), so corral changed nothing: move the folder away with "
            f"`mv {quoted(half.path)} {quoted(aside)}`, then `{then}` again (the branch "
            f"keeps its commits), and take what you need from {aside}."
        )


def _half_made_news(
    repo: Repo, half: HalfMade, branch: str, base: str, making: Making | None
) -> tuple[str, ...]:
    """What a half-made worktree holds that git's checkout did not write, in phrases."""
    news: list[str] = []
    head = read_text(half.admin / "HEAD")
    if head and head != f"ref: {branch_ref(branch)}" and set(head) != {"0"}:
        news.append(f"its HEAD is {head.removeprefix('ref: ')}, not {branch}")
    tip = commit_of(repo.root, branch_ref(branch))
    if making is not None and making.path == half.path and making.branch == branch:
        expected = making.tip
        if tip is not None and tip != expected:
            news.append(_moved(repo, branch, expected, tip))
    else:
        expected = tip
        news.extend(_own_commits(repo, branch, base, tip))
    untracked, changed = _beyond_checkout(repo, half.path, expected)
    if untracked:
        news.append(
            f"{plural(len(untracked), 'file')} the checkout did not write ({listing(untracked)})"
        )
    if changed:
        verb = "differs" if len(changed) == 1 else "differ"
        news.append(
            f"{plural(len(changed), 'file')} that {verb} from {branch} ({listing(changed)})"
        )
    return tuple(news)


def _moved(repo: Repo, branch: str, before: str | None, tip: str) -> str:
    since = "since corral began making the worktree"
    if before is None:
        return f"branch {branch} was made {since}"
    count = rev_count(repo.root, tip, before)
    if count == 0:
        return f"branch {branch} moved from {before[:12]} to {tip[:12]} {since}"
    return f"branch {branch} has {plural(count, 'commit')} made {since}"


def _own_commits(repo: Repo, branch: str, base: str, tip: str | None) -> tuple[str, ...]:
    """Without corral's note, a branch with commits beyond the base may hold work."""
    if tip is None:
        return ()
    target = commit_of(repo.root, base)
    if target is None:
        return (f"the base {base} was not found, so {branch} may have commits of its own",)
    count = rev_count(repo.root, tip, target)
    return (f"branch {branch} has {plural(count, 'commit')} not in {base}",) if count else ()


def _beyond_checkout(
    repo: Repo, path: Path, commit: str | None
) -> tuple[Sequence[str], Sequence[str]]:
    """Files in `path` that checking out `commit` did not write: untracked ones (ignored
    ones too), and tracked ones that are neither the commit's content nor a beginning of
    it, which is what a checkout killed in mid-write leaves. Missing files are expected.

    git compares through a throwaway index filled from the commit, so the worktree's own
    index (missing or partial) and HEAD (possibly not written yet) are never read.
    """
    root = repo.root
    with scratch_folder(repo.common_dir) as scratch:
        env = {
            "GIT_DIR": str(repo.common_dir),
            "GIT_WORK_TREE": str(path),
            "GIT_INDEX_FILE": str(scratch / "index"),
            "GIT_LITERAL_PATHSPECS": "1",
        }
        doing = f"compare {path} with what git checks out there"
        run(path, "read-tree", *([commit] if commit else ["--empty"]), env=env, doing=doing)
        git(path, "update-index", "-q", "--refresh", env=env, check=False)
        others = run(path, "ls-files", "-z", "--others", env=env, doing=doing)
        fields = run(path, "diff-files", "-z", "--name-status", env=env, doing=doing)
        pairs = zip(fields.split("\0")[0::2], fields.split("\0")[1::2], strict=False)
        differ = [name for status, name in pairs if status and status != "D"]
        blobs: dict[str, str] = {}
        if differ and len(differ) <= CUT_SHORT_CHECKS:
            staged = run(path, "ls-files", "-s", "-z", "--", *differ, env=env, doing=doing)
            for item in filter(None, staged.split("\0")):
                meta, name = item.split("\t", 1)
                blobs[name] = meta.split()[1]
    untracked = sorted(name for name in others.split("\0") if name)
    changed = [name for name in differ if not _cut_short(root, path / name, blobs.get(name))]
    return untracked, sorted(changed)


def drop_half_made(repo: Repo, half: HalfMade) -> None:
    """Delete the folder (checked by `check_half_made`) and the registration, as
    `git worktree remove -f -f` would; git cannot itself while the registration is torn.

    A checkout killed as it set its branch leaves that branch's lock file, and every later
    checkout of the branch fails on it: a lock made since the add began, with nothing at
    work in the folder, was that checkout's and goes too.
    """
    head = read_text(half.admin / "HEAD")
    stale = None
    if half.owns_folder and head.startswith("ref: refs/heads/"):
        lock = repo.common_dir / f"{head.removeprefix('ref: ')}.lock"
        with suppress(OSError):
            if lock.stat().st_mtime >= (half.admin / "locked").stat().st_mtime:
                stale = lock
    try:
        if half.owns_folder and half.path.is_dir():
            shutil.rmtree(half.path)
        shutil.rmtree(half.admin)
        if stale is not None:
            stale.unlink(missing_ok=True)
    except OSError as error:
        raise AgentError(
            f"corral could not delete the half-made worktree {half.path} ({error}): "
            f"delete it with `rm -rf {quoted(half.path)} {quoted(half.admin)}` and try again."
        ) from error


def _points_to(dot_git: Path, admin: Path) -> bool:
    """Whether a worktree's `.git` file names `admin` as its git dir, or is the empty file of
    a `git worktree add` killed between making it and writing it (git writes `admin`'s
    `gitdir` just before it)."""
    if dot_git.is_symlink() or not dot_git.is_file():
        return False
    text = read_text(dot_git)
    if not text:
        return dot_git.stat().st_size == 0
    if not text.startswith("gitdir:"):
        return False
    target = Path(text.removeprefix("gitdir:").strip())
    if not target.is_absolute():
        target = dot_git.parent / target
    return absolute(target) == absolute(admin)


def _cut_short(root: Path, path: Path, blob: str | None) -> bool:
    """Whether `path` holds the start of `blob` (all of it included), as git writes it."""
    if blob is None or path.is_symlink() or not path.is_file():
        return False
    result = subprocess.run(
        ["git", "cat-file", "blob", blob], cwd=root, capture_output=True, check=False
    )
    try:
        return result.returncode == 0 and result.stdout.startswith(path.read_bytes())
    except OSError:
        return False


def _users_of(folder: Path) -> list[str]:
    """Processes working in `folder` (a git still checking out, an agent), as `name (pid N)`."""
    import psutil  # only here: every `corral ls` loads this module, and psutil costs 30 ms

    found = []
    for process in psutil.process_iter(["pid", "name", "cwd"]):
        cwd = process.info.get("cwd")
        if process.info["pid"] == os.getpid():
            continue
        if cwd and (Path(cwd) == folder or folder in Path(cwd).parents):
            found.append(f"{process.info.get('name') or '?'} (pid {process.info['pid']})")
    return found


# -- corral's note of a worktree being made ---------------------------------------------------


def _making_file(repo: Repo, name: str) -> Path:
    return repo.state_dir / MAKING_DIR / f"{name}.json"


def note_making(repo: Repo, making: Making, name: str) -> None:
    record = {
        "path": str(making.path),
        "branch": making.branch,
        "tip": making.tip,
        "created_branch": making.created_branch,
    }
    write_private(_making_file(repo, name), json.dumps(record))


def read_making(repo: Repo, name: str) -> Making | None:
    try:
        record = json.loads(_making_file(repo, name).read_text())
        tip = record["tip"]
        return Making(
            path=absolute(Path(record["path"])),
            branch=str(record["branch"]),
            tip=str(tip) if tip else None,
            created_branch=bool(record["created_branch"]),
        )
    except (OSError, ValueError, KeyError, TypeError):
        return None


def done_making(repo: Repo, name: str) -> None:
    _making_file(repo, name).unlink(missing_ok=True)
