"""Agents' worktrees and branches on real repositories: reuse, repair, snapshots, removal.

The promise under test is that no commit and no uncommitted change is ever lost, and that the
recovery commands corral prints really bring the work back.
"""

from __future__ import annotations

import io
import os
import re
import shlex
import shutil
import subprocess
import tarfile
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sessions.adapters.repo import Repo
from sessions.adapters.repo import git as run_git
from sessions.core.errors import AgentError
from sessions.services.worktrees import Worktrees
from tests.helpers import git

BRANCH = "corral/a"
IGNORED = {"ignored.log": b"log line\n", "build/out.o": b"\x7fELF\x00"}


pytestmark = pytest.mark.usefixtures("own_git_settings")


def new_repo(folder: Path) -> Repo:
    root = folder / "project"
    root.mkdir(parents=True)
    git(root, "init", "-q", "-b", "main")
    (root / "README.md").write_text("# project\n")
    (root / ".gitignore").write_text("*.log\nbuild/\n")
    git(root, "add", "-A")
    git(root, "commit", "-q", "-m", "initial")
    return Repo.discover(root)


@pytest.fixture
def repo(tmp_path: Path) -> Repo:
    return new_repo(tmp_path)


def agent_path(repo: Repo, name: str = "a") -> Path:
    return Worktrees(repo).path_for(name, "../{repo}.corral")


def commit(folder: Path, files: dict[str, bytes], message: str = "work") -> str:
    write(folder, files)
    git(folder, "add", "--", *files)
    git(folder, "commit", "-q", "-m", message)
    return head(folder)


def write(folder: Path, files: dict[str, bytes]) -> None:
    for name, data in files.items():
        target = folder / name
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(data)


def head(folder: Path, rev: str = "HEAD") -> str:
    return git(folder, "rev-parse", rev).strip()


def status(folder: Path) -> str:
    """Status without optional locks, so asking does not refresh the index being compared."""
    env = {**os.environ, "GIT_OPTIONAL_LOCKS": "0"}
    return subprocess.run(
        ["git", "status", "--porcelain=v1", "-z", "--untracked-files=all"],
        cwd=folder, env=env, check=True, capture_output=True, text=True,
    ).stdout  # fmt: skip


def files_of(folder: Path, ignored: bool = True) -> dict[str, bytes]:
    found: dict[str, bytes] = {}
    for path in folder.rglob("*"):
        name = path.relative_to(folder).as_posix()
        if name == ".git" or not path.is_file():
            continue
        if not ignored and (name.endswith(".log") or name.startswith("build/")):
            continue
        found[name] = path.read_bytes()
    return found


def tree_files(repo: Repo, rev: str, scratch: Path) -> dict[str, bytes]:
    """The files of a commit's tree, checked out into an empty scratch folder."""
    archive = subprocess.run(
        ["git", "archive", "--format=tar", rev], cwd=repo.root, check=True, capture_output=True
    ).stdout
    scratch.mkdir(parents=True)
    with tarfile.open(fileobj=io.BytesIO(archive)) as tar:
        tar.extractall(scratch, filter="data")
    return files_of(scratch)


def staged_entries(folder: Path) -> set[tuple[str, str, str]]:
    out = git(folder, "ls-files", "-s", "-z")
    entries = set()
    for item in filter(None, out.split("\0")):
        meta, path = item.split("\t", 1)
        mode, sha, _stage = meta.split()
        entries.add((mode, sha, path))
    return entries


def tree_entries(repo: Repo, rev: str) -> set[tuple[str, str, str]]:
    out = git(repo.root, "ls-tree", "-r", "-z", rev)
    entries = set()
    for item in filter(None, out.split("\0")):
        meta, path = item.split("\t", 1)
        mode, _kind, sha = meta.split()
        entries.add((mode, sha, path))
    return entries


def reachable(repo: Repo, commit_id: str) -> bool:
    return bool(git(repo.root, "for-each-ref", "--contains", commit_id).strip())


def recover(removal_recovery: tuple[tuple[str, ...], ...]) -> None:
    for command in removal_recovery:
        subprocess.run(list(command), check=True, capture_output=True)


# -- path_for and list ------------------------------------------------------------------------


def test_path_for_resolves_templates_against_the_repository(repo: Repo) -> None:
    worktrees = Worktrees(repo)
    sibling = repo.root.parent / f"{repo.root.name}.corral" / "a"
    assert worktrees.path_for("a", "../{repo}.corral") == sibling
    assert worktrees.path_for("a", ".trees") == repo.root / ".trees" / "a"
    assert worktrees.path_for("a", "/srv/{repo}") == Path("/srv/project/a")


def test_list_reports_branches_and_folders_deleted_by_hand(repo: Repo) -> None:
    worktrees = Worktrees(repo)
    path = agent_path(repo)
    worktrees.ensure("a", BRANCH, "main", path)
    entries = worktrees.list()
    assert [(e.path, e.branch, e.prunable) for e in entries] == [
        (repo.root, "main", False),
        (path, BRANCH, False),
    ]
    assert entries[1].head == head(repo.root)
    shutil.rmtree(path)
    assert worktrees.list()[1].prunable


# -- ensure -----------------------------------------------------------------------------------


def test_ensure_creates_branch_and_worktree_from_base(repo: Repo) -> None:
    path = agent_path(repo)
    ensured = Worktrees(repo).ensure("a", BRANCH, "main", path)
    assert (ensured.created_worktree, ensured.created_branch, ensured.note) == (True, True, None)
    assert ensured.path == path
    assert head(path) == head(repo.root)
    assert git(path, "symbolic-ref", "--short", "HEAD").strip() == BRANCH
    assert f"branch.{BRANCH}." not in git(repo.root, "config", "--list")


