"""How long the real `corral` takes from its start to a screen with the herd on it.

The dashboard is started in a 200x50 pane of a tmux server of the benchmark's own, over a herd
that already runs, so it adopts every agent. The clock starts just before `tmux new-session`
starts the process and stops when `capture-pane` shows the herd table with every agent's row
(as many as the table has room for). Several checkouts' `corral` can be timed side by side,
one run of each in turn, so load on the shared machine falls on all of them alike.

Python start-up and imports are most of it, and they depend on whether the interpreter finds
compiled bytecode: an installed package has it, a checkout whose environment sets
PYTHONDONTWRITEBYTECODE (and an installer that does not compile) compiles every module on every
start. `bytecode` says which the run measured.
"""

from __future__ import annotations

import importlib.util
import os
from collections.abc import Callable
from pathlib import Path

import textual


def bytecode() -> str:
    """Whether this interpreter starts from compiled bytecode, as the timed ones do."""
    cached = importlib.util.cache_from_source(textual.__file__ or "")
    state = "cached" if Path(cached).exists() else "compiled on every start"
    if os.environ.get("PYTHONDONTWRITEBYTECODE"):
        state += " (PYTHONDONTWRITEBYTECODE is set)"
    return state


def first_frames(
    start: Callable[[str], float], corrals: dict[str, str], runs: int
) -> dict[str, list[float]]:
    """Seconds to the first full table, `runs` per corral, the corrals taking turns, so load
    on the shared machine falls on each alike. `start` times one corral's start (and ends it,
    waiting for it to exit, so one exit never overlaps the next start)."""
    found: dict[str, list[float]] = {label: [] for label in corrals}
    for _ in range(runs):
        for label, corral in corrals.items():
            found[label].append(start(corral))
    return found
