"""Agent CLIs from npm for tests: installed once per machine into a shared cache.

Each CLI goes into its own folder under `$CORRAL_TEST_CACHE` (by default
`~/.cache/corral-tests`), outside the work tree, so that every clone and every test process
shares one copy. A file lock keeps parallel test processes from installing it twice, and a
failed install is remembered for a while, so that a machine without npm access pays the
timeout once rather than in every process. Each CLI is an `NpmCli`: its package, where its
package lays out a runnable program and what its `--version` says; the rest is the same for all.
"""

from __future__ import annotations

import contextlib
import fcntl
import functools
import json
import os
import platform
import re
import shutil
import subprocess
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

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


def version_line(argv: list[str], says: str, env: dict[str, str]) -> str | None:
    """The first line `argv` prints, or None when it fails or its line does not match `says`."""
    try:
        done = subprocess.run(
            argv, env=env, capture_output=True, text=True, timeout=30, check=False
        )
    except (OSError, subprocess.TimeoutExpired):
        return None
    line = done.stdout.strip().splitlines()[0] if done.stdout.strip() else ""
    if done.returncode != 0 or not re.search(says, line):
        return None
    return line


def platform_name() -> str:
    """`linux-x64`, `darwin-arm64`...: how npm's platform packages name this machine."""
    machine = platform.machine().lower()
    machine = {"x86_64": "x64", "amd64": "x64", "aarch64": "arm64"}.get(machine, machine)
    return f"{platform.system().lower()}-{machine}"


@dataclass(frozen=True)
class NpmCli:
    """One agent CLI from npm: what tells it apart from the others, and the way to a program.

    `places` are glob patterns under the install folder, best first, where the package may
    leave a program (`{platform}` stands for `platform_name()`): a native binary in a platform
    package goes before the node wrapper that would need node to run. `says` is a pattern the
    `--version` line must match, and `names` goes before that line when it is a bare number.
    """

    title: str
    package: str
    folder: str
    explicit: str  # the variable that names a program to use instead of the install
    places: tuple[str, ...]
    says: str
    names: str = ""
    needs_node: bool = False

    def version_of(self, program: Path) -> str | None:
        """The program's version, or None when it does not run (a stub, a wrong platform)."""
        with tempfile.TemporaryDirectory(prefix=f"corral-{self.folder}-version-") as home:
            env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": home}
            line = version_line([str(program), "--version"], self.says, env)
        return None if line is None else self.names + line

    def candidates(self, prefix: Path) -> list[Path]:
        """The files an install left at `places`, in their order, each once."""
        seen: list[Path] = []
        for place in self.places:
            for path in sorted(prefix.glob(place.format(platform=platform_name()))):
                if path.is_file() and path not in seen:
                    seen.append(path)
        return seen

    def find_runnable(self, prefix: Path) -> Located | None:
        if self.needs_node and shutil.which("node") is None:
            return None
        for candidate in self.candidates(prefix):
            version = self.version_of(candidate)
            if version is not None:
                return Located(candidate, "", version)
        return None

    def install(self, prefix: Path | None = None, spec: str | None = None) -> Located:
        """Install the CLI with npm unless this machine already has it; never raises."""
        if self.needs_node and shutil.which("node") is None:
            return Located(None, f"node is not installed, and {self.package} runs on node")
        spec = resolve(self.package, spec or wanted_spec(self.package))
        prefix = prefix or install_dir(self.folder, spec)
        return install_once(self.package, prefix, spec, self.find_runnable, self.version_of)

    def locate(self) -> Located:
        """The CLI for this test process: an explicit program, else the cached install."""
        return _located(self)

    def program(self) -> Path | None:
        return self.locate().path

    def why_not(self) -> str:
        """One line for a skip message; empty when the CLI is there."""
        return self.locate().reason

    def program_or_skip(self) -> Path:
        """The program, or a skip of the test that says why there is none."""
        program = self.program()
        if program is None:
            pytest.skip(f"real {self.title} CLI unavailable: {self.why_not()}")
        return program


@functools.cache
def _located(cli: NpmCli) -> Located:
    explicit = os.environ.get(cli.explicit)
    if explicit:
        path = Path(explicit).expanduser()
        version = cli.version_of(path)
        if version is None:
            return Located(None, f"{cli.explicit}={explicit} does not run `--version`")
        return Located(path, "", version)
    return cli.install()
