"""Screen patterns against screens recorded from the real Codex and Gemini CLIs.

The recordings (tests/data/codex, tests/data/gemini; see tests/data/README.md) come from
`tests.support.record_codex` and `tests.support.record_gemini`: when a new release moves a
string, re-recording makes the sample that no longer reads right fail here, naming it.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from sessions.core.screen_rules import Look, read_screen, table

DATA = Path(__file__).parent.parent / "data"


def seen_on(kind: str) -> str:
    rules = table(kind)
    assert rules is not None
    return rules.seen_on


@pytest.mark.parametrize(
    ("sample", "look"),
    [
        ("startup-idle", Look.IDLE),
        ("working-slow", Look.WORKING),
        ("working-silent", Look.WORKING),
        ("idle-after-turn", Look.IDLE),
        ("interrupted", Look.IDLE),
        ("permission-exec", Look.DIALOG),
        ("after-approval", Look.IDLE),
        ("permission-exec-2", Look.DIALOG),
        ("after-permission-no", Look.IDLE),
        ("after-exit", Look.EXITED),
    ],
)
def test_recorded_codex_screens(sample: str, look: Look) -> None:
    reading = read_screen("codex", (DATA / "codex" / f"{sample}.txt").read_text())
    assert reading.look is look, f"{sample} ({seen_on('codex')}): {reading}"


@pytest.mark.parametrize(
    ("sample", "look"),
    [
        ("trust-dialog", Look.DIALOG),
        ("startup-idle", Look.IDLE),
        ("startup-defaults-refused", Look.IDLE),
        ("working-slow", Look.WORKING),
        ("idle-after-turn", Look.IDLE),
        ("interrupted", Look.IDLE),
        ("working-hooks", Look.WORKING),
        ("permission-shell", Look.DIALOG),
        ("after-approval", Look.IDLE),
        ("permission-shell-2", Look.DIALOG),
        ("after-permission-no", Look.IDLE),
        ("after-exit", Look.EXITED),
    ],
)
def test_recorded_gemini_screens(sample: str, look: Look) -> None:
    reading = read_screen("gemini", (DATA / "gemini" / f"{sample}.txt").read_text())
    assert reading.look is look, f"{sample} ({seen_on('gemini')}): {reading}"


def test_codex_text_above_the_prompt_cannot_fool_the_patterns() -> None:
    """The agent's own words quoting the footer strings stay above the status lines."""
    screen = (DATA / "codex" / "idle-after-turn.txt").read_text()
    quoted = screen.replace(
        "• That took a while, but here it is.",
        "• Press enter to confirm or esc to cancel; (2s • esc to interrupt)",
    )
    assert quoted != screen
    assert read_screen("codex", quoted).look is Look.IDLE


def test_gemini_text_in_the_history_cannot_fool_the_patterns() -> None:
    """The last answer sits within the windows of the dialog and working patterns."""
    screen = (DATA / "gemini" / "idle-after-turn.txt").read_text()
    quoted = screen.replace(
        "✦ That took a while, but here it is.",
        "✦ │ Allow execution of [Shell]? ⠧ Thinking... (esc to cancel, 2s)",
    )
    assert quoted != screen
    assert read_screen("gemini", quoted).look is Look.IDLE


def test_the_tables_name_the_recorded_versions() -> None:
    assert "0.171.0" in seen_on("codex")
    assert "0.61.0" in seen_on("gemini")
