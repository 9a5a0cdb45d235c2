"""The real Claude Code CLI for tests: installed once per machine, run offline in a tmux pane.

The CLI is installed with npm into a cache outside the work tree (`$CORRAL_TEST_CACHE/claude-code`,
by default `~/.cache/corral-tests/claude-code`) so that every clone and every test process
shares one copy; a file lock keeps parallel test processes from installing it twice, and a
failed install is remembered for a while so a machine without npm access does not pay the
timeout in every process. `CORRAL_CLAUDE_BIN` points at a binary to use instead, and
`CORRAL_CLAUDE_CODE_VERSION` picks the npm version (default: the one the recordings were made
with, `tests.support.npm_cli.PINNED`; always an explicit version, since npm would otherwise
choose an old release whose `engines` suits the local node, although the native binary does
not need node at all).

It runs against the loopback stand-in (`tests.support.standin`) with a private HOME that
has onboarding done, the test key approved and the worktree trusted, and an environment
built from scratch, so nothing of the developer's own Claude setup leaks into a test.
"""

from __future__ import annotations

import functools
import json
import os
import platform
import secrets
import subprocess
import tempfile
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from tests.support.npm_cli import (
    Located,
    install_dir,
    install_once,
    resolve,
    version_line,
    wanted_spec,
)

PACKAGE = "@anthropic-ai/claude-code"
FOLDER = "claude-code"
API_KEY = "sk-ant-api03-corral-standin-" + "0123456789abcdefghijABCDEFGHIJ"
PANE_SIZE = (160, 45)


def _version_of(binary: Path) -> str | None:
    """The binary's version line, or None when it does not run (a stub, a wrong platform)."""
    with tempfile.TemporaryDirectory(prefix="corral-claude-version-") as home:
        env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": home}
        return version_line([str(binary), "--version"], "Claude Code", env)


def _candidates(prefix: Path) -> list[Path]:
    """Executables an install may have left, the native platform binary first.

    The wrapper package's postinstall copies the native binary over `bin/claude.exe`; when
    npm skipped install scripts that file is only a placeholder, but the platform package
    (`@anthropic-ai/claude-code-linux-x64/claude`, ...) holds the real binary either way.
    """
    modules = prefix / "node_modules" / "@anthropic-ai"
    machine = {"x86_64": "x64", "amd64": "x64", "aarch64": "arm64"}.get(
        platform.machine().lower(), platform.machine().lower()
    )
    system = platform.system().lower()
    native = sorted(modules.glob(f"claude-code-{system}-{machine}*/claude"))
    others = sorted(modules.glob("claude-code-*/claude"))
    wrapper = [modules / "claude-code" / "bin" / "claude.exe", prefix / "node_modules/.bin/claude"]
    seen: list[Path] = []
    for path in [*native, *others, *wrapper]:
        if path.is_file() and path not in seen:
            seen.append(path)
    return seen


def _find_runnable(prefix: Path) -> Located | None:
    for candidate in _candidates(prefix):
        version = _version_of(candidate)
        if version is not None:
            return Located(candidate, "", version)
    return None


def install(prefix: Path | None = None, spec: str | None = None) -> Located:
    """Install the CLI with npm unless this machine already has it; never raises."""
    spec = resolve(PACKAGE, spec or wanted_spec(PACKAGE))
    return install_once(
        PACKAGE, prefix or install_dir(FOLDER, spec), spec, _find_runnable, _version_of
    )


@functools.cache
def locate_claude() -> Located:
    """The CLI for this test process: an explicit binary, else the cached install."""
    explicit = os.environ.get("CORRAL_CLAUDE_BIN")
    if explicit:
        path = Path(explicit).expanduser()
        version = _version_of(path)
        if version is None:
            return Located(None, f"CORRAL_CLAUDE_BIN={explicit} does not run `--version`")
        return Located(path, "", version)
    return install()


def claude_binary() -> Path | None:
    return locate_claude().path


def why_no_claude() -> str:
    """One line for a skip message; empty when the CLI is there."""
    return locate_claude().reason


# --- a private home and environment ----------------------------------------------------------


def prepare_home(home: Path, trusted: Sequence[Path] = (), api_key: str = API_KEY) -> Path:
    """Make `home` a Claude HOME that starts straight at the prompt, offline.

    Onboarding is marked done, the key's last 20 characters approved (otherwise it asks
    whether to use the key from the environment), and each folder in `trusted` accepted
    (otherwise it asks whether to trust the folder, and runs no project hooks until then).
    Existing content is kept, since a running Claude rewrites the same file.
    """
    home.mkdir(parents=True, exist_ok=True)
    (home / ".claude").mkdir(exist_ok=True)
    config_path = home / ".claude.json"
    try:
        config = json.loads(config_path.read_text())
    except (OSError, ValueError):
        config = {}
    config["hasCompletedOnboarding"] = True
    config.setdefault("numStartups", 1)
    responses = config.setdefault("customApiKeyResponses", {"approved": [], "rejected": []})
    if api_key[-20:] not in responses.setdefault("approved", []):
        responses["approved"].append(api_key[-20:])
    projects = config.setdefault("projects", {})
    for folder in trusted:
        entry = projects.setdefault(str(folder.resolve()), {})
        entry["hasTrustDialogAccepted"] = True
        entry.setdefault("hasCompletedProjectOnboarding", True)
    temporary = config_path.with_suffix(".json.tmp")
    temporary.write_text(json.dumps(config, indent=2))
    temporary.replace(config_path)
    return config_path


