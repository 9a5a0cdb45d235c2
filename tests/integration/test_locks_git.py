"""Task locks on real repositories with real worktrees: where locks are found, who holds them,
releasing one without touching anything else, and the coordination tax of a real history."""

from __future__ import annotations

import os
import shutil
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from sessions.adapters.git_memo import GitMemo
from sessions.adapters.repo import Repo
from sessions.core.errors import LockError
from sessions.core.lock_values import Lock
from sessions.core.model import Checkout
from sessions.core.rules import LockRules
from sessions.services.lock_release import release
from sessions.services.lock_scan import scan
from sessions.services.lock_tax import coordination_tax
from sessions.services.locks import survey
from tests.helpers import counted_git, git

DATA = Path(__file__).resolve().parent.parent / "data" / "locks"
LOCK = "current_tasks/x.md"
CLAIM = "created_at_unix={t}\nagent_id=opus\ntask=Extend join index probes\n"
MakeRepo = Callable[..., Path]


def _worktree(root: Path, name: str, start: str = "main") -> Checkout:
    path = root.parent / "worktrees" / name
    git(root, "worktree", "add", "--quiet", "-b", f"corral/{name}", str(path), start)
    return Checkout(agent=name, path=path, branch=f"corral/{name}")


def _put(top: Path, rel: str, text: str | bytes) -> None:
    path = top / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_text(text)


def _commit(top: Path, message: str, *paths: str, when: float | None = None) -> str:
    if paths:
        git(top, "add", "--", *paths)
    git(top, "commit", "--quiet", "--allow-empty", "-m", message, when=when)
    return git(top, "rev-parse", "HEAD").strip()


def _claim(top: Path, rel: str = LOCK, when: float | None = None, t: int = 1770855000) -> str:
    _put(top, rel, CLAIM.format(t=t))
    return _commit(top, f"claim {rel}", rel, when=when)


def _only(locks: tuple[Lock, ...]) -> Lock:
    assert len(locks) == 1, locks
    return locks[0]


# -- where locks are and who holds them ------------------------------------------------------


def test_a_worktree_lock_is_held_by_its_worktree_whatever_its_agent_id(
    make_repo: MakeRepo,
) -> None:
    root = make_repo()
    builder = _worktree(root, "builder-1")
    other = _worktree(root, "builder-2")
    _put(builder.path, LOCK, CLAIM.format(t=1770855000))
    lock = _only(scan(root, "main", [builder, other]).locks)
    assert (lock.holder, lock.agent_id, lock.where, lock.on_base) == (
        "builder-1",
        "opus",
        ("builder-1",),
        False,
    )
    assert (lock.task, lock.created_at, lock.created_from) == (
        "Extend join index probes",
        1770855000.0,
        "file",
    )


def test_without_a_time_inside_the_commit_then_the_mtime_dates_a_lock(
    make_repo: MakeRepo,
) -> None:
    root = make_repo()
    builder = _worktree(root, "builder-1")
    _put(builder.path, "current_tasks/committed.md", "task=a\n")
    _commit(builder.path, "claim a", "current_tasks/committed.md", when=1770000000)
    _put(builder.path, "current_tasks/untracked.md", "task=b\n")
    os.utime(builder.path / "current_tasks/untracked.md", (1770000500, 1770000500))
    locks = {lock.path: lock for lock in scan(root, "main", [builder]).locks}
    committed, untracked = locks["current_tasks/committed.md"], locks["current_tasks/untracked.md"]
    assert (committed.created_at, committed.created_from) == (1770000000.0, "commit")
    assert (untracked.created_at, untracked.created_from) == (1770000500.0, "mtime")
    assert committed.holder == untracked.holder == "builder-1"


def test_a_lock_the_user_committed_on_base_is_one_lock_in_every_later_worktree(
    make_repo: MakeRepo,
) -> None:
    root = make_repo()
    _claim(root)
    late = _worktree(root, "builder-2")
    later = _worktree(root, "builder-3")
    lock = _only(scan(root, "main", [late, later]).locks)
    assert (lock.holder, lock.holder_name, lock.on_base) == (None, "base", True)
    assert lock.where == (None, "builder-2", "builder-3")


