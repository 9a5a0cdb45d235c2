"""Gathers the evidence for every agent, incrementally, and keeps the cost of looking flat.

One observer lives as long as its supervisor: in the app that is the whole session, so each
source is read from where it stopped (byte offsets into hook files, a screen captured only when
its pane changed, CPU as a delta since the previous look). A one-shot command starts cold: it
reads only the tail of each hook file and takes the CPU sample the previous command left in
`.corral/cache/`, so `corral ls` costs the same after an hour as after a minute.
"""

from __future__ import annotations

import contextlib
import json
import time
from collections import deque
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sessions.adapters.journal import Journal
from sessions.adapters.private import write_private
from sessions.adapters.tmux import Tmux
from sessions.agents.hook_part import hook_part
from sessions.agents.hook_spool import Spool
from sessions.agents.transcripts import (
    ToolUse,
    Transcript,
    find_transcript,
    load_checkpoint,
    reader,
    save_checkpoint,
)
from sessions.core.activity import FILE_EVENT, Activity, fold
from sessions.core.errors import CorralError
from sessions.core.events import Event
from sessions.core.fingerprint import Call, Write
from sessions.core.fold import AgentRecord
from sessions.core.model import PaneInfo, ProcFacts
from sessions.core.prices import DEFAULT_PRICES
from sessions.core.screen_rules import Look, read_screen
from sessions.core.status import Evidence, ScreenState
from sessions.core.usage import RunSpend, Tokens, Usage
from sessions.services.conflicts import relative_path

COLD_TAIL = 256 * 1024
# Hook events that stand for one tool call each; kinds whose hooks send them
# (`HookPart.tool_events`) need no transcript for their calls.
TOOL_EVENTS = frozenset({"PreToolUse", "BeforeTool"})
WINDOW = 1800.0


@dataclass(frozen=True)
class Resources:
    """Resources of an agent's whole process tree."""

    cpu_percent: float | None
    rss_bytes: int


@dataclass(frozen=True)
class Spend:
    """Tokens and dollars an agent's transcripts show, all runs together and per ended run."""

    tokens: Tokens
    cost_usd: float | None
    cost_note: str | None
    context_fill: float | None
    model: str | None
    runs: tuple[RunSpend, ...] = ()


@dataclass
class _Watched:
    """What the observer remembers about one agent between looks."""

    events: Journal
    spool: Spool
    activity: Activity = field(default_factory=Activity)
    calls: deque[Call] = field(default_factory=deque)
    writes: deque[Write] = field(default_factory=deque)
    screen_key: tuple[object, ...] | None = None
    captured_at: float = 0.0
    screen_text: str = ""
    screen: ScreenState | None = None
    transcript: Transcript | None = None
    looked_for_transcript: float = 0.0
    runs_noted: int = 0


