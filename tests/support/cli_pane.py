"""An agent CLI in a tmux pane of its own, for tests and recordings.

Every CLI runs the same way: on a private tmux server, in an environment built from scratch
(so nothing of the developer's own setup leaks into a run), read back by capturing the pane.
What differs is how its screen says that it waits at its prompt or runs a turn (`Looks`).
"""

from __future__ import annotations

import os
import secrets
import subprocess
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

PANE_SIZE = (160, 45)
HOLD = '"$@"; printf "\\n[exited %d]\\n" "$?"; exec sleep 86400'


def scratch_env(home: Path) -> dict[str, str]:
    """The variables every CLI needs, and none of the caller's: each CLI adds its own."""
    return {
        "PATH": os.environ.get("PATH", "/usr/local/bin:/usr/bin:/bin"),
        "HOME": str(home),
        "TERM": "xterm-256color",
        "LANG": "C.UTF-8",
        "LC_ALL": "C.UTF-8",
        "SHELL": "/bin/bash" if Path("/bin/bash").exists() else "/bin/sh",
        "TMPDIR": os.environ.get("TMPDIR", "/tmp"),
        "USER": os.environ.get("USER", "tester"),
    }


class PaneTimeout(AssertionError):
    """A pane never showed what a test waited for; carries the last screen for the report."""


@dataclass(frozen=True)
class Looks:
    """How one CLI's screen says it waits at its prompt, and that a turn runs."""

    idle: Callable[[str], bool]
    working: Callable[[str], bool]


@dataclass(frozen=True)
class CliPane:
    """One pane on a private tmux server, addressed by its `%id`."""

    socket: str
    pane_id: str
    looks: Looks

    def tmux(self, *args: str) -> str:
        done = subprocess.run(
            ["tmux", "-L", self.socket, *args], capture_output=True, text=True, check=False
        )
        if done.returncode != 0:
            raise RuntimeError(f"tmux {' '.join(args)}: {done.stderr.strip()}")
        return done.stdout

    def capture(self, colours: bool = False) -> str:
        args = ["capture-pane", "-p", "-t", self.pane_id]
        if colours:
            args.insert(2, "-e")
        return self.tmux(*args)

    def type(self, text: str) -> None:
        self.tmux("send-keys", "-t", self.pane_id, "-l", text)

    def press(self, *keys: str) -> None:
        self.tmux("send-keys", "-t", self.pane_id, *keys)

    def exit_code(self) -> int | None:
        """The CLI's exit code once it has exited (the pane shows `[exited N]`), else None."""
        for line in reversed(self.capture().splitlines()):
            if line.startswith("[exited ") and line.endswith("]"):
                return int(line[len("[exited ") : -1])
        return None

    def wait_for(
        self, condition: Callable[[str], object], timeout: float = 20.0, what: str = ""
    ) -> str:
        """Poll the screen every 50 ms until `condition(screen)` holds; return that screen."""
        deadline = time.monotonic() + timeout
        screen = ""
        while time.monotonic() < deadline:
            screen = self.capture()
            if condition(screen):
                return screen
            time.sleep(0.05)
        raise PaneTimeout(f"no {what or 'matching screen'} after {timeout} s; screen:\n{screen}")

    def wait_for_text(self, text: str, timeout: float = 20.0) -> str:
        return self.wait_for(lambda screen: text in screen, timeout, repr(text))

    def wait_idle(self, timeout: float = 30.0) -> str:
        """Wait for the idle prompt: the input box is drawn and no turn is running."""
        return self.wait_for(self.looks.idle, timeout, "the idle prompt")

    def wait_working(self, timeout: float = 20.0) -> str:
        return self.wait_for(self.looks.working, timeout, "a running turn")

    def wait_turn_over(self, timeout: float = 10.0) -> str:
        return self.wait_for(lambda screen: not self.looks.working(screen), timeout, "turn's end")

    def wait_exit(self, timeout: float = 20.0) -> str:
        return self.wait_for(lambda screen: self.exit_code() is not None, timeout, "the exit")

    def submit(self, prompt: str, timeout: float = 10.0) -> None:
        """Type a prompt and press Enter once it shows, so Enter is not part of a paste."""
        self.type(prompt)
        self.wait_for_text(prompt, timeout)
        self.press("Enter")

    def kill_server(self) -> None:
        subprocess.run(["tmux", "-L", self.socket, "kill-server"], capture_output=True, check=False)


def start_cli(
    program: Path,
    cwd: Path,
    env: Mapping[str, str],
    looks: Looks,
    args: Sequence[str] = (),
    size: tuple[int, int] = PANE_SIZE,
) -> CliPane:
    """Start the CLI in a new pane on its own tmux server.

    The command goes to tmux as separate arguments (`env -i K=V ... cli ...`), so it runs
    with exactly `env` and no quoting of prompts or paths is involved. A small `sh` holds the
    pane after the CLI exits (the arguments reach it as `"$@"`, never as shell text), so the
    last screen stays readable and `[exited N]` shows the exit code, as under corral's runner.
    """
    socket = f"corral-test-{secrets.token_hex(4)}"
    command = ["env", "-i", *(f"{key}={value}" for key, value in env.items()), str(program), *args]
    width, height = size
    pane_id = subprocess.run(
        [
            *("tmux", "-L", socket, "-f", "/dev/null", "new-session", "-d", "-s", "cli"),
            *("-x", str(width), "-y", str(height), "-c", str(cwd), "-P", "-F", "#{pane_id}"),
            *("sh", "-c", HOLD, "sh", *command),
        ],
        check=True,
        capture_output=True,
        text=True,
    ).stdout.strip()
    return CliPane(socket, pane_id, looks)