def test_ensure_again_reuses_the_worktree_with_its_uncommitted_work(repo: Repo) -> None:
    worktrees = Worktrees(repo)
    path = agent_path(repo)
    worktrees.ensure("a", BRANCH, "main", path)
    tip = commit(path, {"one.txt": b"1\n"})
    write(path, {"one.txt": b"changed\n", "new.txt": b"new\n"})
    git(path, "add", "new.txt")
    before = (files_of(path), status(path))
    again = worktrees.ensure("a", BRANCH, "main", path)
    assert (again.created_worktree, again.created_branch, again.note) == (False, False, None)
    assert head(path) == tip
    assert (files_of(path), status(path)) == before


def test_existing_branch_ahead_of_base_is_reused_not_reset(repo: Repo) -> None:
    worktrees = Worktrees(repo)
    path = agent_path(repo)
    worktrees.ensure("a", BRANCH, "main", path)
    tip = commit(path, {"agent.txt": b"agent work\n"})
    git(repo.root, "worktree", "remove", str(path))
    commit(repo.root, {"main.txt": b"moved on\n"})
    ensured = worktrees.ensure("a", BRANCH, "main", path)
    assert (ensured.created_worktree, ensured.created_branch) == (True, False)
    assert head(path) == tip
    assert (path / "agent.txt").read_bytes() == b"agent work\n"
    assert not (path / "main.txt").exists()


def test_folder_deleted_by_hand_is_recreated_from_its_branch(repo: Repo) -> None:
    worktrees = Worktrees(repo)
    path = agent_path(repo)
    worktrees.ensure("a", BRANCH, "main", path)
    tip = commit(path, {"agent.txt": b"keep me\n"})
    shutil.rmtree(path)
    ensured = worktrees.ensure("a", BRANCH, "main", path)
    assert (ensured.created_worktree, ensured.created_branch) == (True, False)
    assert ensured.note is not None
    assert "deleted by hand" in ensured.note
    assert BRANCH in ensured.note
    assert head(path) == tip
    assert (path / "agent.txt").read_bytes() == b"keep me\n"


def test_branch_whose_old_folder_is_gone_moves_to_the_new_path(repo: Repo) -> None:
    worktrees = Worktrees(repo)
    old = worktrees.path_for("a", "old-trees")
    worktrees.ensure("a", BRANCH, "main", old)
    tip = commit(old, {"agent.txt": b"x\n"})
    shutil.rmtree(old)
    new = agent_path(repo)
    ensured = worktrees.ensure("a", BRANCH, "main", new)
    assert ensured.note is not None
    assert str(old) in ensured.note
    assert head(new) == tip
    assert [e.path for e in worktrees.list()] == [repo.root, new]


def test_foreign_folder_at_the_path_raises_and_is_left_alone(repo: Repo) -> None:
    path = agent_path(repo)
    write(path, {"mine.txt": b"not corral's\n"})
    with pytest.raises(AgentError, match="already exists and is not the worktree of corral/a"):
        Worktrees(repo).ensure("a", BRANCH, "main", path)
    assert files_of(path) == {"mine.txt": b"not corral's\n"}
    assert git(repo.root, "branch", "--list", BRANCH) == ""


def test_worktree_of_another_branch_at_the_path_raises(repo: Repo) -> None:
    path = agent_path(repo)
    git(repo.root, "worktree", "add", "-q", "-b", "feature", str(path), "main")
    with pytest.raises(AgentError, match="worktree of branch feature, not of corral/a"):
        Worktrees(repo).ensure("a", BRANCH, "main", path)


def test_a_locked_worktree_of_another_branch_at_the_path_gets_a_fix_that_works(
    repo: Repo,
) -> None:
    path = agent_path(repo)
    git(repo.root, "worktree", "add", "-q", "-b", "other", str(path))
    git(repo.root, "worktree", "lock", "--reason", "on a stick", str(path))
    shutil.rmtree(path)
    with pytest.raises(AgentError) as caught:
        Worktrees(repo).ensure("a", BRANCH, "main", path)
    commands = re.findall(r"`(git worktree [^`]+)`", str(caught.value))
    assert commands == [f"git worktree unlock {path}", "git worktree prune"]
    for command in commands:
        subprocess.run(shlex.split(command), cwd=repo.root, check=True)
    assert Worktrees(repo).ensure("a", BRANCH, "main", path).created_worktree


def test_branch_checked_out_elsewhere_raises(repo: Repo) -> None:
    worktrees = Worktrees(repo)
    worktrees.ensure("a", BRANCH, "main", agent_path(repo))
    with pytest.raises(AgentError, match="already checked out in"):
        worktrees.ensure("a", BRANCH, "main", agent_path(repo, "elsewhere"))
    git(repo.root, "branch", "corral/b")
    git(repo.root, "switch", "-q", "corral/b")
    with pytest.raises(AgentError, match="checked out in the main checkout"):
        worktrees.ensure("b", "corral/b", "main", agent_path(repo, "b"))


def test_missing_base_raises_and_names_it(repo: Repo) -> None:
    with pytest.raises(AgentError, match=r"'develop'.*base = \"main\".*corral\.toml"):
        Worktrees(repo).ensure("a", BRANCH, "develop", agent_path(repo))
    assert git(repo.root, "branch", "--list", BRANCH) == ""
    assert not agent_path(repo).exists()


def test_bad_branch_name_raises(repo: Repo) -> None:
    with pytest.raises(AgentError, match="not a valid name"):
        Worktrees(repo).ensure("a", "corral/a..b", "main", agent_path(repo))


# -- snapshot ---------------------------------------------------------------------------------


def test_snapshot_of_a_clean_worktree_is_none(repo: Repo) -> None:
    worktrees = Worktrees(repo)
    path = agent_path(repo)
    worktrees.ensure("a", BRANCH, "main", path)
    write(path, IGNORED)
    assert worktrees.snapshot(path, "refs/corral/test", "nothing") is None
    assert git(repo.root, "for-each-ref", "refs/corral") == ""


