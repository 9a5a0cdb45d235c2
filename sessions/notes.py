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
import difflib
import fcntl
import glob
import hashlib
import json
import os
import re
import stat
from collections import Counter, deque
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from sessions.journal import Event, Journal
from sessions.model import Checkout
from sessions.private import open_private, write_private
from sessions.repo import git

EVENT = "note"
BASE = "base"
USER = "user"
CACHE_FORMAT = 1
JOURNAL_TAIL = 2 << 20  # a one-shot command reads about this much of the journal's end
RECENT_CHANGES = 50
DIFF_CONTEXT = 2
MAX_DIFF_LINES = 80
MAX_DIFF_WIDTH = 200
EXACT_DIFF_LIMIT = 5000  # lines; longer files are counted, not diffed line by line
MAX_ITEM_CHARS = 200


# -- values -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class NoteRules:
    """What to watch and when a file deserves a warning; the config layer fills it in."""

    globs: tuple[str, ...] = ("PROGRESS.md", "notes/**/*.md")
    max_lines: int = 400
    fast_growth: float = 100.0  # lines per hour
    quiet_after: float = 7 * 86400.0  # seconds without a change
    growth_window: float = 3600.0  # seconds of history the growth rate is taken over


@dataclass(frozen=True)
class PassRate:
    """A test pass rate as a file states it; `passed`/`total` when the line gives counts."""

    percent: float
    passed: int | None
    total: int | None
    line: str


@dataclass(frozen=True)
class Heading:
    level: int
    title: str
    line: int  # 1-based


@dataclass(frozen=True)
class NoteFacts:
    """What one Markdown file says, as far as a forgiving reading can tell."""

    headings: tuple[Heading, ...] = ()
    done: tuple[str, ...] = ()
    open: tuple[str, ...] = ()
    issues: tuple[str, ...] = ()
    next_step: str | None = None
    pass_rate: PassRate | None = None


@dataclass(frozen=True)
class NoteChange:
    """One change to one file in one checkout, as recorded in the journal."""

    t: float
    agent: str  # who made it: an agent's name, or "user"
    where: str  # the checkout it was seen in: an agent's name, or "base"
    path: str  # relative to the checkout
    kind: str  # "new", "edit" or "deleted"
    diff: str  # unified, trimmed
    added: int
    removed: int
    lines: int  # after the change

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class NoteWarning:
    kind: str  # "long", "fast" or "quiet"
    message: str


@dataclass(frozen=True)
class LastChange:
    agent: str
    t: float


@dataclass(frozen=True)
class NoteFile:
    """One watched file in one checkout, with what it says and whether it needs attention."""

    path: str
    where: str
    lines: int
    done: tuple[str, ...]
    open: tuple[str, ...]
    next_step: str | None
    pass_rate: PassRate | None
    growth_per_hour: float
    warnings: tuple[NoteWarning, ...]
    last_change: LastChange | None
    touched: float  # best estimate of when anybody last changed it

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


# -- reading Markdown -------------------------------------------------------------------------

