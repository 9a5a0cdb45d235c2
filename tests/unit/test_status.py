"""The status verdict from journal, tmux and process facts, on hand-built evidence."""

from __future__ import annotations

from sessions.journal import AgentRecord
from sessions.model import PaneInfo, State
from sessions.processes import ProcFacts
from sessions.status import derive

NOW = 1_000_000.0


def pane(dead: bool = False, status: int | None = None) -> PaneInfo:
    return PaneInfo("%1", "a", "a", 100, dead, status, NOW)


def proc(stopped: bool = False) -> ProcFacts:
    return ProcFacts(pid=101, alive=True, stopped=stopped, processes=1)


def test_running_agent_is_working_with_its_pid_in_the_reason() -> None:
    record = AgentRecord("a", runs=1, run_started=NOW - 60)
    verdict = derive("a", record, pane(), proc(), NOW)
    assert verdict.state is State.WORKING
    assert "101" in verdict.reason


def test_just_started_agent_is_starting() -> None:
    record = AgentRecord("a", runs=1, run_started=NOW - 1)
    assert derive("a", record, pane(), proc(), NOW).state is State.STARTING


def test_stopped_tree_is_paused_and_says_who_paused_it() -> None:
    ours = AgentRecord("a", runs=1, run_started=NOW - 60, paused=True, paused_since=NOW - 5)
    verdict = derive("a", ours, pane(), proc(stopped=True), NOW)
    assert verdict.state is State.PAUSED and "corral" in verdict.reason
    theirs = AgentRecord("a", runs=1, run_started=NOW - 60)
    verdict = derive("a", theirs, pane(), proc(stopped=True), NOW)
    assert verdict.state is State.PAUSED and "outside corral" in verdict.reason


def test_dead_pane_is_exited_with_code() -> None:
    record = AgentRecord("a", runs=1, run_ended=NOW - 3, exit_code=3)
    verdict = derive("a", record, pane(dead=True, status=3), None, NOW)
    assert verdict.state is State.EXITED and "code 3" in verdict.reason


def test_crash_loop_wins_over_exit() -> None:
    record = AgentRecord("a", runs=5, exit_code=1, short_streak=5, crash_looping=True)
    verdict = derive("a", record, pane(dead=True, status=1), None, NOW)
    assert verdict.state is State.CRASH_LOOPING
    assert "corral restart a" in verdict.reason


def test_missing_command_is_named_in_the_reason() -> None:
    record = AgentRecord("a", runs=1, exit_code=127, end_reason="not_found")
    verdict = derive("a", record, pane(dead=True, status=127), None, NOW)
    assert verdict.state is State.EXITED and "not installed" in verdict.reason


def test_between_runs_says_when_it_restarts() -> None:
    record = AgentRecord("a", runs=2, exit_code=0, run_ended=NOW - 1, waiting_until=NOW + 4)
    verdict = derive("a", record, pane(), None, NOW)
    assert verdict.state is State.EXITED and "restarting in 4 s" in verdict.reason


def test_shelved_wins_and_gone_pane_says_how_to_restart() -> None:
    shelved = AgentRecord("a", shelved=True, shelved_since=NOW - 9)
    assert derive("a", shelved, None, None, NOW).state is State.SHELVED
    gone = derive("a", AgentRecord("a", runs=1), None, None, NOW)
    assert gone.state is State.EXITED and "corral up a" in gone.reason


def test_paused_by_corral_but_running_says_it_was_continued_outside() -> None:
    record = AgentRecord("a", runs=1, run_started=NOW - 60, paused=True, paused_since=NOW - 5)
    verdict = derive("a", record, pane(), proc(stopped=False), NOW)
    assert verdict.state is State.WORKING
    assert "continued it" in verdict.reason
