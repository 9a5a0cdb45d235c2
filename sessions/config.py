"""Reading corral.toml and the user's settings into frozen values.

Users write these files by hand and mistype, so nothing is ignored silently: an unknown key, a
wrong type or an impossible value is a `ConfigError` naming the file, the line and the key, with
a sentence that says what is allowed. tomllib keeps no positions, so a small `Locator` reads the
source text again to find the line a key stands on.

Keys inside agents are written `agent[N].key`, N counting `[[agent]]` entries from 1 as a reader
counts them in the file, so the same spelling works for an agent whose name is missing or bad.

Reading uses tomllib; writing a config back (keeping the user's comments) is tomlkit's job.
"""

from __future__ import annotations

import difflib
import json
import math
import os
import re
import shlex
import tomllib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from enum import StrEnum
from pathlib import Path
from typing import TypeVar

from sessions.errors import ConfigError
from sessions.model import (
    NAME_PATTERN,
    AgentSpec,
    Config,
    Kind,
    Restart,
    UserSettings,
)
from sessions.prices import PriceError, PriceTable
from sessions.rules import TELL_MODES, Backoff, CoordinationRules, SummaryRules

CONFIG_NAME = "corral.toml"
DEFAULT_WORKTREES = "../{repo}.corral"
WORKTREE_PLACEHOLDERS = ("repo",)

TOP_KEYS = (
    "base",
    "worktrees",
    "width",
    "height",
    "backoff",
    "prices",
    "roles",
    "locks",
    "notes",
    "conflicts",
    "summaries",
    "agent",
)
ROLE_KEYS = ("window_minutes", "builder_share", "builder_files", "stall_minutes", "coordination")
LOCK_KEYS = ("dirs", "done_dirs", "stale_minutes", "idle_minutes")
NOTE_KEYS = ("files", "max_lines", "fast_growth", "quiet_days")
CONFLICT_KEYS = ("tell",)
SUMMARY_KEYS = (
    "enabled",
    "model",
    "hourly_cap",
    "on_change",
    "every_minutes",
    "input_tokens",
    "away_minutes",
    "redact",
    "timeout",
)
BACKOFF_KEYS = ("clean", "failure", "crash_runs", "crash_seconds")
# Under Linux's 128 KiB limit on one word of a command line or environment, with room to spare.
MAX_PROMPT_BYTES = 100_000
AGENT_KEYS = ("name", "kind", "command", "args", "prompt", "prompt_file", "restart", "env")
REQUIRED_AGENT_KEYS = ("name", "kind")

USER_KEYS = ("theme", "keys", "notifications")
NOTIFICATION_KEYS = ("bell", "desktop", "notify_send")

WIDTH_RANGE = (40, 1000)
HEIGHT_RANGE = (10, 500)
INPUT_TOKEN_RANGE = (500, 200_000)
SUMMARY_TIMEOUT_MAX = 600.0
ENV_NAME_PATTERN = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")

KeyPath = tuple[str | int, ...]
E = TypeVar("E", bound=StrEnum)


# --- where a key stands -------------------------------------------------------------------------

_KEY_PART = r"""(?:[A-Za-z0-9_-]+|"(?:[^"\\]|\\.)*"|'[^']*')"""
_DOTTED_KEY = rf"{_KEY_PART}(?:\s*\.\s*{_KEY_PART})*"
_ARRAY_HEADER = re.compile(rf"\s*\[\[\s*({_DOTTED_KEY})\s*\]\]")
_TABLE_HEADER = re.compile(rf"\s*\[\s*({_DOTTED_KEY})\s*\]")
_KEY_LINE = re.compile(rf"\s*({_DOTTED_KEY})\s*=")


def _key_parts(dotted: str) -> tuple[str, ...]:
    """Split a dotted TOML key; quoted parts are decoded by tomllib itself to get escapes right."""
    parts = re.findall(_KEY_PART, dotted)
    return tuple(tomllib.loads(f"k = {p}")["k"] if p[0] in "\"'" else p for p in parts)


