"""What an agent's screen says, read by patterns: one table of screen rules per agent kind.

The screen is the evidence no agent can forget to send: a permission dialog, an interrupted
turn, a finished one. Each kind's rules are a data file beside its kind,
`sessions/agents/screens/<kind>.toml`, naming the CLI version its patterns were recorded on, so
a change in a new release is found by its recorded sample failing, not by a user. A pattern
looks only at the bottom of the screen, where these CLIs draw their footer, so text the agent
printed above (a README quoting "esc to interrupt") cannot fool it.

A table is read and compiled the first time its kind's screen is read, once per process:
`corral ls` pays only for the kinds its herd runs, and the hook never.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import Any

RULES_DIR = Path(__file__).resolve().parent.parent / "agents" / "screens"


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
    # The kind draws its input box between two rules, with a prompt mark on its first line.
    input_box: bool = False


@dataclass(frozen=True)
class Reading:
    look: Look
    detail: str


# Each kind's table once read; None for a kind without screen rules.
TABLES: dict[str, Table | None] = {}


def table(kind: str) -> Table | None:
    """The kind's screen rules, read from its data file the first time they are asked for."""
    if kind not in TABLES:
        TABLES[kind] = _load(kind)
    return TABLES[kind]


def _load(kind: str) -> Table | None:
    import tomllib

    if not (kind.isalpha() and kind.islower()):
        return None
    try:
        data = tomllib.loads((RULES_DIR / f"{kind}.toml").read_text(encoding="utf-8"))
    except FileNotFoundError:
        return None
    borrowed = data.get("same_as")
    if isinstance(borrowed, str):
        lender = table(borrowed)
        patterns = lender.patterns if lender is not None else ()
    else:
        patterns = tuple(_pattern(entry) for entry in data.get("patterns", ()))
    version = data.get("version")
    named = f"{data['cli']} {version}" if version else str(data["cli"])
    return Table(
        kind=kind,
        seen_on=f"{named} ({data['recorded']})",
        patterns=patterns,
        input_box=bool(data.get("input_box", False)),
    )


def _pattern(entry: dict[str, Any]) -> Pattern:
    return Pattern(
        Look(entry["look"]),
        re.compile(entry["regex"], re.MULTILINE),
        str(entry["detail"]),
        int(entry.get("lines", 6)),
    )


def read_screen(kind: str, text: str) -> Reading:
    """The first pattern of the kind's table that matches the bottom of the screen."""
    rules = table(kind)
    if rules is None:
        return Reading(Look.UNKNOWN, f"no screen patterns for kind {kind}")
    lines = [line for line in text.splitlines() if line.strip()]
    for pattern in rules.patterns:
        if pattern.regex.search("\n".join(lines[-pattern.lines :])):
            return Reading(pattern.look, pattern.detail)
    return Reading(Look.UNKNOWN, "no known pattern on screen")


_RULE = re.compile(r"^─{20,}")


def input_box(kind: str, text: str) -> str | None:
    """The text waiting in the agent's input box; "" for an empty box, None when no box is
    shown or the kind's box is not known (`input_box` in its screen rules).

    Claude Code puts an interrupted prompt back into its box, and text typed there is sent
    with whatever comes next: `corral send` looks here first so it never appends to it.
    """
    screen = table(kind)
    if screen is None or not screen.input_box:
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
