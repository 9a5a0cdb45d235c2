"""The hook's Python entry: one short line per event, and never a failure.

Claude Code, Gemini CLI and the simulated agent call a shell line first
(`hook_settings.spool_command`) that only leaves the payload in the agent's spool, where the
runner or a looking corral trims it with `build` below (sessions/agents/hook_spool.py); it hands
over to this entry when an answer may be due or the spool is missing, and this entry then keeps
the payload in the same spool, so the order holds.

Claude Code, Gemini CLI and the simulated agent pipe one JSON object per event on stdin; Codex
passes its `notify` payload as the last argument; Aider's `--notifications-command` passes
nothing. Without a spool, each call appends one trimmed line to
`$CORRAL_HOME/events/$CORRAL_AGENT.jsonl`.

The agent waits for it, so it must cost as little as possible:
it imports only os, sys and time, reads and writes JSON with CPython's C part of `json`
(`sessions/agents/hook_json.py`), and loads the kind's small hook part (how its CLI calls,
`sessions/agents/<kind>_hook.py`) and `sessions.agents.tools` only for tool events; it keeps no
file contents or tool output (only their sizes), and it always exits 0 without a word on stdout,
because Claude Code hands stdout of some events to the model and a failing hook must never
stop an agent. A kind's hook part may ask for more: Gemini CLI wants JSON on stdout, so in
its mode the entry prints `{}` and nothing else; and with `[conflicts] tell` on, a Claude
Code edit of a file another builder holds gets an answer (context for the model, or a question
to the user) on PreToolUse.
"""

from __future__ import annotations

import os
import sys
import time

if __name__ == "__main__" and not __package__:
    # Run as a file under `python -I -S`, without site-packages: corral's own folder goes
    # first, so `sessions.agents` is corral's whatever the agent's cwd holds.
    sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from sessions.agents import hook_json

# `typing` costs milliseconds at start-up; mypy treats this name as true, Python as false.
TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Mapping
    from typing import Any

    Environ = Mapping[str, str]

MAX_TEXT = 300
MAX_PATH = 4096
MAX_PATHS = 100
# Scalars worth keeping as they are: identity, where, why, and what kind of moment it is.
KEPT = (
    "session_id",
    "transcript_path",
    "cwd",
    "permission_mode",
    "tool_use_id",
    "notification_type",
    "source",
    "reason",
    "trigger",
    "stop_hook_active",
    "error",
    "error_type",
    "is_interrupt",
    "duration_ms",
    "agent_id",
    "agent_type",
    "agent_transcript_path",
    "model",
    "turn_id",
    "prompt_id",
)
PATH_TEXT = frozenset({"transcript_path", "cwd", "agent_transcript_path"})
# Bulky fields: only their size in characters is kept.
SIZED = (
    "tool_input",
    "tool_response",
    "prompt",
    "prompt_response",
    "last_assistant_message",
    "input_messages",
    "delta",
)
NAME_CHARS = frozenset("abcdefghijklmnopqrstuvwxyz0123456789-")
# Where the shell entry leaves each payload as it came, one file per event, for corral to trim:
# `$CORRAL_HOME/spool/$CORRAL_AGENT/` (sessions/agents/hook_spool.py).
SPOOL = "spool"
# Which files other builders hold, written by corral while it looks; older than this, ignored.
HOLDS_FILE = "holds.json"
HOLDS_TTL = 120.0


def main(argv: list[str] | None = None) -> int:
    """Record the event, whatever it takes; the agent only ever sees exit code 0."""
    received = time.time()
    args = sys.argv[1:] if argv is None else argv
    kind, event, argument = _options(args)
    from sessions.agents.hook_part import hook_part

    part = hook_part(kind)
    answer = part.answer
    try:
        raw = _raw(part.stdin, argument)
        spool = _spool(os.environ) if part.spools else None
        record = None
        if spool is None:
            record = build(payload_of(raw), kind, event, received, os.environ)
            append(record, os.environ)
        else:
            # The shell entry stepped aside (a name taken, or an answer may be due): the
            # payload joins the spool as it came, so events keep their order, and whoever
            # drains the spool trims it (and complains if it is not JSON).
            keep(spool, kind, raw or b"")
            if part.tells:
                record = _record_to_answer(raw, kind, event, received)
        if part.tells and record is not None and _answerable(record):
            answer = tell(record, os.environ, received)
    except Exception as error:
        complain(error, kind, os.environ)
    if answer is not None:
        _write(answer)
    return 0


def _answerable(record: dict[str, Any]) -> bool:
    """An edit's PreToolUse, the one moment an answer can still change the tool call."""
    return record["event"] == "PreToolUse" and record.get("cls") == "edit"


def _record_to_answer(
    raw: bytes | None, kind: str, event: str | None, received: float
) -> dict[str, Any] | None:
    """The record to answer from, when the payload reads; the spool's drain reports it if not."""
    try:
        return build(payload_of(raw), kind, event, received, os.environ)
    except ValueError:
        return None