def test_snapshot_into_an_existing_ref_keeps_the_earlier_one(repo: Repo, tmp_path: Path) -> None:
    worktrees = Worktrees(repo)
    path = agent_path(repo)
    worktrees.ensure("a", BRANCH, "main", path)
    write(path, {"first.txt": b"1\n"})
    first = worktrees.snapshot(path, "refs/corral/shelf/a", "first")
    write(path, {"second.txt": b"2\n"})
    second = worktrees.snapshot(path, "refs/corral/shelf/a", "second")
    assert first is not None and second is not None
    assert head(repo.root, "refs/corral/shelf/a") == second.commit
    assert head(repo.root, f"{second.commit}^2^2") == first.commit
    assert first.commit[:7] in git(repo.root, "log", "-1", "--format=%B", second.commit)
    # The chained commit still applies like a stash.
    shutil.rmtree(path)
    git(repo.root, "worktree", "prune")
    git(repo.root, "worktree", "add", "-q", str(path), BRANCH)
    git(path, "stash", "apply", "--index", "refs/corral/shelf/a")
    assert files_of(path) == tree_files(repo, second.commit, tmp_path / "scratch")


def test_snapshot_without_a_git_identity_still_saves(repo: Repo) -> None:
    worktrees = Worktrees(repo)
    path = agent_path(repo)
    worktrees.ensure("a", BRANCH, "main", path)
    git(repo.root, "config", "user.useConfigOnly", "true")
    write(path, {"work.txt": b"w\n"})
    saved = worktrees.snapshot(path, "refs/corral/test", "no identity")
    assert saved is not None
    assert git(repo.root, "log", "-1", "--format=%an", saved.commit).strip() == "corral"


def test_snapshot_records_conflicted_files_as_they_are(repo: Repo) -> None:
    worktrees = Worktrees(repo)
    path = agent_path(repo)
    worktrees.ensure("a", BRANCH, "main", path)
    commit(path, {"same.txt": b"agent\n"})
    commit(repo.root, {"same.txt": b"main\n"})
    with pytest.raises(subprocess.CalledProcessError):
        git(path, "merge", "-q", "main")
    index = index_file(path)
    index_before = index.read_bytes()
    saved = worktrees.snapshot(path, "refs/corral/test", "mid-merge")
    assert saved is not None
    in_index = git(repo.root, "show", f"{saved.commit}^2:same.txt")
    assert in_index == (path / "same.txt").read_text()
    assert "<<<<<<<" in in_index
    assert index.read_bytes() == index_before
    assert git(path, "ls-files", "-u", "--", "same.txt")  # still mid-merge


def test_snapshot_refuses_a_plain_folder(repo: Repo) -> None:
    folder = repo.root / "src"
    folder.mkdir()
    with pytest.raises(AgentError, match="not the top folder of a git worktree"):
        Worktrees(repo).snapshot(folder, "refs/corral/test", "x")


# -- remove -----------------------------------------------------------------------------------


def test_remove_of_a_merged_branch_deletes_it(repo: Repo) -> None:
    worktrees = Worktrees(repo)
    path = agent_path(repo)
    worktrees.ensure("a", BRANCH, "main", path)
    tip = commit(path, {"done.txt": b"done\n"})
    git(repo.root, "merge", "-q", "--ff-only", BRANCH)
    removal = worktrees.remove(path, "a", BRANCH, "main")
    assert (removal.branch_kept, removal.snapshot) == (False, None)
    assert not path.exists()
    assert git(repo.root, "branch", "--list", BRANCH) == ""
    assert "deleted" in removal.message and tip in removal.message
    recover(removal.recovery)
    assert head(path) == tip
    assert git(path, "symbolic-ref", "--short", "HEAD").strip() == BRANCH


def test_remove_of_an_unmerged_branch_keeps_it_and_its_work(repo: Repo) -> None:
    worktrees = Worktrees(repo)
    path = agent_path(repo)
    worktrees.ensure("a", BRANCH, "main", path)
    tip = commit(path, {"wip.txt": b"committed\n", "gone.txt": b"x\n"})
    write(path, {"wip.txt": b"uncommitted\n", "new dir/new file": b"\x00\x01"})
    (path / "gone.txt").unlink()
    git(path, "add", "new dir/new file")
    before = (files_of(path, ignored=False), status(path))
    removal = worktrees.remove(path, "a", BRANCH, "main")
    assert removal.branch_kept
    assert head(repo.root, BRANCH) == tip
    assert removal.snapshot is not None
    assert re.fullmatch(r"refs/corral/trash/a/\d{8}T\d{6}Z", removal.snapshot.ref)
    assert removal.snapshot.files == 3
    assert "1 commit is not in main" in removal.message
    # Run the commands as the user reads them in the message.
    shown = removal.message.split("To get it back:\n", 1)[1].splitlines()
    commands = tuple(tuple(shlex.split(line)) for line in shown)
    assert commands == removal.recovery
    recover(commands)
    assert (files_of(path, ignored=False), status(path)) == before


def test_remove_keeps_the_branch_when_the_base_is_gone(repo: Repo) -> None:
    worktrees = Worktrees(repo)
    path = agent_path(repo)
    worktrees.ensure("a", BRANCH, "main", path)
    removal = worktrees.remove(path, "a", BRANCH, "develop")
    assert removal.branch_kept
    assert "develop was not found" in removal.message
    assert head(repo.root, BRANCH) == head(repo.root)


def test_remove_keeps_a_detached_head_that_no_branch_holds(repo: Repo) -> None:
    worktrees = Worktrees(repo)
    path = agent_path(repo)
    worktrees.ensure("a", BRANCH, "main", path)
    git(path, "switch", "-q", "--detach")
    lone = commit(path, {"lone.txt": b"only here\n"})
    removal = worktrees.remove(path, "a", BRANCH, "main")
    assert removal.head_ref is not None
    assert head(repo.root, removal.head_ref) == lone
    assert not removal.branch_kept  # corral/a itself had nothing beyond main
    recover(removal.recovery)
    assert head(path) == lone


