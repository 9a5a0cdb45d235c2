"""The real Claude Code CLI in a tmux pane, against the Messages API stand-in on loopback.

These prove the harness the other Claude tests stand on: a typed prompt reaches the stand-in,
a scripted tool call really changes the repository, and the transcript lands where corral will
look for it. They skip, with the reason, on machines where the CLI cannot be installed.
"""

from __future__ import annotations

import json
import uuid
from pathlib import Path
from typing import Any

import pytest

from tests.helpers import wait_for
from tests.support.claude_cli import input_box, is_idle, is_working
from tests.support.fixtures import StartClaude, transcripts
from tests.support.standin import Reply, StandIn, ToolUse, Usage

DATA = Path(__file__).resolve().parents[1] / "data" / "claude"
LIVE_TIMEOUT = 90


def lines_of(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


@pytest.mark.parametrize(
    ("sample", "idle", "working", "box"),
    [
        ("startup-idle", True, False, ""),
        ("working-slow", False, True, ""),
        ("working-silent-16s", False, True, ""),
        ("interrupted", True, False, "Think quietly for a while."),
        ("idle-after-turn", True, False, ""),
        ("permission-edit", False, False, None),
        ("permission-bash", False, False, None),
        ("question", False, False, None),
        ("rate-limited", False, True, ""),
        ("after-edit", True, False, ""),
        ("after-exit", False, False, None),
    ],
)
def test_the_pane_helpers_read_the_recorded_screens(
    sample: str, idle: bool, working: bool, box: str | None
) -> None:
    """The helpers these tests wait with must agree with what the real CLI drew."""
    screen = (DATA / f"{sample}.txt").read_text()
    assert (is_idle(screen), is_working(screen), input_box(screen)) == (idle, working, box)


@pytest.mark.tmux
@pytest.mark.timeout(LIVE_TIMEOUT)
def test_a_typed_prompt_reaches_the_stand_in_and_its_answer_the_screen(
    start_claude_pane: StartClaude, standin: StandIn, claude_home: Path
) -> None:
    session = str(uuid.uuid4())
    usage = Usage(input_tokens=1234, output_tokens=56, cache_read_input_tokens=789)
    standin.push(Reply(text="Hello from the stand-in.", usage=usage))
    pane = start_claude_pane("--session-id", session)
    pane.wait_idle()

    pane.submit("say hello to the herd")

    standin.wait(lambda requests: any(r.kind == "turn" for r in requests), 30, "a turn")
    (turn,) = standin.turns
    assert turn.path == "/v1/messages"
    assert turn.body["stream"] is True
    assert "say hello to the herd" in turn.last_user_text
    assert {"Bash", "Edit", "Write", "Read"} <= set(turn.tool_names)
    assert json.loads(turn.body["metadata"]["user_id"])["session_id"] == session
    pane.wait_for_text("Hello from the stand-in.", timeout=20)
    pane.wait_idle()

    (transcript,) = transcript_holding(claude_home, session, "Hello from the stand-in.")
    answers = [line for line in lines_of(transcript) if line.get("type") == "assistant"]
    assert answers[-1]["sessionId"] == session
    assert answers[-1]["message"]["usage"]["input_tokens"] == 1234
    assert answers[-1]["message"]["usage"]["cache_read_input_tokens"] == 789


@pytest.mark.tmux
@pytest.mark.timeout(LIVE_TIMEOUT)
def test_a_write_tool_call_really_writes_the_file(
    start_claude_pane: StartClaude,
    standin: StandIn,
    claude_worktree: Path,
    claude_home: Path,
) -> None:
    session = str(uuid.uuid4())
    target = claude_worktree / "notes" / "hello.txt"
    write = ToolUse("Write", {"file_path": str(target), "content": "written by a tool call\n"})
    standin.push(Reply(text="Writing it.", tools=(write,)), Reply(text="The file is written."))
    pane = start_claude_pane("--session-id", session, "--permission-mode", "acceptEdits")
    pane.wait_idle()

    pane.submit("write notes/hello.txt")

    pane.wait_for_text("The file is written.", timeout=30)
    assert target.read_text() == "written by a tool call\n"
    turns = [request for request in standin.requests if request.kind == "turn"]
    assert len(turns) == 2
    assert "File created successfully" in turns[1].last_user_text

    (transcript,) = transcript_holding(claude_home, session, "tool_result")
    calls = [
        block
        for line in lines_of(transcript)
        if line.get("type") == "assistant"
        for block in line["message"]["content"]
        if block.get("type") == "tool_use"
    ]
    assert [(call["name"], call["input"]["file_path"]) for call in calls] == [
        ("Write", str(target))
    ]


def transcript_holding(home: Path, session: str, text: str) -> tuple[Path, ...]:
    """The session's transcript once it holds `text`: it is written a moment after the screen."""

    def found() -> tuple[Path, ...]:
        paths = tuple(transcripts(home, session))
        if paths and all(text in path.read_text() for path in paths):
            return paths
        return ()

    wait_for(found, timeout=15, what=f"a transcript holding {text!r}")
    return found()
