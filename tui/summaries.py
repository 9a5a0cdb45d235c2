"""The dashboard's side of summaries: asking when the refresh policy or the user says so, and
the "while you were away" digest when the user comes back.

Everything runs on async workers whose blocking parts (reading the journal, tmux, git) go to
threads, so a slow or failing Anthropic never holds up a key or a look. Nothing here decides
what a summary says or costs: that is `sessions.services.summaries`. The app hands in how to start a
worker and how to look again, so this knows nothing of the app.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Coroutine, Sequence
from typing import TYPE_CHECKING, Any

from sessions.core.model import AgentView, Snapshot
from sessions.core.summary_values import Skipped

if TYPE_CHECKING:
    from sessions.services.summaries import Summarizer
    from tui.herd import Herd

CHECK_EVERY = 5.0  # seconds between asking the refresh policy what is due

Work = Coroutine[Any, Any, None]


class Summaries:
    def __init__(
        self,
        herd: Herd,
        environ: dict[str, str],
        start: Callable[[Work], object],
        look_again: Callable[[], None],
    ) -> None:
        """`start` runs a coroutine on a worker; `look_again` asks for a look, after new
        summaries went into the journal."""
        self.start = start
        self.look_again = look_again
        self.herd = herd
        self.environ = environ
        self.enabled = herd.summary_rules.enabled  # off: nothing here runs
        # Made on a thread when first needed: the anthropic SDK takes seconds to import, and
        # the dashboard must not wait for it to open.
        self.summarizer: Summarizer | None = None
        self._making: asyncio.Lock | None = None
        self.busy = False
        self.checked = 0.0
        self.left: tuple[float, dict[str, str]] | None = None  # when the user left, and states
        self.shown_status: str | None = None

    @property
    def status(self) -> str | None:
        """The quiet line for the header: why summaries cannot run, or what went wrong."""
        if self.summarizer is None:
            return None
        return self.summarizer.problem() or self.summarizer.status

    async def ready(self) -> Summarizer:
        if self.summarizer is None:
            self._making = self._making or asyncio.Lock()
            async with self._making:
                if self.summarizer is None:
                    made = await asyncio.to_thread(self.herd.summarizer, self.environ)
                    self.summarizer = made
        return self.summarizer

    def seen(self, snapshot: Snapshot) -> None:
        """Each look: remember the herd as the user last saw it, and start what is due."""
        if not self.enabled:
            return
        if self.left is None:
            self.left = (snapshot.taken, states(snapshot.agents))
        if self.summarizer is None:
            if not self.busy:
                self._start(self._make())
            return
        if self.summarizer.problem() is not None:
            return
        now = time.monotonic()
        if self.busy or now - self.checked < CHECK_EVERY:
            return
        self.checked = now
        self._start(self._due(snapshot.agents, snapshot.taken))

    def ask(self, views: Sequence[AgentView], done: Callable[[str], None]) -> None:
        """Summaries now (a key): the cap and the journal's answers to the same input hold."""
        if not self.enabled:
            done("summaries are off: set `enabled = true` under [summaries] in corral.toml.")
            return
        if self.summarizer is not None and (problem := self.summarizer.problem()) is not None:
            done(problem)
            return
        self._start(self._summarize(list(views), done))

    def away(self, snapshot: Snapshot | None) -> None:
        """The terminal lost the focus: what the herd looks like now is what "away" starts
        from."""
        if snapshot is not None:
            self.left = (time.time(), states(snapshot.agents))

    def back(self, snapshot: Snapshot | None, done: Callable[[str, str], None]) -> None:
        """The terminal has the focus again: a digest, when the user was gone long enough."""
        if not self.enabled or self.left is None or snapshot is None:
            return
        if time.time() - self.left[0] >= self.herd.summary_rules.away_minutes * 60:
            self.digest(snapshot, done)

    def digest(self, snapshot: Snapshot | None, done: Callable[[str, str], None]) -> None:
        if not self.enabled:
            done("Summaries are off", "set `enabled = true` under [summaries] in corral.toml.")
            return
        if snapshot is None:
            return
        since, before = self.left or (snapshot.taken, states(snapshot.agents))
        self.left = (time.time(), states(snapshot.agents))
        self._start(self._digest(snapshot.agents, before, since, done))

    # -- workers ---------------------------------------------------------------------------

    def _start(self, work: Work) -> None:
        self.busy = True
        self.start(work)

    async def _make(self) -> None:
        try:
            await self.ready()
        finally:
            self.busy = False

    async def _due(self, views: Sequence[AgentView], now: float) -> None:
        try:
            summarizer = await self.ready()
            due = await asyncio.to_thread(summarizer.due, states(views), now)
            chosen = [view for view in views if view.name in due]
            if chosen:
                await self._ask(chosen)
        finally:
            self.busy = False

    async def _summarize(self, views: list[AgentView], done: Callable[[str], None]) -> None:
        try:
            said = await self._ask(views)
        finally:
            self.busy = False
        done(said)

    async def _ask(self, views: Sequence[AgentView]) -> str:
        summarizer = await self.ready()
        if (problem := summarizer.problem()) is not None:
            return problem
        briefs = await asyncio.to_thread(self.herd.briefs, views)
        lines = []
        for brief in briefs:
            answer = await summarizer.summarize(brief)
            if isinstance(answer, Skipped):
                lines.append(f"{brief.agent}: {answer.reason}")
            else:
                lines.append(f"{brief.agent}: {'STUCK ' if answer.stuck else ''}{answer.text}")
        self.look_again()  # the new summaries are in the journal: the table shows them
        return "\n".join(lines)

    async def _digest(
        self,
        views: Sequence[AgentView],
        before: dict[str, str],
        since: float,
        done: Callable[[str, str], None],
    ) -> None:
        try:
            summarizer = await self.ready()
            facts = await asyncio.to_thread(self.herd.herd_facts, views, before, since)
            answer = await summarizer.digest(facts, since)
        finally:
            self.busy = False
        if isinstance(answer, Skipped):
            done("No digest", answer.reason)
        else:
            done("While you were away", answer.text)


def states(views: Sequence[AgentView]) -> dict[str, str]:
    return {view.name: view.state.value for view in views}
