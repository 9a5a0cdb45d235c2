"""`corral init` as a user runs it: the real command line in a real repository, with agent CLIs
found on a private PATH of small executable scripts, questions answered through a
pseudo-terminal, and every refusal one sentence with exit code 1 and nothing written."""

from __future__ import annotations

import os
import pty
import re
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

from sessions.adapters.config import load_config
from tests.helpers import GIT_ENV, git


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    root = tmp_path / "project"
    root.mkdir()
    git(root, "init", "-q", "-b", "main")
    (root / "PROGRESS.md").write_text("# Progress\n\n- [ ] first task\n")
    (root / "current_tasks").mkdir()
    (root / "current_tasks" / "README").write_text("one file per claimed task\n")
    git(root, "add", "-A")
    git(root, "commit", "-q", "-m", "initial")
    return root


def private_path(tmp_path: Path, *clis: str) -> str:
    """A PATH holding git and the named agent CLIs, as small scripts, and nothing else, so
    whatever the machine has installed does not decide what init finds."""
    tools = tmp_path / "tools"
    tools.mkdir(exist_ok=True)
    real_git = shutil.which("git")
    assert real_git is not None
    if not (tools / "git").exists():
        (tools / "git").symlink_to(real_git)
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir(exist_ok=True)
    for name in clis:
        script = bin_dir / name
        script.write_text(f"#!/bin/sh\necho '{name} stand-in'\n")
        script.chmod(0o755)
    return os.pathsep.join([str(bin_dir), str(tools)])


