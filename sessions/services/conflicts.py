"""Overlapping builders: the same file, then the same lines, then a real merge conflict.

Two agents rewriting the same code is the first way a herd fails, and the sooner it shows the
less work is thrown away. So the cheapest level runs on every look and needs no git at all: two
builders touched the same path. Only for such a pair does git say more, and only when something
changed for one of the two: whether their changes to the file meet in the base file's lines, and
whether merging their work (uncommitted work included) would stop on a conflict.

Observers never raise a conflict: reading a file another agent writes is what they are for.
Git here writes objects only, never a ref, an index or a file of the agent: uncommitted work
becomes a commit through a throwaway index (`Worktrees.current_commit`), and `merge-tree`
merges in the object store.
"""

from __future__ import annotations

import fnmatch
import posixpath
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from functools import lru_cache
from itertools import combinations
from pathlib import Path
from typing import Any, Literal

from sessions.adapters.git_findings import Findings, Side, load_findings, save_findings
from sessions.adapters.journal import Journal
from sessions.adapters.repo import Repo, git
from sessions.core.conflict_values import (
    ALL_LINES,
    LEVELS,
    Builder,
    Conflict,
    LineRange,
    Touch,
    conflict_order,
    merge_tree_paths,
)
from sessions.core.errors import AgentError, NotARepoError
from sessions.core.events import Event
from sessions.services.worktrees import Worktrees

Meeting = Literal["overlap", "adjacent"]

WINDOW = 30 * 60.0
# Merges a look after the first asks git for, of pairs whose files moved: a few ms of CPU
# each, so at most about 6 a second at the dashboard's pace however big the herd.
MERGES_PER_LOOK = 3
FORGET_MERGES = 1200  # looks (ten minutes at the dashboard's pace) a pair's last merge is kept
# Edits and writes count for this long; commits and uncommitted changes count while they stand.
STANDING = frozenset({"commit", "uncommitted"})
# corral's own files in a worktree: every agent gets them, so they say nothing about overlap.
IGNORED = (".git", ".git/*", ".corral/*", ".claude/settings.local.json")
START, END = "conflict_start", "conflict_end"
CONFLICTS_VERSION = "1"  # of what `ConflictTracker.to_json` writes: a change rebuilds checkpoints


# -- level 1: the same file ---------------------------------------------------------------------


def file_level(
    builders: Sequence[Builder], window: float, now: float, ignore: Sequence[str] = ()
) -> tuple[Conflict, ...]:
    """Every pair of builders that touched the same path, pure so it can run on every look.

    An edit or write counts for `window` seconds before `now`; a commit or uncommitted change
    counts while it stands, since it will meet the other's work when both are merged. `since`
    is when the second of the two first touched the path.
    """
    seen: dict[str, dict[str, tuple[float, Touch]]] = {}
    for builder in builders:
        if builder.role != "builder":
            continue
        for path, first, last in _counted(builder, now - window, ignore):
            seen.setdefault(path, {})[builder.agent] = (first, last)
    found = []
    for path, by_agent in seen.items():
        for a, b in combinations(sorted(by_agent), 2):
            (first_a, last_a), (first_b, last_b) = by_agent[a], by_agent[b]
            detail = f"{a} ({last_a.how}) and {b} ({last_b.how}) both changed it"
            found.append(Conflict("file", path, (a, b), max(first_a, first_b), detail))
    return tuple(sorted(found, key=conflict_order))


def _counted(
    builder: Builder, after: float, ignore: Sequence[str]
) -> list[tuple[str, float, Touch]]:
    """Per path: the first counting touch's time and the latest touch.

    Each distinct name is normalised and checked against `ignore` once, since a busy agent
    touches the same few files again and again.
    """
    first: dict[str, float] = {}
    last: dict[str, Touch] = {}
    root = _root(builder.worktree)
    skip = _ignored(tuple(ignore))
    names: dict[str, str | None] = {}
    for touch in builder.touches:
        if touch.how not in STANDING and touch.t < after:
            continue
        if touch.path not in names:
            path = _relative(touch.path, root)
            names[touch.path] = None if path is None or skip(path) else path
        path = names[touch.path]
        if path is None:
            continue
        first[path] = min(first.get(path, touch.t), touch.t)
        if path not in last or touch.t >= last[path].t:
            last[path] = touch
    return [(path, first[path], last[path]) for path in first]


