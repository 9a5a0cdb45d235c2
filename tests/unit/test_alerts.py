"""Alerts from successive snapshots: each transition told once, batched, never about the agent
the user is looking at, and a first look that summarizes instead of replaying."""

from __future__ import annotations

from collections.abc import Iterable

from sessions.core.alert_values import Alert, Cause
from sessions.core.conflict_values import Conflict, Level
from sessions.core.fingerprint import fingerprint, stall
from sessions.core.model import AgentRole, AgentView, Coordination, Snapshot, State
from sessions.core.rules import RoleRules
from sessions.services.alerts import LISTED, Alerts, batch

T0 = 1_700_000_000.0
RULES = RoleRules()
REASONS = {
    State.WORKING: "esc to interrupt in the footer",
    State.NEEDS_INPUT: "permission dialog on screen",
    State.EXITED: "exited with code 1 at 10:00:00",
    State.CRASH_LOOPING: "ended 5 times in a row, each run shorter than the crash limit",
    State.IDLE: "input box on screen",
}


def view(name: str, state: State, reason: str | None = None) -> AgentView:
    return AgentView(
        name=name,
        kind="sim",
        state=state,
        reason=REASONS.get(state, state.value) if reason is None else reason,
        since=T0,
        branch=f"corral/{name}",
        worktree=f"/tmp/project.corral/{name}",
        pane="%1",
        pid=1234,
        runner_pid=1233,
        runs=1,
        exit_code=1 if state is State.EXITED else None,
        session_id=None,
        paused=state is State.PAUSED,
        shelved=state is State.SHELVED,
        in_config=True,
        run_started=T0 - 3600,
    )


def conflict(
    level: Level, path: str = "src/app.py", agents: tuple[str, ...] = ("a", "b")
) -> Conflict:
    detail = {
        "file": f"{agents[0]} (edit) and {agents[1]} (edit) both changed it",
        "lines": f"{agents[0]} changes 1-2, {agents[1]} changes 2-3 (overlap)",
        "merge": "merging both stops on a conflict",
    }[level]
    return Conflict(level, path, agents, T0, detail)


class Herd:
    """Builds snapshots one look at a time, the way a supervisor would see the herd change."""

    def __init__(self, **states: State) -> None:
        self.states = dict(states)
        self.stalled: set[str] = set()
        self.conflicts: list[Conflict] = []
        self.t = T0

    def look(self) -> Snapshot:
        self.t += 1.0
        roles = {}
        for name in self.states:
            printed = fingerprint((), (), RULES, self.t)
            stalled = stall(name in self.stalled, None, None, self.t - 3600, RULES, self.t)
            roles[name] = AgentRole(printed, stalled.stalled, stalled.reason)
        agents = tuple(view(name, state) for name, state in self.states.items())
        return Snapshot(agents, Coordination(roles, tuple(self.conflicts), None), self.t)


def said(alert: Alert | None) -> list[tuple[Cause, tuple[str, ...]]]:
    return [] if alert is None else [(item.cause, item.agents) for item in alert.items]


def watch(
    alerts: Alerts, herd: Herd, quiet: Iterable[str] = (), attached: str | None = None
) -> Alert | None:
    return alerts.see(herd.look(), quiet=set(quiet), attached=attached)


def started(herd: Herd) -> Alerts:
    alerts = Alerts()
    alerts.see(herd.look())
    return alerts


# -- baseline -------------------------------------------------------------------------------


def test_a_calm_herd_at_first_look_says_nothing() -> None:
    alerts = Alerts()
    assert alerts.see(Herd(a=State.WORKING, b=State.IDLE).look()) is None
    assert alerts.started


def test_a_herd_that_already_waits_is_one_summary_not_one_alert_each() -> None:
    herd = Herd(a=State.NEEDS_INPUT, b=State.EXITED, c=State.WORKING, d=State.NEEDS_INPUT)
    herd.conflicts = [conflict("file", agents=("c", "d"))]
    alert = Alerts().see(herd.look())
    assert alert is not None and alert.summary
    assert alert.title == "corral: 4 agents already need you"
    assert said(alert) == [
        (Cause.NEEDS_INPUT, ("a",)),
        (Cause.NEEDS_INPUT, ("d",)),
        (Cause.EXITED, ("b",)),
        (Cause.CONFLICT, ("c", "d")),
    ]
    assert alert.body.startswith("4 agents already need you: a needs input (permission dialog")
    assert "\n" not in alert.body


