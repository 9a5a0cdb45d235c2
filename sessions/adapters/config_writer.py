"""Writing one more agent into corral.toml without disturbing what the user wrote.

People keep notes in their corral.toml: comments that explain an agent, commented-out keys they
may want back, blank lines that group things. Adding an agent from the dashboard must not cost
them any of it, so the file is never re-rendered: the new `[[agent]]` table (rendered by tomlkit,
which gets TOML's quoting and escapes right) is spliced into the old text as it is.

Where the new table goes:
- after the last `[[agent]]` table (and its `[agent.env]`), so the agents stay together and the
  new one is the last agent, which is also the number the config's errors give it;
- when other tables follow the agents, it goes before the comments that stand directly above
  the next table, since those describe that table;
- otherwise, at the end of the file; a missing file is created with a short header comment.

Before anything is written the new text is read back twice: tomllib must find exactly the old
data plus the new agent (a guard against splicing into a multi-line string), and
`sessions.adapters.config.parse_config` must accept it, so a bad name, kind or a duplicate is
refused with the parser's own `file:line: key:` sentence and the file stays as it was. The write is
atomic (a temporary file beside it, then `os.replace`) and keeps the file's mode.

`corral init` reuses `render_agent`, `HEADER`, `with_agent` and `write_text` to build a file.
"""

from __future__ import annotations

import re
import threading
import tomllib
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import tomlkit

from sessions.adapters.atomic import write_atomically
from sessions.adapters.config import parse_config
from sessions.adapters.toml_check import Locator
from sessions.core.agent_fields import AgentFields
from sessions.core.errors import ConfigError
from sessions.core.model import Config

HEADER = (
    "# corral.toml: the agents corral runs in this repository, one [[agent]] table each.\n"
    "# Every key, with its default and what it does, is in corral's config.example.toml.\n"
)

_HEADER_LINE = re.compile(r"\s*\[")
_WRITING = threading.Lock()  # two adds at once would each start from the same old text


def render_agent(fields: AgentFields, newline: str = "\n") -> str:
    """One `[[agent]]` table as TOML text, ending with a line end; a multi-line prompt is
    written as a multi-line string so it reads in the file the way it was typed."""
    table = tomlkit.table()
    for key, value in fields.table().items():
        if key == "prompt" and "\n" in value:
            table.add(key, tomlkit.string(value, multiline=True))
        else:
            table.add(key, value)
    array = tomlkit.aot()
    array.append(table)
    document = tomlkit.document()
    document.add("agent", array)
    text = tomlkit.dumps(document)
    return text.replace("\n", newline) if newline != "\n" else text


def with_agent(old: str | None, fields: AgentFields, path: Path) -> tuple[str, Config]:
    """The file's text with the agent added, and the config it parses to; `old` None means
    there is no file yet. `path` names the file in errors and its folder is the repository
    root that `prompt_file` keys are read from. Raises `ConfigError` and changes nothing."""
    root = path.parent
    if old is None:
        candidates: Iterable[str] = [HEADER + "\n" + render_agent(fields)]
        old_data: dict[str, Any] = {}
    else:
        try:
            parse_config(old, str(path), root)
        except ConfigError as error:
            raise _untouched(error, fields.name) from error
        old_data = tomllib.loads(old)
        newline = "\r\n" if "\r\n" in old else "\n"
        candidates = _placements(old, old_data, render_agent(fields, newline), newline)
    for new in candidates:
        if _same_data(new, old_data, fields):
            return new, parse_config(new, str(path), root)
    raise ConfigError(
        str(path),
        None,
        "agent",
        f"cannot take a new [[agent]] table without changing what it says (are its agents in "
        f"an inline array?): write each agent as an [[agent]] table, then add {fields.name} again",
    )


def _untouched(error: ConfigError, name: str) -> ConfigError:
    """A mistake already in the file: say so, and that nothing was written."""
    return ConfigError(
        error.path,
        error.line,
        error.key,
        f"{error.problem}; corral left the file untouched and did not add {name}: fix it first",
    )


def _placements(old: str, data: dict[str, Any], table: str, newline: str) -> Iterable[str]:
    """Candidate texts, best first: before each table that follows the last agent (the first
    one that reads back right wins), then at the end of the file."""
    agents = data.get("agent")
    lines = old.splitlines(keepends=True)
    if isinstance(agents, list) and agents:
        last = Locator(old.replace("\r\n", "\n")).line_of(("agent", len(agents) - 1))
        for index in range(last or len(lines), len(lines)):
            if not _HEADER_LINE.match(lines[index]) or _belongs_to_agent(lines[index]):
                continue
            start = index
            while start > 0 and lines[start - 1].lstrip().startswith("#"):
                start -= 1
            before = "".join(lines[:start])
            gap = "" if not before or not lines[start - 1].strip() else newline
            yield before + gap + table + newline + "".join(lines[start:])
    end = old if not old or old.endswith("\n") else old + newline
    gap = newline if end and end.splitlines()[-1].strip() else ""
    yield end + gap + table


def _belongs_to_agent(line: str) -> bool:
    """`[agent.env]` and the like belong to the agent above; a line that is not a header on
    its own (an array's next row) is no place to insert either."""
    try:
        head = tomllib.loads(line)
    except tomllib.TOMLDecodeError:
        return True
    return list(head) == ["agent"]


def _same_data(new: str, old_data: dict[str, Any], fields: AgentFields) -> bool:
    try:
        found = tomllib.loads(new)
    except tomllib.TOMLDecodeError:
        return False
    agents = old_data.get("agent")
    expected = dict(old_data)
    expected["agent"] = [*(agents if isinstance(agents, list) else []), fields.table()]
    return found == expected


def add_agent(path: Path, fields: AgentFields) -> str:
    """Add the agent to the corral.toml at `path` (created when missing) and say where it went.

    Raises `ConfigError`, leaving the file as it was, when the file is not valid, the agent is
    not (the parser's sentence), or the file cannot be written. A symlink is followed: the file
    it points at is the one rewritten, so a config kept elsewhere stays linked.
    """
    real = path.resolve() if path.is_symlink() else path
    with _WRITING:
        old = _read(real, path)
        new, config = with_agent(old, fields, path)
        if _read(real, path) != old:
            raise ConfigError(
                str(path),
                None,
                None,
                f"changed while {fields.name} was being added, so corral left it as it is: "
                "add the agent again",
            )
        write_text(real, new, path)
    line = Locator(new.replace("\r\n", "\n")).line_of(("agent", len(config.agents) - 1))
    where = f"{path}:{line}" if line else str(path)
    return f"{fields.name} ({fields.kind}) added to {where}"


def _read(path: Path, shown: Path) -> str | None:
    try:
        return path.read_bytes().decode("utf-8")
    except FileNotFoundError:
        return None
    except UnicodeDecodeError as error:
        raise ConfigError(
            str(shown),
            None,
            None,
            f"is not UTF-8 text ({error.reason}), so corral left it untouched: fix it first",
        ) from error
    except OSError as error:
        raise ConfigError(str(shown), None, None, f"cannot be read: {error.strerror}") from error


def write_text(path: Path, text: str, shown: Path | None = None) -> None:
    """Write atomically and synced: readers (a supervisor opening the file) see the old text
    or the new, never half. The file keeps its mode; a new one gets the usual mode under the
    umask."""
    try:
        write_atomically(path, text.encode("utf-8"))
    except OSError as error:
        raise _unwritable(shown or path, error) from error


def _unwritable(path: Path, error: OSError) -> ConfigError:
    return ConfigError(
        str(path), None, None, f"cannot be written ({error.strerror}), so nothing was added"
    )
