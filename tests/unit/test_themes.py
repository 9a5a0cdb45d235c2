"""Themes: the bundled ones are complete and readable, bad user files are reported and skipped,
the saved choice leaves the rest of the user's config alone (tests/integration/test_wheel.py
checks that they ship in the wheel)."""

from __future__ import annotations

import stat
import tomllib
from pathlib import Path

import pytest
import tomlkit
from textual.app import App
from textual.css.stylesheet import Stylesheet
from textual.theme import Theme

from sessions.adapters.user_settings import parse_user_settings
from sessions.core.model import State, UserSettings
from tui.themes import (
    BUNDLED_ORDER,
    CORRAL_VARIABLES,
    DEFAULT_THEME,
    STATE_VARIABLES,
    ThemeChoiceError,
    bundled_theme_dir,
    contrast_ratio,
    load_themes,
    next_theme,
    parse_theme,
    register,
    resolve_theme,
    save_theme_choice,
    state_variable,
    user_theme_dir,
    variable_defaults,
)

REPO = Path(__file__).resolve().parents[2]
THEME_FOLDER = REPO / "themes"
BUNDLED = ("corral-dark", "corral-light", "corral-high-contrast")
THEME_FIELDS = (
    "name",
    "primary",
    "secondary",
    "accent",
    "foreground",
    "background",
    "surface",
    "panel",
    "success",
    "warning",
    "error",
    "dark",
    "variables",
)
GOOD = 'name = "mine"\nprimary = "#336699"\ndark = false\n'


def bundled() -> dict[str, Theme]:
    theme_set = load_themes(Path("/nonexistent/themes"))
    assert theme_set.problems == ()
    return {theme.name: theme for theme in theme_set.themes}


def write(folder: Path, files: dict[str, str]) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for name, text in files.items():
        (folder / name).write_text(text)
    return folder


# --- the bundled themes -------------------------------------------------------------------------


def test_every_bundled_theme_loads_with_every_state_variable() -> None:
    themes = bundled()
    assert tuple(themes)[:3] == BUNDLED == BUNDLED_ORDER
    assert BUNDLED[0] == DEFAULT_THEME == UserSettings().theme
    for theme in themes.values():
        assert set(CORRAL_VARIABLES) <= set(theme.variables), theme.name


def test_bundled_files_spell_out_every_field_and_state_colour_themselves() -> None:
    """Inheriting is for user themes; a bundled one that leaned on corral-dark would look
    complete to the loader while showing dark-theme colours on a light background."""
    files = sorted(THEME_FOLDER.glob("*.toml"))
    assert {path.stem for path in files} >= set(BUNDLED)
    for path in files:
        data = tomllib.loads(path.read_text())
        assert data["name"] == path.stem
        assert set(THEME_FIELDS) <= set(data), path.name
        assert set(CORRAL_VARIABLES) <= set(data["variables"]), path.name


def test_bundled_themes_give_textual_css_every_state_variable() -> None:
    rules = " ".join(f".{state.value} {{ color: ${state_variable(state)}; }}" for state in State)
    rules += " .conflict { background: $conflict 30%; } .stale { color: $lock-stale; }"
    for theme in bundled().values():
        # What App.get_css_variables hands the stylesheet.
        sheet = Stylesheet(variables={**theme.to_color_system().generate(), **theme.variables})
        sheet.add_source(rules, ("test", ""))
        sheet.parse()  # raises when a variable is missing or not a colour
        assert len(sheet.rules) == len(State) + 2


def test_state_variable_names_the_theme_variable_of_each_state() -> None:
    assert state_variable("needs_input") == "agent-needs-input"
    assert state_variable("crash_looping") == "agent-crash-looping"
    assert state_variable(State.WORKING) == "agent-working"
    assert tuple(state_variable(state) for state in State) == STATE_VARIABLES
    with pytest.raises(ValueError, match="'asleep' is not an agent state"):
        state_variable("asleep")


# --- contrast -----------------------------------------------------------------------------------


