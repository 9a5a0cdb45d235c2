"""Every key and flow of the dashboard, against a fake herd: the screen shows what the herd
says, and each key asks the herd for the right action on the right agent."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import pytest
from textual.binding import Binding
from textual.geometry import Size
from textual.widgets import DataTable, Input, TabbedContent, TextArea

from sessions.core.model import State
from sessions.core.worktree_values import Leftover, Leftovers
from tests.tui.conftest import Notes, corral, until
from tests.tui.fakes import FakeHerd, make_herd, view
from tui.screens.confirm import ConfirmScreen
from tui.screens.help import HelpScreen
from tui.screens.send import SendScreen
from tui.widgets.herd_table import HerdTable
from tui.widgets.keys_bar import KeysBar
from tui.widgets.pane_view import PaneView

pytestmark = pytest.mark.asyncio


def row_text(app: object, name: str) -> str:
    table = app.screen.query_one(HerdTable)  # type: ignore[attr-defined]
    return " ".join(cell.plain for cell in table.get_row(name))


def shown_names(app: object) -> list[str]:
    table = app.screen.query_one(HerdTable)  # type: ignore[attr-defined]
    return [row.name for row in table.rows_shown]


async def test_the_table_shows_every_agent_with_its_state_in_words(herd: FakeHerd) -> None:
    app = corral(herd)
    async with app.run_test(size=(200, 50)) as pilot:
        await until(pilot, lambda: shown_names(app), what="rows")
        assert shown_names(app) == ["alpha", "bravo", "charlie", "delta"]
        alpha = row_text(app, "alpha")
        assert "● working 1m " in alpha
        assert "builder 60%" in alpha
        assert "⚠ 1 lines" in alpha
        assert "13.2k $0.42" in alpha
        assert "12% 200M" in alpha
        assert "? needs input 20s" in row_text(app, "bravo")
        assert "parser (stale)" in row_text(app, "bravo")
        assert "✕ exited 1h00m" in row_text(app, "delta")
        header = str(app.screen.query_one("#header").render())
        assert "1 ● working" in header and "1 ? needs input" in header
        assert "⚠ 1 conflict" in header and "1 stale lock" in header
        assert "26.9k tokens $0.84" in header


async def test_a_narrow_terminal_keeps_the_columns_that_matter(herd: FakeHerd) -> None:
    app = corral(herd)
    async with app.run_test(size=(80, 24)) as pilot:
        await until(pilot, lambda: shown_names(app))
        table = app.screen.query_one(HerdTable)
        keys = [column.key.value for column in table.ordered_columns]
        assert keys == ["num", "name", "state", "role", "conflicts", "tokens", "last"]
        assert "? needs input" in row_text(app, "bravo")


async def test_j_k_arrows_and_numbers_choose_the_agent(herd: FakeHerd) -> None:
    app = corral(herd)
    notes = Notes(app)
    async with app.run_test(size=(120, 30)) as pilot:
        await until(pilot, lambda: app.dashboard.selected == "alpha")
        await pilot.press("j")
        assert app.dashboard.selected == "bravo"
        await pilot.press("down")
        assert app.dashboard.selected == "charlie"
        await pilot.press("k")
        assert app.dashboard.selected == "bravo"
        await pilot.press("up")
        assert app.dashboard.selected == "alpha"
        await pilot.press("4")
        assert app.dashboard.selected == "delta"
        await pilot.press("9")
        assert app.dashboard.selected == "delta"
        assert "no agent number 9" in notes.text()


async def test_p_pauses_the_selected_agent_then_resumes_it(herd: FakeHerd) -> None:
    app = corral(herd)
    notes = Notes(app)
    async with app.run_test(size=(120, 30)) as pilot:
        await until(pilot, lambda: app.dashboard.selected == "alpha")
        await pilot.press("p")
        await until(pilot, lambda: "‖ paused" in row_text(app, "alpha"), what="alpha paused")
        assert herd.calls == [("pause", ("alpha",))]
        assert "alpha paused (3 processes stopped)" in notes.text()
        await pilot.press("p")
        await until(pilot, lambda: "● working" in row_text(app, "alpha"), what="alpha resumed")
        assert herd.calls[-1] == ("resume", ("alpha",))


async def test_shift_p_pauses_every_running_agent_then_resumes_them(herd: FakeHerd) -> None:
    app = corral(herd)
    async with app.run_test(size=(120, 30)) as pilot:
        await until(pilot, lambda: shown_names(app))
        await pilot.press("P")
        await until(pilot, lambda: herd.calls)
        assert herd.calls == [("pause", ("alpha", "bravo", "charlie"))]
        await until(pilot, lambda: "paused" in row_text(app, "charlie"))
        await pilot.press("P")
        await until(pilot, lambda: len(herd.calls) == 2)
        assert herd.calls[-1] == ("resume", ("alpha", "bravo", "charlie"))


async def test_s_sends_a_multi_line_prompt(herd: FakeHerd) -> None:
    app = corral(herd)
    notes = Notes(app)
    async with app.run_test(size=(120, 30)) as pilot:
        await until(pilot, lambda: shown_names(app))
        await pilot.press("2", "s")
        assert isinstance(app.screen, SendScreen)
        area = app.screen.query_one(TextArea)
        await pilot.press(*"Run the tests", "enter", *"then commit")
        assert area.text == "Run the tests\nthen commit"
        await pilot.press("ctrl+s")
        await until(pilot, lambda: herd.calls)
        assert herd.calls == [("send", ("bravo", "Run the tests\nthen commit", False))]
        await until(pilot, lambda: "sent 25 characters to bravo" in notes.text())


async def test_escape_closes_the_prompt_without_sending(herd: FakeHerd) -> None:
    app = corral(herd)
    async with app.run_test(size=(120, 30)) as pilot:
        await until(pilot, lambda: shown_names(app))
        await pilot.press("s", *"never", "escape")
        await pilot.pause()
        assert not isinstance(app.screen, SendScreen)
        assert herd.calls == []


async def test_r_restarts_and_z_shelves_then_unshelves(herd: FakeHerd) -> None:
    app = corral(herd)
    async with app.run_test(size=(120, 30)) as pilot:
        await until(pilot, lambda: shown_names(app))
        await pilot.press("3", "r")
        await until(pilot, lambda: herd.calls == [("restart", "charlie")])
        await pilot.press("z")
        await until(pilot, lambda: "▭ shelved" in row_text(app, "charlie"))
        await pilot.press("z")
        await until(pilot, lambda: herd.calls[-1] == ("unshelve", "charlie"))
        assert [call[0] for call in herd.calls] == ["restart", "shelve", "unshelve"]


async def test_x_asks_first_and_says_what_is_kept(tmp_path: Path) -> None:
    worktree = str(tmp_path / "project.corral" / "alpha")
    herd = make_herd(tmp_path / "project")
    herd.agents[0] = view("alpha", State.WORKING, worktree=worktree)
    app = corral(herd)
    async with app.run_test(size=(120, 30)) as pilot:
        await until(pilot, lambda: shown_names(app))
        await pilot.press("x")
        assert isinstance(app.screen, ConfirmScreen)
        body = app.screen.body
        assert worktree in body and "corral/alpha" in body and "last screen" in body
        await pilot.press("n")
        await pilot.pause()
        assert herd.calls == []
        await pilot.press("x", "y")
        await until(pilot, lambda: herd.calls == [("kill", "alpha")])
        await until(pilot, lambda: "✕ exited" in row_text(app, "alpha"))


async def test_shift_x_removes_after_saying_where_the_work_goes(herd: FakeHerd) -> None:
    app = corral(herd)
    async with app.run_test(size=(120, 30)) as pilot:
        await until(pilot, lambda: shown_names(app))
        await pilot.press("4", "X")
        await until(pilot, lambda: isinstance(app.screen, ConfirmScreen), what="the question")
        assert isinstance(app.screen, ConfirmScreen)
        assert "refs/corral/trash/delta/" in app.screen.body
        assert "corral/delta stays unless it is merged into main" in app.screen.body
        assert "Moved aside" not in app.screen.body  # the fake worktree holds nothing ignored
        await pilot.press("escape")
        await pilot.pause()
        assert herd.calls == []
        await pilot.press("X")
        await until(pilot, lambda: isinstance(app.screen, ConfirmScreen), what="the question")
        await pilot.click("#yes")
        await until(pilot, lambda: herd.calls == [("remove", "delta")])
        await until(pilot, lambda: "delta" not in shown_names(app))


async def test_the_remove_question_lists_what_is_moved_aside_and_where(herd: FakeHerd) -> None:
    """What no ref can hold is named before the user says yes: ignored files and nested
    repositories with the folder they go to, and the dependency folders that are let go."""
    herd.leftovers = Leftovers(
        kept=(
            Leftover(".env", folder=False, repository=False, how="ignored"),
            Leftover("build", folder=True, repository=False, how="ignored"),
            Leftover("vendor/lib", folder=True, repository=True, how="untracked"),
        ),
        dropped=(Leftover("node_modules", folder=True, repository=False, how="ignored"),),
    )
    app = corral(herd)
    async with app.run_test(size=(120, 40)) as pilot:
        await until(pilot, lambda: shown_names(app))
        await pilot.press("4", "X")
        await until(pilot, lambda: isinstance(app.screen, ConfirmScreen), what="the question")
        assert isinstance(app.screen, ConfirmScreen)
        body = app.screen.body
        kept = f"{herd.repo.state_dir}/kept/delta-<time>/"
        assert (
            f"Moved aside first, to {kept}, since no ref can hold them: .env, build/, "
            "vendor/lib/ (a git repository, with its history)." in body
        )
        assert (
            "Deleted with the worktree, since an install or a build makes them again: "
            "node_modules/." in body
        )
        shown = str(app.screen.query_one("#dialog-body").render())
        assert ".env" in shown and "vendor/lib/" in shown
        await pilot.press("n")
        await pilot.pause()
        assert herd.calls == []


async def test_a_failed_action_is_an_error_in_the_app(herd: FakeHerd) -> None:
    herd.fail = {"restart"}
    app = corral(herd)
    notes = Notes(app)
    async with app.run_test(size=(120, 30)) as pilot:
        await until(pilot, lambda: shown_names(app))
        await pilot.press("r")
        await until(pilot, notes.errors, what="an error")
        assert "alpha could not restart: the fake says no." in notes.errors()
        assert app.is_running


async def test_a_failing_look_is_reported_and_the_next_one_recovers(herd: FakeHerd) -> None:
    app = corral(herd)
    notes = Notes(app)
    real = herd.snapshot
    broken = {"on": True}

    def snapshot(fresh_locks: bool = False):  # type: ignore[no-untyped-def]
        if broken["on"]:
            raise RuntimeError("tmux went away")
        return real(fresh_locks)

    herd.snapshot = snapshot  # type: ignore[method-assign]
    async with app.run_test(size=(120, 30)) as pilot:
        await until(pilot, notes.errors)
        assert "RuntimeError: tmux went away" in notes.errors()[0]
        broken["on"] = False
        app.look_now()
        await until(pilot, lambda: shown_names(app), what="rows after recovery")


@pytest.mark.parametrize(
    ("key", "tab"),
    [
        ("d", "diff"),
        ("c", "conflicts"),
        ("l", "locks"),
        ("g", "notes"),
        ("e", "why"),
        ("v", "screen"),
        ("i", "activity"),
        ("J", "journal"),
    ],
)
async def test_tab_keys(herd: FakeHerd, key: str, tab: str) -> None:
    app = corral(herd)
    async with app.run_test(size=(120, 30)) as pilot:
        await until(pilot, lambda: shown_names(app))
        if tab == "screen":
            await pilot.press("d")
        await pilot.press(key)
        assert app.screen.query_one(TabbedContent).active == tab


async def test_the_screen_tab_shows_the_pane_with_its_colours(herd: FakeHerd) -> None:
    app = corral(herd)
    async with app.run_test(size=(120, 30)) as pilot:
        await until(pilot, lambda: "Working on the parser" in pane_text(app), what="the pane")
        pane = app.screen.query_one(PaneView)
        drawn = [segment for y in range(pane.size.height) for segment in pane.render_line(y)]
        green = [s for s in drawn if s.style and s.style.color and s.style.color.number == 2]
        assert [s.text for s in green] == ["● Edit(src/app.py)"]  # ANSI 32, as the agent drew it
        assert "\x1b" not in pane.text and "\x1b" not in "".join(s.text for s in drawn)
        await pilot.press("2")
        await until(pilot, lambda: "Allow edit?" in pane_text(app), what="bravo's pane")
        assert herd.tmux_fake.captures[-1] == "%2"


async def test_the_screen_tab_captures_again_only_when_tmux_says_the_pane_changed(
    herd: FakeHerd,
) -> None:
    quiet = (1_000_000.0, "3,4", 0)  # output long ago, so a second has passed since it
    herd.agents = [replace(a, screen_mark=quiet) for a in herd.agents]
    app = corral(herd, poll=0.02)
    async with app.run_test(size=(120, 30)) as pilot:
        await until(pilot, lambda: "Working on the parser" in pane_text(app), what="the pane")
        looks = herd.looks
        await until(pilot, lambda: herd.looks >= looks + 10, what="ten more looks")
        assert herd.tmux_fake.captures == ["%1"]
        herd.tmux_fake.screens["%1"] = "the agent wrote more"
        moved = replace(herd.agents[0], screen_mark=(1_000_001.0, "3,5", 0))
        herd.agents = [moved, *herd.agents[1:]]
        await until(pilot, lambda: "the agent wrote more" in pane_text(app), what="new output")
        assert herd.tmux_fake.captures == ["%1", "%1"]


async def test_the_pane_follows_its_bottom_unless_scrolled_up(herd: FakeHerd) -> None:
    long = "".join(f"line {n}\n" for n in range(200))
    herd.tmux_fake.screens["%1"] = long
    app = corral(herd)
    async with app.run_test(size=(120, 30)) as pilot:
        pane = app.screen.query_one(PaneView)
        await until(pilot, lambda: "line 199" in pane.text, what="the long pane")
        await until(pilot, lambda: pane.scroll_y == pane.max_scroll_y > 0, what="at the bottom")
        last = "".join(s.text for s in pane.render_line(pane.size.height - 1))
        assert "line 199" in last
        pane.scroll_to(y=10, animate=False)
        await until(pilot, lambda: pane.scroll_y == 10, what="scrolled up")
        herd.tmux_fake.screens["%1"] = long + "line 200\n"
        app.look_now()
        await until(pilot, lambda: "line 200" in pane.text, what="more output")
        assert pane.scroll_y == 10  # the user's place is kept
        pane.scroll_end(animate=False)
        await until(pilot, lambda: pane.scroll_y == pane.max_scroll_y, what="back at the bottom")
        herd.tmux_fake.screens["%1"] = long + "line 200\nline 201\n"
        app.look_now()
        await until(pilot, lambda: "line 201" in pane.text, what="yet more output")
        await until(pilot, lambda: pane.scroll_y == pane.max_scroll_y, what="following again")


async def test_a_capture_one_line_longer_draws_the_pane_again_not_the_whole_screen(
    herd: FakeHerd,
) -> None:
    """A working agent's pane grows by a line on most looks. Its new size concerns only its
    own scrolling: the screen is not laid out again for it (a layout draws every widget)."""
    long = "".join(f"line {n}\n" for n in range(200))
    herd.tmux_fake.screens["%1"] = long
    app = corral(herd)
    async with app.run_test(size=(120, 30)) as pilot:
        pane = app.screen.query_one(PaneView)
        await until(pilot, lambda: pane.scroll_y == pane.max_scroll_y > 0, what="at the bottom")
        await pilot.pause()
        screen = app.screen
        layouts: list[bool] = []
        refresh_layout = screen._refresh_layout

        def counted(size: Size | None = None, scroll: bool = False) -> None:
            layouts.append(scroll)  # a scroll reflows what is visible; False is a layout
            refresh_layout(size, scroll)

        screen._refresh_layout = counted  # type: ignore[method-assign]
        herd.tmux_fake.screens["%1"] = long + "line 200\n"
        app.look_now()

        def bottom() -> str:
            return "".join(s.text for s in pane.render_line(pane.size.height - 1))

        await until(pilot, lambda: "line 200" in bottom(), what="the new line at the bottom")
        await pilot.pause()
        assert pane.max_scroll_y == 201 - pane.scrollable_content_region.height
        assert False not in layouts


def pane_text(app: object) -> str:
    return app.screen.query_one(PaneView).text  # type: ignore[attr-defined,no-any-return]


async def test_activity_shows_the_agents_journal_and_tool_calls(herd: FakeHerd) -> None:
    herd.journal.append("start", "alpha", worktree="/w/alpha")
    herd.journal.append("pause", "bravo", pid=1)
    events = herd.repo.state_dir / "events" / "alpha.jsonl"
    events.parent.mkdir(parents=True, exist_ok=True)
    call = {"t": 1.0, "event": "PreToolUse", "tool": "Edit", "cls": "edit", "paths": ["src/a.py"]}
    events.write_text(json.dumps(call) + "\n")
    app = corral(herd)
    async with app.run_test(size=(120, 30)) as pilot:
        await until(pilot, lambda: shown_names(app))
        await pilot.press("i")
        log = app.screen.query_one("#activity-log")
        await until(pilot, lambda: len(log.lines) >= 2, what="activity lines")  # type: ignore[attr-defined]
        lines = [line.text for line in log.lines]  # type: ignore[attr-defined]
        assert any("start" in line and "worktree=/w/alpha" in line for line in lines)
        assert any("Edit" in line and "edit src/a.py" in line for line in lines)
        assert not any("pause" in line for line in lines)
        await pilot.press("J")
        journal = app.screen.query_one("#journal-log")
        await until(pilot, lambda: len(journal.lines) >= 2)  # type: ignore[attr-defined]
        assert any("bravo" in line.text for line in journal.lines)  # type: ignore[attr-defined]


async def test_explain_shows_the_evidence(herd: FakeHerd) -> None:
    app = corral(herd)
    async with app.run_test(size=(120, 30)) as pilot:
        await until(pilot, lambda: shown_names(app))
        await pilot.press("e")
        await until(pilot, lambda: ("explain", "alpha") in herd.calls)
        shown = app.screen.query_one("#explain-text")
        await until(pilot, lambda: "alpha is drawing" in render_text(shown), what="evidence")


def render_text(widget: object) -> str:
    from rich.console import Console

    console = Console(width=120, record=True, file=open("/dev/null", "w"))  # noqa: SIM115
    console.print(widget.content)  # type: ignore[attr-defined]
    return console.export_text()


async def test_conflicts_and_locks_tabs(herd: FakeHerd) -> None:
    app = corral(herd)
    async with app.run_test(size=(160, 40)) as pilot:
        await until(pilot, lambda: shown_names(app))
        await pilot.press("c")
        table = app.screen.query_one("#conflicts-table")
        await until(pilot, lambda: table.row_count == 1)  # type: ignore[attr-defined]
        cells = [c.plain for c in table.get_row_at(0)]  # type: ignore[attr-defined]
        assert cells[:4] == ["⚠ same lines", "src/app.py", "alpha and bravo", "5m"]
        assert "Conflicts ⚠1" in str(app.screen.query_one(TabbedContent).get_tab("conflicts").label)
        await pilot.press("l")
        locks = app.screen.query_one("#locks-table")
        await until(pilot, lambda: locks.row_count == 1)  # type: ignore[attr-defined]
        cells = [c.plain for c in locks.get_row_at(0)]  # type: ignore[attr-defined]
        assert cells[:4] == ["stale", "parser", "bravo", "2h00m"]


async def test_the_conflicts_table_is_refilled_only_when_what_it_shows_changes(
    herd: FakeHerd,
) -> None:
    """Every look brings a new snapshot (a new clock); a refill on each would redraw the
    table twice a second and lose the cursor's row."""
    real = herd.snapshot
    later = {"by": 0.0}

    def snapshot(fresh_locks: bool = False):  # type: ignore[no-untyped-def]
        taken = real(fresh_locks)
        return replace(taken, taken=taken.taken + later["by"] + 0.01 * herd.looks)

    herd.snapshot = snapshot  # type: ignore[method-assign]
    app = corral(herd, poll=0.02)
    async with app.run_test(size=(160, 40)) as pilot:
        await pilot.press("c")
        table = app.screen.query_one("#conflicts-table", DataTable)
        await until(pilot, lambda: table.row_count == 1)
        keys = list(table.rows)
        looks = herd.looks
        await until(pilot, lambda: herd.looks >= looks + 10, what="ten more looks")
        assert list(table.rows) == keys
        later["by"] = 60.0
        await until(pilot, lambda: table.get_row_at(0)[3].plain == "6m", what="a minute older")
        assert list(table.rows) != keys