def test_what_the_baseline_summarized_is_not_told_again() -> None:
    herd = Herd(a=State.NEEDS_INPUT)
    alerts = started(herd)
    assert watch(alerts, herd) is None


def test_resume_rebuilds_the_memory_without_a_summary() -> None:
    herd = Herd(a=State.NEEDS_INPUT, b=State.WORKING)
    herd.conflicts = [conflict("lines")]
    alerts = Alerts.resume(herd.look())
    assert alerts.started
    assert watch(alerts, herd) is None
    herd.states["b"] = State.EXITED
    herd.conflicts = [conflict("merge")]
    assert said(watch(alerts, herd)) == [(Cause.EXITED, ("b",)), (Cause.MERGE, ("a", "b"))]


def test_a_resumed_alerts_tells_what_one_watching_all_along_tells() -> None:
    herd = Herd(a=State.WORKING, b=State.WORKING)
    steps = [
        {"a": State.NEEDS_INPUT},
        {"b": State.EXITED},
        {"a": State.WORKING, "b": State.STARTING},
        {"a": State.NEEDS_INPUT, "b": State.CRASH_LOOPING},
    ]
    snapshots = [herd.look()]
    for step in steps:
        herd.states.update(step)
        snapshots.append(herd.look())
    always = Alerts()
    told_always = [said(always.see(s)) for s in snapshots]
    resumed = Alerts.resume(snapshots[1])
    assert [said(resumed.see(s)) for s in snapshots[2:]] == told_always[2:]


# -- transitions, once each -----------------------------------------------------------------


def test_each_transition_is_told_once() -> None:
    herd = Herd(a=State.WORKING, b=State.WORKING, c=State.WORKING)
    alerts = started(herd)
    herd.states["a"] = State.NEEDS_INPUT
    alert = watch(alerts, herd)
    assert alert is not None and not alert.summary
    assert alert.title == "corral: a needs input"
    assert alert.body == "a needs input (permission dialog on screen)"
    assert watch(alerts, herd) is None
    herd.states["b"] = State.EXITED
    assert said(watch(alerts, herd)) == [(Cause.EXITED, ("b",))]
    herd.states["b"] = State.CRASH_LOOPING
    assert said(watch(alerts, herd)) == [(Cause.CRASH_LOOPING, ("b",))]
    assert watch(alerts, herd) is None


def test_leaving_and_coming_back_is_a_new_transition() -> None:
    herd = Herd(a=State.WORKING)
    alerts = started(herd)
    herd.states["a"] = State.NEEDS_INPUT
    assert said(watch(alerts, herd)) == [(Cause.NEEDS_INPUT, ("a",))]
    herd.states["a"] = State.WORKING
    assert watch(alerts, herd) is None
    herd.states["a"] = State.NEEDS_INPUT
    assert said(watch(alerts, herd)) == [(Cause.NEEDS_INPUT, ("a",))]


def test_calm_states_are_never_told() -> None:
    herd = Herd(a=State.WORKING)
    alerts = started(herd)
    for state in (State.IDLE, State.PAUSED, State.SHELVED, State.STARTING, State.WORKING):
        herd.states["a"] = state
        assert watch(alerts, herd) is None


def test_an_agent_that_appears_already_waiting_is_told() -> None:
    herd = Herd(a=State.WORKING)
    alerts = started(herd)
    herd.states["new"] = State.EXITED
    assert said(watch(alerts, herd)) == [(Cause.EXITED, ("new",))]


def test_several_at_once_are_one_alert_most_urgent_first() -> None:
    herd = Herd(a=State.WORKING, b=State.WORKING, c=State.WORKING)
    alerts = started(herd)
    herd.states.update(a=State.EXITED, b=State.NEEDS_INPUT, c=State.CRASH_LOOPING)
    alert = watch(alerts, herd)
    assert alert is not None
    assert said(alert) == [
        (Cause.NEEDS_INPUT, ("b",)),
        (Cause.CRASH_LOOPING, ("c",)),
        (Cause.EXITED, ("a",)),
    ]
    assert alert.title == "corral: 3 agents need you"
    assert alert.body.startswith(
        "3 agents need you: b needs input (permission dialog on screen), c is crash looping ("
    )