_FENCE = re.compile(r"^\s{0,3}(`{3,}|~{3,})")
_ATX = re.compile(r"^\s{0,3}(#{1,6})(?:[ \t]+(.*?))?[ \t]*#*[ \t]*$")
_SETEXT = re.compile(r"^\s{0,3}(=+|-+)\s*$")
_ITEM = re.compile(r"^\s*(?:[-*+]|\d{1,9}[.)])\s+(.*\S)\s*$")
_BOX = re.compile(r"^\[([ xX✓✔])\]\s*(.*)$")
_STRUCK = re.compile(r"~~(.+?)~~")
_TICKS = "✓✔✅☑"
_LABEL = re.compile(
    r"^[\s>*_#-]*(recommended\s+next\s+steps?|next\s+steps?|next)[*_\s]*[:：][*_\s]*(.*)$",
    re.IGNORECASE,
)
_LABEL_INLINE = re.compile(
    r"[.;!?]\s+[*_]*(recommended\s+next\s+steps?|next\s+steps?)[*_\s]*[:：][*_\s]*(.*)$",
    re.IGNORECASE,
)
# Numbers start where a run of digits starts and are at most 9 digits long, and no two
# repeated groups can match the same characters: a line of noise costs linear time.
_RATE = re.compile(r"pass(?:ing)?\s*rate[*_\s]*(?:[:：][*_\s]*)?(\d{1,3}(?:\.\d{1,3})?)\s*%", re.I)
_COUNTS = re.compile(r"[\s,;(\[—-]*(\d{1,9})\s*(?:/|of|out\s+of)\s*(\d{1,9})(?!\d)")
_PASSING = re.compile(
    r"(?<!\d)(\d{1,9})\s*(?:/|of|out\s+of)\s*(\d{1,9})\s+"
    r"(?:(?:\w+\s+)?(?:tests?|specs?|cases?|checks?)\s+)?(?:are\s+|now\s+)?"
    r"(?:pass(?:ing|ed|es)?|green)\b",
    re.I,
)
_PYTEST = re.compile(r"(?<!\d)(\d{1,9})\s+passed(?:,\s*(\d{1,9})\s+failed)?", re.I)
_TASK_SECTION = re.compile(r"backlog|todo|to do|task|priorit|next|plan|roadmap|remaining", re.I)
_DONE_SECTION = re.compile(r"done|complete|finished|shipped", re.I)
_ISSUE_SECTION = re.compile(r"issue|bug|problem|blocker|known", re.I)
_STATUS_SECTION = re.compile(r"status", re.I)


def read_markdown(text: str) -> NoteFacts:
    """Reads any text as Markdown and never fails: unknown shapes are simply not counted.

    Checkbox items (`- [x]`, `* [X]`, `1. [ ]`) and struck-through or ticked items (`~~…~~ ✓`)
    count wherever they are; plain bullets and numbered items count as open under a task-like
    heading (backlog, todo, next, plan...), as done under a done-like one, and as issues under
    "Known Issues". The next step and the pass rate prefer the status section, else the file's
    last mention, since agents append their latest news at the end."""
    reader = _Reader()
    fence: str | None = None
    for number, line in enumerate(text.splitlines(), start=1):
        opener = _FENCE.match(line)
        if fence is not None:
            if opener and opener.group(1)[0] == fence[0] and len(opener.group(1)) >= len(fence):
                fence = None
            continue
        if opener:
            fence = opener.group(1)
            continue
        reader.line(number, line)
    return reader.facts()


