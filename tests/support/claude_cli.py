"""The real Claude Code CLI for tests: installed once per machine, run offline in a tmux pane.

npm installs it into `$CORRAL_TEST_CACHE/claude-code` (see `tests.support.npm_cli`).
`CORRAL_CLAUDE_BIN` points at a binary to use instead, and `CORRAL_CLAUDE_CODE_VERSION` picks
the npm version (default: the one the recordings were made with, `npm_cli.PINNED`; always an
explicit version, since npm would otherwise choose an old release whose `engines` suits the
local node, although the native binary does not need node at all).

It runs against the loopback stand-in (`tests.support.standin`) with a private HOME that
has onboarding done, the test key approved and the worktree trusted, and an environment
built from scratch, so nothing of the developer's own Claude setup leaks into a test.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping, Sequence
from pathlib import Path

from tests.support.cli_pane import PANE_SIZE, CliPane, Looks, scratch_env, start_cli
from tests.support.npm_cli import NpmCli

# The wrapper package's postinstall copies the native binary over `bin/claude.exe`; when npm
# skipped install scripts that file is only a placeholder, but the platform package
# (`@anthropic-ai/claude-code-linux-x64/claude`, ...) holds the real binary either way.
CLAUDE = NpmCli(
    title="Claude Code",
    package="@anthropic-ai/claude-code",
    folder="claude-code",
    explicit="CORRAL_CLAUDE_BIN",
    places=(
        "node_modules/@anthropic-ai/claude-code-{platform}*/claude",
        "node_modules/@anthropic-ai/claude-code-*/claude",
        "node_modules/@anthropic-ai/claude-code/bin/claude.exe",
        "node_modules/.bin/claude",
    ),
    says="Claude Code",
)
API_KEY = "sk-ant-api03-corral-standin-" + "0123456789abcdefghijABCDEFGHIJ"


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
        **scratch_env(home),
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


# --- what its screen shows ----------------------------------------------------------------


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


LOOKS = Looks(is_idle, is_working)


def start_claude(
    binary: Path,
    cwd: Path,
    env: Mapping[str, str],
    args: Sequence[str] = (),
    size: tuple[int, int] = PANE_SIZE,
) -> CliPane:
    """Start the CLI in a new pane on its own tmux server (see `start_cli`)."""
    return start_cli(binary, cwd, env, LOOKS, args, size)
