"""Seeded random turns for when no scenario is given.

The plan is drawn from the seed and the file list only, never from the clock or the file
contents, so a benchmark or a demo run with the same seed on the same tree repeats itself.
"""

from __future__ import annotations

import random
import re
import zlib
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import PurePosixPath

from sessions.sim.scenario import Step

VERBS = (
    "Pondering",
    "Reticulating",
    "Noodling",
    "Herding",
    "Brewing",
    "Conjuring",
    "Percolating",
    "Wrangling",
    "Mulling",
    "Tinkering",
)
TEXT_SUFFIXES = frozenset(
    {".py", ".md", ".txt", ".toml", ".js", ".ts", ".sh", ".rs", ".go", ".c", ".h", ".yaml", ".yml"}
)
_SHARED = ("PROGRESS.md", "notes/", "current_tasks/")
_COMMANDS: tuple[tuple[str, ...], ...] = (
    ("git", "status", "--short"),
    ("git", "log", "--oneline", "-5"),
    ("git", "diff", "--stat"),
    ("python", "-c", "import platform; print(platform.python_version())"),
    ("python", "-c", "print(sum(range(100000)))"),
)
_PATTERNS = ("TODO", "def ", "import", "return", "class ")
_TOOLS = ("read", "grep", "edit", "bash", "note")
_WEIGHTS = (30, 10, 30, 20, 10)
_ACTIONS = ("Add tests for", "Tidy up", "Speed up", "Document", "Fix edge cases in", "Refactor")
_TOPICS = ("handoff", "findings", "design")
_REMARKS = (
    "Let me look at {file} first.",
    "{file} looks like the right place for this.",
    "The change to {file} is small; checking the callers next.",
    "Done with {file}. Running a quick check.",
)


@dataclass(frozen=True)
class Turn:
    verb: str
    steps: tuple[Step, ...]


def seed_for(name: str) -> int:
    """A seed that is the same for a name across runs (unlike `hash`, which is salted)."""
    return zlib.crc32(name.encode())


def plan_turn(
    rng: random.Random, files: Sequence[str], agent: str, ask_chance: float = 0.0
) -> Turn:
    texts = sorted(f for f in set(files) if PurePosixPath(f).suffix in TEXT_SUFFIXES)
    editable = [f for f in texts if not f.startswith(_SHARED)] or [f"sim_{identifier(agent)}.py"]
    readable = texts or editable
    verb = rng.choice(VERBS)
    steps: list[Step] = []
    task = None
    if rng.random() < 0.25:
        task = f"{rng.choice(_ACTIONS)} {PurePosixPath(rng.choice(editable)).stem}"
        steps += [Step("lock", task=task), Step("progress", item=task)]
    for _ in range(rng.randint(3, 8)):
        steps.append(Step("think", seconds=round(rng.uniform(0.4, 2.0), 3)))
        if rng.random() < 0.3:
            remark = rng.choice(_REMARKS).format(file=rng.choice(readable))
            steps.append(Step("say", text=remark))
        steps += _tool(rng, rng.choices(_TOOLS, _WEIGHTS)[0], readable, editable, ask_chance)
    if task is not None:
        steps.append(Step("progress", tick=task))
    if task is not None or rng.random() < 0.45:
        subject = task or f"{rng.choice(_ACTIONS)} {PurePosixPath(rng.choice(editable)).stem}"
        steps.append(Step("commit", message=subject))
    if task is not None:
        steps.append(Step("unlock", task=task))
    return Turn(verb=verb, steps=tuple(steps))


def _tool(
    rng: random.Random, kind: str, readable: list[str], editable: list[str], ask_chance: float
) -> list[Step]:
    if kind == "read":
        return [Step("read", path=rng.choice(readable))]
    if kind == "grep":
        return [Step("grep", pattern=rng.choice(_PATTERNS), path=".")]
    if kind == "bash":
        return [Step("bash", argv=rng.choice(_COMMANDS))]
    if kind == "note":
        topic = rng.choice(_TOPICS)
        text = rng.choice(_REMARKS).format(file=rng.choice(readable))
        return [Step("note", topic=topic, text=text)]
    path = rng.choice(editable)
    ask = rng.random() < ask_chance
    return [Step("ask", path=path), Step("edit", path=path)] if ask else [Step("edit", path=path)]


def identifier(name: str) -> str:
    """The agent name as a Python identifier, for the function an edit rewrites."""
    return re.sub(r"\W", "_", name).strip("_").lower() or "agent"
