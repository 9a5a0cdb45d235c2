"""corral's themes: the bundled TOML files and the user's own, checked before Textual sees them.

A theme file is written by hand, and Textual's `Theme` accepts any string and fails only when
the CSS is rebuilt, which would take the dashboard down in the middle of supervising. So every
file is checked here first: a bad one becomes one sentence in `ThemeSet.problems` (file, line,
key, what is wrong) and is skipped, and the herd is still shown in the themes that loaded.

Agent states and herd warnings are theme variables (`$agent-needs-input`, `$conflict`, ...),
so the app's styles never hard-code a colour. A user theme may leave them out and inherit the
ones of corral-dark, the default; the bundled themes each define all of them.

The bundled files live in `themes/` at the top of the repository and ship in the wheel as the
package `tui.bundled_themes`.
"""

from __future__ import annotations

import difflib
import functools
import json
import re
import tomllib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from importlib import resources
from importlib.resources.abc import Traversable
from pathlib import Path
from typing import Any

import tomlkit
from textual.app import App
from textual.color import Color, ColorParseError
from textual.css.stylesheet import Stylesheet, StylesheetParseError
from textual.theme import Theme
from tomlkit.exceptions import TOMLKitError

from sessions.adapters.atomic import write_atomically
from sessions.adapters.toml_check import Locator, describe, key_name
from sessions.adapters.user_settings import user_config_path
from sessions.core.errors import ConfigError, CorralError
from sessions.core.model import State, UserSettings

DEFAULT_THEME = UserSettings().theme
"""The theme shown when the user chose none; it also lends its state colours to user themes."""
BUNDLED_ORDER: tuple[str, ...] = (DEFAULT_THEME, "corral-light", "corral-high-contrast")
"""The order `t` steps through them: dark, light, then the one for when neither is enough."""

STATE_VARIABLES: tuple[str, ...] = tuple(
    f"agent-{state.value.replace('_', '-')}" for state in State
)
HERD_VARIABLES: tuple[str, ...] = ("conflict", "lock-stale")
CORRAL_VARIABLES: tuple[str, ...] = STATE_VARIABLES + HERD_VARIABLES

COLOUR_KEYS: tuple[str, ...] = (
    "primary",
    "secondary",
    "accent",
    "foreground",
    "background",
    "surface",
    "panel",
    "boost",
    "success",
    "warning",
    "error",
)
THEME_KEYS: tuple[str, ...] = ("name", "dark", *COLOUR_KEYS, "variables")
REQUIRED_KEYS: tuple[str, ...] = ("name", "primary")

# Textual reads `App.theme = "a,b"` as "a, else b", so a comma (or a space) in a name would make
# the saved choice mean something else.
NAME_PATTERN = re.compile(r"[^\s,]+\Z")

SKIPPED = "; the theme was skipped"
COLOUR_HINT = 'write "#rrggbb", "rgb(r, g, b)" or a colour name such as "tomato"'


class ThemeChoiceError(CorralError):
    """The theme choice could not be saved; the message says why and what to do."""


@dataclass(frozen=True)
class ThemeSet:
    """Every theme that loaded, in `t` order, and one sentence per problem found on the way."""

    themes: tuple[Theme, ...]
    problems: tuple[str, ...]

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(theme.name for theme in self.themes)

    def get(self, name: str) -> Theme | None:
        return next((theme for theme in self.themes if theme.name == name), None)


# --- the names styles use -----------------------------------------------------------------------


def state_variable(state_value: str) -> str:
    """The theme variable for a state, so styles say `$agent-needs-input` and never a colour."""
    try:
        state = State(state_value)
    except ValueError:
        known = ", ".join(state.value for state in State)
        raise ValueError(f"{state_value!r} is not an agent state: known are {known}") from None
    return f"agent-{state.value.replace('_', '-')}"


def contrast_ratio(first: str, second: str) -> float:
    """WCAG 2 contrast between two colours (1 to 21); a translucent `first` is laid on `second`.

    Themes promise readable state colours, and this is how the promise is measured.
    """
    front, back = Color.parse(first), Color.parse(second).with_alpha(1.0)
    if front.a < 1.0:
        front = back.blend(front.with_alpha(1.0), front.a)
    lighter, darker = sorted((_luminance(front), _luminance(back)), reverse=True)
    return (lighter + 0.05) / (darker + 0.05)


def _luminance(colour: Color) -> float:
    def linear(channel: int) -> float:
        value = channel / 255
        return value / 12.92 if value <= 0.04045 else ((value + 0.055) / 1.055) ** 2.4

    red, green, blue = colour.rgb
    return 0.2126 * linear(red) + 0.7152 * linear(green) + 0.0722 * linear(blue)


# --- loading ------------------------------------------------------------------------------------


