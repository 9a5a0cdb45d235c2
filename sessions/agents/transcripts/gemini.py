"""Gemini CLI chats: `~/.gemini/tmp/<project>/chats/session-<time>-<id8>.jsonl` (older: `.json`).

JSONL chats start with a metadata line (`sessionId`, `projectHash`) and append a message record
whenever a message is created or changes: a `gemini` message is written again when its tokens
arrive and when its tool calls change status, so records are deduplicated by message id (tokens,
keeping the largest) and tool call id. `{"$set": ...}` lines update metadata (sometimes with the
whole message list) and `{"$rewindTo": id}` drops messages from the view, not from the bill. The
older `.json` chats are one JSON document rewritten on every message; `read_document` reads the
whole file again whenever it changes. Token counts follow Gemini: `input` includes `cached`,
thinking (`thoughts`) is billed as output, `tool` is prompt spent on tool use.

The project folder is the slug registered for the worktree in `~/.gemini/projects.json` (also
marked by a `.project_root` file inside it), or for older versions the sha256 of its path.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path
from typing import Any

from sessions.agents.tools import classify
from sessions.agents.transcripts import Record, Tally, count, mtime, timestamp
from sessions.core.usage import Tokens

DONE = frozenset({"success", "error", "cancelled"})
NOTICES = frozenset({"info", "error", "warning"})

Message = Mapping[str, Any]


def feed(record: Record, tally: Tally) -> None:
    if "$rewindTo" in record:
        return
    if "$set" in record:
        _metadata(record["$set"], tally)
    elif isinstance(record.get("messages"), list):
        _metadata(record, tally)
    elif isinstance(record.get("id"), str) and "type" in record:
        _message(record, tally)
    elif isinstance(record.get("sessionId"), str):
        tally.session(record["sessionId"])
    else:
        tally.unknown += 1


def _metadata(changes: object, tally: Tally) -> None:
    if not isinstance(changes, Mapping):
        raise ValueError("a metadata update that is not an object")
    tally.session(changes.get("sessionId"))
    for message in changes.get("messages") or ():
        if isinstance(message, Mapping):
            _message(message, tally)


def _message(message: Message, tally: Tally) -> None:
    at = timestamp(message.get("timestamp"))
    kind = message.get("type")
    if kind == "user":
        tally.user(at)
    elif kind == "gemini":
        _answer(message, at, tally)
    elif kind not in NOTICES:
        tally.unknown += 1


def _answer(message: Message, at: float | None, tally: Tally) -> None:
    model = message.get("model")
    tally.use_model(model)
    tokens = message.get("tokens")
    if isinstance(tokens, Mapping):
        name = model if isinstance(model, str) else None
        tally.response(str(message["id"]), name, _tokens(tokens), at)
    tally.assistant(at)
    cancelled = False
    for call in message.get("toolCalls") or ():
        if isinstance(call, Mapping):
            cancelled |= _tool_call(call, at, tally)
    if cancelled:
        tally.interrupt(at)


def _tool_call(call: Mapping[str, Any], at: float | None, tally: Tally) -> bool:
    """Reports the call, and its end if it has one; True when the user cancelled it."""
    call_at = timestamp(call.get("timestamp")) or at
    arguments = call.get("args")
    name = str(call.get("name"))
    tally.tool_use(call.get("id"), classify("gemini", name, _mapping(arguments)), call_at)
    status = call.get("status")
    if status in DONE:
        tally.tool_result(call.get("id"), call_at)
    return status == "cancelled"


def _tokens(tokens: Mapping[str, Any]) -> Tokens:
    cached = count(tokens.get("cached"))
    thoughts = count(tokens.get("thoughts"))
    return Tokens(
        input=max(count(tokens.get("input")) - cached, 0) + count(tokens.get("tool")),
        output=count(tokens.get("output")) + thoughts,
        cache_read=cached,
        reasoning=thoughts,
    )


def _mapping(value: object) -> Mapping[str, Any] | None:
    return value if isinstance(value, Mapping) else None


def find(worktree: Path, *, home: Path | None = None, session_id: str | None = None) -> Path | None:
    """The most recently written chat of the worktree's project (of `session_id` if given)."""
    root = home or Path.home() / ".gemini"
    short = session_id[:8] if session_id else ""
    for project in _project_dirs(root, worktree):
        chats = [
            path
            for path in (project / "chats").glob("session-*.json*")
            if path.suffix in (".json", ".jsonl") and path.stem.endswith(short)
        ]
        if chats:
            return max(chats, key=mtime)
    return None


def _project_dirs(root: Path, worktree: Path) -> Iterator[Path]:
    paths = dict.fromkeys((os.path.abspath(worktree), os.path.realpath(worktree)))
    tmp = root / "tmp"
    registered = _registry(root)
    for path in paths:
        if path in registered:
            yield tmp / registered[path]
    yield from _marked(tmp, paths.keys())
    for path in paths:
        yield tmp / hashlib.sha256(path.encode()).hexdigest()


def _registry(root: Path) -> dict[str, str]:
    try:
        projects = json.loads((root / "projects.json").read_text()).get("projects")
    except (OSError, ValueError, AttributeError):
        return {}
    if not isinstance(projects, Mapping):
        return {}
    return {str(k): str(v) for k, v in projects.items() if isinstance(v, str) and v}


def _marked(tmp: Path, paths: Iterable[str]) -> Iterator[Path]:
    wanted = set(paths)
    for marker in tmp.glob("*/.project_root"):
        try:
            if marker.read_text().strip() in wanted:
                yield marker.parent
        except OSError:
            continue


def locate(
    *,
    session_id: str | None,
    worktree: Path | None,
    home: Path | None,
    env: Mapping[str, str],
    since: float | None,
) -> Path | None:
    """Found by the worktree, and the session id when known.

    Every reader takes the same arguments from `find_transcript`; each uses what it needs.
    """
    return find(worktree, home=home, session_id=session_id) if worktree else None
