"""The status of a real Gemini CLI agent run by corral, against the Gemini API stand-in.

Gemini CLI draws its spinner above the input box and its confirmations in a box that replaces
it; the first test checks that the patterns recorded from it carry a real agent through a slow
turn, a shell confirmation and back to the prompt. The second takes the screen patterns away,
so the same states can only come from corral's hooks, installed in the worktree's
`.gemini/settings.json` with the worktree trusted by corral itself (the private HOME trusts
nothing). It runs with the folders above the repository and the worktree group-writable: the
CLI refuses a system-defaults file under such folders, which is how corral used to install
its hooks, and the workspace layer must not care.
"""

from __future__ import annotations

import json
import stat
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from sessions.core import screen_rules
from sessions.core.model import State
from sessions.supervisor import Supervisor
from tests.helpers import git, wait_for
from tests.support.gemini_cli import GEMINI, gemini_env, prepare_gemini_home
from tests.support.gemini_standin import GeminiStandIn
from tests.support.scripted_api import Call, Turn

pytestmark = pytest.mark.tmux

NAME = "gemini-1"


@pytest.fixture(scope="session")
def gemini_cli() -> Path:
    """The real Gemini CLI, installed on first use; skips with the reason if absent."""
    return GEMINI.program_or_skip()


@pytest.fixture
def gemini_api() -> Iterator[GeminiStandIn]:
    with GeminiStandIn() as api:
        yield api


# Gemini CLI strips all but a few variables from its hooks' environment (CORRAL_AGENT and
# CORRAL_HOME too) when GITHUB_SHA or SURFACE say it runs in GitHub Actions, and treats the run
# as headless under CI=true or GITHUB_ACTIONS=true.
CI_VARIABLES = ("GITHUB_SHA", "SURFACE", "CI", "GITHUB_ACTIONS")