@dataclass
class _Scan:
    """What carries from one line to the next: an open multi-line string, open brackets."""

    string: str | None = None
    depth: int = 0

    def feed(self, line: str, start: int = 0) -> None:
        i = start
        while i < len(line):
            if self.string is not None:
                i = self._in_multiline(line, i)
                continue
            char = line[i]
            if char == "#":
                return
            if line.startswith(('"""', "'''"), i):
                self.string = line[i : i + 3]
                i += 3
            elif char in "\"'":
                i = _string_end(line, i)
            else:
                self.depth += (char in "[{") - (char in "]}")
                i += 1

    def _in_multiline(self, line: str, i: int) -> int:
        assert self.string is not None
        if self.string == '"""' and line[i] == "\\":
            return i + 2
        if not line.startswith(self.string, i):
            return i + 1
        i += 3
        while i < len(line) and line[i] == self.string[0]:
            i += 1
        self.string = None
        return i


def _string_end(line: str, start: int) -> int:
    quote = line[start]
    i = start + 1
    while i < len(line) and line[i] != quote:
        i += 2 if quote == '"' and line[i] == "\\" else 1
    return i + 1


class Locator:
    """Maps key paths of a valid TOML document to the 1-based line each one stands on.

    A path such as `("agent", 1, "env", "HOME")` (array elements counted from 0) is looked up
    as given, then by ever shorter prefixes: a key inside an inline table resolves to the line
    of the table, and a missing key to the header of the table that should have held it.
    """

    def __init__(self, text: str) -> None:
        self._lines: dict[KeyPath, int] = {}
        self._arrays: dict[KeyPath, int] = {}
        table: KeyPath = ()
        scan = _Scan()
        for number, line in enumerate(text.split("\n"), start=1):
            if scan.string is not None or scan.depth:
                scan.feed(line)
            elif match := _ARRAY_HEADER.match(line):
                table = self._new_element(_key_parts(match[1]))
                self._record(table, number)
            elif match := _TABLE_HEADER.match(line):
                table = self._resolve(_key_parts(match[1]))
                self._record(table, number)
            elif match := _KEY_LINE.match(line):
                self._record(table + _key_parts(match[1]), number)
                scan.feed(line, match.end())
            else:
                scan.feed(line)

    def line_of(self, path: KeyPath) -> int | None:
        for end in range(len(path), 0, -1):
            if path[:end] in self._lines:
                return self._lines[path[:end]]
        return None

    def _resolve(self, keys: tuple[str, ...]) -> KeyPath:
        path: KeyPath = ()
        for key in keys:
            path += (key,)
            if path in self._arrays:
                path += (self._arrays[path],)
        return path

    def _new_element(self, keys: tuple[str, ...]) -> KeyPath:
        array = (*self._resolve(keys[:-1]), keys[-1])
        self._arrays[array] = self._arrays.get(array, -1) + 1
        return (*array, self._arrays[array])

    def _record(self, path: KeyPath, number: int) -> None:
        for end in range(1, len(path) + 1):
            self._lines.setdefault(path[:end], number)


def key_name(path: KeyPath) -> str:
    """Spell a key path the way errors show it: `agent[2].env.HOME`, counting from 1."""
    text = ""
    for part in path:
        text += f"[{part + 1}]" if isinstance(part, int) else f".{part}" if text else part
    return text


# --- checking values ----------------------------------------------------------------------------


@dataclass(frozen=True)
class _Document:
    path: str
    locator: Locator

    def error(self, where: KeyPath, problem: str) -> ConfigError:
        return ConfigError(self.path, self.locator.line_of(where), key_name(where) or None, problem)


def _describe(value: object) -> str:
    if isinstance(value, bool):
        return f"the boolean {json.dumps(value)}"
    if isinstance(value, int):
        return f"the integer {value}"
    if isinstance(value, float):
        return f"the number {value}"
    if isinstance(value, str):
        return f"the string {json.dumps(value)}"
    if isinstance(value, list):
        return "an array"
    if isinstance(value, dict):
        return "a table"
    return "a date or time"


def _allowed(names: Sequence[str]) -> str:
    return ", ".join(names)