async def test_slash_filters_by_state_and_escape_clears(herd: FakeHerd) -> None:
    app = corral(herd)
    async with app.run_test(size=(120, 30)) as pilot:
        await until(pilot, lambda: shown_names(app))
        await pilot.press("slash")
        assert app.screen.query_one("#filter", Input).has_focus
        await pilot.press(*"needs")
        assert shown_names(app) == ["bravo"]
        assert app.dashboard.selected == "bravo"
        await pilot.press("enter")
        assert app.screen.query_one(HerdTable).has_focus
        await pilot.press("escape")
        assert shown_names(app) == ["alpha", "bravo", "charlie", "delta"]
        await pilot.press("slash", *"observer")
        assert shown_names(app) == ["charlie", "delta"]
        await pilot.press("escape")
        await pilot.press("slash", *"char")
        assert shown_names(app) == ["charlie"]


async def test_the_table_draws_a_changed_cell_anew_and_rows_keep_their_places(
    herd: FakeHerd,
) -> None:
    """Cells are drawn once and kept until their value changes: a changed one must show, and
    a drawn row that moves (a sort) must still answer a click as the agent now in its place."""
    app = corral(herd)
    async with app.run_test(size=(200, 40)) as pilot:
        await until(pilot, lambda: shown_names(app))
        table = app.screen.query_one(HerdTable)

        def drawn(row: int) -> str:
            return "".join(s.text for s in table.render_line(row + 1))  # below the header

        assert "alpha" in drawn(0) and "working" in drawn(0)
        herd._set("alpha", State.PAUSED)
        app.look_now()
        await until(pilot, lambda: "paused" in drawn(0), what="alpha's row drawn paused")
        table.sort_by("tokens")
        order = shown_names(app)
        assert order != ["alpha", "bravo", "charlie", "delta"]
        await until(pilot, lambda: order[0] in drawn(0), what="the sorted rows drawn")
        third = order[2]
        assert third in drawn(2)
        await pilot.click(HerdTable, offset=(20, 3))  # below the header: the third row
        await until(pilot, lambda: app.dashboard.selected == third, what=f"{third} chosen")


