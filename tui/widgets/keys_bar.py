"""The keys that apply now, on one line at the bottom, each clickable.

Textual's own footer is a widget per key, rebuilt and laid out again whenever the keys may
have changed (each focus change, each `refresh_bindings`): about a tenth of a second on a
200x50 screen, on every `/`, Enter and tab switch. This is one line of text, redrawn only when
its words change, and never laid out again.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from rich.text import Text
from textual import events
from textual.binding import Binding
from textual.screen import Screen
from textual.widgets import Static


@dataclass(frozen=True)
class Spot:
    """Where a key sits on the line, and what a click there does."""

    start: int
    end: int
    key: str
    enabled: bool


class KeysBar(Static):
    COMPONENT_CLASSES: ClassVar[set[str]] = {
        "keys-bar--key",
        "keys-bar--description",
        "keys-bar--disabled",
    }
    DEFAULT_CSS = """
    KeysBar {
        height: 1;
        width: 1fr;
        dock: bottom;
        background: $footer-background;
        color: $footer-foreground;
        .keys-bar--key {
            color: $footer-key-foreground;
            background: $footer-key-background;
            text-style: bold;
        }
        .keys-bar--description {
            color: $footer-description-foreground;
        }
        .keys-bar--disabled {
            color: $text-disabled;
        }
    }
    """

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__("", id=id, markup=False)
        self._spots: tuple[Spot, ...] = ()
        self._shown: Text | None = None

    def on_mount(self) -> None:
        self.screen.bindings_updated_signal.subscribe(self, self._bindings_changed)
        self.call_after_refresh(self.redraw)

    def _bindings_changed(self, screen: Screen[object]) -> None:
        if self.is_attached and screen is self.screen:
            self.redraw()

    def redraw(self) -> None:
        text, spots = self._line()
        self._spots = spots
        if self._shown is not None and text == self._shown:
            return
        self._shown = text
        self.update(text, layout=False)

    def on_resize(self) -> None:
        self.redraw()

    def _line(self) -> tuple[Text, tuple[Spot, ...]]:
        """The keys at the left, cropped to the width; help and the palette always at the
        right, since they lead to every other key."""
        active = self.screen.active_bindings
        palette = self.app.COMMAND_PALETTE_BINDING if self.app.ENABLE_COMMAND_PALETTE else None
        seen: set[str] = set()
        left: list[tuple[str, Binding, bool]] = []
        right: list[tuple[str, Binding, bool]] = []
        for key, (_node, binding, enabled, _tip) in active.items():
            if key == palette:
                right.append((key, binding, enabled))
            elif binding.show and binding.action not in seen:
                seen.add(binding.action)
                side = right if binding.action == "help" else left
                side.append((key, binding, enabled))
        right.sort(key=lambda item: item[0] == palette)
        text, spots = self._items(left)
        tail, tail_spots = self._items(right)
        room = max(0, self.size.width - len(tail))
        if len(text) > room:  # whole keys only, and a mark that some did not fit
            spots = [spot for spot in spots if spot.end <= room - 1]
            text.truncate(spots[-1].end if spots else 0)
            text.append("…")
        text.append(" " * (room - len(text)))
        offset = len(text)
        text.append_text(tail)
        moved = [Spot(s.start + offset, s.end + offset, s.key, s.enabled) for s in tail_spots]
        return text, (*spots, *moved)

    def _items(self, items: list[tuple[str, Binding, bool]]) -> tuple[Text, list[Spot]]:
        key_style = self.get_component_rich_style("keys-bar--key")
        word_style = self.get_component_rich_style("keys-bar--description")
        off_style = self.get_component_rich_style("keys-bar--disabled")
        text = Text(no_wrap=True, overflow="crop")
        spots = []
        for key, binding, enabled in items:
            begin = len(text)
            text.append(
                f" {self.app.get_key_display(binding)} ", key_style if enabled else off_style
            )
            text.append(f"{binding.description} ", word_style if enabled else off_style)
            spots.append(Spot(begin, len(text), key, enabled))
        return text, spots

    def on_click(self, event: events.Click) -> None:
        """A click is the key pressed, so it goes where the key would (the focused widget's
        bindings first)."""
        for spot in self._spots:
            if spot.start <= event.x < spot.end and spot.enabled:
                event.stop()
                self.app.simulate_key(spot.key)
                return
