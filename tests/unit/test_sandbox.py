"""The demo sandbox and `corral demo`'s folder handling, on real git but without a herd.

The end-to-end run (tests/integration/test_demo.py) shows the story happens; these pin down
what makes it safe: a sandbox is reused as it is, `--clean` removes only a folder marked as a
sandbox at creation, and the scripts the herd follows ship with corral and still say the story.
"""

from __future__ import annotations

import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

from sessions.adapters.config import load_config
from sessions.commands import demo
from sessions.commands.sandbox import DEMO_DIR, HERD, SCENARIOS, create, marker_path
from sessions.core.errors import CorralError
from sessions.core.model import Kind, Restart
from sessions.sim.scenario import Scenario, load_scenario
from tests.helpers import git
from tui.cli import main

ROOT = Path(__file__).resolve().parents[2]


def scenario(name: str) -> Scenario:
    return load_scenario(SCENARIOS / f"{name}.toml")


def test_a_new_sandbox_is_one_clean_commit_whose_herd_follows_copies_of_the_scripts(
    tmp_path: Path,
) -> None:
    root = create(tmp_path / "demo", speed=0.5)
    assert git(root, "log", "--format=%s").splitlines() == ["calc: a tiny calculator"]
    assert git(root, "status", "--porcelain") == ""  # the scripts and marker are excluded
    for relative in ("PROGRESS.md", "notes/README.md", "current_tasks/.gitkeep", "src/calc.py"):
        assert (root / relative).is_file()
    assert demo.read_marker(root) is not None
    config = load_config(root)
    assert [agent.name for agent in config.agents] == [agent.name for agent in HERD]
    for spec in config.agents:
        assert spec.kind is Kind.SIM and spec.restart is Restart.NEVER and spec.prompt
        assert spec.args[0] == "--scenario" and spec.args[2:] == ("--speed", "0.5")
        copy = Path(spec.args[1])
        assert copy.parent == root / DEMO_DIR / "scenarios"
        assert copy.read_text() == (SCENARIOS / copy.name).read_text()
        load_scenario(copy)


def test_an_existing_sandbox_is_returned_as_the_herd_left_it(tmp_path: Path) -> None:
    root = create(tmp_path / "demo")
    (root / "src" / "calc.py").write_text("# changed by an agent\n")
    assert create(root) == root
    assert (root / "src" / "calc.py").read_text() == "# changed by an agent\n"
    again = demo.prepare(root)
    assert (again.root, again.created, again.speed) == (root, False, 1.0)


def test_prepare_creates_in_a_new_or_empty_folder_and_refuses_anything_else(
    tmp_path: Path,
) -> None:
    empty = tmp_path / "empty"
    empty.mkdir()
    made = demo.prepare(empty, speed=0.3)
    assert made.created and made.speed == 0.3
    assert demo.prepare(empty).speed == 0.3  # kept from creation
    with pytest.raises(CorralError, match=r"plays at speed 0\.3"):
        demo.prepare(empty, speed=1.0)
    project = tmp_path / "project"
    project.mkdir()
    (project / "main.py").write_text("print('mine')\n")
    with pytest.raises(CorralError, match="not empty and not a corral demo sandbox"):
        demo.prepare(project)
    assert [path.name for path in project.iterdir()] == ["main.py"]


def test_the_default_folder_is_in_corrals_data_directory(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    assert demo.default_dir() == tmp_path / "data" / "corral" / "demo"
    monkeypatch.delenv("XDG_DATA_HOME")
    assert demo.default_dir() == Path.home() / ".local" / "share" / "corral" / "demo"


def test_clean_refuses_a_folder_that_is_not_a_demo_sandbox(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    project = tmp_path / "project"
    project.mkdir()
    git(project, "init", "-q", "-b", "main")
    (project / "work.py").write_text("print('keep me')\n")
    (project / DEMO_DIR).mkdir()
    (project / DEMO_DIR / "sandbox.json").write_text('{"corral_demo": 2}')  # not our marker
    assert main(["demo", "--clean", "--dir", str(project)]) == 1
    err = capsys.readouterr().err.strip()
    assert err == (
        f"corral: {project} is not a corral demo sandbox (no {DEMO_DIR}/sandbox.json): "
        "nothing was removed."
    )
    assert (project / "work.py").read_text() == "print('keep me')\n"
    assert (project / ".git").is_dir()


@pytest.mark.tmux
def test_clean_removes_a_sandbox_and_its_worktrees_but_leaves_what_else_is_there(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    root = create(tmp_path / "demo")
    worktrees = tmp_path / "demo.corral"
    git(root, "worktree", "add", "-q", "-b", "corral/builder-1", str(worktrees / "builder-1"))
    (worktrees / "builder-1" / "scratch.txt").write_text("uncommitted\n")
    (worktrees / "someone-else.txt").write_text("not the demo's\n")
    assert main(["demo", "--clean", "--dir", str(root)]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[1:] == [
        f"removed the worktree {worktrees / 'builder-1'}",
        f"removed the sandbox {root}",
        f"left {worktrees}: it holds more than the demo's worktrees",
    ]
    assert lines[0].startswith("no agent of the sandbox was running")
    assert not root.exists()
    assert [path.name for path in worktrees.iterdir()] == ["someone-else.txt"]
    assert main(["demo", "--clean", "--dir", str(root)]) == 0
    assert capsys.readouterr().out == f"nothing to remove: {root} does not exist\n"


def test_the_scripts_ship_with_corral() -> None:
    data = tomllib.loads((ROOT / "pyproject.toml").read_text())
    patterns = data["tool"]["setuptools"]["package-data"]["sessions"]
    shipped = {path.name for pattern in patterns for path in (ROOT / "sessions").glob(pattern)}
    assert {f"{agent.name}.toml" for agent in HERD} <= shipped


def test_the_scripts_still_tell_the_story() -> None:
    """What each part of the story rests on, so an edit to a script cannot lose it quietly."""
    builders = [scenario(name) for name in ("builder-1", "builder-2")]
    calc_edits = [
        [step.old for step in script.steps if step.do == "edit" and step.path == "src/calc.py"]
        for script in builders
    ]
    assert calc_edits[0] and calc_edits[0] == calc_edits[1]  # the same lines: a merge conflict
    for script in builders:
        kinds = [step.do for step in script.steps]
        assert "commit" in kinds and "progress" in kinds and "note" in kinds
    reviewer = [step.do for step in scenario("reviewer").steps]
    assert {"read", "grep"} <= set(reviewer) and reviewer[-1] == "loop"
    assert not {"edit", "write", "commit", "progress", "note", "lock"} & set(reviewer)
    asker = [step.do for step in scenario("asker").steps]
    assert asker.index("ask") < asker.index("edit")
    crasher = [step.do for step in scenario("crasher").steps]
    assert crasher.index("lock") < crasher.index("crash") and "unlock" not in crasher


def test_the_sandbox_module_still_creates_a_sandbox_from_the_command_line(tmp_path: Path) -> None:
    folder = tmp_path / "sandbox"
    result = subprocess.run(
        [sys.executable, "-m", "sessions.commands.sandbox", str(folder)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout == f"sandbox repository: {folder.resolve()}\n"
    assert marker_path(folder).is_file()