async def test_o_and_a_header_click_sort_the_table(herd: FakeHerd) -> None:
    app = corral(herd)
    async with app.run_test(size=(200, 40)) as pilot:
        await until(pilot, lambda: shown_names(app))
        table = app.screen.query_one(HerdTable)
        table.sort_by("tokens")
        assert shown_names(app)[-1] == "charlie"
        table.sort_by("tokens")
        assert shown_names(app)[0] == "charlie"
        table.sort_by("name")
        assert shown_names(app) == ["alpha", "bravo", "charlie", "delta"]
        await pilot.press("o")
        assert table.sort_column == "kind"
        assert shown_names(app) == ["alpha", "bravo", "delta", "charlie"]
        assert app.dashboard.selected == "alpha"


async def test_the_keys_line_fits_the_width_and_a_click_on_a_key_presses_it(
    herd: FakeHerd,
) -> None:
    app = corral(herd)
    async with app.run_test(size=(80, 24)) as pilot:
        await until(pilot, lambda: shown_names(app))
        bar = app.screen.query_one(KeysBar)
        line = bar.render().plain  # type: ignore[union-attr]
        # How a key is spelled ("?", "^p") is Textual's; the labels, their order and the room
        # they get are corral's.
        help_ = f"{app.get_key_display(Binding('question_mark', ''))} Help"
        palette = f"{app.get_key_display(Binding('ctrl+p', ''))} Palette"
        assert len(line) <= 80 and line.rstrip().endswith(f"{help_}  {palette}")
        assert "…" in line  # the keys that did not fit are said to be missing
        diff = line.index(f" {app.get_key_display(Binding('d', ''))} Diff ")
        await pilot.click(KeysBar, offset=(diff + 2, 0))
        assert app.screen.query_one(TabbedContent).active == "diff"
        await pilot.click(KeysBar, offset=(line.index(help_) + 1, 0))
        await until(pilot, lambda: isinstance(app.screen, HelpScreen), what="the help screen")


