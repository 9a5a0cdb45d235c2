"""Task locks: the files agents write into `current_tasks/` to claim a task, and their verdicts.

Agents write these files in any shape (key=value, `Key: value`, markdown, JSON, nothing at all),
so parsing never fails: a file that says nothing is still a claim, named after its file. The
`agent_id` inside is free-form and often wrong, so the holder is where the file was created: the
agent worktree it appeared in, or the agent branch whose own commit added it to the base branch.

Looking is read-only and cheap: files are read from disk, and git runs a fixed number of times
per scan plus once per agent branch only when committed locks need attributing, never once per
file. Releasing is the only write, and it commits nothing but the lock's deletion.
"""

from __future__ import annotations

import email.utils
import hashlib
import json
import os
import re
import subprocess
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sessions.errors import CorralError
from sessions.model import Checkout
from sessions.repo import git
from sessions.worktree_git import FALLBACK_IDENT

BASE = "base"
"""The holder of a lock that no agent created: the user, on the base branch."""

STOPPED_STATES = ("exited", "crash_looping", "shelved")
DONE_STATUSES = frozenset({"done", "complete", "completed", "finished", "released", "closed"})
AgentStates = Mapping[str, tuple[str, float | None]]


class LockError(CorralError):
    """A lock cannot be listed or released as asked; the message says what to do instead."""


@dataclass(frozen=True)
class LockRules:
    """Where locks live and when they count as stale; the config layer fills this in."""

    dirs: tuple[str, ...] = ("current_tasks",)
    done_dirs: tuple[str, ...] = ("completed_tasks",)
    stale_after: float = 3600.0
    idle_after: float = 1800.0


@dataclass(frozen=True)
class Parsed:
    """What a lock file says about itself; every field may be missing."""

    task: str | None = None
    agent_id: str | None = None
    created_at: float | None = None
    status: str | None = None


@dataclass(frozen=True)
class Lock:
    """One claim, however many checkouts carry an identical copy of its file.

    `holder` is an agent name, or None for the base branch (the user). `where` lists the places
    holding the file (None again meaning the base branch or its checkout); `on_base` says
    whether the file is committed on the base branch. `created_from` says where `created_at`
    came from: "file", "commit", "mtime", or "unknown".
    """

    path: str
    task: str | None
    agent_id: str | None
    status: str | None
    created_at: float | None
    created_from: str
    holder: str | None
    where: tuple[str | None, ...]
    on_base: bool
    readable: bool = True

    @property
    def holder_name(self) -> str:
        return self.holder if self.holder is not None else BASE


@dataclass(frozen=True)
class LockScan:
    """Every lock found, plus how many finished tasks the done folders hold (never judged)."""

    locks: tuple[Lock, ...]
    completed: int


@dataclass(frozen=True)
class Verdict:
    """A lock judged at one moment: `reason` is the sentence for the user, `cause` the few
    words that go into a release commit's message."""

    lock: Lock
    age_s: float | None
    stale: bool
    orphaned: bool
    reason: str
    cause: str

    def to_json(self) -> dict[str, Any]:
        lock = self.lock
        return {
            "path": lock.path,
            "task": lock.task,
            "holder": lock.holder_name,
            "age_s": None if self.age_s is None else round(self.age_s, 1),
            "stale": self.stale,
            "reason": self.reason,
            "orphaned": self.orphaned,
            "agent_id": lock.agent_id,
            "status": lock.status,
            "created_at": lock.created_at,
            "created_from": lock.created_from,
            "where": [_label(place) for place in lock.where],
            "on_base": lock.on_base,
            "readable": lock.readable,
        }


@dataclass(frozen=True)
class LockReport:
    """The herd's locks, judged, and the count of finished tasks."""

    verdicts: tuple[Verdict, ...]
    completed: int

    @property
    def stale(self) -> tuple[Verdict, ...]:
        return tuple(v for v in self.verdicts if v.stale and not v.orphaned)

    @property
    def orphaned(self) -> tuple[Verdict, ...]:
        return tuple(v for v in self.verdicts if v.orphaned)

    def to_json(self) -> dict[str, Any]:
        return {"locks": [v.to_json() for v in self.verdicts], "completed": self.completed}


