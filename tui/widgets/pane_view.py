"""The selected agent's pane as tmux shows it, colours included, scrollable both ways."""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import ScrollableContainer
from textual.widgets import Static


class PaneView(ScrollableContainer):
    """Redrawn only when the capture changed; follows the bottom unless you scrolled up."""

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self._shown: tuple[str | None, str] = (None, "")

    def compose(self) -> ComposeResult:
        yield Static("", id="pane-text", expand=False, markup=False)

    def show(self, agent: str | None, capture: str) -> None:
        if (agent, capture) == self._shown:
            return
        following = self.scroll_y >= self.max_scroll_y - 1 or agent != self._shown[0]
        self._shown = (agent, capture)
        text = Text.from_ansi(capture.rstrip("\n"), no_wrap=True) if capture else Text("")
        self.query_one("#pane-text", Static).update(text)
        if following:
            self.call_after_refresh(self.scroll_end, animate=False)

    def say(self, agent: str | None, message: str) -> None:
        """A sentence instead of a screen: no agent chosen, or it has no pane."""
        self._shown = (agent, "")
        self.query_one("#pane-text", Static).update(Text(message, style="dim italic"))
