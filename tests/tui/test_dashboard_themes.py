"""Themes in the app: the saved choice is shown at start, `t` and the palette switch themes
and save the choice in the user config, state colours come from the theme, and a bad theme
file or a choice that is not there is a sentence in the app, never a crash."""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any

import pytest
from rich.style import Style
from rich.text import Text
from textual.color import Color
from textual.command import CommandList

from sessions.core.model import UserSettings
from tests.tui.conftest import Notes, corral, until
from tests.tui.fakes import FakeHerd
from tui.themes import BUNDLED_ORDER, DEFAULT_THEME, STATE_VARIABLES
from tui.widgets.herd_table import HerdTable

pytestmark = pytest.mark.asyncio


def config(herd: FakeHerd) -> Path:
    return herd.repo.root / "config.toml"


def saved(herd: FakeHerd) -> str:
    path = config(herd)
    return path.read_text() if path.exists() else ""


def saved_theme(herd: FakeHerd) -> object:
    """The theme the saved file says, read as TOML: how the value is quoted is tomlkit's."""
    return tomllib.loads(saved(herd)).get("theme")


def state_colour(app: Any, name: str) -> Color | None:
    """The colour the herd table draws `name`'s state in."""
    cell = app.screen.query_one(HerdTable).get_cell(name, "state")
    assert isinstance(cell, Text) and isinstance(cell.style, Style)
    colour = cell.style.color
    return Color.from_rich_color(colour) if colour is not None else None


async def test_the_saved_theme_is_shown_and_colours_the_states(herd: FakeHerd) -> None:
    app = corral(herd, settings=UserSettings(theme="corral-light"), settings_path=config(herd))
    async with app.run_test(size=(120, 30)) as pilot:
        await until(pilot, lambda: app.snapshot is not None)
        assert app.theme == "corral-light"
        light = app.theme_set.get("corral-light")
        assert light is not None
        wanted = Color.parse(light.variables["agent-working"])
        await until(pilot, lambda: state_colour(app, "alpha") == wanted, what="light colours")
    assert saved(herd) == ""  # showing the saved choice writes nothing


def cell_colour(app: Any, name: str, column: str) -> Color | None:
    cell = app.screen.query_one(HerdTable).get_cell(name, column)
    assert isinstance(cell, Text) and isinstance(cell.style, Style)
    colour = cell.style.color
    return Color.from_rich_color(colour) if colour is not None else None


@pytest.mark.parametrize("theme", BUNDLED_ORDER)
async def test_conflicts_and_stale_locks_take_the_themes_warning_colours(
    herd: FakeHerd, theme: str
) -> None:
    app = corral(herd, settings=UserSettings(theme=theme), settings_path=config(herd))
    async with app.run_test(size=(160, 40)) as pilot:
        await until(pilot, lambda: app.snapshot is not None)
        chosen = app.theme_set.get(theme)
        assert chosen is not None
        conflict = Color.parse(chosen.variables["conflict"])
        stale = Color.parse(chosen.variables["lock-stale"])
        await until(pilot, lambda: cell_colour(app, "alpha", "conflicts") == conflict)
        assert cell_colour(app, "bravo", "task") == stale  # bravo holds a stale lock
        assert conflict != stale


async def test_t_steps_through_corrals_themes_and_saves_the_choice(herd: FakeHerd) -> None:
    mine = '# mine\nbell = false\n\n[keys]\nquit = "q"\n'
    config(herd).write_text(mine)
    app = corral(herd, settings_path=config(herd))
    async with app.run_test(size=(120, 30)) as pilot:
        await until(pilot, lambda: app.snapshot is not None)
        assert app.theme == DEFAULT_THEME
        dark = state_colour(app, "alpha")
        shown = []
        for _ in BUNDLED_ORDER:
            await pilot.press("t")
            shown.append(app.theme)
        assert shown == [*BUNDLED_ORDER[1:], BUNDLED_ORDER[0]]
        await until(pilot, lambda: saved_theme(herd) == "corral-dark", what="the save")
        await pilot.press("t")
        await until(pilot, lambda: saved_theme(herd) == "corral-light", what="the save")
        await until(pilot, lambda: state_colour(app, "alpha") != dark, what="new colours")
    # One line added at the top, every other byte (the comment, the table) as the user wrote it.
    first, *rest = saved(herd).splitlines(keepends=True)
    assert first.startswith("theme = ") and first.endswith("\n")
    assert tomllib.loads(first) == {"theme": "corral-light"}
    assert "".join(rest) == mine