@pytest.fixture
def gemini_herd(
    gemini_cli: Path,
    gemini_api: GeminiStandIn,
    make_repo: Callable[..., Path],
    private_home: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> Callable[[bool], Supervisor]:
    """Start one Gemini agent; `loose` makes the folders above it group-writable first."""

    def start(loose: bool) -> Supervisor:
        root = make_repo()
        # corral puts the worktree at ../<repo>.corral/<name>; nothing trusts it beforehand.
        worktrees = (root / ".." / f"{root.name}.corral").resolve()
        if loose:
            worktrees.mkdir()
            for folder in (root.parent, worktrees):
                folder.chmod(folder.stat().st_mode | stat.S_IWGRP)
        prepare_gemini_home(private_home)
        env = gemini_env(private_home, gemini_api.url)
        for key, value in env.items():
            monkeypatch.setenv(key, value)
        for key in CI_VARIABLES:
            monkeypatch.delenv(key, raising=False)
        # The runner gives the agent a clean environment: what the CLI needs goes in [agent.env].
        keys = ("HOME", "GOOGLE_GEMINI_BASE_URL", "GEMINI_API_KEY", "COLORTERM")
        table = "".join(f"{key} = {json.dumps(env[key])}\n" for key in keys)
        (root / "corral.toml").write_text(
            f'[[agent]]\nname = "{NAME}"\nkind = "gemini"\n'
            f"command = {json.dumps(str(gemini_cli))}\n[agent.env]\n{table}"
        )
        supervisor = Supervisor.open(root)
        [outcome] = supervisor.up()
        assert outcome.action == "started" and ";" not in outcome.message, outcome.message
        return supervisor

    return start


def becomes(supervisor: Supervisor, wanted: State, timeout: float = 30) -> None:
    """Wait for a state; on a timeout, say what corral saw instead and show the screen."""
    try:
        wait_for(lambda: supervisor.view(NAME).state is wanted, timeout=timeout, what=wanted.value)
    except BaseException:
        view = supervisor.view(NAME)
        screen = supervisor.tmux.capture(view.pane) if view.pane else ""
        print(f"state {view.state.value}: {view.reason}\n{screen}")
        raise


def events(supervisor: Supervisor) -> list[dict[str, Any]]:
    path = supervisor.repo.state_dir / "events" / f"{NAME}.jsonl"
    lines = path.read_text().splitlines() if path.exists() else []
    return [json.loads(line) for line in lines]


def one_turn_with_a_confirmation(
    supervisor: Supervisor, api: GeminiStandIn, needs_input_reason: str
) -> Path:
    """A prompt whose shell command waits for "Allow once", then the answer; the worktree."""
    worktree = Path(supervisor.view(NAME).worktree)
    shell = {"command": "echo corral > marker.txt", "description": "Write a marker file."}
    api.push(
        Turn(calls=(Call("run_shell_command", shell),), delay=4),
        Turn(text="Wrote the marker file."),
    )
    supervisor.send(NAME, "write the marker file")
    becomes(supervisor, State.WORKING)
    becomes(supervisor, State.NEEDS_INPUT)
    assert needs_input_reason in supervisor.view(NAME).reason
    pane = supervisor.view(NAME).pane or ""
    # The hook fires before the dialog takes keys: answer it once it is drawn, as a user would.
    wait_for(
        lambda: "1. Allow once" in supervisor.tmux.capture(pane), timeout=10, what="the dialog"
    )
    supervisor.tmux.run("send-keys", "-t", pane, "Enter")
    wait_for((worktree / "marker.txt").exists, timeout=20, what="the allowed command's file")
    becomes(supervisor, State.IDLE)
    return worktree


def assert_the_turn_was_reported(supervisor: Supervisor, worktree: Path) -> None:
    wait_for(
        lambda: any(e["event"] == "AfterAgent" for e in events(supervisor)),
        timeout=20,
        what="AfterAgent",
    )
    seen = events(supervisor)
    names = [e["event"] for e in seen]
    asked = next(
        i
        for i, e in enumerate(seen)
        if e["event"] == "Notification" and e.get("notification_type") == "ToolPermission"
    )
    before = names.index("BeforeTool")
    assert names.index("SessionStart") < names.index("BeforeAgent") < before < asked, names
    assert asked < names.index("AfterTool") < len(names) - 1 - names[::-1].index("AfterAgent")
    tool = seen[before]
    assert (tool["kind"], tool["agent"], tool["tool"], tool["cls"]) == (
        "gemini",
        NAME,
        "run_shell_command",
        "exec",
    )
    assert not (supervisor.repo.state_dir / "hook-errors.log").exists()
    assert git(worktree, "status", "--porcelain").strip() == "?? marker.txt"


def test_real_gemini_goes_idle_working_needs_input_idle(
    gemini_herd: Callable[[bool], Supervisor], gemini_api: GeminiStandIn
) -> None:
    supervisor = gemini_herd(False)
    becomes(supervisor, State.IDLE, timeout=40)
    worktree = one_turn_with_a_confirmation(supervisor, gemini_api, "confirmation")
    assert_the_turn_was_reported(supervisor, worktree)


def test_real_gemini_hooks_alone_carry_the_status_under_group_writable_folders(
    gemini_herd: Callable[[bool], Supervisor],
    gemini_api: GeminiStandIn,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setitem(screen_rules.TABLES, "gemini", None)
    supervisor = gemini_herd(True)
    becomes(supervisor, State.IDLE, timeout=40)
    assert "hook SessionStart" in supervisor.view(NAME).reason
    pane = supervisor.view(NAME).pane or ""
    wait_for(
        lambda: "Type your message" in supervisor.tmux.capture(pane),
        timeout=20,
        what="the input box",
    )
    worktree = one_turn_with_a_confirmation(supervisor, gemini_api, "hook asked for permission")
    assert "hook AfterAgent" in supervisor.view(NAME).reason
    assert_the_turn_was_reported(supervisor, worktree)
