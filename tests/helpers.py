"""Helpers shared by tests: git with a fixed identity, the real command line, and waiting on a
condition."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import pytest

T = TypeVar("T")

GIT_ENV = {
    "GIT_AUTHOR_NAME": "Test",
    "GIT_AUTHOR_EMAIL": "test@example.invalid",
    "GIT_COMMITTER_NAME": "Test",
    "GIT_COMMITTER_EMAIL": "test@example.invalid",
}


def git(cwd: Path, *args: str, when: float | None = None) -> str:
    """git as a user (or an agent) runs it, with an identity of its own for the commits and,
    when given, a date for them."""
    env = {**os.environ, **GIT_ENV}
    if when is not None:
        env["GIT_AUTHOR_DATE"] = env["GIT_COMMITTER_DATE"] = f"@{int(when)} +0000"
    command = ["git", *args]
    result = subprocess.run(command, cwd=cwd, env=env, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        error = subprocess.CalledProcessError(result.returncode, command, result.stdout)
        error.add_note(result.stderr.strip())  # what git said, in the test's report
        raise error
    return result.stdout


def corral(root: Path, *args: str, **options: Any) -> subprocess.CompletedProcess[str]:
    """`corral --repo ROOT ARGS` as a user runs it, in a process of its own; `options` go to
    `subprocess.run` (env, input, preexec_fn...)."""
    command = [sys.executable, "-m", "tui.cli", "--repo", str(root), *args]
    options = {"capture_output": True, "text": True, "timeout": 60, **options}
    return subprocess.run(command, check=False, **options)


def wait_for(
    condition: Callable[[], T], timeout: float = 10.0, interval: float = 0.05, what: str = ""
) -> T:
    """Poll `condition` until it returns something truthy, or fail after `timeout` seconds."""
    end = time.monotonic() + timeout
    last: T | None = None
    while time.monotonic() < end:
        last = condition()
        if last:
            return last
        time.sleep(interval)
    pytest.fail(f"timed out after {timeout} s waiting for {what or condition}; last: {last!r}")


def counted_git(folder: Path) -> tuple[str, Path]:
    """A PATH whose first `git` logs each call's subcommand to a file, and that file: how many
    processes a piece of corral starts is part of what some tests check."""
    log, shim = folder / "git-calls.log", folder / "bin"
    shim.mkdir()
    real = shutil.which("git")
    assert real is not None
    (shim / "git").write_text(f'#!/bin/sh\necho "$1" >> "{log}"\nexec "{real}" "$@"\n')
    (shim / "git").chmod(0o755)
    return f"{shim}{os.pathsep}{os.environ['PATH']}", log
