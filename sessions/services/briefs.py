"""What a summary is written from: one agent's recent facts, redacted, as plain sections.

Gathering reads tmux, git and corral's own files, so it blocks; it runs on a worker (or in the
CLI), never on the dashboard's UI thread. Each source is read from its end and bounded, so a
brief costs the same after a week of running as after a minute.
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Sequence
from pathlib import Path

from sessions.adapters.journal import Journal
from sessions.adapters.repo import Repo, git
from sessions.adapters.tmux import Tmux
from sessions.core.errors import CorralError
from sessions.core.events import DIGEST, QUIET_EVENTS, Event
from sessions.core.model import AgentView
from sessions.core.redact import Redactor
from sessions.core.status import ago, clock
from sessions.core.summary_values import Brief

TAIL_BYTES = 256 * 1024
SCREEN_LINES = 40
CALLS = 25
HISTORY = 15
NOTE_LINES = 30


def tail_events(path: Path, count: int) -> list[Event]:
    """The last `count` events of a JSON-lines file, read from near its end."""
    reader = Journal(path)
    reader.start_near_end(TAIL_BYTES)
    return reader.read_new()[-count:]


JOURNAL_TAIL = 400  # the journal's last events a brief or a digest is written from


def gather(
    view: AgentView,
    tmux: Tmux,
    journal: Sequence[Event],
    events_dir: Path,
    base: str | None,
    redactor: Redactor,
    now: float | None = None,
) -> Brief:
    """`journal`: its last events (`tail_events(path, JOURNAL_TAIL)`), read once for a batch."""
    now = time.time() if now is None else now
    since = f" (since {ago(now, view.since)})" if view.since else ""
    sections = [
        f"agent {view.name} ({view.kind}), {view.state.value}{since}: {view.reason}",
        _calls(events_dir / f"{view.name}.jsonl"),
        _screen(view, tmux),
        _changes(view, base),
        _history(journal, view.name),
        _notes(journal, view.name),
    ]
    kept = tuple(redactor.redact(section) for section in sections if section)
    return Brief(view.name, view.state.value, kept)


def herd_facts(
    views: Sequence[AgentView],
    before: dict[str, str],
    journal_path: Path,
    since: float,
    redactor: Redactor,
) -> list[str]:
    """What a digest is written from: each agent's state then and now, and what the journal
    recorded since (runs, commits, conflicts, notes, summaries)."""
    facts = ["agents (state when you left -> now):"]
    for view in views:
        was = before.get(view.name, "not running")
        facts.append(f"- {view.name} ({view.kind}): {was} -> {view.state.value}: {view.reason}")
    lines = ["journal since you left:"]
    for event in tail_events(journal_path, JOURNAL_TAIL):
        if float(event.get("t", 0)) <= since or event.get("event") == DIGEST:
            continue
        lines.append(_event_line(event))
    facts.append("\n".join(lines))
    return [redactor.redact(fact) for fact in facts]


def _calls(path: Path) -> str:
    events = [e for e in tail_events(path, CALLS * 3) if e.get("tool")][-CALLS:]
    if not events:
        return ""
    lines = ["recent tool calls:"]
    for event in events:
        paths = " ".join(str(p) for p in event.get("paths") or ())
        lines.append(f"{clock(float(event.get('t', 0)))} {event.get('tool')} {paths}".rstrip())
    return "\n".join(lines)


def _screen(view: AgentView, tmux: Tmux) -> str:
    if view.pane is None:
        return ""
    try:
        text = tmux.capture(view.pane)
    except CorralError:
        return ""
    lines = [line.rstrip() for line in text.splitlines()]
    while lines and not lines[-1]:
        lines.pop()
    return "\n".join(["its screen, last lines:", *lines[-SCREEN_LINES:]]) if lines else ""


def _changes(view: AgentView, base: str | None) -> str:
    if not base or not view.worktree or not Path(view.worktree).is_dir():
        return ""
    stat = git(Path(view.worktree), "diff", "--stat=100", base, check=False).stdout.strip()
    log = git(
        Path(view.worktree), "log", "--oneline", "-5", f"{base}..HEAD", check=False
    ).stdout.strip()
    lines = [f"its changes against {base}:", stat or "(none)"]
    if log:
        lines += ["its commits:", log]
    return "\n".join(lines)


def _history(journal: Sequence[Event], agent: str) -> str:
    events = [
        e
        for e in journal
        if e.get("agent") == agent
        and e.get("event") not in QUIET_EVENTS
        and e.get("event") != "note"
    ][-HISTORY:]
    if not events:
        return ""
    return "\n".join(["what corral recorded of it:", *(_event_line(e) for e in events)])


def _notes(journal: Sequence[Event], agent: str) -> str:
    changes = [e for e in journal if e.get("event") == "note" and e.get("agent") == agent][-3:]
    if not changes:
        return ""
    lines = ["its changes to PROGRESS.md and notes:"]
    for change in changes:
        lines.append(f"{change.get('path')} ({change.get('kind')}):")
        lines += str(change.get("diff") or "").splitlines()[:NOTE_LINES]
    return "\n".join(lines)


def _event_line(event: Event) -> str:
    skip = {"t", "event", "agent", "diff", "key", "pid", "pane", "worktree", "session_id"}
    details = ", ".join(f"{k}={v}" for k, v in event.items() if k not in skip and v is not None)
    who = f" {event['agent']}" if event.get("agent") else ""
    return f"{clock(float(event.get('t', 0)))}{who} {event.get('event')} {details}".rstrip()


def checkouts(views: Iterable[AgentView], root: Path) -> list[Path]:
    """Every folder whose .env files hold values to redact."""
    return [root, *(Path(v.worktree) for v in views if v.worktree)]


def redactor_for(views: Iterable[AgentView], root: Path, patterns: Sequence[str]) -> Redactor:
    """What hides secrets from a summary: the built-in patterns, the user's, and every value
    in the checkouts' .env files."""
    return Redactor.for_checkouts(checkouts(views, root), patterns)


def briefs_of(
    views: Sequence[AgentView], tmux: Tmux, repo: Repo, base: str | None, patterns: Sequence[str]
) -> list[Brief]:
    """A brief for each agent, from the journal's last events read once for them all."""
    redactor = redactor_for(views, repo.root, patterns)
    journal = tail_events(repo.journal_path, JOURNAL_TAIL)
    events = repo.state_dir / "events"
    return [gather(view, tmux, journal, events, base, redactor) for view in views]
