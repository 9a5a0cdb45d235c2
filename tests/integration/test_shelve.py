"""Shelve, unshelve and rm keep every commit and every uncommitted change reachable."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from sessions.core.errors import AgentError
from sessions.core.model import State
from sessions.supervisor import Supervisor
from tests.helpers import git, wait_for

pytestmark = pytest.mark.tmux

SIM = '[[agent]]\nname = "sim-1"\nkind = "sim"\nargs = ["--speed", "0.05"]\n'


@pytest.fixture
def supervisor(make_repo: Callable[..., Path]) -> Supervisor:
    root = make_repo(SIM)
    supervisor = Supervisor.open(root)
    supervisor.up()
    wait_for(lambda: supervisor.view("sim-1").pid, what="agent pid")
    return supervisor


def dirty(worktree: Path) -> None:
    """Committed, staged, modified, deleted and untracked work, as an agent leaves it."""
    (worktree / "done.txt").write_text("committed\n")
    git(worktree, "add", "done.txt")
    git(worktree, "commit", "-q", "-m", "agent commit")
    (worktree / "staged.txt").write_text("staged\n")
    git(worktree, "add", "staged.txt")
    (worktree / "src" / "app.py").write_text("def main() -> int:\n    return 1\n")
    (worktree / "README.md").unlink()
    (worktree / "notes").mkdir()
    (worktree / "notes" / "new idea.md").write_text("untracked\n")


def tree_files(root: Path, rev: str) -> dict[str, str]:
    names = git(root, "ls-tree", "-r", "--name-only", rev).splitlines()
    return {name: git(root, "show", f"{rev}:{name}") for name in names}


def test_shelve_keeps_worktree_as_is_and_unshelve_resumes_the_session(
    supervisor: Supervisor,
) -> None:
    view = supervisor.view("sim-1")
    worktree = Path(view.worktree)
    session = wait_for(lambda: supervisor.view("sim-1").session_id, what="session id")
    dirty(worktree)
    status_before = git(worktree, "status", "--porcelain")
    index_before = (supervisor.repo.common_dir / "worktrees" / "sim-1" / "index").read_bytes()
    head = git(worktree, "rev-parse", "HEAD").strip()
    outcome = supervisor.shelve("sim-1")
    assert "refs/corral/shelf/sim-1" in outcome.message
    shelved = supervisor.view("sim-1")
    assert shelved.state is State.SHELVED and shelved.pid is None
    assert git(worktree, "status", "--porcelain") == status_before
    assert (supervisor.repo.common_dir / "worktrees" / "sim-1" / "index").read_bytes() == (
        index_before
    )
    assert git(worktree, "rev-parse", "HEAD").strip() == head
    saved = tree_files(supervisor.repo.root, "refs/corral/shelf/sim-1")
    assert saved["src/app.py"].endswith("return 1\n")
    assert saved["notes/new idea.md"] == "untracked\n"
    assert saved["staged.txt"] == "staged\n"
    assert "README.md" not in saved
    git(supervisor.repo.root, "merge-base", "--is-ancestor", head, "refs/corral/shelf/sim-1")
    assert "shelved" in Supervisor.open(supervisor.repo.root).up()[0].message
    supervisor.unshelve("sim-1")
    pane = supervisor.view("sim-1").pane or ""
    wait_for(
        lambda: f"Resumed session {session}" in supervisor.tmux.capture(pane),
        what="resumed session on screen",
    )
    assert supervisor.view("sim-1").state is not State.SHELVED


def test_rm_saves_uncommitted_work_keeps_unmerged_branch_and_says_where(
    supervisor: Supervisor,
) -> None:
    worktree = Path(supervisor.view("sim-1").worktree)
    dirty(worktree)
    head = git(worktree, "rev-parse", "HEAD").strip()
    outcome = supervisor.remove("sim-1")
    assert not worktree.exists()
    assert "refs/corral/trash/sim-1/" in outcome.message
    assert "corral/sim-1" in outcome.message
    root = supervisor.repo.root
    assert git(root, "rev-parse", "corral/sim-1").strip() == head
    [ref] = git(root, "for-each-ref", "--format=%(refname)", "refs/corral/trash/").split()
    saved = tree_files(root, ref)
    assert saved["notes/new idea.md"] == "untracked\n"
    assert saved["src/app.py"].endswith("return 1\n")
    assert all(view.name != "sim-1" for view in supervisor.look())
    with pytest.raises(AgentError, match="has not been started"):
        supervisor.view("sim-1")