async def test_question_mark_lists_every_key_with_its_id(herd: FakeHerd) -> None:
    app = corral(herd)
    async with app.run_test(size=(120, 40)) as pilot:
        await until(pilot, lambda: shown_names(app))
        await pilot.press("question_mark")
        assert isinstance(app.screen, HelpScreen)
        ids = {binding_id for binding_id, _, _ in app.screen.keys}
        assert {"pause", "pause-all", "attach", "send", "kill", "remove", "quit"} <= ids
        assert {"new-agent", "merge", "theme", "palette", "filter", "select-1"} <= ids
        await pilot.press("escape")
        assert not isinstance(app.screen, HelpScreen)


async def test_user_keys_rebind_by_id(herd: FakeHerd, tmp_path: Path) -> None:
    config = tmp_path / "config.toml"
    config.write_text('[keys]\npause = "w"\n')
    app = corral(herd, settings_path=config)
    async with app.run_test(size=(120, 30)) as pilot:
        await until(pilot, lambda: shown_names(app))
        await pilot.press("p")
        await pilot.pause()
        assert herd.calls == []
        await pilot.press("w")
        await until(pilot, lambda: herd.calls == [("pause", ("alpha",))])
        assert ("pause", "w", "Pause/resume") in app.key_table()


async def test_a_mistyped_key_id_is_an_error_shown_in_the_app(
    herd: FakeHerd, tmp_path: Path
) -> None:
    config = tmp_path / "config.toml"
    config.write_text('[keys]\npuase = "w"\n')
    app = corral(herd, settings_path=config)
    notes = Notes(app)
    async with app.run_test(size=(120, 30)) as pilot:
        await until(pilot, notes.errors)
        assert "puase" in notes.errors()[0] and "config.toml" in notes.errors()[0]
        await until(pilot, lambda: shown_names(app))  # the first look drew the agents
        await pilot.press("p")
        await until(pilot, lambda: herd.calls == [("pause", ("alpha",))])


