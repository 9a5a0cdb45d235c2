"""The dashboard on a real herd: simulated agents in real tmux panes and worktrees.

One test drives the app with Pilot on the real supervisor; another runs the real `corral`
command in a tmux pane of its own server, presses keys there and reads the screen back; one
counts the files a look opens.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from sessions.adapters.journal import Journal
from sessions.adapters.repo import Repo
from sessions.core.model import State
from sessions.supervisor import Supervisor
from tests.helpers import wait_for
from tests.tui.conftest import until
from tui.app import CorralApp
from tui.reading import Reader
from tui.widgets.herd_table import HerdTable

pytestmark = pytest.mark.tmux

THINK = '[[step]]\ndo = "think"\nseconds = 600\n'


class Opens:
    """Paths this process opens while a test counts them. An audit hook cannot be taken out
    again, so one is added once and does nothing while no test counts."""

    hooked = False
    paths: list[str] | None = None

    @classmethod
    def see(cls, event: str, args: tuple[object, ...]) -> None:
        if event == "open" and cls.paths is not None and args:
            cls.paths.append(str(args[0]))


@pytest.fixture
def sim_herd(make_repo: Callable[..., Path], tmp_path: Path) -> Path:
    """Two simulated agents thinking for ten minutes, started and seen running."""
    scenario = tmp_path / "think.toml"
    scenario.write_text(THINK)
    config = ""
    for name in ("one", "two"):
        config += (
            f'[[agent]]\nname = "{name}"\nkind = "sim"\n'
            f"args = [{json.dumps('--scenario')}, {json.dumps(str(scenario))}]\n"
            'prompt = "go"\n\n'
        )
    root = make_repo(config)
    supervisor = Supervisor.open(root)
    supervisor.up()
    wait_for(
        lambda: all(view.pid for view in supervisor.look()) and len(supervisor.look()) == 2,
        timeout=30,
        what="two running agents",
    )
    return root


@pytest.mark.asyncio
async def test_p_pauses_a_real_agent(sim_herd: Path) -> None:
    app = CorralApp(
        Supervisor.open(sim_herd),
        actor=Supervisor.open(sim_herd),
        poll=0.2,
        offer_up=False,
        settings_path=sim_herd / "none.toml",
        environ={},
    )
    async with app.run_test(size=(160, 40)) as pilot:
        table = app.screen.query_one(HerdTable)

        def row(name: str) -> str:
            if name not in [r.name for r in table.rows_shown]:
                return ""
            return " ".join(cell.plain for cell in table.get_row(name))

        await until(pilot, lambda: app.dashboard.selected == "one", timeout=30)
        await pilot.press("p")
        await until(pilot, lambda: "‖ paused" in row("one"), timeout=30, what="one paused")
        assert "paused" not in row("two")
    assert Supervisor.open(sim_herd).view("one").state is State.PAUSED


def test_corral_in_a_pane_pauses_an_agent_and_quits_leaving_the_herd(sim_herd: Path) -> None:
    tmux = shutil.which("tmux")
    assert tmux
    socket = f"corral-e2e-{os.getpid()}"
    corral = str(Path(sys.executable).parent / "corral")
    env = {k: v for k, v in os.environ.items() if k not in ("TMUX", "TMUX_PANE")}
    env["TERM"] = "xterm-256color"

    def run(*args: str) -> str:
        done = subprocess.run(
            [tmux, "-L", socket, "-f", "/dev/null", *args],
            env=env,
            capture_output=True,
            text=True,
            check=True,
        )
        return done.stdout

    run("new-session", "-d", "-s", "e2e", "-x", "140", "-y", "36", corral, "--repo", str(sim_herd))
    run("set-option", "-t", "e2e", "remain-on-exit", "on")

    def screen() -> str:
        return run("capture-pane", "-p", "-t", "e2e")

    def line_of(name: str) -> str:
        return next((line for line in screen().splitlines() if f" {name} " in line), "")

    wait_for(lambda: "working" in line_of("one"), timeout=30, interval=0.2, what="one working")
    run("send-keys", "-t", "e2e", "p")
    wait_for(lambda: "paused" in line_of("one"), timeout=30, interval=0.2, what="one paused")
    assert "paused" not in line_of("two")
    run("send-keys", "-t", "e2e", "q")

    def ended() -> str:
        """How corral's process ended: tmux marks the pane dead when the terminal closes and
        learns the exit status a moment later, when it reaps the process."""
        return run("display-message", "-p", "-t", "e2e", "#{pane_dead_status} #{pane_dead_signal}")

    try:
        wait_for(lambda: ended().strip() != "", timeout=20, what="corral to quit")
    except pytest.fail.Exception:
        pytest.fail(f"corral did not quit on q; its pane shows:\n{screen()}")
    status = ended()
    assert status.split() == ["0"], f"corral ended with status and signal {status.strip()!r}"
    views = {view.name: view for view in Supervisor.open(sim_herd).look()}
    assert views["one"].state is State.PAUSED and views["one"].pid is not None
    assert views["two"].state is not State.EXITED and views["two"].pid is not None


@pytest.fixture
def opened() -> Iterator[list[str]]:
    """Every path this process opens while the test runs."""
    if not Opens.hooked:
        sys.addaudithook(Opens.see)
        Opens.hooked = True
    Opens.paths = []
    try:
        yield Opens.paths
    finally:
        Opens.paths = None


def test_one_look_opens_each_hook_file_once_for_the_evidence_and_the_history(
    sim_herd: Path, opened: list[str]
) -> None:
    """The observer reads each agent's hook events for its evidence, and the dashboard's
    history is fed from those same reads: no second reader opens the file again. The journal
    likewise: the supervisor's one reader feeds its folds and the history."""
    events = Repo.discover(sim_herd).state_dir / "events"
    hook_files = {str(events / f"{name}.jsonl") for name in ("one", "two")}
    wait_for(
        lambda: all(Path(path).is_file() and Path(path).stat().st_size for path in hook_files),
        timeout=30,
        what="both agents' hook events",
    )
    repo = Repo.discover(sim_herd)
    reader = Reader(Supervisor.open(sim_herd))
    for look in ("cold", "warm"):  # the first look reads the tails, the next what is new
        if look == "warm":  # the journal grew since: the history has it from the one reader
            Journal(repo.journal_path).append("send", "one", chars=len(look))
        opened.clear()
        _snapshot, recorded = reader.look()
        counts = Counter(path for path in opened if path in hook_files)
        assert counts == dict.fromkeys(hook_files, 1), f"{look} look opened {counts}"
        for name in ("one", "two"):
            assert any(entry.source == "hook" for entry in recorded.of(name)), look
    assert opened.count(str(repo.journal_path)) == 1
    assert recorded.journal[-1].event == "send" and recorded.journal[-1].detail == "chars=4"


def test_a_look_started_ahead_is_taken_once_and_every_later_look_is_new(sim_herd: Path) -> None:
    """`corral` starts its first look before Textual loads: the app takes that look when it
    mounts, if it is back (or its first `look` waits for it), once; every later look is new."""
    reader = Reader(Supervisor.open(sim_herd))
    assert reader.looked_ahead() is None  # nothing was started ahead
    reader.look_ahead()
    taken = wait_for(reader.looked_ahead, timeout=30, what="the look started ahead")
    assert taken is not None
    ahead, _recorded = taken
    assert {view.name for view in ahead.agents} == {"one", "two"}
    assert reader.looked_ahead() is None
    later, _recorded = reader.look()
    assert later.taken > ahead.taken

    reader.look_ahead()
    waited, _recorded = reader.look()  # the app's first look, before this one was back
    assert waited.taken > later.taken and {view.name for view in waited.agents} == {"one", "two"}
    assert reader.looked_ahead() is None
