"""The selected agent's pane as tmux shows it, colours included, scrollable both ways.

Drawn a line at a time (a `ScrollView`): a busy agent's screen changes on every look, and a
widget that holds the whole capture as one piece of content makes every change lay the whole
screen out again, about a tenth of a second at 200x50. Here a change repaints the pane only.
"""

from __future__ import annotations

from rich.style import Style
from rich.text import Text
from textual.geometry import Size
from textual.scroll_view import ScrollView
from textual.strip import Strip


class PaneView(ScrollView, can_focus=True):
    """Redrawn only when the capture changed; follows the bottom unless you scrolled up."""

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self._shown: tuple[str | None, str] = (None, "")
        self._lines: list[Text] = []
        self._strips: dict[int, Strip] = {}
        self._held = 0  # how many texts it has held: the latest one may follow the bottom

    @property
    def text(self) -> str:
        """What the pane shows, as plain text (a capture, or the sentence said instead)."""
        return "\n".join(line.plain for line in self._lines)

    def show(self, agent: str | None, capture: str) -> None:
        if (agent, capture) == self._shown:
            return
        same_agent = agent == self._shown[0]
        following = self.scroll_y >= self.max_scroll_y - 1 or not same_agent
        self._shown = (agent, capture)
        text = Text.from_ansi(capture.rstrip("\n"), no_wrap=True) if capture else Text("")
        self._hold(text, following, same_agent)

    def say(self, agent: str | None, message: str) -> None:
        """A sentence instead of a screen: no agent chosen, or it has no pane."""
        self._shown = (agent, "")
        self._hold(Text(message, style="dim italic"), True, False)

    def _hold(self, text: Text, follow: bool, same_agent: bool) -> None:
        self._lines = list(text.split("\n", allow_blank=True))
        self._strips.clear()
        # Never narrower for the same agent: a new size lays the whole screen out again, and a
        # screen's widest line comes and goes with what the agent draws.
        width = max((line.cell_len for line in self._lines), default=0)
        if same_agent:
            width = max(width, self.virtual_size.width)
        self.virtual_size = Size(width, len(self._lines))
        self.refresh()
        self._held += 1
        if follow:  # once the new size is in: the bottom moved with it
            self.call_after_refresh(self._to_bottom, self._held)

    def _to_bottom(self, held: int) -> None:
        """Only for the latest capture: an older one's turn may come after the user (or a
        capture that does not follow) moved the view."""
        if held == self._held:
            self.scroll_end(animate=False, immediate=True, x_axis=False)

    def notify_style_update(self) -> None:
        super().notify_style_update()
        self._strips.clear()  # a new theme: the background behind the text changed

    def render_line(self, y: int) -> Strip:
        scroll_x, scroll_y = self.scroll_offset
        index = scroll_y + y
        style = self.rich_style
        if index >= len(self._lines):
            return Strip.blank(self.size.width, style)
        strip = self._strips.get(index)
        if strip is None:
            strip = self._strips[index] = self._strip(self._lines[index], style)
        return strip.crop_extend(scroll_x, scroll_x + self.size.width, style).apply_offsets(
            scroll_x, index
        )

    def _strip(self, line: Text, style: Style) -> Strip:
        segments = list(line.render(self.app.console))
        return Strip(segments, line.cell_len).apply_style(style)
