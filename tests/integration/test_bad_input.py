"""Mistakes a user can make end in one sentence that says what to do, never a traceback."""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Callable
from importlib import metadata
from pathlib import Path

import pytest

from tests.helpers import corral, git, wait_for

pytestmark = pytest.mark.tmux

SIM = '[[agent]]\nname = "sim-1"\nkind = "sim"\nargs = ["--speed", "0.05"]\n'


def one_clear_line(result: subprocess.CompletedProcess[str]) -> str:
    assert result.returncode == 1, result
    assert "Traceback" not in result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("corral: ")
    return lines[0]


def test_not_a_git_repository(tmp_path: Path) -> None:
    line = one_clear_line(corral(tmp_path, "ls"))
    assert "not inside a git repository" in line and "git init" in line


def test_missing_folder(tmp_path: Path) -> None:
    line = one_clear_line(corral(tmp_path / "nope", "up"))
    assert "is not a folder" in line


def test_repository_without_a_commit(tmp_path: Path) -> None:
    git(tmp_path, "init", "-q")
    line = one_clear_line(corral(tmp_path, "up"))
    assert "no commit yet" in line


def test_no_config(make_repo: Callable[..., Path]) -> None:
    line = one_clear_line(corral(make_repo(), "up"))
    assert "no corral.toml" in line and "corral init" in line


@pytest.mark.parametrize(
    ("config", "expected"),
    [
        ('[[agent]]\nname = "a"\nkind = "robot"\n', "corral.toml:3: agent[1].kind"),
        ('[[agent]]\nname = "a b"\nkind = "sim"\n', "corral.toml:2: agent[1].name"),
        (
            '[[agent]]\nname = "a"\nkind = "sim"\n[[agent]]\nname = "a"\nkind = "sim"\n',
            "corral.toml:5: agent[2].name",
        ),
        ('[[agent]]\nname = "a"\nkind = "shell"\n', "agent[1]"),
        ("base = \n", "corral.toml:1"),
    ],
)
def test_invalid_config_names_file_line_and_key(
    make_repo: Callable[..., Path], config: str, expected: str
) -> None:
    line = one_clear_line(corral(make_repo(config), "up"))
    assert expected in line


@pytest.mark.parametrize("command", ["up", "ls"])
def test_a_config_nested_thousands_deep_is_named_not_a_traceback(
    make_repo: Callable[..., Path], command: str
) -> None:
    deep = SIM + "x = " + "[" * 5000 + "]" * 5000 + "\n"
    line = one_clear_line(corral(make_repo(deep), command))
    assert "corral.toml:5: nests arrays or tables too deeply" in line


@pytest.mark.parametrize("command", ["up", "ls"])
def test_a_folder_named_corral_toml_is_named_not_ignored(
    make_repo: Callable[..., Path], command: str
) -> None:
    root = make_repo()
    (root / "corral.toml").mkdir()
    line = one_clear_line(corral(root, command))
    assert "corral.toml: is not a file" in line


@pytest.mark.parametrize("key", ["prompt", "prompt_file"])
def test_a_prompt_too_long_for_a_command_line_is_refused_by_name(
    make_repo: Callable[..., Path], key: str
) -> None:
    """20 MB of prompt: refused with the size and what to do, before any agent is started."""
    root = make_repo()
    text = "Do the next task. " * 1_200_000
    if key == "prompt_file":
        (root / "task.md").write_text(text)
        value = '"task.md"'
    else:
        value = '"""' + text + '"""'
    (root / "corral.toml").write_text(SIM + f"{key} = {value}\n")
    line = one_clear_line(corral(root, "up"))
    assert f"corral.toml:5: agent[1].{key}: gives a prompt of 21,600,000 bytes" in line, line
    assert "put the long text in a file" in line


def test_tmux_missing(make_repo: Callable[..., Path], tmp_path: Path) -> None:
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    git_path = shutil.which("git")
    assert git_path is not None
    (bin_dir / "git").symlink_to(git_path)
    env = {**os.environ, "PATH": str(bin_dir)}
    line = one_clear_line(corral(make_repo(SIM), "up", env=env))
    assert "tmux is not installed" in line and "apt-get install tmux" in line