@dataclass(frozen=True)
class _Section:
    """One table of a document, so every check on its keys can point at their lines."""

    doc: _Document
    where: KeyPath
    values: Mapping[str, object]

    def error(self, key: str | None, problem: str) -> ConfigError:
        return self.doc.error(self.where if key is None else (*self.where, key), problem)

    def check_keys(self, allowed: Sequence[str]) -> None:
        for key in self.values:
            if key not in allowed:
                close = difflib.get_close_matches(key, allowed, n=1)
                hint = f' (did you mean "{close[0]}"?)' if close else ""
                raise self.error(key, f"is not a known key{hint}: allowed are {_allowed(allowed)}")

    def require(self, keys: Sequence[str]) -> None:
        for key in keys:
            if key not in self.values:
                needs = " and ".join(f"a {name}" for name in keys)
                raise self.error(key, f"is missing: every {key_name(self.where[:1])} needs {needs}")

    def typed(self, key: str, kind: type | tuple[type, ...], expected: str) -> object:
        """The value if present and of the kind; bools never pass for numbers (TOML keeps them
        apart, Python does not)."""
        value = self.values.get(key)
        if value is None:
            return None
        kinds = kind if isinstance(kind, tuple) else (kind,)
        if not isinstance(value, kinds) or (isinstance(value, bool) and bool not in kinds):
            raise self.error(key, f"must be {expected}, not {_describe(value)}")
        return value

    def text(self, key: str, example: str) -> str | None:
        value = self.typed(key, str, f"a string such as {json.dumps(example)}")
        assert value is None or isinstance(value, str)
        if value is not None and not value.strip():
            raise self.error(key, f"is empty: write a value such as {json.dumps(example)}")
        return value

    def boolean(self, key: str) -> bool | None:
        value = self.typed(key, bool, "true or false")
        assert value is None or isinstance(value, bool)
        return value

    def integer(self, key: str, low: int, high: int) -> int | None:
        value = self.typed(key, int, f"a whole number from {low} to {high}")
        assert value is None or isinstance(value, int)
        if value is not None and not low <= value <= high:
            raise self.error(key, f"is {value}: it must be from {low} to {high}")
        return value

    def positive(self, key: str, whole: bool) -> float | None:
        kinds: tuple[type, ...] = (int,) if whole else (int, float)
        expected = "a whole number above 0" if whole else "a number of seconds above 0"
        value = self.typed(key, kinds, expected)
        assert value is None or isinstance(value, int | float)
        if value is not None and not (value > 0 and math.isfinite(value)):
            raise self.error(key, f"is {value}: it must be {expected}")
        return value

    def choice(self, key: str, enum: type[E]) -> E | None:
        names = [member.value for member in enum]
        value = self.typed(key, str, f"one of {_allowed(names)}")
        if value is None:
            return None
        if value not in names:
            raise self.error(key, f"is {json.dumps(value)}: it must be one of {_allowed(names)}")
        return enum(value)

    def table(self, key: str, example: str) -> _Section | None:
        value = self.typed(key, dict, f"a table such as {example}")
        assert value is None or isinstance(value, dict)
        return None if value is None else _Section(self.doc, (*self.where, key), value)


# --- corral.toml --------------------------------------------------------------------------------


def find_config(root: Path) -> Path | None:
    """The repository's corral.toml; None when there is none, an error when something else
    (a folder, say) has its name, since ignoring it would hide the user's agents."""
    path = root / CONFIG_NAME
    if path.is_file():
        return path
    if path.exists():
        raise ConfigError(
            str(path), None, None, "is not a file: rename or remove it, then write corral.toml"
        )
    return None


def load_config(root: Path) -> Config:
    path = find_config(root)
    if path is None:
        raise ConfigError(
            str(root / CONFIG_NAME),
            None,
            None,
            f"no {CONFIG_NAME} here: run `corral init` or copy config.example.toml",
        )
    return parse_config(_read(path), str(path), root)


def parse_config(text: str, path: str, root: Path) -> Config:
    """Validate the whole file; `root` is the repository root that `prompt_file` is read from."""
    doc, top = _document(text, path)
    top.check_keys(TOP_KEYS)
    base = _base(top)
    worktrees = top.text("worktrees", DEFAULT_WORKTREES)
    if worktrees is not None:
        _check_template(top, "worktrees", worktrees)
    width = top.integer("width", *WIDTH_RANGE)
    height = top.integer("height", *HEIGHT_RANGE)
    backoff = _backoff(top)
    prices = _prices(top)
    rules = _rules(top)
    summaries = _summaries(top)
    agents = tuple(_agent(doc, index, value, root) for index, value in enumerate(_agents(top)))
    _check_unique(doc, agents)
    return Config(
        path=path,
        base=base,
        worktrees=DEFAULT_WORKTREES if worktrees is None else worktrees,
        agents=agents,
        backoff=backoff,
        width=Config.width if width is None else width,
        height=Config.height if height is None else height,
        prices=prices,
        rules=rules,
        summaries=summaries,
    )