def test_contrast_ratio_follows_wcag() -> None:
    assert contrast_ratio("#000000", "#ffffff") == pytest.approx(21.0)
    assert contrast_ratio("#ffffff", "#000000") == pytest.approx(21.0)
    assert contrast_ratio("red", "red") == pytest.approx(1.0)
    assert contrast_ratio("#777777", "#ffffff") == pytest.approx(4.48, abs=0.01)
    # Half-transparent white on black is a mid grey, well short of white's 21:1.
    assert contrast_ratio("#ffffff80", "#000000") < 6


def test_high_contrast_state_colours_pass_wcag_aa_everywhere_and_aaa_on_the_background() -> None:
    theme = bundled()["corral-high-contrast"]
    grounds = (theme.background, theme.surface, theme.panel)
    for variable in CORRAL_VARIABLES:
        colour = theme.variables[variable]
        for ground in grounds:
            assert ground is not None
            assert contrast_ratio(colour, ground) >= 4.5, (variable, ground)
        assert theme.background is not None
        assert contrast_ratio(colour, theme.background) >= 7.0, variable


def test_every_bundled_theme_keeps_state_colours_readable() -> None:
    for theme in bundled().values():
        assert theme.background is not None and theme.foreground is not None
        assert contrast_ratio(theme.foreground, theme.background) >= 7.0, theme.name
        for variable in CORRAL_VARIABLES:
            ratio = contrast_ratio(theme.variables[variable], theme.background)
            assert ratio >= 4.5, (theme.name, variable, ratio)


# --- the user's folder --------------------------------------------------------------------------


def test_bad_user_themes_are_reported_with_file_and_key_and_skipped(tmp_path: Path) -> None:
    folder = write(
        tmp_path / "themes",
        {
            "good.toml": GOOD,
            "colour.toml": 'name = "colour"\nprimary = "#123"\naccent = "#ggg"\n',
            "unknown.toml": 'name = "unknown"\nprimary = "red"\ncolour = "blue"\n',
            "broken.toml": 'name = "broken\nprimary = "red"\n',
            "nameless.toml": 'primary = "red"\n',
            "notes.txt": "not a theme",
        },
    )
    theme_set = load_themes(folder)

    assert theme_set.names == (*BUNDLED, "mine")
    problems = sorted(theme_set.problems)
    assert len(problems) == 4
    broken, colour, nameless, unknown = problems
    assert broken.startswith(f"{folder / 'broken.toml'}:1: is not valid TOML")
    assert colour.startswith(f'{folder / "colour.toml"}:3: accent: is "#ggg", not a colour')
    assert unknown.startswith(f"{folder / 'unknown.toml'}:3: colour: is not a known key")
    assert nameless.startswith(f"{folder / 'nameless.toml'}: name: is missing")
    for problem in problems:
        assert problem.endswith("; the theme was skipped.")
        assert problem.count(". ") == 0  # one sentence each


def test_problems_name_the_key_inside_variables(tmp_path: Path) -> None:
    text = GOOD + (
        "[variables]\n"
        'agent-workin = "green"\n'
        'agent-idle = "gren"\n'
        'border = "#ffffff 50%"\n'
        'block-cursor-text-style = "blod"\n'
        "conflict = 3\n"
    )
    theme, problems = parse_theme(text, "mine.toml", {})
    assert theme is None
    assert [problem.split(": ")[0:2] for problem in problems] == [
        ["mine.toml:5", "variables.agent-workin"],
        ["mine.toml:6", "variables.agent-idle"],
        ["mine.toml:8", "variables.block-cursor-text-style"],
        ["mine.toml:9", "variables.conflict"],
        ["mine.toml:4", "variables"],
    ]
    assert 'did you mean "agent-working"?' in problems[0]
    assert 'did you mean "green"?' in problems[1]


def test_a_user_theme_inherits_missing_state_colours_from_the_default(tmp_path: Path) -> None:
    folder = write(tmp_path, {"mine.toml": GOOD + '[variables]\nagent-working = "#00ff00"\n'})
    theme_set = load_themes(folder)
    mine, dark = theme_set.get("mine"), theme_set.get(DEFAULT_THEME)
    assert mine is not None and dark is not None
    assert mine.variables["agent-working"] == "#00ff00"
    assert mine.variables["agent-needs-input"] == dark.variables["agent-needs-input"]
    assert set(CORRAL_VARIABLES) <= set(mine.variables)
    assert mine.dark is False and mine.primary == "#336699"


