"""The simulated agent in a real tmux pane and a real git repository.

corral reads the agent's screen, types into it with `send-keys -l` and `paste-buffer -p`, stops
and signals it, and watches its files, commits and journal events; each test drives one of
those paths end to end. The first tests exercise the tool calls on a repository without tmux.
"""

from __future__ import annotations

import json
import os
import random
import shlex
import signal
import subprocess
import sys
import uuid
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import libtmux
import psutil
import pytest

from sessions.sim.plan import plan_turn
from sessions.sim.workspace import Workspace
from tests.helpers import git, wait_for

ROOT = Path(__file__).resolve().parents[2]
TOOL_STEPS = {"read", "grep", "edit", "write", "bash", "commit", "progress", "note"}
SANE = {"isig", "icanon", "echo", "opost"}
# After the agent ends, the pane reports its exit code and the tty flags that matter.
AFTER = (
    'echo "EXIT=$?"; '
    "stty -a | tr ' ;' '\\n\\n' | grep -x -E -- '-?(isig|icanon|echo|opost)' | tr '\\n' ' '; "
    "echo; exec sleep 60"
)


def tty_flags_shown(screen: list[str]) -> list[str]:
    """The screen once the exit code and the line of tty flags after it are both drawn, else
    nothing."""
    exits = [n for n, line in enumerate(screen) if line.startswith("EXIT=")]
    if exits and exits[-1] + 1 < len(screen) and screen[exits[-1] + 1].strip():
        return screen
    return []


def run(root: Path) -> Callable[[Sequence[str]], tuple[int, str]]:
    def run_(argv: Sequence[str]) -> tuple[int, str]:
        done = subprocess.run(list(argv), cwd=root, capture_output=True, text=True, check=False)
        return done.returncode, done.stdout + done.stderr

    return run_


# --- tool calls on a real repository ---------------------------------------------------------


def test_a_lock_is_claimed_and_released_in_commits_of_its_own(
    make_repo: Callable[..., Path],
) -> None:
    root = make_repo()
    (root / "scratch.txt").write_text("not part of the claim\n")
    workspace = Workspace(root, "alpha", run(root))
    calls = workspace.lock("Fix the parser!")
    assert [call.tool for call in calls] == ["Write", "Bash"]
    assert all(call.ok for call in calls)
    lock = (root / "current_tasks" / "fix-the-parser.txt").read_text().splitlines()
    assert lock[0].startswith("created_at_unix=") and lock[0].split("=")[1].isdigit()
    assert lock[1:] == ["agent_id=alpha", "task=Fix the parser!"]
    assert git(root, "show", "--name-only", "--format=%s|%an").split() == [
        "Claim",
        "task:",
        "Fix",
        "the",
        "parser!|alpha",
        "current_tasks/fix-the-parser.txt",
    ]
    [release] = workspace.unlock("Fix the parser!")
    assert release.ok
    assert not (root / "current_tasks" / "fix-the-parser.txt").exists()
    assert git(root, "log", "-1", "--format=%s").strip() == "Release task: Fix the parser!"
    assert git(root, "status", "--short").strip() == "?? scratch.txt"


def test_progress_items_are_added_and_ticked(make_repo: Callable[..., Path]) -> None:
    root = make_repo()
    workspace = Workspace(root, "alpha", run(root))
    workspace.progress(tick="second task")
    workspace.progress(item="third task")
    workspace.progress(tick="third task", text="Test pass rate: 100%")
    assert (root / "PROGRESS.md").read_text().splitlines()[2:] == [
        "- [ ] first task",
        "- [x] second task",
        "- [x] third task",
        "Test pass rate: 100%",
    ]


def test_an_edit_rewrites_the_agents_own_function_each_time(
    make_repo: Callable[..., Path],
) -> None:
    root = make_repo()
    workspace = Workspace(root, "alpha-1", run(root))
    for _ in range(3):
        assert workspace.edit("src/app.py").ok
    text = (root / "src" / "app.py").read_text()
    assert text.startswith("def main() -> int:\n    return 0\n")
    assert text.endswith("def corral_sim_alpha_1() -> int:\n    return 3\n")
    assert text.count("def corral_sim_alpha_1") == 1
    missing = workspace.edit("src/app.py", old="nothing like this", new="x")
    assert not missing.ok


