"""corral as a user installs it: the wheel built from this checkout, installed with `uv tool
install` into a venv of its own, and run from folders that are not the checkout.

The build goes through the sdist (as `uv build` and `python -m build` both do), so a file the
sdist leaves out is missing from the wheel too. Everything corral reads at run time (themes,
styles, tmux.conf, the demo's scripts, the hook entry) must come from the installed package:
the installed commands run with no PYTHONPATH, from a temporary folder, and the test checks
where the processes they start import corral from.
"""

from __future__ import annotations

import configparser
import json
import os
import shutil
import subprocess
import sys
import tomllib
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psutil
import pytest

from tests.helpers import git, wait_for
from tests.support.demo_story import wait_for_story

pytestmark = pytest.mark.tmux

REPO = Path(__file__).resolve().parents[2]
VERSION = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]["version"]
# The uv cache of the user running the tests: each test gets a HOME of its own, and a cold cache
# would fetch every dependency again.
UV_CACHE = os.environ.get("UV_CACHE_DIR") or str(
    Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "uv"
)
STORY_SECONDS = 120.0
SKIPPED_DIRS = {".git", ".venv", ".venv-newest", ".uv", "build", "dist", "__pycache__"}


def find_uv() -> str | None:
    """The uv `./dev.sh` installed, else one on PATH."""
    local = REPO / ".uv" / "bin" / "uv"
    return str(local) if local.is_file() else shutil.which("uv")


@dataclass(frozen=True)
class Installed:
    wheel: Path
    sdist: Path
    corral: Path
    python: Path
    env: dict[str, str]


def run(argv: list[str], cwd: Path, env: dict[str, str], timeout: float = 120) -> str:
    done = subprocess.run(
        argv, cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout, check=False
    )
    assert done.returncode == 0, f"{argv} failed:\n{done.stdout}\n{done.stderr}"
    return done.stdout