@dataclass(frozen=True)
class Released:
    """What `release` removed: from which places, with which commits, and the file's text
    (so the caller can journal a claim that git never saw)."""

    path: str
    removed_from: tuple[str | None, ...]
    commits: tuple[str, ...]
    content: str | None
    message: str


@dataclass(frozen=True)
class Tax:
    """How many commits only claim, release or clean up locks, overall and recently."""

    commits: int
    lock_commits: int
    recent_commits: int
    recent_lock_commits: int
    window_s: float = 3600.0

    @property
    def share(self) -> float:
        return self.lock_commits / self.commits if self.commits else 0.0

    @property
    def recent_share(self) -> float:
        return self.recent_lock_commits / self.recent_commits if self.recent_commits else 0.0

    def to_json(self) -> dict[str, Any]:
        return {
            "commits": self.commits,
            "lock_commits": self.lock_commits,
            "share": round(self.share, 4),
            "last_hour": {
                "commits": self.recent_commits,
                "lock_commits": self.recent_lock_commits,
                "share": round(self.recent_share, 4),
            },
        }


# -- parsing ----------------------------------------------------------------------------------

_TASK_KEYS = (
    "task",
    "title",
    "task_name",
    "task_title",
    "claimed_task",
    "claim",
    "working_on",
    "summary",
    "description",
    "task_id",
)
_AGENT_KEYS = (
    "agent_id",
    "agent",
    "agent_name",
    "claimed_by",
    "owner",
    "holder",
    "locked_by",
    "assignee",
    "worker",
    "by",
)
_TIME_KEYS = (
    "created_at_unix",
    "created_at",
    "created",
    "claimed_at",
    "claimed",
    "locked_at",
    "started_at",
    "started",
    "timestamp",
    "time",
    "date",
    "since",
)
_STATUS_KEYS = ("status", "state")
_KNOWN_KEYS = frozenset(_TASK_KEYS + _AGENT_KEYS + _TIME_KEYS + _STATUS_KEYS)

_MARKUP = re.compile(r"^(?:>\s*|#+\s*|[-*+•]\s+|\d+[.)]\s+|\[[ xX]\]\s*)")
_KEY = re.compile(r"^[A-Za-z][A-Za-z0-9 _.-]{0,40}$")
_ISO = re.compile(
    r"\d{4}-\d{2}-\d{2}(?:[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?)?(?:\s*(?:Z|UTC|[+-]\d{2}:?\d{2}))?"
)
_ISO_TIME = re.compile(
    r"\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:\s*(?:Z|UTC|[+-]\d{2}:?\d{2}))?"
)
_EARLIEST, _LATEST = 946684800.0, 4102444800.0  # 2000 and 2100: anything else is not a time
_TASK_LIMIT = 200


def parse_lock(data: bytes) -> Parsed:
    """Read whatever a lock file says; garbage and empty files say nothing, without error."""
    text = _text(data)
    if text is None or not text.strip():
        return Parsed()
    fields = _json_fields(text)
    if fields is None:
        fields = _line_fields(text)
    created = _first_time(fields, _TIME_KEYS)
    if created is None:
        found = _ISO_TIME.search(text)
        created = _parse_time(found.group(0)) if found else None
    return Parsed(
        task=_first(fields, _TASK_KEYS) or fields.get("", None),
        agent_id=_first(fields, _AGENT_KEYS),
        created_at=created,
        status=_first(fields, _STATUS_KEYS),
    )


def _text(data: bytes) -> str | None:
    """The file as text, or None for binary garbage that no agent would write as a claim."""
    if b"\0" in data:
        return None
    text = data.decode("utf-8", errors="replace").removeprefix("\ufeff")
    odd = sum(1 for char in text if char == "\ufffd" or (ord(char) < 32 and char not in "\t\n\r\f"))
    return None if odd > len(text) // 10 else text


def _json_fields(text: str) -> dict[str, str] | None:
    if not text.lstrip().startswith("{"):
        return None
    try:
        value = json.loads(text)
    except ValueError:
        return None
    if not isinstance(value, dict):
        return None
    fields: dict[str, str] = {}
    for key, item in value.items():
        if isinstance(item, str | int | float) and not isinstance(item, bool):
            fields.setdefault(_normal_key(str(key)), _clean_value(str(item)))
    return fields