def bundled_theme_dir() -> Traversable:
    """Through importlib.resources, so an installed wheel and an editable checkout both work."""
    return resources.files("tui.bundled_themes")


def user_theme_dir() -> Path:
    """Beside the user config, so `$XDG_CONFIG_HOME` moves both together."""
    return user_config_path().parent / "themes"


def load_themes(user_dir: Path | None = None) -> ThemeSet:
    """Bundled themes first (in `BUNDLED_ORDER`), then the user's, sorted by file name.

    A user theme with a bundled theme's name replaces it in place: that is how a user adjusts
    corral-dark without renaming it.
    """
    problems: list[str] = []
    bundled = sorted(
        (entry for entry in bundled_theme_dir().iterdir() if _is_theme_file(entry)),
        key=lambda entry: (_rank(entry.name.removesuffix(".toml")), entry.name),
    )
    themes: dict[str, Theme] = {}
    origins: dict[str, str] = {}
    defaults: Mapping[str, str] = {}
    for entry in bundled:
        theme = _load_file(entry, defaults, problems)
        if theme is not None:
            themes.setdefault(theme.name, theme)
            origins.setdefault(theme.name, "")
            if theme.name == DEFAULT_THEME:
                defaults = {key: theme.variables[key] for key in CORRAL_VARIABLES}
    folder = user_theme_dir() if user_dir is None else user_dir
    for entry in _user_files(folder, problems):
        theme = _load_file(entry, defaults, problems)
        if theme is None:
            continue
        if origins.get(theme.name):
            problems.append(
                f"{entry}: name: is {json.dumps(theme.name)}, the name of the theme already "
                f"loaded from {origins[theme.name]}{SKIPPED}."
            )
            continue
        themes[theme.name] = theme
        origins[theme.name] = str(entry)
    return ThemeSet(tuple(themes.values()), tuple(problems))


def _rank(name: str) -> int:
    return BUNDLED_ORDER.index(name) if name in BUNDLED_ORDER else len(BUNDLED_ORDER)


def _is_theme_file(entry: Traversable) -> bool:
    """Dot files are editors' scratch copies, not themes."""
    return entry.name.endswith(".toml") and not entry.name.startswith(".") and entry.is_file()


def _user_files(folder: Path, problems: list[str]) -> list[Path]:
    try:
        return sorted(entry for entry in folder.iterdir() if _is_theme_file(entry))
    except FileNotFoundError:
        return []
    except OSError as error:
        problems.append(f"{folder}: cannot be read as a theme folder ({error.strerror}).")
        return []


def _load_file(
    entry: Traversable, defaults: Mapping[str, str], problems: list[str]
) -> Theme | None:
    try:
        text = entry.read_bytes().decode("utf-8")
    except UnicodeDecodeError as error:
        problems.append(f"{entry}: is not UTF-8 text ({error.reason}){SKIPPED}.")
        return None
    except OSError as error:
        problems.append(f"{entry}: cannot be read ({error.strerror}){SKIPPED}.")
        return None
    theme, found = parse_theme(text, str(entry), defaults)
    problems.extend(found)
    return theme


