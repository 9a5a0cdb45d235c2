"""The herd's notes on real repositories with real worktrees: who changed what, seen once.

Each tracker here stands for a process: the long-lived app keeps one, and every `corral notes`
run makes a new one that starts from the cache the previous run left.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest

from sessions.adapters.journal import Journal
from sessions.core.model import Checkout
from sessions.core.note_changes import NoteChange
from sessions.core.rules import NoteRules
from sessions.services.notes import BASE, USER, Notes
from tests.helpers import git

DAY = 86400.0


@dataclass
class Herd:
    root: Path
    checkouts: list[Checkout]
    journal: Journal
    clock: list[int]

    @property
    def cache(self) -> Path:
        return self.root / ".corral" / "cache"

    def path(self, where: str | None) -> Path:
        return next(c.path for c in self.checkouts if c.agent == where)

    def tracker(self, rules: NoteRules | None = None) -> Notes:
        """A new tracker, as a new process would have."""
        return Notes(self.journal, self.cache, rules)

    def write(self, where: str | None, rel: str, text: str) -> Path:
        """Writes with an mtime of its own, so two quick writes of the same size still differ."""
        path = self.path(where) / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
        self.clock[0] += 1_000_000
        os.utime(path, ns=(self.clock[0], self.clock[0]))
        return path

    def add_agent(self, name: str) -> Checkout:
        path = self.root.parent / f"wt-{name}"
        git(self.root, "worktree", "add", "-q", "-b", f"corral/{name}", str(path), "main")
        checkout = Checkout(agent=name, path=path, branch=f"corral/{name}")
        self.checkouts.append(checkout)
        return checkout

    def note_events(self) -> list[dict[str, object]]:
        return [e for e in Journal(self.journal.path).read_all() if e["event"] == "note"]


@pytest.fixture
def herd(make_repo: Callable[..., Path]) -> Herd:
    root = make_repo()
    (root / "notes").mkdir()
    (root / "notes" / "parser.md").write_text("# Parser\n\n- [ ] error recovery\n")
    (root / "notes" / "old").mkdir()
    (root / "notes" / "old" / "design.md").write_text("# Design\n\nStatus: settled.\n")
    git(root, "add", "-A")
    git(root, "commit", "-q", "-m", "notes")
    herd = Herd(
        root=root,
        checkouts=[Checkout(agent=None, path=root, branch="main")],
        journal=Journal(root / ".corral" / "journal.jsonl"),
        clock=[time.time_ns()],
    )
    herd.add_agent("alpha")
    herd.add_agent("beta")
    return herd


def summary(changes: list[NoteChange]) -> list[tuple[str, str, str, str]]:
    return [(c.agent, c.where, c.path, c.kind) for c in changes]


def test_the_first_look_is_a_baseline(herd: Herd) -> None:
    notes = herd.tracker()
    assert notes.look(herd.checkouts, time.time()) == []
    assert notes.look(herd.checkouts, time.time()) == []
    assert herd.note_events() == []
    assert len(list((herd.cache / "notes").glob("*.json"))) == 3
    seen = {(f.where, f.path) for f in notes.files(time.time())}
    assert seen == {
        (where, rel)
        for where in (BASE, "alpha", "beta")
        for rel in ("PROGRESS.md", "notes/parser.md", "notes/old/design.md")
    }
    # an agent that left the herd is no longer listed; the base checkout comes first
    notes.look(list(reversed(herd.checkouts[:2])), time.time())
    assert [(f.where, f.path) for f in notes.files(time.time())] == [
        (BASE, "PROGRESS.md"),
        (BASE, "notes/old/design.md"),
        (BASE, "notes/parser.md"),
        ("alpha", "PROGRESS.md"),
        ("alpha", "notes/old/design.md"),
        ("alpha", "notes/parser.md"),
    ]


def test_edits_in_worktrees_belong_to_their_agents(herd: Herd) -> None:
    notes = herd.tracker()
    notes.look(herd.checkouts, time.time())
    herd.write("alpha", "PROGRESS.md", "# Progress\n\n- [x] first task\n- [ ] second task\n")
    herd.write("beta", "notes/parser.md", "# Parser\n\n- [ ] error recovery\n- [ ] spans\n")
    changes = notes.look(herd.checkouts, time.time())
    assert summary(changes) == [
        ("alpha", "alpha", "PROGRESS.md", "edit"),
        ("beta", "beta", "notes/parser.md", "edit"),
    ]
    alpha, beta = changes
    assert (alpha.added, alpha.removed, alpha.lines) == (1, 1, 4)
    assert "-- [ ] first task" in alpha.diff and "+- [x] first task" in alpha.diff
    assert (beta.added, beta.removed, beta.lines) == (1, 0, 4)
    events = herd.note_events()
    assert [(e["agent"], e["where"], e["path"]) for e in events] == [
        ("alpha", "alpha", "PROGRESS.md"),
        ("beta", "beta", "notes/parser.md"),
    ]
    assert events[0]["diff"] == alpha.diff
    assert (events[0]["added"], events[0]["removed"], events[0]["lines"]) == (1, 1, 4)
    assert notes.look(herd.checkouts, time.time()) == []


def test_a_touch_that_changes_nothing_is_not_a_change(herd: Herd) -> None:
    notes = herd.tracker()
    notes.look(herd.checkouts, time.time())
    text = (herd.path("alpha") / "PROGRESS.md").read_text()
    herd.write("alpha", "PROGRESS.md", text)
    assert notes.look(herd.checkouts, time.time()) == []
    assert herd.tracker().look(herd.checkouts, time.time()) == []


def test_a_merged_agent_change_in_the_base_is_the_agents(herd: Herd) -> None:
    notes = herd.tracker()
    notes.look(herd.checkouts, time.time())
    alpha = herd.path("alpha")
    herd.write("alpha", "PROGRESS.md", "# Progress\n\n- [x] first task\n- [ ] second task\n")
    git(alpha, "commit", "-q", "-am", "first task done")
    # the user works on main meanwhile, so the merge is a real one
    herd.write(None, "README.md", "# project\n\nNow with notes.\n")
    git(herd.root, "commit", "-q", "-am", "readme")
    assert summary(notes.look(herd.checkouts, time.time())) == [
        ("alpha", "alpha", "PROGRESS.md", "edit")
    ]
    git(herd.root, "merge", "-q", "--no-edit", "corral/alpha")
    changes = notes.look(herd.checkouts, time.time())
    assert summary(changes) == [("alpha", BASE, "PROGRESS.md", "edit")]
    assert "+- [x] first task" in changes[0].diff


def test_a_fast_forwarded_agent_change_in_the_base_is_the_agents(herd: Herd) -> None:
    notes = herd.tracker()
    notes.look(herd.checkouts, time.time())
    herd.write("beta", "notes/handoff.md", "# Hand-off\n\nNext step: review the parser\n")
    git(herd.path("beta"), "add", "notes/handoff.md")
    git(herd.path("beta"), "commit", "-q", "-m", "hand-off")
    notes.look(herd.checkouts, time.time())
    git(herd.root, "merge", "-q", "--ff-only", "corral/beta")
    changes = notes.look(herd.checkouts, time.time())
    assert summary(changes) == [("beta", BASE, "notes/handoff.md", "new")]


def test_base_edits_and_commits_of_the_user_are_the_users(herd: Herd) -> None:
    notes = herd.tracker()
    notes.look(herd.checkouts, time.time())
    herd.write(None, "PROGRESS.md", "# Progress\n\n- [ ] first task\n")
    assert summary(notes.look(herd.checkouts, time.time())) == [(USER, BASE, "PROGRESS.md", "edit")]
    # committed by the user, then an agent branches from main: its branch contains the commit,
    # but it did from the start, so the change is still the user's
    herd.write(None, "PROGRESS.md", "# Progress\n\n- [ ] first task\n- [ ] third task\n")
    git(herd.root, "commit", "-q", "-am", "plan")
    herd.add_agent("gamma")
    changes = notes.look(herd.checkouts, time.time())
    assert summary(changes) == [(USER, BASE, "PROGRESS.md", "edit")]


def test_a_new_process_reports_only_what_changed_since_the_cache(herd: Herd) -> None:
    first = herd.tracker()
    first.look(herd.checkouts, time.time())
    herd.write("alpha", "PROGRESS.md", "# Progress\n\n- [x] first task\n- [ ] second task\n")
    assert len(first.look(herd.checkouts, time.time())) == 1
    herd.write("alpha", "PROGRESS.md", "# Progress\n\n- [x] first task\n- [x] second task\n")
    second = herd.tracker()
    changes = second.look(herd.checkouts, time.time())
    assert summary(changes) == [("alpha", "alpha", "PROGRESS.md", "edit")]
    assert (changes[0].added, changes[0].removed) == (1, 1)
    changed = [line for line in changes[0].diff.splitlines()[2:] if line[:1] in "+-"]
    assert changed == ["-- [ ] second task", "+- [x] second task"]
    assert herd.tracker().look(herd.checkouts, time.time()) == []


def test_two_live_trackers_record_one_change_once(herd: Herd) -> None:
    app, command = herd.tracker(), herd.tracker()
    app.look(herd.checkouts, time.time())
    command.look(herd.checkouts, time.time())
    herd.write("beta", "PROGRESS.md", "# Progress\n\nrewritten\n")
    assert len(command.look(herd.checkouts, time.time())) == 1
    assert app.look(herd.checkouts, time.time()) == []
    assert len(herd.note_events()) == 1
    # the app's view moved on with the cache, so its next change diffs from the new text
    herd.write("beta", "PROGRESS.md", "# Progress\n\nrewritten\nagain\n")
    (change,) = app.look(herd.checkouts, time.time())
    assert (change.added, change.removed) == (1, 0)


def test_a_deleted_and_a_new_notes_file(herd: Herd) -> None:
    notes = herd.tracker()
    notes.look(herd.checkouts, time.time())
    (herd.path("alpha") / "notes" / "parser.md").unlink()
    herd.write("alpha", "notes/deep/er/lexer.md", "# Lexer\n\n- [ ] unicode\n- [ ] numbers\n")
    herd.write("alpha", "notes/ignored.txt", "not a note\n")
    changes = notes.look(herd.checkouts, time.time())
    assert summary(changes) == [
        ("alpha", "alpha", "notes/deep/er/lexer.md", "new"),
        ("alpha", "alpha", "notes/parser.md", "deleted"),
    ]
    new, gone = changes
    assert (new.added, new.removed, new.lines) == (4, 0, 4)
    assert (gone.added, gone.removed, gone.lines) == (0, 3, 0)
    files = {(f.where, f.path) for f in notes.files(time.time())}
    assert ("alpha", "notes/parser.md") not in files
    assert ("alpha", "notes/deep/er/lexer.md") in files
    assert herd.tracker().look(herd.checkouts, time.time()) == []


def test_files_say_what_they_hold_and_how_they_grow(herd: Herd) -> None:
    rules = NoteRules(max_lines=30, fast_growth=20.0)
    notes = herd.tracker(rules)
    now = time.time()
    notes.look(herd.checkouts, now)
    body = "".join(f"- [x] task {n}\n" for n in range(40))
    status = "## Current Status\n\nTest pass rate: 90% (9/10)\nNext: ship it\n\n## Backlog\n"
    herd.write("alpha", "PROGRESS.md", f"# Progress\n\n{status}\n{body}- [ ] last\n")
    notes.look(herd.checkouts, now + 60)
    (progress,) = [
        f for f in notes.files(now + 120) if (f.where, f.path) == ("alpha", "PROGRESS.md")
    ]
    assert progress.lines == 50
    assert len(progress.done) == 40 and progress.open == ("last",)
    assert progress.next_step == "ship it"
    assert progress.pass_rate is not None and progress.pass_rate.percent == 90.0
    assert progress.last_change is not None
    assert (progress.last_change.agent, progress.last_change.t) == ("alpha", round(now + 60, 3))
    assert progress.growth_per_hour == 46.0
    assert [w.kind for w in progress.warnings] == ["long", "fast"]
    # an hour later the growth has left the window, the length has not
    (later,) = [
        f for f in notes.files(now + 2 * 3600) if (f.where, f.path) == ("alpha", "PROGRESS.md")
    ]
    assert later.growth_per_hour == 0.0
    assert [w.kind for w in later.warnings] == ["long"]
    # a new process computes the same growth from the journal
    again = herd.tracker(rules)
    again.look(herd.checkouts, now + 120)
    (same,) = [f for f in again.files(now + 120) if (f.where, f.path) == ("alpha", "PROGRESS.md")]
    assert same.growth_per_hour == 46.0 and same.last_change == progress.last_change


def test_quiet_notes_by_commit_time_or_mtime(
    make_repo: Callable[..., Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    root = make_repo()
    old = time.time() - 10 * DAY
    (root / "notes").mkdir()
    for name in ("settled", "edited", "stale"):
        (root / "notes" / f"{name}.md").write_text(f"# {name}\n")
    git(root, "add", "-A")
    monkeypatch.setenv("GIT_COMMITTER_DATE", f"{int(old)} +0000")
    git(root, "commit", "-q", "-m", "old notes", "--date", f"{int(old)} +0000")
    monkeypatch.delenv("GIT_COMMITTER_DATE")
    # edited today without a commit: not quiet, though git says ten days
    (root / "notes" / "edited.md").write_text("# edited\n\ntoday\n")
    # written long ago and never committed since: quiet by its mtime
    (root / "notes" / "stale.md").write_text("# stale\n\nuncommitted, long ago\n")
    os.utime(root / "notes" / "stale.md", (old, old))
    path = root.parent / "wt-alpha"
    git(root, "worktree", "add", "-q", "-b", "corral/alpha", str(path), "main")
    checkouts = [
        Checkout(agent=None, path=root, branch="main"),
        Checkout(agent="alpha", path=path, branch="corral/alpha"),
    ]
    notes = Notes(Journal(root / ".corral" / "journal.jsonl"), root / ".corral" / "cache")
    now = time.time()
    notes.look(checkouts, now)
    files = notes.files(now)
    quiet = {(f.where, f.path) for f in files if any(w.kind == "quiet" for w in f.warnings)}
    # git wrote every file of the worktree just now, yet nobody changed them for ten days;
    # PROGRESS.md was committed today
    assert quiet == {
        (BASE, "notes/settled.md"),
        (BASE, "notes/stale.md"),
        ("alpha", "notes/settled.md"),
        ("alpha", "notes/edited.md"),
        ("alpha", "notes/stale.md"),
    }
    settled = next(f for f in files if (f.where, f.path) == ("alpha", "notes/settled.md"))
    assert abs(settled.touched - int(old)) < 1
    message = next(w.message for w in settled.warnings if w.kind == "quiet")
    assert message == "nobody changed notes/settled.md (alpha) for 10 days"


def test_json_for_the_command_line(herd: Herd) -> None:
    notes = herd.tracker()
    notes.look(herd.checkouts, time.time())
    herd.write("beta", "notes/parser.md", "# Parser\n\n- [x] error recovery\n")
    notes.look(herd.checkouts, time.time())
    data = json.loads(json.dumps(notes.to_json(time.time())))
    assert {"files", "changes"} == set(data)
    parser = next(
        f for f in data["files"] if (f["where"], f["path"]) == ("beta", "notes/parser.md")
    )
    assert parser["done"] == ["error recovery"] and parser["open"] == []
    assert parser["last_change"]["agent"] == "beta"
    (change,) = data["changes"]
    assert (change["agent"], change["where"], change["path"]) == ("beta", "beta", "notes/parser.md")
    assert {"diff", "added", "removed", "lines", "t"} <= set(change)
