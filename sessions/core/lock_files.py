"""What a lock file says about itself, in whatever shape an agent wrote it.

Agents write these files in any shape (key=value, `Key: value`, markdown, JSON, nothing at all),
so parsing never fails: a file that says nothing is still a claim, named after its file.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime


@dataclass(frozen=True)
class Parsed:
    """What a lock file says about itself; every field may be missing."""

    task: str | None = None
    agent_id: str | None = None
    created_at: float | None = None
    status: str | None = None


@dataclass
class Found:
    """One distinct lock file while the scan collects its copies."""

    path: str
    data: bytes | None
    places: list[str | None] = field(default_factory=list)
    on_base: bool = False
    mtime: float | None = None


def under(path: str, folders: Iterable[str]) -> bool:
    """Whether a repository path lies in one of the lock folders (or is one)."""
    return any(path == f or path.startswith(f.rstrip("/") + "/") for f in folders)


_TASK_KEYS = (
    "task",
    "title",
    "task_name",
    "task_title",
    "claimed_task",
    "claim",
    "working_on",
    "summary",
    "description",
    "task_id",
)
_AGENT_KEYS = (
    "agent_id",
    "agent",
    "agent_name",
    "claimed_by",
    "owner",
    "holder",
    "locked_by",
    "assignee",
    "worker",
    "by",
)
_TIME_KEYS = (
    "created_at_unix",
    "created_at",
    "created",
    "claimed_at",
    "claimed",
    "locked_at",
    "started_at",
    "started",
    "timestamp",
    "time",
    "date",
    "since",
)
_STATUS_KEYS = ("status", "state")
_KNOWN_KEYS = frozenset(_TASK_KEYS + _AGENT_KEYS + _TIME_KEYS + _STATUS_KEYS)

_MARKUP = re.compile(r"^(?:>\s*|#+\s*|[-*+•]\s+|\d+[.)]\s+|\[[ xX]\]\s*)")
_KEY = re.compile(r"^[A-Za-z][A-Za-z0-9 _.-]{0,40}$")
_ISO = re.compile(
    r"\d{4}-\d{2}-\d{2}(?:[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?)?(?:\s*(?:Z|UTC|[+-]\d{2}:?\d{2}))?"
)
_ISO_TIME = re.compile(
    r"\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:\s*(?:Z|UTC|[+-]\d{2}:?\d{2}))?"
)
_EARLIEST, _LATEST = 946684800.0, 4102444800.0  # 2000 and 2100: anything else is not a time
_TASK_LIMIT = 200


def parse_lock(data: bytes) -> Parsed:
    """Read whatever a lock file says; garbage and empty files say nothing, without error."""
    text = _text(data)
    if text is None or not text.strip():
        return Parsed()
    fields = _json_fields(text)
    if fields is None:
        fields = _line_fields(text)
    created = _first_time(fields, _TIME_KEYS)
    if created is None:
        found = _ISO_TIME.search(text)
        created = _parse_time(found.group(0)) if found else None
    return Parsed(
        task=_first(fields, _TASK_KEYS) or fields.get("", None),
        agent_id=_first(fields, _AGENT_KEYS),
        created_at=created,
        status=_first(fields, _STATUS_KEYS),
    )


def _text(data: bytes) -> str | None:
    """The file as text, or None for binary garbage that no agent would write as a claim."""
    if b"\0" in data:
        return None
    text = data.decode("utf-8", errors="replace").removeprefix("\ufeff")
    odd = sum(1 for char in text if char == "\ufffd" or (ord(char) < 32 and char not in "\t\n\r\f"))
    return None if odd > len(text) // 10 else text


def _json_fields(text: str) -> dict[str, str] | None:
    if not text.lstrip().startswith("{"):
        return None
    try:
        value = json.loads(text)
    except ValueError:
        return None
    if not isinstance(value, dict):
        return None
    fields: dict[str, str] = {}
    for key, item in value.items():
        if isinstance(item, str | int | float) and not isinstance(item, bool):
            fields.setdefault(_normal_key(str(key)), _clean_value(str(item)))
    return fields


def _line_fields(text: str) -> dict[str, str]:
    """`key: value` / `key=value` pairs of known keys in any markdown dress; the key "" holds
    the first heading or plain line, the task when no key names one."""
    fields: dict[str, str] = {}
    pending: str | None = None
    fallback: str | None = None
    heading: str | None = None
    for raw in text.splitlines():
        line, is_heading = _strip_markup(raw)
        if not line or line.startswith(("```", "---", "===")):
            continue
        pair = _split_pair(line)
        if pair is not None:
            key, value = pair
            if value:
                fields.setdefault(key, value)
                pending = None
            else:
                pending = key if key not in fields else None
            continue
        if is_heading and _normal_key(line) in _KNOWN_KEYS:
            pending = _normal_key(line)
            continue
        value = _clean_value(line)
        if pending is not None:
            fields.setdefault(pending, value)
            pending = None
        elif is_heading and heading is None:
            heading = value
        elif fallback is None:
            fallback = value
    chosen = heading or fallback
    if chosen:
        fields.setdefault("", chosen[:_TASK_LIMIT])
    return fields


def _strip_markup(raw: str) -> tuple[str, bool]:
    line = raw.strip()
    is_heading = line.startswith("#")
    while True:
        stripped = _MARKUP.sub("", line, count=1).strip()
        if stripped == line:
            return line, is_heading
        line = stripped


def _split_pair(line: str) -> tuple[str, str] | None:
    """A known key and its value, split at the first `:` or `=`; None for anything else."""
    cuts = [index for index in (line.find(":"), line.find("=")) if index > 0]
    if not cuts:
        return None
    cut = min(cuts)
    key = line[:cut].strip().strip("*_`").strip()
    if not _KEY.match(key):
        return None
    normal = _normal_key(key)
    if normal not in _KNOWN_KEYS:
        return None
    return normal, _clean_value(line[cut + 1 :])


def _normal_key(key: str) -> str:
    return re.sub(r"[\s.\-]+", "_", key.strip().strip("*_`").strip().lower()).strip("_")


def _clean_value(value: str) -> str:
    cleaned = value.strip()
    for _ in range(3):
        cleaned = cleaned.strip().strip("*_`").strip()
        if len(cleaned) >= 2 and cleaned[0] == cleaned[-1] and cleaned[0] in "\"'":
            cleaned = cleaned[1:-1]
    return cleaned


def _first(fields: Mapping[str, str], keys: Iterable[str]) -> str | None:
    return next((fields[key] for key in keys if fields.get(key)), None)


def _first_time(fields: Mapping[str, str], keys: Iterable[str]) -> float | None:
    for key in keys:
        if key in fields:
            value = _parse_time(fields[key])
            if value is not None:
                return value
    return None


def _parse_time(value: str) -> float | None:
    """Unix seconds (or milliseconds), ISO 8601, RFC 2822, or `date`'s default output.
    A time without a zone is local, as `date` on the agents' own machine writes it."""
    text = value.strip().strip("`'\"").strip()
    if re.fullmatch(r"\d{9,13}(?:\.\d+)?", text):
        seconds = float(text)
        return _plausible(seconds / 1000.0 if seconds > 1e11 else seconds)
    for attempt in (_iso, _rfc2822, _date_output):
        parsed = attempt(text)
        if parsed is not None:
            return _plausible(parsed.timestamp())
    return None


def _plausible(seconds: float) -> float | None:
    return seconds if _EARLIEST <= seconds <= _LATEST else None


def _iso(text: str) -> datetime | None:
    found = _ISO.search(text)
    if found is None:
        return None
    candidate = re.sub(r"\s*(?:Z|UTC)$", "+00:00", found.group(0))
    try:
        return datetime.fromisoformat(candidate)
    except ValueError:
        return None


def _rfc2822(text: str) -> datetime | None:
    import email.utils  # only for such a date: it costs every `corral ls` 4 ms to load

    try:
        return email.utils.parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError):
        return None


def _date_output(text: str) -> datetime | None:
    utc = re.search(r"\b(?:UTC|GMT)\b", text) is not None
    bare = re.sub(r"\s+(?:UTC|GMT|[A-Z]{3,4})(?=\s+\d{4}$)", "", text)
    try:
        parsed = datetime.strptime(bare, "%a %b %d %H:%M:%S %Y")
    except ValueError:
        return None
    return parsed.replace(tzinfo=UTC) if utc else parsed
