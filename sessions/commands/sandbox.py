"""A small but real project for trying corral without agent CLIs or API keys.

The sandbox is an ordinary git repository whose corral.toml runs corral's simulated agents, each
following a script shipped with corral (`sessions/sim/demo/*.toml`), so everything the demo shows
goes through the same runner, worktrees, hooks and journal as real agents. The scripts are
copied into the sandbox, so it keeps working when corral is reinstalled elsewhere, and a marker
file says the folder is a demo sandbox, so `corral demo --clean` never removes anything else.
Running it again on an existing sandbox changes nothing: the herd's work is never reset.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from sessions.adapters.repo import git

FILES = {
    "README.md": (
        '# calc\n\nA tiny calculator the simulated agents work on: `evaluate("1 + 2")` is 3.\n'
        "What is done and what is left is in PROGRESS.md; hand-offs go in notes/.\n"
    ),
    "src/calc.py": (
        '"""Evaluate arithmetic written with spaces between the parts: `1 + 2 - 3`."""\n\n'
        "from src.parser import tokens\n\n"
        "OPERATORS = {\n"
        '    "+": lambda a, b: a + b,\n'
        '    "-": lambda a, b: a - b,\n'
        "}\n\n\n"
        "def evaluate(text: str) -> int:\n"
        '    """Left to right, without precedence; PROGRESS.md has the rest of the plan."""\n'
        "    items = tokens(text)\n"
        "    total = int(items[0])\n"
        "    for operator, number in zip(items[1::2], items[2::2], strict=True):\n"
        "        total = OPERATORS[operator](total, int(number))\n"
        "    return total\n"
    ),
    "src/parser.py": "def tokens(text: str) -> list[str]:\n    return text.split()\n",
    "tests/test_calc.py": (
        "from src.calc import evaluate\n\n\n"
        "def test_add() -> None:\n"
        '    assert evaluate("2 + 3") == 5\n\n\n'
        "def test_left_to_right() -> None:\n"
        '    assert evaluate("5 - 3 + 1") == 3\n'
    ),
    "PROGRESS.md": (
        "# Progress\n\n## Backlog\n\n"
        "- [ ] add multiplication and division\n"
        "- [ ] add a power operator\n"
        "- [ ] report errors with the column\n"
        '- [ ] a command line: `calc "1 + 2"`\n'
        "- [ ] parse parenthesised expressions\n"
    ),
    "notes/README.md": "# Notes\n\nHand-offs between agents go here, one file per topic.\n",
    "current_tasks/.gitkeep": "",
}


@dataclass(frozen=True)
class DemoAgent:
    """One agent of the demo herd: its script (a file in sessions/sim/demo/) and its prompt."""

    name: str
    prompt: str
    comment: str


HERD = (
    DemoAgent(
        "builder-1",
        'Take "add multiplication and division" from PROGRESS.md',
        "changes the operator table in src/calc.py, ticks PROGRESS.md, writes a hand-off",
    ),
    DemoAgent(
        "builder-2",
        'Take "add a power operator" from PROGRESS.md',
        "changes the same lines a little later: the conflict",
    ),
    DemoAgent(
        "reviewer",
        "Review the calculator; read only, change nothing",
        "reads and searches, round and round: an observer",
    ),
    DemoAgent(
        "asker",
        'Take "report errors with the column" from PROGRESS.md',
        "stops at a permission question: needs input until someone answers",
    ),
    DemoAgent(
        "crasher",
        'Take "a command line" from PROGRESS.md',
        'claims a task lock, then crashes; restart = "never" keeps it exited, the lock stale',
    ),
)

# Kept out of git by .git/info/exclude: corral's scripts for the herd and the sandbox marker.
DEMO_DIR = ".corral-demo"
MARKER = "sandbox.json"
SCENARIOS = Path(__file__).resolve().parent.parent / "sim" / "demo"
IDENTITY = ("-c", "user.name=corral demo", "-c", "user.email=demo@corral.invalid")


def marker_path(root: Path) -> Path:
    return root / DEMO_DIR / MARKER


def config_text(root: Path, speed: float = 1.0) -> str:
    """The demo corral.toml: every agent runs its script at `speed` (a multiplier for every
    think time, so 0.3 plays the same story about three times faster)."""
    lines = [
        "# The demo herd: corral's simulated agents, each following a script in",
        f"# {DEMO_DIR}/scenarios/. No agent CLI or API key is needed; they go through the same",
        "# runner, hooks, journal and status as real agents. `corral demo --clean` removes it all.",
        "",
    ]
    for agent in HERD:
        scenario = root / DEMO_DIR / "scenarios" / f"{agent.name}.toml"
        args = ["--scenario", str(scenario), "--speed", f"{speed:g}"]
        lines += [
            f"# {agent.name} {agent.comment}",
            "[[agent]]",
            f"name = {json.dumps(agent.name)}",
            'kind = "sim"',
            f"args = [{', '.join(json.dumps(arg) for arg in args)}]",
            f"prompt = {json.dumps(agent.prompt)}",
            'restart = "never"',
            "",
        ]
    return "\n".join(lines)


def create(folder: Path, speed: float = 1.0) -> Path:
    """Create the sandbox in `folder` unless a repository is already there; return its root."""
    if (folder / ".git").exists():
        return folder
    folder.mkdir(parents=True, exist_ok=True)
    root = folder.resolve()
    for relative, text in FILES.items():
        path = root / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    scenarios = root / DEMO_DIR / "scenarios"
    scenarios.mkdir(parents=True, exist_ok=True)
    for agent in HERD:
        source = SCENARIOS / f"{agent.name}.toml"
        (scenarios / source.name).write_text(source.read_text())
    (root / "corral.toml").write_text(config_text(root, speed))
    git(root, "init", "-q", "-b", "main")
    exclude = root / ".git" / "info" / "exclude"
    exclude.parent.mkdir(parents=True, exist_ok=True)
    with exclude.open("a") as handle:
        handle.write(f"/{DEMO_DIR}/\n")
    git(root, "add", "-A")
    git(root, *IDENTITY, "commit", "-q", "-m", "calc: a tiny calculator")
    # Written last: a folder that has it is a whole sandbox, safe for `--clean` to remove.
    marker = {"corral_demo": 1, "created": round(time.time(), 3), "speed": speed}
    marker_path(root).write_text(json.dumps(marker) + "\n")
    return root


def main(argv: list[str]) -> int:
    if len(argv) != 1:
        print("usage: python -m sessions.commands.sandbox FOLDER", file=sys.stderr)
        return 2
    try:
        root = create(Path(argv[0]).expanduser())
    except (OSError, subprocess.CalledProcessError) as error:
        print(f"cannot create the sandbox in {argv[0]}: {error}", file=sys.stderr)
        return 1
    print(f"sandbox repository: {root}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
