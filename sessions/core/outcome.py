"""What an action did to one agent: the value every action of the supervisor answers with.

It sits below the supervisor so that what only shows outcomes (the dashboard, the herd the app
talks to) need not import the supervisor, and what starts agents can make one.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Outcome:
    """What one action did to one agent, in a sentence the user can act on."""

    agent: str
    action: str
    message: str

    @property
    def failed(self) -> bool:
        return self.action == "failed"
