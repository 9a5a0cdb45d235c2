"""Claude Code transcripts: `<CLAUDE_CONFIG_DIR or ~/.claude>/projects/<slug>/<session-id>.jsonl`.

One JSON object per line, its `type` saying what it is. One API response is written as several
assistant lines (one per content block) that repeat its usage, and a resumed session copies old
lines into a new file; the tally counts each message id once, keeping the largest copy. Lines of
a subagent (`isSidechain`) count for tokens and tool calls but not for the main conversation's
state. The slug is the cwd with non-alphanumerics as `-`, but varies between versions, so the
file is found by the session id corral launched Claude with.
"""

from __future__ import annotations

import glob
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from sessions.agents.tools import classify
from sessions.agents.transcripts import Record, Tally, count, mtime, timestamp
from sessions.core.usage import Tokens

INTERRUPTED = "[Request interrupted by user"
SYNTHETIC_MODEL = "<synthetic>"
LOCAL_PREFIXES = (
    "<command-name>",
    "<command-message>",
    "<local-command-stdout>",
    "<local-command-stderr>",
    "<local-command-caveat>",
)
# Lines that carry nothing corral needs (seen in 2.1.330: tests/data/claude/transcript.jsonl);
# any other type is counted as not understood.
IGNORED = frozenset(
    {
        "system",
        "summary",
        "file-history-snapshot",
        "file-history-delta",
        "progress",
        "queue-operation",
        "custom-title",
        "ai-title",
        "attachment",
        "mode",
        "permission-mode",
        "atis-latch",
        "tools-used",
        "last-prompt",
        "api-request",
        "api-request-shape",
        "api-request-blob",
        "cost-state",
    }
)


def feed(record: Record, tally: Tally) -> None:
    kind = record.get("type")
    at = timestamp(record.get("timestamp"))
    if kind == "assistant":
        _assistant(record, at, tally)
    elif kind == "user":
        _user(record, at, tally)
    elif kind not in IGNORED:
        tally.unknown += 1
        return
    tally.session(record.get("sessionId"), record.get("cwd"))


def _assistant(record: Record, at: float | None, tally: Tally) -> None:
    message = _message(record)
    main = not record.get("isSidechain")
    model = message.get("model")
    real = isinstance(model, str) and model != SYNTHETIC_MODEL
    if real and main:
        tally.use_model(model)
    usage = message.get("usage")
    key = message.get("id") or record.get("requestId") or record.get("requestRef")
    if real and isinstance(usage, Mapping) and isinstance(key, str):
        tally.response(key, model, _tokens(usage), at)
    tally.assistant(at, main)
    for block in _blocks(message):
        if block.get("type") == "tool_use":
            arguments = block.get("input")
            call = classify("claude", str(block.get("name")), _mapping_or_none(arguments))
            tally.tool_use(block.get("id"), call, at, main)


def _user(record: Record, at: float | None, tally: Tally) -> None:
    message = _message(record)
    if record.get("isMeta"):
        return
    main = not record.get("isSidechain")
    content = message.get("content")
    if isinstance(content, str):
        _text(content, at, tally, main)
        return
    for block in _blocks(message):
        if block.get("type") == "tool_result":
            tally.tool_result(block.get("tool_use_id"), at, main)
        elif block.get("type") == "text":
            _text(block.get("text"), at, tally, main)


def _text(text: object, at: float | None, tally: Tally, main: bool) -> None:
    if not main or not isinstance(text, str):
        return
    stripped = text.lstrip()
    if stripped.startswith(INTERRUPTED):
        tally.interrupt(at)
    elif stripped.startswith(LOCAL_PREFIXES):
        tally.local(at)
    else:
        tally.user(at)


def _tokens(usage: Mapping[str, Any]) -> Tokens:
    details = usage.get("output_tokens_details")
    thinking = details.get("thinking_tokens") if isinstance(details, Mapping) else None
    split = usage.get("cache_creation")
    hour = split.get("ephemeral_1h_input_tokens") if isinstance(split, Mapping) else None
    return Tokens(
        input=count(usage.get("input_tokens")),
        output=count(usage.get("output_tokens")),
        cache_read=count(usage.get("cache_read_input_tokens")),
        cache_write=count(usage.get("cache_creation_input_tokens")),
        reasoning=count(thinking),
        cache_write_1h=count(hour),
    )


def _message(record: Record) -> Mapping[str, Any]:
    message = record.get("message")
    if not isinstance(message, Mapping):
        raise ValueError("a conversation line without a message")
    return message


def _blocks(message: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    content = message.get("content")
    if not isinstance(content, list):
        return []
    return [block for block in content if isinstance(block, Mapping)]


def _mapping_or_none(value: object) -> Mapping[str, Any] | None:
    return value if isinstance(value, Mapping) else None


def find(session_id: str, *, home: Path | None = None, env: Mapping[str, str]) -> Path | None:
    """The session's file under any project slug; the newest if several claim the id."""
    if not session_id or "/" in session_id or session_id in (".", ".."):
        return None
    root = home or config_dir(env)
    pattern = str(root / "projects" / "*" / f"{glob.escape(session_id)}.jsonl")
    found = [Path(name) for name in glob.glob(pattern)]
    return max(found, key=mtime, default=None)


def config_dir(env: Mapping[str, str]) -> Path:
    configured = env.get("CLAUDE_CONFIG_DIR")
    if configured:
        return Path(configured).expanduser()
    home = env.get("HOME")
    return (Path(home) if home else Path.home()) / ".claude"


def locate(
    *,
    session_id: str | None,
    worktree: Path | None,
    home: Path | None,
    env: Mapping[str, str],
    since: float | None,
) -> Path | None:
    """Found by the session id corral launched it with.

    Every reader takes the same arguments from `find_transcript`; each uses what it needs.
    """
    return find(session_id, home=home, env=env) if session_id else None
