"""The status of a real Codex CLI agent run by corral, against the Responses API stand-in.

Codex draws its own screen (a status line above the prompt, a boxed approval) and reports
only finished turns through `notify`, so this checks that the patterns recorded from it carry
a real agent through a slow turn, an approval and back to the prompt.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from sessions.core.model import State
from sessions.supervisor import Supervisor
from tests.helpers import wait_for
from tests.support.codex_cli import API_KEY_VARIABLE, CODEX, codex_env, prepare_codex_home
from tests.support.responses_standin import ResponsesStandIn
from tests.support.scripted_api import Call, Turn

pytestmark = pytest.mark.tmux


@pytest.fixture(scope="session")
def codex_cli() -> Path:
    """The real Codex binary, installed on first use; skips with the reason if absent."""
    return CODEX.program_or_skip()


@pytest.fixture
def responses_api() -> Iterator[ResponsesStandIn]:
    with ResponsesStandIn() as api:
        yield api


@pytest.fixture
def codex_herd(
    codex_cli: Path,
    responses_api: ResponsesStandIn,
    make_repo: Callable[..., Path],
    private_home: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> Supervisor:
    root = make_repo()
    # corral puts the worktree at ../<repo>.corral/<name>: trust it before Codex first sees it.
    worktree = (root / ".." / f"{root.name}.corral").resolve() / "codex-1"
    codex_home = private_home / ".codex"
    prepare_codex_home(codex_home, responses_api.url, [worktree])
    env = codex_env(private_home, codex_home)
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    # The runner gives the agent a clean environment: what Codex needs goes in [agent.env].
    wanted = {key: env[key] for key in ("HOME", "CODEX_HOME", API_KEY_VARIABLE)}
    table = "".join(f"{key} = {json.dumps(value)}\n" for key, value in wanted.items())
    (root / "corral.toml").write_text(
        '[[agent]]\nname = "codex-1"\nkind = "codex"\n'
        f"command = {json.dumps(str(codex_cli))}\n[agent.env]\n{table}"
    )
    supervisor = Supervisor.open(root)
    supervisor.up()
    return supervisor


def state(supervisor: Supervisor) -> State:
    return supervisor.view("codex-1").state


def becomes(supervisor: Supervisor, wanted: State, timeout: float = 30) -> None:
    """Wait for a state; on a timeout, say what corral saw instead and show the screen."""
    try:
        wait_for(lambda: state(supervisor) is wanted, timeout=timeout, what=wanted.value)
    except BaseException:
        view = supervisor.view("codex-1")
        screen = supervisor.tmux.capture(view.pane) if view.pane else ""
        print(f"state {view.state.value}: {view.reason}\n{screen}")
        raise


def test_real_codex_goes_idle_working_needs_input_idle(
    codex_herd: Supervisor, responses_api: ResponsesStandIn
) -> None:
    supervisor = codex_herd
    becomes(supervisor, State.IDLE)
    worktree = Path(supervisor.view("codex-1").worktree)
    escalated = {
        "cmd": "echo corral > marker.txt",
        "sandbox_permissions": "require_escalated",
        "justification": "Do you want to write a marker file?",
    }
    responses_api.push(
        Turn(calls=(Call("exec_command", escalated),), delay=4),
        Turn(text="Wrote the marker file."),
    )
    supervisor.send("codex-1", "write the marker file")
    becomes(supervisor, State.WORKING)
    becomes(supervisor, State.NEEDS_INPUT)
    assert "approval" in supervisor.view("codex-1").reason
    pane = supervisor.view("codex-1").pane or ""
    supervisor.tmux.run("send-keys", "-t", pane, "Enter")
    wait_for((worktree / "marker.txt").exists, timeout=20, what="the approved command's file")
    becomes(supervisor, State.IDLE)
    events = supervisor.repo.state_dir / "events" / "codex-1.jsonl"
    wait_for(lambda: events.exists() and '"event":"Stop"' in events.read_text(), what="notify")