def _line_fields(text: str) -> dict[str, str]:
    """`key: value` / `key=value` pairs of known keys in any markdown dress; the key "" holds
    the first heading or plain line, the task when no key names one."""
    fields: dict[str, str] = {}
    pending: str | None = None
    fallback: str | None = None
    heading: str | None = None
    for raw in text.splitlines():
        line, is_heading = _strip_markup(raw)
        if not line or line.startswith(("```", "---", "===")):
            continue
        pair = _split_pair(line)
        if pair is not None:
            key, value = pair
            if value:
                fields.setdefault(key, value)
                pending = None
            else:
                pending = key if key not in fields else None
            continue
        if is_heading and _normal_key(line) in _KNOWN_KEYS:
            pending = _normal_key(line)
            continue
        value = _clean_value(line)
        if pending is not None:
            fields.setdefault(pending, value)
            pending = None
        elif is_heading and heading is None:
            heading = value
        elif fallback is None:
            fallback = value
    chosen = heading or fallback
    if chosen:
        fields.setdefault("", chosen[:_TASK_LIMIT])
    return fields


def _strip_markup(raw: str) -> tuple[str, bool]:
    line = raw.strip()
    is_heading = line.startswith("#")
    while True:
        stripped = _MARKUP.sub("", line, count=1).strip()
        if stripped == line:
            return line, is_heading
        line = stripped


def _split_pair(line: str) -> tuple[str, str] | None:
    """A known key and its value, split at the first `:` or `=`; None for anything else."""
    cuts = [index for index in (line.find(":"), line.find("=")) if index > 0]
    if not cuts:
        return None
    cut = min(cuts)
    key = line[:cut].strip().strip("*_`").strip()
    if not _KEY.match(key):
        return None
    normal = _normal_key(key)
    if normal not in _KNOWN_KEYS:
        return None
    return normal, _clean_value(line[cut + 1 :])


def _normal_key(key: str) -> str:
    return re.sub(r"[\s.\-]+", "_", key.strip().strip("*_`").strip().lower()).strip("_")


def _clean_value(value: str) -> str:
    cleaned = value.strip()
    for _ in range(3):
        cleaned = cleaned.strip().strip("*_`").strip()
        if len(cleaned) >= 2 and cleaned[0] == cleaned[-1] and cleaned[0] in "\"'":
            cleaned = cleaned[1:-1]
    return cleaned


def _first(fields: Mapping[str, str], keys: Iterable[str]) -> str | None:
    return next((fields[key] for key in keys if fields.get(key)), None)


def _first_time(fields: Mapping[str, str], keys: Iterable[str]) -> float | None:
    for key in keys:
        if key in fields:
            value = _parse_time(fields[key])
            if value is not None:
                return value
    return None


def _parse_time(value: str) -> float | None:
    """Unix seconds (or milliseconds), ISO 8601, RFC 2822, or `date`'s default output.
    A time without a zone is local, as `date` on the agents' own machine writes it."""
    text = value.strip().strip("`'\"").strip()
    if re.fullmatch(r"\d{9,13}(?:\.\d+)?", text):
        seconds = float(text)
        return _plausible(seconds / 1000.0 if seconds > 1e11 else seconds)
    for attempt in (_iso, _rfc2822, _date_output):
        parsed = attempt(text)
        if parsed is not None:
            return _plausible(parsed.timestamp())
    return None


def _plausible(seconds: float) -> float | None:
    return seconds if _EARLIEST <= seconds <= _LATEST else None


def _iso(text: str) -> datetime | None:
    found = _ISO.search(text)
    if found is None:
        return None
    candidate = re.sub(r"\s*(?:Z|UTC)$", "+00:00", found.group(0))
    try:
        return datetime.fromisoformat(candidate)
    except ValueError:
        return None


def _rfc2822(text: str) -> datetime | None:
    try:
        return email.utils.parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError):
        return None


def _date_output(text: str) -> datetime | None:
    utc = re.search(r"\b(?:UTC|GMT)\b", text) is not None
    bare = re.sub(r"\s+(?:UTC|GMT|[A-Z]{3,4})(?=\s+\d{4}$)", "", text)
    try:
        parsed = datetime.strptime(bare, "%a %b %d %H:%M:%S %Y")
    except ValueError:
        return None
    return parsed.replace(tzinfo=UTC) if utc else parsed


