"""JSON for the hook entry, without importing `json`.

The hook runs once per tool call of every agent, and the agent waits for it. Importing `json`
pulls in `re`, `enum`, `functools` and more: about 7 ms of each call's 25. The work itself is
done by CPython's C part of `json` (`_json`), which `json` uses too, so this reads and writes
exactly what `json.loads` and compact `json.dumps` do; where `_json` is missing (another
Python), `json` is imported after all.
"""

from __future__ import annotations

TYPE_CHECKING = False  # `typing` costs milliseconds here too; mypy reads this as true
if TYPE_CHECKING:
    from collections.abc import Callable
    from typing import Any

try:
    import _json
except ImportError:  # pragma: no cover - CPython always has it
    _json = None  # type: ignore[assignment]

_WHITESPACE = " \t\n\r"
_CONSTANTS = {"NaN": float("nan"), "Infinity": float("inf"), "-Infinity": float("-inf")}


class _Reading:
    """What `_json`'s scanner asks of its caller: the choices `json.loads` makes by default."""

    strict = True
    object_hook = None
    object_pairs_hook = None
    parse_float = float
    parse_int = int

    @staticmethod
    def parse_constant(name: str) -> float:
        return _CONSTANTS[name]


def _unencodable(value: object) -> object:
    raise TypeError(f"Object of type {type(value).__name__} is not JSON serializable")


_reading: Any = _Reading()  # typeshed names the scanner's own class as what it takes
_scan: Callable[[str, int], tuple[Any, int]] | None = (
    None if _json is None else _json.make_scanner(_reading)
)


def loads(raw: str | bytes) -> Any:
    """`json.loads`; a bytes payload is UTF-8, as every CLI sends. Raises ValueError."""
    if _json is None or _scan is None:  # pragma: no cover
        import json

        return json.loads(raw)
    text = raw.decode("utf-8") if isinstance(raw, bytes) else raw
    text = text.strip(_WHITESPACE)
    try:
        value, end = _scan(text, 0)
    except StopIteration as error:
        raise ValueError(f"Expecting value: char {error.value}") from None
    if end != len(text):
        raise ValueError(f"Extra data: char {end}")
    return value


def dumps(value: Any, ensure_ascii: bool = True, separators: tuple[str, str] = (", ", ": ")) -> str:
    """`json.dumps(value, ensure_ascii=..., separators=...)`. Raises TypeError or ValueError
    for what JSON cannot hold (a circular one included, as `json` does)."""
    if _json is None:  # pragma: no cover
        import json

        return json.dumps(value, ensure_ascii=ensure_ascii, separators=separators)
    strings = _json.encode_basestring_ascii if ensure_ascii else _json.encode_basestring
    item, key = separators
    # A new encoder each time: its record of the containers being written is left half full
    # when a value fails, and would refuse the next one as circular.
    encode = _json.make_encoder({}, _unencodable, strings, None, key, item, False, False, True)
    return "".join(encode(value, 0))
