"""Who holds a lock: the agent whose worktree or branch created its file, told from git.

The `agent_id` inside a lock file is free-form and often wrong, so the holder is where the file
was created: the agent worktree it appeared in, or the agent branch whose own commit added it to
the base branch. Git runs a fixed number of times per scan, plus once per agent branch only when
no reflog knows who made a commit.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from subprocess import CompletedProcess

from sessions.adapters.git_memo import GitMemo
from sessions.adapters.repo import git
from sessions.core.errors import LockError
from sessions.core.lock_files import Found, Parsed, parse_lock
from sessions.core.lock_values import Lock
from sessions.core.model import Checkout
from sessions.core.rules import LockRules


@dataclass(frozen=True)
class _Add:
    """A commit that added a lock file."""

    commit: str
    time: float
    path: str
    blob: str


class _History:
    """Who added which lock file, answered from a fixed handful of git calls.

    The commit that added a lock is found in the base branch's history, or among the agent
    branches' commits that the base branch does not have yet. Its author is the branch whose
    reflog records making it (`git commit`, `cherry-pick`, ...), since a branch created later
    from the base branch also contains it. Only when no reflog knows the commit (expired,
    rebased, fetched from elsewhere) is each agent branch's own history read, once per scan.
    """

    def __init__(
        self,
        repo_root: Path,
        base: str,
        refs: Mapping[str, str],
        dirs: Sequence[str],
        base_adds: Sequence[_Add],
        unmerged: Sequence[_Add],
        memo: GitMemo | None = None,
    ) -> None:
        self._root, self._base, self._refs, self._dirs = repo_root, base, refs, dirs
        self._memo = memo
        self._base_by_key: dict[tuple[str, str], _Add] = {}
        self._base_by_path: dict[str, _Add] = {}
        for add in base_adds:  # newest first: the first seen is the one that counts
            self._base_by_key.setdefault((add.path, add.blob), add)
            self._base_by_path.setdefault(add.path, add)
        self._unmerged: dict[tuple[str, str], _Add] = {}
        for add in unmerged:
            self._unmerged.setdefault((add.path, add.blob), add)
        wanted = [*refs.values(), _full_ref(base)] if base_adds or unmerged else []
        self._created, made = _reflogs(repo_root, wanted, memo)
        self._made: dict[str, list[str]] = {}
        for agent, ref in refs.items():
            for commit in made.get(ref, ()):
                self._made.setdefault(commit, []).append(agent)
        self._made_on_base = made.get(_full_ref(base), frozenset())
        self._native: dict[str, list[str]] | None = None

    def base_add(self, path: str, blob: str | None) -> _Add | None:
        exact = self._base_by_key.get((path, blob)) if blob is not None else None
        return exact or self._base_by_path.get(path)

    def unmerged_add(self, path: str, blob: str | None) -> _Add | None:
        return self._unmerged.get((path, blob)) if blob is not None else None

    def author_of(self, commit: str) -> str | None:
        """The agent whose branch made `commit`, or None when the base branch (the user) did."""
        made = self._made.get(commit)
        if made:
            return min(made)
        if commit in self._made_on_base:
            return None
        native = self._natives().get(commit)
        return min(native) if native else None

    def _natives(self) -> dict[str, list[str]]:
        """Each agent branch's own commits that touch locks, counted from where the branch was
        created (its oldest reflog entry, else the base branch)."""
        if self._native is None:
            self._native = {}
            for agent, ref in self._refs.items():
                start = self._created.get(ref, self._base)
                args = ("log", "-z", "--format=%H", ref, "--not", start, "--", *self._dirs)
                result = _ask(self._root, args, self._memo)
                for commit in result.stdout.split("\0") if result.returncode == 0 else ():
                    if commit.strip():
                        self._native.setdefault(commit.strip(), []).append(agent)
        return self._native


def attribute(
    repo_root: Path,
    base: str,
    places: Sequence[Checkout],
    rules: LockRules,
    found: Mapping[tuple[str, str], Found],
    memo: GitMemo | None = None,
) -> list[Lock]:
    """Each found file as a lock with its holder, from a fixed handful of git calls (answered
    by `memo` while no branch has moved)."""
    base_adds = _adds(read_git(repo_root, "log", *_ADD_LOG, base, "--", *rules.dirs, memo=memo))
    refs = _agent_refs(repo_root, places, memo)
    unmerged: tuple[_Add, ...] = ()
    if refs and any(place is not None for item in found.values() for place in item.places):
        args = ("log", *_ADD_LOG, *refs.values(), "--not", base, "--", *rules.dirs)
        unmerged = _adds(read_git(repo_root, *args, memo=memo))
    history = _History(repo_root, base, refs, rules.dirs, base_adds, unmerged, memo)
    locks: list[Lock] = []
    for (_, blob), item in found.items():
        lock = _lock(item, blob, history)
        if lock is not None:
            locks.append(lock)
    return locks


def _lock(item: Found, blob: str, history: _History) -> Lock | None:
    """The claim one file makes; None for a leftover copy of a lock the base branch released."""
    exact = blob if item.data is not None else None
    agents = [place for place in item.places if place is not None]
    holder: str | None
    if item.on_base:
        add = history.base_add(item.path, exact)
        holder = history.author_of(add.commit) if add else None
    else:
        released = history.base_add(item.path, exact)
        if agents and None not in item.places and released and released.blob == exact:
            return None
        add = history.unmerged_add(item.path, exact)
        author = history.author_of(add.commit) if add and len(item.places) > 1 else None
        holder = author or (agents[0] if agents else None)
    parsed = parse_lock(item.data) if item.data is not None else Parsed()
    created, source = _created(parsed, add, item.mtime)
    readable = item.data is not None or item.on_base
    return Lock(
        path=item.path,
        task=(parsed.task or _task_from_name(item.path)) if readable else None,
        agent_id=parsed.agent_id,
        status=parsed.status,
        created_at=created,
        created_from=source,
        holder=holder,
        where=tuple(item.places),
        on_base=item.on_base,
        readable=readable,
    )


def _created(parsed: Parsed, add: _Add | None, mtime: float | None) -> tuple[float | None, str]:
    if parsed.created_at is not None:
        return parsed.created_at, "file"
    if add is not None:
        return add.time, "commit"
    if mtime is not None:
        return mtime, "mtime"
    return None, "unknown"


def _task_from_name(path: str) -> str:
    name = path.rsplit("/", 1)[-1]
    stem = name.split(".", 1)[0] if not name.startswith(".") else name
    return stem.replace("_", " ").replace("-", " ").strip() or name


_ADD_LOG = ("-z", "--format=%x01%H %ct", "--raw", "--no-abbrev", "--no-renames", "--diff-filter=A")


def _agent_refs(
    repo_root: Path, places: Sequence[Checkout], memo: GitMemo | None = None
) -> dict[str, str]:
    """Agent name to branch ref: the checkouts' branches, then every other `corral/<name>`,
    so a lock whose agent is gone is still attributed to it (and shown as orphaned)."""
    args = ("for-each-ref", "--format=%(refname)", "refs/heads/")
    branches = read_git(repo_root, *args, memo=memo).split()
    existing = set(branches)
    refs = {
        checkout.agent: _full_ref(checkout.branch)
        for checkout in places
        if checkout.agent is not None and _full_ref(checkout.branch) in existing
    }
    taken = set(refs.values())
    for ref in branches:
        name = ref.removeprefix("refs/heads/corral/")
        if ref.startswith("refs/heads/corral/") and ref not in taken and name not in refs:
            refs[name] = ref
    return refs


def _full_ref(branch: str) -> str:
    return branch if branch.startswith("refs/") else f"refs/heads/{branch}"


_MADE_HERE = ("commit", "cherry-pick", "revert", "am:")
"""Reflog subjects of a commit made on the branch itself; `merge` and `pull` may only have
fast-forwarded to somebody else's commit."""