def test_commits_leave_corrals_own_folder_out(make_repo: Callable[..., Path]) -> None:
    root = make_repo()
    (root / ".corral").mkdir()
    (root / ".corral" / "journal.jsonl").write_text("{}\n")
    workspace = Workspace(root, "alpha", run(root), exclude=[".corral"])
    workspace.note("hand off", "All yours.")
    call = workspace.commit("Write a note")
    assert call.ok, call.detail
    assert git(root, "show", "--name-only", "--format=").split() == ["notes/hand-off.md"]
    assert (root / "notes" / "hand-off.md").read_text() == "# hand off\n\nAll yours.\n"


def test_bash_runs_python_as_the_current_interpreter(make_repo: Callable[..., Path]) -> None:
    root = make_repo()
    call = Workspace(root, "alpha", run(root)).bash(["python", "-c", "print(6 * 7)"])
    assert call.ok
    assert call.detail == ("42",)
    assert call.command == "python -c 'print(6 * 7)'"


# --- in a tmux pane --------------------------------------------------------------------------


@pytest.fixture
def server() -> Iterator[libtmux.Server]:
    tmux = libtmux.Server(socket_name=f"corral-test-{uuid.uuid4().hex[:10]}")
    try:
        yield tmux
    finally:
        tmux.kill()


@dataclass
class Sim:
    pane: libtmux.Pane
    repo: Path
    journal: Path

    def screen(self) -> list[str]:
        lines: list[str] = self.pane.cmd("capture-pane", "-p").stdout
        return lines

    def footer(self) -> str:
        return next((line for line in reversed(self.screen()) if line.strip()), "")

    def shows(self, text: str) -> bool:
        return any(text in line for line in self.screen())

    def idle(self) -> bool:
        screen = self.screen()
        return "? for shortcuts" in self.footer() and any(line.startswith("❯") for line in screen)

    def events(self, kind: str) -> list[dict[str, Any]]:
        if not self.journal.exists():
            return []
        records = [json.loads(line) for line in self.journal.read_text().splitlines()]
        return [record for record in records if record["event"] == kind]

    def hook_events(self, name: str) -> list[dict[str, Any]]:
        """What the sim reported through the hook entry, as Claude Code would."""
        path = self.journal.parent / "events" / "alpha.jsonl"
        if not path.exists():
            return []
        records = [json.loads(line) for line in path.read_text().splitlines()]
        return [r for r in records if r["event"] == name and r.get("kind") == "sim"]

    def type(self, text: str) -> None:
        self.pane.cmd("send-keys", "-l", text)
        self.pane.cmd("send-keys", "Enter")

    def process(self) -> psutil.Process:
        shell = psutil.Process(int(self.pane.pane_pid or 0))
        found = [child for child in shell.children() if "sessions.sim" in " ".join(child.cmdline())]
        assert len(found) == 1, found
        return found[0]


@pytest.fixture
def start(server: libtmux.Server, make_repo: Callable[..., Path]) -> Callable[..., Sim]:
    def start_(*args: str, width: int = 100, height: int = 30) -> Sim:
        repo = make_repo()
        home = repo.parent / "corral-home"
        command = shlex.join([sys.executable, "-m", "sessions.sim", *args])
        session = server.new_session(
            session_name=f"sim-{uuid.uuid4().hex[:6]}",
            start_directory=str(repo),
            window_command=f"{command}; {AFTER}",
            x=width,
            y=height,
            environment={
                "CORRAL_AGENT": "alpha",
                "CORRAL_HOME": str(home),
                "PYTHONPATH": str(ROOT),
            },
        )
        pane = session.active_window.active_pane
        assert pane is not None
        return Sim(pane, repo, home / "journal.jsonl")

    return start_


def scenario(tmp_path: Path, text: str) -> str:
    path = tmp_path / f"scenario-{uuid.uuid4().hex[:6]}.toml"
    path.write_text(text)
    return str(path)


