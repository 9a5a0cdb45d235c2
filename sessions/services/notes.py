"""PROGRESS.md and notes/: what the herd writes to each other, who changed it, how fast it grows.

Parallel agents coordinate through shared Markdown files, and those files drown the herd when
they grow unchecked. This module watches them in the base checkout and in every agent's
worktree, turns each change into a `note` event in the journal (so the history survives
restarts), and reads what the files say: backlog items done and open, the next step, the latest
test pass rate.

Looking is cheap and incremental: each look globs once per checkout and `stat`s the matches; a
file is read only when its (mtime_ns, size) changed. The last seen text of every file is kept
under `.corral/cache/notes/`, written atomically, so a one-shot `corral notes` reports only what
changed since the previous run, and the very first look records a baseline instead of calling
every existing file a change. Several processes may look at once (the app and a command line);
the comparison and the cache update happen under a lock, and a tracker whose memory is behind
the cache takes the cache's view first, so one change becomes one event.
"""

from __future__ import annotations

import contextlib
import fcntl
import glob
import hashlib
import json
import os
import stat
from collections import deque
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sessions.adapters.feed import Feed, Follower
from sessions.adapters.journal import Journal
from sessions.adapters.private import open_private, write_private
from sessions.adapters.repo import git
from sessions.core.events import Event
from sessions.core.model import Checkout
from sessions.core.note_changes import (
    LastChange,
    NoteChange,
    NoteFile,
    blob_id,
    diff_texts,
    growth_per_hour,
    warnings_for,
)
from sessions.core.note_markdown import NoteFacts, read_markdown
from sessions.core.rules import NoteRules

EVENT = "note"
BASE = "base"
USER = "user"
CACHE_FORMAT = 1
JOURNAL_TAIL = 2 << 20  # a one-shot command reads about this much of the journal's end
RECENT_CHANGES = 50


@dataclass
class _Seen:
    """The last seen state of one file; `text` is what the next change is diffed against."""

    mtime_ns: int
    size: int
    text: str
    last: LastChange | None = None

    def to_json(self) -> dict[str, Any]:
        last = [self.last.agent, self.last.t] if self.last else None
        return {"m": self.mtime_ns, "s": self.size, "text": self.text, "last": last}

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> _Seen:
        last = data.get("last")
        return cls(
            int(data["m"]),
            int(data["s"]),
            str(data["text"]),
            LastChange(str(last[0]), float(last[1])) if last else None,
        )


@dataclass
class _Place:
    """One checkout's files as last seen, and the stamp of the cache file they came from."""

    checkout: Checkout
    files: dict[str, _Seen] = field(default_factory=dict)
    baseline: bool = False  # a baseline exists: new files from now on are changes
    stamp: tuple[int, int] | None = None


Stats = dict[str, tuple[int, int]]


