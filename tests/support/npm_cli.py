"""Agent CLIs from npm for tests: installed once per machine into a shared cache.

Each CLI goes into its own folder under `$CORRAL_TEST_CACHE` (by default
`~/.cache/corral-tests`), outside the work tree, so that every clone and every test process
shares one copy. A file lock keeps parallel test processes from installing it twice, and a
failed install is remembered for a while, so that a machine without npm access pays the
timeout once rather than in every process. The caller says how to find a runnable program in
what npm left (`find`), since each package lays its binaries out differently.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import shutil
import subprocess
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

INSTALL_TIMEOUT = 100.0  # under pytest-timeout's 120 s, which covers fixture setup
RETRY_FAILED_AFTER = 600.0

# The versions the recordings under tests/data were made with, which the suite runs against.
# Each package's variable picks another version; `./dev.sh test-newest` sets them to "latest".
PINNED: dict[str, tuple[str, str]] = {
    "@anthropic-ai/claude-code": ("CORRAL_CLAUDE_CODE_VERSION", "2.1.330"),
    "@openai/codex": ("CORRAL_CODEX_VERSION", "0.171.0"),
    "@google/gemini-cli": ("CORRAL_GEMINI_CLI_VERSION", "0.61.0"),
}


@dataclass(frozen=True)
class Located:
    """Where the CLI is, or one line saying why it is not there."""

    path: Path | None
    reason: str
    version: str = ""


# Looks in an install folder for a program that runs; None when there is none.
Finder = Callable[[Path], Located | None]
# Tells whether a recorded program still runs, and its version line.
Checker = Callable[[Path], str | None]


def wanted_spec(package: str) -> str:
    """The version to test with: the pinned one unless the package's variable names another."""
    variable, pinned = PINNED[package]
    return os.environ.get(variable, "").strip() or pinned


def install_dir(folder: str, spec: str) -> Path:
    """One folder per version, so going between the pinned and the newest installs each once."""
    return cache_root() / folder / spec


def resolve(package: str, spec: str) -> str:
    """`latest` as the version npm serves today, so a cached install of an older `latest` is
    not taken for it; the spec as given when it is not `latest` or npm cannot say."""
    npm = shutil.which("npm")
    if spec != "latest" or npm is None:
        return spec
    try:
        done = subprocess.run(
            [npm, "view", f"{package}@latest", "version"],
            capture_output=True,
            text=True,
            timeout=30,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired):
        return spec
    version = done.stdout.strip()
    return version if done.returncode == 0 and version else spec


def cache_root() -> Path:
    configured = os.environ.get("CORRAL_TEST_CACHE")
    if configured:
        return Path(configured).expanduser()
    return Path.home() / ".cache" / "corral-tests"


def _installed(prefix: Path, spec: str, check: Checker) -> Located | None:
    marker = prefix / "installed.json"
    try:
        data = json.loads(marker.read_text())
    except (OSError, ValueError):
        return None
    path = Path(str(data.get("path", "")))
    if data.get("spec") != spec or not path.is_file():
        return None
    version = check(path)
    if version is None:
        return None
    return Located(path, "", version)


def _recent_failure(prefix: Path, spec: str) -> str | None:
    try:
        data = json.loads((prefix / "install-failed.json").read_text())
    except (OSError, ValueError):
        return None
    if data.get("spec") != spec or time.time() - float(data.get("at", 0)) > RETRY_FAILED_AFTER:
        return None
    return str(data.get("reason", "an earlier install failed"))


@contextlib.contextmanager
def locked(path: Path) -> Iterator[None]:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def npm_error(text: str) -> str:
    """npm's own one-line reason (`ETARGET: notarget No matching version ...`), not its log path."""
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    errors = [
        line.removeprefix("npm error").removeprefix("npm ERR!").strip()
        for line in lines
        if line.startswith(("npm error", "npm ERR!")) and "complete log" not in line
    ]
    code = next((error.split()[1] for error in errors if error.startswith("code ")), "")
    details = [error for error in errors if error and not error.startswith("code ")]
    reason = details[0] if details else (lines[-1] if lines else "no output")
    return (f"{code}: {reason}" if code else reason)[:200]


def install_once(package: str, prefix: Path, spec: str, find: Finder, check: Checker) -> Located:
    """Install `package@spec` into `prefix` unless this machine already has it; never raises."""
    with locked(prefix.parent / f".{prefix.name}.lock"):
        found = _installed(prefix, spec, check)
        if found is not None:
            return found
        failed = _recent_failure(prefix, spec)
        if failed is not None:
            return Located(None, failed)
        located = npm_install(package, prefix, spec, find)
        prefix.mkdir(parents=True, exist_ok=True)
        if located.path is None:
            (prefix / "install-failed.json").write_text(
                json.dumps({"spec": spec, "at": time.time(), "reason": located.reason})
            )
        else:
            (prefix / "install-failed.json").unlink(missing_ok=True)
            (prefix / "installed.json").write_text(
                json.dumps({"spec": spec, "path": str(located.path), "version": located.version})
            )
        return located


def npm_install(package: str, prefix: Path, spec: str, find: Finder) -> Located:
    npm = shutil.which("npm")
    if npm is None:
        return Located(None, f"npm is not installed, so {package} cannot be installed for tests")
    prefix.mkdir(parents=True, exist_ok=True)
    wanted = f"{package}@{spec}"
    argv = [npm, "install", "--prefix", str(prefix), "--no-audit", "--no-fund", wanted]
    try:
        done = subprocess.run(
            argv, capture_output=True, text=True, timeout=INSTALL_TIMEOUT, check=False
        )
    except subprocess.TimeoutExpired:
        return Located(None, f"`npm install {wanted}` took longer than {INSTALL_TIMEOUT:.0f} s")
    except OSError as error:
        return Located(None, f"`npm install {wanted}` could not run: {error}")
    if done.returncode != 0:
        why = npm_error(done.stderr or done.stdout)
        return Located(None, f"`npm install {wanted}` failed: {why}")
    found = find(prefix)
    if found is not None:
        return found
    return Located(None, f"`npm install {wanted}` left no runnable program in {prefix}")


def version_line(argv: list[str], must_contain: str, env: dict[str, str]) -> str | None:
    """The first line `argv` prints, or None when it fails or does not say `must_contain`."""
    try:
        done = subprocess.run(
            argv, env=env, capture_output=True, text=True, timeout=30, check=False
        )
    except (OSError, subprocess.TimeoutExpired):
        return None
    line = done.stdout.strip().splitlines()[0] if done.stdout.strip() else ""
    if done.returncode != 0 or must_contain not in line:
        return None
    return line