def _options(args: list[str]) -> tuple[str, str | None, str | None]:
    """`--kind K`, `--event NAME`, and at most one positional JSON argument (Codex)."""
    kind, event, argument = "claude", None, None
    index = 0
    while index < len(args):
        word = args[index]
        if word in ("--kind", "--event") and index + 1 < len(args):
            if word == "--kind":
                kind = args[index + 1]
            else:
                event = args[index + 1]
            index += 2
            continue
        if not word.startswith("--"):
            argument = word
        index += 1
    return kind, event, argument


def _raw(stdin: bool, argument: str | None) -> bytes | None:
    """The event as it came; stdin is read only from kinds that pipe one (`HookPart.stdin`)."""
    if argument is not None:
        return argument.encode("utf-8", "surrogateescape")
    if stdin and not os.isatty(0):
        return sys.stdin.buffer.read()
    return None


def payload_of(raw: bytes | None) -> dict[str, Any]:
    """The event's JSON object: {} for nothing at all, an error for anything but an object."""
    if raw is None or not raw.strip():
        return {}
    value = hook_json.loads(raw)
    if not isinstance(value, dict):
        raise ValueError(f"expected a JSON object, got {type(value).__name__}")
    return value


def build(
    payload: dict[str, Any],
    kind: str,
    event: str | None,
    received: float,
    environ: Environ,
) -> dict[str, Any]:
    """The line to store: scalars that matter, sizes of bulky fields, the classified tool call."""
    from sessions.agents.hook_part import hook_part

    translate = hook_part(kind).translate
    if translate is not None:
        payload = translate(payload, event)
    name = payload.get("hook_event_name") or event
    record: dict[str, Any] = {
        "t": round(received, 6),
        "agent": environ.get("CORRAL_AGENT", ""),
        "kind": kind,
        "event": str(name)[:MAX_TEXT] if name is not None else "unknown",
    }
    for key in KEPT:
        _keep(record, key, payload.get(key))
    _keep(record, "message", payload.get("message"))
    sizes = {key: _size(payload[key]) for key in SIZED if payload.get(key) is not None}
    if sizes:
        record["sizes"] = sizes
    calls = payload.get("tool_calls")
    if isinstance(calls, list):
        record["tool_calls"] = len(calls)
    tool = payload.get("tool_name")
    if isinstance(tool, str) and tool:
        tool = tool[:MAX_TEXT]
        record.update(_tool(kind, tool, payload.get("tool_input"), _root(payload, environ)))
    return record


def _keep(record: dict[str, Any], key: str, value: object) -> None:
    """Store a scalar as it is; long text is cut, anything else is left out."""
    if isinstance(value, str):
        record[key] = value[: MAX_PATH if key in PATH_TEXT else MAX_TEXT]
    elif isinstance(value, bool | int | float):
        record[key] = value


def _size(value: object) -> int:
    """Characters, as text for strings and as compact JSON for the rest."""
    if isinstance(value, str):
        return len(value)
    try:
        return len(hook_json.dumps(value, ensure_ascii=False, separators=(",", ":")))
    except (TypeError, ValueError, RecursionError):
        return -1


def _root(payload: dict[str, Any], environ: Environ) -> str:
    """The agent's worktree: where its CLI was started, as the CLI itself reports it."""
    for key in ("CLAUDE_PROJECT_DIR", "GEMINI_PROJECT_DIR"):
        value = environ.get(key)
        if value:
            return value
    cwd = payload.get("cwd")
    return cwd if isinstance(cwd, str) and cwd else os.getcwd()


def _tool(kind: str, tool: str, arguments: object, root: str) -> dict[str, Any]:
    from sessions.agents.tools import classify

    call = classify(kind, tool, arguments if isinstance(arguments, dict) else None)
    fields: dict[str, Any] = {"tool": tool, "cls": call.cls}
    if call.paths:
        fields["paths"] = [_relative(path, root) for path in call.paths[:MAX_PATHS]]
    if call.command is not None:
        fields["command"] = call.command[:MAX_TEXT]
    return fields


def _relative(path: str, root: str) -> str:
    """A path inside the worktree relative to it; any other path as the agent gave it."""
    inside = _inside(path, root)
    if inside is None and os.path.isabs(path):
        inside = _inside(os.path.realpath(path), os.path.realpath(root))
    return (path if inside is None else inside)[:MAX_PATH]


def _inside(path: str, root: str) -> str | None:
    root = root.rstrip("/") or "/"
    if path == root:
        return "."
    prefix = root if root.endswith("/") else root + "/"
    return path[len(prefix) :] if path.startswith(prefix) else None


def _spool(environ: Environ) -> str | None:
    """The agent's spool folder, when corral made one for it (its runner does at start)."""
    home = environ.get("CORRAL_HOME")
    agent = environ.get("CORRAL_AGENT")
    if not home or not agent or not set(agent) <= NAME_CHARS:
        return None
    folder = os.path.join(home, SPOOL, agent)
    return folder if os.path.isdir(folder) else None