class Observer:
    """Evidence per agent from hooks, the screen and the process tree."""

    def __init__(self, state_dir: Path, tmux: Tmux) -> None:
        self.state_dir = state_dir
        self.tmux = tmux
        self.watched: dict[str, _Watched] = {}
        self.cpu_samples: dict[int, tuple[float, float]] = {}
        self.cache_dir = state_dir / "cache"
        self._cpu_cache = self.cache_dir / "cpu.json"
        self.prices = DEFAULT_PRICES
        self.window = WINDOW
        self._cpu_loaded = False
        # Whoever else wants each agent's new hook events (the dashboard's history): handed
        # the events this observer read, so no one reads a hook file a second time.
        self.tap: Callable[[str, list[Event]], None] | None = None

    def evidence(
        self,
        name: str,
        kind: str,
        record: AgentRecord | None,
        pane: PaneInfo | None,
        process: ProcFacts | None,
        now: float,
    ) -> Evidence:
        watched = self._watched(name)
        if record is not None and record.worktree:
            watched.spool.root = record.worktree
        try:
            watched.spool.drain(now)
        except OSError:
            pass  # what stays in the spool is drained by the next look or the runner
        events = watched.events.read_new()
        for event in events:
            watched.activity = fold(watched.activity, event)
            self._collect(watched, event)
        if events and self.tap is not None:
            self.tap(name, events)
        _prune(watched.calls, now - self.window)
        _prune(watched.writes, now - self.window)
        return Evidence(
            name=name,
            now=now,
            record=record,
            pane=pane,
            process=process,
            screen=watched.screen if pane is not None and not pane.dead else None,
            activity=watched.activity,
        )

    @staticmethod
    def _collect(watched: _Watched, event: dict[str, Any]) -> None:
        """Keep tool calls and file writes for fingerprints and conflicts: one per call (the
        event before it runs), with paths already relative to the worktree."""
        name, t = event.get("event"), event.get("t")
        if not isinstance(t, int | float):
            return
        paths = tuple(p for p in event.get("paths") or () if isinstance(p, str))
        if name in TOOL_EVENTS and isinstance(event.get("cls"), str):
            watched.calls.append(Call(float(t), event["cls"], paths))
        elif name == FILE_EVENT and paths:
            watched.writes.append(Write(float(t), paths))

    def calls(self, name: str) -> tuple[tuple[Call, ...], tuple[Write, ...]]:
        """The agent's tool calls and file writes inside the window, oldest first."""
        watched = self.watched.get(name)
        if watched is None:
            return (), ()
        return tuple(watched.calls), tuple(watched.writes)

    def screen_text(self, name: str) -> str:
        watched = self.watched.get(name)
        return watched.screen_text if watched else ""

    def _watched(self, name: str) -> _Watched:
        watched = self.watched.get(name)
        if watched is None:
            events = Journal(self.state_dir / "events" / f"{name}.jsonl")
            events.start_near_end(COLD_TAIL)
            spool = Spool(str(self.state_dir), name)
            watched = self.watched[name] = _Watched(events=events, spool=spool)
        return watched

    def look_at_screens(
        self, panes: Mapping[str, PaneInfo], kinds: Mapping[str, str], now: float
    ) -> None:
        """Capture, in one tmux call, the screens of the panes that changed since last time.

        A pane is captured again also when its last change fell in the second of the previous
        capture: tmux keeps activity times to the second, and a change later in that same
        second would otherwise go unseen.
        """
        due: dict[str, tuple[str, tuple[str, float, str, int]]] = {}
        for name, pane in panes.items():
            if pane.dead:
                continue
            watched = self._watched(name)
            key = (pane.pane_id, pane.activity, pane.cursor, pane.history)
            settled = watched.captured_at >= pane.activity + 1.0
            if key != watched.screen_key or not settled:
                due[pane.pane_id] = (name, key)
        if not due:
            return
        try:
            screens = self.tmux.capture_many(list(due))
        except CorralError:  # a pane may vanish between list and capture
            return
        for pane_id, text in screens.items():
            name, key = due[pane_id]
            self._read(self.watched[name], kinds.get(name, ""), panes[name], key, text, now)

    def _read(
        self,
        watched: _Watched,
        kind: str,
        pane: PaneInfo,
        key: tuple[object, ...],
        text: str,
        now: float,
    ) -> None:
        cold = watched.screen is None
        watched.screen_key = key
        watched.captured_at = now
        watched.screen_text = text
        reading = read_screen(kind, text)
        if watched.screen is not None and watched.screen.look is reading.look:
            return
        since = _cold_since(reading.look, watched.activity, pane) if cold else now
        watched.screen = ScreenState(reading.look, reading.detail, since)

    # -- spending ------------------------------------------------------------------------

    def spend(
        self, name: str, kind: str, record: AgentRecord | None, worktree: str, now: float
    ) -> Spend | None:
        """Read what is new in the agent's transcript; the checkpoint in `.corral/cache` lets a
        one-shot command read only that too."""
        if reader(kind) is None:
            return None
        watched = self._watched(name)
        transcript = watched.transcript
        if transcript is None:
            transcript = load_checkpoint(self.cache_dir, name) or Transcript(kind)
            watched.transcript = transcript
        self._find_transcript(watched, transcript, kind, record, worktree, now)
        if not transcript.paths:
            return None
        if record is not None and record.runs > watched.runs_noted:
            for run in record.ended_runs:
                if run.started is not None:
                    transcript.note_run(run.number, run.started)
            if record.run_started is not None:
                transcript.note_run(record.runs, record.run_started)
            watched.runs_noted = record.runs
        update = transcript.read()
        if update.responses or update.tool_uses or update.restarted:
            save_checkpoint(self.cache_dir, name, transcript)
        if not hook_part(kind).tool_events:
            self._collect_transcript(watched, update.tool_uses, worktree, now)
        state = update.state
        cost = self.prices.cost(state.usage)
        return Spend(
            tokens=state.usage.tokens,
            cost_usd=cost.usd,
            cost_note=cost.reason,
            context_fill=state.context_fill,
            model=state.model,
            runs=self._run_spends(record, dict(state.runs)),
        )

    def _collect_transcript(
        self, watched: _Watched, uses: Sequence[ToolUse], worktree: str, now: float
    ) -> None:
        """Kinds whose hooks report no tool calls: their transcript does."""
        start = now - self.window
        for use in uses:
            at = use.at if use.at is not None else now
            if at < start:
                continue
            paths = use.call.paths
            if worktree:
                paths = tuple(relative_path(p, Path(worktree)) or p for p in paths)
            watched.calls.append(Call(at, use.call.cls, paths))

    def _run_spends(
        self, record: AgentRecord | None, usage: dict[int, Usage]
    ) -> tuple[RunSpend, ...]:
        """Each ended run joined with the tokens its responses spent."""
        if record is None:
            return ()
        spends = []
        for run in record.ended_runs:
            spent = usage.get(run.number)
            tokens = spent.tokens if spent is not None else Tokens()
            spends.append(
                RunSpend(
                    number=run.number,
                    tokens=tokens,
                    cost_usd=self.prices.cost(spent).usd if spent is not None else 0.0,
                    files_written=run.files_written,
                    commits=run.commits,
                    empty=tokens.total > 0 and run.changed is False,
                )
            )
        return tuple(spends)

    def _find_transcript(
        self,
        watched: _Watched,
        transcript: Transcript,
        kind: str,
        record: AgentRecord | None,
        worktree: str,
        now: float,
    ) -> None:
        """The hook names the transcript; without one, search at most every ten seconds."""
        hinted = watched.activity.transcript_path
        if hinted and Path(hinted).exists():
            transcript.add(hinted)
            return
        if now - watched.looked_for_transcript < 10 or not worktree:
            return
        watched.looked_for_transcript = now
        found = find_transcript(
            kind,
            session_id=record.session_id if record else None,
            worktree=Path(worktree),
            since=record.run_started if record else None,
        )
        if found is not None:
            transcript.add(found)

    # -- resources -----------------------------------------------------------------------

    def resources(self, facts: ProcFacts | None, now: float) -> Resources:
        if facts is None:
            return Resources(None, 0)
        return Resources(self._cpu_percent(facts.pid, facts.cpu_seconds, now), facts.rss_bytes)

    def _cpu_percent(self, pid: int, cpu_seconds: float, now: float) -> float | None:
        """CPU of the tree since the previous look, in percent of one core."""
        if not self._cpu_loaded:
            self._load_cpu_samples()
        previous = self.cpu_samples.get(pid)
        self.cpu_samples[pid] = (now, cpu_seconds)
        if previous is None or now - previous[0] < 0.05 or cpu_seconds < previous[1]:
            return None
        return round(100.0 * (cpu_seconds - previous[1]) / (now - previous[0]), 1)

    def _load_cpu_samples(self) -> None:
        self._cpu_loaded = True
        with contextlib.suppress(OSError, ValueError, TypeError):
            data = json.loads(self._cpu_cache.read_text())
            self.cpu_samples = {int(k): (float(v[0]), float(v[1])) for k, v in data.items()}

    def save_cpu_samples(self) -> None:
        """Leave this look's CPU samples for the next one-shot command to take its delta from."""
        with contextlib.suppress(OSError):
            samples = {str(k): v for k, v in self.cpu_samples.items()}
            write_private(self._cpu_cache, json.dumps(samples))


def _prune(items: deque[Call] | deque[Write], start: float) -> None:
    while items and items[0].t < start:
        items.popleft()


def _cold_since(look: Look, activity: Activity, pane: PaneInfo) -> float:
    """Since when a screen read for the first time has looked this way: the hook that matches
    it when there is one, else the pane's last change."""
    turn = activity.turn_t if (activity.turn_t or 0) > (activity.idle_t or 0) else None
    matching = {
        Look.WORKING: turn or activity.working_t,
        Look.IDLE: activity.idle_t,
        Look.DIALOG: activity.needs_t,
        Look.QUESTION: activity.needs_t,
    }.get(look)
    if matching is not None and matching <= pane.activity + 1.0:
        return matching
    return pane.activity or time.time()