@pytest.mark.parametrize("merge", [("--no-ff",), ("--ff-only",)])
def test_a_merged_lock_belongs_to_the_branch_whose_commit_added_it(
    make_repo: MakeRepo, merge: tuple[str, ...]
) -> None:
    root = make_repo()
    early = _worktree(root, "builder-1")
    _claim(early.path)
    _commit(early.path, "more work after the claim")
    git(root, "merge", "--quiet", *merge, "-m", "merge builder-1", "corral/builder-1")
    late = _worktree(root, "builder-2")
    lock = _only(scan(root, "main", [early, late]).locks)
    assert lock.holder == "builder-1"
    assert set(lock.where) == {None, "builder-1", "builder-2"}
    assert lock.on_base


def test_a_lock_inherited_by_a_branch_of_a_branch_stays_with_its_creator(
    make_repo: MakeRepo,
) -> None:
    root = make_repo()
    parent = _worktree(root, "builder-1")
    _claim(parent.path)
    child = _worktree(root, "builder-2", start="corral/builder-1")
    lock = _only(scan(root, "main", [child, parent]).locks)
    assert (lock.holder, set(lock.where)) == ("builder-1", {"builder-1", "builder-2"})


def test_the_holder_of_a_removed_agent_is_orphaned(make_repo: MakeRepo) -> None:
    root = make_repo()
    gone = _worktree(root, "old-agent")
    _claim(gone.path)
    git(root, "merge", "--quiet", "--no-ff", "-m", "merge", "corral/old-agent")
    git(root, "worktree", "remove", str(gone.path))
    builder = _worktree(root, "builder-2")
    now = time.time()
    report = survey(root, "main", [builder], {"builder-2": ("working", now)}, now)
    (verdict,) = report.verdicts
    assert (verdict.lock.holder, verdict.orphaned, verdict.stale) == ("old-agent", True, True)
    assert verdict.reason == "held by old-agent, which is no longer an agent of the herd"
    assert report.orphaned == (verdict,)
    assert report.stale == ()


def test_a_lock_released_on_base_is_no_lock_in_worktrees_that_still_carry_it(
    make_repo: MakeRepo,
) -> None:
    root = make_repo()
    _claim(root)
    behind = _worktree(root, "builder-2")
    git(root, "rm", "--quiet", LOCK)
    _commit(root, "release")
    assert (behind.path / LOCK).exists()
    assert scan(root, "main", [behind]).locks == ()


def test_a_committed_lock_edited_in_the_base_checkout_is_still_one_lock(
    make_repo: MakeRepo,
) -> None:
    root = make_repo()
    _claim(root)
    _put(root, LOCK, CLAIM.format(t=1770855000) + "status=done\n")
    lock = _only(scan(root, "main", []).locks)
    assert (lock.on_base, lock.status, lock.holder) == (True, "done", None)


def test_base_locks_missing_from_every_checkout_are_read_from_git(make_repo: MakeRepo) -> None:
    root = make_repo()
    _claim(root)
    (root / LOCK).unlink()
    lock = _only(scan(root, "main", []).locks)
    assert (lock.task, lock.agent_id, lock.on_base) == ("Extend join index probes", "opus", True)


def test_completed_tasks_are_counted_never_judged(make_repo: MakeRepo) -> None:
    root = make_repo()
    _put(root, "completed_tasks/a.md", "task=a\n")
    _commit(root, "done a", "completed_tasks/a.md")
    builder = _worktree(root, "builder-1")
    _put(builder.path, "completed_tasks/b.md", "task=b\n")
    found = scan(root, "main", [builder])
    assert (found.locks, found.completed) == ((), 2)


