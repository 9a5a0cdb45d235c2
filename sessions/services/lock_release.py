"""Releasing a stale lock: the only write the lock modules make.

A committed lock file goes in a commit that holds nothing but its deletion; an untracked one is
just deleted.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from sessions.adapters.repo import git
from sessions.adapters.worktree_git import FALLBACK_IDENT
from sessions.core.errors import LockError
from sessions.core.lock_values import Lock, LockVerdict, place_label
from sessions.core.model import Checkout
from sessions.services.lock_scan import with_base_checkout


@dataclass(frozen=True)
class Released:
    """What `release` removed: from which places, with which commits, and the file's text
    (so the caller can journal a claim that git never saw)."""

    path: str
    removed_from: tuple[str | None, ...]
    commits: tuple[str, ...]
    content: str | None
    message: str


def release(
    repo_root: Path,
    base: str,
    checkouts: Sequence[Checkout],
    verdicts: Iterable[LockVerdict],
    path: str,
    *,
    force: bool = False,
) -> Released:
    """Remove a stale lock's file where it lives. A committed file goes in a commit that holds
    only its deletion (`git commit --only`), so whatever else is staged or changed in that
    checkout stays exactly as it was; an untracked file is just deleted."""
    matches = [verdict for verdict in verdicts if verdict.lock.path == path]
    if not matches:
        raise LockError(
            f"{path} is not a known lock: pass a path exactly as the lock list shows it."
        )
    fresh = [verdict for verdict in matches if not verdict.stale]
    if fresh and not force:
        raise LockError(
            f"{path} is not stale ({fresh[0].reason}): let its holder release it, or release "
            "it with force if you are sure nobody is working on it."
        )
    places = with_base_checkout(repo_root, base, checkouts)
    removed: list[str | None] = []
    commits: list[str] = []
    content: str | None = None
    for verdict in matches:
        cause = verdict.cause if verdict.stale else "released by hand"
        message = f"corral: release stale lock {path} (held by {verdict.lock.holder_name}, {cause})"
        for place in _release_places(verdict.lock):
            checkout = _checkout_for(place, places, base)
            on_base = place is None and verdict.lock.on_base
            text, commit = _remove(checkout, path, message, base if on_base else None)
            content = content if content is not None else text
            removed.append(place)
            if commit is not None:
                commits.append(commit)
    where = ", ".join(place_label(place) for place in removed) or "nowhere (already gone)"
    summary = f"released {path} from {where}" + (
        f" in {len(commits)} commit{'s' if len(commits) != 1 else ''}" if commits else ""
    )
    return Released(path, tuple(removed), tuple(commits), content, summary)


def _release_places(lock: Lock) -> tuple[str | None, ...]:
    """A lock on the base branch is released there (agents' inherited copies go away when
    they next merge the base); any other lock in each worktree that has it."""
    if None in lock.where:
        return (None,)
    return lock.where


def _checkout_for(place: str | None, places: Sequence[Checkout], base: str) -> Checkout:
    checkout = next((c for c in places if c.agent == place), None)
    if checkout is None:
        where = f"agent {place}" if place else f"the base branch {base}"
        raise LockError(f"no checkout of {where} was given: pass its worktree and try again.")
    return checkout


def _remove(
    checkout: Checkout, path: str, message: str, base: str | None
) -> tuple[str | None, str | None]:
    """Delete one copy; commit the deletion alone when git tracks the file there."""
    full = checkout.path / path
    try:
        data: bytes | None = full.read_bytes()
    except OSError:
        data = None
    text = data.decode("utf-8", errors="replace") if data is not None else None
    literal = {"GIT_LITERAL_PATHSPECS": "1"}
    if base is not None:
        _check_on_base(checkout, base)
    committed = _write(checkout.path, "ls-tree", "--name-only", "HEAD", "--", path, env=literal)
    if not committed.strip():
        staged = _write(checkout.path, "ls-files", "--", path, env=literal)
        if staged.strip():
            _write(checkout.path, "rm", "--cached", "--quiet", "--", path, env=literal)
        full.unlink(missing_ok=True)
        return text, None
    full.unlink(missing_ok=True)
    env = {**literal, **_identity(checkout.path)}
    try:
        _write(checkout.path, "commit", "--quiet", "--only", "-m", message, "--", path, env=env)
    except LockError:
        if data is not None and not full.exists():
            full.write_bytes(data)
        raise
    return text, _write(checkout.path, "rev-parse", "HEAD").strip()


def _check_on_base(checkout: Checkout, base: str) -> None:
    current = git(checkout.path, "symbolic-ref", "--quiet", "--short", "HEAD", check=False)
    branch = current.stdout.strip()
    if branch != base.removeprefix("refs/heads/"):
        raise LockError(
            f"the lock is committed on {base}, but {checkout.path} has {branch or 'no branch'} "
            f"checked out: switch it to {base} (git switch {base}) and release again."
        )


def _identity(cwd: Path) -> dict[str, str]:
    """A stand-in identity when the user has none, so a release never fails for it."""
    for var in ("GIT_AUTHOR_IDENT", "GIT_COMMITTER_IDENT"):
        if git(cwd, "var", var, check=False).returncode != 0:
            return dict(FALLBACK_IDENT)
    return {}


def _write(cwd: Path, *args: str, env: dict[str, str] | None = None) -> str:
    result = git(cwd, *args, env=env, check=False)
    if result.returncode != 0:
        lines = [line for line in result.stderr.splitlines() if line.strip()]
        why = lines[0].removeprefix("fatal: ").removeprefix("error: ") if lines else "failed"
        raise LockError(f"git could not release the lock in {cwd} ({why}): fix that and retry.")
    return result.stdout