async def test_the_palettes_theme_switch_saves_too(herd: FakeHerd) -> None:
    """Textual's own themes know nothing of $agent-*: they borrow corral-dark's colours."""
    app = corral(herd, settings_path=config(herd))
    async with app.run_test(size=(120, 30)) as pilot:
        await until(pilot, lambda: app.snapshot is not None)
        app.action_change_theme()  # what the palette's "Theme" command runs
        hits = await until(pilot, lambda: app.screen.query(CommandList), what="the theme list")
        await pilot.press(*"nord")
        await until(pilot, lambda: hits.first().option_count == 1, what="one theme")
        await pilot.press("enter")
        await until(pilot, lambda: app.theme == "nord")
        await until(pilot, lambda: saved_theme(herd) == "nord", what="the save")
        dark = app.theme_set.get(DEFAULT_THEME)
        assert dark is not None
        for variable in STATE_VARIABLES:
            assert app.theme_variables[variable] == dark.variables[variable]
    reopened = corral(herd, settings=UserSettings(theme="nord"), settings_path=config(herd))
    notes = Notes(reopened)
    async with reopened.run_test(size=(120, 30)) as pilot:
        await until(pilot, lambda: reopened.snapshot is not None)
        assert reopened.theme == "nord" and notes.errors() == []


async def test_a_saved_theme_that_is_gone_falls_back_and_says_so(herd: FakeHerd) -> None:
    app = corral(herd, settings=UserSettings(theme="my-gone"), settings_path=config(herd))
    notes = Notes(app)
    async with app.run_test(size=(120, 30)) as pilot:
        await until(pilot, lambda: app.snapshot is not None)
        assert app.theme == DEFAULT_THEME
        assert '"my-gone" is not a known theme' in notes.text()
        assert f"so {DEFAULT_THEME} is shown" in notes.text()
    assert saved(herd) == ""  # the user's choice stays written as it was


async def test_a_bad_user_theme_is_reported_and_skipped(herd: FakeHerd) -> None:
    themes = herd.repo.root / "themes"
    themes.mkdir(parents=True)
    (themes / "broken.toml").write_text('name = "broken"\nprimary = "#12345"\n')
    (themes / "mine.toml").write_text('name = "mine"\nprimary = "#4c9bf0"\n')
    app = corral(herd, settings_path=config(herd))
    notes = Notes(app)
    async with app.run_test(size=(120, 30)) as pilot:
        await until(pilot, lambda: app.snapshot is not None)
        assert "A theme was skipped" in notes.titles
        assert "broken.toml:2: primary" in notes.text()
        assert "broken" not in app.available_themes
        assert app.theme_set.names[-1] == "mine"
        for _ in BUNDLED_ORDER:
            await pilot.press("t")
        assert app.theme == "mine"
        dark = app.theme_set.get(DEFAULT_THEME)
        assert dark is not None  # a theme without state colours borrows corral-dark's
        assert app.theme_variables["agent-working"] == dark.variables["agent-working"]


async def test_a_config_that_cannot_be_written_keeps_the_theme_and_says_why(
    herd: FakeHerd,
) -> None:
    config(herd).write_text("this is = = not toml\n")
    app = corral(herd, settings=UserSettings(), settings_path=config(herd))
    notes = Notes(app)
    async with app.run_test(size=(120, 30)) as pilot:
        await until(pilot, lambda: app.snapshot is not None)
        await pilot.press("t")
        await until(pilot, notes.errors, what="the error")
        assert "is not valid TOML" in notes.errors()[0]
        assert app.theme == BUNDLED_ORDER[1] and app.is_running
    assert saved(herd) == "this is = = not toml\n"
