"""The runner under faults, on real tmux panes, processes and git.

The user's environment never reaches a command line `ps` shows; the runner waits for the
processes it adopts, without taking its agent's exit status; and a herd whose journal was deleted
under it still shows and pauses its agents, found from their runners.
"""

from __future__ import annotations

import json
import os
import stat
import subprocess
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import libtmux.common
import libtmux.server
import psutil
import pytest

from sessions.adapters.journal import Journal
from sessions.adapters.repo import Repo
from sessions.adapters.tmux import Tmux
from sessions.supervisor import Supervisor
from tests.helpers import corral as run_corral
from tests.helpers import wait_for

pytestmark = pytest.mark.tmux

SIMS = "\n".join(
    f'[[agent]]\nname = "sim-{n}"\nkind = "sim"\nargs = ["--speed", "0.05"]\n' for n in (1, 2)
)


def corral(
    root: Path, *args: str, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    result = run_corral(root, *args, env=env)
    if result.returncode != 0:
        pytest.fail(f"corral {' '.join(args)} failed ({result.returncode}): {result.stderr}")
    return result


def ls(root: Path) -> dict[str, dict[str, Any]]:
    agents = json.loads(corral(root, "ls", "--json").stdout)["agents"]
    return {agent["name"]: agent for agent in agents}


def agent_when(root: Path, name: str, holds: Callable[[dict[str, Any]], bool], what: str) -> Any:
    return wait_for(lambda: (a := ls(root).get(name)) is not None and holds(a) and a, what=what)


def tree(pid: int) -> list[psutil.Process]:
    root = psutil.Process(pid)
    return [root, *root.children(recursive=True)]


@pytest.fixture
def sim_herd(make_repo: Callable[..., Path]) -> Path:
    root = make_repo(SIMS)
    return root


def test_no_environment_variable_reaches_a_command_line_ps_shows(sim_herd: Path) -> None:
    """The first `up` starts the tmux server, which keeps its command line for as long as it
    runs: a token in the shell that ran it must not be readable there by every local user.
    The agents still get it, and a token only the later commands had reaches their agents too,
    which nothing but the launch file can have carried (the server never had it)."""
    secret = f"probe-secret-{uuid.uuid4().hex}"
    later = f"probe-later-{uuid.uuid4().hex}"
    corral(sim_herd, "up", "sim-1", env={**os.environ, "PROBE_API_KEY": secret})
    first = agent_when(sim_herd, "sim-1", lambda a: a["state"] == "idle", "sim-1 idle")
    env = {**os.environ, "PROBE_API_KEY": secret, "PROBE_LATER_TOKEN": later}
    corral(sim_herd, "up", "sim-2", env=env)  # a new pane on the running server
    corral(sim_herd, "restart", "sim-1", env=env)  # the same pane, respawned
    agents = {
        name: agent_when(sim_herd, name, lambda a: a["pid"] not in (None, first["pid"]), name)
        for name in ("sim-1", "sim-2")
    }

    # Real ps, as any local user would run it; -ww so that no long line is cut short.
    ps = subprocess.run(["ps", "-ww", "-eo", "args"], capture_output=True, text=True, check=True)
    shown = ps.stdout
    assert "tmux" in shown and "sessions.runner" in shown
    assert secret not in shown and later not in shown
    tmux = Tmux(Repo.discover(sim_herd).socket_name)
    [server] = tmux.run("display-message", "-p", "#{pid}")
    server_argv = Path(f"/proc/{server}/cmdline").read_bytes()
    assert b"new-session" in server_argv and secret.encode() not in server_argv

    for agent in agents.values():
        environ = Path(f"/proc/{agent['pid']}/environ").read_bytes().split(b"\0")
        assert f"PROBE_API_KEY={secret}".encode() in environ
        assert f"PROBE_LATER_TOKEN={later}".encode() in environ
    launch = Repo.discover(sim_herd).launch_dir
    for name in agents:
        path = launch / f"{name}.json"
        assert json.loads(path.read_text())["environ"]["PROBE_LATER_TOKEN"] == later
        assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(launch.stat().st_mode) == 0o700


def test_tmux_never_gets_an_environment_variable_on_its_command_line(
    make_repo: Callable[..., Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Every tmux command corral runs, its own command lines and libtmux's, the short-lived ones
    too (`respawn-pane` on restart)."""
    secret = f"probe-secret-{uuid.uuid4().hex}"
    monkeypatch.setenv("PROBE_API_KEY", secret)
    root = make_repo(SIMS)
    supervisor = Supervisor.open(root)
    commands: list[tuple[str, ...]] = []
    run = Tmux.run

    def recording(self: Tmux, *args: str, ok_if_no_server: bool = False) -> list[str]:
        commands.append(args)
        return run(self, *args, ok_if_no_server=ok_if_no_server)

    monkeypatch.setattr(Tmux, "run", recording)
    libtmux_run = libtmux.common.tmux_cmd

    def recording_libtmux(*args: Any, **options: Any) -> libtmux.common.tmux_cmd:
        words = [str(arg) for arg in args]
        verb = next(n for n, word in enumerate(words) if not word.startswith("-"))
        commands.append(tuple(words[verb:]))
        return libtmux_run(*args, **options)

    monkeypatch.setattr(libtmux.server, "tmux_cmd", recording_libtmux)
    supervisor.up()
    wait_for(lambda: all(v.pid for v in supervisor.look()), what="two agents")
    supervisor.restart("sim-1")
    wait_for(lambda: supervisor.view("sim-1").pid, what="sim-1 again")
    verbs = {command[0] for command in commands}
    assert {"new-session", "respawn-pane"} <= verbs
    assert not [command for command in commands if any(secret in arg for arg in command)]


def shell_agent(name: str, command: str, restart: str = "never") -> str:
    return (
        f'[[agent]]\nname = "{name}"\nkind = "shell"\n'
        f'command = {json.dumps(command)}\nrestart = "{restart}"\n'
    )


def children(pid: int) -> dict[int, str]:
    """The status of each child of `pid` now; one reaped while this looks is left out."""
    found: dict[int, str] = {}
    for child in psutil.Process(pid).children():
        try:
            found[child.pid] = child.status()
        except psutil.NoSuchProcess:
            continue
    return found


def zombies(pid: int) -> int:
    return sum(1 for status in children(pid).values() if status == psutil.STATUS_ZOMBIE)


def test_the_runner_reaps_what_it_adopts_and_keeps_its_agents_exit_code(
    make_repo: Callable[..., Path],
) -> None:
    """Each `(sleep &)` orphans a sleep to the runner (a child subreaper); each run ends with
    code 7 while its orphans are still ending."""
    orphaning = (
        "sh -c 'for i in $(seq 60); do (sleep 0.2 &); sleep 0.02; done; (sleep 0.01 &); exit 7'"
    )
    config = (
        "[backoff]\nclean = 0.1\nfailure = 0.1\ncrash_runs = 100\ncrash_seconds = 0.01\n"
        + shell_agent("orphaner", orphaning, restart="on-failure")
    )
    root = make_repo(config)
    supervisor = Supervisor.open(root)
    supervisor.up()
    runner = wait_for(lambda: supervisor.view("orphaner").runner_pid, what="its runner")
    assert isinstance(runner, int)
    journal = Journal(supervisor.repo.journal_path)

    def ends() -> list[dict[str, Any]]:
        return [e for e in journal.read_all() if e["event"] == "run_end"]

    most = 0
    adopted = 0

    def three_runs_ended() -> bool:
        nonlocal most, adopted
        agent = supervisor.view("orphaner").pid
        now = children(runner)
        most = max(most, sum(1 for status in now.values() if status == psutil.STATUS_ZOMBIE))
        live = [pid for pid, status in now.items() if status != psutil.STATUS_ZOMBIE]
        adopted = max(adopted, sum(1 for pid in live if pid != agent))
        return len(ends()) >= 3

    wait_for(three_runs_ended, timeout=60, interval=0.1, what="three runs ended")
    assert adopted >= 3, "no orphan was adopted by the runner: the test shows nothing"
    assert most <= 5, f"{most} zombies under the runner at once"
    wait_for(lambda: zombies(runner) == 0, what="no zombie left")
    assert [e["exit_code"] for e in ends()[:3]] == [7, 7, 7]


def test_a_deleted_journal_still_shows_and_pauses_the_herd(sim_herd: Path) -> None:
    corral(sim_herd, "up", "sim-1")
    before = agent_when(sim_herd, "sim-1", lambda a: a["state"] == "idle", "sim-1 idle")
    journal = Repo.discover(sim_herd).journal_path
    journal.unlink()

    found = agent_when(sim_herd, "sim-1", lambda a: a["state"] != "starting", "not starting")
    assert found["state"] == "idle" and found["pid"] == before["pid"]
    assert found["runner_pid"] == before["runner_pid"]

    corral(sim_herd, "pause", "sim-1")
    wait_for(
        lambda: all(p.status() == psutil.STATUS_STOPPED for p in tree(before["pid"])),
        what="the agent's processes stopped",
    )
    assert psutil.Process(before["runner_pid"]).status() != psutil.STATUS_STOPPED
    assert ls(sim_herd)["sim-1"]["state"] == "paused"
    events = [e["event"] for e in Journal(journal).read_all()]
    assert events[0] == "pause"  # the journal begins again with the next event

    corral(sim_herd, "resume", "sim-1")
    wait_for(
        lambda: all(p.status() != psutil.STATUS_STOPPED for p in tree(before["pid"])),
        what="the agent's processes running",
    )
    agent_when(sim_herd, "sim-1", lambda a: a["state"] in ("idle", "working"), "running again")
