"""`corral watch`: the herd's picture for scripts, written again only when it changes.

A script polling `corral ls --json` pays a new process and a first look on every call and sees
a change up to a poll late. `watch` keeps one supervisor (its readers and folds stay warm, so
each look reads only what is new) and looks at the dashboard's pace.

What counts as a change is what a script acts on: an agent's state and since when, its process,
runs and exit, paused or shelved, its role, its conflicts and summary, the herd's conflicts and
who has not started. A reason's wording ("hook Stop 3 s ago" becoming "4 s ago"), CPU, memory
and token counts ride along in every snapshot written but do not write one on their own: they
move on every look, and a stream that changes every look says nothing.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator, Mapping
from typing import Any

POLL_SECONDS = 0.5  # the dashboard's pace, so watching costs what the dashboard's looks cost

# Fields of an agent that move on every look without anything having happened.
MOVING = frozenset(
    {"reason", "cpu_percent", "rss_bytes", "tokens", "cost_usd", "context_fill", "runs_spent"}
)


def change_key(payload: Mapping[str, Any]) -> object:
    """What of a snapshot a change is judged by: everything but the fields that move anyway."""
    agents = tuple(
        tuple(sorted((key, repr(value)) for key, value in agent.items() if key not in MOVING))
        for agent in payload.get("agents", ())
    )
    rest = tuple(sorted((key, repr(value)) for key, value in payload.items() if key != "agents"))
    return agents, rest


def changes(
    look: Callable[[], Mapping[str, Any]],
    every: float = POLL_SECONDS,
    sleep: Callable[[float], None] = time.sleep,
) -> Iterator[Mapping[str, Any]]:
    """The first snapshot, then each one that differs from the last one given, by
    `change_key`; a look that fails ends the stream with its error."""
    last: object = None
    while True:
        payload = look()
        key = change_key(payload)
        if key != last:
            last = key
            yield payload
        sleep(every)


def transitions(before: Mapping[str, Any] | None, after: Mapping[str, Any]) -> list[str]:
    """One line per agent whose state changed (or that came or went), for a person watching."""
    old = {agent["name"]: agent for agent in (before or {}).get("agents", ())}
    new = {agent["name"]: agent for agent in after.get("agents", ())}
    lines = []
    for name, agent in new.items():
        was = old.get(name)
        if was is None or was["state"] != agent["state"]:
            arrow = f"{was['state']} → " if was else ""
            lines.append(f"{name:<14} {arrow}{agent['state']}: {agent['reason']}")
    lines += [f"{name:<14} gone" for name in old if name not in new]
    return lines