def _reflogs(
    repo_root: Path, refs: Sequence[str], memo: GitMemo | None = None
) -> tuple[dict[str, str], dict[str, frozenset[str]]]:
    """For each branch, in one git call: the commit it was created at (its oldest reflog
    entry) and the commits made on it (entries written by `git commit`)."""
    if not refs:
        return {}, {}
    result = _ask(repo_root, ("log", "-g", "-z", "--format=%gD%x01%H%x01%gs", *refs), memo)
    out = result.stdout if result.returncode == 0 else ""
    oldest: dict[str, tuple[int, str]] = {}
    commits: dict[str, set[str]] = {}
    for record in out.split("\0"):
        selector, _, rest = record.strip().partition("\x01")
        commit, _, subject = rest.partition("\x01")
        ref, _, number = selector.partition("@{")
        if not commit or not number.rstrip("}").isdigit():
            continue
        index = int(number.rstrip("}"))
        if ref not in oldest or index > oldest[ref][0]:
            oldest[ref] = (index, commit)
        if subject.startswith(_MADE_HERE):
            commits.setdefault(ref, set()).add(commit)
    created = {ref: commit for ref, (_, commit) in oldest.items()}
    return created, {ref: frozenset(shas) for ref, shas in commits.items()}


def _adds(out: str) -> tuple[_Add, ...]:
    """Parse `git log -z --raw --diff-filter=A` output, newest commit first."""
    adds: list[_Add] = []
    commit, when = "", 0.0
    tokens = iter(out.split("\0"))
    for raw in tokens:
        token = raw.strip("\n")
        if token.startswith("\x01"):
            sha, _, stamp = token[1:].partition(" ")
            commit, when = sha, float(stamp or 0)
        elif token.startswith(":"):
            parts = token.split()
            path = next(tokens, "")
            if len(parts) >= 5 and parts[4] == "A" and commit:
                adds.append(_Add(commit=commit, time=when, path=path, blob=parts[3]))
    return tuple(adds)


def read_git(cwd: Path, *args: str, memo: GitMemo | None = None) -> str:
    """Git's output, or a LockError that says what to check: a scan cannot go on without it."""
    result = _ask(cwd, args, memo)
    if result.returncode != 0:
        lines = [line for line in result.stderr.splitlines() if line.strip()]
        why = lines[0].removeprefix("fatal: ") if lines else f"exit status {result.returncode}"
        raise LockError(
            f"git could not read the locks in {cwd} ({why}): check that the base branch "
            "exists and the folder is a git checkout."
        )
    return result.stdout


def _ask(cwd: Path, args: Sequence[str], memo: GitMemo | None) -> CompletedProcess[str]:
    return memo.git(cwd, *args) if memo is not None else git(cwd, *args, check=False)
