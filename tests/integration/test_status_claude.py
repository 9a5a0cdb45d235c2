"""The status of real Claude Code agents run by corral, against the stand-in Messages API.

Every state change here is one that supervisors get wrong: a permission dialog, the answer to
it, a silent wait, an Esc that no hook reports, and the end of the session. The tokens corral
counts must equal what the stand-in reported.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from sessions.core.errors import AgentError
from sessions.core.model import State
from sessions.core.screen_rules import input_box
from sessions.core.usage import RunSpend
from sessions.supervisor import Supervisor
from tests.helpers import wait_for
from tests.support.claude_cli import claude_env, prepare_home
from tests.support.standin import Reply, StandIn, ToolUse, Usage

pytestmark = pytest.mark.tmux

FIRST = Usage(input_tokens=120, output_tokens=30, cache_read_input_tokens=400)
SECOND = Usage(input_tokens=150, output_tokens=12, cache_creation_input_tokens=50)


@pytest.fixture
def claude_herd(
    claude_cli: Path,
    standin: StandIn,
    make_repo: Callable[..., Path],
    private_home: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> Supervisor:
    prepare_home(private_home)
    for key, value in claude_env(private_home, standin.url).items():
        monkeypatch.setenv(key, value)
    config = (
        '[[agent]]\nname = "claude-1"\nkind = "claude"\n'
        f"command = {json.dumps(str(claude_cli))}\n"
        'args = ["--permission-mode", "manual"]\n'
    )
    root = make_repo(config)
    supervisor = Supervisor.open(root)
    supervisor.up()
    return supervisor


def state(supervisor: Supervisor) -> State:
    return supervisor.view("claude-1").state


def becomes(supervisor: Supervisor, wanted: State, timeout: float = 30) -> None:
    wait_for(lambda: state(supervisor) is wanted, timeout=timeout, what=wanted.value)


def reported_runs(supervisor: Supervisor) -> tuple[RunSpend, ...]:
    """Ended runs whose runner has reported what they changed."""
    runs = supervisor.view("claude-1").run_spends
    return runs if runs and all(run.files_written is not None for run in runs) else ()


def test_real_claude_through_dialog_interrupt_and_exit(
    claude_herd: Supervisor, standin: StandIn
) -> None:
    supervisor = claude_herd
    becomes(supervisor, State.IDLE)
    worktree = Path(supervisor.view("claude-1").worktree)
    target = worktree / "notes.md"
    standin.push(
        Reply(
            tools=(ToolUse("Write", {"file_path": str(target), "content": "hello\n"}),),
            usage=FIRST,
            delay=1.5,
        ),
        Reply(text="Wrote the notes.", usage=SECOND),
    )
    supervisor.send("claude-1", "write the notes")
    becomes(supervisor, State.WORKING)
    becomes(supervisor, State.NEEDS_INPUT)
    assert "dialog" in supervisor.view("claude-1").reason
    pane = supervisor.view("claude-1").pane or ""
    supervisor.tmux.run("send-keys", "-t", pane, "1")
    wait_for(target.exists, timeout=30, what="the file written after yes")
    becomes(supervisor, State.IDLE)
    expected = {
        "input": FIRST.input_tokens + SECOND.input_tokens,
        "output": FIRST.output_tokens + SECOND.output_tokens,
        "cache_read": FIRST.cache_read_input_tokens,
        "cache_write": SECOND.cache_creation_input_tokens,
        "reasoning": 0,
        "cache_write_1h": 0,
    }
    wait_for(lambda: supervisor.view("claude-1").tokens == expected, what="the stand-in's tokens")
    assert (supervisor.view("claude-1").cost_usd or 0) > 0
    events = (supervisor.repo.state_dir / "events" / "claude-1.jsonl").read_text()
    for name in ("SessionStart", "UserPromptSubmit", "PermissionRequest", "PostToolUse", "Stop"):
        assert f'"event":"{name}"' in events

    standin.push(Reply(text="slow answer", delay=25))
    supervisor.send("claude-1", "think about it")
    becomes(supervisor, State.WORKING)
    supervisor.tmux.run("send-keys", "-t", pane, "Escape")
    becomes(supervisor, State.IDLE)
    assert "interrupted?" in supervisor.view("claude-1").reason

    # The interrupted prompt is put back in the box: send refuses to append to it, and
    # clears it when told to.
    # In the box, as `send` reads it: the prompt shows first in the transcript above it.
    wait_for(
        lambda: "think about it" in (input_box("claude", supervisor.tmux.capture(pane)) or ""),
        what="prompt put back",
    )
    with pytest.raises(AgentError, match="already holds 'think about it'"):
        supervisor.send("claude-1", "/exit")
    supervisor.send("claude-1", "/exit", replace=True)
    becomes(supervisor, State.EXITED)
    wait_for(lambda: "exited with code 0" in supervisor.view("claude-1").reason, what="code 0")
    assert "exited with code 0" in supervisor.view("claude-1").reason
    # The run wrote notes.md, so it spent tokens and changed something.
    (run,) = wait_for(lambda: reported_runs(supervisor), what="what the run changed")
    assert run.tokens.as_dict() == expected
    assert run.files_written and run.files_written >= 1
    assert run.commits == 0
    assert not run.empty


def test_real_claude_stays_working_through_a_silent_20_second_wait(
    claude_herd: Supervisor, standin: StandIn
) -> None:
    """No screen change but the spinner, no hook, CPU near zero: still working, all along."""
    supervisor = claude_herd
    becomes(supervisor, State.IDLE)
    standin.push(Reply(text="finally", delay=21))
    supervisor.send("claude-1", "take your time")
    becomes(supervisor, State.WORKING)
    began = time.monotonic()
    seen: set[State] = set()

    def twenty_seconds_watched() -> bool:
        seen.add(state(supervisor))
        return time.monotonic() - began >= 20

    wait_for(twenty_seconds_watched, timeout=30, interval=0.5, what="20 s of watching")
    assert seen == {State.WORKING}
    becomes(supervisor, State.IDLE)

    # A run that only talked spent tokens and changed nothing, and says so.
    supervisor.send("claude-1", "/exit")
    becomes(supervisor, State.EXITED)
    (run,) = wait_for(lambda: reported_runs(supervisor), what="what the run changed")
    view = supervisor.view("claude-1")
    assert run.tokens.output > 0
    assert (run.files_written, run.commits) == (0, 0)
    assert run.empty
    assert view.empty_runs == 1
    assert view.to_json()["empty_runs"] == 1
