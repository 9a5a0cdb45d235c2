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

import functools
import json
import os
import re
import shutil
import tempfile
from collections.abc import Mapping, Sequence
from pathlib import Path

from tests.support.npm_cli import (
    Located,
    install_dir,
    install_once,
    resolve,
    version_line,
    wanted_spec,
)

PACKAGE = "@google/gemini-cli"
FOLDER = "gemini-cli"
API_KEY = "corral-standin-gemini-key"
VERSION = re.compile(r"^\d+\.\d+\.\d+")


def version_of(program: Path) -> str | None:
    """`Gemini CLI <version>`, or None when the program does not run (no node, a stub)."""
    with tempfile.TemporaryDirectory(prefix="corral-gemini-version-") as home:
        env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": home}
        line = version_line([str(program), "--version"], ".", env)
    if line is None or not VERSION.match(line):
        return None
    return f"Gemini CLI {line}"


def _find_runnable(prefix: Path) -> Located | None:
    if shutil.which("node") is None:
        return None
    for candidate in (
        prefix / "node_modules" / ".bin" / "gemini",
        prefix / "node_modules" / "@google" / "gemini-cli" / "bundle" / "gemini.js",
    ):
        if candidate.is_file():
            version = version_of(candidate)
            if version is not None:
                return Located(candidate, "", version)
    return None


def install(prefix: Path | None = None, spec: str | None = None) -> Located:
    if shutil.which("node") is None:
        return Located(None, f"node is not installed, and {PACKAGE} runs on node")
    spec = resolve(PACKAGE, spec or wanted_spec(PACKAGE))
    return install_once(
        PACKAGE, prefix or install_dir(FOLDER, spec), spec, _find_runnable, version_of
    )


@functools.cache
def locate_gemini() -> Located:
    explicit = os.environ.get("CORRAL_GEMINI_BIN")
    if explicit:
        path = Path(explicit).expanduser()
        version = version_of(path)
        if version is None:
            return Located(None, f"CORRAL_GEMINI_BIN={explicit} does not run `--version`")
        return Located(path, "", version)
    return install()


def gemini_binary() -> Path | None:
    return locate_gemini().path


def why_no_gemini() -> str:
    return locate_gemini().reason


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
        "PATH": os.environ.get("PATH", "/usr/local/bin:/usr/bin:/bin"),
        "HOME": str(home),
        "TERM": "xterm-256color",
        "COLORTERM": "truecolor",
        "LANG": "C.UTF-8",
        "LC_ALL": "C.UTF-8",
        "SHELL": "/bin/bash" if Path("/bin/bash").exists() else "/bin/sh",
        "TMPDIR": os.environ.get("TMPDIR", "/tmp"),
        "USER": os.environ.get("USER", "tester"),
        "GOOGLE_GEMINI_BASE_URL": base_url,
        "GEMINI_API_KEY": API_KEY,
        "GEMINI_CLI_NO_RELAUNCH": "true",
    }
    env.update(extra or {})
    return env