def _rules(top: _Section) -> CoordinationRules | None:
    """The coordination tables; None when none is given, so the defaults stay in one place."""
    sections = {
        key: top.table(key, f"[{key}] with its keys below it")
        for key in ("roles", "locks", "notes", "conflicts")
    }
    if not any(sections.values()):
        return None
    rules = CoordinationRules()
    roles, locks, notes = rules.roles, rules.locks, rules.notes
    tell = rules.tell
    if (section := sections["roles"]) is not None:
        section.check_keys(ROLE_KEYS)
        share = section.typed("builder_share", (int, float), "a share from 0 to 1, such as 0.1")
        assert share is None or isinstance(share, int | float)
        if share is not None and not 0 <= share <= 1:
            raise section.error("builder_share", f"is {share}: it must be from 0 to 1")
        roles = replace(
            roles,
            window=_minutes(section, "window_minutes", roles.window),
            builder_share=roles.builder_share if share is None else float(share),
            builder_files=int(section.positive("builder_files", whole=True) or roles.builder_files),
            stall_after=_minutes(section, "stall_minutes", roles.stall_after),
            coordination=_strings(section, "coordination", "notes/*") or roles.coordination,
        )
    if (section := sections["locks"]) is not None:
        section.check_keys(LOCK_KEYS)
        locks = replace(
            locks,
            dirs=_strings(section, "dirs", "current_tasks") or locks.dirs,
            done_dirs=_strings(section, "done_dirs", "completed_tasks") or locks.done_dirs,
            stale_after=_minutes(section, "stale_minutes", locks.stale_after),
            idle_after=_minutes(section, "idle_minutes", locks.idle_after),
        )
    if (section := sections["notes"]) is not None:
        section.check_keys(NOTE_KEYS)
        quiet = section.positive("quiet_days", whole=False)
        notes = replace(
            notes,
            globs=_strings(section, "files", "notes/**/*.md") or notes.globs,
            max_lines=int(section.positive("max_lines", whole=True) or notes.max_lines),
            fast_growth=float(section.positive("fast_growth", whole=False) or notes.fast_growth),
            quiet_after=notes.quiet_after if quiet is None else float(quiet) * 86400.0,
        )
    if (section := sections["conflicts"]) is not None:
        section.check_keys(CONFLICT_KEYS)
        tell = section.text("tell", "warn") or tell
        if tell not in TELL_MODES:
            allowed = _allowed(TELL_MODES)
            raise section.error("tell", f"is {json.dumps(tell)}: it must be one of {allowed}")
    return CoordinationRules(roles=roles, locks=locks, notes=notes, tell=tell)


def _summaries(top: _Section) -> SummaryRules:
    """`[summaries]` over the dataclass defaults, which stay the only place they are written.

    Numbers keep the unit their key names (minutes stay minutes) because the dataclass fields
    carry the same units. Any key naming a key is refused before the unknown-key check, so a
    user who pastes an API key here learns where it belongs instead of getting a spelling hint.
    """
    default = SummaryRules()
    section = top.table("summaries", "[summaries] with enabled = true below it")
    if section is None:
        return default
    for key in section.values:
        if "key" in key.lower() and key not in SUMMARY_KEYS:
            raise section.error(
                key,
                "cannot be set here: the API key comes only from the ANTHROPIC_API_KEY "
                "environment variable, never from a file, so remove this line",
            )
    section.check_keys(SUMMARY_KEYS)
    enabled = section.boolean("enabled")
    on_change = section.boolean("on_change")
    tokens = section.integer("input_tokens", *INPUT_TOKEN_RANGE)
    return replace(
        default,
        enabled=default.enabled if enabled is None else enabled,
        model=section.text("model", default.model) or default.model,
        hourly_cap_usd=_above_zero(section, "hourly_cap", "US dollars") or default.hourly_cap_usd,
        on_change=default.on_change if on_change is None else on_change,
        every_minutes=_above_zero(section, "every_minutes", "minutes") or default.every_minutes,
        input_tokens=default.input_tokens if tokens is None else tokens,
        away_minutes=_above_zero(section, "away_minutes", "minutes") or default.away_minutes,
        redact=_patterns(section, "redact") or default.redact,
        timeout=_above_zero(section, "timeout", "seconds", SUMMARY_TIMEOUT_MAX) or default.timeout,
    )


