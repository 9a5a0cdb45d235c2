"""`corral doctor`: what corral needs, what is missing, and the command that fixes it.

Each check is independent so one failure never hides the others.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path

from sessions.adapters.config import find_config, load_config
from sessions.adapters.repo import Repo
from sessions.adapters.tmux import Tmux, tmux_version
from sessions.adapters.user_settings import load_user_settings, user_config_path
from sessions.agents import kind_of
from sessions.core.errors import CorralError
from sessions.core.model import Config

MIN_GIT = (2, 38)


@dataclass(frozen=True)
class Check:
    ok: bool
    what: str
    detail: str


def run_checks(path: Path) -> list[Check]:
    checks = [_corral(), _python(), _git(), _tmux(), _user_settings()]
    repo = _repo(path, checks)
    if repo is None:
        return checks
    config = _config(repo, checks)
    if config is not None:
        checks += [_agent_cli(config, index) for index in range(len(config.agents))]
    checks.append(_server(repo))
    return checks


def corral_version() -> str:
    """The installed distribution's version; "unknown" when run from a checkout never installed."""
    try:
        return metadata.version("corral")
    except metadata.PackageNotFoundError:
        return "unknown"


def version_line() -> str:
    """`corral --version`: corral's version and the tmux and git it found, as a bug report
    needs all three."""
    tools = []
    for argv in (("tmux", "-V"), ("git", "--version")):
        binary = shutil.which(argv[0])
        output = (
            subprocess.run([binary, *argv[1:]], capture_output=True, text=True, check=False)
            if binary
            else None
        )
        found = re.search(r"\d+\.\d+\S*", output.stdout) if output else None
        tools.append(f"{argv[0]} {found.group(0)}" if found else f"{argv[0]} not found")
    return f"corral {corral_version()} ({', '.join(tools)})"


def _corral() -> Check:
    """Where corral runs from, since a second install (a checkout, a pipx venv) is a common
    reason for a fix not showing."""
    package = Path(__file__).resolve().parents[2]
    return Check(True, "corral", f"corral {corral_version()} in {package}")


def _python() -> Check:
    version = ".".join(map(str, sys.version_info[:3]))
    return Check(sys.version_info >= (3, 11), "python", f"Python {version}")


def _git() -> Check:
    if not shutil.which("git"):
        return Check(False, "git", "git is not installed: `sudo apt-get install git`")
    output = subprocess.run(["git", "--version"], capture_output=True, text=True, check=False)
    match = re.search(r"(\d+)\.(\d+)", output.stdout)
    version = (int(match.group(1)), int(match.group(2))) if match else (0, 0)
    if version < MIN_GIT:
        return Check(
            False,
            "git",
            f"{output.stdout.strip()} is older than {MIN_GIT[0]}.{MIN_GIT[1]}, which merge "
            "previews need: upgrade git",
        )
    return Check(True, "git", output.stdout.strip())


def _tmux() -> Check:
    try:
        major, minor = tmux_version()
    except CorralError as error:
        return Check(False, "tmux", str(error))
    return Check(True, "tmux", f"tmux {major}.{minor}")


def _user_settings() -> Check:
    path = user_config_path()
    if not path.exists():
        return Check(True, "user config", f"{path}: not there, defaults apply")
    try:
        load_user_settings(path)
    except CorralError as error:
        return Check(False, "user config", str(error))
    return Check(True, "user config", str(path))


def _repo(path: Path, checks: list[Check]) -> Repo | None:
    try:
        repo = Repo.discover(path)
    except CorralError as error:
        checks.append(Check(False, "repository", str(error)))
        return None
    checks.append(Check(True, "repository", str(repo.root)))
    return repo


def _config(repo: Repo, checks: list[Check]) -> Config | None:
    try:
        if find_config(repo.root) is None:
            checks.append(
                Check(False, "config", f"no corral.toml in {repo.root}: run `corral init`")
            )
            return None
        config = load_config(repo.root)
    except CorralError as error:
        checks.append(Check(False, "config", str(error)))
        return None
    checks.append(Check(True, "config", f"{config.path}: {len(config.agents)} agents"))
    return config


def _agent_cli(config: Config, index: int) -> Check:
    spec = config.agents[index]
    kind = kind_of(spec.kind)
    command = kind.command(spec)
    what = f"agent {spec.name}"
    if not command:
        return Check(False, what, "no command to run: set `command` in corral.toml")
    if shutil.which(command[0]) is None:
        hint = f" (install: {kind.install_hint})" if kind.install_hint else ""
        return Check(False, what, f"`{command[0]}` is not on PATH{hint}")
    return Check(True, what, f"{spec.kind.value}: {kind.describe(spec)}")


def _server(repo: Repo) -> Check:
    try:
        tmux = Tmux(repo.socket_name)
        panes = tmux.panes()
    except CorralError as error:
        return Check(False, "tmux server", str(error))
    if not panes:
        return Check(True, "tmux server", f"{repo.socket_name}: not running (no agents started)")
    alive = sum(1 for pane in panes if not pane.dead)
    return Check(
        True, "tmux server", f"{repo.socket_name}: {len(panes)} agent panes, {alive} alive"
    )
