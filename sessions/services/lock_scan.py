"""Every lock in the herd: the lock folders of every checkout and of the base branch.

Files are read from disk, the base branch's committed copies come from one `ls-tree` and one
`cat-file --batch`, identical copies in several checkouts become one lock, and each is
attributed to its holder (`lock_history`).
"""

from __future__ import annotations

import hashlib
import os
import subprocess
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from sessions.adapters.git_memo import GitMemo
from sessions.core.lock_files import Found, under
from sessions.core.lock_values import Lock
from sessions.core.model import Checkout
from sessions.core.rules import LockRules
from sessions.services.lock_history import attribute, read_git


@dataclass(frozen=True)
class LockScan:
    """Every lock found, plus how many finished tasks the done folders hold (never judged)."""

    locks: tuple[Lock, ...]
    completed: int


def scan(
    repo_root: Path,
    base: str,
    checkouts: Sequence[Checkout],
    rules: LockRules = LockRules(),
    memo: GitMemo | None = None,
) -> LockScan:
    """Every lock in the base branch (committed, and its checkout's files) and in every
    agent worktree's files, with identical copies merged and each attributed to its holder.
    `memo` answers git's questions about branches while none has moved."""
    places = with_base_checkout(repo_root, base, checkouts)
    found: dict[tuple[str, str], Found] = {}
    done: set[tuple[str, str]] = set()
    for checkout in places:
        _collect_disk(checkout, rules.dirs, found)
        done.update(_done_on_disk(checkout, rules.done_dirs))
    missing = _collect_base(repo_root, base, rules, found, done, memo)
    if missing:
        contents = _blob_contents(repo_root, missing)
        for (_, blob), item in found.items():
            if item.data is None and blob in contents:
                item.data = contents[blob]
    locks = attribute(repo_root, base, places, rules, found, memo) if found else []
    return LockScan(locks=tuple(sorted(locks, key=lambda lock: lock.path)), completed=len(done))


def with_base_checkout(repo_root: Path, base: str, checkouts: Sequence[Checkout]) -> list[Checkout]:
    """The checkouts, with the base checkout first when the caller left it out: locks live
    on the base branch too."""
    if any(checkout.agent is None for checkout in checkouts):
        return list(checkouts)
    return [Checkout(agent=None, path=repo_root, branch=base), *checkouts]


def _lock_files(top: Path, folder: str) -> Iterable[tuple[str, Path]]:
    """Files under one lock folder, as repository-relative paths; placeholders and READMEs
    that keep the folder in git are not claims."""
    root = top / folder
    if not root.is_dir():
        return
    for directory, subdirs, names in os.walk(root):
        subdirs[:] = sorted(name for name in subdirs if not name.startswith("."))
        for name in sorted(names):
            if _is_placeholder(name):
                continue
            full = Path(directory) / name
            yield full.relative_to(top).as_posix(), full


def _is_placeholder(name: str) -> bool:
    return name.startswith(".") or name.lower().split(".")[0] == "readme"


def _collect_disk(
    checkout: Checkout, folders: Sequence[str], found: dict[tuple[str, str], Found]
) -> None:
    for folder in folders:
        for rel, full in _lock_files(checkout.path, folder):
            try:
                data: bytes | None = full.read_bytes()
                mtime: float | None = full.stat().st_mtime
            except OSError:
                data, mtime = None, None
            key = (rel, _blob_id(data) if data is not None else f"unreadable:{checkout.path}")
            item = found.setdefault(key, Found(path=rel, data=data, mtime=mtime))
            if checkout.agent not in item.places:
                item.places.append(checkout.agent)
            if item.mtime is None or (mtime is not None and mtime < item.mtime):
                item.mtime = mtime


def _done_on_disk(checkout: Checkout, folders: Sequence[str]) -> set[tuple[str, str]]:
    done: set[tuple[str, str]] = set()
    for folder in folders:
        for rel, full in _lock_files(checkout.path, folder):
            try:
                done.add((rel, _blob_id(full.read_bytes())))
            except OSError:
                done.add((rel, f"unreadable:{checkout.path}"))
    return done


def _collect_base(
    repo_root: Path,
    base: str,
    rules: LockRules,
    found: dict[tuple[str, str], Found],
    done: set[tuple[str, str]],
    memo: GitMemo | None = None,
) -> list[str]:
    """Mark the locks committed on the base branch; returns the blobs no checkout has on disk."""
    folders = (*rules.dirs, *rules.done_dirs)
    args = ("ls-tree", "-r", "-z", "--full-tree", base, "--", *folders)
    out = read_git(repo_root, *args, memo=memo)
    missing: list[str] = []
    for entry in out.split("\0"):
        meta, _, path = entry.partition("\t")
        parts = meta.split()
        if len(parts) != 3 or parts[1] != "blob" or _is_placeholder(path.rsplit("/", 1)[-1]):
            continue
        blob = parts[2]
        if under(path, rules.done_dirs):
            done.add((path, blob))
            continue
        item = found.get((path, blob))
        if item is None:
            item = found[(path, blob)] = Found(path=path, data=None)
            missing.append(blob)
        item.on_base = True
        if None not in item.places:
            item.places.insert(0, None)
    _merge_base_edits(found)
    return missing


def _merge_base_edits(found: dict[tuple[str, str], Found]) -> None:
    """A committed lock edited in the base checkout (say, its status changed) is one lock: it
    keeps its place on the base branch and reads as the checkout's newer text."""
    committed = {item.path: key for key, item in found.items() if item.on_base}
    for key, item in list(found.items()):
        target = committed.get(item.path)
        if item.on_base or target is None or item.places != [None]:
            continue
        kept = found[target]
        if item.data is not None:
            kept.data = item.data
        kept.mtime = item.mtime
        del found[key]


def _blob_id(data: bytes) -> str:
    """The id git gives these bytes, so a file on disk matches its committed copy by content."""
    return hashlib.sha1(b"blob %d\0" % len(data) + data, usedforsecurity=False).hexdigest()


def _blob_contents(repo_root: Path, blobs: Sequence[str]) -> dict[str, bytes]:
    """Many blobs in one `git cat-file --batch`; `sessions.adapters.repo.git` cannot feed standard
    input nor return bytes, so this runs git with the same read-only environment itself."""
    env = {**os.environ, "GIT_OPTIONAL_LOCKS": "0", "LC_ALL": "C"}
    request = "".join(f"{blob}\n" for blob in blobs).encode()
    try:
        result = subprocess.run(
            ["git", "cat-file", "--batch"],
            cwd=repo_root,
            env=env,
            input=request,
            capture_output=True,
            check=False,
        )
    except OSError:
        return {}
    return _parse_batch(result.stdout)


def _parse_batch(out: bytes) -> dict[str, bytes]:
    contents: dict[str, bytes] = {}
    position = 0
    while position < len(out):
        end = out.find(b"\n", position)
        if end < 0:
            break
        header = out[position:end].split()
        position = end + 1
        if len(header) != 3 or not header[2].isdigit():
            continue
        size = int(header[2])
        contents[header[0].decode()] = out[position : position + size]
        position += size + 1
    return contents