def test_repeated_removals_keep_every_snapshot(repo: Repo) -> None:
    worktrees = Worktrees(repo)
    refs: list[str] = []
    for _ in range(2):
        path = agent_path(repo)
        worktrees.ensure("a", BRANCH, "main", path)
        write(path, {"w.txt": str(len(refs)).encode()})
        removal = worktrees.remove(path, "a", BRANCH, "main")
        assert removal.snapshot is not None
        refs.append(removal.snapshot.ref)
    listed = git(repo.root, "for-each-ref", "--format=%(refname)", "refs/corral/trash/a/")
    assert set(listed.split()) == set(refs)


def test_remove_of_a_folder_deleted_by_hand_forgets_it(repo: Repo) -> None:
    worktrees = Worktrees(repo)
    path = agent_path(repo)
    worktrees.ensure("a", BRANCH, "main", path)
    tip = commit(path, {"kept.txt": b"k\n"})
    shutil.rmtree(path)
    removal = worktrees.remove(path, "a", BRANCH, "main")
    assert "already gone" in removal.message
    assert removal.branch_kept and head(repo.root, BRANCH) == tip
    assert [e.path for e in worktrees.list()] == [repo.root]


def test_remove_refuses_the_main_checkout_and_foreign_folders(repo: Repo) -> None:
    worktrees = Worktrees(repo)
    with pytest.raises(AgentError, match="main checkout"):
        worktrees.remove(repo.root, "a", BRANCH, "main")
    foreign = agent_path(repo)
    write(foreign, {"mine.txt": b"m"})
    with pytest.raises(AgentError, match="leaves it alone"):
        worktrees.remove(foreign, "a", BRANCH, "main")
    assert (foreign / "mine.txt").exists()


def test_is_merged_of_a_missing_branch_raises(repo: Repo) -> None:
    with pytest.raises(AgentError, match="does not exist"):
        Worktrees(repo).is_merged("corral/nope", "main")


# -- properties: random worktree states ---------------------------------------------------------

POOL = (
    "a.txt",
    "with space.txt",
    "dir/b.bin",
    "dir/sub dir/c",
    "deep/er/still/d.txt",
    "e",
    "-dash",
    "ünï cödé.txt",
    "x/y/z/empty",
    'quote"d.txt',
    "tab\there.txt",
)
TRACKED_OPS = (
    "keep",
    "modify",
    "delete",
    "stage",
    "stage_then_modify",
    "stage_then_delete",
    "stage_delete",
    "untrack",
)
NEW_OPS = ("untracked", "stage", "stage_then_modify", "stage_then_delete")
contents = st.binary(max_size=40)


@dataclass
class State:
    committed: dict[str, bytes]
    tracked: dict[str, tuple[str, bytes, bytes]]
    new: dict[str, tuple[str, bytes, bytes]] = field(default_factory=dict)


@st.composite
def states(draw: st.DrawFn) -> State:
    names = draw(st.lists(st.sampled_from(POOL), unique=True, max_size=6))
    committed = {name: draw(contents) for name in names}
    tracked = {
        name: (draw(st.sampled_from(TRACKED_OPS)), draw(contents), draw(contents))
        for name in [*names, "README.md"]
    }
    rest = [name for name in POOL if name not in committed]
    fresh = draw(st.lists(st.sampled_from(rest), unique=True, max_size=4)) if rest else []
    new = {name: (draw(st.sampled_from(NEW_OPS)), draw(contents), draw(contents)) for name in fresh}
    return State(committed, tracked, new)


def build(state: State, path: Path) -> None:
    """Commit, stage and edit as an agent would, in three phases to keep git calls few."""
    if state.committed:
        commit(path, state.committed, "agent commit")
    changes = {**state.tracked, **state.new}
    staged = [
        n for n, (op, _, _) in changes.items() if op.startswith("stage") and op != "stage_delete"
    ]
    write(path, {name: changes[name][1] for name in staged})
    if staged:
        git(path, "add", "--", *staged)
    unstaged = [n for n, (op, _, _) in changes.items() if op in ("stage_delete", "untrack")]
    if unstaged:
        git(path, "rm", "-q", "--cached", "--", *unstaged)
    for name, (op, first, second) in changes.items():
        target = path / name
        if op in ("delete", "stage_then_delete", "stage_delete"):
            target.unlink()
        elif op in ("modify", "untracked"):
            write(path, {name: first})
        elif op == "stage_then_modify":
            write(path, {name: second})
    write(path, IGNORED)


@contextmanager
def example_repo() -> Iterator[Repo]:
    """A fresh repository per generated example; a fixture would be shared between them."""
    with tempfile.TemporaryDirectory(prefix="corral-worktrees-") as folder:
        yield new_repo(Path(folder))


def index_file(path: Path) -> Path:
    found = git(path, "rev-parse", "--path-format=absolute", "--git-path", "index")
    return Path(found.strip())


@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(state=states())
def test_snapshot_saves_every_change_and_touches_nothing(state: State) -> None:
    with example_repo() as repo:
        worktrees = Worktrees(repo)
        path = agent_path(repo)
        worktrees.ensure("a", BRANCH, "main", path)
        build(state, path)
        tip = head(path)
        index = index_file(path)
        before = (index.read_bytes(), files_of(path), status(path))
        saved = worktrees.snapshot(path, "refs/corral/test/a", "property")
        assert (index.read_bytes(), files_of(path), status(path)) == before
        assert head(repo.root, BRANCH) == tip and reachable(repo, tip)
        if saved is None:
            assert before[2] == ""
            return
        assert head(repo.root, f"{saved.commit}^1") == tip
        scratch = repo.root.parent / "scratch"
        assert tree_files(repo, saved.commit, scratch) == files_of(path, ignored=False)
        assert tree_entries(repo, f"{saved.commit}^2") == staged_entries(path)


