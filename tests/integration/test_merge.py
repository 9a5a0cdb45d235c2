"""Merging an agent's branch into the base, on real repositories and worktrees.

The promises under test: a preview changes nothing anywhere; a merge changes only the base
checkout, and only when it is clean and on the base; the base's old tip stays reachable and the
printed undo really undoes; the agent's worktree, index and branch are never touched.
"""

from __future__ import annotations

import json
import os
import shlex
import subprocess
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest

from sessions.core.errors import AgentError
from sessions.supervisor import Supervisor
from tests.helpers import GIT_ENV, git
from tui.cli import main


@pytest.fixture(autouse=True)
def _no_identity(own_git_settings: None, monkeypatch: pytest.MonkeyPatch) -> None:
    """No identity of the developer's may change what the merge does."""
    for var in (*GIT_ENV, "EMAIL"):
        monkeypatch.delenv(var, raising=False)


def rev(cwd: Path, name: str = "HEAD") -> str:
    return git(cwd, "rev-parse", name).strip()


def commit(folder: Path, files: dict[str, bytes], message: str) -> str:
    for name, data in files.items():
        (folder / name).parent.mkdir(parents=True, exist_ok=True)
        (folder / name).write_bytes(data)
    git(folder, "add", "--", *files)
    git(folder, "commit", "-q", "-m", message)
    return rev(folder)


@dataclass(frozen=True)
class Herd:
    root: Path
    agent: Path
    supervisor: Supervisor


@pytest.fixture
def herd(make_repo: Callable[..., Path]) -> Herd:
    """A repository with base `main`, and agent a's worktree on corral/a made as corral makes it."""
    root = make_repo('base = "main"\n')
    git(root, "config", "user.name", "Base User")
    git(root, "config", "user.email", "base@example.invalid")
    supervisor = Supervisor.open(root)
    path = supervisor.worktrees.path_for("a", "../{repo}.corral")
    supervisor.worktrees.ensure("a", "corral/a", "main", path)
    return Herd(root, path, supervisor)


def checkout(folder: Path) -> dict[str, object]:
    """Everything of a checkout a merge could change: refs, HEAD, index bytes, status, files.

    The index is read before git runs here, and status runs without optional locks, so looking
    does not refresh the index being compared. corral's own `.corral/` folder is left out.
    """
    index = Path(git(folder, "rev-parse", "--path-format=absolute", "--git-path", "index").strip())
    index_bytes = index.read_bytes()
    env = {**os.environ, "GIT_OPTIONAL_LOCKS": "0"}
    status = subprocess.run(
        ["git", "status", "--porcelain=v2", "-z", "--untracked-files=all", "--ignored"],
        cwd=folder, env=env, check=True, capture_output=True, text=True,
    ).stdout  # fmt: skip
    status = "\0".join(item for item in status.split("\0") if not item[2:].startswith(".corral/"))
    files = {
        path.relative_to(folder).as_posix(): path.read_bytes()
        for path in sorted(folder.rglob("*"))
        if path.is_file() and path.relative_to(folder).parts[0] not in (".git", ".corral")
    }
    return {
        "refs": git(folder, "for-each-ref", "--format=%(refname) %(objectname)"),
        "head": git(folder, "rev-parse", "--symbolic-full-name", "HEAD", "HEAD"),
        "merge_head": (Path(git(folder, "rev-parse", "--git-dir").strip()) / "MERGE_HEAD")
        .resolve()
        .exists(),
        "index": index_bytes,
        "status": status,
        "files": files,
    }


def own(state: dict[str, object]) -> dict[str, object]:
    """A checkout's own state, without the refs every checkout shares (a merge moves main)."""
    return {key: value for key, value in state.items() if key != "refs"}


def merge_events(supervisor: Supervisor) -> list[dict[str, object]]:
    return [event for event in supervisor.journal.read_all() if event["event"] == "merge"]


def run(command: str) -> None:
    subprocess.run(shlex.split(command), check=True, capture_output=True)


