"""Who builds, who collides, who holds which task: the herd's coordination, on every look.

The observer gathers each agent's tool calls and file writes; this module turns them into roles
(`fingerprint`), conflicts between builders (`conflicts`), held and stale task locks (`locks`),
and stalls, and journals every conflict's start and end. It runs git only when something moved:
branch tips come from one `for-each-ref` for the whole herd, an agent's committed and
uncommitted changes are listed again only when its tip or its latest write changed, and locks
are surveyed at most every `LOCK_EVERY` seconds in a long-lived process.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path

from sessions.adapters.feed import Feed, Follower
from sessions.adapters.git_findings import FINDINGS_FILE
from sessions.adapters.git_memo import MEMO_FILE, GitMemo
from sessions.adapters.journal import Journal
from sessions.adapters.private import open_private, write_private
from sessions.adapters.repo import Repo, git
from sessions.core.conflict_values import Builder, Conflict, Touch
from sessions.core.errors import CorralError
from sessions.core.fingerprint import BUILDER, Call, Fingerprint, Write, fingerprint, stall
from sessions.core.lock_values import LockReport
from sessions.core.model import AgentRole, AgentView, Checkout, Coordination, State
from sessions.core.rules import CoordinationRules
from sessions.hook import HOLDS_FILE, HOLDS_TTL
from sessions.services.conflicts import (
    CONFLICTS_VERSION,
    BranchHistory,
    ConflictFinder,
    ConflictTracker,
    branch_history,
)
from sessions.services.conflicts import git_touches as changed_against_base
from sessions.services.locks import survey

LOCK_EVERY = 2.0
# What `_holds` says once the holds file is gone because telling is off.
OFF = ("off", 0.0)
LIST_EVERY = 2.0  # seconds between listings of a builder that keeps writing on one tip
# At most this many such listings a second across the herd: each costs three or four git
# processes, so a herd of thirty writing builders would otherwise start sixty a second.
LIST_RATE = 4.0
CHANGES_FILE = "changes.json"


class Coordinator:
    """Keeps what coordination needs between looks; one per supervisor."""

    def __init__(
        self, repo: Repo, journal: Journal, rules: CoordinationRules, feed: Feed | None = None
    ) -> None:
        self.repo = repo
        self.journal = journal
        self.rules = rules
        self.tracker = ConflictTracker(journal)
        # The open conflicts are the fold of every start and end, whichever process wrote
        # them: fed by the supervisor's reader of the journal (else one of its own), from the
        # open set as the last command left it.
        self._feed = feed if feed is not None else Feed(Journal(journal.path))
        self._feed.join(
            Follower(
                apply=self.tracker.apply,
                kind="conflicts",
                version=CONFLICTS_VERSION,
                decode=ConflictTracker.open_from_json,
                restore=self.tracker.restore,
                encode=self.tracker.to_json,
            )
        )
        self._finder: ConflictFinder | None = None
        # Each builder's changes against the base, by a key that moves with its files; kept
        # in `.corral/cache` too, so a one-shot `corral ls` runs git only for what moved.
        self._changed_path = repo.state_dir / "cache" / CHANGES_FILE
        self._changed: dict[str, tuple[str, tuple[Touch, ...]]] = _load_changes(self._changed_path)
        self._changed_dirty = False
        self._listed: dict[str, float] = {}  # when each builder's changes were last listed
        # Each builder's merge base and commit times, by the tip and base tip they are of.
        self._histories: dict[str, tuple[tuple[str, str], BranchHistory]] = {}
        self._locks: tuple[float, LockReport | None] = (0.0, None)
        # The survey's questions about branches, answered again only when one moved.
        self._memo = GitMemo(repo, repo.state_dir / "cache" / MEMO_FILE)
        self._holds: tuple[str, float] = ("", 0.0)
        self._tips_read: tuple[object, dict[str, tuple[str, float]]] | None = None

    def look(
        self,
        views: Sequence[AgentView],
        activity: Mapping[str, tuple[Sequence[Call], Sequence[Write]]],
        base: str | None,
        now: float,
        fresh_locks: bool = False,
    ) -> Coordination:
        rules = self.rules.roles
        prints = {
            view.name: fingerprint(*activity.get(view.name, ((), ())), rules, now) for view in views
        }
        tips = self._tips(base)
        errors: dict[str, str] = {}
        conflicts: tuple[Conflict, ...] = ()
        if base is not None:
            building = [
                view
                for view in views
                if prints[view.name].role == BUILDER and view.worktree and _active(view)
            ]
            every = list_every(len(building))
            builders = [
                self._builder(view, prints[view.name], activity, tips, base, now, every, errors)
                for view in building
            ]
            base_tip = tips.get(base, ("", 0.0))[0] or None
            conflicts = self._conflicts(builders, base, base_tip, now, errors)
            if self._changed_dirty:
                _save_changes(self._changed_path, self._changed)
                self._changed_dirty = False
        locks = self._survey(views, base, now, fresh_locks, errors)
        roles = {}
        for view in views:
            printed = prints[view.name]
            tip = tips.get(view.branch)
            stalled = stall(
                view.state is State.WORKING,
                printed.last_change,
                tip[1] if tip else None,
                view.run_started,
                rules,
                now,
            )
            held = tuple(v for v in (locks.verdicts if locks else ()) if v.lock.holder == view.name)
            roles[view.name] = AgentRole(printed, stalled.stalled, stalled.reason, held)
        self._write_holds(views, prints, now)
        return Coordination(roles, conflicts, locks, errors)

    # -- conflicts ----------------------------------------------------------------------

    def _tips(self, base: str | None) -> dict[str, tuple[str, float]]:
        """Every agent branch's tip and the base's, with commit times, in one git call made
        only when the ref files show a branch moved."""
        refs = ("refs/heads/corral", *([f"refs/heads/{base}"] if base else []))
        mark = (base, self.repo.refs_mark(*refs))
        if mark[1] is not None and self._tips_read is not None and self._tips_read[0] == mark:
            return self._tips_read[1]
        tips = self._read_tips(base)
        self._tips_read = (mark, tips)
        return tips

    def _read_tips(self, base: str | None) -> dict[str, tuple[str, float]]:
        result = git(
            self.repo.root,
            "for-each-ref",
            "--format=%(refname:short)%00%(objectname)%00%(committerdate:unix)",
            "refs/heads/corral/",
            *([f"refs/heads/{base}"] if base else []),
            check=False,
        )
        tips = {}
        for line in result.stdout.splitlines():
            name, _, rest = line.partition("\0")
            sha, _, when = rest.partition("\0")
            with contextlib.suppress(ValueError):
                tips[name] = (sha, float(when))
        return tips

    def _builder(
        self,
        view: AgentView,
        printed: Fingerprint,
        activity: Mapping[str, tuple[Sequence[Call], Sequence[Write]]],
        tips: Mapping[str, tuple[str, float]],
        base: str,
        now: float,
        every: float,
        errors: dict[str, str],
    ) -> Builder:
        """The builder as conflicts see it; its git changes are listed again only when its
        tip, the base's tip or its latest change moved.

        An agent at work writes files on almost every look; listing its changes (and reading
        its diffs for the line and merge levels) each time was most of what following a
        working herd cost. While it keeps writing on the same tip, they are listed again at
        most every `every` seconds (`list_every`). The file level does not wait: the writes its
        hooks and file events report are touches of their own, on every look."""
        tip = tips.get(view.branch, ("", 0.0))[0]
        base_tip = tips.get(base, ("", 0.0))[0]
        key = f"{tip}:{base_tip}:{printed.last_change}"
        known = self._changed.get(view.name)
        listed = self._listed.get(view.name)
        if (
            known is not None
            and known[0] != key
            and known[0].startswith(f"{tip}:{base_tip}:")
            and listed is not None
            and 0 <= now - listed < every
        ):
            key = known[0]  # the same tip, still writing: the last listing stands a while
        if known is None or known[0] != key:
            self._listed[view.name] = now
            try:
                history = self._history(view, tip, base_tip, base)
                changed = changed_against_base(self.repo.root, base, Path(view.worktree), history)
            except CorralError as error:
                errors[view.name] = str(error)
                changed = ()
            known = self._changed[view.name] = (key, changed)
            self._changed_dirty = True
        return Builder(
            agent=view.name,
            worktree=Path(view.worktree),
            branch=view.branch,
            touches=(*_recent_touches(*activity.get(view.name, ((), ()))), *known[1]),
            key=key,
        )

    def _history(self, view: AgentView, tip: str, base_tip: str, base: str) -> BranchHistory | None:
        """The builder's merge base and commit times, asked of git again only when its tip or
        the base's moved: of the git calls a listing makes, these two wait on a commit, the
        others on a write. Kept only while the worktree has its own branch checked out
        (read from its HEAD file), so that the tip is its HEAD."""
        worktree = Path(view.worktree)
        if not tip or not base_tip or self.repo.checked_out(worktree) != view.branch:
            self._histories.pop(view.name, None)
            return None
        kept = self._histories.get(view.name)
        if kept is None or kept[0] != (tip, base_tip):
            kept = self._histories[view.name] = ((tip, base_tip), branch_history(worktree, base))
        return kept[1]

    def _conflicts(
        self,
        builders: Sequence[Builder],
        base: str,
        base_tip: str | None,
        now: float,
        errors: dict[str, str],
    ) -> tuple[Conflict, ...]:
        finder = self._finder
        if finder is None or finder.base != base:
            finder = self._finder = ConflictFinder(
                self.repo.root,
                base,
                window=self.rules.roles.window,
                ignore=self.rules.roles.coordination,
                repo=self.repo,
                saved=self.repo.state_dir / "cache" / FINDINGS_FILE,
            )
        # Both builders writing PROGRESS.md or notes is coordination, even when their edits
        # would not merge cleanly: the herd's notes are not its code.
        coordination = self.rules.roles.is_coordination
        found = tuple(c for c in finder.find(builders, now, base_tip) if not coordination(c.path))
        errors.update(finder.errors)
        with self._writing():
            self.tracker.update(found, now)
        return self.tracker.open

    @contextlib.contextmanager
    def _writing(self) -> Iterator[None]:
        """Two corral processes looking at once must not journal the same start twice: they
        take turns, and each first reads what the other wrote."""
        path = self.repo.state_dir / "conflicts.lock"
        try:
            fd = open_private(path, os.O_RDWR)
        except OSError:
            yield
            return
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            self._catch_up()
            yield
        finally:
            os.close(fd)

    def _catch_up(self) -> None:
        """Fold what the journal gained since: from the checkpoint first, in a new process."""
        self._feed.pull()

    # -- locks --------------------------------------------------------------------------

    def _survey(
        self,
        views: Sequence[AgentView],
        base: str | None,
        now: float,
        fresh: bool,
        errors: dict[str, str],
    ) -> LockReport | None:
        when, report = self._locks
        if base is None or (not fresh and report is not None and now - when < LOCK_EVERY):
            return report
        states = {view.name: (view.state.value, view.since) for view in views}
        try:
            places = self.checkouts(views)
            report = survey(self.repo.root, base, places, states, now, self.rules.locks, self._memo)
        except CorralError as error:
            errors["locks"] = str(error)
            return report
        finally:
            self._memo.save()
        self._locks = (now, report)
        return report

    def checkouts(self, views: Sequence[AgentView]) -> list[Checkout]:
        """Every agent worktree that exists, and the base checkout."""
        places = [Checkout(None, self.repo.root, "")]
        places += [
            Checkout(view.name, Path(view.worktree), view.branch)
            for view in views
            if view.worktree and Path(view.worktree).is_dir()
        ]
        return places

    # -- telling the agents -------------------------------------------------------------

    def _write_holds(
        self, views: Sequence[AgentView], prints: Mapping[str, Fingerprint], now: float
    ) -> None:
        """The files each builder holds, for the PreToolUse hook to warn another agent about
        to edit one of them. Written when telling is on and the holds changed, or often
        enough that the hook knows a corral is still looking. With telling off the file goes:
        while it exists, every PreToolUse pays for the Python hook entry."""
        if self.rules.tell == "off":
            if self._holds != OFF:
                self._holds = OFF
                with contextlib.suppress(OSError):
                    (self.repo.state_dir / HOLDS_FILE).unlink(missing_ok=True)
            return
        holds: dict[str, list[str]] = {}
        for view in views:
            printed = prints[view.name]
            if printed.role == BUILDER and _active(view):
                for path in printed.files:
                    holds.setdefault(path, []).append(view.name)
        text = json.dumps({"tell": self.rules.tell, "holds": holds}, sort_keys=True)
        if text == self._holds[0] and now - self._holds[1] < HOLDS_TTL / 4:
            return
        self._holds = (text, now)
        with contextlib.suppress(OSError):
            write_private(self.repo.state_dir / HOLDS_FILE, text)


def list_every(builders: int) -> float:
    """Seconds between listings of a builder that keeps writing: `LIST_EVERY`, or longer for
    a herd so big that its listings would pass `LIST_RATE` a second. A tip that moves (a
    commit) is listed at once whatever the herd's size; only writes on one tip wait."""
    return max(LIST_EVERY, builders / LIST_RATE)


