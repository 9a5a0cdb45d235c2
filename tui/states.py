"""How a state looks: a mark and a word always, and a colour from the theme on top.

Colour alone never carries a state (a colour-blind user, a monochrome terminal): every cell says
the word as well. The colours are theme variables, `agent-<state>`, that a theme may override;
`DEFAULTS` is what they are when it does not.
"""

from __future__ import annotations

from collections.abc import Mapping

from rich.style import Style
from textual.color import Color, ColorParseError

from sessions.model import State

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

# The theme variable of each state, and its value when the theme sets none.
VARIABLES = {state: f"agent-{state.value.replace('_', '-')}" for state in State}
DEFAULTS = {
    "agent-starting": "#5fafd7",
    "agent-working": "#5fd75f",
    "agent-needs-input": "#ffaf00",
    "agent-idle": "#8a8a8a",
    "agent-paused": "#af87ff",
    "agent-shelved": "#6c6c6c",
    "agent-exited": "#ff5f5f",
    "agent-crash-looping": "#ff2f5f",
}
# States that ask for the user: bold, so they stand out even without colour.
LOUD = frozenset({State.NEEDS_INPUT, State.CRASH_LOOPING, State.EXITED})


def style_of(state: State, variables: Mapping[str, str]) -> Style:
    name = VARIABLES[state]
    value = variables.get(name) or DEFAULTS[name]
    try:
        color = Color.parse(value)
    except ColorParseError:
        color = Color.parse(DEFAULTS[name])
    return Style(color=color.rich_color, bold=state in LOUD)


def label(state: State) -> str:
    return f"{MARKS[state]} {WORDS[state]}"
