"""The selected agent's pane as tmux shows it, colours included, scrollable both ways.

Drawn a line at a time (a `ScrollView`): a busy agent's screen changes on every look, and a
widget that holds the whole capture as one piece of content makes every change lay the whole
screen out again, about a tenth of a second at 200x50. Here a change repaints the pane only.

Two more things a busy pane would otherwise do on every capture: a new line count is a new
virtual size, which Textual answers with a layout and a repaint of the whole screen (the herd
table's every row too), though only the pane's scrolling depends on it; here the size is set
without it, and a layout happens only when a scrollbar comes or goes. And a line drawn once is
kept by its content, so a capture that scrolled the screen by a line draws one new line.
"""

from __future__ import annotations

from rich.style import Style
from rich.text import Span, Text
from textual.geometry import Size
from textual.scroll_view import ScrollView
from textual.strip import Strip

Drawn = tuple[str, tuple[Span, ...]]  # a line's text and styles: what its strip depends on


class PaneView(ScrollView, can_focus=True):
    """Redrawn only when the capture changed; follows the bottom unless you scrolled up."""

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self._shown: tuple[str | None, str] = (None, "")
        self._lines: list[Text] = []
        self._strips: dict[Drawn, Strip] = {}
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
        drawn = self._strips
        self._strips = {}
        for line in self._lines:
            key = _drawn(line)
            if key in drawn:
                self._strips[key] = drawn[key]
        # Never narrower for the same agent: a screen's widest line comes and goes with what
        # the agent draws, and the scrollbar would jump.
        width = max((line.cell_len for line in self._lines), default=0)
        if same_agent:
            width = max(width, self.virtual_size.width)
        size = Size(width, len(self._lines))
        if size != self.virtual_size:
            # Not `self.virtual_size = size`, whose layout redraws the whole screen: the
            # scrollbars take the new size here, and only one that comes or goes lays out.
            self.set_reactive(PaneView.virtual_size, size)
            self._scroll_update(size)
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
        line = self._lines[index]
        key = _drawn(line)
        strip = self._strips.get(key)
        if strip is None:
            strip = self._strips[key] = self._strip(line, style)
        return strip.crop_extend(scroll_x, scroll_x + self.size.width, style).apply_offsets(
            scroll_x, index
        )

    def _strip(self, line: Text, style: Style) -> Strip:
        segments = list(line.render(self.app.console))
        return Strip(segments, line.cell_len).apply_style(style)


def _drawn(line: Text) -> Drawn:
    return line.plain, tuple(line.spans)