# -- scanning ---------------------------------------------------------------------------------


@dataclass
class _Found:
    """One distinct lock file while the scan collects its copies."""

    path: str
    data: bytes | None
    places: list[str | None] = field(default_factory=list)
    on_base: bool = False
    mtime: float | None = None


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
    ) -> None:
        self._root, self._base, self._refs, self._dirs = repo_root, base, refs, dirs
        self._base_by_key: dict[tuple[str, str], _Add] = {}
        self._base_by_path: dict[str, _Add] = {}
        for add in base_adds:  # newest first: the first seen is the one that counts
            self._base_by_key.setdefault((add.path, add.blob), add)
            self._base_by_path.setdefault(add.path, add)
        self._unmerged: dict[tuple[str, str], _Add] = {}
        for add in unmerged:
            self._unmerged.setdefault((add.path, add.blob), add)
        wanted = [*refs.values(), _full_ref(base)] if base_adds or unmerged else []
        self._created, made = _reflogs(repo_root, wanted)
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
                result = git(self._root, *args, check=False)
                for commit in result.stdout.split("\0") if result.returncode == 0 else ():
                    if commit.strip():
                        self._native.setdefault(commit.strip(), []).append(agent)
        return self._native


def scan(
    repo_root: Path, base: str, checkouts: Sequence[Checkout], rules: LockRules = LockRules()
) -> LockScan:
    """Every lock in the base branch (committed, and its checkout's files) and in every
    agent worktree's files, with identical copies merged and each attributed to its holder."""
    places = _with_base_checkout(repo_root, base, checkouts)
    found: dict[tuple[str, str], _Found] = {}
    done: set[tuple[str, str]] = set()
    for checkout in places:
        _collect_disk(checkout, rules.dirs, found)
        done.update(_done_on_disk(checkout, rules.done_dirs))
    missing = _collect_base(repo_root, base, rules, found, done)
    if missing:
        contents = _blob_contents(repo_root, missing)
        for (_, blob), item in found.items():
            if item.data is None and blob in contents:
                item.data = contents[blob]
    locks = _attribute(repo_root, base, places, rules, found) if found else []
    return LockScan(locks=tuple(sorted(locks, key=lambda lock: lock.path)), completed=len(done))


def _with_base_checkout(
    repo_root: Path, base: str, checkouts: Sequence[Checkout]
) -> list[Checkout]:
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
    checkout: Checkout, folders: Sequence[str], found: dict[tuple[str, str], _Found]
) -> None:
    for folder in folders:
        for rel, full in _lock_files(checkout.path, folder):
            try:
                data: bytes | None = full.read_bytes()
                mtime: float | None = full.stat().st_mtime
            except OSError:
                data, mtime = None, None
            key = (rel, _blob_id(data) if data is not None else f"unreadable:{checkout.path}")
            item = found.setdefault(key, _Found(path=rel, data=data, mtime=mtime))
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
    found: dict[tuple[str, str], _Found],
    done: set[tuple[str, str]],
) -> list[str]:
    """Mark the locks committed on the base branch; returns the blobs no checkout has on disk."""
    folders = (*rules.dirs, *rules.done_dirs)
    out = _read(repo_root, "ls-tree", "-r", "-z", "--full-tree", base, "--", *folders)
    missing: list[str] = []
    for entry in out.split("\0"):
        meta, _, path = entry.partition("\t")
        parts = meta.split()
        if len(parts) != 3 or parts[1] != "blob" or _is_placeholder(path.rsplit("/", 1)[-1]):
            continue
        blob = parts[2]
        if _under(path, rules.done_dirs):
            done.add((path, blob))
            continue
        item = found.get((path, blob))
        if item is None:
            item = found[(path, blob)] = _Found(path=path, data=None)
            missing.append(blob)
        item.on_base = True
        if None not in item.places:
            item.places.insert(0, None)
    _merge_base_edits(found)
    return missing


def _merge_base_edits(found: dict[tuple[str, str], _Found]) -> None:
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


