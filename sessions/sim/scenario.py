"""Scenario files: a fixed script of steps, so a test or a demo knows what the agent will do.

A bad file must stop the program before it touches the terminal, with one line that names the
file and the problem, because the person reading it is looking at a tmux pane, not a traceback.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any, TypeGuard


class ScenarioError(Exception):
    """`str(error)` is the one line to print: file name first, then what is wrong."""


@dataclass(frozen=True)
class Step:
    """One `[[step]]`; only the fields its `do` uses are set."""

    do: str
    seconds: float = 0.0
    path: str = ""
    text: str | None = None
    old: str | None = None
    new: str | None = None
    argv: tuple[str, ...] = ()
    message: str = ""
    item: str | None = None
    tick: str | None = None
    topic: str = ""
    task: str = ""
    pattern: str = ""
    code: int = 0


@dataclass(frozen=True)
class Scenario:
    steps: tuple[Step, ...]
    seed: int | None = None
    speed: float | None = None


_STR = "string"
_NUM = "number"
_INT = "integer"
_ARGV = "list of strings"

# do -> (required keys, optional keys), each key with its expected type.
_SHAPES: dict[str, tuple[dict[str, str], dict[str, str]]] = {
    "think": ({"seconds": _NUM}, {}),
    "say": ({"text": _STR}, {}),
    "read": ({"path": _STR}, {}),
    "grep": ({"pattern": _STR}, {"path": _STR}),
    "edit": ({"path": _STR}, {"text": _STR, "old": _STR, "new": _STR}),
    "write": ({"path": _STR, "text": _STR}, {}),
    "bash": ({"argv": _ARGV}, {}),
    "commit": ({"message": _STR}, {}),
    "progress": ({}, {"text": _STR, "item": _STR, "tick": _STR}),
    "note": ({"topic": _STR, "text": _STR}, {}),
    "lock": ({"task": _STR}, {}),
    "unlock": ({"task": _STR}, {}),
    "ask": ({"path": _STR}, {}),
    "idle": ({}, {}),
    "exit": ({}, {"code": _INT}),
    "crash": ({}, {"text": _STR}),
    "loop": ({}, {}),
}

KINDS = tuple(_SHAPES)


def load_scenario(path: Path) -> Scenario:
    try:
        raw = path.read_bytes()
    except OSError as error:
        raise ScenarioError(f"{path}: cannot read the scenario: {error.strerror}") from None
    try:
        data = tomllib.loads(raw.decode("utf-8"))
    except UnicodeDecodeError:
        raise ScenarioError(f"{path}: the scenario is not UTF-8 text") from None
    except tomllib.TOMLDecodeError as error:
        raise ScenarioError(f"{path}: not valid TOML: {error}") from None
    try:
        return parse_scenario(data)
    except ScenarioError as error:
        raise ScenarioError(f"{path}: {error}") from None


def parse_scenario(data: dict[str, Any]) -> Scenario:
    unknown = sorted(set(data) - {"seed", "speed", "step"})
    if unknown:
        raise ScenarioError(f"unknown top-level key `{unknown[0]}` (expected seed, speed, step)")
    seed = data.get("seed")
    if seed is not None and (not isinstance(seed, int) or isinstance(seed, bool)):
        raise ScenarioError("`seed` must be an integer")
    speed = data.get("speed")
    if speed is not None and not (_is_number(speed) and speed > 0):
        raise ScenarioError("`speed` must be a positive number")
    raw_steps = data.get("step")
    if not isinstance(raw_steps, list) or not raw_steps:
        raise ScenarioError("no steps: add at least one [[step]] table")
    steps = tuple(_parse_step(number, raw) for number, raw in enumerate(raw_steps, start=1))
    if steps[0].do == "loop":
        raise ScenarioError("step 1 (loop): a loop needs steps before it to repeat")
    return Scenario(steps=steps, seed=seed, speed=None if speed is None else float(speed))


def _parse_step(number: int, raw: object) -> Step:
    if not isinstance(raw, dict):
        raise ScenarioError(f"step {number}: must be a [[step]] table")
    do = raw.get("do")
    if not isinstance(do, str):
        raise ScenarioError(f"step {number}: missing `do` (one of {', '.join(KINDS)})")
    if do not in _SHAPES:
        raise ScenarioError(f"step {number}: unknown do = {do!r} (one of {', '.join(KINDS)})")
    where = f"step {number} ({do})"
    required, optional = _SHAPES[do]
    for key in raw:
        if key != "do" and key not in required and key not in optional:
            raise ScenarioError(f"{where}: unknown key `{key}`")
    for key in required:
        if key not in raw:
            raise ScenarioError(f"{where}: missing `{key}`")
    fields: dict[str, Any] = {"do": do}
    for key, kind in {**required, **optional}.items():
        if key in raw:
            fields[key] = _checked(where, key, kind, raw[key])
    _check_meaning(where, fields)
    return Step(**fields)


def _checked(where: str, key: str, kind: str, value: object) -> object:
    if kind == _STR and isinstance(value, str):
        return value
    if kind == _NUM and _is_number(value):
        return float(value)
    if kind == _INT and isinstance(value, int) and not isinstance(value, bool):
        return value
    if kind == _ARGV and isinstance(value, list) and all(isinstance(v, str) for v in value):
        return tuple(value)
    raise ScenarioError(f"{where}: `{key}` must be a {kind}")


def _check_meaning(where: str, fields: dict[str, Any]) -> None:
    path = fields.get("path")
    if isinstance(path, str) and not is_inside(path):
        raise ScenarioError(f"{where}: `path` must be relative and stay inside the worktree")
    if fields.get("seconds", 0.0) < 0:
        raise ScenarioError(f"{where}: `seconds` must not be negative")
    if fields["do"] == "bash" and not fields["argv"]:
        raise ScenarioError(f"{where}: `argv` must not be empty")
    if not 0 <= fields.get("code", 0) <= 255:
        raise ScenarioError(f"{where}: `code` must be between 0 and 255")
    if fields["do"] == "edit" and ("old" in fields) != ("new" in fields):
        raise ScenarioError(f"{where}: `old` and `new` go together")
    if fields["do"] == "progress" and not {"text", "item", "tick"} & set(fields):
        raise ScenarioError(f"{where}: needs one of `text`, `item` or `tick`")
    for key in ("topic", "task", "message"):
        if key in fields and not fields[key].strip():
            raise ScenarioError(f"{where}: `{key}` must not be empty")


def is_inside(path: str) -> bool:
    """True for a non-empty relative path that cannot climb out of the worktree."""
    pure = PurePosixPath(path)
    return bool(path) and not pure.is_absolute() and ".." not in pure.parts and "\\" not in path


def _is_number(value: object) -> TypeGuard[int | float]:
    return isinstance(value, int | float) and not isinstance(value, bool)