def test_odd_files_are_still_locks_and_placeholders_are_not(make_repo: MakeRepo) -> None:
    root = make_repo()
    builder = _worktree(root, "builder-1")
    folder = builder.path / "current_tasks"
    folder.mkdir()
    shutil.copy(DATA / "garbage.bin", folder / "garbage.bin")
    shutil.copy(DATA / "empty.md", folder / "empty_claim.md")
    shutil.copy(DATA / "claim.lock", folder / "claim.lock")
    (folder / "broken").symlink_to(folder / "nowhere")
    (folder / ".gitkeep").write_text("")
    (folder / "README.md").write_text("One file per claimed task.\n")
    locks = {lock.path: lock for lock in scan(root, "main", [builder]).locks}
    assert sorted(locks) == [
        "current_tasks/broken",
        "current_tasks/claim.lock",
        "current_tasks/empty_claim.md",
        "current_tasks/garbage.bin",
    ]
    assert (locks["current_tasks/broken"].task, locks["current_tasks/broken"].readable) == (
        None,
        False,
    )
    assert locks["current_tasks/garbage.bin"].task == "garbage"
    assert locks["current_tasks/empty_claim.md"].task == "empty claim"
    assert locks["current_tasks/claim.lock"].agent_id == "gemini-2"
    assert {lock.holder for lock in locks.values()} == {"builder-1"}


def test_other_lock_folders_come_from_the_rules(make_repo: MakeRepo) -> None:
    root = make_repo()
    _put(root, "locks/a.lock", "task=a\n")
    _put(root, "current_tasks/b.md", "task=b\n")
    rules = LockRules(dirs=("locks",), done_dirs=("done",))
    assert [lock.path for lock in scan(root, "main", [], rules).locks] == ["locks/a.lock"]


def test_an_unknown_base_is_a_clear_error(make_repo: MakeRepo) -> None:
    root = make_repo()
    with pytest.raises(LockError, match="base branch exists"):
        scan(root, "no-such-branch", [])