def undo_line(message: str, start: str) -> str:
    """The command after `start`'s colon in a merge message, as the user would copy it."""
    line = next(line for line in message.splitlines() if line.startswith(start))
    return line.split(": ", 1)[1]


# -- preview ----------------------------------------------------------------------------------


def test_preview_of_a_fast_forward_counts_commits_and_lines_and_changes_nothing(
    herd: Herd,
) -> None:
    commit(herd.agent, {"src/app.py": b"def main() -> int:\n    return 1\n"}, "return one")
    tip = commit(herd.agent, {"src/parse.py": b"a\nb\nc\n", "logo.bin": b"\0\1\2"}, "parser")
    before = (checkout(herd.root), checkout(herd.agent))

    preview = herd.supervisor.merge_preview("a")

    assert (checkout(herd.root), checkout(herd.agent)) == before
    assert (preview.branch, preview.base, preview.tip) == ("corral/a", "main", tip)
    assert (preview.ahead, preview.behind, preview.fast_forward) == (2, 0, True)
    assert [subject for _, subject in preview.commits] == ["parser", "return one"]
    assert [(f.path, f.added, f.removed) for f in preview.files] == [
        ("logo.bin", None, None),
        ("src/app.py", 1, 1),
        ("src/parse.py", 3, 0),
    ]
    assert preview.conflicts == ()
    assert (preview.uncommitted, preview.worktree) == (0, herd.agent)
    assert preview.refusal is None and preview.can_merge
    data = json.loads(json.dumps(preview.to_json()))
    assert data["fast_forward"] is True and data["can_merge"] is True
    assert data["files"][1] == {"path": "src/app.py", "added": 1, "removed": 1}
    assert data["commits"][0] == {"commit": tip, "subject": "parser"}


def test_preview_of_a_clean_merge_commit(herd: Herd) -> None:
    commit(herd.root, {"README.md": b"# project, moved on\n"}, "base moves")
    commit(herd.agent, {"src/app.py": b"def main() -> int:\n    return 2\n"}, "return two")
    before = (checkout(herd.root), checkout(herd.agent))

    preview = herd.supervisor.merge_preview("a")

    assert (checkout(herd.root), checkout(herd.agent)) == before
    assert (preview.ahead, preview.behind, preview.fast_forward) == (1, 1, False)
    assert preview.conflicts == () and preview.refusal is None
    assert [f.path for f in preview.files] == ["src/app.py"]
    assert "a merge commit, no conflicts" in preview.describe()


# -- merge ------------------------------------------------------------------------------------


def test_fast_forward_keeps_the_old_tip_and_its_undo_works(herd: Herd) -> None:
    old = rev(herd.root)
    tip = commit(herd.agent, {"src/new.py": b"x = 1\n"}, "add new")
    agent_before = checkout(herd.agent)

    outcome = herd.supervisor.merge("a")

    assert own(checkout(herd.agent)) == own(agent_before)
    assert rev(herd.root, "main") == tip and rev(herd.root) == tip
    assert (herd.root / "src/new.py").read_bytes() == b"x = 1\n"
    assert git(herd.root, "status", "--porcelain", "--untracked-files=no") == ""
    [event] = merge_events(herd.supervisor)
    ref = str(event["ref"])
    assert ref.startswith("refs/corral/before-merge/a/")
    assert rev(herd.root, ref) == old
    assert {key: event[key] for key in ("agent", "base", "from", "to", "fast_forward")} == {
        "agent": "a",
        "base": "main",
        "from": old,
        "to": tip,
        "fast_forward": True,
    }
    assert outcome.action == "merge" and ref in outcome.message
    assert "a fast-forward" in outcome.message

    run(undo_line(outcome.message, "To undo it"))

    assert rev(herd.root, "main") == old
    assert not (herd.root / "src/new.py").exists()
    assert rev(herd.root, "corral/a") == tip


