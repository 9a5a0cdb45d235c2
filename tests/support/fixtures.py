"""Fixtures for tests that run real clients against the Messages API stand-in.

Registered from tests/conftest.py with `pytest_plugins = ["tests.support.fixtures"]`.
"""

from __future__ import annotations

import subprocess
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path

import pytest

from tests.support.claude_cli import CLAUDE, claude_env, prepare_home, start_claude
from tests.support.cli_pane import CliPane
from tests.support.standin import StandIn

StartClaude = Callable[..., CliPane]


@pytest.fixture
def standin() -> Iterator[StandIn]:
    """A running stand-in with an empty scenario; tests `push` the steps they need."""
    with StandIn() as api:
        yield api


@pytest.fixture(scope="session")
def claude_cli() -> Path:
    """The real Claude Code binary, installed on first use; skips with the reason if absent."""
    return CLAUDE.program_or_skip()


@pytest.fixture
def claude_worktree(tmp_path: Path) -> Path:
    """A small git repository for the CLI to work in, with one commit on `main`."""
    root = tmp_path / "worktree"
    root.mkdir()
    identity = ["-c", "user.name=Test", "-c", "user.email=test@example.invalid"]
    subprocess.run(["git", "init", "-q", "-b", "main"], cwd=root, check=True)
    (root / "README.md").write_text("# project\n")
    subprocess.run(["git", "add", "README.md"], cwd=root, check=True)
    subprocess.run(["git", *identity, "commit", "-q", "-m", "initial"], cwd=root, check=True)
    return root.resolve()


@pytest.fixture
def claude_home(tmp_path: Path, claude_worktree: Path) -> Path:
    """A private HOME in which the CLI starts straight at its prompt in `claude_worktree`."""
    home = tmp_path / "home"
    prepare_home(home, [claude_worktree])
    return home.resolve()


@pytest.fixture
def start_claude_pane(
    claude_cli: Path, claude_home: Path, claude_worktree: Path, standin: StandIn
) -> Iterator[StartClaude]:
    """Start the real CLI in a pane of a private tmux server that is killed after the test.

    Call it with the CLI's arguments (e.g. `"--session-id", sid`); `cwd`, `env` (extra
    variables) and `size` are keyword options.
    """
    panes: list[CliPane] = []

    def start(
        *args: str,
        cwd: Path | None = None,
        env: dict[str, str] | None = None,
        size: tuple[int, int] = (160, 45),
    ) -> CliPane:
        environment = claude_env(claude_home, standin.url, extra=env)
        pane = start_claude(claude_cli, cwd or claude_worktree, environment, args, size=size)
        panes.append(pane)
        return pane

    yield start
    for pane in panes:
        pane.kill_server()


def transcripts(home: Path, session_id: str) -> Sequence[Path]:
    """The transcript files for a session, wherever this version puts its project folder."""
    return sorted((home / ".claude" / "projects").glob(f"*/{session_id}.jsonl"))