def corral(
    cwd: Path,
    *args: str,
    path: str,
    stdin: int | None = subprocess.DEVNULL,
    input_text: str | None = None,
) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, **GIT_ENV, "PATH": path}
    return subprocess.run(
        [sys.executable, "-m", "tui.cli", *args],
        cwd=cwd,
        env=env,
        stdin=stdin if input_text is None else None,
        input=input_text,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def one_sentence(result: subprocess.CompletedProcess[str]) -> str:
    assert result.returncode == 1, result
    assert "Traceback" not in result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("corral: "), result.stderr
    return lines[0]


def agents(root: Path) -> list[tuple[str, str]]:
    return [(agent.name, agent.kind.value) for agent in load_config(root).agents]


def test_yes_writes_one_agent_per_cli_found(repo: Path, tmp_path: Path) -> None:
    result = corral(repo, "init", "--yes", path=private_path(tmp_path, "claude", "codex"))
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""
    assert agents(repo) == [("claude-1", "claude"), ("codex-1", "codex")]
    text = (repo / "corral.toml").read_text()
    assert f"# Claude Code ({tmp_path / 'bin' / 'claude'})" in text
    assert tomllib.loads(text)["locks"] == {"dirs": ["current_tasks"]}
    assert "[notes]" in text and "completed_tasks" not in text
    assert f"wrote {repo / 'corral.toml'}: 2 agents (claude-1, codex-1)" in result.stdout
    assert "base: main" in result.stdout and "task locks: current_tasks/" in result.stdout
    assert "next: `corral` opens the dashboard, or `corral up` starts the agents" in result.stdout
    assert "How many" not in result.stdout


def test_agents_option_and_a_cli_not_installed(repo: Path, tmp_path: Path) -> None:
    result = corral(
        repo, "init", "--agents", "claude:2,gemini:1", path=private_path(tmp_path, "claude")
    )
    assert result.returncode == 0, result.stderr
    assert agents(repo) == [("claude-1", "claude"), ("claude-2", "claude"), ("gemini-1", "gemini")]
    assert result.stderr.strip() == (
        "corral: warning: gemini is not on PATH, so its agents cannot start yet: "
        "npm install -g @google/gemini-cli"
    )


@pytest.mark.parametrize(
    ("value", "named"),
    [("claude:2,cursor:1", "'cursor'"), ("codex:many", "'many'"), ("claude:0", "no agent")],
)
def test_a_bad_agents_value_writes_nothing(
    repo: Path, tmp_path: Path, value: str, named: str
) -> None:
    result = corral(repo, "init", "--agents", value, path=private_path(tmp_path, "claude"))
    assert named in one_sentence(result)
    assert not (repo / "corral.toml").exists()


def test_not_answering_on_a_pipe_takes_the_defaults(repo: Path, tmp_path: Path) -> None:
    # Standard input is a pipe holding an answer: init asks nothing, so it never reads it.
    path = private_path(tmp_path, "claude", "codex")
    result = corral(repo, "init", path=path, input_text="3\n3\n")
    assert result.returncode == 0, result.stderr
    assert "How many" not in result.stdout
    assert agents(repo) == [("claude-1", "claude"), ("codex-1", "codex")]


def test_questions_on_a_terminal(repo: Path, tmp_path: Path) -> None:
    path = private_path(tmp_path, "claude", "codex")
    controller, terminal = pty.openpty()
    try:
        # "two" is asked again; then 2 claude agents, and Enter takes one codex agent.
        os.write(controller, b"two\n2\n\n")
        result = corral(repo, "init", path=path, stdin=terminal)
    finally:
        os.close(terminal)
        os.close(controller)
    assert result.returncode == 0, result.stderr
    assert result.stdout.count("How many Claude Code agents") == 1
    assert "a number from 0 to 50, please" in result.stdout
    assert "How many Codex CLI agents" in result.stdout
    assert agents(repo) == [("claude-1", "claude"), ("claude-2", "claude"), ("codex-1", "codex")]


def test_yes_on_a_terminal_asks_nothing(repo: Path, tmp_path: Path) -> None:
    controller, terminal = pty.openpty()
    try:
        result = corral(repo, "init", "--yes", path=private_path(tmp_path, "aider"), stdin=terminal)
    finally:
        os.close(terminal)
        os.close(controller)
    assert result.returncode == 0, result.stderr
    assert "How many" not in result.stdout
    assert agents(repo) == [("aider-1", "aider")]


def test_an_existing_config_is_refused_then_replaced_with_force(repo: Path, tmp_path: Path) -> None:
    old = b'# my own herd\n[[agent]]\nname = "mine"\nkind = "shell"\ncommand = "bash"\n'
    (repo / "corral.toml").write_bytes(old)
    path = private_path(tmp_path, "claude")
    refused = corral(repo, "init", "--yes", path=path)
    line = one_sentence(refused)
    assert "already exists" in line and "--force" in line
    assert refused.stdout == ""
    assert (repo / "corral.toml").read_bytes() == old

    replaced = corral(repo, "init", "--yes", "--force", path=path)
    assert replaced.returncode == 0, replaced.stderr
    assert agents(repo) == [("claude-1", "claude")]
    kept = [p for p in (repo / ".corral").iterdir() if p.name.endswith(".before-init")]
    assert len(kept) == 1 and kept[0].read_bytes() == old
    assert f"the old corral.toml is kept at {kept[0]}" in replaced.stdout
    # The copy lives in .corral/, which git is told to ignore: the checkout stays clean.
    assert git(repo, "status", "--porcelain", "--untracked-files=all") == "?? corral.toml\n"


def test_no_cli_installed_gives_the_simulated_agent(repo: Path, tmp_path: Path) -> None:
    result = corral(repo, "init", path=private_path(tmp_path))
    assert result.returncode == 0, result.stderr
    assert agents(repo) == [("sim-1", "sim")]
    assert "no agent CLI is on PATH" in result.stdout
    assert "npm install -g @anthropic-ai/claude-code" in result.stdout
    assert "pip install aider-chat" in result.stdout
    # An example per CLI, commented out, that reads as an agent once uncommented.
    blocks = re.findall(
        r"^# \[\[agent\]\]\n(?:# .*\n)+", (repo / "corral.toml").read_text(), re.MULTILINE
    )
    examples = [
        tomllib.loads("".join(line.removeprefix("# ") for line in block.splitlines(True)))
        for block in blocks
    ]
    assert [example["agent"][0]["kind"] for example in examples] == [
        "claude",
        "codex",
        "gemini",
        "aider",
    ]


def test_repo_option_from_elsewhere(repo: Path, tmp_path: Path) -> None:
    (repo / "src").mkdir()
    result = corral(
        repo / "src",
        "--repo",
        str(repo / "src"),
        "init",
        "--yes",
        path=private_path(tmp_path, "codex"),
    )
    assert result.returncode == 0, result.stderr
    assert (repo / "corral.toml").is_file() and not (repo / "src" / "corral.toml").exists()
    assert f"`corral --repo {repo / 'src'} up`" in result.stdout


def test_not_a_git_repository(tmp_path: Path) -> None:
    folder = tmp_path / "plain"
    folder.mkdir()
    line = one_sentence(corral(folder, "init", "--yes", path=private_path(tmp_path, "claude")))
    assert "not inside a git repository" in line
    assert not (folder / "corral.toml").exists()