def test_merge_commit_names_the_branch_and_reverts_cleanly(herd: Herd) -> None:
    base_tip = commit(herd.root, {"README.md": b"# project, moved on\n"}, "base moves")
    commit(herd.agent, {"src/app.py": b"def main() -> int:\n    return 2\n"}, "first")
    tip = commit(herd.agent, {"src/more.py": b"more\n"}, "Add more\n\nwith a body")
    agent_before = checkout(herd.agent)

    outcome = herd.supervisor.merge("a")

    assert own(checkout(herd.agent)) == own(agent_before)
    merge = rev(herd.root, "main")
    assert git(herd.root, "rev-list", "--parents", "-n1", merge).split() == [merge, base_tip, tip]
    assert git(herd.root, "log", "-1", "--format=%B", merge).strip() == "Merge corral/a: Add more"
    assert git(herd.root, "log", "-1", "--format=%an", merge).strip() == "Base User"
    assert (herd.root / "README.md").read_bytes() == b"# project, moved on\n"
    assert (herd.root / "src/more.py").read_bytes() == b"more\n"
    [event] = merge_events(herd.supervisor)
    assert (event["fast_forward"], event["from"], event["to"]) == (False, base_tip, merge)
    assert rev(herd.root, str(event["ref"])) == base_tip

    git(herd.root, *shlex.split(undo_line(outcome.message, "Or, once others"))[3:], "--no-edit")

    assert rev(herd.root, "HEAD^{tree}") == rev(herd.root, f"{base_tip}^{{tree}}")
    assert rev(herd.root, "HEAD^") == merge


def test_a_given_message_is_the_merge_commits(herd: Herd) -> None:
    commit(herd.root, {"README.md": b"# moved\n"}, "base moves")
    commit(herd.agent, {"src/more.py": b"more\n"}, "more")
    herd.supervisor.merge("a", message="Take a's work on more")
    assert git(herd.root, "log", "-1", "--format=%s").strip() == "Take a's work on more"


def test_without_any_identity_the_merge_commit_is_corrals(herd: Herd) -> None:
    git(herd.root, "config", "--unset", "user.name")
    git(herd.root, "config", "--unset", "user.email")
    git(herd.root, "config", "user.useConfigOnly", "true")
    commit(herd.root, {"README.md": b"# moved\n"}, "base moves")
    commit(herd.agent, {"src/more.py": b"more\n"}, "more")
    herd.supervisor.merge("a")
    assert git(herd.root, "log", "-1", "--format=%an %ae").strip() == "corral corral@localhost"


def test_two_merges_keep_two_old_tips(herd: Herd) -> None:
    first_old = rev(herd.root)
    commit(herd.agent, {"one.txt": b"1\n"}, "one")
    herd.supervisor.merge("a")
    second_old = rev(herd.root)
    commit(herd.agent, {"two.txt": b"2\n"}, "two")
    herd.supervisor.merge("a")
    refs = [str(event["ref"]) for event in merge_events(herd.supervisor)]
    assert len(set(refs)) == 2
    assert [rev(herd.root, ref) for ref in refs] == [first_old, second_old]


def test_a_merge_git_stops_halfway_is_taken_back(herd: Herd) -> None:
    """A hook of the user's that rejects the merge commit leaves git mid-merge; corral aborts
    it, so the base is as it was, and drops the ref it no longer needs."""
    commit(herd.root, {"README.md": b"# moved\n"}, "base moves")
    commit(herd.agent, {"src/more.py": b"more\n"}, "more")
    hook = herd.root / ".git" / "hooks" / "pre-merge-commit"
    hook.parent.mkdir(exist_ok=True)
    hook.write_text("#!/bin/sh\necho 'no merges today' >&2\nexit 1\n")
    hook.chmod(0o755)
    before = (checkout(herd.root), checkout(herd.agent))

    with pytest.raises(AgentError) as failed:
        herd.supervisor.merge("a")

    assert (checkout(herd.root), checkout(herd.agent)) == before
    assert "main is as it was" in str(failed.value)
    assert merge_events(herd.supervisor) == []


# -- refusals ---------------------------------------------------------------------------------


