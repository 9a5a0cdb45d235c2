"""A herd of simulated agents through the real command line: start, outlive it, adopt, act.

The command line runs as a separate process each time, as a user runs it, so these tests show
that nothing the herd needs lives in a corral process.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import Any

import libtmux
import psutil
import pytest

from sessions.adapters.journal import Journal
from sessions.adapters.repo import Repo
from sessions.adapters.tmux import Tmux
from tests.helpers import corral as run_corral
from tests.helpers import git, wait_for

pytestmark = pytest.mark.tmux

SIX = "\n".join(
    f'[[agent]]\nname = "sim-{n}"\nkind = "sim"\nargs = ["--speed", "0.05"]\n' for n in range(1, 7)
)


def corral(
    root: Path, *args: str, check: bool = True, **kwargs: Any
) -> subprocess.CompletedProcess[str]:
    result = run_corral(root, *args, **kwargs)
    if check and result.returncode != 0:
        pytest.fail(f"corral {' '.join(args)} failed ({result.returncode}): {result.stderr}")
    return result


def ls(root: Path) -> dict[str, dict[str, Any]]:
    agents = json.loads(corral(root, "ls", "--json").stdout)["agents"]
    return {agent["name"]: agent for agent in agents}


def ls_when(root: Path, holds: Callable[[dict[str, Any]], bool], what: str) -> dict[str, Any]:
    """`corral ls --json` once `holds` is true of every agent in it."""
    found: dict[str, Any] = {}

    def check() -> bool:
        found.clear()
        found.update(ls(root))
        return bool(found) and all(holds(agent) for agent in found.values())

    wait_for(check, what=what)
    return dict(found)


@pytest.fixture
def herd(make_repo: Callable[..., Path]) -> Path:
    root = make_repo(SIX)
    return root


def ended(pid: int) -> bool:
    return not psutil.pid_exists(pid)


def shows(tmux: Tmux, pane: str, text: str) -> bool:
    return text in tmux.capture(pane)


def idle_box_shown(tmux: Tmux, pane: str) -> bool:
    return "❯" in tmux.capture(pane)


def test_six_agents_start_outlive_the_command_line_and_are_adopted(herd: Path) -> None:
    started = corral(herd, "up")
    assert started.stdout.count(" started in ") == 6
    agents = ls_when(herd, lambda a: bool(a["pid"]), "six pids")
    assert isinstance(agents, dict) and len(agents) == 6
    for name, agent in agents.items():
        process = psutil.Process(agent["pid"])
        assert process.is_running()
        assert process.ppid() == agent["runner_pid"]
        assert Path(agent["worktree"]).name == name
        assert agent["branch"] == f"corral/{name}"
    idle = ls_when(herd, lambda a: a["state"] == "idle", "six agents idle at their input box")
    assert all("the input box on screen" in agent["reason"] for agent in idle.values())
    again = corral(herd, "up")
    assert again.stdout.count("already runs") == 6
    adopted = ls(herd)
    assert {n: a["pid"] for n, a in adopted.items()} == {n: a["pid"] for n, a in agents.items()}
    assert {n: a["pane"] for n, a in adopted.items()} == {n: a["pane"] for n, a in agents.items()}
    branches = git(herd, "for-each-ref", "--format=%(refname:short)", "refs/heads/corral/")
    assert branches.split() == [f"corral/sim-{n}" for n in range(1, 7)]


def test_up_from_inside_the_users_tmux_labels_every_pane(herd: Path) -> None:
    """Run from a pane of the user's tmux, corral must not apply its options to the pane of
    the same number on its own server."""
    env = {**os.environ, "TMUX": "/tmp/tmux-0/default,1,0", "TMUX_PANE": "%0"}
    corral(herd, "up", "sim-1", "sim-2", "sim-3", env=env)
    agents = ls_when(herd, lambda a: bool(a["pid"]), "three pids")
    assert sorted(agents) == ["sim-1", "sim-2", "sim-3"]
    assert len({agent["pane"] for agent in agents.values()}) == 3


def test_send_reaches_the_right_agent_whole(herd: Path) -> None:
    corral(herd, "up", "sim-1", "sim-2")
    tmux = Tmux(Repo.discover(herd).socket_name)
    panes = {p.agent: p.pane_id for p in tmux.panes()}
    for pane in panes.values():
        wait_for(partial(idle_box_shown, tmux, pane), what="input box")
    corral(herd, "send", "sim-2", "refactor the parser please")
    text = "first line of a long prompt\nsecond line\nthird line"
    corral(herd, "send", "sim-1", "-", input=text)
    journal = Journal(Repo.discover(herd).journal_path)

    def prompts() -> dict[str, list[dict[str, Any]]]:
        found: dict[str, list[dict[str, Any]]] = {}
        for event in journal.read_all():
            if event["event"] == "prompt":
                found.setdefault(event["agent"], []).append(event)
        return found

    received = wait_for(lambda: len(p := prompts()) == 2 and p, what="two prompts")
    assert isinstance(received, dict)
    assert [e["text"] for e in received["sim-2"]] == ["refactor the parser please"]
    assert [e["chars"] for e in received["sim-1"]] == [len(text)]


@pytest.fixture
def user_terminal(
    tmp_path: Path, server: libtmux.Server
) -> Callable[[str, bool], tuple[Tmux, str]]:
    """A terminal of the user's own, played by a separate tmux server (libtmux's, which the
    test owns) running a script."""

    def open_(command: str, inside_tmux: bool) -> tuple[Tmux, str]:
        outer = Tmux.on(server)
        env = {k: v for k, v in os.environ.items() if k not in ("TMUX", "TMUX_PANE")}
        script = tmp_path / "user.sh"
        prefix = "" if inside_tmux else "env -u TMUX "
        script.write_text(f"{prefix}{command}\necho attach-exit=$?; sleep 30\n")
        return outer, outer.new_pane("user", tmp_path, ["sh", str(script)], env, 120, 40)

    return open_


def test_attach_shows_the_agent_pane_and_comes_back(
    herd: Path, user_terminal: Callable[[str, bool], tuple[Tmux, str]]
) -> None:
    corral(herd, "up", "sim-3")
    tmux = Tmux(Repo.discover(herd).socket_name)
    wait_for(lambda: idle_box_shown(tmux, tmux.panes()[0].pane_id), what="input box")
    outer, pane = user_terminal(f"{sys.executable} -m tui.cli --repo {herd} attach sim-3", False)
    wait_for(lambda: "simulated" in outer.capture(pane), what="agent screen in user terminal")
    outer.run("send-keys", "-t", pane, "C-b", "d")
    screen = wait_for(lambda: "attach-exit=0" in (s := outer.capture(pane)) and s, what="return")
    assert "back from sim-3" in str(screen)


def test_killed_tmux_server_is_reported_and_up_restarts_the_herd(herd: Path) -> None:
    corral(herd, "up", "sim-1", "sim-2")
    first = ls_when(herd, lambda a: bool(a["pid"]), "pids")
    Tmux(Repo.discover(herd).socket_name).kill_server()
    gone = ls(herd)
    assert {a["state"] for a in gone.values()} == {"exited"}
    assert all("pane is gone" in a["reason"] for a in gone.values())
    assert isinstance(first, dict)
    for agent in first.values():
        wait_for(partial(ended, agent["pid"]), what="agent ended")
    result = corral(herd, "up", "sim-1", "sim-2")
    assert result.stdout.count(" resumed in ") == 2
    back = ls_when(herd, lambda a: bool(a["pid"]), "pids")
    assert isinstance(back, dict) and set(back) == {"sim-1", "sim-2"}
    tmux = Tmux(Repo.discover(herd).socket_name)
    for name, agent in first.items():
        resumed = f"Resumed session {agent['session_id']}"
        wait_for(partial(shows, tmux, back[name]["pane"], resumed), what="its own session")


def test_kill_minus_nine_during_up_loses_nothing(herd: Path) -> None:
    process = subprocess.Popen(
        [sys.executable, "-m", "tui.cli", "--repo", str(herd), "up"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    tmux = Tmux(Repo.discover(herd).socket_name)
    wait_for(lambda: tmux.panes() or process.poll() is not None, interval=0.002, what="first pane")
    process.send_signal(signal.SIGKILL)
    process.wait()
    corral(herd, "up")
    agents = ls_when(herd, lambda a: bool(a["pid"]), "pids")
    assert isinstance(agents, dict) and len(agents) == 6
    assert len(tmux.panes()) == 6
    worktrees = git(herd, "worktree", "list", "--porcelain").count("worktree ")
    assert worktrees == 7


def test_attach_inside_the_users_tmux_opens_a_window_there_without_nesting(
    herd: Path, user_terminal: Callable[[str, bool], tuple[Tmux, str]]
) -> None:
    corral(herd, "up", "sim-4")
    tmux = Tmux(Repo.discover(herd).socket_name)
    wait_for(lambda: idle_box_shown(tmux, tmux.panes()[0].pane_id), what="input box")
    outer, pane = user_terminal(f"{sys.executable} -m tui.cli --repo {herd} attach sim-4", True)
    wait_for(lambda: "attach-exit=0" in outer.capture(pane), what="attach returned")
    windows = outer.run("list-windows", "-a", "-F", "#{window_name} #{pane_id}")
    new = [line.split()[1] for line in windows if line.startswith("corral:sim-4")]
    assert len(new) == 1
    wait_for(lambda: "simulated" in outer.capture(new[0]), what="agent screen in new window")
