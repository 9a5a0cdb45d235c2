"""The rules corral.toml turns into, each a frozen value with its defaults written once.

Reading corral.toml needs these and nothing else: they sit on the ground floor so the config
reader never loads the services that follow them (the coordinator, the lock survey, the notes
tracker, the runner).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from enum import StrEnum
from fnmatch import translate
from functools import lru_cache

TELL_MODES = ("off", "warn", "block")


class Restart(StrEnum):
    """What the runner does when the agent's process ends."""

    NEVER = "never"
    ON_FAILURE = "on-failure"
    ALWAYS = "always"


@dataclass(frozen=True)
class Backoff:
    """How the runner paces restarts and when it gives up on a crash loop."""

    clean: float = 5.0
    failure: float = 60.0
    crash_runs: int = 5
    crash_seconds: float = 30.0


@dataclass(frozen=True)
class SummaryRules:
    """corral.toml's `[summaries]`: one-line summaries written by a Claude model. Off unless
    the user turns them on, since they send (redacted) agent output to Anthropic."""

    enabled: bool = False
    model: str = "claude-haiku-5-5"
    hourly_cap_usd: float = 0.50  # never spend more than this in any hour
    on_change: bool = True  # summarise an agent again when its state changes
    every_minutes: float = 10.0  # and at most this often per agent, even when it changes
    input_tokens: int = 4000  # what one request may send, counted with the SDK
    away_minutes: float = 10.0  # gone this long, the dashboard says what changed meanwhile
    redact: tuple[str, ...] = ()  # regular expressions removed on top of the built-in ones
    timeout: float = 30.0  # seconds for one request, retries included


@dataclass(frozen=True)
class RoleRules:
    """How roles and stalls are told; corral.toml's `[roles]` table fills it."""

    window: float = 1800.0
    builder_share: float = 0.1
    builder_files: int = 3
    stall_after: float = 900.0
    coordination: tuple[str, ...] = (
        "PROGRESS.md",
        "progress.md",
        "notes/*",
        "current_tasks/*",
        "completed_tasks/*",
    )

    def is_coordination(self, path: str) -> bool:
        return _matcher(self.coordination)(path)


@lru_cache(maxsize=64)
def _matcher(patterns: tuple[str, ...]) -> Callable[[str], bool]:
    """One compiled test for all the patterns (as `fnmatchcase` reads each): a look asks it
    of every path every agent touched, and trying the patterns one by one cost `corral ls` ms."""
    if not patterns:
        return lambda path: False
    joined = re.compile("|".join(translate(pattern) for pattern in patterns))
    return lambda path: joined.match(path) is not None


@dataclass(frozen=True)
class LockRules:
    """Where locks live and when they count as stale; the config layer fills this in."""

    dirs: tuple[str, ...] = ("current_tasks",)
    done_dirs: tuple[str, ...] = ("completed_tasks",)
    stale_after: float = 3600.0
    idle_after: float = 1800.0


@dataclass(frozen=True)
class NoteRules:
    """What to watch and when a file deserves a warning; the config layer fills it in."""

    globs: tuple[str, ...] = ("PROGRESS.md", "notes/**/*.md")
    max_lines: int = 400
    fast_growth: float = 100.0  # lines per hour
    quiet_after: float = 7 * 86400.0  # seconds without a change
    growth_window: float = 3600.0  # seconds of history the growth rate is taken over


@dataclass(frozen=True)
class CoordinationRules:
    """corral.toml's `[roles]`, `[locks]`, `[notes]` and `[conflicts]` tables."""

    roles: RoleRules = field(default_factory=RoleRules)
    locks: LockRules = field(default_factory=LockRules)
    notes: NoteRules = field(default_factory=NoteRules)
    tell: str = "off"
