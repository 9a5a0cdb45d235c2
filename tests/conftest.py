"""Fixtures shared by every test folder: real git repositories and corral's real tmux server."""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.helpers import git

pytest_plugins = ["tests.support.fixtures"]

# The real Claude Code CLI is installed once per machine, under the real HOME's cache, before
# each test gets a HOME of its own.
os.environ.setdefault("CORRAL_TEST_CACHE", str(Path.home() / ".cache" / "corral-tests"))


@pytest.fixture(autouse=True)
def private_home(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Every test gets its own HOME, so nothing a test starts (Claude trust entries, tmux
    configuration, agent settings) reads or writes the real user's files."""
    home = tmp_path_factory.mktemp("home")
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.delenv("XDG_CONFIG_HOME", raising=False)
    return home


@pytest.fixture
def own_git_settings(
    monkeypatch: pytest.MonkeyPatch, tmp_path_factory: pytest.TempPathFactory
) -> None:
    """The developer's own git settings (signing, hooks, identity) must not change results."""
    empty = tmp_path_factory.getbasetemp() / "empty.gitconfig"
    empty.touch()
    monkeypatch.setenv("GIT_CONFIG_GLOBAL", str(empty))
    monkeypatch.setenv("GIT_CONFIG_NOSYSTEM", "1")


@pytest.fixture
def make_repo(tmp_path: Path) -> Callable[..., Path]:
    """A real repository with one commit on `main`, and a corral.toml if given."""

    def make(config: str | None = None, name: str = "project") -> Path:
        root = tmp_path / name
        root.mkdir()
        git(root, "init", "-q", "-b", "main")
        (root / "README.md").write_text("# project\n")
        (root / "src").mkdir()
        (root / "src" / "app.py").write_text("def main() -> int:\n    return 0\n")
        (root / "PROGRESS.md").write_text("# Progress\n\n- [ ] first task\n- [ ] second task\n")
        git(root, "add", "-A")
        git(root, "commit", "-q", "-m", "initial")
        if config is not None:
            (root / "corral.toml").write_text(config)
        return root

    return make


@pytest.fixture
def tmux_cleanup() -> Iterator[list[str]]:
    """Socket names to kill after the test, so no tmux server outlives it."""
    sockets: list[str] = []
    yield sockets
    tmux = shutil.which("tmux")
    for socket in sockets:
        if tmux:
            subprocess.run([tmux, "-L", socket, "kill-server"], capture_output=True, check=False)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if shutil.which("tmux"):
        return
    skip = pytest.mark.skip(reason="tmux is not installed: `sudo apt-get install tmux`")
    for item in items:
        if "tmux" in item.keywords:
            item.add_marker(skip)
