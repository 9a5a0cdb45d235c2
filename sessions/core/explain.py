"""What `corral explain` says: the evidence behind an agent's state, one line per source.

The state a verdict gives is one word; the user who doubts it reads here what each source said
(journal, tmux, the process, the screen, hooks) and when, to see which one decided.
"""

from __future__ import annotations

from sessions.core.model import AgentView
from sessions.core.status import Evidence, clock


def explanation(view: AgentView, evidence: Evidence, screen_text: str) -> list[tuple[str, str]]:
    """(source, what it says) lines; `screen_text` is the agent's last screen, of which the
    last lines that hold anything are shown."""
    lines = [("state", f"{view.state.value}: {view.reason}")]
    if view.summary is not None:
        said = view.summary
        stuck = "stuck: " if said.stuck else ""
        lines.append(
            ("summary", f"{stuck}{said.text} (Claude, {clock(said.t)}, while {said.state})")
        )
    record = evidence.record
    if record is not None:
        lines.append(
            (
                "journal",
                f"run {record.runs}, started {clock(record.run_started)}"
                + (
                    f", ended {clock(record.run_ended)} code {record.exit_code}"
                    if record.run_ended
                    else ""
                )
                + (", paused by corral" if record.paused else "")
                + (", shelved" if record.shelved else ""),
            )
        )
    pane = evidence.pane
    lines.append(
        (
            "tmux",
            "no pane"
            if pane is None
            else f"pane {pane.pane_id}, {'dead' if pane.dead else 'alive'}, "
            f"last output {clock(pane.activity)}",
        )
    )
    process = evidence.process
    lines.append(
        (
            "process",
            "none"
            if process is None
            else f"pid {process.pid}, {process.processes} processes, "
            f"{'stopped' if process.stopped else 'running'}, cpu {_percent(view.cpu_percent)}, "
            f"rss {view.rss_bytes // (1 << 20)} MiB",
        )
    )
    screen = evidence.screen
    lines.append(
        (
            "screen",
            "not read"
            if screen is None
            else f"{screen.look.value}: {screen.detail} since {clock(screen.since)}",
        )
    )
    activity = evidence.activity
    if activity is None or activity.last_event is None:
        lines.append(("hooks", "none received"))
    else:
        for label, event, t in (
            ("last", activity.last_event, activity.last_t),
            ("working", activity.working_event, activity.working_t),
            ("idle", activity.idle_event, activity.idle_t),
            ("needs input", activity.needs_detail, activity.needs_t),
        ):
            if t is not None:
                lines.append(("hooks", f"{label}: {event} at {clock(t)}"))
        if activity.open_subagents:
            lines.append(("hooks", f"{activity.open_subagents} subagent(s) open"))
    if activity is not None and activity.file_write_t is not None:
        lines.append(("files", f"last write in its worktree at {clock(activity.file_write_t)}"))
    if view.run_spends:
        lines.append(("runs", _runs_line(view)))
    if record is not None:
        lines += [("setup", note) for note in record.setup_notes]
    tail = [line for line in screen_text.splitlines() if line.strip()]
    lines += [("screen tail", line) for line in tail[-6:]]
    return lines


def _percent(value: float | None) -> str:
    return "not measured yet" if value is None else f"{value}%"


def _runs_line(view: AgentView) -> str:
    spends = view.run_spends
    text = f"{len(spends)} ended run(s) known"
    empty = [run for run in spends if run.empty]
    if not empty:
        return text + ", none spent tokens without changing anything"
    last = empty[-1]
    cost = f", ${last.cost_usd:.2f}" if last.cost_usd is not None else ""
    return (
        f"{text}, {len(empty)} spent tokens and changed nothing "
        f"(latest: run {last.number}, {last.tokens.total} tokens{cost})"
    )
