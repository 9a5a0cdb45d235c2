"""The herd table: one row per agent, sortable, filterable, with the state in words."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import ClassVar

from rich.style import Style
from rich.text import Text
from textual._types import SegmentLines
from textual.binding import Binding, BindingType
from textual.message import Message
from textual.widgets import DataTable

from tui.format import age, count, money, size
from tui.rows import AgentRow, sort_value
from tui.states import label, style_of, warning_style


@dataclass(frozen=True)
class Column:
    """Widths are fixed, not measured from the cells: a table measured while it is being laid
    out came out narrower on some starts than on others, cropping the state."""

    key: str
    title: str
    compact: bool  # shown in a narrow terminal too
    width: int
    narrow: int = 0  # the width in a narrow terminal, when it differs
    wide: bool = False  # shown only in a terminal wide enough to leave it room

    def width_for(self, compact: bool) -> int:
        return self.narrow if compact and self.narrow else self.width


COLUMNS = (
    Column("num", "#", True, 2),
    Column("name", "agent", True, 14, 10),
    Column("kind", "kind", False, 7),
    Column("state", "state", True, 18, 16),
    Column("role", "role", True, 13, 12),
    Column("task", "task", False, 16),
    Column("conflicts", "conflicts", True, 11, 9),
    Column("files", "files", False, 5),
    Column("tokens", "tokens · cost", True, 14, 12),
    Column("cpu", "cpu · mem", False, 10),
    Column("last", "last", True, 6, 5),
    Column("summary", "summary", False, 52, wide=True),
)
NARROW = 120
WIDE = sum(column.width + 2 for column in COLUMNS)  # room for every column, padding included
DRAWN_CELLS = 4000  # drawings kept: every cell of 30 agents, in each of its looks, fits


class HerdTable(DataTable[Text], inherit_bindings=False):
    """Rows are keyed by agent name, so the selection follows an agent through sorting,
    filtering and refreshes."""

    # Enter belongs to the screen (attach), so the table's own select binding is left out.
    BINDINGS: ClassVar[list[BindingType]] = [
        binding
        for binding in DataTable.BINDINGS
        if not (isinstance(binding, Binding) and binding.key == "enter")
    ]

    @dataclass
    class Chosen(Message):
        """The highlighted agent changed (or the table emptied: None)."""

        name: str | None

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id, cursor_type="row", zebra_stripes=False)
        self.rows_shown: list[AgentRow] = []
        self._all: list[AgentRow] = []
        self._filter = ""
        self.sort_column = "num"
        self.sort_reverse = False
        self._compact: bool | None = None
        self._wide = False
        self._cells: dict[str, tuple[Text, ...]] = {}
        self._chosen: str | None = None
        self._drawn: dict[tuple[object, ...], tuple[Text, SegmentLines]] = {}

    # -- drawing cells: one at a time ---------------------------------------------------------

    def _render_cell(
        self,
        row_index: int,
        column_index: int,
        base_style: Style,
        width: int,
        cursor: bool = False,
        hover: bool = False,
    ) -> SegmentLines:
        """A cell drawn again only when it holds a new value (or moves, or its look changes).

        DataTable forgets every drawn cell when any one changes, and a look changes an age or
        two every second: drawing all the cells again cost about 17 ms at 200x50, most of what
        an open dashboard spends on an idle herd. The values here are new `Text`s whenever
        they change (see `_draw`), so a value's identity says whether its drawing still holds.
        """
        row_key = self._row_locations.get_key(row_index) if row_index >= 0 else None
        column_key = self._column_locations.get_key(column_index) if column_index >= 0 else None
        if row_key is None or column_key is None:  # the header, or a place with no cell
            return super()._render_cell(row_index, column_index, base_style, width, cursor, hover)
        value = self._data[row_key][column_key]
        key = (
            row_index,  # the drawing carries its place, for the mouse
            column_index,
            row_key,
            column_key,
            base_style,
            width,
            cursor,
            hover,
            self._show_hover_cursor,
            self.show_cursor,
            self._pseudo_class_state,
        )
        drawn = self._drawn.get(key)
        if drawn is not None and drawn[0] is value:
            return drawn[1]
        lines = super()._render_cell(row_index, column_index, base_style, width, cursor, hover)
        if len(self._drawn) > DRAWN_CELLS:
            self._drawn.clear()
        self._drawn[key] = (value, lines)
        return lines

    def notify_style_update(self) -> None:
        self._drawn.clear()  # a new theme or focus: every cell's colours may differ
        super().notify_style_update()

    # -- what the screen calls --------------------------------------------------------------

    def show(self, rows: Sequence[AgentRow]) -> None:
        self._all = list(rows)
        self._draw()

    def set_filter(self, text: str) -> None:
        self._filter = text.strip()
        self._draw()

    @property
    def filter_text(self) -> str:
        return self._filter

    def sort_by(self, column: str) -> None:
        """The same column again turns the order round."""
        if column == self.sort_column:
            self.sort_reverse = not self.sort_reverse
        else:
            self.sort_column, self.sort_reverse = column, False
        self._draw()

    def next_sort(self) -> str:
        keys = [c.key for c in self._columns()]
        at = keys.index(self.sort_column) if self.sort_column in keys else -1
        self.sort_column, self.sort_reverse = keys[(at + 1) % len(keys)], False
        self._draw()
        return self.sort_column

    @property
    def chosen(self) -> str | None:
        return self._chosen

    def choose(self, name: str) -> bool:
        for index, row in enumerate(self.rows_shown):
            if row.name == name:
                self.move_cursor(row=index)
                self._announce(name)
                return True
        return False

    def choose_number(self, number: int) -> str | None:
        for row in self.rows_shown:
            if row.number == number:
                self.choose(row.name)
                return row.name
        return None

    # -- drawing ----------------------------------------------------------------------------

    def _columns(self) -> tuple[Column, ...]:
        return tuple(
            c for c in COLUMNS if (c.compact or not self._compact) and (self._wide or not c.wide)
        )

    def on_resize(self) -> None:
        compact, wide = self.size.width < NARROW, self.size.width >= WIDE
        if (compact, wide) != (self._compact, self._wide):
            self._compact, self._wide = compact, wide
            self.clear(columns=True)
            self._cells.clear()
            for column in self._columns():
                self.add_column(column.title, key=column.key, width=column.width_for(compact))
            self._draw()

    def _draw(self) -> None:
        if self._compact is None:
            return  # not sized yet: on_resize draws
        rows = [row for row in self._all if not self._filter or row.matches(self._filter)]
        rows.sort(key=lambda row: sort_value(row, self.sort_column), reverse=self.sort_reverse)
        variables = self.app.theme_variables
        cells = {row.name: self._row_cells(row, variables) for row in rows}
        names = [row.name for row in rows]
        # The row under the cursor, not the last one announced: a look landing between a key
        # moving the cursor and its highlight being handled must not move it back.
        shown = self.rows_shown
        keep = shown[self.cursor_row].name if 0 <= self.cursor_row < len(shown) else self._chosen
        if names == [row.name for row in self.rows_shown] and self.row_count == len(names):
            keys = [c.key for c in self._columns()]
            for name in names:
                old = self._cells.get(name)
                for index, cell in enumerate(cells[name]):
                    if old is None or not same_text(old[index], cell):
                        self.update_cell(name, keys[index], cell)
        else:
            self.clear()
            for name in names:
                self.add_row(*cells[name], key=name)
        self.rows_shown = rows
        self._cells = cells
        if keep in cells:
            index = names.index(keep)
            if self.cursor_row != index:
                self.move_cursor(row=index)
        elif names:
            self.move_cursor(row=0)
        self._announce(names[min(self.cursor_row, len(names) - 1)] if names else None)

    def _row_cells(self, row: AgentRow, variables: Mapping[str, str]) -> tuple[Text, ...]:
        by_key = {
            "num": Text(str(row.number) if row.number <= 9 else "", style="dim"),
            "name": Text(row.name, style="bold"),
            "kind": Text(row.kind),
            "state": _state_cell(row, variables),
            "role": _role_cell(row),
            "task": _task_cell(row, variables),
            "conflicts": _conflict_cell(row, variables),
            "files": Text(str(row.files) if row.files else "-", justify="right"),
            "tokens": Text(f"{count(row.tokens)} {money(row.cost)}", justify="right"),
            "cpu": Text(_cpu(row), justify="right"),
            "last": Text(age(row.last), style="dim"),
            "summary": _summary_cell(row),
        }
        return tuple(by_key[c.key] for c in self._columns())

    def _announce(self, name: str | None) -> None:
        if name != self._chosen:
            self._chosen = name
            self.post_message(self.Chosen(name))

    def on_data_table_row_highlighted(self, event: DataTable.RowHighlighted) -> None:
        event.stop()
        key = event.row_key.value
        if key is not None:
            self._announce(key)

    def on_data_table_header_selected(self, event: DataTable.HeaderSelected) -> None:
        event.stop()
        if event.column_key.value:
            self.sort_by(event.column_key.value)


def same_text(old: Text, new: Text) -> bool:
    """Rich's `Text ==` compares the words and spans only, not the style of the whole cell,
    and a new theme changes just that (the state's colour)."""
    return old == new and old.style == new.style


def _state_cell(row: AgentRow, variables: Mapping[str, str]) -> Text:
    text = Text(label(row.state), style=style_of(row.state, variables))
    if row.age is not None:
        text.append(f" {age(row.age)}", style="dim")
    return text


def _role_cell(row: AgentRow) -> Text:
    text = Text(row.role_text, style="bold" if row.role == "builder" else "")
    if row.stalled:
        text.append(" stalled", style="bold")
    return text


def _task_cell(row: AgentRow, variables: Mapping[str, str]) -> Text:
    if row.task is None:
        return Text("-", style="dim")
    if row.lock_stale:
        return Text(f"{row.task} (stale)", style=warning_style("lock-stale", variables))
    return Text(row.task)


def _conflict_cell(row: AgentRow, variables: Mapping[str, str]) -> Text:
    if not row.conflicts:
        return Text("-", style="dim")
    words = f"⚠ {row.conflicts} {row.conflict_level or ''}".rstrip()
    return Text(words, style=warning_style("conflict", variables))


def _summary_cell(row: AgentRow) -> Text:
    if row.summary is None:
        return Text("-", style="dim")
    if row.stuck:
        return Text(f"stuck: {row.summary}", style="bold", overflow="ellipsis", no_wrap=True)
    return Text(row.summary, overflow="ellipsis", no_wrap=True)


def _cpu(row: AgentRow) -> str:
    cpu = "-" if row.cpu is None else f"{row.cpu:.0f}%"
    return f"{cpu} {size(row.rss)}"
