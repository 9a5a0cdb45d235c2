"""The status verdict from every kind of evidence, on hand-built and recorded inputs.

Each case is one of the ways supervisors get the status wrong: a dialog, a silent model call, an
interrupt or a "No" that no hook reports, an API error, a subagent, a frozen tree, a dead pane.
"""

from __future__ import annotations

from sessions.core.activity import Activity, fold
from sessions.core.fold import AgentRecord
from sessions.core.model import PaneInfo, ProcFacts, State
from sessions.core.screen_rules import Look
from sessions.core.status import Evidence, ScreenState, derive

NOW = 1_000_000.0
RUNNING = AgentRecord("a", runs=1, run_started=NOW - 600)


def pane(dead: bool = False, status: int | None = None) -> PaneInfo:
    return PaneInfo("%1", "a", "a", 100, dead, status, NOW)


def proc(stopped: bool = False) -> ProcFacts:
    return ProcFacts(pid=101, alive=True, stopped=stopped, processes=1)


def screen(look: Look, since: float, detail: str = "it") -> ScreenState:
    return ScreenState(look, detail, since)


def hooks(*events: tuple[str, float] | tuple[str, float, dict[str, object]]) -> Activity:
    activity = Activity()
    for item in events:
        extra = item[2] if len(item) == 3 else {}
        activity = fold(activity, {"event": item[0], "t": item[1], **extra})
    return activity


def live(
    screen_state: ScreenState | None = None,
    activity: Activity | None = None,
    record: AgentRecord = RUNNING,
    stopped: bool = False,
) -> Evidence:
    return Evidence(
        name="a",
        now=NOW,
        record=record,
        pane=pane(),
        process=proc(stopped),
        screen=screen_state,
        activity=activity,
    )


def test_permission_dialog_on_screen_needs_input_even_without_hooks() -> None:
    verdict = derive(live(screen(Look.DIALOG, NOW - 12, "a permission dialog")))
    assert verdict.state is State.NEEDS_INPUT
    assert verdict.reason.startswith("a permission dialog on screen since")
    assert verdict.since == NOW - 12


def test_question_dialog_needs_input() -> None:
    assert derive(live(screen(Look.QUESTION, NOW - 1))).state is State.NEEDS_INPUT


def test_silent_model_call_stays_working_while_the_footer_says_so() -> None:
    activity = hooks(("UserPromptSubmit", NOW - 25))
    verdict = derive(live(screen(Look.WORKING, NOW - 25, "esc to interrupt"), activity))
    assert verdict.state is State.WORKING and verdict.since == NOW - 25


def test_esc_interrupt_with_no_hook_is_idle_once_the_screen_shows_it() -> None:
    activity = hooks(("UserPromptSubmit", NOW - 30), ("PreToolUse", NOW - 20, {"tool": "Bash"}))
    verdict = derive(live(screen(Look.IDLE, NOW - 10, "the input box"), activity))
    assert verdict.state is State.IDLE
    assert "interrupted?" in verdict.reason


def test_no_in_a_dialog_is_idle_once_the_dialog_is_gone() -> None:
    activity = hooks(("PermissionRequest", NOW - 15, {"tool": "Edit"}))
    verdict = derive(live(screen(Look.IDLE, NOW - 5, "the input box"), activity))
    assert verdict.state is State.IDLE


def test_stop_failure_is_idle_with_the_error_as_the_reason() -> None:
    activity = hooks(
        ("UserPromptSubmit", NOW - 30), ("StopFailure", NOW - 4, {"error": "overloaded_error"})
    )
    verdict = derive(live(screen(Look.IDLE, NOW - 4), activity))
    assert verdict.state is State.IDLE and "overloaded_error" in verdict.reason
    assert derive(live(None, activity)).reason.startswith("turn ended by an API error")


def test_subagent_still_running_is_working_even_on_an_idle_looking_screen() -> None:
    activity = hooks(("UserPromptSubmit", NOW - 30), ("SubagentStart", NOW - 20))
    assert derive(live(screen(Look.IDLE, NOW - 10), activity)).state is State.WORKING
    done = hooks(("SubagentStart", NOW - 20), ("SubagentStop", NOW - 12), ("Stop", NOW - 11))
    assert derive(live(screen(Look.IDLE, NOW - 10), done)).state is State.IDLE


def test_background_task_on_screen_is_working() -> None:
    assert derive(live(screen(Look.BACKGROUND, NOW - 3))).state is State.WORKING


def test_a_fresh_hook_wins_over_a_screen_that_has_not_caught_up() -> None:
    activity = hooks(("Stop", NOW - 60), ("UserPromptSubmit", NOW - 1))
    verdict = derive(live(screen(Look.IDLE, NOW - 60), activity))
    assert verdict.state is State.WORKING and "UserPromptSubmit" in verdict.reason
    stale = hooks(("Stop", NOW - 60), ("UserPromptSubmit", NOW - 10))
    assert derive(live(screen(Look.IDLE, NOW - 60), stale)).state is State.IDLE


