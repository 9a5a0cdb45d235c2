"""Fixtures shared by every test folder: real git repositories and corral's real tmux server."""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
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


@pytest.fixture(autouse=True)
def own_tmux_servers(monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """Every tmux server a test starts is its own and ends with it, whoever starts it: the test,
    corral's command line in a process of its own, an agent's runner. Each test gets a socket
    folder of its own (`TMUX_TMPDIR`, which tmux and libtmux both go by, and which corral's
    commands and panes inherit), and at teardown libtmux kills every server found there, as its
    pytest plugin does for the servers of its `server` fixture. The folder is short, under
    /tmp: a socket path must fit in 108 bytes."""
    folder = Path(tempfile.mkdtemp(prefix="tmux-test-", dir="/tmp"))
    monkeypatch.setenv("TMUX_TMPDIR", str(folder))
    yield folder
    sockets = sorted((folder / f"tmux-{os.geteuid()}").glob("*"))
    if sockets:
        import libtmux
        from libtmux import exc

        for socket in sockets:
            with contextlib.suppress(exc.LibTmuxException, OSError):
                server = libtmux.Server(socket_path=socket)
                if server.is_alive():
                    server.kill()
    shutil.rmtree(folder, ignore_errors=True)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if shutil.which("tmux"):
        return
    skip = pytest.mark.skip(reason="tmux is not installed: `sudo apt-get install tmux`")
    for item in items:
        if "tmux" in item.keywords:
            item.add_marker(skip)
