"""git as the worktree modules run it: commands, the worktree list, refs, and small helpers.

Every command runs through `sessions.adapters.repo.git`, without optional locks, and a failure
becomes one sentence for the user instead of a traceback (`run`). A ref is only moved from the
commit it was seen at (`set_ref`), so a concurrent writer is never lost.
"""

from __future__ import annotations

import os
import re
import shlex
import shutil
import subprocess
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from sessions.adapters.repo import Repo, git
from sessions.core.errors import AgentError

HALF_MADE_ATTEMPTS = 4
_HALF_MADE = re.compile(r"failed to read \S*worktrees/[^/\s]+/(?:commondir|gitdir)")
FALLBACK_IDENT = {
    "GIT_AUTHOR_NAME": "corral",
    "GIT_AUTHOR_EMAIL": "corral@localhost",
    "GIT_COMMITTER_NAME": "corral",
    "GIT_COMMITTER_EMAIL": "corral@localhost",
}


@dataclass(frozen=True)
class WorktreeEntry:
    """One worktree as `git worktree list --porcelain` reports it; `branch` is the short name."""

    path: Path
    branch: str | None
    head: str | None
    prunable: bool
    locked: bool = False


# -- running git ------------------------------------------------------------------------------


def run(cwd: Path, *args: str, doing: str, env: dict[str, str] | None = None) -> str:
    """git, with any failure turned into one sentence for the user instead of a traceback.

    git reads every registered worktree's files when it lists or adds one, and a worktree
    that another `git worktree add` is halfway through creating (corral makes two at a time;
    an agent may make its own) briefly has an empty `commondir`: git then fails with "failed
    to read .git/worktrees/<other>/commondir" before doing anything, so it is asked again a
    moment later.
    """
    if not cwd.is_dir():
        raise AgentError(f"{cwd} does not exist: git could not {doing} there.")
    for attempt in range(HALF_MADE_ATTEMPTS):
        result = git(cwd, *args, env=env, check=False)
        if result.returncode == 0:
            return result.stdout
        if not _HALF_MADE.search(result.stderr) or attempt == HALF_MADE_ATTEMPTS - 1:
            break
        time.sleep(0.05 * (attempt + 1))
    raise AgentError(f"git could not {doing} ({reason(result)}): fix that and try again.")


def reason(result: subprocess.CompletedProcess[str]) -> str:
    lines = [line.strip() for line in result.stderr.splitlines() if line.strip()]
    for line in lines:
        for prefix in ("fatal: ", "error: "):
            if line.startswith(prefix):
                return line.removeprefix(prefix)
    return lines[0] if lines else f"exit status {result.returncode}"


@contextmanager
def scratch_folder(git_dir: Path) -> Iterator[Path]:
    """A private folder inside the git dir for temporary index files, removed afterwards."""
    import tempfile  # only when git needs one: it loads `random`, which `corral ls` need not

    try:
        folder = Path(tempfile.mkdtemp(prefix="corral-snapshot-", dir=git_dir))
    except OSError as error:
        raise AgentError(_cannot_write(git_dir, error)) from error
    try:
        yield folder
    except OSError as error:
        raise AgentError(_cannot_write(git_dir, error)) from error
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def _cannot_write(folder: Path, error: OSError) -> str:
    """A full disk is the usual cause, and freeing space the usual fix."""
    return (
        f"corral could not write a temporary index in {folder} ({error.strerror}): "
        "free some space on that disk and try again."
    )


# -- listing worktrees ------------------------------------------------------------------------


def list_worktrees(root: Path) -> list[WorktreeEntry]:
    out = run(root, "worktree", "list", "--porcelain", "-z", doing="list worktrees")
    return _parse_worktrees(out)


def _parse_worktrees(out: str) -> list[WorktreeEntry]:
    entries: list[WorktreeEntry] = []
    fields: dict[str, str] = {}
    for token in out.split("\0"):
        if token:
            key, _, value = token.partition(" ")
            fields[key] = value
            continue
        if "worktree" in fields:
            entries.append(_entry(fields))
        fields = {}
    return entries