@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(state=states())
def test_remove_loses_nothing_and_its_recovery_restores_all(state: State) -> None:
    with example_repo() as repo:
        worktrees = Worktrees(repo)
        path = agent_path(repo)
        worktrees.ensure("a", BRANCH, "main", path)
        build(state, path)
        tip = head(path)
        expected = (files_of(path, ignored=False), status(path))
        removal = worktrees.remove(path, "a", BRANCH, "main")
        assert not path.exists()
        assert reachable(repo, tip)
        assert removal.branch_kept == bool(state.committed)
        if removal.snapshot is None:
            assert expected[1] == ""
        else:
            scratch = repo.root.parent / "scratch"
            assert tree_files(repo, removal.snapshot.commit, scratch) == expected[0]
        recover(removal.recovery)
        assert head(path) == tip
        assert (files_of(path, ignored=False), status(path)) == expected


def test_a_worktree_another_add_is_halfway_through_does_not_stop_ours(
    repo: Repo, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """While `git worktree add` creates a worktree, its `commondir` is briefly empty, and
    another worktree command at that moment fails reading it. Here a real git runs behind a
    wrapper that finishes the other worktree's registration right after the first failure, as
    the other add would."""
    ghost = repo.common_dir / "worktrees" / "ghost"
    ghost.mkdir(parents=True)
    (ghost / "gitdir").write_text(str(tmp_path / "ghost" / ".git") + "\n")
    (ghost / "HEAD").write_text("ref: refs/heads/main\n")
    (ghost / "commondir").write_text("")
    real = shutil.which("git")
    assert real is not None
    commondir = shlex.quote(str(ghost / "commondir"))
    wrapper = tmp_path / "bin" / "git"
    wrapper.parent.mkdir()
    wrapper.write_text(
        "#!/bin/sh\n"
        f'{shlex.quote(real)} "$@"; status=$?\n'
        f'if [ "$1" = worktree ] && [ $status != 0 ]; then echo ../.. > {commondir}; fi\n'
        "exit $status\n"
    )
    wrapper.chmod(0o755)
    monkeypatch.setenv("PATH", f"{wrapper.parent}{os.pathsep}{os.environ['PATH']}")
    path = agent_path(repo)
    ensured = Worktrees(repo).ensure("a", BRANCH, "main", path)
    assert ensured.created_worktree and (path / "README.md").exists()
    assert git(path, "branch", "--show-current").strip() == BRANCH


def test_a_new_branch_left_by_a_failed_add_does_not_stop_the_retry(
    repo: Repo, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`git worktree add -b` runs `git branch` first and reads the other worktrees after, so a
    half-made one met at that moment leaves the new branch behind. The wrapper plays that order
    once: it makes the branch, then fails with git's message, as the real race did in a demo."""
    real = shutil.which("git")
    assert real is not None
    once = tmp_path / "failed-once"
    wrapper = tmp_path / "bin" / "git"
    wrapper.parent.mkdir()
    wrapper.write_text(
        "#!/bin/sh\n"
        f'if [ "$1 $2 $4" = "worktree add -b" ] && [ ! -e {once} ]; then\n'
        f'  touch {once}; {shlex.quote(real)} branch "$5" "$7" || exit 1\n'
        '  echo "fatal: failed to read .git/worktrees/other/commondir: Success" >&2; exit 128\n'
        "fi\n"
        f'exec {shlex.quote(real)} "$@"\n'
    )
    wrapper.chmod(0o755)
    monkeypatch.setenv("PATH", f"{wrapper.parent}{os.pathsep}{os.environ['PATH']}")
    path = agent_path(repo)
    ensured = Worktrees(repo).ensure("a", BRANCH, "main", path)
    assert ensured.created_worktree and ensured.created_branch
    assert git(path, "branch", "--show-current").strip() == BRANCH
    assert git(path, "rev-parse", "HEAD") == git(repo.root, "rev-parse", "main")


def test_a_worktree_that_stays_half_made_is_named_in_one_sentence(
    repo: Repo, tmp_path: Path
) -> None:
    ghost = repo.common_dir / "worktrees" / "ghost"
    ghost.mkdir(parents=True)
    (ghost / "gitdir").write_text(str(tmp_path / "ghost" / ".git") + "\n")
    (ghost / "commondir").write_text("")
    with pytest.raises(AgentError) as caught:
        Worktrees(repo).ensure("a", BRANCH, "main", agent_path(repo))
    message = str(caught.value)
    assert "worktrees/ghost/commondir" in message and "\n" not in message


def test_the_current_branch_is_read_the_same_as_git_says_it(repo: Repo) -> None:
    assert repo.current_branch() == "main"
    git(repo.root, "switch", "-q", "-c", "feature/x")
    assert repo.current_branch() == "feature/x"
    git(repo.root, "switch", "-q", "--detach")
    assert repo.current_branch() is None


def test_a_worktree_s_checked_out_branch_is_read_the_same_as_git_says_it(repo: Repo) -> None:
    path = agent_path(repo)
    Worktrees(repo).ensure("a", BRANCH, "main", path)

    def says(folder: Path) -> str | None:
        out = run_git(folder, "symbolic-ref", "--quiet", "--short", "HEAD", check=False)
        return out.stdout.strip() or None

    for folder in (path, repo.root):
        assert repo.checked_out(folder) == says(folder) is not None
    git(path, "switch", "-q", "-c", "corral/other")
    assert repo.checked_out(path) == says(path) == "corral/other"
    git(path, "switch", "-q", "--detach")
    assert repo.checked_out(path) is None
    assert repo.checked_out(repo.root / "not-a-worktree") is None


def test_the_refs_mark_moves_whenever_a_tip_git_reports_moves(repo: Repo) -> None:
    """The mark stands in for a `for-each-ref` per look, so every change git would report
    must change it: a new branch, a commit, an amend, a reset, a delete, a pack."""
    refs = ("refs/heads/corral", "refs/heads/main")

    def tips() -> str:
        return git(repo.root, "for-each-ref", "--format=%(refname) %(objectname)", *refs)

    path = agent_path(repo)
    steps: list[Callable[[], object]] = [
        lambda: Worktrees(repo).ensure("a", BRANCH, "main", path),
        lambda: commit(path, {"a.txt": b"one\n"}),
        lambda: git(path, "commit", "-q", "--amend", "-m", "amended"),
        lambda: git(repo.root, "branch", "corral/b"),
        lambda: git(repo.root, "pack-refs", "--all"),
        lambda: commit(path, {"a.txt": b"two\n"}),
        lambda: git(path, "reset", "-q", "--hard", "HEAD~1"),
        lambda: git(repo.root, "branch", "-D", "corral/b"),
        lambda: commit(repo.root, {"base.txt": b"base\n"}),
        lambda: git(repo.root, "pack-refs", "--all"),
    ]
    seen, mark = tips(), repo.refs_mark(*refs)
    assert mark is not None
    for number, step in enumerate(steps):
        step()
        now_seen, now_mark = tips(), repo.refs_mark(*refs)
        if now_seen != seen:
            assert now_mark != mark, f"step {number} moved a tip but not the mark"
        seen, mark = now_seen, now_mark
    assert repo.refs_mark(*refs) == mark  # and it holds still while nothing moves


# -- worktrees a killed start left half-made ---------------------------------------------------


class Killed(BaseException):
    """Stands for a SIGKILL: nothing after it in corral runs, no cleanup included."""


BASE_FILES = {f"dir{n % 3}/file{n:02d}.txt": f"line {n}\n".encode() * 40 for n in range(30)}
WHOLE = {**BASE_FILES, "README.md": b"# project\n", ".gitignore": b"*.log\nbuild/\n"}


def with_base_files(repo: Repo) -> None:
    commit(repo.root, BASE_FILES, "thirty files")


def admin_of(repo: Repo, name: str = "a") -> Path:
    return repo.common_dir / "worktrees" / name


def break_off(
    repo: Repo,
    path: Path,
    kept: int = 10,
    head: str = "branch",
    torn: bool = False,
    branch_lock: bool = False,
    early: bool = False,
) -> None:
    """Leave `path` as `git worktree add` leaves it when killed during its checkout: still
    locked "initializing", no index, only the first `kept` files, the one after them cut short
    in mid-write and the next one opened but never written. `head` "null" is a kill before
    HEAD named the branch; `torn` one before the registration was whole (its commondir empty),
    which every git worktree command trips on; `branch_lock` one as the checkout set the
    branch, whose lock file stays; `early` one as git had just made the folder's `.git` file,
    still empty, and written nothing else."""
    admin = admin_of(repo)
    (admin / "locked").write_text("initializing\n")
    (admin / "index").unlink()
    names = sorted(BASE_FILES)
    for number, name in enumerate(names):
        if number == kept:
            (path / name).write_bytes(BASE_FILES[name][:37])
        elif number == kept + 1:
            (path / name).write_bytes(b"")
        elif number > kept:
            (path / name).unlink()
    for extra in ("README.md", ".gitignore"):
        (path / extra).unlink()
    if head == "null":
        (admin / "HEAD").write_text("0" * 40 + "\n")
    if torn:
        (admin / "HEAD").write_text("")
        (admin / "commondir").write_text("")
    if branch_lock:
        (repo.common_dir / "refs" / "heads" / f"{BRANCH}.lock").write_text(head_of_main(repo))
    if early:
        shutil.rmtree(path)
        path.mkdir()
        (path / ".git").write_bytes(b"")
        shutil.rmtree(admin / "logs")
        (admin / "HEAD").unlink()
        (admin / "commondir").unlink()


def head_of_main(repo: Repo) -> str:
    return git(repo.root, "rev-parse", "main")


def killed_during_checkout(repo: Repo, monkeypatch: pytest.MonkeyPatch, **how: object) -> Path:
    """Run `ensure` until git has registered the worktree and begun its checkout, then stop it
    dead there: corral's own note of the worktree being made stays, as it would."""
    import sessions.services.worktrees as module
    from sessions.adapters.worktree_git import run as real

    def run(cwd: Path, *args: str, **kwargs: object) -> str:
        out = real(cwd, *args, **kwargs)  # type: ignore[arg-type]
        if args[:2] == ("worktree", "add"):
            break_off(repo, Path(args[-2]), **how)  # type: ignore[arg-type]
            raise Killed
        return out

    path = agent_path(repo)
    with monkeypatch.context() as patch:
        patch.setattr(module, "run", run)
        with pytest.raises(Killed):
            Worktrees(repo).ensure("a", BRANCH, "main", path)
    return path


def fix_from(message: str) -> list[str]:
    """The `mv ...` command a refusal gives, as the user would copy it."""
    found = re.search(r"`(mv [^`]+)`", message)
    assert found, message
    return shlex.split(found.group(1))


@pytest.mark.parametrize(
    "how",
    [{}, {"head": "null"}, {"torn": True}, {"kept": 0}, {"branch_lock": True}, {"early": True}],
    ids=[
        "on-branch",
        "head-not-written",
        "registration-torn",
        "no-file-yet",
        "branch-lock-left",
        "git-file-empty",
    ],
)
def test_a_worktree_a_killed_start_left_half_made_is_made_again_whole(
    repo: Repo, monkeypatch: pytest.MonkeyPatch, how: dict[str, object]
) -> None:
    with_base_files(repo)
    path = killed_during_checkout(repo, monkeypatch, **how)
    assert (admin_of(repo) / "locked").exists() and len(files_of(path)) < len(BASE_FILES)
    ensured = Worktrees(repo).ensure("a", BRANCH, "main", path)
    assert ensured.note is not None and "half-made" in ensured.note
    assert status(path) == ""
    assert files_of(path) == WHOLE
    assert head(path) == head(repo.root)
    assert [e.locked for e in Worktrees(repo).list()] == [False, False]
    assert not (repo.state_dir / "making" / "a.json").exists()


def test_without_corrals_note_only_a_branch_with_nothing_beyond_the_base_is_made_again(
    repo: Repo, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A half-made worktree from before corral kept its note: the branch may be trusted as
    git's checkout left it only while the base has all its commits."""
    with_base_files(repo)
    path = killed_during_checkout(repo, monkeypatch)
    (repo.state_dir / "making" / "a.json").unlink()
    ahead = git(repo.root, "commit-tree", "-p", BRANCH, "-m", "of its own", f"{BRANCH}^{{tree}}")
    git(repo.root, "update-ref", f"refs/heads/{BRANCH}", ahead.strip())
    with pytest.raises(AgentError, match=f"branch {BRANCH} has 1 commit not in main"):
        Worktrees(repo).ensure("a", BRANCH, "main", path)
    git(repo.root, "update-ref", f"refs/heads/{BRANCH}", head(repo.root))
    Worktrees(repo).ensure("a", BRANCH, "main", path)
    assert status(path) == "" and files_of(path) == WHOLE


def test_a_half_made_worktree_holding_new_files_is_left_alone_and_the_fix_given_works(
    repo: Repo, monkeypatch: pytest.MonkeyPatch
) -> None:
    with_base_files(repo)
    path = killed_during_checkout(repo, monkeypatch)
    write(path, {"notes.txt": b"mine\n", "dir0/file00.txt": b"edited by hand\n"})
    before = files_of(path)
    with pytest.raises(AgentError) as caught:
        Worktrees(repo).ensure("a", BRANCH, "main", path)
    message = str(caught.value)
    assert "1 file the checkout did not write (notes.txt)" in message
    assert f"1 file that differs from {BRANCH} (dir0/file00.txt)" in message
    assert "\n" not in message
    assert files_of(path) == before and (admin_of(repo) / "locked").exists()
    # The command the message gives, as given; then the start the message names.
    fix = fix_from(message)
    subprocess.run(fix, check=True)
    Worktrees(repo).ensure("a", BRANCH, "main", path)
    assert status(path) == "" and files_of(path) == WHOLE
    assert files_of(Path(fix[-1])) == before


def test_a_branch_that_moved_since_the_start_was_killed_is_not_taken_for_git_s_checkout(
    repo: Repo, monkeypatch: pytest.MonkeyPatch
) -> None:
    """What corral did before: an agent started in the half-made worktree committed the
    missing files as deleted. The folder holds only git's files, but the branch moved."""
    with_base_files(repo)
    path = killed_during_checkout(repo, monkeypatch)
    git(path, "commit", "-q", "-m", "deletes most files")
    tip = head(path)
    assert tip != head(repo.root)
    with pytest.raises(AgentError) as caught:
        Worktrees(repo).ensure("a", BRANCH, "main", path)
    message = str(caught.value)
    assert f"branch {BRANCH} has 1 commit made since corral began making the worktree" in message
    subprocess.run(fix_from(message), check=True)
    Worktrees(repo).ensure("a", BRANCH, "main", path)
    assert head(repo.root, BRANCH) == tip and head(path) == tip  # its commit is kept
    assert status(path) == ""


def test_a_process_working_in_a_half_made_worktree_is_named_and_nothing_is_touched(
    repo: Repo, monkeypatch: pytest.MonkeyPatch
) -> None:
    with_base_files(repo)
    path = killed_during_checkout(repo, monkeypatch)
    before = files_of(path)
    with subprocess.Popen(["sleep", "30"], cwd=path) as sleeper:
        try:
            with pytest.raises(AgentError, match=rf"sleep \(pid {sleeper.pid}\)"):
                Worktrees(repo).ensure("a", BRANCH, "main", path)
        finally:
            sleeper.kill()
    assert files_of(path) == before
    Worktrees(repo).ensure("a", BRANCH, "main", path)
    assert status(path) == ""


def test_rm_of_a_half_made_worktree_needs_no_double_force(
    repo: Repo, monkeypatch: pytest.MonkeyPatch
) -> None:
    with_base_files(repo)
    path = killed_during_checkout(repo, monkeypatch, head="null")
    removal = Worktrees(repo).remove(path, "a", BRANCH, "main")
    assert not path.exists() and not admin_of(repo).exists()
    assert "half-made" in removal.message and "deleted" in removal.message
    assert [e.path for e in Worktrees(repo).list()] == [repo.root]
    recover(removal.recovery)
    assert status(path) == "" and files_of(path) == WHOLE


# -- what no ref can hold: ignored files and nested repositories --------------------------------

IGNORES = b"*.log\nbuild/\n.env\nnode_modules/\n"


def nested_repo(folder: Path, files: dict[str, bytes], message: str) -> str:
    folder.mkdir(parents=True)
    git(folder, "init", "-q", "-b", "main")
    return commit(folder, files, message)


def outside_git(folder: Path) -> dict[str, bytes]:
    """The files of `folder` but those inside nested repositories' own git folders, which git
    itself rewrites when asked for a status; node_modules is let go on removal."""
    return {
        name: data
        for name, data in files_of(folder).items()
        if "/.git/" not in name and not name.startswith("node_modules/")
    }


def kept_in(message: str) -> Path:
    found = re.search(r"Moved aside to (\S+), since no ref can hold them", message)
    assert found, message
    return Path(found.group(1))


def test_remove_moves_ignored_files_and_nested_repositories_aside_and_says_where(
    repo: Repo,
) -> None:
    worktrees = Worktrees(repo)
    path = agent_path(repo)
    worktrees.ensure("a", BRANCH, "main", path)
    commit(path, {".gitignore": IGNORES}, "ignore more")
    secrets = {".env": b"API_KEY=s3cret\n", "build/bin/app": b"\x7fELF\x02\x01\x00binary"}
    write(path, {**secrets, "node_modules/pkg/index.js": b"module.exports = 1\n"})
    write(path, {"notes.txt": b"uncommitted\n"})
    nested = nested_repo(path / "vendor" / "lib", {"lib.c": b"int x;\n"}, "the lib's own commit")
    expected = (outside_git(path), status(path))
    removal = worktrees.remove(path, "a", BRANCH, "main")
    message = removal.message
    kept = kept_in(message)
    assert kept == removal.kept_in and kept.parent == repo.state_dir / "kept"
    assert re.fullmatch(r"a-\d{8}T\d{6}Z", kept.name)
    assert ".env, build/, vendor/lib/ (a git repository, with its history)" in message
    assert "since an install or a build makes them again: node_modules/." in message
    assert not path.exists()
    # Byte for byte, the nested repository with its history, and nothing let go kept.
    assert outside_git(kept) == {**secrets, "vendor/lib/lib.c": b"int x;\n"}
    assert (
        git(kept / "vendor" / "lib", "log", "--format=%H %s") == f"{nested} the lib's own commit\n"
    )
    assert git(kept / "vendor" / "lib", "status", "--porcelain") == ""
    for folder in (repo.state_dir / "kept", kept, kept / "vendor"):
        assert folder.stat().st_mode & 0o777 == 0o700
    # The ref holds the uncommitted file and no gitlink to a commit it lacks.
    assert removal.snapshot is not None
    saved = git(repo.root, "ls-tree", "-r", "--name-only", removal.snapshot.commit)
    assert "notes.txt" in saved.split() and "vendor/lib" not in saved.split()
    # The commands the message gives bring all of it back.
    shown = message.split("To get it back:\n", 1)[1].splitlines()
    commands = tuple(tuple(shlex.split(line)) for line in shown)
    assert commands == removal.recovery
    recover(commands)
    assert (outside_git(path), status(path)) == expected
    assert head(path / "vendor" / "lib") == nested


def test_remove_keeps_a_submodule_with_the_history_git_kept_in_the_worktree(
    repo: Repo, tmp_path: Path
) -> None:
    """git keeps a submodule's history inside the worktree's registration, which removing the
    worktree deletes: it goes aside with the submodule's folder, a repository of its own."""
    upstream = tmp_path / "upstream"
    nested_repo(upstream, {"up.txt": b"up\n"}, "upstream")
    worktrees = Worktrees(repo)
    path = agent_path(repo)
    worktrees.ensure("a", BRANCH, "main", path)
    git(path, "-c", "protocol.file.allow=always", "submodule", "add", "-q", str(upstream), "sub")
    git(path, "commit", "-q", "-m", "a submodule")
    local = commit(path / "sub", {"local.txt": b"only here\n"}, "not pushed anywhere")
    removal = worktrees.remove(path, "a", BRANCH, "main")
    assert "sub/ (a git repository, with its history)" in removal.message
    kept = kept_in(removal.message)
    assert (kept / "sub" / ".git").is_dir()
    assert git(kept / "sub", "log", "-1", "--format=%H") == f"{local}\n"
    assert git(kept / "sub", "status", "--porcelain") == ""
    assert (kept / "sub" / "local.txt").read_bytes() == b"only here\n"


def test_a_move_that_fails_puts_back_what_was_moved_and_removes_nothing(
    repo: Repo, monkeypatch: pytest.MonkeyPatch
) -> None:
    import sessions.services.worktree_removal as module

    worktrees = Worktrees(repo)
    path = agent_path(repo)
    worktrees.ensure("a", BRANCH, "main", path)
    write(path, {"a.log": b"first\n", "build/out.o": b"second\n"})
    before = files_of(path)
    real = module._move

    def move(source: Path, target: Path) -> None:
        if source.name == "build":
            raise OSError(28, "No space left on device")
        real(source, target)

    monkeypatch.setattr(module, "_move", move)
    with pytest.raises(AgentError, match=r"could not move build out of .* nothing was removed"):
        worktrees.remove(path, "a", BRANCH, "main")
    assert files_of(path) == before
    assert [e.path for e in worktrees.list()] == [repo.root, path]


def test_only_dependency_and_cache_folders_are_let_go(repo: Repo) -> None:
    worktrees = Worktrees(repo)
    path = agent_path(repo)
    worktrees.ensure("a", BRANCH, "main", path)
    commit(path, {".gitignore": b"*.log\nbuild/\nnode_modules/\n.venv/\nvenv/\n__pycache__/\n"})
    write(
        path,
        {
            "node_modules/x/i.js": b"1",
            ".venv/pyvenv.cfg": b"home = /usr\n",
            "venv/notes.txt": b"not a virtual environment\n",
            "src/__pycache__/m.pyc": b"\x00",
            "build/out.o": b"\x01",
        },
    )
    found = worktrees.leftovers(path)
    assert [item.shown for item in found.kept] == ["build/", "venv/"]
    assert [item.shown for item in found.dropped] == [".venv/", "node_modules/", "src/__pycache__/"]
    plan = worktrees.removal_plan("a", path)
    assert plan.lines() == [
        f"Moved aside first, to {repo.state_dir}/kept/a-<time>/, since no ref can hold them: "
        "build/, venv/.",
        "Deleted with the worktree, since an install or a build makes them again: .venv/, "
        "node_modules/, src/__pycache__/.",
    ]