def _attribute(
    repo_root: Path,
    base: str,
    places: Sequence[Checkout],
    rules: LockRules,
    found: Mapping[tuple[str, str], _Found],
) -> list[Lock]:
    base_adds = _adds(_read(repo_root, "log", *_ADD_LOG, base, "--", *rules.dirs))
    refs = _agent_refs(repo_root, places)
    unmerged: tuple[_Add, ...] = ()
    if refs and any(place is not None for item in found.values() for place in item.places):
        args = ("log", *_ADD_LOG, *refs.values(), "--not", base, "--", *rules.dirs)
        unmerged = _adds(_read(repo_root, *args))
    history = _History(repo_root, base, refs, rules.dirs, base_adds, unmerged)
    locks: list[Lock] = []
    for (_, blob), item in found.items():
        lock = _lock(item, blob, history)
        if lock is not None:
            locks.append(lock)
    return locks


def _lock(item: _Found, blob: str, history: _History) -> Lock | None:
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


def _agent_refs(repo_root: Path, places: Sequence[Checkout]) -> dict[str, str]:
    """Agent name to branch ref: the checkouts' branches, then every other `corral/<name>`,
    so a lock whose agent is gone is still attributed to it (and shown as orphaned)."""
    branches = _read(repo_root, "for-each-ref", "--format=%(refname)", "refs/heads/").split()
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
    repo_root: Path, refs: Sequence[str]
) -> tuple[dict[str, str], dict[str, frozenset[str]]]:
    """For each branch, in one git call: the commit it was created at (its oldest reflog
    entry) and the commits made on it (entries written by `git commit`)."""
    if not refs:
        return {}, {}
    result = git(repo_root, "log", "-g", "-z", "--format=%gD%x01%H%x01%gs", *refs, check=False)
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


def _under(path: str, folders: Iterable[str]) -> bool:
    return any(path == f or path.startswith(f.rstrip("/") + "/") for f in folders)


def _blob_id(data: bytes) -> str:
    """The id git gives these bytes, so a file on disk matches its committed copy by content."""
    return hashlib.sha1(b"blob %d\0" % len(data) + data, usedforsecurity=False).hexdigest()


def _blob_contents(repo_root: Path, blobs: Sequence[str]) -> dict[str, bytes]:
    """Many blobs in one `git cat-file --batch`; `sessions.repo.git` cannot feed standard input
    nor return bytes, so this runs git with the same read-only environment itself."""
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


def _read(cwd: Path, *args: str) -> str:
    result = git(cwd, *args, check=False)
    if result.returncode != 0:
        lines = [line for line in result.stderr.splitlines() if line.strip()]
        why = lines[0].removeprefix("fatal: ") if lines else f"exit status {result.returncode}"
        raise LockError(
            f"git could not read the locks in {cwd} ({why}): check that the base branch "
            "exists and the folder is a git checkout."
        )
    return result.stdout


# -- judging ----------------------------------------------------------------------------------


def judge(
    locks: Iterable[Lock], states: AgentStates, rules: LockRules, now: float
) -> tuple[Verdict, ...]:
    """Each lock's verdict: stale when too old, marked done, or its holder stopped or sat idle
    too long; orphaned (and stale) when its holder is no agent of the herd."""
    return tuple(_verdict(lock, states, rules, now) for lock in locks)


def _verdict(lock: Lock, states: AgentStates, rules: LockRules, now: float) -> Verdict:
    age = None if lock.created_at is None else max(0.0, now - lock.created_at)
    claimed = "at an unknown time" if age is None else f"{_duration(age)} ago"
    if lock.holder is not None and lock.holder not in states:
        reason = f"held by {lock.holder}, which is no longer an agent of the herd"
        return Verdict(lock, age, True, True, _unreadable(lock, reason), "orphaned")
    stopped = _holder_stopped(lock, states, rules, now)
    if stopped is not None:
        reason, cause = stopped
        return Verdict(lock, age, True, False, _unreadable(lock, reason), cause)
    holder = f"held by {lock.holder_name}"
    if lock.status and lock.status.strip().lower() in DONE_STATUSES:
        reason = f"{holder}, marked {lock.status} but never removed"
        return Verdict(lock, age, True, False, _unreadable(lock, reason), "marked done")
    limit = _duration(rules.stale_after)
    if age is not None and age > rules.stale_after:
        reason = f"{holder}, claimed {claimed}, past the {limit} limit"
        return Verdict(lock, age, True, False, _unreadable(lock, reason), f"older than {limit}")
    state = states[lock.holder][0] if lock.holder is not None else None
    doing = f" ({state.replace('_', ' ')})" if state else ""
    reason = f"{holder}{doing}, claimed {claimed}"
    return Verdict(lock, age, False, False, _unreadable(lock, reason), "")


