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
from tests.support.claude_cli import ClaudePane, footer
from tests.support.fixtures import StartClaude, transcripts
from tests.support.standin import Reply, StandIn, ToolUse, Usage

pytestmark = [pytest.mark.tmux, pytest.mark.timeout(90)]


def ready(pane: ClaudePane) -> str:
    """Wait for the idle prompt: the input box is drawn and no turn is running."""
    return pane.wait_for(
        lambda screen: (
            "❯" in screen
            and "esc to interrupt" not in footer(screen)
            and ("shift+tab" in footer(screen) or "for shortcuts" in footer(screen))
        ),
        timeout=30,
        what="the idle prompt",
    )


def submit(pane: ClaudePane, prompt: str) -> None:
    """Type a prompt, and press Enter only once it shows, so it is not taken as pasted text."""
    pane.type(prompt)
    pane.wait_for_text(prompt, timeout=10)
    pane.press("Enter")


def lines_of(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def test_a_typed_prompt_reaches_the_stand_in_and_its_answer_the_screen(
    start_claude_pane: StartClaude, standin: StandIn, claude_home: Path
) -> None:
    session = str(uuid.uuid4())
    usage = Usage(input_tokens=1234, output_tokens=56, cache_read_input_tokens=789)
    standin.push(Reply(text="Hello from the stand-in.", usage=usage))
    pane = start_claude_pane("--session-id", session)
    ready(pane)

    submit(pane, "say hello to the herd")

    standin.wait(lambda requests: any(r.kind == "turn" for r in requests), 30, "a turn")
    (turn,) = standin.turns
    assert turn.path == "/v1/messages"
    assert turn.body["stream"] is True
    assert "say hello to the herd" in turn.last_user_text
    assert {"Bash", "Edit", "Write", "Read"} <= set(turn.tool_names)
    assert json.loads(turn.body["metadata"]["user_id"])["session_id"] == session
    pane.wait_for_text("Hello from the stand-in.", timeout=20)
    ready(pane)

    (transcript,) = transcript_holding(claude_home, session, "Hello from the stand-in.")
    answers = [line for line in lines_of(transcript) if line.get("type") == "assistant"]
    assert answers[-1]["sessionId"] == session
    assert answers[-1]["message"]["usage"]["input_tokens"] == 1234
    assert answers[-1]["message"]["usage"]["cache_read_input_tokens"] == 789


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
    ready(pane)

    submit(pane, "write notes/hello.txt")

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
