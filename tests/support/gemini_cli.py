"""The real Gemini CLI for tests: installed once per machine, run offline in a tmux pane.

npm's `@google/gemini-cli` is a node program (`bundle/gemini.js`, linked as
`node_modules/.bin/gemini`), so running it needs node as well as installing it. It goes into
`$CORRAL_TEST_CACHE/gemini-cli` (see `tests.support.npm_cli`); `CORRAL_GEMINI_BIN` points at
a program to use instead and `CORRAL_GEMINI_CLI_VERSION` picks the npm version.

It runs against the Gemini API stand-in (`tests.support.gemini_standin`): with
`GOOGLE_GEMINI_BASE_URL` set it authenticates as a "gateway" with `GEMINI_API_KEY`. The private
HOME has API-key auth selected (no auth dialog), usage statistics and updates off, and, when
asked, folders in `trustedFolders.json` (otherwise the CLI asks whether to trust the folder, and
runs no hooks until then). Agents started by corral need none: corral trusts their worktrees.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from pathlib import Path

from tests.support.cli_pane import Looks, scratch_env
from tests.support.npm_cli import NpmCli

# Its `--version` says only the number.
GEMINI = NpmCli(
    title="Gemini",
    package="@google/gemini-cli",
    folder="gemini-cli",
    explicit="CORRAL_GEMINI_BIN",
    places=("node_modules/.bin/gemini", "node_modules/@google/gemini-cli/bundle/gemini.js"),
    says=r"^\d+\.\d+\.\d+",
    names="Gemini CLI ",
    needs_node=True,
)
API_KEY = "corral-standin-gemini-key"


def prepare_gemini_home(home: Path, trusted: Sequence[Path] = ()) -> Path:
    """A private HOME that starts Gemini CLI straight at its prompt, offline.

    Existing settings are kept, since the CLI writes to the same folder while it runs.
    """
    folder = home / ".gemini"
    folder.mkdir(parents=True, exist_ok=True)
    settings_path = folder / "settings.json"
    try:
        settings = json.loads(settings_path.read_text())
    except (OSError, ValueError):
        settings = {}
    settings.setdefault("security", {}).setdefault("auth", {})["selectedType"] = "gemini-api-key"
    settings.setdefault("privacy", {})["usageStatisticsEnabled"] = False
    general = settings.setdefault("general", {})
    general["enableAutoUpdate"] = False
    general["enableAutoUpdateNotification"] = False
    settings_path.write_text(json.dumps(settings, indent=2))
    trust_path = folder / "trustedFolders.json"
    try:
        trust = json.loads(trust_path.read_text())
    except (OSError, ValueError):
        trust = {}
    for path in trusted:
        trust[str(path.resolve())] = "TRUST_FOLDER"
    trust_path.write_text(json.dumps(trust, indent=2))
    return settings_path


def gemini_env(home: Path, base_url: str, extra: Mapping[str, str] | None = None) -> dict[str, str]:
    """The whole environment for the CLI, built from scratch rather than inherited.

    Inheriting would leak the developer's own GEMINI_* / GOOGLE_* settings (or a real key)
    into the run. COLORTERM keeps the CLI from printing its true-colour warning on every start.
    """
    env = {
        **scratch_env(home),
        "COLORTERM": "truecolor",
        "GOOGLE_GEMINI_BASE_URL": base_url,
        "GEMINI_API_KEY": API_KEY,
        "GEMINI_CLI_NO_RELAUNCH": "true",
    }
    env.update(extra or {})
    return env


def is_working(screen: str) -> bool:
    return "esc to cancel" in screen


def is_idle(screen: str) -> bool:
    return "Type your message" in screen and not is_working(screen)


LOOKS = Looks(is_idle, is_working)