def _holder_stopped(
    lock: Lock, states: AgentStates, rules: LockRules, now: float
) -> tuple[str, str] | None:
    if lock.holder is None:
        return None
    state, since = states[lock.holder]
    held = f"held by {lock.holder}"
    ago = "" if since is None else f" {_duration(max(0.0, now - since))} ago"
    if state == "exited":
        return f"{held}, which exited{ago}", "exited"
    if state == "shelved":
        return f"{held}, which was shelved{ago}", "shelved"
    if state == "crash_looping":
        lasting = "" if since is None else f" for {_duration(max(0.0, now - since))}"
        return f"{held}, which has been crash looping{lasting}", "crash looping"
    if state == "idle" and since is not None and now - since > rules.idle_after:
        idle = _duration(now - since)
        return f"{held}, idle for {idle} (limit {_duration(rules.idle_after)})", f"idle {idle}"
    return None


def _unreadable(lock: Lock, reason: str) -> str:
    return reason if lock.readable else f"{reason}; the file could not be read"


def _duration(seconds: float) -> str:
    """Short and round, as a person says it: 45 s, 14 min, 1 h 12 min, 3 d 4 h."""
    whole = int(seconds)
    if whole < 60:
        return f"{whole} s"
    minutes = whole // 60
    if minutes < 60:
        return f"{minutes} min"
    hours, minutes = divmod(minutes, 60)
    if hours < 24:
        return f"{hours} h {minutes} min" if minutes else f"{hours} h"
    days, hours = divmod(hours, 24)
    return f"{days} d {hours} h" if hours else f"{days} d"


def _label(place: str | None) -> str:
    return BASE if place is None else place


def survey(
    repo_root: Path,
    base: str,
    checkouts: Sequence[Checkout],
    states: AgentStates,
    now: float,
    rules: LockRules = LockRules(),
) -> LockReport:
    """Scan and judge in one call: what the app and `--json` show."""
    found = scan(repo_root, base, checkouts, rules)
    return LockReport(verdicts=judge(found.locks, states, rules, now), completed=found.completed)


# -- releasing --------------------------------------------------------------------------------


def release(
    repo_root: Path,
    base: str,
    checkouts: Sequence[Checkout],
    verdicts: Iterable[Verdict],
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
    places = _with_base_checkout(repo_root, base, checkouts)
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
    where = ", ".join(_label(place) for place in removed) or "nowhere (already gone)"
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


# -- coordination tax -------------------------------------------------------------------------


def coordination_tax(
    repo_root: Path,
    base: str,
    now: float,
    rules: LockRules = LockRules(),
    window_s: float = 3600.0,
) -> Tax:
    """The share of commits (base and every `corral/*` branch, each once) that touch nothing
    but lock folders: the time agents spend coordinating instead of working."""
    args = ("log", "-z", "--no-renames", "--name-only", "--format=%x01%H %ct")
    out = _read(repo_root, *args, base, "--branches=corral/*", "--")
    folders = (*rules.dirs, *rules.done_dirs)
    total = lock_only = recent = recent_lock = 0
    for when, paths in _commits(out):
        only_locks = bool(paths) and all(_under(path, folders) for path in paths)
        is_recent = now - when <= window_s
        total += 1
        lock_only += only_locks
        recent += is_recent
        recent_lock += only_locks and is_recent
    return Tax(total, lock_only, recent, recent_lock, window_s)


def _commits(out: str) -> Iterable[tuple[float, list[str]]]:
    when: float | None = None
    paths: list[str] = []
    for raw in out.split("\0"):
        token = raw.strip("\n")
        if token.startswith("\x01"):
            if when is not None:
                yield when, paths
            stamp = token[1:].partition(" ")[2]
            when, paths = float(stamp or 0), []
        elif token and when is not None:
            paths.append(token)
    if when is not None:
        yield when, paths