def long_enough_seed(files: list[str], speed: float, seconds: float) -> tuple[int, list[str]]:
    """A seed whose first turn edits, commits and thinks long enough to be seen working."""
    for seed in range(1000):
        turn = plan_turn(random.Random(seed), files, "alpha")
        dos = [step.do for step in turn.steps]
        thinking = sum(step.seconds for step in turn.steps if step.do == "think") * speed
        if "edit" in dos and "commit" in dos and "lock" not in dos and thinking >= seconds:
            return seed, dos
    raise AssertionError("no seed fits")


@pytest.mark.tmux
def test_a_typed_prompt_starts_a_turn_that_really_works(start: Callable[..., Sim]) -> None:
    speed = 0.1
    seed, dos = long_enough_seed(["PROGRESS.md", "README.md", "src/app.py"], speed, 0.6)
    sim = start("--seed", str(seed), "--speed", str(speed))
    wait_for(sim.idle, 10, what="the idle input box")
    assert not sim.events("prompt")

    sim.type("fix the parser")
    wait_for(lambda: "esc to interrupt" in sim.footer(), 5, what="the working footer")
    assert any(
        line.endswith("…") and line[:2] in {"· ", "✢ ", "✶ ", "✻ ", "✽ ", "* "}
        for line in sim.screen()
    )
    wait_for(lambda: sim.events("turn_end"), 10, what="the end of the turn")
    wait_for(sim.idle, 5, what="the idle box after the turn")

    [prompt] = sim.events("prompt")
    assert (prompt["chars"], prompt["text"], prompt["agent"]) == (14, "fix the parser", "alpha")
    tools = sim.hook_events("PreToolUse")
    assert len(tools) == sum(1 for do in dos if do in TOOL_STEPS)
    assert all(event["cls"] in {"edit", "read", "exec"} for event in tools)
    edits = {path for event in tools if event["cls"] == "edit" for path in event["paths"]}
    assert edits
    assert git(sim.repo, "log", "--format=%an", "-1").strip() == "alpha"
    assert len(git(sim.repo, "log", "--oneline").splitlines()) == 2
    [end] = sim.events("turn_end")
    assert end["interrupted"] is False


@pytest.mark.tmux
def test_a_pasted_multi_line_prompt_arrives_as_one_prompt(
    start: Callable[..., Sim], tmp_path: Path
) -> None:
    sim = start("--speed", "0.05")
    wait_for(sim.idle, 10, what="the idle input box")
    text = "Please fix these:\n1. the parser\n2. the printer\n\n  and keep the tests green"
    buffer = tmp_path / "prompt.txt"
    buffer.write_text(text)
    name = f"prompt-{uuid.uuid4().hex[:6]}"
    sim.pane.server.cmd("load-buffer", "-b", name, str(buffer))
    sim.pane.cmd("paste-buffer", "-p", "-d", "-b", name)
    sim.pane.cmd("send-keys", "Enter")
    wait_for(lambda: sim.events("turn_end"), 10, what="the turn the paste started")
    [prompt] = sim.events("prompt")
    assert prompt["chars"] == len(text)
    assert prompt["text"] == text[:80]


@pytest.mark.tmux
def test_a_permission_question_waits_for_its_answer(
    start: Callable[..., Sim], tmp_path: Path
) -> None:
    sim = start(
        "--scenario",
        scenario(
            tmp_path,
            """
            [[step]]
            do = "ask"
            path = "src/app.py"
            [[step]]
            do = "edit"
            path = "src/app.py"
            old = "return 0"
            new = "return 42"
            [[step]]
            do = "commit"
            message = "Answer the question"
            [[step]]
            do = "idle"
            """,
        ),
        width=40,
        height=10,
    )
    wait_for(lambda: sim.shows("Do you want to make this edit to"), 10, what="the question")
    assert sim.footer().strip() == "Esc to cancel · Tab to amend"
    assert sim.shows("❯ 1. Yes") and sim.shows("2. No")
    assert [event["state"] for event in sim.events("permission")] == ["asked"]
    assert "return 0" in (sim.repo / "src" / "app.py").read_text()

    sim.pane.cmd("send-keys", "1")
    wait_for(sim.idle, 5, what="the idle box after the answer")
    answered = sim.events("permission")[-1]
    assert (answered["state"], answered["answer"]) == ("answered", "yes")
    assert "return 42" in (sim.repo / "src" / "app.py").read_text()
    assert git(sim.repo, "log", "-1", "--format=%s").strip() == "Answer the question"


