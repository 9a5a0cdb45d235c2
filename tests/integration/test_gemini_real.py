"""The status of a real Gemini CLI agent run by corral, against the Gemini API stand-in.

Gemini CLI draws its spinner above the input box and its confirmations in a box that replaces
it; this checks that the patterns recorded from it carry a real agent through a slow turn, a
shell confirmation and back to the prompt. Its hooks are not relied on: corral's defaults file
sits under /tmp here, which Gemini CLI refuses to read (tests/data/README.md).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from sessions.model import State
from sessions.repo import Repo
from sessions.supervisor import Supervisor
from tests.helpers import wait_for
from tests.support.gemini_cli import gemini_binary, gemini_env, prepare_gemini_home, why_no_gemini
from tests.support.gemini_standin import GeminiStandIn
from tests.support.scripted_api import Call, Turn

pytestmark = pytest.mark.tmux

NAME = "gemini-1"


@pytest.fixture(scope="session")
def gemini_cli() -> Path:
    """The real Gemini CLI, installed on first use; skips with the reason if absent."""
    program = gemini_binary()
    if program is None:
        pytest.skip(f"real Gemini CLI unavailable: {why_no_gemini()}")
    return program


@pytest.fixture
def gemini_api() -> Iterator[GeminiStandIn]:
    with GeminiStandIn() as api:
        yield api


@pytest.fixture
def gemini_herd(
    gemini_cli: Path,
    gemini_api: GeminiStandIn,
    make_repo: Callable[..., Path],
    tmux_cleanup: list[str],
    private_home: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> Supervisor:
    root = make_repo()
    # corral puts the worktree at ../<repo>.corral/<name>: trust it before the CLI sees it.
    worktree = (root / ".." / f"{root.name}.corral").resolve() / NAME
    prepare_gemini_home(private_home, [worktree])
    env = gemini_env(private_home, gemini_api.url)
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    # The runner gives the agent a clean environment: what the CLI needs goes in [agent.env].
    keys = ("HOME", "GOOGLE_GEMINI_BASE_URL", "GEMINI_API_KEY", "COLORTERM")
    table = "".join(f"{key} = {json.dumps(env[key])}\n" for key in keys)
    (root / "corral.toml").write_text(
        f'[[agent]]\nname = "{NAME}"\nkind = "gemini"\n'
        f"command = {json.dumps(str(gemini_cli))}\n[agent.env]\n{table}"
    )
    tmux_cleanup.append(Repo.discover(root).socket_name)
    supervisor = Supervisor.open(root)
    supervisor.up()
    return supervisor


def becomes(supervisor: Supervisor, wanted: State, timeout: float = 30) -> None:
    """Wait for a state; on a timeout, say what corral saw instead and show the screen."""
    try:
        wait_for(lambda: supervisor.view(NAME).state is wanted, timeout=timeout, what=wanted.value)
    except BaseException:
        view = supervisor.view(NAME)
        screen = supervisor.tmux.capture(view.pane) if view.pane else ""
        print(f"state {view.state.value}: {view.reason}\n{screen}")
        raise


def test_real_gemini_goes_idle_working_needs_input_idle(
    gemini_herd: Supervisor, gemini_api: GeminiStandIn
) -> None:
    supervisor = gemini_herd
    becomes(supervisor, State.IDLE, timeout=40)
    worktree = Path(supervisor.view(NAME).worktree)
    shell = {"command": "echo corral > marker.txt", "description": "Write a marker file."}
    gemini_api.push(
        Turn(calls=(Call("run_shell_command", shell),), delay=4),
        Turn(text="Wrote the marker file."),
    )
    supervisor.send(NAME, "write the marker file")
    becomes(supervisor, State.WORKING)
    becomes(supervisor, State.NEEDS_INPUT)
    assert "confirmation" in supervisor.view(NAME).reason
    pane = supervisor.view(NAME).pane or ""
    supervisor.tmux.run("send-keys", "-t", pane, "Enter")
    wait_for((worktree / "marker.txt").exists, timeout=20, what="the allowed command's file")
    becomes(supervisor, State.IDLE)