def _above_zero(section: _Section, key: str, unit: str, most: float | None = None) -> float | None:
    """A finite number above 0 (and at most `most`), kept in `unit`; None when absent."""
    limit = "" if most is None else f" and at most {most:g}"
    expected = f"a number of {unit} above 0{limit}"
    value = section.typed(key, (int, float), expected)
    if value is None:
        return None
    assert isinstance(value, int | float)
    if not (value > 0 and math.isfinite(value)) or (most is not None and value > most):
        raise section.error(key, f"is {value}: it must be {expected}")
    return float(value)


def _patterns(section: _Section, key: str) -> tuple[str, ...]:
    """Regular expressions compiled now, so a typo fails at load and not on the first summary."""
    patterns = _strings(section, key, "corp-[0-9]{6}")
    for pattern in patterns:
        try:
            re.compile(pattern)
        except re.error as error:
            raise section.error(
                key,
                f"holds {json.dumps(pattern)}, which is not a Python regular expression "
                f"({error}); in single quotes a TOML string keeps backslashes as written",
            ) from error
    return patterns


def _minutes(section: _Section, key: str, default: float) -> float:
    value = section.typed(key, (int, float), "a number of minutes above 0")
    if value is None:
        return default
    assert isinstance(value, int | float)
    if not (value > 0 and math.isfinite(value)):
        raise section.error(key, f"is {value}: it must be a number of minutes above 0")
    return float(value) * 60.0


def _strings(section: _Section, key: str, example: str) -> tuple[str, ...]:
    value = section.typed(key, list, f'a list of strings such as ["{example}"]')
    if value is None:
        return ()
    assert isinstance(value, list)
    if not value or not all(isinstance(item, str) and item.strip() for item in value):
        raise section.error(key, f'must be a non-empty list of strings such as ["{example}"]')
    return tuple(value)


def _read(path: Path) -> str:
    try:
        return path.read_bytes().decode("utf-8")
    except UnicodeDecodeError as error:
        raise ConfigError(str(path), None, None, f"is not UTF-8 text ({error.reason})") from error
    except OSError as error:
        raise ConfigError(str(path), None, None, f"cannot be read: {error.strerror}") from error


_TOML_POSITION = re.compile(r"\s*\(at line (\d+), column (\d+)\)\Z")
_TOML_END = " (at end of document)"


def _document(text: str, path: str) -> tuple[_Document, _Section]:
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        raise _syntax_error(str(error), text, path) from error
    except RecursionError as error:
        # tomllib parses nested arrays and inline tables by recursion.
        line = _deep_line(text)
        raise ConfigError(
            path, line, None, "nests arrays or tables too deeply to read: flatten it"
        ) from error
    doc = _Document(path, Locator(text))
    return doc, _Section(doc, (), data)


def _deep_line(text: str, depth: int = 100) -> int | None:
    """The line where brackets first nest `depth` deep (strings are not told apart: this only
    points the user at the place)."""
    level, line = 0, 1
    for char in text:
        if char == "\n":
            line += 1
        elif char in "[{":
            level += 1
            if level >= depth:
                return line
        elif char in "]}":
            level -= 1
    return None


def _syntax_error(message: str, text: str, path: str) -> ConfigError:
    if match := _TOML_POSITION.search(message):
        line, place = int(match[1]), f" at column {match[2]}"
        message = message[: match.start()]
    else:
        line, place = len(text.rstrip().split("\n")), " at the end of the file"
        message = message.removesuffix(_TOML_END)
    return ConfigError(
        path, line, None, f"is not valid TOML: {message}{place}; see https://toml.io for the syntax"
    )


def _base(top: _Section) -> str | None:
    base = top.text("base", "main")
    if base is not None and any(char.isspace() for char in base):
        raise top.error("base", f"is {json.dumps(base)}: a branch name has no spaces")
    return base


def _check_template(section: _Section, key: str, template: str) -> None:
    """Placeholders are replaced literally, not by str.format, so any other brace is a typo."""
    rest = template
    for name in WORKTREE_PLACEHOLDERS:
        rest = rest.replace(f"{{{name}}}", "")
    if "{" in rest or "}" in rest:
        allowed = ", ".join(f"{{{name}}}" for name in WORKTREE_PLACEHOLDERS)
        raise section.error(
            key, f"is {json.dumps(template)}: the only placeholders are {allowed}, no other braces"
        )


