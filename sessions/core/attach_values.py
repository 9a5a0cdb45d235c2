"""How an agent's pane is shown in the user's terminal, as a value the app carries out:
`sessions.commands.attach` decides it from where the user runs corral.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class AttachPlan:
    """How to show an agent's pane in the user's terminal, and how they get back.

    `fallback` runs when `argv` fails: a popup needs a client on the user's server, a new
    window does not.
    """

    argv: tuple[str, ...]
    how: str
    back: str
    fallback: tuple[str, ...] = ()
