"""Checking a hand-written TOML file, with errors that point at the line of the bad key.

Users write corral's TOML files by hand and mistype, so nothing is ignored silently: an unknown
key, a wrong type or an impossible value is a `ConfigError` naming the file, the line and the
key, with a sentence that says what is allowed. tomllib keeps no positions, so a small `Locator`
reads the source text again to find the line a key stands on. What each file may hold is
written beside it: corral.toml in `config`, the user's settings in `user_settings`.
"""

from __future__ import annotations

import json
import math
import re
import tomllib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import TypeVar

from sessions.core.errors import ConfigError

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
class Document:
    path: str
    locator: Locator

    def error(self, where: KeyPath, problem: str) -> ConfigError:
        return ConfigError(self.path, self.locator.line_of(where), key_name(where) or None, problem)


def describe(value: object) -> str:
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


def allowed_names(names: Sequence[str]) -> str:
    return ", ".join(names)


@dataclass(frozen=True)
class Section:
    """One table of a document, so every check on its keys can point at their lines."""

    doc: Document
    where: KeyPath
    values: Mapping[str, object]

    def error(self, key: str | None, problem: str) -> ConfigError:
        return self.doc.error(self.where if key is None else (*self.where, key), problem)

    def check_keys(self, allowed: Sequence[str]) -> None:
        for key in self.values:
            if key not in allowed:
                import difflib  # only for a mistake: every `corral ls` reads the config

                close = difflib.get_close_matches(key, allowed, n=1)
                hint = f' (did you mean "{close[0]}"?)' if close else ""
                raise self.error(
                    key, f"is not a known key{hint}: allowed are {allowed_names(allowed)}"
                )

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
            raise self.error(key, f"must be {expected}, not {describe(value)}")
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
        value = self.typed(key, str, f"one of {allowed_names(names)}")
        if value is None:
            return None
        if value not in names:
            raise self.error(
                key, f"is {json.dumps(value)}: it must be one of {allowed_names(names)}"
            )
        return enum(value)

    def table(self, key: str, example: str) -> Section | None:
        value = self.typed(key, dict, f"a table such as {example}")
        assert value is None or isinstance(value, dict)
        return None if value is None else Section(self.doc, (*self.where, key), value)


# --- reading a file -----------------------------------------------------------------------------


def read_text(path: Path) -> str:
    """The file as text, or a `ConfigError` saying why it cannot be read."""
    try:
        return path.read_bytes().decode("utf-8")
    except UnicodeDecodeError as error:
        raise ConfigError(str(path), None, None, f"is not UTF-8 text ({error.reason})") from error
    except OSError as error:
        raise ConfigError(str(path), None, None, f"cannot be read: {error.strerror}") from error


_TOML_POSITION = re.compile(r"\s*\(at line (\d+), column (\d+)\)\Z")
_TOML_END = " (at end of document)"


def parse_document(text: str, path: str) -> tuple[Document, Section]:
    """The document and its top table; a syntax error points at its line like any other."""
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
    doc = Document(path, Locator(text))
    return doc, Section(doc, (), data)


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