def relative_path(path: str, worktree: Path) -> str | None:
    """The repository-relative form of a path an agent gave, or None when it is outside.

    Agents name files absolutely or relatively, with `./` and `..`; both agents' names of one
    file must come out equal. No file system access: this runs for every touch on every look.
    """
    return _relative(path, _root(worktree))


def _root(worktree: Path) -> str:
    return str(worktree).rstrip("/") + "/"


@lru_cache(maxsize=16384)
def _relative(path: str, root: str) -> str | None:
    if path.startswith("/"):
        if not path.startswith(root):
            return None
        path = path[len(root) :]
    norm = posixpath.normpath(path) if path else "."
    if norm in (".", "..") or norm.startswith(("../", "/")):
        return None
    return norm


@lru_cache(maxsize=64)
def _ignored(patterns: tuple[str, ...]) -> Callable[[str], bool]:
    """One compiled test for corral's own files and the caller's patterns (`*` spans `/`)."""
    joined = re.compile("|".join(fnmatch.translate(pattern) for pattern in (*IGNORED, *patterns)))
    return lambda path: joined.match(path) is not None


# -- level 2: the same lines --------------------------------------------------------------------

_HUNK = re.compile(r"^@@ -(\d+)(?:,(\d+))? \+\d+(?:,\d+)? @@", re.M)
_WHOLE = re.compile(r"^(?:new file mode |Binary files )", re.M)


def hunk_ranges(patch: str) -> tuple[LineRange, ...]:
    """The base-file lines a zero-context patch of one file changes.

    A created or binary file counts as all lines: anything the other side does to that path
    meets it. A hunk that only adds lines after line n is an insertion before line n + 1.
    """
    if _WHOLE.search(patch):
        return (ALL_LINES,)
    ranges = []
    for start_text, count_text in _HUNK.findall(patch):
        start = int(start_text)
        count = 1 if count_text == "" else int(count_text)
        ranges.append(
            LineRange(start + 1, start + 1) if count == 0 else LineRange(start, start + count)
        )
    return tuple(ranges)


def meeting(a: LineRange, b: LineRange) -> Meeting | None:
    """How two changed ranges of one base file meet: git refuses to merge either kind."""
    if a.start < b.end and b.start < a.end:
        return "overlap"
    if a.start == a.end == b.start == b.end:
        return "overlap"
    if a.end == b.start or b.end == a.start:
        return "adjacent"
    return None


def ranges_meet(
    a: Sequence[LineRange], b: Sequence[LineRange]
) -> tuple[Meeting, LineRange, LineRange] | None:
    """The first place two sides' changes meet, an overlap before a mere adjacency."""
    adjacent = None
    for left in a:
        for right in b:
            kind = meeting(left, right)
            if kind == "overlap":
                return (kind, left, right)
            if kind == "adjacent" and adjacent is None:
                adjacent = (kind, left, right)
    return adjacent


def line_ranges(repo_root: Path, base: str, worktree: Path, path: str) -> tuple[LineRange, ...]:
    """What the agent in `worktree` changed in `path`, uncommitted work included, in lines of
    the file as it is at the merge base with `base`."""
    worktrees = Worktrees(_repo(repo_root))
    tip = worktrees.current_commit(worktree)
    return _ranges(repo_root, _merge_base(worktree, base), tip, path)


_DIFF = ("diff", "-U0", "--no-color", "--no-ext-diff", "--no-textconv", "--no-renames")


def _ranges(cwd: Path, merge_base: str, tip: str, path: str) -> tuple[LineRange, ...]:
    patch = _read(cwd, *_DIFF, merge_base, tip, "--", path, doing=f"compare {path}")
    if patch.count("\ndiff --git ") + patch.startswith("diff --git ") > 1:
        return ()  # a folder: its files are judged one by one, their lines never mixed
    return hunk_ranges(patch)