def parse_theme(
    text: str, path: str, defaults: Mapping[str, str]
) -> tuple[Theme | None, tuple[str, ...]]:
    """A Theme, or None and every problem found, so one fix-and-reload cycle fixes them all."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        return None, (_syntax_problem(str(error), path),)
    check = _Check(path, Locator(text))
    for key in data:
        if key not in THEME_KEYS:
            check.unknown((key,), THEME_KEYS)
    for key in REQUIRED_KEYS:
        if key not in data:
            example = '"my-dark"' if key == "name" else '"#4c9bf0"'
            check.fail((key,), f"is missing: every theme needs one, such as {key} = {example}")
    name = data.get("name")
    if "name" in data and not (isinstance(name, str) and NAME_PATTERN.match(name)):
        check.fail(
            ("name",),
            f'is {describe(name)}: write a name without spaces or commas, such as "my-dark"',
        )
    colours = {key: check.colour((key,), data[key]) for key in COLOUR_KEYS if key in data}
    dark = data.get("dark", True)
    if not isinstance(dark, bool):
        check.fail(("dark",), f"is {describe(dark)}: write true or false")
    variables = _variables(check, data.get("variables", {}), defaults)
    if check.problems:
        return None, tuple(check.problems)
    assert isinstance(name, str)
    return (
        Theme(
            name=name,
            primary=colours["primary"],
            secondary=colours.get("secondary"),
            accent=colours.get("accent"),
            foreground=colours.get("foreground"),
            background=colours.get("background"),
            surface=colours.get("surface"),
            panel=colours.get("panel"),
            boost=colours.get("boost"),
            success=colours.get("success"),
            warning=colours.get("warning"),
            error=colours.get("error"),
            dark=dark,
            variables=variables,
        ),
        (),
    )


_TOML_POSITION = re.compile(r"\s*\(at line (\d+), column (\d+)\)")


def _syntax_problem(message: str, path: str) -> str:
    """tomllib puts the position at the end; the line goes up front, as in every other problem."""
    if match := _TOML_POSITION.search(message):
        where = f"{path}:{match[1]}"
        message = f"{message[: match.start()]} at column {match[2]}"
    else:
        where = path
    return f"{where}: is not valid TOML ({message}){SKIPPED}."


def _variables(check: _Check, value: object, defaults: Mapping[str, str]) -> dict[str, str]:
    """corral's own variables must be colours. Textual's own (`border`, `text-muted`,
    `block-cursor-text-style`, ...) are tried in a one-rule stylesheet, because a value Textual
    cannot parse would otherwise fail only when the theme is switched on. Any other name is a
    typo that nothing reads, so it is reported like an unknown key."""
    if not isinstance(value, dict):
        check.fail(("variables",), f"is {describe(value)}: write a [variables] table")
        return {}
    variables: dict[str, str] = {}
    for key, text in value.items():
        where = ("variables", key)
        if key in CORRAL_VARIABLES:
            variables[key] = check.colour(where, text)
        elif key not in _textual_variables():
            names = [*CORRAL_VARIABLES, *sorted(_textual_variables())]
            close = difflib.get_close_matches(key, names, n=1)
            hint = f' (did you mean "{close[0]}"?)' if close else ""
            check.fail(
                where,
                f"is not a variable corral or Textual reads{hint}: "
                f"corral's are {', '.join(CORRAL_VARIABLES)}",
            )
        elif not isinstance(text, str):
            check.fail(where, f"is {describe(text)}: a theme variable is a string")
        elif problem := _css_problem(key, text):
            check.fail(where, f"is {json.dumps(text)}, which Textual cannot use: {problem}")
        else:
            variables[key] = text
    lacking = [key for key in CORRAL_VARIABLES if key not in variables and key not in defaults]
    if lacking:
        check.fail(
            ("variables",),
            f"lacks {', '.join(lacking)}, and {DEFAULT_THEME}, which would lend them, did not load",
        )
    return {**{key: defaults[key] for key in CORRAL_VARIABLES if key in defaults}, **variables}


@functools.cache
def _textual_variables() -> frozenset[str]:
    """The variables Textual itself derives for a theme, from the installed version."""
    return frozenset(Theme(name="reference", primary="#000000").to_color_system().generate())


def _css_problem(name: str, value: str) -> str | None:
    """Textual's own parser decides, on the property kind the variable is made for."""
    style = "style" in name.split("-")
    sheet = Stylesheet(variables={"value": value})
    sheet.add_source(f"Widget {{ {'text-style' if style else 'color'}: $value; }}", ("theme", ""))
    try:
        sheet.parse()
    except StylesheetParseError:
        if style:
            return 'write style words such as "bold" or "bold not underline"'
        return f'{COLOUR_HINT}, optionally followed by an opacity such as "50%"'
    return None


@dataclass
class _Check:
    """Collects problems of one file, each pointing at the line its key stands on."""

    path: str
    locator: Locator
    problems: list[str] = field(default_factory=list)

    def fail(self, where: tuple[str, ...], problem: str) -> None:
        line = self.locator.line_of(where)
        self.problems.append(f"{ConfigError(self.path, line, key_name(where), problem)}{SKIPPED}.")

    def unknown(self, where: tuple[str, ...], allowed: Sequence[str]) -> None:
        close = difflib.get_close_matches(where[-1], allowed, n=1)
        hint = f' (did you mean "{close[0]}"?)' if close else ""
        self.fail(where, f"is not a known key{hint}: allowed are {', '.join(allowed)}")

    def colour(self, where: tuple[str, ...], value: object) -> str:
        if not isinstance(value, str):
            self.fail(where, f"is {describe(value)}, not a colour: {COLOUR_HINT}")
            return ""
        try:
            Color.parse(value)
        except ColorParseError as error:
            suggestion = error.suggested_color
            hint = f' (did you mean "{suggestion}"?)' if suggestion else ""
            self.fail(where, f"is {json.dumps(value)}, not a colour{hint}: {COLOUR_HINT}")
        return value


# --- using them in the app ----------------------------------------------------------------------


def register(app: App[Any], theme_set: ThemeSet) -> None:
    """Register every loaded theme; a later one with a taken name replaces the earlier one."""
    for theme in theme_set.themes:
        app.register_theme(theme)