async def test_the_palette_runs_an_action_on_any_agent(herd: FakeHerd) -> None:
    app = corral(herd)
    async with app.run_test(size=(120, 30)) as pilot:
        await until(pilot, lambda: shown_names(app))
        await pilot.press("ctrl+p")
        await pilot.press(*"Pause or resume charlie")
        await pilot.pause(0.3)
        await pilot.press("enter")
        await until(pilot, lambda: herd.calls == [("pause", ("charlie",))])
        assert app.dashboard.selected == "charlie"


async def test_q_quits_and_leaves_the_agents_alone(herd: FakeHerd) -> None:
    app = corral(herd)
    async with app.run_test(size=(120, 30)) as pilot:
        await until(pilot, lambda: shown_names(app))
        await pilot.press("q")
        await pilot.pause()
    assert not app.is_running
    assert herd.calls == []


async def test_configured_agents_not_running_are_offered_a_start(tmp_path: Path) -> None:
    herd = make_herd(tmp_path / "project", specs=("alpha", "delta", "echo"))
    app = corral(herd, offer_up=True)
    async with app.run_test(size=(120, 30)) as pilot:
        await until(pilot, lambda: isinstance(app.screen, ConfirmScreen), what="the offer")
        assert isinstance(app.screen, ConfirmScreen)
        assert "Not started: echo." in app.screen.body
        assert "Ended: delta." in app.screen.body
        await pilot.pause()
        await pilot.click("#yes")
        await until(pilot, lambda: herd.calls == [("up", ("echo", "delta"))])