def test_a_user_theme_replaces_a_bundled_one_of_its_name_but_not_another_users(
    tmp_path: Path,
) -> None:
    folder = write(
        tmp_path,
        {
            "a.toml": 'name = "corral-light"\nprimary = "#000080"\n',
            "b.toml": GOOD,
            "c.toml": GOOD.replace("#336699", "#ff0000"),
        },
    )
    theme_set = load_themes(folder)
    assert theme_set.names.count("corral-light") == 1
    light = theme_set.get("corral-light")
    mine = theme_set.get("mine")
    assert light is not None and light.primary == "#000080"
    assert mine is not None and mine.primary == "#336699"
    assert theme_set.problems == (
        f'{folder / "c.toml"}: name: is "mine", the name of the theme already loaded from '
        f"{folder / 'b.toml'}; the theme was skipped.",
    )


def test_the_user_folder_follows_xdg_config_home(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    assert user_theme_dir() == tmp_path / "config" / "corral" / "themes"
    write(user_theme_dir(), {"mine.toml": GOOD})
    assert "mine" in load_themes().names


def test_a_missing_user_folder_is_no_problem(tmp_path: Path) -> None:
    assert load_themes(tmp_path / "absent").problems == ()


def test_the_bundled_folder_is_the_one_in_the_package() -> None:
    assert Path(str(bundled_theme_dir())) == THEME_FOLDER


# --- using them in the app ----------------------------------------------------------------------


def test_register_makes_every_theme_available_to_the_app(tmp_path: Path) -> None:
    app: App[None] = App()
    theme_set = load_themes(write(tmp_path, {"mine.toml": GOOD}))
    register(app, theme_set)
    for name in (*BUNDLED, "mine"):
        theme = app.get_theme(name)
        assert theme is not None and theme is theme_set.get(name)


def test_textual_themes_borrow_the_default_state_colours() -> None:
    theme_set = load_themes(Path("/nonexistent"))
    defaults = variable_defaults(theme_set)
    dark = theme_set.get(DEFAULT_THEME)
    assert dark is not None
    assert defaults == {key: dark.variables[key] for key in CORRAL_VARIABLES}


def test_resolve_theme_falls_back_to_the_default_with_a_sentence(tmp_path: Path) -> None:
    names = ("corral-dark", "corral-light")
    assert resolve_theme("corral-light", names) == ("corral-light", None)
    chosen, problem = resolve_theme("solarized", names, tmp_path / "config.toml")
    assert chosen == "corral-dark"
    assert problem == (
        f'{tmp_path / "config.toml"}: theme: "solarized" is not a known theme '
        "(known: corral-dark, corral-light), so corral-dark is shown."
    )
    assert resolve_theme("x", ("mine",))[0] == "mine"


def test_next_theme_cycles_and_wraps() -> None:
    names = ("a", "b", "c")
    assert next_theme(names, "a") == "b"
    assert next_theme(names, "c") == "a"
    assert next_theme(names, "gone") == "a"
    assert next_theme((), "a") == "a"


# --- saving the choice --------------------------------------------------------------------------

CONFIG = """\
# my corral settings

theme = 'corral-light'   # easier on the eyes in the afternoon
[keys]
quit = "ctrl+q"  # q alone is too easy to hit

[notifications]
bell = false
"""


def test_saving_replaces_only_the_theme_line(tmp_path: Path) -> None:
    path = tmp_path / "config.toml"
    path.write_bytes(CONFIG.encode())
    assert save_theme_choice("corral-high-contrast", path) == path
    after = path.read_bytes().decode()
    assert parse_user_settings(after, str(path)).theme == "corral-high-contrast"
    assert _all_but_theme(after) == _all_but_theme(CONFIG)
    assert _theme_line(after).endswith("   # easier on the eyes in the afternoon")
    assert [p.name for p in tmp_path.iterdir()] == ["config.toml"]  # no temporary file left


def _theme_line(text: str) -> str:
    return next(line for line in text.splitlines() if line.startswith("theme"))


def _all_but_theme(text: str) -> list[str]:
    """Every other line, byte for byte: the value's quoting is the TOML writer's to choose."""
    return [line for line in text.splitlines(keepends=True) if not line.startswith("theme")]


# Where the new line goes is corral's choice and is pinned byte for byte; how its value is
# quoted is tomlkit's, so the expected line is built with the same call corral makes.
THEME_LINE = "<theme line>"


@pytest.mark.parametrize(
    ("before", "after"),
    [
        (
            "# my corral settings\n\n[keys]\nquit = 'ctrl+q'\n",
            "# my corral settings\n<theme line>\n\n[keys]\nquit = 'ctrl+q'\n",
        ),
        (
            "# the keys I changed\n[keys]\nquit = 'ctrl+q'\n",
            "<theme line>\n# the keys I changed\n[keys]\nquit = 'ctrl+q'\n",
        ),
        (
            "[notifications]\r\nbell = false\r\n",
            "<theme line>\r\n[notifications]\r\nbell = false\r\n",
        ),
        ("# only a comment", "# only a comment\n<theme line>\n"),
        ("", "<theme line>\n"),
    ],
)
def test_saving_adds_a_theme_line_and_changes_nothing_else(
    tmp_path: Path, before: str, after: str
) -> None:
    path = tmp_path / "config.toml"
    path.write_bytes(before.encode())
    save_theme_choice("mine", path)
    expected = after.replace(THEME_LINE, f"theme = {tomlkit.string('mine').as_string()}")
    assert path.read_bytes() == expected.encode()
    written = path.read_bytes().decode()
    assert parse_user_settings(written, str(path)).theme == "mine"
    assert tomllib.loads(written) == {**tomllib.loads(before), "theme": "mine"}


def test_saving_creates_a_missing_file_and_folder_in_the_user_config(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "xdg"))
    path = save_theme_choice("corral-light")
    assert path == tmp_path / "xdg" / "corral" / "config.toml"
    text = path.read_text()
    assert tomllib.loads(text) == {"theme": "corral-light"}
    assert text.splitlines(keepends=True) == [_theme_line(text) + "\n"]  # that line, nothing else


