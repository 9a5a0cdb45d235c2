"""Codex CLI rollouts: `<CODEX_HOME or ~/.codex>/sessions/YYYY/MM/DD/rollout-<time>-<id>.jsonl`.

Each line is `{timestamp, type, payload}`: `session_meta` (id, cwd), `turn_context` (model),
`response_item` (messages, reasoning and tool calls: `function_call` with JSON-string arguments,
`custom_tool_call` for apply_patch, `local_shell_call`, and their outputs) and `event_msg`
(prompts, answers, `turn_aborted`, and `token_count`, whose `info` may be null). Token counts
follow OpenAI: cached input is part of the input, reasoning part of the output. A response has
no id of its own; the cumulative total after it identifies it, so a repeated `token_count` and a
replayed one count once. Older rollouts wrote items without the wrapper; they are read too.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import Any

from sessions.agents.tools import classify
from sessions.agents.transcripts import Record, Tally, count, timestamp
from sessions.core.usage import Tokens

FIRST_LINE_LIMIT = 1 << 20
SCAN_DAYS = 31
OUTPUTS = frozenset({"function_call_output", "custom_tool_call_output", "local_shell_call_output"})
IGNORED_ITEMS = frozenset(
    {"web_search_call", "image_generation_call", "ghost_snapshot", "compaction", "other"}
)

Payload = Mapping[str, Any]


def feed(record: Record, tally: Tally) -> None:
    at = timestamp(record.get("timestamp"))
    payload = record.get("payload")
    if not isinstance(payload, Mapping):
        _unwrapped(record, at, tally)
        return
    handler = _HANDLERS.get(str(record.get("type")))
    if handler is None:
        tally.unknown += 1
    else:
        handler(payload, at, tally)


def _session(payload: Payload, at: float | None, tally: Tally) -> None:
    tally.session(payload.get("id"), payload.get("cwd"))


def _turn(payload: Payload, at: float | None, tally: Tally) -> None:
    tally.use_model(payload.get("model"))
    tally.session(None, payload.get("cwd"))


def _nothing(payload: Payload, at: float | None, tally: Tally) -> None:
    """Compactions carry nothing corral needs."""


def _item(payload: Payload, at: float | None, tally: Tally) -> None:
    kind = payload.get("type")
    call_id = payload.get("call_id") or payload.get("id")
    if kind == "message":
        _message(payload, at, tally)
    elif kind == "reasoning":
        tally.assistant(at)
    elif kind == "function_call":
        arguments = _arguments(payload.get("arguments"))
        tally.tool_use(call_id, classify("codex", str(payload.get("name")), arguments), at)
    elif kind == "custom_tool_call":
        call = classify("codex", str(payload.get("name")), {"input": payload.get("input")})
        tally.tool_use(call_id, call, at)
    elif kind == "local_shell_call":
        action = payload.get("action")
        command = action.get("command") if isinstance(action, Mapping) else None
        tally.tool_use(call_id, classify("codex", "local_shell_call", {"command": command}), at)
    elif kind in OUTPUTS:
        tally.tool_result(call_id, at)
    elif kind not in IGNORED_ITEMS:
        tally.unknown += 1


def _message(payload: Payload, at: float | None, tally: Tally) -> None:
    role = payload.get("role")
    if role == "assistant":
        tally.assistant(at)
    elif role == "user" and not _injected(payload):
        tally.user(at)


def _injected(payload: Payload) -> bool:
    """Codex puts its instructions and environment into user messages wrapped in tags."""
    content = payload.get("content")
    texts = [part.get("text") for part in content or () if isinstance(part, Mapping)]
    first = next((text for text in texts if isinstance(text, str)), "")
    return first.lstrip().startswith("<")


def _event(payload: Payload, at: float | None, tally: Tally) -> None:
    kind = payload.get("type")
    if kind == "token_count":
        _token_count(payload.get("info"), at, tally)
    elif kind == "user_message":
        tally.user(at)
    elif kind in ("agent_message", "agent_reasoning"):
        tally.assistant(at)
    elif kind == "turn_aborted":
        tally.interrupt(at)


def _token_count(info: object, at: float | None, tally: Tally) -> None:
    if info is None:
        return
    if not isinstance(info, Mapping) or not isinstance(info.get("last_token_usage"), Mapping):
        raise ValueError("token_count without last_token_usage")
    window = info.get("model_context_window")
    if isinstance(window, int) and window > 0:
        tally.reported_window = window
    total = info.get("total_token_usage")
    mark = _tokens(total).as_list() if isinstance(total, Mapping) else at
    tally.response(f"{tally.session_id}:{mark}", None, _tokens(info["last_token_usage"]), at)


def _tokens(usage: Mapping[str, Any]) -> Tokens:
    cached = count(usage.get("cached_input_tokens"))
    return Tokens(
        input=max(count(usage.get("input_tokens")) - cached, 0),
        output=count(usage.get("output_tokens")),
        cache_read=cached,
        reasoning=count(usage.get("reasoning_output_tokens")),
    )


def _arguments(arguments: object) -> Mapping[str, Any] | None:
    if isinstance(arguments, str):
        try:
            arguments = json.loads(arguments)
        except ValueError:
            return None
    return arguments if isinstance(arguments, Mapping) else None


def _unwrapped(record: Record, at: float | None, tally: Tally) -> None:
    if "record_type" in record:
        return
    if record.get("type") is not None:
        _item(record, at, tally)
    elif isinstance(record.get("id"), str):
        tally.session(record["id"], record.get("cwd"))
    else:
        tally.unknown += 1


_HANDLERS: dict[str, Callable[[Payload, float | None, Tally], None]] = {
    "session_meta": _session,
    "turn_context": _turn,
    "response_item": _item,
    "event_msg": _event,
    "compacted": _nothing,
}


def find(
    worktree: Path,
    *,
    home: Path | None = None,
    env: Mapping[str, str],
    since: float | None = None,
) -> Path | None:
    """The most recently written rollout of the last month whose session ran in `worktree`.

    Rollouts are filed by the day they started; only their first lines are read, newest first,
    so finding one costs about one small read however long the history is.
    """
    target = os.path.realpath(worktree)
    candidates = sorted(_recent_rollouts(home or codex_home(env), since), reverse=True)
    for _, path in candidates:
        if _cwd_of(path) == target:
            return path
    return None


def codex_home(env: Mapping[str, str]) -> Path:
    configured = env.get("CODEX_HOME")
    if configured:
        return Path(configured).expanduser()
    home = env.get("HOME")
    return (Path(home) if home else Path.home()) / ".codex"


def _recent_rollouts(root: Path, since: float | None) -> Iterator[tuple[float, Path]]:
    days = sorted((root / "sessions").glob("[0-9]*/[0-9]*/[0-9]*"), reverse=True)
    for day in days[:SCAN_DAYS]:
        for path in day.glob("rollout-*.jsonl"):
            try:
                mtime = path.stat().st_mtime
            except OSError:
                continue
            if since is None or mtime >= since:
                yield mtime, path


def _cwd_of(path: Path) -> str | None:
    try:
        with path.open("rb") as handle:
            first = json.loads(handle.readline(FIRST_LINE_LIMIT))
    except (OSError, ValueError):
        return None
    if not isinstance(first, Mapping):
        return None
    meta = first.get("payload") if first.get("type") == "session_meta" else first
    cwd = meta.get("cwd") if isinstance(meta, Mapping) else None
    return os.path.realpath(cwd) if isinstance(cwd, str) else None


def locate(
    *,
    session_id: str | None,
    worktree: Path | None,
    home: Path | None,
    env: Mapping[str, str],
    since: float | None,
) -> Path | None:
    """Found by the worktree, among rollouts written since `since`.

    Every reader takes the same arguments from `find_transcript`; each uses what it needs.
    """
    return find(worktree, home=home, env=env, since=since) if worktree else None