def test_a_summary_of_one_agent_names_it() -> None:
    alert = Alerts().see(Herd(a=State.NEEDS_INPUT, b=State.IDLE).look())
    assert alert is not None and alert.summary
    assert alert.title == "corral: a already needs you"
    assert alert.body == "a already needs you: a needs input (permission dialog on screen)"


def test_a_conflict_counts_both_agents() -> None:
    herd = Herd(a=State.WORKING, b=State.WORKING)
    alerts = started(herd)
    herd.states["a"] = State.NEEDS_INPUT
    herd.conflicts = [conflict("file")]
    alert = watch(alerts, herd)
    assert alert is not None and alert.title == "corral: 2 agents need you"


def test_a_big_batch_lists_a_few_and_counts_the_rest() -> None:
    names = [f"agent-{i}" for i in range(LISTED + 3)]
    herd = Herd(**{name: State.WORKING for name in names})
    alerts = started(herd)
    herd.states.update({name: State.NEEDS_INPUT for name in names})
    alert = watch(alerts, herd)
    assert alert is not None and len(alert.items) == LISTED + 3
    assert alert.body.endswith(", and 3 more")
    assert "agent-6" not in alert.body


def test_long_reasons_are_cut_to_one_line() -> None:
    herd = Herd(a=State.WORKING)
    alerts = started(herd)
    herd.states["a"] = State.NEEDS_INPUT
    snapshot = herd.look()
    long = view("a", State.NEEDS_INPUT, "why\n" + "x" * 500)
    alert = alerts.see(Snapshot((long,), snapshot.coordination, snapshot.taken))
    assert alert is not None
    assert "\n" not in alert.body and len(alert.items[0].detail) == 100
    assert alert.items[0].detail.startswith("why xxx") and alert.items[0].detail.endswith("…")


# -- stalls ---------------------------------------------------------------------------------


def test_a_stall_is_told_once_with_its_reason() -> None:
    herd = Herd(a=State.WORKING)
    alerts = started(herd)
    herd.stalled.add("a")
    alert = watch(alerts, herd)
    assert said(alert) == [(Cause.STALLED, ("a",))]
    assert alert is not None and alert.body.startswith("a stalled (working 60 min without an edit")
    assert watch(alerts, herd) is None
    herd.stalled.clear()
    assert watch(alerts, herd) is None
    herd.stalled.add("a")
    assert said(watch(alerts, herd)) == [(Cause.STALLED, ("a",))]


def test_a_stalled_agent_at_first_look_is_in_the_summary() -> None:
    herd = Herd(a=State.WORKING)
    herd.stalled.add("a")
    alert = Alerts().see(herd.look())
    assert alert is not None and alert.summary and said(alert) == [(Cause.STALLED, ("a",))]


# -- conflicts ------------------------------------------------------------------------------


def test_a_new_conflict_is_told_at_whatever_level_it_starts() -> None:
    for level in ("file", "lines", "merge"):
        herd = Herd(a=State.WORKING, b=State.WORKING)
        alerts = started(herd)
        herd.conflicts = [conflict(level)]
        alert = watch(alerts, herd)
        assert said(alert) == [(Cause.CONFLICT, ("a", "b"))]
        assert alert is not None and alert.items[0].path == "src/app.py"
        assert alert.title == "corral: a and b conflict on src/app.py"
        assert watch(alerts, herd) is None


def test_a_known_conflict_is_not_told_again_while_it_lasts() -> None:
    herd = Herd(a=State.WORKING, b=State.WORKING)
    herd.conflicts = [conflict("file")]
    alerts = started(herd)
    herd.conflicts = [conflict("file"), conflict("lines")]
    assert watch(alerts, herd) is None


