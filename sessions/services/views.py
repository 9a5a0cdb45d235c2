"""One agent's view: what the observer found of it, judged into a state and its spend.

The supervisor looks at the herd in one pass (one tmux call, one process table, the journal's
new lines) and hands each agent's share of it here.
"""

from __future__ import annotations

from dataclasses import replace

from sessions.adapters.processes import ProcessTable
from sessions.core.fold import AgentRecord
from sessions.core.model import AgentSpec, AgentView, PaneInfo, ProcFacts, Summary
from sessions.core.status import Evidence, Verdict, derive
from sessions.services.observer import Observer


def agent_view(
    observer: Observer,
    name: str,
    spec: AgentSpec | None,
    record: AgentRecord | None,
    pane: PaneInfo | None,
    table: ProcessTable,
    now: float,
    summary: Summary | None,
) -> tuple[AgentView, Evidence]:
    """The agent's view and the evidence it was judged on, which `explain` shows."""
    runner_pid, agent_pid, facts = agent_processes(record, pane, table)
    kind = spec.kind.value if spec else "unknown"
    evidence = observer.evidence(name, kind, record, pane, facts, now)
    usage = observer.resources(facts, now)
    worktree = record.worktree if record and record.worktree else ""
    spend = observer.spend(name, kind, record, worktree, now)
    view = replace(
        _view(name, spec, record, pane, runner_pid, agent_pid, derive(evidence)),
        screen_mark=(pane.activity, pane.cursor, pane.history) if pane else None,
        summary=summary,
        cpu_percent=usage.cpu_percent,
        rss_bytes=usage.rss_bytes,
        tokens=spend.tokens.as_dict() if spend else None,
        run_spends=spend.runs if spend else (),
        cost_usd=spend.cost_usd if spend else None,
        context_fill=spend.context_fill if spend else None,
    )
    return view, evidence


def located_view(
    name: str,
    spec: AgentSpec | None,
    record: AgentRecord | None,
    pane: PaneInfo | None,
    table: ProcessTable,
    now: float,
) -> AgentView:
    """The agent as an action needs it, from its pane, processes and latest records alone: its
    state is exact where an action depends on it (not running, paused, shelved), but a live
    agent's working, idle or needs input is not judged (no screen or hook is read)."""
    runner_pid, agent_pid, facts = agent_processes(record, pane, table)
    verdict = derive(Evidence(name, now, record, pane, facts))
    return _view(name, spec, record, pane, runner_pid, agent_pid, verdict)


def _view(
    name: str,
    spec: AgentSpec | None,
    record: AgentRecord | None,
    pane: PaneInfo | None,
    runner_pid: int | None,
    agent_pid: int | None,
    verdict: Verdict,
) -> AgentView:
    """What both views know: the agent's state, its place and its runs."""
    return AgentView(
        name=name,
        kind=spec.kind.value if spec else "unknown",
        state=verdict.state,
        reason=verdict.reason,
        since=verdict.since,
        branch=(record.branch if record and record.branch else f"corral/{name}"),
        worktree=(record.worktree if record and record.worktree else ""),
        pane=pane.pane_id if pane else None,
        pid=agent_pid,
        runner_pid=runner_pid,
        runs=record.runs if record else 0,
        exit_code=record.exit_code if record else None,
        session_id=record.session_id if record else None,
        paused=bool(record and record.paused),
        shelved=bool(record and record.shelved),
        in_config=spec is not None,
        run_started=record.run_started if record else None,
    )


def agent_processes(
    record: AgentRecord | None, pane: PaneInfo | None, table: ProcessTable
) -> tuple[int | None, int | None, ProcFacts | None]:
    """The agent's runner, its agent process and that process's facts, while they run."""
    # tmux marks a pane dead a moment after its runner died; until then, trust /proc.
    alive = pane is not None and table.status.get(pane.pid) not in (None, "zombie", "dead")
    runner_pid = pane.pid if pane and not pane.dead and alive else None
    run_pid = record.run_pid if record else None
    agent_pid = table.agent_pid(runner_pid, run_pid) if runner_pid else None
    if runner_pid and agent_pid is None and _journal_lost(record):
        agent_pid = table.first_child(runner_pid)
    facts = table.facts(agent_pid) if agent_pid else None
    return runner_pid, agent_pid, facts


def _journal_lost(record: AgentRecord | None) -> bool:
    """The journal knows nothing of the runner a live pane runs: not the start, not a run
    starting or ending. It was deleted (or emptied) under a running herd, so the agent's process
    is found without it, as its runner's child; the runner's next event starts a new journal."""
    return record is None or (
        record.launched is None and record.run_started is None and record.run_ended is None
    )