def test_saving_refuses_a_broken_file_and_leaves_it_untouched(tmp_path: Path) -> None:
    path = tmp_path / "config.toml"
    broken = b'theme = "corral-dark"\n[keys\nquit = "q"\n'
    path.write_bytes(broken)
    with pytest.raises(ThemeChoiceError, match="is not valid TOML") as caught:
        save_theme_choice("corral-light", path)
    assert str(caught.value).startswith(str(path))
    assert "left it untouched" in str(caught.value)
    assert path.read_bytes() == broken
    assert [p.name for p in tmp_path.iterdir()] == ["config.toml"]


def test_saving_refuses_a_theme_table_and_a_bad_name(tmp_path: Path) -> None:
    path = tmp_path / "config.toml"
    path.write_text('[theme]\nname = "x"\n')
    with pytest.raises(ThemeChoiceError, match="theme: is a table, not a theme name"):
        save_theme_choice("corral-light", path)
    assert path.read_text() == '[theme]\nname = "x"\n'
    with pytest.raises(ThemeChoiceError, match="no spaces or commas"):
        save_theme_choice("corral-dark,corral-light", tmp_path / "other.toml")
    assert not (tmp_path / "other.toml").exists()


def test_saving_keeps_the_file_mode_and_writes_through_a_symlink(tmp_path: Path) -> None:
    real = tmp_path / "dotfiles" / "corral.toml"
    real.parent.mkdir()
    real.write_text(CONFIG)
    real.chmod(0o640)
    link = tmp_path / "config.toml"
    link.symlink_to(real)
    save_theme_choice("corral-dark", link)
    assert link.is_symlink()
    assert parse_user_settings(real.read_text(), str(real)).theme == "corral-dark"
    assert stat.S_IMODE(real.stat().st_mode) == 0o640