def test_reaching_merge_level_is_one_more_alert_once() -> None:
    herd = Herd(a=State.WORKING, b=State.WORKING)
    alerts = started(herd)
    herd.conflicts = [conflict("file")]
    assert said(watch(alerts, herd)) == [(Cause.CONFLICT, ("a", "b"))]
    herd.conflicts = [conflict("file"), conflict("lines")]
    assert watch(alerts, herd) is None
    herd.conflicts = [conflict("file"), conflict("merge")]
    alert = watch(alerts, herd)
    assert said(alert) == [(Cause.MERGE, ("a", "b"))]
    assert alert is not None
    assert alert.body == (
        "conflict of a and b on src/app.py confirmed at merge level "
        "(merging both stops on a conflict)"
    )
    herd.conflicts = [conflict("lines")]
    assert watch(alerts, herd) is None
    herd.conflicts = [conflict("merge")]
    assert watch(alerts, herd) is None


def test_an_ended_conflict_that_starts_again_is_new() -> None:
    herd = Herd(a=State.WORKING, b=State.WORKING)
    herd.conflicts = [conflict("merge")]
    alerts = started(herd)
    herd.conflicts = []
    assert watch(alerts, herd) is None
    herd.conflicts = [conflict("file")]
    assert said(watch(alerts, herd)) == [(Cause.CONFLICT, ("a", "b"))]


def test_the_same_path_with_another_pair_is_a_new_conflict() -> None:
    herd = Herd(a=State.WORKING, b=State.WORKING, c=State.WORKING)
    herd.conflicts = [conflict("file")]
    alerts = started(herd)
    herd.conflicts = [conflict("file"), conflict("file", agents=("a", "c"))]
    assert said(watch(alerts, herd)) == [(Cause.CONFLICT, ("a", "c"))]


# -- the agent the user is looking at --------------------------------------------------------


def test_nothing_about_the_attached_or_quiet_agents() -> None:
    herd = Herd(a=State.WORKING, b=State.WORKING, c=State.WORKING)
    alerts = started(herd)
    herd.states.update(a=State.NEEDS_INPUT, b=State.NEEDS_INPUT, c=State.NEEDS_INPUT)
    alert = watch(alerts, herd, attached="a", quiet={"b"})
    assert said(alert) == [(Cause.NEEDS_INPUT, ("c",))]
    # Seen while quiet is seen: looking away does not replay it.
    assert watch(alerts, herd) is None


def test_a_quiet_agent_stays_quiet_at_first_look() -> None:
    herd = Herd(a=State.NEEDS_INPUT)
    assert Alerts().see(herd.look(), attached="a") is None


def test_a_conflict_is_told_unless_every_agent_in_it_is_quiet() -> None:
    herd = Herd(a=State.WORKING, b=State.WORKING)
    alerts = started(herd)
    herd.conflicts = [conflict("file")]
    assert said(watch(alerts, herd, attached="a")) == [(Cause.CONFLICT, ("a", "b"))]
    herd.conflicts = [conflict("file", path="README.md")]
    assert watch(alerts, herd, attached="a", quiet={"b"}) is None


def test_a_hushed_exit_is_silent_until_the_hush_ends() -> None:
    herd = Herd(a=State.WORKING, b=State.WORKING)
    alerts = started(herd)
    alerts.hush("a", until=herd.t + 2.0, causes={Cause.EXITED})
    herd.states["a"] = State.EXITED
    assert watch(alerts, herd) is None
    herd.states["a"] = State.NEEDS_INPUT
    assert said(watch(alerts, herd)) == [(Cause.NEEDS_INPUT, ("a",))]
    herd.states["a"] = State.WORKING
    watch(alerts, herd)
    herd.states["a"] = State.EXITED
    assert said(watch(alerts, herd)) == [(Cause.EXITED, ("a",))]


def test_hushing_everything_until_a_return_from_attach() -> None:
    herd = Herd(a=State.WORKING)
    alerts = started(herd)
    herd.states["a"] = State.NEEDS_INPUT
    queued = herd.look()
    alerts.hush("a", until=queued.taken)
    assert alerts.see(queued) is None
    herd.states["a"] = State.WORKING
    watch(alerts, herd)
    herd.states["a"] = State.NEEDS_INPUT
    assert said(watch(alerts, herd)) == [(Cause.NEEDS_INPUT, ("a",))]


def test_batch_of_one_reads_as_the_item() -> None:
    herd = Herd(a=State.WORKING)
    alerts = started(herd)
    herd.states["a"] = State.EXITED
    alert = watch(alerts, herd)
    assert alert is not None
    assert batch(alert.items) == alert
    assert alert.body == "a exited (exited with code 1 at 10:00:00)"