def test_permission_hook_before_the_dialog_is_drawn_needs_input() -> None:
    activity = hooks(("PreToolUse", NOW - 2), ("PermissionRequest", NOW - 0.5, {"tool": "Bash"}))
    verdict = derive(live(screen(Look.IDLE, NOW - 30), activity))
    assert verdict.state is State.NEEDS_INPUT and "Bash" in verdict.reason


def test_frozen_tree_is_paused_though_its_screen_says_working() -> None:
    paused = AgentRecord("a", runs=1, run_started=NOW - 60, paused=True, paused_since=NOW - 5)
    verdict = derive(live(screen(Look.WORKING, NOW - 30), record=paused, stopped=True))
    assert verdict.state is State.PAUSED and "corral" in verdict.reason
    theirs = derive(live(screen(Look.WORKING, NOW - 30), stopped=True))
    assert theirs.state is State.PAUSED and "outside corral" in theirs.reason


def test_without_screen_patterns_hooks_decide() -> None:
    unknown = screen(Look.UNKNOWN, NOW - 100, "no screen patterns for kind shell")
    working = hooks(("UserPromptSubmit", NOW - 50), ("PostToolUse", NOW - 40))
    assert derive(live(unknown, working)).state is State.WORKING
    idle = hooks(("UserPromptSubmit", NOW - 50), ("Stop", NOW - 40))
    assert derive(live(unknown, idle)).state is State.IDLE
    asking = hooks(("Notification", NOW - 40, {"notification_type": "permission_prompt"}))
    assert derive(live(unknown, asking)).state is State.NEEDS_INPUT
    gemini = hooks(
        ("BeforeAgent", NOW - 50),
        ("Notification", NOW - 40, {"notification_type": "ToolPermission"}),
    )
    verdict = derive(live(unknown, gemini))
    assert verdict.state is State.NEEDS_INPUT and "permission" in verdict.reason


def test_without_any_evidence_it_says_it_cannot_tell() -> None:
    verdict = derive(live(screen(Look.UNKNOWN, NOW - 100, "no screen patterns for kind shell")))
    assert verdict.state is State.WORKING and "cannot tell" in verdict.reason


def test_just_started_agent_is_starting() -> None:
    record = AgentRecord("a", runs=1, run_started=NOW - 1)
    assert derive(live(None, None, record)).state is State.STARTING


def test_paused_by_corral_but_running_says_it_was_continued_outside() -> None:
    record = AgentRecord("a", runs=1, run_started=NOW - 60, paused=True, paused_since=NOW - 5)
    verdict = derive(live(screen(Look.IDLE, NOW - 5), record=record))
    assert verdict.state is State.WORKING and "continued it" in verdict.reason


def test_dead_pane_is_exited_with_code() -> None:
    record = AgentRecord("a", runs=1, run_ended=NOW - 3, exit_code=3)
    verdict = derive(Evidence("a", NOW, record, pane(dead=True, status=3)))
    assert verdict.state is State.EXITED and "code 3" in verdict.reason


def test_runner_killed_by_a_signal_says_so() -> None:
    killed = PaneInfo("%1", "a", "a", 100, True, None, NOW, dead_signal=9)
    verdict = derive(Evidence("a", NOW, AgentRecord("a", runs=1), killed))
    assert verdict.state is State.EXITED and "signal 9" in verdict.reason


def test_crash_loop_wins_over_exit() -> None:
    record = AgentRecord("a", runs=5, exit_code=1, short_streak=5, crash_looping=True)
    verdict = derive(Evidence("a", NOW, record, pane(dead=True, status=1)))
    assert verdict.state is State.CRASH_LOOPING
    assert "corral restart a" in verdict.reason


def test_missing_command_is_named_in_the_reason() -> None:
    record = AgentRecord("a", runs=1, exit_code=127, end_reason="not_found")
    verdict = derive(Evidence("a", NOW, record, pane(dead=True, status=127)))
    assert verdict.state is State.EXITED and "not installed" in verdict.reason


def test_between_runs_says_when_it_restarts() -> None:
    record = AgentRecord("a", runs=2, exit_code=0, run_ended=NOW - 1, waiting_until=NOW + 4)
    verdict = derive(Evidence("a", NOW, record, pane()))
    assert verdict.state is State.EXITED and "restarting in 4 s" in verdict.reason


def test_a_new_launch_is_starting_not_its_previous_ending() -> None:
    record = AgentRecord("a", runs=2, exit_code=143, run_started=NOW - 50, launched=NOW - 1)
    assert derive(Evidence("a", NOW, record, pane())).state is State.STARTING


def test_shelved_wins_and_gone_pane_says_how_to_restart() -> None:
    shelved = AgentRecord("a", shelved=True, shelved_since=NOW - 9)
    assert derive(Evidence("a", NOW, shelved)).state is State.SHELVED
    gone = derive(Evidence("a", NOW, AgentRecord("a", runs=1)))
    assert gone.state is State.EXITED and "corral up a" in gone.reason