def _prices(top: _Section) -> PriceTable | None:
    """Prices that replace or add to the dated defaults, one table per model name prefix."""
    section = top.table("prices", '[prices."claude-opus-5"] with input = 5.0 below it')
    if section is None:
        return None
    try:
        return PriceTable.from_mapping(section.values)
    except PriceError as error:
        parts = tuple(p.strip('"') for p in error.key.removeprefix("prices.").split(".") if p)
        where = ("prices", *parts)
        message = str(error).removeprefix(f"{error.key}: ")
        raise section.doc.error(where, message) from error


def _backoff(top: _Section) -> Backoff:
    default = Backoff()
    section = top.table("backoff", "[backoff] with clean = 5.0 below it")
    if section is None:
        return default
    section.check_keys(BACKOFF_KEYS)
    crash_runs = section.positive("crash_runs", whole=True)
    return Backoff(
        clean=float(section.positive("clean", whole=False) or default.clean),
        failure=float(section.positive("failure", whole=False) or default.failure),
        crash_runs=default.crash_runs if crash_runs is None else int(crash_runs),
        crash_seconds=float(
            section.positive("crash_seconds", whole=False) or default.crash_seconds
        ),
    )


def _agents(top: _Section) -> list[object]:
    value = top.values.get("agent")
    if value is None:
        return []
    if not isinstance(value, list):
        raise top.error(
            "agent",
            f"must be an array of tables, one [[agent]] header per agent, not {_describe(value)}",
        )
    return value


def _agent(doc: _Document, index: int, value: object, root: Path) -> AgentSpec:
    where: KeyPath = ("agent", index)
    if not isinstance(value, dict):
        raise doc.error(where, f"must be a table of agent keys, not {_describe(value)}")
    section = _Section(doc, where, value)
    section.check_keys(AGENT_KEYS)
    section.require(REQUIRED_AGENT_KEYS)
    name = _name(section)
    kind = section.choice("kind", Kind)
    assert kind is not None
    command = _argv(section, "command", ["claude", "--verbose"])
    if kind is Kind.SHELL and not command:
        raise section.error(
            "command", 'is missing: a shell agent runs the command you give, such as "make watch"'
        )
    return AgentSpec(
        name=name,
        kind=kind,
        command=command,
        prompt=_prompt(section, root),
        restart=section.choice("restart", Restart) or Restart.NEVER,
        env=_env(section),
        args=_argv(section, "args", ["--model", "opus"], empty_ok=True),
    )


def _name(section: _Section) -> str:
    name = section.text("name", "claude-1")
    assert name is not None
    if not NAME_PATTERN.match(name):
        raise section.error(
            "name",
            f"is {json.dumps(name)}: use lowercase letters, digits and '-', starting with a "
            "letter or digit, at most 40 characters (such names never need quoting in a shell, "
            "tmux or git)",
        )
    return name


def _argv(
    section: _Section, key: str, example: list[str], empty_ok: bool = False
) -> tuple[str, ...]:
    """A command line as an array, or as a string split the way a shell would split it; it is
    never run through a shell, so quoting is all a string can express."""
    shown = json.dumps(shlex.join(example))
    expected = f"a string such as {shown} or an array of strings"
    value = section.typed(key, (str, list), expected)
    if value is None:
        return ()
    if isinstance(value, str):
        try:
            argv = shlex.split(value)
        except ValueError as error:
            raise section.error(
                key, f"cannot be split into words ({error}): close the quote or use an array"
            ) from error
    else:
        assert isinstance(value, list)
        for item in value:
            if not isinstance(item, str):
                raise section.error(key, f"must be an array of strings; it holds {_describe(item)}")
        argv = value
    if not argv and not empty_ok:
        raise section.error(key, f"is empty: give a program to run, such as {shown}")
    if argv and not argv[0].strip():
        raise section.error(key, "starts with an empty word: the first word is the program to run")
    return tuple(argv)


def _prompt(section: _Section, root: Path) -> str | None:
    prompt = section.text("prompt", "Read PROGRESS.md and take the next task")
    relative = section.text("prompt_file", "prompts/claude.md")
    if relative is None:
        return _bounded(section, "prompt", prompt)
    if prompt is not None:
        raise section.error("prompt_file", "cannot go with prompt: keep one of the two")
    file = root / relative
    try:
        text = file.read_text(encoding="utf-8")
    except FileNotFoundError as error:
        raise section.error(
            "prompt_file", f"names {file}, which does not exist (the path is relative to {root})"
        ) from error
    except (OSError, UnicodeDecodeError) as error:
        raise section.error(
            "prompt_file", f"names {file}, which cannot be read: {error}"
        ) from error
    if not text.strip():
        raise section.error("prompt_file", f"names {file}, which is empty: write the prompt in it")
    return _bounded(section, "prompt_file", text)