class Notes:
    """Watches the herd's notes across checkouts; one instance per process is enough.

    `journal` receives the `note` events; they are read back (from about the journal's last
    `JOURNAL_TAIL` bytes) for growth and the recent changes, so growth includes what other
    processes recorded: through `feed`, the supervisor's one reader of the journal, else a
    reader of its own. `cache_dir` is the repository's `.corral/cache`."""

    def __init__(
        self,
        journal: Journal,
        cache_dir: Path,
        rules: NoteRules | None = None,
        feed: Feed | None = None,
    ) -> None:
        self.journal = journal
        self.rules = rules or NoteRules()
        self.cache_dir = cache_dir / "notes"
        self._places: dict[str, _Place] = {}
        self._looked: list[str] = []  # the checkouts of the latest look, base first
        self._feed = feed if feed is not None else Feed(Journal(journal.path))
        self._feed.join(Follower(apply=self._take, near_end=JOURNAL_TAIL))
        self._deltas: dict[tuple[str, str], deque[tuple[float, int]]] = {}
        self._last: dict[tuple[str, str], LastChange] = {}
        self._recent: deque[Event] = deque(maxlen=RECENT_CHANGES)
        self._facts: dict[tuple[str, str], tuple[str, NoteFacts]] = {}
        self._blobs: dict[tuple[str, str], tuple[str, str]] = {}
        self._base_blobs: dict[str, str] | None = None
        self._base_times: dict[str, float] = {}
        self._forks: dict[str, str | None] = {}

    # -- looking --

    def look(self, checkouts: Sequence[Checkout], now: float) -> list[NoteChange]:
        """Finds what changed since the previous look (of this or any process) and records it.

        A checkout seen for the first time, with no cache either, only records a baseline."""
        changes: list[NoteChange] = []
        ordered = sorted(checkouts, key=lambda c: c.agent is not None)
        self._looked = [str(checkout.path) for checkout in ordered]
        for checkout in ordered:
            place = self._place(checkout)
            stats = self._scan(checkout.path)
            if place.baseline and not _differs(place.files, stats):
                continue
            with self._locked():
                self._reload(place)
                changes.extend(self._compare(place, stats, checkouts, now))
                self._save(place)
        return changes

    def _place(self, checkout: Checkout) -> _Place:
        key = str(checkout.path)
        place = self._places.get(key)
        if place is None or place.checkout != checkout:
            place = _Place(checkout, place.files if place else {})
            if not place.files:
                self._reload(place)
            self._places[key] = place
        return place

    def _scan(self, root: Path) -> Stats:
        """Every matching file's (mtime_ns, size): one glob per pattern, one stat per file.
        Plain strings rather than Path objects: this runs for every file on every look."""
        stats: Stats = {}
        base = os.fspath(root)
        for pattern in self.rules.globs:
            for rel in glob.glob(pattern, root_dir=base, recursive=True):
                if rel in stats:
                    continue
                try:
                    info = os.stat(os.path.join(base, rel))
                except OSError:
                    continue
                if stat.S_ISREG(info.st_mode):
                    stats[rel.replace(os.sep, "/")] = (info.st_mtime_ns, info.st_size)
        return stats

    def _compare(
        self, place: _Place, stats: Stats, checkouts: Sequence[Checkout], now: float
    ) -> list[NoteChange]:
        changes: list[NoteChange] = []
        for rel in sorted(set(stats) | set(place.files)):
            seen = place.files.get(rel)
            found = stats.get(rel)
            if seen is not None and found == (seen.mtime_ns, seen.size):
                continue
            current: tuple[tuple[int, int], str] | None = None
            if found is not None:
                text = _read(place.checkout.path / rel)
                if text is None:
                    continue  # vanished or unreadable since the stat: look again next time
                current = (found, text)
            if not place.baseline:
                _remember(place, rel, current, None)
                continue
            change = self._change(place, rel, seen, current, checkouts, now)
            if change is not None:
                changes.append(change)
        place.baseline = True
        return changes

    def _change(
        self,
        place: _Place,
        rel: str,
        seen: _Seen | None,
        current: tuple[tuple[int, int], str] | None,
        checkouts: Sequence[Checkout],
        now: float,
    ) -> NoteChange | None:
        """Records one file's change; a touch that left the text alone only updates its stat."""
        before = seen.text if seen else ""
        text = current[1] if current else None
        if seen is None and text is None:
            return None
        if seen is not None and current is not None and text == before:
            _remember(place, rel, current, seen.last)
            return None
        agent = place.checkout.agent or self._base_author(place.checkout, rel, text, checkouts)
        diff, added, removed = diff_texts(rel, before, text or "")
        change = NoteChange(
            t=round(now, 3),
            agent=agent,
            where=place.checkout.agent or BASE,
            path=rel,
            kind="deleted" if text is None else ("new" if seen is None else "edit"),
            diff=diff,
            added=added,
            removed=removed,
            lines=len(text.splitlines()) if text else 0,
        )
        _remember(place, rel, current, LastChange(agent, change.t))
        fields = change.to_json()
        del fields["agent"]
        # `t` is the look's own time, so growth is measured on the clock the caller passes
        self.journal.append(EVENT, agent, **fields)
        return change

    # -- who changed the base checkout --

    def _base_author(
        self, base: Checkout, rel: str, text: str | None, checkouts: Sequence[Checkout]
    ) -> str:
        """The agent whose branch brought this content into the base checkout, else the user.

        Content that differs from HEAD is an edit nobody committed: the user's. Otherwise the
        last commit that touched the path (through a merge, the side that brought it) is the
        agent's when the agent's branch contains it and did not already when it was created."""
        found = git(base.path, "rev-parse", "--verify", "--quiet", f"HEAD:{rel}", check=False)
        head_blob = found.stdout.strip() if found.returncode == 0 else None
        ours = blob_id(text.encode()) if text is not None else None
        if head_blob != ours:
            return USER
        spec = f":(literal){rel}"
        log = git(base.path, "log", "-1", "--format=%H", "HEAD", "--", spec, check=False)
        commit = log.stdout.strip()
        if log.returncode != 0 or not commit:
            return USER
        branches = {c.branch: c.agent for c in checkouts if c.agent is not None and c.branch}
        patterns = ["refs/heads/corral", *(f"refs/heads/{branch}" for branch in branches)]
        refs = git(
            base.path,
            "for-each-ref",
            f"--contains={commit}",
            "--format=%(refname:short)",
            *patterns,
            check=False,
        ).stdout.split()
        for branch in sorted(refs, key=lambda b: (b not in branches, b)):
            if branch == base.branch:
                continue
            fork = self._fork_point(base.path, branch)
            if fork is not None and _is_ancestor(base.path, commit, fork):
                continue
            return branches.get(branch) or branch.removeprefix("corral/")
        return USER

    def _fork_point(self, cwd: Path, branch: str) -> str | None:
        """Where the branch started: the oldest entry of its reflog (None without one)."""
        if branch not in self._forks:
            out = git(cwd, "reflog", "show", "--format=%H", f"refs/heads/{branch}", check=False)
            entries = out.stdout.split() if out.returncode == 0 else []
            self._forks[branch] = entries[-1] if entries else None
        return self._forks[branch]

    # -- the cache --

    def _cache_path(self, checkout: Checkout) -> Path:
        digest = hashlib.sha256(str(checkout.path).encode()).hexdigest()[:32]
        return self.cache_dir / f"{digest}.json"

    def _reload(self, place: _Place) -> None:
        """Takes the cache's view when another process (or an earlier run) moved it on."""
        path = self._cache_path(place.checkout)
        try:
            info = path.stat()
        except OSError:
            return
        stamp = (info.st_mtime_ns, info.st_size)
        if stamp == place.stamp:
            return
        try:
            data = json.loads(path.read_bytes())
            if data.get("format") != CACHE_FORMAT or data.get("key") != str(place.checkout.path):
                return
            files = {str(rel): _Seen.from_json(item) for rel, item in data["files"].items()}
        except (OSError, ValueError, KeyError, TypeError, AttributeError, IndexError):
            return
        place.files, place.baseline, place.stamp = files, True, stamp

    def _save(self, place: _Place) -> None:
        path = self._cache_path(place.checkout)
        body = {
            "format": CACHE_FORMAT,
            "key": str(place.checkout.path),
            "files": {rel: seen.to_json() for rel, seen in place.files.items()},
        }
        with contextlib.suppress(OSError):
            write_private(path, json.dumps(body, separators=(",", ":")).encode())
            info = path.stat()
            place.stamp = (info.st_mtime_ns, info.st_size)

    @contextlib.contextmanager
    def _locked(self) -> Iterator[None]:
        """One process at a time compares and saves, so a change is recorded once."""
        try:
            fd = open_private(self.cache_dir / ".lock", os.O_RDWR)
        except OSError:
            yield
            return
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            yield
        finally:
            os.close(fd)

    # -- what the files say --

    def files(self, now: float) -> list[NoteFile]:
        """Every watched file in the checkouts of the latest look, as it saw them: the base
        checkout first, then the agents in the order given."""
        self._read_events()
        found: list[NoteFile] = []
        for place in (self._places[key] for key in self._looked):
            where = place.checkout.agent or BASE
            for rel, seen in sorted(place.files.items()):
                found.append(self._file(place, where, rel, seen, now))
        return found

    def _file(self, place: _Place, where: str, rel: str, seen: _Seen, now: float) -> NoteFile:
        key = (where, rel)
        facts = self._read_facts(key, seen.text)
        last = _latest(self._last.get(key), seen.last)
        lines = len(seen.text.splitlines())
        growth = growth_per_hour(self._deltas.get(key, ()), now, self.rules.growth_window)
        touched = self._touched(place, rel, seen, last, now)
        label = rel if where == BASE else f"{rel} ({where})"
        return NoteFile(
            path=rel,
            where=where,
            lines=lines,
            done=facts.done,
            open=facts.open,
            next_step=facts.next_step,
            pass_rate=facts.pass_rate,
            growth_per_hour=growth,
            warnings=warnings_for(label, lines, growth, touched, now, self.rules),
            last_change=last,
            touched=touched,
        )

    def _read_facts(self, key: tuple[str, str], text: str) -> NoteFacts:
        cached = self._facts.get(key)
        if cached is not None and cached[0] is text:
            return cached[1]
        facts = read_markdown(text)
        self._facts[key] = (text, facts)
        return facts

    def _touched(
        self, place: _Place, rel: str, seen: _Seen, last: LastChange | None, now: float
    ) -> float:
        """When anybody last changed the file: its latest recorded change, else its mtime,
        unless the mtime is recent only because git wrote the file out (a new worktree): then
        the base branch's last commit of that same content says when it really changed."""
        recorded = last.t if last else 0.0
        mtime = seen.mtime_ns / 1e9
        quiet = self.rules.quiet_after
        if now - recorded <= quiet or now - mtime > quiet:
            return max(recorded, mtime)
        committed = self._committed_at(place, rel, seen.text)
        return max(recorded, committed if committed is not None else mtime)

    def _committed_at(self, place: _Place, rel: str, text: str) -> float | None:
        base = next((p for p in self._places.values() if p.checkout.agent is None), None)
        if base is None:
            return None
        if self._base_blobs is None:
            self._load_base_history(base)
        key = (str(place.checkout.path), rel)
        cached = self._blobs.get(key)
        if cached is None or cached[0] is not text:
            cached = (text, blob_id(text.encode()))
            self._blobs[key] = cached
        if (self._base_blobs or {}).get(rel) != cached[1]:
            return None
        return self._base_times.get(rel)

    def _load_base_history(self, base: _Place) -> None:
        """Blob ids and last commit times of the base checkout's watched files on its HEAD, in
        two git calls, once per tracker: later changes show up as events anyway."""
        rels = sorted(base.files)
        self._base_blobs, self._base_times = {}, {}
        if not rels:
            return
        cwd = base.checkout.path
        tree = git(cwd, "ls-tree", "-z", "HEAD", "--", *rels, check=False)
        for entry in tree.stdout.split("\0"):
            meta, _, rel = entry.partition("\t")
            parts = meta.split()
            if rel and len(parts) == 3 and parts[1] == "blob":
                self._base_blobs[rel] = parts[2]
        specs = [f":(literal){rel}" for rel in rels]
        log = git(
            cwd, "log", "-z", "--format=%x01%ct", "--name-only", "HEAD", "--", *specs, check=False
        )
        for record in log.stdout.split("\x01"):
            stamp, _, names = record.partition("\0")
            if not stamp.isdigit():
                continue
            for name in names.split("\0"):
                rel = name.strip("\n")
                if rel and rel not in self._base_times:
                    self._base_times[rel] = float(stamp)

    # -- the journal's view --

    def _read_events(self) -> None:
        """Folds `note` events appended since the last read (by any process) into growth,
        last change and the recent list."""
        self._feed.pull()

    def _take(self, event: Event) -> None:
        if event.get("event") != EVENT:
            return
        try:
            key = (str(event["where"]), str(event["path"]))
            t = float(event["t"])
            delta = int(event.get("added", 0)) - int(event.get("removed", 0))
            agent = str(event.get("agent", USER))
        except (KeyError, TypeError, ValueError):
            return
        deltas = self._deltas.setdefault(key, deque())
        deltas.append((t, delta))
        while deltas and deltas[0][0] < t - self.rules.growth_window:
            deltas.popleft()
        previous = self._last.get(key)
        if previous is None or t >= previous.t:
            self._last[key] = LastChange(agent, t)
        self._recent.append(event)

    def changes(self) -> list[Event]:
        """The latest `note` events, oldest first, as the journal holds them."""
        self._read_events()
        return list(self._recent)

    def to_json(self, now: float) -> dict[str, Any]:
        """What `corral notes --json` prints."""
        return {
            "files": [item.to_json() for item in self.files(now)],
            "changes": self.changes(),
        }


# -- small helpers ----------------------------------------------------------------------------


def _remember(
    place: _Place, rel: str, current: tuple[tuple[int, int], str] | None, last: LastChange | None
) -> None:
    if current is None:
        place.files.pop(rel, None)
    else:
        (mtime_ns, size), text = current
        place.files[rel] = _Seen(mtime_ns, size, text, last)


def _differs(files: Mapping[str, _Seen], stats: Stats) -> bool:
    if files.keys() != stats.keys():
        return True
    return any((seen.mtime_ns, seen.size) != stats[rel] for rel, seen in files.items())


def _read(path: Path) -> str | None:
    try:
        return path.read_bytes().decode("utf-8", errors="replace")
    except OSError:
        return None


def _latest(a: LastChange | None, b: LastChange | None) -> LastChange | None:
    if a is None or b is None:
        return a or b
    return a if a.t >= b.t else b


def _is_ancestor(cwd: Path, commit: str, of: str) -> bool:
    return git(cwd, "merge-base", "--is-ancestor", commit, of, check=False).returncode == 0