def _entry(fields: dict[str, str]) -> WorktreeEntry:
    branch = fields.get("branch")
    return WorktreeEntry(
        path=absolute(Path(fields["worktree"])),
        branch=branch.removeprefix("refs/heads/") if branch else None,
        head=fields.get("HEAD") or None,
        prunable="prunable" in fields,
        locked="locked" in fields,
    )


# -- refs -------------------------------------------------------------------------------------


def commit_of(cwd: Path, rev: str) -> str | None:
    result = git(
        cwd,
        "rev-parse", "--verify", "--quiet", "--end-of-options", f"{rev}^{{commit}}",
        check=False,
    )  # fmt: skip
    if result.returncode != 0:
        return None
    return result.stdout.strip() or None


def check_ref(root: Path, ref: str, what: str) -> None:
    bad = git(root, "check-ref-format", ref, check=False).returncode != 0
    if bad or not ref.startswith("refs/"):
        raise AgentError(f"{ref!r} is not a valid name for {what}: use letters, digits and -.")


def free_ref(root: Path, ref: str) -> str:
    """A ref name nobody uses yet, so two removals in one second keep both."""
    candidate, number = ref, 1
    while commit_of(root, candidate) is not None:
        number += 1
        candidate = f"{ref}-{number}"
    return candidate


def set_ref(root: Path, ref: str, commit: str, previous: str | None, message: str) -> None:
    """Move `ref` only if it still holds `previous`, so a concurrent writer is never lost."""
    old = previous or ""
    run(root, "update-ref", "-m", message, ref, commit, old, doing=f"write {ref}")


def ident_env(root: Path) -> dict[str, str]:
    """A stand-in identity when the user has none, so saving work never fails for it."""
    for var in ("GIT_AUTHOR_IDENT", "GIT_COMMITTER_IDENT"):
        if git(root, "var", var, check=False).returncode != 0:
            return dict(FALLBACK_IDENT)
    return {}


def is_merged(repo: Repo, branch: str, base: str) -> bool:
    """True when `base` reaches every commit of `branch`, so deleting the branch loses none."""
    tip = commit_of(repo.root, branch_ref(branch))
    if tip is None:
        raise AgentError(f"branch {branch} does not exist: nothing to compare with {base}.")
    target = commit_of(repo.root, base)
    if target is None:
        raise AgentError(missing_base(base, repo.current_branch()))
    result = git(repo.root, "merge-base", "--is-ancestor", tip, target, check=False)
    if result.returncode not in (0, 1):
        raise AgentError(f"git could not compare {branch} with {base} ({reason(result)}).")
    return result.returncode == 0


def rev_count(root: Path, include: str, exclude: str) -> int:
    out = run(root, "rev-list", "--count", include, f"^{exclude}", doing="count commits")
    return int(out.strip())


def missing_base(base: str, current: str | None) -> str:
    suggestion = current or "main"
    return (
        f"the base {base!r} is not a branch or commit of this repository: set "
        f'`base = "{suggestion}"` (or another existing branch) in corral.toml.'
    )


# -- small helpers ----------------------------------------------------------------------------


def absolute(path: Path) -> Path:
    return path.expanduser().resolve()


def branch_ref(branch: str) -> str:
    return branch if branch.startswith("refs/") else f"refs/heads/{branch}"


def by_branch(entries: Sequence[WorktreeEntry], branch: str) -> WorktreeEntry | None:
    short = branch.removeprefix("refs/heads/")
    return next((entry for entry in entries if entry.branch == short), None)


def by_path(entries: Sequence[WorktreeEntry], path: Path) -> WorktreeEntry | None:
    return next((entry for entry in entries if entry.path == path), None)


def read_text(path: Path) -> str:
    """A small git file's text, stripped; empty when it is missing or unreadable."""
    try:
        return path.read_text(errors="replace").strip()
    except OSError:
        return ""


def free_path(path: Path) -> Path:
    candidate, number = path, 1
    while os.path.lexists(candidate):
        number += 1
        candidate = path.with_name(f"{path.name}-{number}")
    return candidate


def quoted(path: Path) -> str:
    return shlex.quote(str(path))


def stamp() -> str:
    from datetime import UTC, datetime

    return datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
