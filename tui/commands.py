"""The command palette (ctrl+p): every action, for the selected agent and for each agent by
name, and the release of each stale lock by its path, so anything a key does can also be found
by typing what it is.

Each command is an action run on the herd's screen, as a key would run it; what is listed
comes from what that screen shows (its selection and its last look), never from its widgets.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from functools import partial
from typing import Protocol, runtime_checkable

from textual.command import DiscoveryHit, Hit, Hits, Provider
from textual.screen import Screen

from sessions.core.model import Snapshot
from tui.tabs import TABS

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


@runtime_checkable
class HerdShown(Protocol):
    """A screen that shows the herd: the agent selected in it and the look it shows."""

    selected: str | None
    snapshot: Snapshot | None


class HerdCommands(Provider):
    def _herd_screen(self) -> tuple[Screen[object], HerdShown] | None:
        """The screen showing the herd, under any dialog the palette was opened over."""
        for screen in reversed(self.app.screen_stack):
            shown: object = screen
            if isinstance(shown, HerdShown):
                return screen, shown
        return None

    def _commands(self) -> Iterator[tuple[str, Callable[[], object], str]]:
        found = self._herd_screen()
        if found is None:
            return
        screen, shown = found
        selected, snapshot = shown.selected, shown.snapshot

        def run(action: str) -> Callable[[], object]:
            return partial(screen.run_action, action)

        def on_agent(name: str, action: str) -> Callable[[], object]:
            return run(f"on_agent({name!r}, {action!r})")

        for words, action in AGENT_COMMANDS:
            if selected:
                yield f"{words} {selected}", on_agent(selected, action), "the selected agent"
        for words, action in HERD_COMMANDS:
            yield words, run(action), ""
        for pane_id, title in TABS:
            yield f"Show the {title} tab", run(f"tab({pane_id!r})"), ""
        locks = snapshot.coordination.locks if snapshot else None
        for verdict in locks.verdicts if locks else ():
            if verdict.stale:
                yield (
                    f"Release the stale lock {verdict.lock.path}",
                    run(f"release_lock_at({verdict.lock.path!r})"),
                    verdict.reason,
                )
        names = [view.name for view in snapshot.agents] if snapshot else []
        for name in names:
            if name == selected:
                continue
            for words, action in AGENT_COMMANDS:
                yield f"{words} {name}", on_agent(name, action), ""

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