def _bounded(section: _Section, key: str, prompt: str | None) -> str | None:
    """The prompt reaches the agent as one word of its command line (or of its environment),
    and Linux refuses a word over 128 KiB, so a longer one would leave the agent unstartable."""
    if prompt is None:
        return None
    size = len(prompt.encode())
    if size > MAX_PROMPT_BYTES:
        raise section.error(
            key,
            f"gives a prompt of {size:,} bytes, over the {MAX_PROMPT_BYTES:,} an agent's command "
            "line can take: put the long text in a file in the repository and prompt the agent "
            "to read it",
        )
    return prompt


def _env(section: _Section) -> tuple[tuple[str, str], ...]:
    env = section.table("env", 'env = { NAME = "value" }')
    if env is None:
        return ()
    for key, value in env.values.items():
        if not ENV_NAME_PATTERN.match(key):
            raise env.error(
                key,
                "is not a variable name: use letters, digits and '_', not starting with a digit",
            )
        if not isinstance(value, str):
            raise env.error(
                key, f"must be a string, not {_describe(value)}: put the value in quotes"
            )
    return tuple((key, str(value)) for key, value in env.values.items())


def _check_unique(doc: _Document, agents: Sequence[AgentSpec]) -> None:
    first: dict[str, int] = {}
    for index, spec in enumerate(agents):
        if spec.name in first:
            earlier: KeyPath = ("agent", first[spec.name], "name")
            raise doc.error(
                ("agent", index, "name"),
                f"{json.dumps(spec.name)} is already the name of {key_name(earlier[:2])} on line "
                f"{doc.locator.line_of(earlier)}: give every agent its own name",
            )
        first[spec.name] = index


# --- the user's own settings --------------------------------------------------------------------


def user_config_path() -> Path:
    """XDG says a relative $XDG_CONFIG_HOME is invalid and must be ignored."""
    xdg = os.environ.get("XDG_CONFIG_HOME", "")
    base = Path(xdg) if xdg and Path(xdg).is_absolute() else Path.home() / ".config"
    return base / "corral" / "config.toml"


def load_user_settings(
    path: Path | None = None, binding_ids: Sequence[str] | None = None
) -> UserSettings:
    """A missing file means defaults: the settings are personal and optional."""
    path = user_config_path() if path is None else path
    if not path.exists():
        return UserSettings()
    return parse_user_settings(_read(path), str(path), binding_ids)


def parse_user_settings(
    text: str, path: str, binding_ids: Sequence[str] | None = None
) -> UserSettings:
    """`binding_ids`, when the caller knows them, turns a mistyped id in [keys] into an error."""
    _, top = _document(text, path)
    top.check_keys(USER_KEYS)
    default = UserSettings()
    theme = top.text("theme", default.theme)
    keys = top.table("keys", '[keys] with quit = "ctrl+q" below it')
    notifications = top.table(
        "notifications", "[notifications] with bell = true below it"
    ) or _Section(top.doc, ("notifications",), {})
    notifications.check_keys(NOTIFICATION_KEYS)

    def flag(key: str, fallback: bool) -> bool:
        value = notifications.boolean(key)
        return fallback if value is None else value

    return UserSettings(
        theme=default.theme if theme is None else theme,
        keys=() if keys is None else _bindings(keys, binding_ids),
        bell=flag("bell", default.bell),
        desktop=flag("desktop", default.desktop),
        notify_send=flag("notify_send", default.notify_send),
    )


def _bindings(section: _Section, binding_ids: Sequence[str] | None) -> tuple[tuple[str, str], ...]:
    if binding_ids is not None:
        section.check_keys(binding_ids)
    bindings = []
    for binding in section.values:
        key = section.text(binding, "ctrl+p")
        assert key is not None
        if any(char.isspace() for char in key):
            raise section.error(
                binding, f'is {json.dumps(key)}: a key has no spaces, as in "ctrl+p"'
            )
        bindings.append((binding, key))
    return tuple(bindings)
