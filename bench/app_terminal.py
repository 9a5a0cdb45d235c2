"""The dashboard as a user's terminal shows it: a tmux server of the benchmark's own whose
panes run the real `corral`, and what can be read off a capture of one (the herd table's rows,
the filter box, the pane the Screen tab shows, the table's cursor)."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import time
from collections.abc import Callable

import psutil

SIZE = (200, 50)
POLL = 0.002  # how often a condition is checked: fine enough for a 1/60 s screen


def names(size: int) -> list[str]:
    return [f"sim-{n}" for n in range(1, size + 1)]


class Terminal:
    """A tmux server of the benchmark's own, whose panes play the user's terminal."""

    def __init__(self, socket: str) -> None:
        tmux = shutil.which("tmux")
        if tmux is None:
            raise SystemExit("tmux is not installed")
        self.argv = [tmux, "-L", socket, "-f", "/dev/null"]
        self.env = {k: v for k, v in os.environ.items() if not k.startswith("TMUX")}
        self.env["TERM"] = "xterm-256color"

    def run(self, *args: str) -> str:
        done = subprocess.run(
            [*self.argv, *args], env=self.env, capture_output=True, text=True, check=True
        )
        return done.stdout

    def open(self, session: str, *command: str) -> psutil.Process:
        width, height = SIZE
        self.run("new-session", "-d", "-s", session, "-x", str(width), "-y", str(height), *command)
        return psutil.Process(int(self.run("display-message", "-p", "-t", session, "#{pane_pid}")))

    def close(self, session: str) -> None:
        self.run("kill-session", "-t", session)

    def screen(self, session: str, escapes: bool = False) -> str:
        """The pane's text; with `escapes`, its colours too (the table's cursor is one)."""
        return self.run("capture-pane", "-p", *(["-e"] if escapes else []), "-t", session)

    def keys(self, session: str, *keys: str, literal: bool = False) -> None:
        self.run("send-keys", "-t", session, *(["-l"] if literal else []), *keys)

    def server(self) -> psutil.Process:
        return psutil.Process(int(self.run("display-message", "-p", "#{pid}")))

    def kill(self) -> None:
        subprocess.run([*self.argv, "kill-server"], env=self.env, capture_output=True, check=False)


def wait_screen(
    terminal: Terminal, session: str, done: Callable[[str], bool], what: str, timeout: float = 20
) -> None:
    end = time.monotonic() + timeout
    while not done(terminal.screen(session)):
        if time.monotonic() > end:
            raise SystemExit(f"timed out waiting for {what}:\n{terminal.screen(session)}")
        time.sleep(POLL)


def table_rows(screen: str) -> list[str]:
    """Agent names in the herd table, top to bottom (each row starts with its number)."""
    found = []
    for line in screen.splitlines():
        match = re.match(r"^ +\d* +(sim-\d+) +sim ", line)
        if match:
            found.append(match.group(1))
    return found


VISIBLE = 18  # rows the herd table has room for at 200x50


def full_table(screen: str, size: int) -> bool:
    """Every agent's row, or as many as the table has room for."""
    return len(table_rows(screen)) >= min(size, VISIBLE)


def row_of(screen: str, name: str) -> str:
    return next((line for line in screen.splitlines() if f" {name} " in line), "")


def shows_rows(matching: list[str]) -> Callable[[str], bool]:
    return lambda screen: table_rows(screen) == matching


def typed_line(typed: str, size: int) -> Callable[[str], bool]:
    """The filter box shows the text typed so far, and the table the rows it matches."""
    matching = [name for name in names(size) if typed in name]
    box = re.compile(rf"[ ▊▌│]{re.escape(typed)}[ ▎▐│]")

    def shown(screen: str) -> bool:
        if not box.search("\n".join(screen.splitlines()[:4])):
            return False
        rows = table_rows(screen)
        if len(matching) <= VISIBLE:
            return rows == matching
        return len(rows) >= VISIBLE and set(rows) <= set(matching)  # scrolled to the cursor

    return shown


def pane_shown(screen: str) -> int:
    """The number of the agent whose pane the Screen tab shows."""
    match = re.search(r"\.corral/sim-(\d+)\s*$", screen, re.MULTILINE)
    return int(match.group(1)) if match else 0


def shows_pane(name: str) -> Callable[[str], bool]:
    pattern = re.compile(rf"\.corral/{re.escape(name)}\s*$", re.MULTILINE)
    return lambda screen: bool(pattern.search(screen))


SGR = re.compile(r"\x1b\[[0-9;]*m")
BACKGROUND = re.compile(r"\x1b\[(?:[0-9;]*;)?48;5;(\d+)")


def cursor_row(coloured: str) -> str | None:
    """The agent on the table's cursor row: the one row drawn on a background no other row
    has. A working agent's pane scrolls its name away, so this is what `j` moves visibly."""
    backgrounds = {}
    for line in coloured.splitlines():
        match = re.match(r"^ +\d* +(sim-\d+) +sim ", SGR.sub("", line))
        if match:
            backgrounds[match.group(1)] = set(BACKGROUND.findall(line))
    for name, own in backgrounds.items():
        others = set().union(*(b for n, b in backgrounds.items() if n != name))
        if own - others:
            return name
    return None