def test_a_conflicting_branch_is_named_and_nothing_changes(herd: Herd) -> None:
    commit(herd.root, {"src/app.py": b"def main() -> int:\n    return 10\n"}, "base: ten")
    commit(herd.agent, {"src/app.py": b"def main() -> int:\n    return 20\n"}, "agent: twenty")
    commit(herd.agent, {"src/clean.py": b"ok\n"}, "a clean file")
    before = (checkout(herd.root), checkout(herd.agent))

    preview = herd.supervisor.merge_preview("a")
    with pytest.raises(AgentError) as refused:
        herd.supervisor.merge("a")

    assert (checkout(herd.root), checkout(herd.agent)) == before
    assert preview.conflicts == ("src/app.py",)
    assert [f.path for f in preview.files] == ["src/app.py", "src/clean.py"]
    message = str(refused.value)
    assert message == preview.refusal
    assert "conflict in src/app.py" in message and "merge main into its branch" in message
    assert merge_events(herd.supervisor) == []


DIRT = ["modified", "staged", "untracked in the way", "ignored in the way"]


@pytest.mark.parametrize("dirt", DIRT)
def test_a_dirty_base_is_refused_and_left_as_it_is(herd: Herd, dirt: str) -> None:
    commit(herd.agent, {"src/new.py": b"agent\n"}, "add new")
    if dirt == "modified":
        (herd.root / "README.md").write_text("# mine, not committed\n")
        named = "README.md"
    elif dirt == "staged":
        (herd.root / "staged.txt").write_text("staged\n")
        git(herd.root, "add", "staged.txt")
        named = "staged.txt"
    elif dirt == "untracked in the way":
        (herd.root / "src/new.py").write_text("the user's own\n")
        named = "src/new.py"
    else:
        (herd.root / ".git/info/exclude").write_text("*.log\n")
        git(herd.agent, "add", "-f", "--", _write(herd.agent, "run.log", b"agent log\n"))
        git(herd.agent, "commit", "-q", "-m", "a log")
        (herd.root / "run.log").write_text("the user's log\n")
        named = "run.log"
    before = (checkout(herd.root), checkout(herd.agent))

    with pytest.raises(AgentError) as refused:
        herd.supervisor.merge("a")

    assert (checkout(herd.root), checkout(herd.agent)) == before
    assert named in str(refused.value) and str(herd.root) in str(refused.value)
    assert merge_events(herd.supervisor) == []


def _write(folder: Path, name: str, data: bytes) -> str:
    (folder / name).write_bytes(data)
    return name


def test_untracked_files_out_of_the_way_do_not_stop_a_merge(herd: Herd) -> None:
    tip = commit(herd.agent, {"src/new.py": b"agent\n"}, "add new")
    (herd.root / "scratch.txt").write_text("the user's notes\n")
    herd.supervisor.merge("a")
    assert rev(herd.root, "main") == tip
    assert (herd.root / "scratch.txt").read_text() == "the user's notes\n"


@pytest.mark.parametrize("where", ["another branch", "detached"])
def test_base_not_checked_out_at_the_root_is_refused(herd: Herd, where: str) -> None:
    commit(herd.agent, {"src/new.py": b"agent\n"}, "add new")
    if where == "detached":
        git(herd.root, "switch", "-q", "--detach", "main")
    else:
        git(herd.root, "switch", "-q", "-c", "elsewhere")
    before = (checkout(herd.root), checkout(herd.agent))

    with pytest.raises(AgentError) as refused:
        herd.supervisor.merge("a")

    assert (checkout(herd.root), checkout(herd.agent)) == before
    message = str(refused.value)
    assert "main is not checked out" in message
    assert f"git -C {herd.root} switch main" in message
    assert ("on elsewhere" if where == "another branch" else "detached") in message


def test_nothing_to_merge_is_refused(herd: Herd) -> None:
    before = (checkout(herd.root), checkout(herd.agent))
    with pytest.raises(AgentError, match="corral/a has nothing to merge"):
        herd.supervisor.merge("a")
    assert (checkout(herd.root), checkout(herd.agent)) == before

    commit(herd.agent, {"one.txt": b"1\n"}, "one")
    herd.supervisor.merge("a")
    with pytest.raises(AgentError, match="main already has all its commits"):
        herd.supervisor.merge("a")