def _ranges_of(
    cwd: Path, merge_base: str, tip: str, paths: Sequence[str]
) -> dict[str, tuple[LineRange, ...]] | None:
    """`_ranges` of several paths from one `git diff`, its patch cut into files by their
    `diff --git a/<name> b/<name>` lines. None when a name is one git quotes: then each path
    is asked alone."""
    patch = _read(cwd, *_DIFF, merge_base, tip, "--", *paths, doing="compare files")
    files: list[tuple[str, str]] = []
    for chunk in ("\n" + patch).split("\ndiff --git ")[1:]:
        header = chunk.split("\n", 1)[0]
        name = header[2 : 2 + (len(header) - 5) // 2]
        if header != f"a/{name} b/{name}":
            return None
        files.append((name, f"diff --git {chunk}"))
    ranges = {}
    for path in paths:
        mine = [text for name, text in files if name == path or name.startswith(f"{path}/")]
        ranges[path] = () if len(mine) > 1 else hunk_ranges(mine[0] if mine else "")
    return ranges


# -- level 3: a real merge conflict -------------------------------------------------------------


def merge_conflicts(repo_root: Path, a: Path, b: Path) -> dict[str, str]:
    """The paths where merging the work of the agents in worktrees `a` and `b` (uncommitted
    work included) stops on a conflict, each with git's words for it. A same-file change that
    git merges cleanly is not here."""
    worktrees = Worktrees(_repo(repo_root))
    return _merge(repo_root, worktrees.current_commit(a), worktrees.current_commit(b))


def _merge(cwd: Path, a: str, b: str) -> dict[str, str]:
    """`git merge-tree` on two commits: it writes objects but no ref, index or file."""
    args = ("merge-tree", "--write-tree", "--name-only", "-z", a, b)
    result = git(cwd, *args, check=False)
    if result.returncode not in (0, 1):
        raise AgentError(f"git could not try the merge of {a[:12]} and {b[:12]}: {_why(result)}.")
    if result.returncode == 0:
        return {}
    return merge_tree_paths(result.stdout)


# -- the look: all three levels, git only when needed -------------------------------------------


class ConflictFinder:
    """Runs all three levels on each look, keeping git's answers until something changes.

    Level 1 runs every time. Git runs only for builders in a level-1 pair and only when their
    key or the base branch moved; line ranges and merge results are kept per commit, which
    names the files exactly, so a repeated look costs one `rev-parse` of the base. Given a
    `saved` path (in `.corral/cache/`), what git said is kept there too, so a new process
    (a script polling `corral ls`) asks git only about what moved since the last one.
    """

    def __init__(
        self,
        repo_root: Path,
        base: str,
        window: float = WINDOW,
        ignore: Sequence[str] = (),
        repo: Repo | None = None,
        saved: Path | None = None,
    ) -> None:
        self.repo_root = repo_root
        self.base = base
        self.window = window
        self.ignore = tuple(ignore)
        self.worktrees = Worktrees(repo or _repo(repo_root))
        # Why the last look stopped at level 1, by agent, pair or base: a vanished worktree
        # or a missing base must not stop the look, but should be seen.
        self.errors: dict[str, str] = {}
        self.saved = saved
        self._known = load_findings(saved, base) if saved is not None else Findings()
        self._asked = False  # whether this look asked git anything the saved findings lack
        # Each pair's last merge answer, and the look it came from (see `_merge`).
        self._last_merges: dict[tuple[str, str], tuple[int, dict[str, str]]] = {}
        self._looks = 0
        self._merges_left = MERGES_PER_LOOK

    def find(
        self, builders: Sequence[Builder], now: float, base_tip: str | None = None
    ) -> tuple[Conflict, ...]:
        """Every conflict that holds now, at each level it reaches; see `highest` for one per
        pair and path. `base_tip` is the base's commit when the caller has just read it (the
        coordinator reads every branch tip in one call), saving a `rev-parse` a look."""
        self.errors = {}
        files = file_level(builders, self.window, now, self.ignore)
        if not files:
            self._keep(Findings())
            return files
        by_agent = {builder.agent: builder for builder in builders}
        try:
            base_tip = (
                base_tip
                or _read(
                    self.repo_root,
                    "rev-parse",
                    "--verify",
                    f"{self.base}^{{commit}}",
                    doing=f"read {self.base}",
                ).strip()
            )
        except AgentError as error:
            self.errors[self.base] = str(error)
            return files
        cache = Findings()
        found = list(files)
        paired: list[tuple[str, str, list[Conflict], Side, Side]] = []
        for (a, b), pair in _pairs(files).items():
            side_a, side_b = (self._side(by_agent[name], base_tip, cache) for name in (a, b))
            if side_a is not None and side_b is not None:
                paired.append((a, b, pair, side_a, side_b))
        self._prefetch(paired, cache)
        # Pairs whose merge is oldest go first, so a spent budget never starves one pair.
        paired.sort(key=lambda item: self._last_merges.get((item[0], item[1]), (-1, {}))[0])
        self._looks += 1
        self._merges_left = MERGES_PER_LOOK
        latest: dict[str, dict[str, float]] = {}
        for a, b, pair, side_a, side_b in paired:
            for name in (a, b):
                if name not in latest:
                    latest[name] = _latest_touches(by_agent[name])
            try:
                touched = (latest[a], latest[b])
                sides = (side_a, side_b)
                found += self._deeper(pair, by_agent[a], by_agent[b], sides, touched, cache)
            except AgentError as error:
                self.errors[f"{a} and {b}"] = str(error)
        # A pair out of level 1 for a while (its builders idle) may come back: it keeps its
        # last answer for a while, so it is not merged again as new.
        kept = {(a, b) for a, b, *_ in paired}
        forget = self._looks - FORGET_MERGES
        last = self._last_merges
        self._last_merges = {k: v for k, v in last.items() if k in kept or v[0] > forget}
        self._keep(cache)
        return tuple(sorted(found, key=conflict_order))

    def _keep(self, used: Findings) -> None:
        """What this look used is what the next one starts from, here and in `saved`."""
        known, self._known = self._known, used
        if self.saved is None or not (self._asked or _keys(known) != _keys(used)):
            return
        self._asked = False
        save_findings(self.saved, used, self.base)

    def _side(self, builder: Builder, base_tip: str, cache: Findings) -> Side | None:
        key = (builder.agent, builder.key or _touch_key(builder), base_tip)
        side = cache.sides.get(key, self._known.sides.get(key))
        if side is None:
            self._asked = True
            try:
                head, tip = self.worktrees.current_files(builder.worktree)
                side = Side(self._merge_base(head, base_tip, cache), tip, head)
            except (AgentError, NotARepoError) as error:
                self.errors[builder.agent] = str(error)
                return None
        cache.sides[key] = side
        cache.bases[(side.head, base_tip)] = side.merge_base
        return side

    def _merge_base(self, head: str, base_tip: str, cache: Findings) -> str:
        """Where HEAD left the base, kept per pair of commits: a builder's key moves on every
        write, its HEAD only when it commits."""
        key = (head, base_tip)
        merge_base = cache.bases.get(key, self._known.bases.get(key))
        if merge_base is None:
            self._asked = True
            out = _read(self.repo_root, "merge-base", base_tip, head, doing="find a merge base")
            merge_base = out.strip()
        cache.bases[key] = merge_base
        return merge_base

    def _deeper(
        self,
        files: Sequence[Conflict],
        a: Builder,
        b: Builder,
        sides: tuple[Side, Side],
        touched: tuple[Mapping[str, float], Mapping[str, float]],
        cache: Findings,
    ) -> list[Conflict]:
        """Levels 2 and 3 for one pair of builders, for the paths level 1 found. `touched` is
        each one's latest touch of every path it touched."""
        found = []
        side_a, side_b = sides
        merge = self._merge((a.agent, b.agent), side_a, side_b, cache)
        for conflict in files:
            path, agents = conflict.path, conflict.agents
            since = max(touched[0].get(path, conflict.since), touched[1].get(path, conflict.since))
            met = ranges_meet(self._lines(side_a, path, cache), self._lines(side_b, path, cache))
            if met is not None:
                kind, left, right = met
                detail = f"{a.agent} changes {left}, {b.agent} changes {right} ({kind})"
                found.append(Conflict("lines", path, agents, since, detail))
            if path in merge:
                found.append(Conflict("merge", path, agents, since, merge[path]))
        pair_since = max(conflict.since for conflict in files)
        for path in sorted(set(merge) - {conflict.path for conflict in files}):
            found.append(Conflict("merge", path, files[0].agents, pair_since, merge[path]))
        return found

    def _prefetch(
        self, paired: Sequence[tuple[str, str, list[Conflict], Side, Side]], cache: Findings
    ) -> None:
        """The lines of every path a side needs this look and nobody knows yet, from one
        `git diff` per side: a builder in several pairs, or overlapping in several files,
        would else cost a git process per path."""
        wanted: dict[Side, list[str]] = {}
        for _, _, pair, *sides in paired:
            for side in sides:
                for conflict in pair:
                    key = (side.merge_base, side.tip, conflict.path)
                    paths = wanted.setdefault(side, [])
                    if key not in self._known.ranges and conflict.path not in paths:
                        paths.append(conflict.path)
        for side, paths in wanted.items():
            if len(paths) < 2:
                continue
            self._asked = True
            try:
                ranges = _ranges_of(self.repo_root, side.merge_base, side.tip, paths)
            except AgentError:
                continue  # each path is asked alone, and an error told with its pair
            for path, found in (ranges or {}).items():
                cache.ranges[(side.merge_base, side.tip, path)] = found

    def _lines(self, side: Side, path: str, cache: Findings) -> tuple[LineRange, ...]:
        key = (side.merge_base, side.tip, path)
        ranges = cache.ranges.get(key, self._known.ranges.get(key))
        if ranges is None:
            self._asked = True
            ranges = _ranges(self.repo_root, side.merge_base, side.tip, path)
        cache.ranges[key] = ranges
        return ranges

    def _merge(self, pair: tuple[str, str], a: Side, b: Side, cache: Findings) -> dict[str, str]:
        """The merge of the two sides' files, from git once per pair of commits.

        A finder's first look merges every pair, so a new process (`corral ls`, the
        dashboard's first frame) tells the whole truth. Later looks merge pairs whose files
        moved only while `MERGES_PER_LOOK` last, pairs never merged first, then the oldest;
        until its turn a pair's last answer stands (none yet: level 1 and 2 speak for it). In a
        herd of thirty writing builders hundreds of pairs move every few seconds, and each
        merge is a git process of a few ms.
        """
        key = (a.tip, b.tip)
        merge = cache.merges.get(key, self._known.merges.get(key))
        if merge is None:
            if self._merges_left <= 0 and self._looks > 1:
                last = self._last_merges.get(pair)
                return {} if last is None else last[1]
            self._merges_left -= 1
            self._asked = True
            merge = _merge(self.repo_root, a.tip, b.tip)
        self._last_merges[pair] = (self._looks, merge)
        cache.merges[key] = merge
        return merge


def _keys(findings: Findings) -> tuple[set[object], ...]:
    return (set(findings.sides), set(findings.ranges), set(findings.merges), set(findings.bases))


def _pairs(files: Iterable[Conflict]) -> dict[tuple[str, ...], list[Conflict]]:
    pairs: dict[tuple[str, ...], list[Conflict]] = {}
    for conflict in files:
        pairs.setdefault(conflict.agents, []).append(conflict)
    return pairs


def _touch_key(builder: Builder) -> str:
    latest = max((touch.t for touch in builder.touches), default=0.0)
    return f"{builder.branch}:{len(builder.touches)}:{latest}"


def _latest_touches(builder: Builder) -> dict[str, float]:
    """When the builder last touched each path it names (repository-relative), found in one
    pass over its touches rather than one per conflicting path."""
    root = _root(builder.worktree)
    latest: dict[str, float] = {}
    for touch in builder.touches:
        path = _relative(touch.path, root)
        if path is not None and touch.t > latest.get(path, float("-inf")):
            latest[path] = touch.t
    return latest


# -- touches from git ---------------------------------------------------------------------------


@dataclass(frozen=True)
class BranchHistory:
    """What a worktree's HEAD holds beyond its merge base with the base: the part of
    `git_touches` that moves only with HEAD and the base's tip, so a caller that knows both
    can keep it while the agent writes. `ahead` is whether HEAD has commits of its own; while
    it has none, HEAD is the merge base and the files differ from both alike."""

    merge_base: str
    ahead: bool
    committed: dict[str, float]  # when each path was last committed since the merge base


def branch_history(worktree: Path, base: str) -> BranchHistory:
    merge_base = _merge_base(worktree, base)
    args = ("log", "--no-renames", "--format=%x01%ct", "-z", "--name-only", f"{merge_base}..HEAD")
    times: dict[str, float] = {}
    when, ahead = 0.0, False
    for item in _read(worktree, *args, doing="read the agent's commits").split("\0"):
        if item.startswith("\x01"):
            when, ahead = float(item[1:]), True
        elif item.strip("\n"):
            times.setdefault(item.lstrip("\n"), when)
    return BranchHistory(merge_base, ahead, times)


def git_touches(
    repo_root: Path, base: str, worktree: Path, history: BranchHistory | None = None
) -> tuple[Touch, ...]:
    """The paths the agent changed against its merge base with `base`: committed ones at the
    time of the newest commit that changed them, uncommitted and untracked ones at the file's
    last change. A path changed and then changed back is not here: it no longer overlaps.
    `history` is `branch_history`'s answer when the caller kept it for the same HEAD and base."""
    history = history or branch_history(worktree, base)
    changed = _names(worktree, "diff", "--name-only", "-z", "--no-renames", history.merge_base)
    untracked = _names(worktree, "ls-files", "--others", "--exclude-standard", "-z")
    if history.ahead:
        dirty = _names(worktree, "diff", "--name-only", "-z", "--no-renames", "HEAD") | untracked
    else:
        dirty = changed | untracked
    touches = []
    for path in sorted(changed | untracked):
        if path in dirty:
            when = _mtime(worktree / path, history.committed.get(path))
            touches.append(Touch(path, when, "uncommitted"))
        else:
            touches.append(Touch(path, history.committed.get(path, 0.0), "commit"))
    return tuple(touches)


def _mtime(path: Path, fallback: float | None) -> float:
    """When the file last changed; for a deleted one, when its folder last did, which is when
    the deletion happened at the latest (a time that stays put, so it can key a cache)."""
    for candidate in (path, *path.parents):
        try:
            return candidate.lstat().st_mtime
        except OSError:
            continue
    return fallback or 0.0


def _names(cwd: Path, *args: str) -> set[str]:
    return {name for name in _read(cwd, *args, doing="list changed files").split("\0") if name}


def _merge_base(worktree: Path, base: str) -> str:
    out = _read(worktree, "merge-base", base, "HEAD", doing=f"find where it left {base}")
    return out.strip()


def _repo(root: Path) -> Repo:
    common = _read(root, "rev-parse", "--path-format=absolute", "--git-common-dir", doing="look")
    return Repo(root=root.resolve(), common_dir=Path(common.strip()).resolve())


def _read(cwd: Path, *args: str, doing: str) -> str:
    """Read-only git with literal paths (a file named `[id].tsx` is not a pattern)."""
    if not cwd.is_dir():
        raise AgentError(f"{cwd} does not exist: git could not {doing} there.")
    result = git(cwd, *args, env={"GIT_LITERAL_PATHSPECS": "1"}, check=False)
    if result.returncode != 0:
        raise AgentError(f"git could not {doing} in {cwd}: {_why(result)}.")
    return result.stdout


def _why(result: Any) -> str:
    lines = [line.strip() for line in str(result.stderr).splitlines() if line.strip()]
    return lines[0].removeprefix("fatal: ") if lines else f"exit status {result.returncode}"


# -- starts and ends, kept in the journal -------------------------------------------------------


class ConflictTracker:
    """Which conflicts are open, so each start and each end is told, and told once.

    Every start and end is a journal event; `from_journal` folds them back, so a new corral
    process knows what is already open and announces only what changed since.
    """

    def __init__(self, journal: Journal | None = None) -> None:
        self.journal = journal
        self._open: dict[tuple[str, str, tuple[str, ...]], Conflict] = {}

    @classmethod
    def from_journal(
        cls, journal: Journal | None = None, events: Iterable[Event] | None = None
    ) -> ConflictTracker:
        """Rebuild from `events` (by default the whole journal); new events go to `journal`."""
        tracker = cls(journal)
        if events is None:
            events = journal.read_all() if journal is not None else ()
        for event in events:
            tracker.apply(event)
        return tracker

    def apply(self, event: Event) -> None:
        """Fold one journal event; anything that is not a well-formed conflict event is skipped."""
        kind = event.get("event")
        if kind not in (START, END):
            return
        conflict = _from_event(event)
        if conflict is None:
            return
        if kind == START:
            self._open.setdefault(conflict.ident, conflict)
        else:
            self._open.pop(conflict.ident, None)

    @property
    def open(self) -> tuple[Conflict, ...]:
        return tuple(sorted(self._open.values(), key=conflict_order))

    def to_json(self) -> list[dict[str, Any]]:
        """The open set as a checkpoint keeps it (`open_from_json` reads it back)."""
        return [conflict.to_json() for conflict in self._open.values()]

    @staticmethod
    def open_from_json(data: Any) -> list[Conflict]:
        conflicts = [_from_event(item) for item in data]
        if any(conflict is None for conflict in conflicts):
            raise ValueError("not a conflict")
        return [conflict for conflict in conflicts if conflict is not None]

    def restore(self, conflicts: Iterable[Conflict]) -> None:
        self._open = {conflict.ident: conflict for conflict in conflicts}

    def update(
        self, conflicts: Iterable[Conflict], now: float
    ) -> tuple[tuple[Conflict, ...], tuple[Conflict, ...]]:
        """Compare with the open set: what started, what ended. An open conflict keeps the
        `since` of its start; its detail follows the latest look."""
        current = {conflict.ident: conflict for conflict in conflicts}
        starts = [current[key] for key in current if key not in self._open]
        ends = [self._open[key] for key in self._open if key not in current]
        for key, conflict in current.items():
            if key in self._open:
                self._open[key] = replace(conflict, since=self._open[key].since)
        for conflict in sorted(starts, key=conflict_order):
            self._open[conflict.ident] = conflict
            self._record(START, conflict)
        for conflict in sorted(ends, key=conflict_order):
            del self._open[conflict.ident]
            self._record(END, conflict, ended=now)
        return tuple(sorted(starts, key=conflict_order)), tuple(sorted(ends, key=conflict_order))

    def _record(self, event: str, conflict: Conflict, **extra: float) -> None:
        if self.journal is not None:
            data: dict[str, Any] = {**conflict.to_json(), **extra}
            self.journal.append(event, **data)


def _from_event(event: Mapping[str, Any]) -> Conflict | None:
    level, path, agents = event.get("level"), event.get("path"), event.get("agents")
    if level not in LEVELS or not isinstance(path, str) or not isinstance(agents, list):
        return None
    if not all(isinstance(agent, str) for agent in agents):
        return None
    try:
        since = float(event.get("since", event.get("t", 0.0)))
    except (TypeError, ValueError):
        return None
    detail = event.get("detail")
    return Conflict(level, path, tuple(agents), since, detail if isinstance(detail, str) else "")
