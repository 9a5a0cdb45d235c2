"""What a summary is written from and what asking for one can come back with; the one-line
summary itself is `sessions.core.model.Summary`, since every agent's view carries it.

`sessions.services.briefs` gathers briefs and `sessions.services.summaries` asks the model;
these values stand apart from both so the dashboard can draw them without importing the
anthropic SDK.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Brief:
    """What one agent's summary is written from: its facts as redacted sections."""

    agent: str
    state: str
    sections: tuple[str, ...]


@dataclass(frozen=True)
class Digest:
    """What changed across the herd while the user was away, as a model wrote it, and when."""

    text: str
    since: float
    t: float
    cost_usd: float | None = None


@dataclass(frozen=True)
class Skipped:
    """No summary this time, and the sentence that says why."""

    agent: str | None
    reason: str