def test_uncommitted_work_stays_behind_and_is_said_so(herd: Herd) -> None:
    commit(herd.agent, {"done.py": b"done\n"}, "done")
    (herd.agent / "README.md").write_text("# changed, not committed\n")
    (herd.agent / "staged.py").write_text("staged\n")
    git(herd.agent, "add", "staged.py")
    (herd.agent / "loose.py").write_text("untracked\n")
    agent_before = checkout(herd.agent)

    preview = herd.supervisor.merge_preview("a")
    assert preview.uncommitted == 3
    assert f"3 uncommitted files in {herd.agent} stay behind" in preview.describe()
    with pytest.raises(AgentError, match="corral never commits for an agent"):
        herd.supervisor.merge("a", include_uncommitted=True)
    assert merge_events(herd.supervisor) == []
    outcome = herd.supervisor.merge("a")

    assert own(checkout(herd.agent)) == own(agent_before)
    assert "a's 3 uncommitted files are not in the merge" in outcome.message
    assert (herd.root / "done.py").exists()
    assert not (herd.root / "staged.py").exists() and not (herd.root / "loose.py").exists()
    assert (herd.root / "README.md").read_text() == "# project\n"


def test_an_agent_without_a_branch_is_refused(herd: Herd) -> None:
    with pytest.raises(AgentError, match="b has no branch corral/b"):
        herd.supervisor.merge_preview("b")


# -- the command line -------------------------------------------------------------------------


def test_cli_preview_prints_and_merges_nothing(
    herd: Herd, capsys: pytest.CaptureFixture[str]
) -> None:
    tip = commit(herd.agent, {"src/new.py": b"x = 1\ny = 2\n"}, "add new")
    old = rev(herd.root)

    assert main(["merge", "a", "--preview", "--repo", str(herd.root)]) == 0
    text = capsys.readouterr().out
    assert main(["merge", "a", "--preview", "--json", "--repo", str(herd.root)]) == 0
    data = json.loads(capsys.readouterr().out)

    assert rev(herd.root, "main") == old
    assert text.splitlines()[0] == "corral/a into main: 1 commit ahead, 0 behind; a fast-forward"
    assert f"  {tip[:12]} add new" in text.splitlines()
    assert "+2 -0" in text and "src/new.py" in text
    assert text.rstrip().endswith("`corral merge a` merges it")
    assert (data["tip"], data["ahead"], data["can_merge"], data["refusal"]) == (tip, 1, True, None)


def test_cli_merge_prints_how_to_undo(herd: Herd, capsys: pytest.CaptureFixture[str]) -> None:
    tip = commit(herd.agent, {"src/new.py": b"x = 1\n"}, "add new")
    assert main(["merge", "a", "--repo", str(herd.root)]) == 0
    out = capsys.readouterr()
    assert rev(herd.root, "main") == tip
    assert out.err == ""
    assert out.out.startswith("Merged corral/a into main: a fast-forward")
    assert f"git -C {herd.root} reset --keep refs/corral/before-merge/a/" in out.out


def test_cli_refusals_are_one_sentence_and_exit_1(
    herd: Herd, capsys: pytest.CaptureFixture[str]
) -> None:
    commit(herd.agent, {"src/new.py": b"x = 1\n"}, "add new")
    (herd.root / "README.md").write_text("# mine\n")
    old = rev(herd.root)
    for argv in (
        ["merge", "a"],
        ["merge", "a", "--json"],
        ["merge", "nobody"],
        ["merge", "nobody", "--preview"],
    ):
        assert main([*argv, "--repo", str(herd.root)]) == 1, argv
        out = capsys.readouterr()
        assert out.out == ""
        assert out.err.startswith("corral: ") and out.err.endswith(".\n"), out.err
        assert out.err.count("\n") == 1 and "Traceback" not in out.err
    assert rev(herd.root, "main") == old
    assert (herd.root / "README.md").read_text() == "# mine\n"
