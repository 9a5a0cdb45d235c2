"""What an agent's screen says, read by patterns: one table per agent kind.

The screen is the evidence no agent can forget to send: a permission dialog, an interrupted
turn, a finished one. Each table names the agent version its patterns were seen on, so a change
in a new release is found by its recorded sample failing, not by a user. A pattern looks only
at the bottom of the screen, where these CLIs draw their footer, so text the agent printed
above (a README quoting "esc to interrupt") cannot fool it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum


class Look(StrEnum):
    """What the screen shows, as far as patterns can tell."""

    WORKING = "working"
    DIALOG = "dialog"
    QUESTION = "question"
    IDLE = "idle"
    BACKGROUND = "background"
    EXITED = "exited"
    UNKNOWN = "unknown"


@dataclass(frozen=True)
class Pattern:
    look: Look
    regex: re.Pattern[str]
    detail: str
    lines: int = 6


@dataclass(frozen=True)
class Table:
    kind: str
    seen_on: str
    patterns: tuple[Pattern, ...]


@dataclass(frozen=True)
class Reading:
    look: Look
    detail: str


def _p(look: Look, regex: str, detail: str, lines: int = 6) -> Pattern:
    return Pattern(look, re.compile(regex, re.MULTILINE), detail, lines)


CLAUDE = Table(
    kind="claude",
    seen_on="Claude Code 2.1.330 (160x45, tests/data/claude)",
    patterns=(
        _p(Look.EXITED, r"Resume this session with:", "the session ended", 12),
        _p(Look.DIALOG, r"Esc to cancel · Tab to amend", "a permission dialog", 3),
        _p(Look.QUESTION, r"Enter to select · ↑/↓ to navigate", "a question", 3),
        _p(Look.WORKING, r"esc to interrupt", "esc to interrupt in the footer", 2),
        _p(
            Look.BACKGROUND,
            r"\d+ (?:background )?(?:tasks?|shells?|agents?) running",
            "a background task",
            4,
        ),
        _p(Look.IDLE, r"^\s*❯", "the input box", 8),
    ),
)

CODEX = Table(
    kind="codex",
    seen_on="Codex CLI 0.171.0 (160x45, tests/data/codex)",
    patterns=(
        _p(Look.EXITED, r"To continue this session, run", "the session ended", 8),
        # The approval's last line; older releases asked "Allow command?" (not recorded).
        _p(
            Look.DIALOG,
            r"Allow command\?|[Pp]ress enter to confirm or esc to cancel",
            "an approval",
            3,
        ),
        # The status line right above the prompt: `• Working (2s • esc to interrupt)`. Its
        # own line is followed by the prompt, which the agent's text never is.
        _p(
            Look.WORKING,
            r"\(\d+[hms][^)\n]*esc to interrupt\)\s*\n› ",
            "esc to interrupt above the prompt",
            6,
        ),
        _p(Look.IDLE, r"^› ", "the prompt", 6),
    ),
)

GEMINI = Table(
    kind="gemini",
    seen_on="Gemini CLI 0.61.0 (160x45, tests/data/gemini)",
    patterns=(
        _p(Look.EXITED, r"To resume this session: gemini --resume", "the session ended", 6),
        # Confirmations are drawn in a box that replaces the input box; the agent's text is
        # never inside one. Only the shell and folder-trust questions are recorded.
        _p(
            Look.DIALOG,
            r"^ ?│ (?:Allow execution of \[|Apply this change\?|Waiting for user confirmation"
            r"|Do you trust the files in this folder\?)",
            "a confirmation",
            15,
        ),
        # The spinner line right above the input box's rule:
        # `⠧ Thinking... (esc to cancel, 2s)` (or `Executing Hooks: ...` while hooks run).
        _p(
            Look.WORKING,
            r"\(esc to cancel, \d+[hms][^\n]*\n─{20,}",
            "esc to cancel above the input box",
            10,
        ),
        _p(Look.IDLE, r"^ *> ", "the input box", 6),
    ),
)

AIDER = Table(
    kind="aider",
    seen_on="Aider (FORMATS.md; no recorded sample yet)",
    patterns=(
        _p(
            Look.DIALOG,
            r"\(Y\)es/\(N\)o(?:/\(D\)on't ask again)? \[(?:Yes|No)\]:",
            "a confirm prompt",
            3,
        ),
        _p(Look.IDLE, r"^\S*> ?$", "its prompt", 2),
    ),
)

SIM = Table(
    kind="sim",
    seen_on="corral's simulated agent (draws Claude Code's screen)",
    patterns=CLAUDE.patterns,
)

TABLES: dict[str, Table] = {t.kind: t for t in (CLAUDE, CODEX, GEMINI, AIDER, SIM)}


def read_screen(kind: str, text: str) -> Reading:
    """The first pattern of the kind's table that matches the bottom of the screen."""
    table = TABLES.get(kind)
    if table is None:
        return Reading(Look.UNKNOWN, f"no screen patterns for kind {kind}")
    lines = [line for line in text.splitlines() if line.strip()]
    for pattern in table.patterns:
        if pattern.regex.search("\n".join(lines[-pattern.lines :])):
            return Reading(pattern.look, pattern.detail)
    return Reading(Look.UNKNOWN, "no known pattern on screen")


# Kinds that draw their input box between two rules, with a prompt mark on its first line.
_BOXED = frozenset({"claude", "sim"})
_RULE = re.compile(r"^─{20,}")


def input_box(kind: str, text: str) -> str | None:
    """The text waiting in the agent's input box; "" for an empty box, None when no box is
    shown or the kind's box is not known.

    Claude Code puts an interrupted prompt back into its box, and text typed there is sent
    with whatever comes next: `corral send` looks here first so it never appends to it.
    """
    if kind not in _BOXED:
        return None
    lines = text.splitlines()
    rules = [index for index, line in enumerate(lines) if _RULE.match(line)]
    if len(rules) < 2:
        return None
    top, bottom = rules[-2], rules[-1]
    inside = lines[top + 1 : bottom]
    if not inside or not inside[0].lstrip().startswith("❯"):
        return None
    first = inside[0].lstrip().removeprefix("❯")
    return "\n".join([first, *inside[1:]]).strip()