def claude_env(
    home: Path,
    base_url: str,
    api_key: str = API_KEY,
    extra: Mapping[str, str] | None = None,
) -> dict[str, str]:
    """The whole environment for the CLI, built from scratch rather than inherited.

    Inheriting would leak the developer's own ANTHROPIC_* / CLAUDE_* settings (or those of an
    agent running the tests) into the run. Telemetry, error reports, the updater and other
    nonessential traffic are off: they would only try to reach hosts that are not there.
    """
    env = {
        "PATH": os.environ.get("PATH", "/usr/local/bin:/usr/bin:/bin"),
        "HOME": str(home),
        "TERM": "xterm-256color",
        "LANG": "C.UTF-8",
        "LC_ALL": "C.UTF-8",
        "SHELL": "/bin/bash" if Path("/bin/bash").exists() else "/bin/sh",
        "TMPDIR": os.environ.get("TMPDIR", "/tmp"),
        "USER": os.environ.get("USER", "tester"),
        "XDG_CONFIG_HOME": str(home / ".config"),
        "XDG_CACHE_HOME": str(home / ".cache"),
        "XDG_DATA_HOME": str(home / ".local" / "share"),
        "ANTHROPIC_BASE_URL": base_url,
        "ANTHROPIC_API_KEY": api_key,
        "CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC": "1",
        "DISABLE_AUTOUPDATER": "1",
        "DISABLE_TELEMETRY": "1",
        "DISABLE_ERROR_REPORTING": "1",
        "CLAUDE_CODE_DISABLE_FEEDBACK_SURVEY": "1",
    }
    if os.geteuid() == 0:
        env["IS_SANDBOX"] = "1"
    env.update(extra or {})
    return env


# --- the CLI in a tmux pane ------------------------------------------------------------------


class PaneTimeout(AssertionError):
    """A pane never showed what a test waited for; carries the last screen for the report."""


@dataclass(frozen=True)
class ClaudePane:
    """One pane on a private tmux server, addressed by its `%id`."""

    socket: str
    pane_id: str

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
        return self.wait_for(is_idle, timeout, "the idle prompt")

    def wait_working(self, timeout: float = 20.0) -> str:
        return self.wait_for(is_working, timeout, "a running turn (`esc to interrupt`)")

    def submit(self, prompt: str, timeout: float = 10.0) -> None:
        """Type a prompt and press Enter once it shows, so Enter is not part of a paste."""
        self.type(prompt)
        self.wait_for_text(prompt, timeout)
        self.press("Enter")

    def kill_server(self) -> None:
        subprocess.run(["tmux", "-L", self.socket, "kill-server"], capture_output=True, check=False)


def footer(screen: str) -> str:
    """The last non-blank line: Claude's mode line, or `esc to interrupt` while a turn runs."""
    lines = [line for line in screen.splitlines() if line.strip()]
    return lines[-1] if lines else ""


def is_working(screen: str) -> bool:
    return "esc to interrupt" in footer(screen)


def input_box(screen: str) -> str | None:
    """The text in the prompt box (the line right under a rule), or None when none shows."""
    lines = screen.splitlines()
    for index in range(len(lines) - 1, 0, -1):
        if lines[index].startswith("❯") and lines[index - 1].startswith("────"):
            return lines[index][1:].strip()
    return None


def is_idle(screen: str) -> bool:
    """The prompt box with only the mode line under it: no turn running, no dialog open."""
    last = footer(screen)
    if "esc to interrupt" in last or "Esc to cancel" in last or "Enter to select" in last:
        return False
    return input_box(screen) is not None


HOLD = '"$@"; printf "\\n[exited %d]\\n" "$?"; exec sleep 86400'


def start_claude(
    binary: Path,
    cwd: Path,
    env: Mapping[str, str],
    args: Sequence[str] = (),
    socket: str | None = None,
    size: tuple[int, int] = PANE_SIZE,
) -> ClaudePane:
    """Start the CLI in a new pane on its own tmux server.

    The command goes to tmux as separate arguments (`env -i K=V ... claude ...`), so it runs
    with exactly `env` and no quoting of prompts or paths is involved. A small `sh` holds the
    pane after the CLI exits (the arguments reach it as `"$@"`, never as shell text), so the
    last screen stays readable and `[exited N]` shows the exit code, as under corral's runner.
    """
    socket = socket or f"corral-test-{secrets.token_hex(4)}"
    command = ["env", "-i", *(f"{key}={value}" for key, value in env.items()), str(binary), *args]
    width, height = size
    pane_id = subprocess.run(
        [
            *("tmux", "-L", socket, "-f", "/dev/null", "new-session", "-d", "-s", "claude"),
            *("-x", str(width), "-y", str(height), "-c", str(cwd), "-P", "-F", "#{pane_id}"),
            *("sh", "-c", HOLD, "sh", *command),
        ],
        check=True,
        capture_output=True,
        text=True,
    ).stdout.strip()
    return ClaudePane(socket, pane_id)