def variable_defaults(theme_set: ThemeSet) -> dict[str, str]:
    """For `App.get_theme_variable_defaults`: Textual's own themes know nothing of `$agent-*`,
    and CSS naming an undefined variable fails to parse, so they borrow the default's."""
    theme = theme_set.get(DEFAULT_THEME)
    if theme is None:
        return {}
    return {key: theme.variables[key] for key in CORRAL_VARIABLES if key in theme.variables}


def resolve_theme(
    wanted: str, names: Sequence[str], path: Path | None = None
) -> tuple[str, str | None]:
    """The theme to show for the user's saved choice, and a sentence when it is not there.

    sessions/ cannot know which themes exist (it never imports textual), so the check of the
    config's `theme` happens here, and a missing one falls back instead of stopping the app.
    """
    if wanted in names:
        return wanted, None
    fallback = DEFAULT_THEME if DEFAULT_THEME in names or not names else names[0]
    where = user_config_path() if path is None else path
    known = ", ".join(names) or "none loaded"
    return fallback, (
        f"{where}: theme: {json.dumps(wanted)} is not a known theme (known: {known}), "
        f"so {fallback} is shown."
    )


def next_theme(names: Sequence[str], current: str) -> str:
    """The theme after `current`, wrapping; the first one when `current` is not among them."""
    if not names:
        return current
    if current not in names:
        return names[0]
    return names[(list(names).index(current) + 1) % len(names)]


# --- saving the choice --------------------------------------------------------------------------


def save_theme_choice(name: str, path: Path | None = None) -> Path:
    """Write `theme = "<name>"` into the user config, leaving every other byte as it was.

    The file is the user's: comments and layout stay, a file that is not valid TOML is refused
    rather than overwritten, and the new text replaces the old in one `os.replace`, so a crash
    leaves either the old file or the new one. A symlinked config (dotfile managers) is written
    through the link. Returns the path written.
    """
    target = user_config_path() if path is None else path
    if not NAME_PATTERN.match(name):
        raise ThemeChoiceError(
            f"{json.dumps(name)} cannot be saved as a theme: a theme name has no spaces or commas."
        )
    real = target.resolve() if target.is_symlink() else target
    try:
        old = real.read_bytes().decode("utf-8")
    except FileNotFoundError:
        old = ""
    except UnicodeDecodeError as error:
        raise ThemeChoiceError(
            f"{target} is not UTF-8 text ({error.reason}), so the theme choice was not saved: "
            "fix or remove the file, then choose the theme again."
        ) from error
    except OSError as error:
        raise ThemeChoiceError(
            f"{target} cannot be read ({error.strerror}), so the theme choice was not saved."
        ) from error
    new = with_theme(old, name, target)
    if new != old:
        try:
            real.parent.mkdir(parents=True, exist_ok=True)
            write_atomically(real, new.encode("utf-8"))
        except OSError as error:
            raise ThemeChoiceError(
                f"{target} cannot be written ({error.strerror}), so the theme choice was not saved."
            ) from error
    return target


def with_theme(text: str, name: str, path: Path) -> str:
    """The config text with its top-level `theme` set to `name`; `path` only names it in errors."""
    try:
        tomllib.loads(text)
        document = tomlkit.parse(text)
    except (tomllib.TOMLDecodeError, TOMLKitError) as error:
        raise ThemeChoiceError(
            f"{path} is not valid TOML ({error}), so corral left it untouched and did not save "
            "the theme: fix the file, then choose the theme again."
        ) from error
    if "theme" in document:
        current = document["theme"]
        if not isinstance(current, str):
            raise ThemeChoiceError(
                f"{path}: theme: is {describe(current.unwrap())}, not a theme name, so the "
                'choice was not saved: make it a line such as theme = "corral-dark".'
            )
        document["theme"] = name
        new = tomlkit.dumps(document)
    else:
        new = _insert_line(text, f"theme = {tomlkit.string(name).as_string()}")
    if tomllib.loads(new).get("theme") != name:  # a guard: never write a file that lies
        raise ThemeChoiceError(f"{path}: theme: could not be set to {json.dumps(name)}.")
    return new


def _insert_line(text: str, line: str) -> str:
    """A new top-level key goes at the top, or below a header comment that a blank line ends.

    tomlkit would put it before the first table and add a blank line there; inserting the line
    by hand changes nothing else in the file, and a line before any table is always top-level.
    """
    newline = "\r\n" if "\r\n" in text else "\n"
    lines = text.splitlines(keepends=True)
    at = len(lines)
    for index, current in enumerate(lines):
        stripped = current.strip()
        if stripped.startswith("#"):
            continue
        at = index if not stripped else 0
        break
    if at and not lines[at - 1].endswith(("\n", "\r")):
        lines[at - 1] += newline
    lines.insert(at, line + newline)
    return "".join(lines)