class _Reader:
    """The running state of one pass over a file: the section a line is in, and what was found."""

    def __init__(self) -> None:
        self.headings: list[Heading] = []
        self.done: list[str] = []
        self.open: list[str] = []
        self.issues: list[str] = []
        self.section = ""
        self.in_status = False
        self.next_step: tuple[bool, str] | None = None
        self.pass_rate: tuple[bool, PassRate] | None = None
        self.next_waits = False  # a label with nothing after it: the next line is the value
        self.next_goes_on = False  # the next step's paragraph may continue on the next line
        self.previous = ""  # the previous line, when it could be a setext heading's title

    def line(self, number: int, line: str) -> None:
        stripped = line.strip()
        if self._heading(number, line, stripped):
            self.previous = ""
            return
        if not stripped:
            self.next_goes_on = False
            self.previous = ""
            return
        item = _ITEM.match(stripped)
        if item:
            self._item(item.group(1))
        if not self._next(stripped) and (self.next_waits or self.next_goes_on):
            self._continue_next(stripped, item is not None)
        rate = pass_rate(stripped)
        if rate is not None:
            self._remember_rate(rate)
        self.previous = "" if item else stripped

    def _heading(self, number: int, line: str, stripped: str) -> bool:
        match = _ATX.match(line)
        if match:
            title, level = (match.group(2) or "").strip(), len(match.group(1))
        elif self.previous and _SETEXT.match(line) and stripped not in ("-", "--"):
            title, level, number = self.previous, 1 if stripped[0] == "=" else 2, number - 1
        else:
            return False
        self.headings.append(Heading(level, _clean(title), number))
        self.section = title
        self.in_status = bool(_STATUS_SECTION.search(title))
        self.next_waits = self.next_goes_on = False
        return True

    def _item(self, body: str) -> None:
        box = _BOX.match(body)
        if box:
            target = self.open if box.group(1) == " " else self.done
            target.append(_item_text(box.group(2)))
            return
        if body.startswith("~~") or _ticked(body):
            self.done.append(_item_text(body))
        elif _ISSUE_SECTION.search(self.section) and not _TASK_SECTION.search(self.section):
            self.issues.append(_item_text(body))
        elif _DONE_SECTION.search(self.section):
            self.done.append(_item_text(body))
        elif _TASK_SECTION.search(self.section):
            self.open.append(_item_text(body))

    def _next(self, stripped: str) -> bool:
        match = _LABEL.match(stripped) or _LABEL_INLINE.search(stripped)
        if not match or (match.group(1).lower() == "next" and not self.in_status):
            return False
        value = _clean(match.group(2))
        self.next_waits = not value
        self.next_goes_on = False
        if value:
            self._remember_next(value)
        return True

    def _continue_next(self, stripped: str, item: bool) -> None:
        if self.next_waits:
            self.next_waits = False
            body = _ITEM.match(stripped)
            self._remember_next(_clean(body.group(1) if body else stripped))
        elif self.next_goes_on and not item and self.next_step is not None:
            joined = f"{self.next_step[1]} {_clean(stripped)}"[:MAX_ITEM_CHARS]
            self.next_step = (self.next_step[0], joined)

    def _remember_next(self, value: str) -> None:
        """The status section's latest mention wins, else the file's latest one."""
        if self.next_step is None or self.in_status or not self.next_step[0]:
            self.next_step = (self.in_status, value[:MAX_ITEM_CHARS])
            self.next_goes_on = True

    def _remember_rate(self, rate: PassRate) -> None:
        if self.pass_rate is None or self.in_status or not self.pass_rate[0]:
            self.pass_rate = (self.in_status, rate)

    def facts(self) -> NoteFacts:
        return NoteFacts(
            headings=tuple(self.headings),
            done=tuple(self.done),
            open=tuple(self.open),
            issues=tuple(self.issues),
            next_step=self.next_step[1] if self.next_step else None,
            pass_rate=self.pass_rate[1] if self.pass_rate else None,
        )


def pass_rate(line: str) -> PassRate | None:
    """The pass rate a single line states, or None: "Test pass rate: 93% (140/150)",
    "140/150 tests passing", "140 passed, 10 failed". Impossible numbers are not a rate."""
    rate = _RATE.search(line)
    if rate:
        percent = float(rate.group(1))
        counts = _COUNTS.match(line, rate.end())
        passed, total = _counts(counts.group(1), counts.group(2)) if counts else (None, None)
        return PassRate(percent, passed, total, line) if percent <= 100.0 else None
    for pattern in (_PASSING, _PYTEST):
        match = pattern.search(line)
        if not match:
            continue
        if pattern is _PYTEST:
            failed = int(match.group(2) or 0)
            passed, total = _counts(match.group(1), str(int(match.group(1)) + failed))
        else:
            passed, total = _counts(match.group(1), match.group(2))
        if passed is not None and total is not None:
            return PassRate(round(100.0 * passed / total, 1), passed, total, line)
    return None


def _counts(passed: str, total: str) -> tuple[int | None, int | None]:
    good, whole = int(passed), int(total)
    return (good, whole) if whole > 0 and good <= whole else (None, None)


def _ticked(body: str) -> bool:
    return body[:1] in _TICKS or body.rstrip()[-1:] in _TICKS


def _item_text(body: str) -> str:
    text = _STRUCK.sub(r"\1", body).replace("~~", "")
    return _clean(text.strip(_TICKS + " \t-–—:"))[:MAX_ITEM_CHARS]


def _clean(text: str) -> str:
    """Plain words: no emphasis markers around them."""
    return text.strip().strip("*_").strip()


# -- growth and warnings ----------------------------------------------------------------------


