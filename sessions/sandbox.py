"""A small but real project for trying corral without agent CLIs or API keys.

The sandbox is an ordinary git repository whose corral.toml runs corral's simulated agents, so
everything the demo shows goes through the same runner, worktrees and journal as real agents.
Running it again on an existing sandbox changes nothing: the herd's work is never reset.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from sessions.repo import git

FILES = {
    "README.md": "# calc\n\nA tiny calculator the simulated agents work on.\n",
    "src/calc.py": (
        "def add(a: int, b: int) -> int:\n    return a + b\n\n\n"
        "def sub(a: int, b: int) -> int:\n    return a - b\n"
    ),
    "src/parser.py": ("def tokens(text: str) -> list[str]:\n    return text.split()\n"),
    "tests/test_calc.py": (
        "from src.calc import add, sub\n\n\n"
        "def test_add() -> None:\n    assert add(2, 3) == 5\n\n\n"
        "def test_sub() -> None:\n    assert sub(5, 3) == 2\n"
    ),
    "PROGRESS.md": (
        "# Progress\n\n## Backlog\n\n"
        "- [ ] parse parenthesised expressions\n"
        "- [ ] add multiplication and division\n"
        "- [ ] report errors with the column\n"
        '- [ ] a command line: `calc "1 + 2"`\n'
    ),
    "notes/README.md": "# Notes\n\nHand-offs between agents go here, one file per topic.\n",
    "current_tasks/.gitkeep": "",
}

CONFIG = """# The demo herd: corral's simulated agents, no agent CLI or API key needed.
[backoff]
clean = 5.0
failure = 10.0

[[agent]]
name = "builder-1"
kind = "sim"
args = ["--auto", "--speed", "1.5"]
restart = "on-failure"

[[agent]]
name = "builder-2"
kind = "sim"
args = ["--auto", "--speed", "1.5"]
restart = "on-failure"

[[agent]]
name = "reviewer"
kind = "sim"
args = ["--auto", "--speed", "2"]

[[agent]]
name = "asker"
kind = "sim"
args = ["--auto", "--speed", "1", "--ask", "0.5"]

[[agent]]
name = "idler"
kind = "sim"
prompt = "Read PROGRESS.md and take the next task"
"""

IDENTITY = ("-c", "user.name=corral demo", "-c", "user.email=demo@corral.invalid")


def create(folder: Path) -> Path:
    """Create the sandbox in `folder` unless a repository is already there; return its root."""
    if (folder / ".git").exists():
        return folder
    folder.mkdir(parents=True, exist_ok=True)
    for relative, text in FILES.items():
        path = folder / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    (folder / "corral.toml").write_text(CONFIG)
    git(folder, "init", "-q", "-b", "main")
    git(folder, "add", "-A")
    git(folder, *IDENTITY, "commit", "-q", "-m", "calc: a tiny calculator")
    return folder


def main(argv: list[str]) -> int:
    if len(argv) != 1:
        print("usage: python -m sessions.sandbox FOLDER", file=sys.stderr)
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