async def test_declining_the_offer_starts_nothing(tmp_path: Path) -> None:
    herd = make_herd(tmp_path / "project", specs=("echo",))
    app = corral(herd, offer_up=True)
    async with app.run_test(size=(120, 30)) as pilot:
        await until(pilot, lambda: isinstance(app.screen, ConfirmScreen))
        await pilot.press("n")
        await pilot.pause()
        assert herd.calls == []
        assert not isinstance(app.screen, ConfirmScreen)


async def test_polling_posts_new_snapshots(herd: FakeHerd) -> None:
    app = corral(herd, poll=0.05)
    async with app.run_test(size=(120, 30)) as pilot:
        await until(pilot, lambda: shown_names(app))
        herd.agents.append(view("echo", State.STARTING, pane="%5"))
        await until(pilot, lambda: "echo" in shown_names(app), what="the new agent")
        assert herd.looks >= 2


async def test_agent_keys_are_disabled_without_an_agent(tmp_path: Path) -> None:
    herd = make_herd(tmp_path / "project", agents=[])
    app = corral(herd)
    async with app.run_test(size=(120, 30)) as pilot:
        await until(pilot, lambda: app.snapshot is not None)
        await pilot.press("p", "s", "x", "enter")
        await pilot.pause()
        assert herd.calls == []
        assert not isinstance(app.screen, SendScreen | ConfirmScreen)
        assert app.dashboard.check_action("pause", ()) is None