def keep(folder: str, kind: str, raw: bytes) -> str:
    """The payload, as it came, in a file of its own in the spool, named as no shell entry
    names one (`<pid>.p<n>.<kind>`); returns the name."""
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC
    number = 0
    while True:
        name = f"{os.getpid()}.p{number}.{kind}"
        try:
            fd = os.open(os.path.join(folder, name), flags, 0o600)
        except FileExistsError:
            number += 1
            continue
        break
    try:
        view = memoryview(raw)
        while view:
            view = view[os.write(fd, view) :]
    finally:
        os.close(fd)
    return name


def append(record: dict[str, Any], environ: Environ) -> None:
    """One line, one `write` on an O_APPEND descriptor, so concurrent hooks never interleave."""
    home = environ.get("CORRAL_HOME")
    agent = environ.get("CORRAL_AGENT")
    if not home or not agent:
        raise LookupError("CORRAL_HOME or CORRAL_AGENT is not set: not run by corral")
    if not set(agent) <= NAME_CHARS:
        raise ValueError(f"CORRAL_AGENT={agent!r} is not an agent name")
    line = (hook_json.dumps(record, separators=(",", ":")) + "\n").encode()
    append_lines(home, agent, line)


def append_lines(home: str, agent: str, line: bytes) -> None:
    """Whole lines, in one `write` on an O_APPEND descriptor, after any torn last line."""
    folder = os.path.join(home, "events")
    path = os.path.join(folder, f"{agent}.jsonl")
    flags = os.O_RDWR | os.O_APPEND | os.O_CREAT | os.O_CLOEXEC
    try:
        fd = os.open(path, flags, 0o600)
    except FileNotFoundError:
        os.mkdir(folder, 0o700)
        fd = os.open(path, flags, 0o600)
    try:
        # A call killed mid-write (or a full disk) leaves a torn last line: start on a line of
        # our own, in the same write, so this event is not glued to it and lost with it.
        size = os.fstat(fd).st_size
        if size and os.pread(fd, 1, size - 1) != b"\n":
            line = b"\n" + line
        os.write(fd, line)
    finally:
        os.close(fd)


def tell(record: dict[str, Any], environ: Environ, now: float) -> str | None:
    """What to answer an agent about to edit a file another builder holds, or None.

    corral writes `holds.json` while it looks at the herd (when `[conflicts] tell` is on); a
    file older than HOLDS_TTL means no corral is looking, and the agent is left alone.
    """
    home = environ.get("CORRAL_HOME")
    paths = record.get("paths")
    if not home or not isinstance(paths, list):
        return None
    where = os.path.join(home, HOLDS_FILE)
    try:
        if now - os.stat(where).st_mtime > HOLDS_TTL:
            return None
        with open(where, encoding="utf-8") as handle:
            data = hook_json.loads(handle.read())
    except (OSError, ValueError):
        return None
    holds = data.get("holds") if isinstance(data, dict) else None
    mode = data.get("tell") if isinstance(data, dict) else None
    if not isinstance(holds, dict) or mode not in ("warn", "block"):
        return None
    me = record.get("agent")
    held = []
    for path in paths:
        others = [a for a in holds.get(path) or () if isinstance(a, str) and a != me]
        if others:
            held.append(f"{path} (being changed by {', '.join(others)})")
    if not held:
        return None
    message = (
        f"corral: another agent of the herd is changing {'; '.join(held)}. Editing it too "
        "will conflict: coordinate through PROGRESS.md or notes, or pick other work."
    )
    output: dict[str, Any] = {"hookEventName": "PreToolUse"}
    if mode == "block":
        output.update(permissionDecision="ask", permissionDecisionReason=message)
    else:
        output["additionalContext"] = message
    return hook_json.dumps({"hookSpecificOutput": output})


def _write(text: str) -> None:
    try:
        os.write(1, (text + "\n").encode())
    except OSError:
        pass


def complain(error: BaseException, kind: str, environ: Environ) -> None:
    """A line in `hook-errors.log` when corral's folder is there; silence otherwise."""
    home = environ.get("CORRAL_HOME")
    if not home or isinstance(error, LookupError):
        return
    entry = {
        "t": round(time.time(), 6),
        "agent": environ.get("CORRAL_AGENT", ""),
        "kind": kind,
        "error": f"{type(error).__name__}: {error}"[:MAX_TEXT],
    }
    try:
        fd = os.open(
            os.path.join(home, "hook-errors.log"),
            os.O_WRONLY | os.O_APPEND | os.O_CREAT | os.O_CLOEXEC,
            0o600,
        )
    except OSError:
        return
    try:
        os.write(fd, (hook_json.dumps(entry) + "\n").encode())
    except OSError:
        pass
    finally:
        os.close(fd)


if __name__ == "__main__":
    sys.exit(main())