@pytest.mark.tmux
def test_escape_interrupts_the_turn(start: Callable[..., Sim], tmp_path: Path) -> None:
    steps = '[[step]]\ndo = "read"\npath = "README.md"\n[[step]]\ndo = "think"\nseconds = 60\n'
    sim = start("--scenario", scenario(tmp_path, steps), "go")
    wait_for(lambda: "esc to interrupt" in sim.footer(), 10, what="the working footer")
    sim.pane.cmd("send-keys", "Escape")
    wait_for(sim.idle, 5, what="the idle box after Esc")
    assert sim.shows("⎿  Interrupted")
    [end] = sim.events("turn_end")
    assert (end["interrupted"], end["tools"]) == (True, 1)


@pytest.mark.tmux
def test_it_survives_a_stop_and_takes_input_after_continuing(start: Callable[..., Sim]) -> None:
    sim = start("--speed", "0.05")
    wait_for(sim.idle, 10, what="the idle input box")
    process = sim.process()
    process.send_signal(signal.SIGSTOP)
    wait_for(lambda: process.status() == psutil.STATUS_STOPPED, 5, what="the stop")
    process.send_signal(signal.SIGCONT)
    sim.type("after the pause")
    wait_for(lambda: sim.events("turn_end"), 10, what="a turn after SIGCONT")
    assert sim.events("prompt")[0]["text"] == "after the pause"


@pytest.mark.tmux
def test_sigterm_mid_turn_exits_0_and_leaves_the_terminal_sane(
    start: Callable[..., Sim], tmp_path: Path
) -> None:
    steps = '[[step]]\ndo = "think"\nseconds = 60\n'
    sim = start("--scenario", scenario(tmp_path, steps))
    wait_for(lambda: "esc to interrupt" in sim.footer(), 10, what="the working footer")
    sim.process().send_signal(signal.SIGTERM)
    screen = wait_for(lambda: tty_flags_shown(sim.screen()), 5, what="the exit code and flags")
    assert "EXIT=0" in screen
    flags = set(screen[screen.index("EXIT=0") + 1].split())
    assert flags == SANE
    assert sim.shows("Resume this session with: ")
    assert not any("esc to interrupt" in line for line in screen)
    cursor = sim.pane.cmd("display-message", "-p", "#{cursor_flag}").stdout
    assert cursor == ["1"]


@pytest.mark.tmux
@pytest.mark.parametrize("keys", [("C-c", "C-c"), ("C-d",)])
def test_ctrl_c_twice_or_ctrl_d_at_the_idle_box_exits_0(
    start: Callable[..., Sim], keys: tuple[str, ...]
) -> None:
    sim = start("--speed", "0.05")
    wait_for(sim.idle, 10, what="the idle input box")
    for key in keys:
        sim.pane.cmd("send-keys", key)
    wait_for(lambda: sim.shows("EXIT="), 5, what="the exit code")
    assert "EXIT=0" in sim.screen()


@pytest.mark.tmux
def test_a_bad_scenario_says_so_in_one_line_and_exits_2(
    start: Callable[..., Sim], tmp_path: Path
) -> None:
    path = scenario(tmp_path, '[[step]]\ndo = "fly"\n')
    sim = start("--scenario", path)
    wait_for(lambda: sim.shows("EXIT="), 10, what="the exit code")
    screen = [line for line in sim.screen() if line.strip()]
    assert screen[0].startswith("sessions.sim: ") and "unknown do = 'fly'" in "".join(screen)
    assert "EXIT=2" in screen


def test_it_runs_standalone_without_a_terminal_or_corral(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("CORRAL_")}
    done = subprocess.run(
        [sys.executable, "-m", "sessions.sim", "--speed", "0.01", "hello"],
        cwd=tmp_path,
        env={**env, "PYTHONPATH": str(ROOT)},
        stdin=subprocess.DEVNULL,
        capture_output=True,
        timeout=20,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert b"Resume this session with" in done.stdout
    assert not (tmp_path / "journal.jsonl").exists()