async def test_looks_that_change_no_key_leave_the_footer_alone(herd: FakeHerd) -> None:
    """Rebuilding the footer lays the whole screen out again: it is done when a key starts or
    stops applying, not on every look."""
    app = corral(herd)  # no polling: the test asks for each look

    async def look() -> None:
        before = herd.looks
        app.look_now()
        await until(
            pilot, lambda: herd.looks > before and not app._looks.running("look"), what="a look"
        )

    async with app.run_test(size=(120, 30)) as pilot:
        await until(pilot, lambda: app.dashboard.selected is not None, what="a chosen agent")
        await look()
        refreshed: list[int] = []
        original = app.dashboard.refresh_bindings

        def counting() -> None:
            refreshed.append(herd.looks)
            original()

        app.dashboard.refresh_bindings = counting  # type: ignore[method-assign]
        for _ in range(5):
            await look()
        assert refreshed == []
        await pilot.press("l")  # the Locks tab brings the release key
        await until(pilot, lambda: bool(refreshed), what="the footer brought up to date")


async def test_a_look_asked_for_during_a_look_follows_it(herd: FakeHerd) -> None:
    """After an action the app asks for a look; one already running may have started before
    the action, so another follows it rather than being dropped."""
    app = corral(herd)  # no polling: only the looks asked for
    async with app.run_test(size=(120, 30)) as pilot:
        await until(pilot, lambda: app.snapshot is not None)
        before = herd.looks
        app.look_now()
        app.look_now()  # while the first is still running
        await until(pilot, lambda: herd.looks >= before + 2, what="the second look")
        await pilot.pause()
        assert herd.looks == before + 2
