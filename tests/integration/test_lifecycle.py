"""Agents run under corral's runner in real tmux panes and real git worktrees.

These tests use plain commands as agents (kind "shell") so each one shows one piece of the
lifecycle: the restart loop, the crash-loop stop, a missing command, the environment, pause and
resume of a whole process tree, kill and restart.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Iterator
from pathlib import Path

import psutil
import pytest

from sessions.adapters.journal import Journal
from sessions.core.model import AgentView, State
from sessions.supervisor import Supervisor
from tests.helpers import git, wait_for

pytestmark = pytest.mark.tmux

FAST = """
[backoff]
clean = 0.1
failure = 0.1
crash_runs = 3
crash_seconds = 20
"""


@pytest.fixture
def open_herd(make_repo: Callable[..., Path]) -> Iterator[Callable[[str], Supervisor]]:
    def open_(config: str) -> Supervisor:
        root = make_repo(config)
        return Supervisor.open(root)

    yield open_


def state_of(supervisor: Supervisor, name: str) -> State:
    return supervisor.view(name).state


def shell_agent(name: str, command: str, restart: str = "never", extra: str = "") -> str:
    return (
        f'[[agent]]\nname = "{name}"\nkind = "shell"\n'
        f'command = {json.dumps(command)}\nrestart = "{restart}"\n{extra}\n'
    )


def test_agent_runs_in_its_worktree_with_a_clean_environment(
    open_herd: Callable[[str], Supervisor], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CLAUDECODE", "1")
    monkeypatch.setenv("CLAUDE_CODE_ENTRYPOINT", "cli")
    config = shell_agent(
        "env-1", "sh -c 'env > env.txt; pwd > pwd.txt; sleep 60'", extra='env = { EXTRA = "x y" }'
    )
    supervisor = open_herd(config)
    [outcome] = supervisor.up()
    assert outcome.action == "started"
    view = supervisor.view("env-1")
    worktree = Path(view.worktree)
    assert worktree.name == "env-1" and worktree.parent.name == "project.corral"
    env_file = worktree / "env.txt"
    wait_for(lambda: env_file.exists() and "EXTRA" in env_file.read_text(), what="env.txt")
    env = dict(line.split("=", 1) for line in env_file.read_text().splitlines() if "=" in line)
    assert env["CORRAL_AGENT"] == "env-1"
    assert env["CORRAL_HOME"] == str(supervisor.repo.state_dir)
    assert env["EXTRA"] == "x y"
    assert not any(key.startswith(("TMUX", "CLAUDE_CODE_")) or key == "CLAUDECODE" for key in env)
    pwd = worktree / "pwd.txt"  # written after env.txt, so it may not be there yet
    assert wait_for(lambda: pwd.exists() and pwd.read_text().strip(), what="pwd.txt") == str(
        worktree
    )
    branch = os.popen(f"git -C {worktree} branch --show-current").read().strip()
    assert branch == "corral/env-1"
    wait_for(lambda: supervisor.view("env-1").state is State.WORKING, what="working")
    assert supervisor.view("env-1").pid == psutil.Process(view.runner_pid).children()[0].pid


def test_restart_always_runs_again_and_journals_every_run(
    open_herd: Callable[[str], Supervisor],
) -> None:
    config = FAST.replace("crash_seconds = 20", "crash_seconds = 0.01") + shell_agent(
        "loop-1", "sh -c 'sleep 0.1'", restart="always"
    )
    supervisor = open_herd(config)
    supervisor.up()
    wait_for(lambda: supervisor.view("loop-1").runs >= 3, what="three runs")
    events = [e for e in supervisor.journal.read_all() if e.get("agent") == "loop-1"]
    ends = [e for e in events if e["event"] == "run_end"]
    assert len(ends) >= 2
    assert all(e["exit_code"] == 0 and e["duration"] >= 0.1 for e in ends)


def test_crash_loop_stops_restarting_and_says_so(open_herd: Callable[[str], Supervisor]) -> None:
    supervisor = open_herd(FAST + shell_agent("crash-1", "sh -c 'exit 3'", restart="on-failure"))
    supervisor.up()
    wait_for(
        lambda: state_of(supervisor, "crash-1") is State.CRASH_LOOPING, what="crash loop state"
    )
    view = supervisor.view("crash-1")
    assert view.runs == 3
    assert view.exit_code == 3
    assert "corral restart crash-1" in view.reason
    assert view.pane is not None
    screen = supervisor.tmux.capture(view.pane, history=100)
    assert "crash loop" in screen


def test_missing_agent_cli_is_shown_in_pane_and_state_without_a_loop(
    open_herd: Callable[[str], Supervisor],
) -> None:
    config = FAST + (
        '[[agent]]\nname = "ghost"\nkind = "claude"\ncommand = "no-such-agent-cli-x"\n'
        'restart = "always"\n'
    )
    supervisor = open_herd(config)
    supervisor.up()
    wait_for(lambda: supervisor.view("ghost").state is State.EXITED, what="exited")
    view = supervisor.view("ghost")
    assert "not installed" in view.reason
    assert view.runs == 1
    assert view.pane is not None
    screen = wait_for(
        lambda: "no-such-agent-cli-x" in (s := supervisor.tmux.capture(view.pane or "")) and s
    )
    assert "npm install -g @anthropic-ai/claude-code" in str(screen)


def test_pause_stops_the_whole_tree_and_resume_continues_it(
    open_herd: Callable[[str], Supervisor],
) -> None:
    supervisor = open_herd(shell_agent("tree-1", "sh -c 'sleep 300 & sleep 300 & wait'"))
    supervisor.up()

    def tree() -> list[psutil.Process]:
        pid = supervisor.view("tree-1").pid
        if pid is None:
            return []
        root = psutil.Process(pid)
        return [root, *root.children(recursive=True)]

    wait_for(lambda: len(tree()) == 3, what="three processes")
    runner = psutil.Process(supervisor.view("tree-1").runner_pid)
    supervisor.pause(["tree-1"])
    wait_for(lambda: all(p.status() == psutil.STATUS_STOPPED for p in tree()), what="stopped")
    assert runner.status() != psutil.STATUS_STOPPED
    view = supervisor.view("tree-1")
    assert view.state is State.PAUSED and view.paused
    again = Supervisor.open(supervisor.repo.root)
    assert again.view("tree-1").state is State.PAUSED
    supervisor.resume(["tree-1"])
    wait_for(lambda: all(p.status() != psutil.STATUS_STOPPED for p in tree()), what="running")
    assert supervisor.view("tree-1").state in (State.WORKING, State.STARTING)


def test_kill_keeps_worktree_and_restart_runs_again(open_herd: Callable[[str], Supervisor]) -> None:
    supervisor = open_herd(shell_agent("k-1", "sh -c 'echo hello > out.txt; sleep 300'"))
    supervisor.up()
    out = wait_for(lambda: (p := Path(supervisor.view("k-1").worktree) / "out.txt").exists() and p)
    first_pid = supervisor.view("k-1").pid
    outcome = supervisor.kill("k-1")
    assert "kept" in outcome.message
    view = supervisor.view("k-1")
    assert view.state is State.EXITED and view.pid is None
    assert Path(str(out)).read_text() == "hello\n"
    supervisor.restart("k-1")
    wait_for(lambda: supervisor.view("k-1").pid not in (None, first_pid), what="new pid")
    assert supervisor.view("k-1").runs == 2


def test_paused_agent_can_still_be_killed(open_herd: Callable[[str], Supervisor]) -> None:
    supervisor = open_herd(shell_agent("pk-1", "sleep 300"))
    supervisor.up()
    wait_for(lambda: supervisor.view("pk-1").pid, what="pid")
    supervisor.pause(["pk-1"])
    supervisor.kill("pk-1")
    assert supervisor.view("pk-1").state is State.EXITED


def test_pause_refuses_an_interactive_job_control_shell(
    open_herd: Callable[[str], Supervisor],
) -> None:
    supervisor = open_herd(shell_agent("sh-1", "bash --norc -i"))
    supervisor.up()
    wait_for(lambda: supervisor.view("sh-1").pid, what="pid")
    view = supervisor.view("sh-1")
    assert view.pane is not None
    wait_for(lambda: "bash-" in supervisor.tmux.capture(view.pane or ""), what="prompt")
    [outcome] = supervisor.pause(["sh-1"])
    assert outcome.failed and "job control" in outcome.message
    assert supervisor.view("sh-1").state is not State.PAUSED


def test_rate_limit_message_waits_the_failure_delay_even_after_a_clean_exit(
    open_herd: Callable[[str], Supervisor],
) -> None:
    config = FAST.replace("failure = 0.1", "failure = 30") + shell_agent(
        "limited", "sh -c 'echo Error: 429 Too Many Requests; exit 0'", restart="always"
    )
    supervisor = open_herd(config)
    supervisor.up()

    def waiting() -> list[dict[str, object]]:
        return [
            e
            for e in supervisor.journal.read_all()
            if e["event"] == "waiting" and e.get("agent") == "limited"
        ]

    events = wait_for(waiting, what="back-off")
    assert isinstance(events, list) and len(events) == 1
    assert events[0]["delay"] == 30
    ends = [e for e in supervisor.journal.read_all() if e["event"] == "run_end"]
    assert ends[0]["reason"] == "rate_limit" and ends[0]["exit_code"] == 0
    view = supervisor.view("limited")
    assert view.state is State.EXITED and "restarting in" in view.reason


def test_log_lists_runs_for_one_agent(
    open_herd: Callable[[str], Supervisor], capsys: pytest.CaptureFixture[str]
) -> None:
    from tui.cli import main

    supervisor = open_herd(shell_agent("quick", "true") + shell_agent("other", "true"))
    supervisor.up()
    wait_for(lambda: supervisor.view("quick").state is State.EXITED, what="exited")
    assert main(["--repo", str(supervisor.repo.root), "log", "quick", "--json"]) == 0
    events = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert {e["agent"] for e in events} == {"quick"}
    assert [e["event"] for e in events][:2] == ["start", "pane"]
    assert any(e["event"] == "run_end" and e["exit_code"] == 0 for e in events)
    assert main(["--repo", str(supervisor.repo.root), "ls"]) == 0
    table = capsys.readouterr().out
    assert "quick" in table and "✕ exited" in table and "exited with code 0" in table


def test_kill_of_a_paused_agent_leaves_no_process_behind(
    open_herd: Callable[[str], Supervisor],
) -> None:
    command = "sh -c 'setsid sleep 301 & sleep 302 & sleep 303 & wait'"
    supervisor = open_herd(shell_agent("bg-1", command))
    supervisor.up()

    def sleepers() -> list[psutil.Process]:
        return [
            p
            for p in psutil.process_iter(["cmdline"])
            if p.info["cmdline"] and p.info["cmdline"][:2] in (["sleep", "301"], ["sleep", "302"])
        ]

    wait_for(lambda: len(sleepers()) == 2, what="two sleepers")
    supervisor.pause(["bg-1"])
    supervisor.kill("bg-1")
    wait_for(lambda: not sleepers(), what="no sleeper left")


def test_a_stale_pause_never_freezes_a_new_run(open_herd: Callable[[str], Supervisor]) -> None:
    supervisor = open_herd(shell_agent("st-1", "sleep 300"))
    supervisor.up()
    view = wait_for(lambda: (v := supervisor.view("st-1")).pid and v)
    assert isinstance(view, AgentView) and view.runner_pid and view.pid
    supervisor.pause(["st-1"])
    psutil.Process(view.runner_pid).kill()
    psutil.Process(view.pid).kill()
    # SIGKILL lands when the kernel next runs the process: on a loaded machine the agent can be
    # gone (exited) while its runner still runs for a moment, and `up` rightly adopts a runner.
    wait_for(
        lambda: (v := supervisor.view("st-1")).state is State.EXITED and v.runner_pid is None,
        what="exited, its runner gone",
    )
    [outcome] = supervisor.up()
    assert outcome.action in ("started", "resumed"), outcome
    fresh = wait_for(lambda: (v := supervisor.view("st-1")).pid and v)
    assert isinstance(fresh, AgentView) and fresh.pid != view.pid
    again = Supervisor.open(supervisor.repo.root).up()
    assert again[0].message.endswith("already runs (working)") or "starting" in again[0].message
    assert psutil.Process(fresh.pid).status() != psutil.STATUS_STOPPED


def test_runner_ignores_a_sessions_package_in_the_worktree(make_repo: Callable[..., Path]) -> None:
    root = make_repo(shell_agent("own-1", "sleep 300"))
    (root / "sessions").mkdir()
    (root / "sessions" / "__init__.py").write_text("raise SystemExit(9)\n")
    git(root, "add", "-A")
    git(root, "commit", "-q", "-m", "a project with its own sessions package")
    supervisor = Supervisor.open(root)
    supervisor.up()
    wait_for(lambda: supervisor.view("own-1").state is State.WORKING, what="working")


def test_a_users_tmux_conf_cannot_end_the_agents(
    open_herd: Callable[[str], Supervisor], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    home = tmp_path / "home"
    home.mkdir()
    (home / ".tmux.conf").write_text("set -g destroy-unattached on\nset -g exit-unattached on\n")
    monkeypatch.setenv("HOME", str(home))
    supervisor = open_herd(shell_agent("conf-1", "sleep 300"))
    supervisor.up()
    wait_for(lambda: supervisor.view("conf-1").state is State.WORKING, what="working")
    assert supervisor.tmux.run("show-options", "-gv", "destroy-unattached") == ["off"]


def test_enter_restarts_at_once_even_after_an_agent_left_raw_mode(
    open_herd: Callable[[str], Supervisor],
) -> None:
    config = FAST.replace("failure = 0.1", "failure = 60") + shell_agent(
        "raw-1", "sh -c 'stty raw -echo; exit 3'", restart="on-failure"
    )
    supervisor = open_herd(config)
    supervisor.up()
    wait_for(lambda: "restarting in 60" in supervisor.view("raw-1").reason, what="back-off")
    pane = supervisor.view("raw-1").pane or ""
    supervisor.tmux.run("send-keys", "-t", pane, "Enter")
    wait_for(lambda: supervisor.view("raw-1").runs >= 2, what="second run")


def test_a_missing_worktree_is_named_as_such(open_herd: Callable[[str], Supervisor]) -> None:
    config = FAST + shell_agent("gone-1", "sh -c 'sleep 0.3; exit 1'", restart="on-failure")
    supervisor = open_herd(config)
    supervisor.up()
    worktree = Path(wait_for(lambda: supervisor.view("gone-1").worktree) or "")
    worktree.rename(worktree.with_name("moved-away"))
    wait_for(lambda: supervisor.view("gone-1").state is State.EXITED, what="exited")
    wait_for(lambda: "missing" in supervisor.view("gone-1").reason, what="reason")
    view = supervisor.view("gone-1")
    assert "its worktree" in view.reason and view.exit_code == 127


def test_pause_goes_on_with_the_others_after_a_bad_name(
    open_herd: Callable[[str], Supervisor],
) -> None:
    supervisor = open_herd(shell_agent("p-1", "sleep 300") + shell_agent("p-2", "sleep 300"))
    supervisor.up()
    wait_for(lambda: all(v.pid for v in supervisor.look()), what="pids")
    outcomes = supervisor.pause(["p-1", "nobody", "p-2"])
    assert [o.failed for o in outcomes] == [False, True, False]
    assert {v.name: v.state for v in supervisor.look()} == {
        "p-1": State.PAUSED,
        "p-2": State.PAUSED,
    }


def test_file_writes_from_shell_commands_are_attributed_to_the_agent(
    open_herd: Callable[[str], Supervisor],
) -> None:
    command = "sh -c 'sleep 0.5; mkdir -p out; echo x > out/result.txt; sleep 300'"
    supervisor = open_herd(shell_agent("writer", command))
    supervisor.up()
    events = Journal(supervisor.repo.state_dir / "events" / "writer.jsonl")

    def written() -> list[str]:
        return [p for e in events.read_all() if e["event"] == "FileWrite" for p in e["paths"]]

    wait_for(lambda: "out/result.txt" in written(), what="the write as an event")
    view = supervisor.view("writer")
    assert view.state is State.WORKING and "files written" in view.reason
    explained = dict(supervisor.explain("writer"))
    assert explained["hooks"] == "none received"
    assert explained["files"].startswith("last write in its worktree at")
    assert "pid" in explained["process"]


def test_each_run_end_says_what_the_run_changed(
    open_herd: Callable[[str], Supervisor],
) -> None:
    """Files written (even by a shell command no tool log shows) and commits made, per run."""
    command = (
        "sh -c 'if [ -f done.txt ]; then sleep 60; fi; echo x > done.txt; "
        "git add done.txt && git -c user.name=a -c user.email=a@b.invalid commit -qm done'"
    )
    supervisor = open_herd(FAST + shell_agent("maker", command, restart="always"))
    supervisor.up()
    journal = Journal(supervisor.repo.journal_path)

    def ends() -> list[dict[str, object]]:
        return [e for e in journal.read_all() if e["event"] == "run_changes"]

    wait_for(ends, timeout=20, what="the first run's changes")
    first = ends()[0]
    assert first["commits"] == 1
    assert isinstance(first["files_written"], int) and first["files_written"] >= 1
    record = supervisor.records()["maker"]
    assert record.ended_runs[0].changed is True
