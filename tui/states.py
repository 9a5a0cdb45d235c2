"""How a state looks: a mark and a word always, and a colour from the theme on top.

Colour alone never carries a state (a colour-blind user, a monochrome terminal): every cell says
the word as well. The colours are theme variables, `agent-<state>`, named by `tui.themes` and
valued by the theme files, so every colour is written in one place: a theme file.
"""

from __future__ import annotations

from collections.abc import Mapping

from rich.color import Color as RichColor
from rich.style import Style
from textual.color import Color, ColorParseError

from sessions.core.model import State
from tui.themes import state_variable

MARKS = {
    State.STARTING: "◌",
    State.WORKING: "●",
    State.NEEDS_INPUT: "?",
    State.IDLE: "○",
    State.PAUSED: "‖",
    State.SHELVED: "▭",
    State.EXITED: "✕",
    State.CRASH_LOOPING: "↻",
}

WORDS = {
    State.STARTING: "starting",
    State.WORKING: "working",
    State.NEEDS_INPUT: "needs input",
    State.IDLE: "idle",
    State.PAUSED: "paused",
    State.SHELVED: "shelved",
    State.EXITED: "exited",
    State.CRASH_LOOPING: "crash loop",
}

# The theme variable of each state. The app's variables always hold them: a theme that lacks
# one borrows corral-dark's (`tui.themes.variable_defaults`, the app's variable defaults).
VARIABLES = {state: state_variable(state.value) for state in State}
# States that ask for the user: bold, so they stand out even without colour.
LOUD = frozenset({State.NEEDS_INPUT, State.CRASH_LOOPING, State.EXITED})


def style_of(state: State, variables: Mapping[str, str]) -> Style:
    """The state's colour from the theme's variables; without a usable one, no colour (the
    mark and the word still say it) rather than a colour written here a second time."""
    return Style(color=_colour(variables, VARIABLES[state]), bold=state in LOUD)


def warning_style(name: str, variables: Mapping[str, str]) -> Style:
    """A herd warning's colour (`conflict`, `lock-stale`) from the theme, bold; the word and
    mark beside it say it without the colour."""
    return Style(color=_colour(variables, name), bold=True)


def _colour(variables: Mapping[str, str], name: str) -> RichColor | None:
    value = variables.get(name, "")
    try:
        return Color.parse(value).rich_color if value else None
    except ColorParseError:
        return None


def label(state: State) -> str:
    return f"{MARKS[state]} {WORDS[state]}"