def _load_changes(path: Path) -> dict[str, tuple[str, tuple[Touch, ...]]]:
    """What an earlier process listed; anything unreadable is simply listed again."""
    try:
        data = json.loads(path.read_text())
        return {
            str(name): (str(key), tuple(Touch(str(p), float(t), str(how)) for p, t, how in rows))
            for name, (key, rows) in data.items()
        }
    except (OSError, ValueError, TypeError, AttributeError):
        return {}


def _save_changes(path: Path, changed: Mapping[str, tuple[str, tuple[Touch, ...]]]) -> None:
    data = {
        name: [key, [[t.path, t.t, t.how] for t in touches]]
        for name, (key, touches) in changed.items()
    }
    with contextlib.suppress(OSError):
        write_private(path, json.dumps(data))


def _recent_touches(calls: Sequence[Call], writes: Sequence[Write]) -> tuple[Touch, ...]:
    edits = [Touch(p, call.t, "edit") for call in calls if call.cls == "edit" for p in call.paths]
    return (*edits, *(Touch(p, write.t, "write") for write in writes for p in write.paths))


def _active(view: AgentView) -> bool:
    """Shelved and exited agents hold nothing: their conflicts end when they stop."""
    return view.state not in (State.SHELVED, State.EXITED, State.CRASH_LOOPING)