def test_version_says_when_tmux_is_missing(make_repo: Callable[..., Path], tmp_path: Path) -> None:
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    git_path = shutil.which("git")
    assert git_path is not None
    (bin_dir / "git").symlink_to(git_path)
    result = corral(make_repo(SIM), "--version", env={**os.environ, "PATH": str(bin_dir)})
    assert result.returncode == 0 and not result.stderr
    git_version = git(tmp_path, "--version").split()[-1]
    wanted = f"corral {metadata.version('corral')} (tmux not found, git {git_version})\n"
    assert result.stdout == wanted


def test_tmux_too_old(make_repo: Callable[..., Path], tmp_path: Path) -> None:
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    fake = bin_dir / "tmux"
    fake.write_text("#!/bin/sh\necho 'tmux 2.9'\n")
    fake.chmod(0o755)
    env = {**os.environ, "PATH": f"{bin_dir}:{os.environ['PATH']}"}
    line = one_clear_line(corral(make_repo(SIM), "ls", env=env))
    assert "too old" in line


def test_unknown_agent_name(make_repo: Callable[..., Path]) -> None:
    root = make_repo(SIM)
    line = one_clear_line(corral(root, "up", "nobody"))
    assert "no agent named 'nobody'" in line
    line = one_clear_line(corral(root, "pause", "nobody"))
    assert "nobody" in line


def test_worktree_deleted_by_hand_is_recreated_with_its_commits(
    make_repo: Callable[..., Path],
) -> None:
    root = make_repo(SIM)
    assert corral(root, "up").returncode == 0
    worktree = root.parent / "project.corral" / "sim-1"
    (worktree / "work.txt").write_text("committed work\n")
    git(worktree, "add", "work.txt")
    git(worktree, "commit", "-q", "-m", "agent work")
    head = git(worktree, "rev-parse", "HEAD")
    assert corral(root, "kill", "sim-1").returncode == 0
    shutil.rmtree(worktree)
    result = corral(root, "up")
    assert result.returncode == 0, result.stderr
    assert "deleted by hand" in result.stdout
    assert git(worktree, "rev-parse", "HEAD") == head
    assert (worktree / "work.txt").read_text() == "committed work\n"


def test_doctor_says_what_is_missing(make_repo: Callable[..., Path]) -> None:
    config = '[[agent]]\nname = "c"\nkind = "claude"\ncommand = "no-such-claude-x"\n'
    result = corral(make_repo(config), "doctor")
    assert result.returncode == 1
    assert "no-such-claude-x` is not on PATH" in result.stdout
    assert "npm install -g @anthropic-ai/claude-code" in result.stdout
    assert "ok  tmux" in result.stdout


def test_pause_of_an_exited_agent_says_it_is_not_running(make_repo: Callable[..., Path]) -> None:
    root = make_repo('[[agent]]\nname = "quick"\nkind = "shell"\ncommand = "true"\n')
    corral(root, "up")
    wait_for(lambda: "exited" in corral(root, "ls").stdout, what="exited")
    line = one_clear_line(corral(root, "pause", "quick"))
    assert "quick is not running (exited" in line


def test_one_agent_that_cannot_start_does_not_stop_the_others(
    make_repo: Callable[..., Path],
) -> None:
    config = SIM + SIM.replace("sim-1", "sim-2")
    root = make_repo(config)
    blocker = root.parent / "project.corral" / "sim-1"
    blocker.mkdir(parents=True)
    (blocker / "someone else's file").write_text("keep me\n")
    result = corral(root, "up")
    assert result.returncode == 1
    assert "sim-2 started" in result.stdout
    line = one_clear_line(result)
    assert "sim-1 not started" in line and "already exists" in line
    assert (blocker / "someone else's file").read_text() == "keep me\n"


def test_doctor_reports_a_bad_user_config(make_repo: Callable[..., Path], tmp_path: Path) -> None:
    config_home = tmp_path / "config"
    (config_home / "corral").mkdir(parents=True)
    (config_home / "corral" / "config.toml").write_text('theme = "dark"\nbel = true\n')
    env = {**os.environ, "XDG_CONFIG_HOME": str(config_home)}
    result = corral(make_repo(SIM), "doctor", env=env)
    assert result.returncode == 1
    [line] = [line for line in result.stdout.splitlines() if "user config" in line]
    assert line.startswith("NO") and "config.toml:2: bel" in line
