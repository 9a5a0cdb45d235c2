"""The command palette (ctrl+p): every action, for the selected agent and for each agent by
name, and the release of each stale lock by its path, so anything a key does can also be found
by typing what it is."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from functools import partial
from typing import TYPE_CHECKING, cast

from textual.command import DiscoveryHit, Hit, Hits, Provider

from tui.screens.dashboard import TABS, DashboardScreen
from tui.widgets.herd_table import HerdTable

if TYPE_CHECKING:
    from tui.app import CorralApp

# (words shown, the dashboard's action): each for the selected agent and for every other one
AGENT_COMMANDS = (
    ("Attach to", "attach"),
    ("Pause or resume", "pause"),
    ("Send a prompt to", "send"),
    ("Restart", "restart"),
    ("Shelve or unshelve", "shelve"),
    ("Kill", "kill"),
    ("Remove", "remove"),
)
HERD_COMMANDS = (
    ("Pause or resume every agent", "pause_all"),
    ("Summarize the selected agent now, with Claude", "summarize"),
    ("What changed while you were away, from Claude", "digest"),
    ("Filter the herd", "filter"),
    ("Sort the herd by the next column", "sort"),
    ("New agent", "app.new_agent"),
    ("Merge the selected agent's branch", "app.merge"),
    ("Switch to the next corral theme", "app.theme"),
    ("Show every key", "app.help"),
    ("Quit (the agents keep running)", "app.quit"),
)


class HerdCommands(Provider):
    @property
    def corral(self) -> CorralApp:
        return cast("CorralApp", self.app)

    def _commands(self) -> Iterator[tuple[str, Callable[[], object], str]]:
        app = self.corral
        dashboard = app.dashboard
        selected = dashboard.selected
        for words, action in AGENT_COMMANDS:
            if selected:
                yield (
                    f"{words} {selected}",
                    partial(self._on_agent, dashboard, selected, action),
                    "the selected agent",
                )
        for words, action in HERD_COMMANDS:
            yield words, partial(app.run_action, action, dashboard), ""
        for pane_id, title in TABS:
            yield f"Show the {title} tab", partial(dashboard.action_tab, pane_id), ""
        locks = app.snapshot.coordination.locks if app.snapshot else None
        for verdict in locks.verdicts if locks else ():
            if verdict.stale:
                yield (
                    f"Release the stale lock {verdict.lock.path}",
                    partial(dashboard.ask_release, verdict),
                    verdict.reason,
                )
        names = [view.name for view in app.snapshot.agents] if app.snapshot else []
        for name in names:
            if name == selected:
                continue
            for words, action in AGENT_COMMANDS:
                yield f"{words} {name}", partial(self._on_agent, dashboard, name, action), ""

    async def _on_agent(self, dashboard: DashboardScreen, name: str, action: str) -> None:
        """Select the agent first, so the action and the tabs agree on whom it is about."""
        if name != dashboard.selected and not dashboard.query_one(HerdTable).choose(name):
            dashboard.notify(f"{name} is not in the table (is a filter on?)", severity="warning")
            return
        dashboard.selected = name
        await self.app.run_action(action, dashboard)

    async def discover(self) -> Hits:
        for text, command, help_text in self._commands():
            yield DiscoveryHit(text, command, help=help_text or None)

    async def search(self, query: str) -> Hits:
        matcher = self.matcher(query)
        for text, command, help_text in self._commands():
            score = matcher.match(text)
            if score > 0:
                shown = matcher.highlight(text)
                yield Hit(score, shown, command, text=text, help=help_text or None)