def source_files() -> list[str]:
    """The checkout's files as git sees them (tracked, and new ones it does not ignore)."""
    listed = git(REPO, "ls-files", "--cached", "--others", "--exclude-standard", "-z")
    return sorted(name for name in listed.split("\0") if name and (REPO / name).is_file())


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Installed]:
    uv = find_uv()
    if uv is None:
        pytest.skip("uv is not installed: `./dev.sh test` installs it into ./.uv")
    top = tmp_path_factory.mktemp("wheel")
    source = top / "source"
    for name in source_files():
        (source / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(REPO / name, source / name)
    env = {
        key: value
        for key, value in os.environ.items()
        if key not in ("PYTHONPATH", "VIRTUAL_ENV", "PYTHONHOME") and not key.startswith("UV_")
    }
    env |= {
        "UV_CACHE_DIR": UV_CACHE,
        "UV_PYTHON_DOWNLOADS": "never",
        "UV_NO_PROGRESS": "1",
        "UV_TOOL_DIR": str(top / "tools"),
        "UV_TOOL_BIN_DIR": str(top / "bin"),
    }
    dist = top / "dist"
    run([uv, "build", "--quiet", "--out-dir", str(dist), str(source)], top, env)
    (wheel,) = dist.glob("corral-*.whl")
    (sdist,) = dist.glob("corral-*.tar.gz")
    # The runtime dependencies at exactly the locked versions, as `./dev.sh` installs them.
    constraints = top / "constraints.txt"
    run(
        [
            uv,
            "export",
            "--frozen",
            "--no-dev",
            "--no-emit-project",
            "--no-hashes",
            "--quiet",
            "--output-file",
            str(constraints),
        ],
        source,
        env,
    )
    run(
        [
            uv,
            "tool",
            "install",
            "--quiet",
            "--python",
            sys.executable,
            "--constraints",
            str(constraints),
            str(wheel),
        ],
        top,
        env,
    )
    corral = top / "bin" / "corral"
    python = top / "tools" / "corral" / "bin" / "python"
    assert corral.exists() and python.exists()
    venv_bin = str(Path(sys.executable).parent)
    path = [str(top / "bin"), *(p for p in env["PATH"].split(os.pathsep) if p != venv_bin)]
    yield Installed(wheel, sdist, corral, python, env | {"PATH": os.pathsep.join(path)})


def user_env(installed: Installed, home: Path) -> dict[str, str]:
    """What a user's shell would hand the installed corral: their HOME, no corral of the
    checkout anywhere. The tmux socket folder is this test's own (the installation was made
    before any test had one), so the herd's tmux server ends with the test."""
    return {
        key: value
        for key, value in installed.env.items()
        if not key.startswith(("UV_", "CORRAL_", "TMUX"))
    } | {"HOME": str(home), "TMUX_TMPDIR": os.environ["TMUX_TMPDIR"]}


def test_the_wheel_holds_every_file_corral_reads_at_run_time(installed: Installed) -> None:
    with zipfile.ZipFile(installed.wheel) as archive:
        shipped = {name: archive.read(name) for name in archive.namelist()}
    expected = {}
    for name in source_files():
        top, _, rest = name.partition("/")
        if top in ("sessions", "tui"):
            expected[name] = (REPO / name).read_bytes()
        elif top == "themes":
            expected[f"tui/bundled_themes/{rest}"] = (REPO / name).read_bytes()
    for name, data in expected.items():
        assert name in shipped, f"{name} is not in the wheel"
        assert shipped[name] == data, f"{name} differs in the wheel"
    assert {name for name in shipped if name.startswith("tui/bundled_themes/")} == {
        name for name in expected if name.startswith("tui/bundled_themes/")
    }
    wanted = (
        "sessions/adapters/tmux.conf",
        "tui/styles/app.tcss",
        "sessions/sim/demo/asker.toml",
        "sessions/agents/screens/claude.toml",
    )
    for name in wanted:
        assert name in shipped
    scripts = shipped[next(n for n in shipped if n.endswith(".dist-info/entry_points.txt"))]
    entry_points = configparser.ConfigParser()
    entry_points.read_string(scripts.decode())
    assert entry_points["console_scripts"]["corral"] == "tui.cli:main"
    assert entry_points["console_scripts"]["corral-hook"] == "sessions.hook:main"


def test_the_installed_corral_runs_the_demo_from_its_own_package(
    installed: Installed, tmp_path: Path, private_home: Path
) -> None:
    env = user_env(installed, private_home)
    corral = str(installed.corral)
    where = run(
        [
            str(installed.python),
            "-c",
            "import sessions, tui; print(sessions.__file__, tui.__file__)",
        ],
        tmp_path,
        env,
    )
    assert str(REPO) not in where and str(installed.python.parent.parent) in where

    version = run([corral, "--version"], tmp_path, env).strip()
    assert version.startswith(f"corral {VERSION} (tmux ") and ", git " in version, version

    # Outside a repository doctor says so in one line and says where corral runs from.
    outside = subprocess.run(
        [corral, "doctor"], cwd=tmp_path, env=env, capture_output=True, text=True, check=False
    )
    assert outside.returncode == 1 and "Traceback" not in outside.stderr
    assert f"corral {VERSION} in {installed.python.parent.parent}" in outside.stdout
    assert "NO  repository" in outside.stdout

    folder = tmp_path / "demo"
    started = run(
        [corral, "demo", "--no-tui", "--dir", str(folder), "--speed", "0.3"], tmp_path, env
    )
    root = folder.resolve()
    assert f"demo sandbox created: {root}" in started

    story, _ = wait_for_story([corral], root, STORY_SECONDS, env)

    # The runners and the agents run the installed package, and its hook entry answered.
    for agent in story["ls"]["agents"]:
        if agent["name"] == "crasher" or not agent["pid"]:
            continue
        process = psutil.Process(agent["pid"])
        runner = process.parent()
        assert runner is not None
        for each in (process, runner):
            assert str(REPO) not in " ".join(each.cmdline())
            assert each.cmdline()[0].startswith(str(installed.python.parent.parent))
    events = (root / ".corral" / "events" / "builder-1.jsonl").read_text().splitlines()
    assert {json.loads(line)["event"] for line in events} >= {"SessionStart", "PreToolUse"}
    assert not (root / ".corral" / "hook-errors.log").exists()

    doctor = run([corral, "doctor"], root, env)
    assert "NO " not in doctor

    cleaned = run([corral, "demo", "--clean", "--dir", str(folder)], tmp_path, env)
    assert f"removed the sandbox {root}" in cleaned and not root.exists()


FAKE_CLAUDE = """#!/bin/sh
# Stands in for Claude Code where it cannot be installed: runs the PreToolUse hook corral
# wrote into the worktree's settings the way Claude Code does, through sh -c, with one payload.
command=$("$PYTHON" -c 'import json; s = json.load(open(".claude/settings.local.json")); \
print(s["hooks"]["PreToolUse"][0]["hooks"][0]["command"])')
printf '{"session_id": "s", "transcript_path": "/nowhere", "cwd": "%s", \
"hook_event_name": "PreToolUse", "tool_name": "Edit", "tool_use_id": "t1", \
"tool_input": {"file_path": "%s/src/app.py", "old_string": "a", "new_string": "b"}}' \
  "$PWD" "$PWD" | sh -c "$command"
echo "hook exit $?"
exec sleep 600
"""


def test_the_claude_hook_the_installed_corral_writes_runs_from_the_wheel(
    installed: Installed,
    tmp_path: Path,
    private_home: Path,
    make_repo: Any,
) -> None:
    fake = tmp_path / "fake-claude"
    fake.write_text(FAKE_CLAUDE)
    fake.chmod(0o755)
    config = (
        '[[agent]]\nname = "c1"\nkind = "claude"\n'
        f"command = [{json.dumps(str(fake))}]\n"
        f"env = {{ PYTHON = {json.dumps(sys.executable)} }}\n"
    )
    root = make_repo(config)
    env = user_env(installed, private_home)
    run([str(installed.corral), "--repo", str(root), "up"], tmp_path, env)
    listed = json.loads(
        run([str(installed.corral), "--repo", str(root), "ls", "--json"], tmp_path, env)
    )
    (agent,) = listed["agents"]
    worktree = Path(agent["worktree"])
    settings = json.loads((worktree / ".claude" / "settings.local.json").read_text())
    command = settings["hooks"]["PreToolUse"][0]["hooks"][0]["command"]
    assert str(REPO) not in command and str(installed.python.parent.parent) in command

    events = root / ".corral" / "events" / "c1.jsonl"

    def hooked() -> list[dict[str, Any]]:
        try:
            lines = events.read_text().splitlines()
        except FileNotFoundError:
            return []
        return [record for line in lines if (record := json.loads(line))["event"] == "PreToolUse"]

    (record,) = wait_for(hooked, timeout=30, what="the PreToolUse line from the installed hook")
    assert record["agent"] == "c1" and record["tool"] == "Edit"
    assert record["paths"] == ["src/app.py"]
    assert not (root / ".corral" / "hook-errors.log").exists()
