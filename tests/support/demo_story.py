"""What a script watching `corral demo` sees, and which parts of the demo's story it lacks.

Shared by the demo test (corral from this checkout) and the wheel test (corral installed from
the built wheel), so both hold the demo to the same story. `corral` is the argv that runs the
command: `[python, "-m", "tui.cli"]` or the installed `corral` script.
"""

from __future__ import annotations

import json
import subprocess
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import pytest

DEMO_AGENTS = frozenset({"builder-1", "builder-2", "reviewer", "asker", "crasher"})


def look(corral: Sequence[str], root: Path, env: Mapping[str, str] | None = None) -> dict[str, Any]:
    """One round of `ls`, `conflicts`, `locks` and `notes` with --json, run at once, since each
    is a whole corral start-up and a look."""
    commands = ("ls", "conflicts", "locks", "notes")
    running = {
        command: subprocess.Popen(
            [*corral, "--repo", str(root), command, "--json"],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=env,
        )
        for command in commands
    }
    seen = {}
    for command, process in running.items():
        out, err = process.communicate(timeout=60)
        assert process.returncode == 0, f"corral {command}: {err}"
        seen[command] = json.loads(out)
    return seen


def missing(seen: dict[str, Any]) -> list[str]:
    """The parts of the story this round does not show yet (empty: all of it)."""
    agents = {agent["name"]: agent for agent in seen["ls"]["agents"]}
    gaps = []
    if set(agents) != DEMO_AGENTS:
        gaps.append(f"the five agents (have {sorted(agents)})")
        return gaps
    merges = [
        c
        for c in seen["conflicts"]["conflicts"]
        if c["level"] == "merge" and c["agents"] == ["builder-1", "builder-2"]
    ]
    if not merges:
        gaps.append("a merge-level conflict between the builders")
    if agents["reviewer"]["role"] != "observer":
        gaps.append("the reviewer as an observer")
    if agents["asker"]["state"] != "needs_input":
        gaps.append("asker needing input")
    stale = [
        lock
        for lock in seen["locks"]["locks"]
        if lock["holder"] == "crasher" and lock["stale"] and not lock["orphaned"]
    ]
    if not stale or agents["crasher"]["state"] not in ("exited", "crash_looping"):
        gaps.append("crasher stopped, its lock stale")
    changed = {(c["agent"], c["path"]) for c in seen["notes"]["changes"]}
    wanted = {
        ("builder-1", "PROGRESS.md"),
        ("builder-1", "notes/handoff.md"),
        ("builder-2", "PROGRESS.md"),
        ("builder-2", "notes/findings.md"),
    }
    if not wanted <= changed:
        gaps.append(f"PROGRESS.md and notes changes by the builders (have {sorted(changed)})")
    return gaps


def wait_for_story(
    corral: Sequence[str], root: Path, timeout: float, env: Mapping[str, str] | None = None
) -> tuple[dict[str, Any], int]:
    """Look until the whole story is told; the round that told it and how many looks it took.
    Fails naming what is still missing after `timeout` seconds."""
    end = time.monotonic() + timeout
    rounds = 0
    while True:
        seen = look(corral, root, env)
        rounds += 1
        gaps = missing(seen)
        if not gaps:
            return seen, rounds
        if time.monotonic() > end:
            pytest.fail(f"after {timeout:g} s the demo still lacks {gaps}")
        time.sleep(0.2)
