"""Screen patterns against screens recorded from the real Claude Code CLI (tests/data/claude)."""

from __future__ import annotations

from pathlib import Path

import pytest

from sessions.core.screen_rules import Look, read_screen, table

DATA = Path(__file__).parent.parent / "data" / "claude"


def seen_on(kind: str) -> str:
    rules = table(kind)
    assert rules is not None
    return rules.seen_on


@pytest.mark.parametrize(
    ("sample", "look"),
    [
        ("startup-idle", Look.IDLE),
        ("idle-after-turn", Look.IDLE),
        ("after-edit", Look.IDLE),
        ("after-permission-no", Look.IDLE),
        ("interrupted", Look.IDLE),
        ("api-error", Look.IDLE),
        ("working-slow", Look.WORKING),
        ("working-silent-16s", Look.WORKING),
        ("rate-limited", Look.WORKING),
        ("permission-edit", Look.DIALOG),
        ("permission-bash", Look.DIALOG),
        ("question", Look.QUESTION),
        ("after-exit", Look.EXITED),
    ],
)
def test_recorded_claude_screens(sample: str, look: Look) -> None:
    reading = read_screen("claude", (DATA / f"{sample}.txt").read_text())
    assert reading.look is look, f"{sample} ({seen_on('claude')}): {reading}"


def test_text_above_the_footer_cannot_fool_the_patterns() -> None:
    screen = (DATA / "startup-idle.txt").read_text()
    quoted = "● The README says: press esc to interrupt, Do you want to proceed?\n" + screen
    assert read_screen("claude", quoted).look is Look.IDLE


def test_unknown_kind_says_so() -> None:
    reading = read_screen("shell", "$ ")
    assert reading.look is Look.UNKNOWN and "shell" in reading.detail


def test_the_input_box_is_read_empty_or_holding_a_prompt_put_back() -> None:
    from sessions.core.screen_rules import input_box

    def recorded(name: str) -> str:
        return (DATA / name).read_text()

    assert input_box("claude", recorded("idle-after-turn.txt")) == ""
    assert input_box("claude", recorded("startup-idle.txt")) == ""
    assert input_box("claude", recorded("interrupted.txt")) == "Think quietly for a while."
    assert input_box("claude", recorded("permission-bash.txt")) is None
    assert input_box("codex", recorded("interrupted.txt")) is None