def test_git_runs_as_often_for_many_lock_files_as_for_one(
    make_repo: MakeRepo, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = make_repo()
    _claim(root, "current_tasks/base-0.md")
    agents = [_worktree(root, f"builder-{n}") for n in range(3)]
    for n, agent in enumerate(agents):
        _put(agent.path, f"current_tasks/own-{n}-0.md", "task=t\n")
    path, log = counted_git(tmp_path)
    monkeypatch.setenv("PATH", path)

    def calls() -> int:
        log.unlink(missing_ok=True)
        scan(root, "main", agents)
        return len(log.read_text().splitlines())

    few = calls()
    for n, agent in enumerate(agents):
        for k in range(1, 6):
            _put(agent.path, f"current_tasks/own-{n}-{k}.md", "task=t\n")
    for k in range(1, 6):
        _put(root, f"current_tasks/base-{k}.md", f"task={k}\n")
    git(root, "add", "current_tasks")
    _commit(root, "claim five more")
    many = calls()
    assert len(scan(root, "main", agents).locks) == 24
    assert few == many
    assert many <= 6


def test_a_new_process_asks_git_about_locks_again_only_when_a_branch_moved(
    make_repo: MakeRepo, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A script polling `corral ls` surveys locks in a new process each time: the answers the
    last one got from git stand while no branch or reflog moved, and no longer once one did."""
    root = make_repo()
    _claim(root, "current_tasks/base.md")
    agents = [_worktree(root, f"builder-{n}") for n in range(2)]
    _claim(agents[0].path, "current_tasks/own.md")
    _put(agents[1].path, "current_tasks/mine.md", "task=t\n")
    saved = tmp_path / "git_reads.json"
    path, log = counted_git(tmp_path)
    repo = Repo.discover(root)
    monkeypatch.setenv("PATH", path)

    def looked() -> tuple[tuple[Lock, ...], int]:
        log.unlink(missing_ok=True)
        memo = GitMemo(repo, saved)
        locks = scan(root, "main", agents, memo=memo).locks
        memo.save()
        return locks, len(log.read_text().splitlines()) if log.exists() else 0

    first, asked = looked()
    assert asked > 0 and len(first) == 3
    again, asked = looked()
    assert (again, asked) == (first, 0)

    _claim(agents[1].path, "current_tasks/mine.md")
    moved, asked = looked()
    assert asked > 0
    assert moved == scan(root, "main", agents).locks != first


def test_a_long_lived_survey_reads_git_again_only_once_a_branch_moved(
    make_repo: MakeRepo, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A memo kept in memory (the coordinator's) stands while the refs stay put, and no
    longer: the base taking in a lock and another agent committing one are both seen on the
    next scan."""
    root = make_repo()
    memo = GitMemo(Repo.discover(root))
    early = _worktree(root, "builder-1")
    _claim(early.path)
    lock = _only(scan(root, "main", [early], memo=memo).locks)
    assert (lock.holder, lock.on_base) == ("builder-1", False)

    git(root, "merge", "--quiet", "--ff-only", "corral/builder-1")
    lock = _only(scan(root, "main", [early], memo=memo).locks)
    assert (lock.holder, lock.on_base) == ("builder-1", True)

    other = _worktree(root, "builder-2")
    _claim(other.path, "current_tasks/y.md")
    locks = scan(root, "main", [early, other], memo=memo).locks
    assert {(lock.path, lock.holder, lock.on_base) for lock in locks} == {
        (LOCK, "builder-1", True),
        ("current_tasks/y.md", "builder-2", False),
    }

    path, log = counted_git(tmp_path)
    monkeypatch.setenv("PATH", path)
    assert scan(root, "main", [early, other], memo=memo).locks == locks
    assert not log.exists(), "nothing moved: every read was kept"


# -- releasing --------------------------------------------------------------------------------


def _state(root: Path) -> tuple[str, str, str]:
    """Everything git says about a checkout besides its HEAD: staged, unstaged, untracked."""
    return (
        git(root, "diff", "--cached"),
        git(root, "diff"),
        git(root, "status", "--porcelain", "--untracked-files=all"),
    )


def test_releasing_a_base_lock_commits_only_its_deletion(make_repo: MakeRepo) -> None:
    root = make_repo()
    _claim(root)
    _put(root, "current_tasks/other.md", "task=other\n")
    _commit(root, "claim other", "current_tasks/other.md")
    before_head = git(root, "rev-parse", "HEAD").strip()
    _put(root, "README.md", "# project\n\nstaged change\n")
    git(root, "add", "README.md")
    _put(root, "src/app.py", "def main() -> int:\n    return 1  # unstaged\n")
    _put(root, "notes/new.md", "untracked\n")
    _put(root, "current_tasks/other.md", "task=other\nstatus=edited, not staged\n")
    before = _state(root)
    now = time.time() + 2 * 3600
    report = survey(root, "main", [], {}, now)
    done = release(root, "main", [], report.verdicts, LOCK)
    assert done.removed_from == (None,)
    (commit,) = done.commits
    assert git(root, "rev-parse", "HEAD^").strip() == before_head
    assert git(root, "show", "--name-status", "--format=%s", commit).split("\n") == [
        f"corral: release stale lock {LOCK} (held by base, older than 1 h)",
        "",
        f"D\t{LOCK}",
        "",
    ]
    assert _state(root) == before
    assert not (root / LOCK).exists()
    assert "Extend join index probes" in (done.content or "")
    assert [lock.path for lock in scan(root, "main", []).locks] == ["current_tasks/other.md"]


def test_releasing_an_agents_committed_lock_commits_on_its_branch(make_repo: MakeRepo) -> None:
    root = make_repo()
    builder = _worktree(root, "builder-2")
    _claim(builder.path)
    _put(builder.path, "src/app.py", "def main() -> int:\n    return 2\n")
    git(builder.path, "add", "src/app.py")
    _put(builder.path, "README.md", "unstaged in the worktree\n")
    before, root_before = _state(builder.path), _state(root)
    now = time.time()
    states = {"builder-2": ("exited", now - 14 * 60)}
    report = survey(root, "main", [builder], states, now)
    assert report.verdicts[0].reason == "held by builder-2, which exited 14 min ago"
    done = release(root, "main", [builder], report.verdicts, LOCK)
    assert done.removed_from == ("builder-2",)
    subject = git(builder.path, "log", "-1", "--format=%s", "corral/builder-2").strip()
    assert subject == f"corral: release stale lock {LOCK} (held by builder-2, exited)"
    assert git(root, "show", "--name-only", "--format=", done.commits[0]).split() == [LOCK]
    assert _state(builder.path) == before
    assert _state(root) == root_before


def test_releasing_an_untracked_lock_just_removes_it_and_returns_its_text(
    make_repo: MakeRepo,
) -> None:
    root = make_repo()
    builder = _worktree(root, "builder-2")
    text = CLAIM.format(t=1770855000)
    _put(builder.path, LOCK, text)
    head = git(builder.path, "rev-parse", "HEAD")
    now = time.time()
    report = survey(root, "main", [builder], {"builder-2": ("shelved", now)}, now)
    done = release(root, "main", [builder], report.verdicts, LOCK)
    assert (done.commits, done.content, done.removed_from) == ((), text, ("builder-2",))
    assert not (builder.path / LOCK).exists()
    assert git(builder.path, "rev-parse", "HEAD") == head


def test_release_refuses_unknown_paths_and_fresh_locks_unless_forced(
    make_repo: MakeRepo,
) -> None:
    root = make_repo()
    builder = _worktree(root, "builder-2")
    _put(builder.path, LOCK, CLAIM.format(t=int(time.time())))
    now = time.time()
    report = survey(root, "main", [builder], {"builder-2": ("working", now)}, now)
    with pytest.raises(LockError, match="not a known lock"):
        release(root, "main", [builder], report.verdicts, "current_tasks/other.md")
    with pytest.raises(LockError, match=r"is not stale \(held by builder-2 \(working\)"):
        release(root, "main", [builder], report.verdicts, LOCK)
    assert (builder.path / LOCK).exists()
    done = release(root, "main", [builder], report.verdicts, LOCK, force=True)
    assert done.removed_from == ("builder-2",)
    assert not (builder.path / LOCK).exists()


def test_a_base_lock_is_not_released_from_a_checkout_on_another_branch(
    make_repo: MakeRepo,
) -> None:
    root = make_repo()
    _claim(root)
    git(root, "switch", "--quiet", "-c", "elsewhere")
    head = git(root, "rev-parse", "HEAD")
    report = survey(root, "main", [], {}, time.time() + 7200)
    with pytest.raises(LockError, match="switch it to main"):
        release(root, "main", [], report.verdicts, LOCK)
    assert (root / LOCK).exists()
    assert git(root, "rev-parse", "HEAD") == head


# -- coordination tax -------------------------------------------------------------------------


def test_coordination_tax_counts_lock_only_commits_once_each(make_repo: MakeRepo) -> None:
    root = make_repo()
    now = time.time() + 10 * 86400
    old, recent = now - 5 * 3600, now - 600
    _claim(root, "current_tasks/a.md", when=old)
    _put(root, "src/a.py", "a = 1\n")
    _put(root, "current_tasks/a.md", "task=a\nstatus=working\n")
    _commit(root, "work and lock together", "src/a.py", "current_tasks/a.md", when=old)
    builder = _worktree(root, "b")
    _claim(builder.path, "current_tasks/b.md", when=recent)
    _put(builder.path, "src/b.py", "b = 1\n")
    _commit(builder.path, "work", "src/b.py", when=recent)
    (builder.path / "completed_tasks").mkdir()
    git(builder.path, "mv", "current_tasks/b.md", "completed_tasks/b.md")
    _commit(builder.path, "finish b", when=recent)
    _commit(builder.path, "empty", when=recent)
    git(root, "merge", "--quiet", "--no-ff", "-m", "merge b", "corral/b", when=recent)
    tax = coordination_tax(root, "main", now)
    assert (tax.commits, tax.lock_commits) == (8, 3)
    assert (tax.recent_commits, tax.recent_lock_commits) == (5, 2)
    assert tax.share == pytest.approx(3 / 8)
    assert tax.to_json()["last_hour"] == {"commits": 5, "lock_commits": 2, "share": 0.4}


def test_coordination_tax_reads_unmerged_agent_branches_too(make_repo: MakeRepo) -> None:
    root = make_repo()
    builder = _worktree(root, "b")
    _claim(builder.path, when=time.time())
    tax = coordination_tax(root, "main", time.time())
    assert (tax.commits, tax.lock_commits, tax.recent_lock_commits) == (2, 1, 1)