def growth_per_hour(deltas: Sequence[tuple[float, int]], now: float, window: float) -> float:
    """Net lines added per hour over the last `window` seconds, from (t, added - removed)."""
    if window <= 0:
        return 0.0
    net = sum(delta for t, delta in deltas if now - window <= t <= now)
    return round(net * 3600.0 / window, 1)


def warnings_for(
    path: str, lines: int, growth: float, touched: float, now: float, rules: NoteRules
) -> tuple[NoteWarning, ...]:
    """Why a file needs a look: too long to read, growing too fast, or abandoned."""
    found: list[NoteWarning] = []
    if lines > rules.max_lines:
        found.append(NoteWarning("long", f"{path} has {lines} lines (over {rules.max_lines})"))
    if growth > rules.fast_growth:
        found.append(
            NoteWarning("fast", f"{path} grows {growth:g} lines/hour (over {rules.fast_growth:g})")
        )
    idle = now - touched
    if idle > rules.quiet_after:
        found.append(NoteWarning("quiet", f"nobody changed {path} for {_duration(idle)}"))
    return tuple(found)


def _duration(seconds: float) -> str:
    days = seconds / 86400.0
    if days >= 1:
        return f"{days:.0f} days" if days >= 2 else "1 day"
    return f"{seconds / 3600.0:.0f} hours"


# -- diffs ------------------------------------------------------------------------------------


def diff_texts(path: str, before: str, after: str) -> tuple[str, int, int]:
    """A unified diff trimmed for a journal line, with the lines added and removed it counts
    before trimming. Very long files are counted as multisets and summarised, since an exact
    diff of them costs more than it tells."""
    old, new = before.splitlines(), after.splitlines()
    if max(len(old), len(new)) > EXACT_DIFF_LIMIT:
        gone, came = Counter(old) - Counter(new), Counter(new) - Counter(old)
        removed, added = sum(gone.values()), sum(came.values())
        return f"({path}: +{added} -{removed} lines, too long to diff)", added, removed
    body = list(
        difflib.unified_diff(old, new, f"a/{path}", f"b/{path}", n=DIFF_CONTEXT, lineterm="")
    )
    added = sum(1 for line in body[2:] if line.startswith("+"))
    removed = sum(1 for line in body[2:] if line.startswith("-"))
    return _trim(body), added, removed


def _trim(lines: list[str]) -> str:
    shown = [_cut(line) for line in lines[:MAX_DIFF_LINES]]
    if len(lines) > MAX_DIFF_LINES:
        shown.append(f"… {len(lines) - MAX_DIFF_LINES} more diff lines")
    return "\n".join(shown)


def _cut(line: str) -> str:
    return line if len(line) <= MAX_DIFF_WIDTH else line[: MAX_DIFF_WIDTH - 1] + "…"


def blob_id(data: bytes) -> str:
    """The id git gives these bytes as a blob, so content can be compared with a commit's
    without asking git."""
    return hashlib.sha1(b"blob %d\0" % len(data) + data).hexdigest()


# -- the tracker ------------------------------------------------------------------------------


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
    processes recorded. `cache_dir` is the repository's `.corral/cache`."""

    def __init__(self, journal: Journal, cache_dir: Path, rules: NoteRules | None = None) -> None:
        self.journal = journal
        self.rules = rules or NoteRules()
        self.cache_dir = cache_dir / "notes"
        self._places: dict[str, _Place] = {}
        self._looked: list[str] = []  # the checkouts of the latest look, base first
        self._reader = Journal(journal.path)
        self._reader.start_near_end(JOURNAL_TAIL)
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
        keep = self.rules.growth_window
        for event in self._reader.read_new():
            if event.get("event") != EVENT:
                continue
            try:
                key = (str(event["where"]), str(event["path"]))
                t = float(event["t"])
                delta = int(event.get("added", 0)) - int(event.get("removed", 0))
                agent = str(event.get("agent", USER))
            except (KeyError, TypeError, ValueError):
                continue
            deltas = self._deltas.setdefault(key, deque())
            deltas.append((t, delta))
            while deltas and deltas[0][0] < t - keep:
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
