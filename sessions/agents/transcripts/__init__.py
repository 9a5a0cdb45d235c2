"""Agent transcripts, read incrementally: what each agent did, spent, and is doing right now.

Claude Code, Codex and Gemini each keep an append-only log of a session. corral reads only what
was appended since it last looked (a byte offset per file; a half-written last line waits for
its end), so looking costs the same after ten hours as after ten seconds, and a one-shot command
saves where it stopped under `.corral/cache/` and goes on from there the next time it runs.
Content is never trusted: a line that is not JSON, or is JSON nobody understands, is skipped and
counted; a file that shrank or was replaced is read again from the start, and the update says so.

The parsers (one module per kind) turn records into facts on a `Tally`; the tally deduplicates
(a response written twice, a resumed session copying old messages into a new file) and keeps the
totals, so one tally serves every file of one agent.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
from collections.abc import Callable, Iterable, Mapping
from dataclasses import asdict, dataclass
from datetime import datetime
from enum import StrEnum
from importlib import import_module
from pathlib import Path
from types import ModuleType
from typing import Any, BinaryIO

from sessions.adapters.private import write_private
from sessions.agents.tools import ToolCall
from sessions.core.prices import context_window
from sessions.core.usage import Fingerprints, Tokens, Usage, UsageBook, context_fill

CHECKPOINT_FORMAT = 2
CHUNK_BYTES = 4 << 20
HEAD_BYTES = 1024
MAX_OPEN_TOOLS = 64

Record = dict[str, Any]
# Transcripts are UTF-8; decoding a line directly skips `json.loads`'s encoding detection.
_decode = json.JSONDecoder().decode


class Tail(StrEnum):
    """The last thing the main conversation shows, which the status engine reads as evidence."""

    NONE = "none"
    USER = "user"
    ASSISTANT = "assistant"
    TOOL_USE = "tool_use"
    TOOL_RESULT = "tool_result"
    INTERRUPTED = "interrupted"
    LOCAL = "local"


@dataclass(frozen=True)
class ToolUse:
    """One tool call found in a transcript, classified the same way as a hook's."""

    id: str | None
    call: ToolCall
    at: float | None

    @property
    def name(self) -> str:
        return self.call.tool


@dataclass(frozen=True)
class Response:
    """Token usage of one API response (its largest copy so far)."""

    id: str
    model: str
    tokens: Tokens
    at: float | None


@dataclass(frozen=True)
class TranscriptState:
    """Everything read so far, folded: totals, identity and the state of the conversation."""

    kind: str
    session_id: str | None
    cwd: str | None
    model: str | None
    usage: Usage
    runs: tuple[tuple[int, Usage], ...]
    responses: int
    last_response: Response | None
    reported_window: int | None  # the context window the transcript states (Codex does)
    last_assistant_at: float | None  # the model's latest output
    last_user_at: float | None  # the latest prompt, interrupt or slash command
    last_tool_at: float | None  # the latest tool call or tool result
    tail: Tail
    open_tools: tuple[str, ...]  # calls of the current turn still without a result
    lines: int  # records read
    garbage: int  # lines that were not a JSON object
    unknown: int  # records no parser understood
    restarts: int  # times a file shrank or was replaced and was read again

    @property
    def awaiting_tool(self) -> bool:
        """The last thing is a tool call with no result: running, or waiting for permission."""
        return self.tail is Tail.TOOL_USE

    @property
    def interrupted(self) -> bool:
        return self.tail is Tail.INTERRUPTED

    @property
    def last_at(self) -> float | None:
        times = [t for t in (self.last_assistant_at, self.last_user_at, self.last_tool_at) if t]
        return max(times) if times else None

    @property
    def window(self) -> int | None:
        """The window the transcript reports (Codex does), else the model table's."""
        if self.reported_window:
            return self.reported_window
        return context_window(self.last_response.model) if self.last_response else None

    @property
    def context_fill(self) -> float | None:
        """How full the window was on the latest response, as a fraction; None if unknown."""
        if self.last_response is None:
            return None
        return context_fill(self.last_response.tokens, self.window)


@dataclass(frozen=True)
class Update:
    """What one read found: new tool calls and responses, the totals, and any file read again."""

    tool_uses: tuple[ToolUse, ...]
    responses: tuple[Response, ...]
    state: TranscriptState
    restarted: tuple[str, ...] = ()


def timestamp(value: object) -> float | None:
    """Epoch seconds from an ISO-8601 stamp (or a number); None for anything else."""
    if isinstance(value, int | float) and not isinstance(value, bool):
        return float(value)
    if not isinstance(value, str):
        return None
    try:
        return datetime.fromisoformat(value).timestamp()
    except ValueError:
        return None


def count(value: object) -> int:
    """A token count from a record: missing is 0; anything but a number is not understood."""
    if value is None:
        return 0
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ValueError(f"not a token count: {value!r}")
    return int(value)


def mtime(path: Path) -> float:
    """When a file was last written; 0 for one that vanished meanwhile."""
    try:
        return path.stat().st_mtime
    except OSError:
        return 0.0


def _later(current: float | None, at: float | None) -> float | None:
    if at is None:
        return current
    return at if current is None or at > current else current


class Tally:
    """Facts from one agent's transcripts, deduplicated and folded; parsers report to it."""

    def __init__(self, kind: str) -> None:
        self.kind = kind
        self.book = UsageBook()
        self.tools = Fingerprints()
        self.session_id: str | None = None
        self.cwd: str | None = None
        self.model: str | None = None
        self.reported_window: int | None = None
        self.last_response: Response | None = None
        self.last_assistant_at: float | None = None
        self.last_user_at: float | None = None
        self.last_tool_at: float | None = None
        self.tail = Tail.NONE
        self.open_tools: list[str] = []
        self.unknown = 0
        self._new_tools: list[ToolUse] = []
        self._new_responses: list[Response] = []

    def session(self, session_id: object, cwd: object = None) -> None:
        if isinstance(session_id, str) and session_id:
            self.session_id = session_id
        if isinstance(cwd, str) and cwd:
            self.cwd = cwd

    def use_model(self, model: object) -> None:
        if isinstance(model, str) and model:
            self.model = model

    def response(self, key: str, model: str | None, tokens: Tokens, at: float | None) -> None:
        name = model or self.model or "unknown"
        if self.book.count(key, name, tokens, at):
            self.last_response = Response(key, name, tokens, at)
            self._new_responses.append(self.last_response)

    def tool_use(
        self, tool_id: object, call: ToolCall, at: float | None, main: bool = True
    ) -> None:
        """A call is reported once, but marks the conversation as waiting each time it is seen:
        a re-read file or a resumed copy replays its calls before their results."""
        self.last_tool_at = _later(self.last_tool_at, at)
        known_id = tool_id if isinstance(tool_id, str) and tool_id else None
        if known_id is None or self.tools.add(known_id):
            self._new_tools.append(ToolUse(known_id, call, at))
        if main:
            if known_id is not None and known_id not in self.open_tools:
                self.open_tools = [*self.open_tools, known_id][-MAX_OPEN_TOOLS:]
            self.tail = Tail.TOOL_USE

    def tool_result(self, tool_id: object, at: float | None, main: bool = True) -> None:
        self.last_tool_at = _later(self.last_tool_at, at)
        if not main:
            return
        self.open_tools = [open_id for open_id in self.open_tools if open_id != tool_id]
        self.tail = Tail.TOOL_USE if self.open_tools else Tail.TOOL_RESULT

    def assistant(self, at: float | None, main: bool = True) -> None:
        self.last_assistant_at = _later(self.last_assistant_at, at)
        if main:
            self.tail = Tail.TOOL_USE if self.open_tools else Tail.ASSISTANT

    def user(self, at: float | None) -> None:
        self._turn(at, Tail.USER)

    def interrupt(self, at: float | None) -> None:
        self._turn(at, Tail.INTERRUPTED)

    def local(self, at: float | None) -> None:
        """A slash command or its output: typed by the user, answered without the model."""
        self._turn(at, Tail.LOCAL)

    def _turn(self, at: float | None, tail: Tail) -> None:
        self.last_user_at = _later(self.last_user_at, at)
        self.open_tools = []
        self.tail = tail

    def drain(self) -> tuple[tuple[ToolUse, ...], tuple[Response, ...]]:
        found = tuple(self._new_tools), tuple(self._new_responses)
        self._new_tools, self._new_responses = [], []
        return found

    def to_json(self) -> dict[str, Any]:
        last = self.last_response
        return {
            "kind": self.kind,
            "identity": [self.session_id, self.cwd, self.model, self.reported_window],
            "times": [self.last_assistant_at, self.last_user_at, self.last_tool_at],
            "tail": self.tail.value,
            "open_tools": self.open_tools,
            "unknown": self.unknown,
            "last_response": None
            if last is None
            else [last.id, last.model, last.tokens.as_list(), last.at],
            "book": self.book.to_json(),
            "tools": self.tools.to_json(),
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Tally:
        tally = cls(str(data["kind"]))
        session_id, cwd, model, window = data["identity"]
        tally.session(session_id, cwd)
        tally.use_model(model)
        tally.reported_window = window if isinstance(window, int) else None
        times = [timestamp(t) if t is not None else None for t in data["times"]]
        tally.last_assistant_at, tally.last_user_at, tally.last_tool_at = times
        tally.tail = Tail(data["tail"])
        tally.open_tools = [str(tool_id) for tool_id in data["open_tools"]]
        tally.unknown = int(data["unknown"])
        if data["last_response"] is not None:
            key, model, counts, at = data["last_response"]
            tokens = Tokens.from_list(counts)
            tally.last_response = Response(str(key), str(model), tokens, timestamp(at))
        tally.book = UsageBook.from_json(data["book"])
        tally.tools = Fingerprints.from_json(data["tools"])
        return tally


@dataclass
class Cursor:
    """Where reading one file stopped, enough for another process to go on from there."""

    path: str
    offset: int = 0
    inode: int | None = None
    head: str = ""
    head_len: int = 0
    partial: bytes = b""
    size: int = -1
    mtime_ns: int = -1
    lines: int = 0
    garbage: int = 0
    restarts: int = 0

    def start_over(self) -> None:
        self.offset, self.head, self.head_len, self.partial = 0, "", 0, b""
        self.restarts += 1

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["partial"] = base64.b64encode(self.partial).decode("ascii")
        return data

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Cursor:
        partial = data["partial"]
        if not isinstance(partial, str):
            raise ValueError("damaged cursor: partial")
        values = {**data, "partial": base64.b64decode(partial, validate=True)}
        cursor = cls(**values)
        numbers = (cursor.offset, cursor.head_len, cursor.size, cursor.mtime_ns, cursor.lines)
        if not all(type(n) is int for n in (*numbers, cursor.garbage, cursor.restarts)):
            raise ValueError("damaged cursor: counts")
        if not isinstance(cursor.path, str) or not isinstance(cursor.head, str):
            raise ValueError("damaged cursor: path")
        if cursor.inode is not None and type(cursor.inode) is not int:
            raise ValueError("damaged cursor: inode")
        return cursor


Feed = Callable[[Record], None]


def read_jsonl(cursor: Cursor, feed: Feed) -> str | None:
    """Feeds every whole record appended since the cursor; returns why it started over, if it
    did. A missing file reads as empty and keeps the cursor for when it comes back."""
    try:
        handle = open(cursor.path, "rb")  # noqa: SIM115 - a missing file is not an error
    except OSError:
        return None
    with handle:
        stat = os.fstat(handle.fileno())
        reason = _changed(cursor, handle, stat)
        if reason is not None:
            cursor.start_over()
        cursor.inode = stat.st_ino
        handle.seek(cursor.offset)
        while chunk := handle.read(CHUNK_BYTES):
            cursor.offset += len(chunk)
            _take(cursor, chunk, feed)
        _remember_head(cursor, handle)
    return reason


def _changed(cursor: Cursor, handle: BinaryIO, stat: os.stat_result) -> str | None:
    if cursor.inode is not None and stat.st_ino != cursor.inode:
        return "replaced"
    if stat.st_size < cursor.offset:
        return "truncated"
    if cursor.head_len and _head(handle, cursor.head_len) != cursor.head:
        return "rewritten"
    return None


def _head(handle: BinaryIO, length: int) -> str:
    data = os.pread(handle.fileno(), length, 0)
    return hashlib.blake2b(data, digest_size=16).hexdigest()


def _remember_head(cursor: Cursor, handle: BinaryIO) -> None:
    """The first bytes identify the file: a truncated file that regrew past the offset between
    two reads (or a new file that got the old inode number) shows up as different bytes."""
    length = min(HEAD_BYTES, cursor.offset)
    if length > cursor.head_len:
        cursor.head, cursor.head_len = _head(handle, length), length


def _take(cursor: Cursor, chunk: bytes, feed: Feed) -> None:
    lines = (cursor.partial + chunk if cursor.partial else chunk).split(b"\n")
    cursor.partial = lines.pop()
    for raw in lines:
        _take_line(cursor, raw, feed)


def _take_line(cursor: Cursor, raw: bytes, feed: Feed) -> None:
    if not raw or raw.isspace():
        return
    try:
        record = _decode(raw.decode())
    except (ValueError, RecursionError):
        cursor.garbage += 1
        return
    if not isinstance(record, dict):
        cursor.garbage += 1
        return
    cursor.lines += 1
    feed(record)


def read_document(cursor: Cursor, feed: Feed) -> str | None:
    """A whole-file JSON transcript (Gemini's older `.json` chats) is rewritten in place on every
    message, so it is read again whole whenever its size, time or inode changed; the tally's
    deduplication keeps the totals right. Its cost grows with the file, unlike JSONL."""
    try:
        stat = os.stat(cursor.path)
        if (stat.st_size, stat.st_mtime_ns, stat.st_ino) == (
            cursor.size,
            cursor.mtime_ns,
            cursor.inode,
        ):
            return None
        data = Path(cursor.path).read_bytes()
    except OSError:
        return None
    cursor.size, cursor.mtime_ns, cursor.inode = stat.st_size, stat.st_mtime_ns, stat.st_ino
    cursor.offset = len(data)
    _take_line(cursor, data, feed)
    return None


def reader(kind: str) -> ModuleType | None:
    """The kind's transcript reader, `sessions/agents/transcripts/<kind>.py`, or None if it keeps no
    transcript corral reads. A reader has `feed(record, tally)` and `locate(...)`.

    Asked for every agent on every look: a kind without one is remembered, since a failed
    import searches the package's folders again each time (a tenth of a look at 30 agents)."""
    if kind in _NO_READER or not (kind.isalpha() and kind.islower()):
        return None
    try:
        return import_module(f"{__name__}.{kind}")
    except ModuleNotFoundError:
        _NO_READER.add(kind)
        return None


_NO_READER: set[str] = set()


def _parser(kind: str) -> Callable[[Record, Tally], None]:
    module = reader(kind)
    if module is None:
        raise ValueError(f"no transcript reader for {kind!r}")
    feed: Callable[[Record, Tally], None] = module.feed
    return feed


class Transcript:
    """One agent's transcript files read as one stream, oldest first, into one tally."""

    def __init__(self, kind: str, paths: Iterable[str | os.PathLike[str]] = ()) -> None:
        self.kind = kind
        self._feed = _parser(kind)
        self.tally = Tally(kind)
        self.cursors: list[Cursor] = []
        for path in paths:
            self.add(path)

    @property
    def paths(self) -> tuple[Path, ...]:
        return tuple(Path(cursor.path) for cursor in self.cursors)

    def add(self, path: str | os.PathLike[str]) -> None:
        """Another file of the same agent, e.g. the new file of a resumed session."""
        if os.fspath(path) not in (cursor.path for cursor in self.cursors):
            self.cursors.append(Cursor(os.fspath(path)))

    def note_run(self, number: int, started: float) -> None:
        """Responses stamped from `started` on count for run `number`. Call it before reading:
        the journal records a run's start before the agent can write a line of it."""
        self.tally.book.note_run(number, started)

    def read(self) -> Update:
        restarted: list[str] = []
        for cursor in self.cursors:
            reader = read_document if cursor.path.endswith(".json") else read_jsonl
            reason = reader(cursor, self._record)
            if reason is not None:
                restarted.append(f"{cursor.path} was {reason}: read again from the start")
        tool_uses, responses = self.tally.drain()
        return Update(tool_uses, responses, self.state(), tuple(restarted))

    def _record(self, record: Record) -> None:
        try:
            self._feed(record, self.tally)
        except (KeyError, TypeError, ValueError, AttributeError, IndexError):
            self.tally.unknown += 1

    def state(self) -> TranscriptState:
        tally = self.tally
        return TranscriptState(
            kind=self.kind,
            session_id=tally.session_id,
            cwd=tally.cwd,
            model=tally.model,
            usage=tally.book.usage(),
            runs=tally.book.runs(),
            responses=tally.book.responses,
            last_response=tally.last_response,
            reported_window=tally.reported_window,
            last_assistant_at=tally.last_assistant_at,
            last_user_at=tally.last_user_at,
            last_tool_at=tally.last_tool_at,
            tail=tally.tail,
            open_tools=tuple(tally.open_tools),
            lines=sum(cursor.lines for cursor in self.cursors),
            garbage=sum(cursor.garbage for cursor in self.cursors),
            unknown=tally.unknown,
            restarts=sum(cursor.restarts for cursor in self.cursors),
        )

    def to_json(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "files": [cursor.to_json() for cursor in self.cursors],
            "tally": self.tally.to_json(),
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Transcript:
        transcript = cls(str(data["kind"]))
        transcript.cursors = [Cursor.from_json(item) for item in data["files"]]
        transcript.tally = Tally.from_json(data["tally"])
        return transcript


def checkpoint_path(cache_dir: Path, key: str) -> Path:
    digest = hashlib.sha256(key.encode()).hexdigest()[:32]
    return cache_dir / "transcripts" / f"{digest}.json"


def save_checkpoint(cache_dir: Path, key: str, transcript: Transcript) -> Path:
    """Writes where reading stopped, atomically (a reader sees the old or the new whole file).
    `key` is usually the transcript's path; `cache_dir` is the repository's `.corral/cache`."""
    body = json.dumps(
        {"format": CHECKPOINT_FORMAT, "key": key, **transcript.to_json()},
        separators=(",", ":"),
    ).encode()
    return write_private(checkpoint_path(cache_dir, key), body)


def load_checkpoint(cache_dir: Path, key: str) -> Transcript | None:
    """The saved reader for `key`, or None (missing, damaged, another format): start over."""
    try:
        data = json.loads(checkpoint_path(cache_dir, key).read_bytes())
        if data.get("format") != CHECKPOINT_FORMAT or data.get("key") != key:
            return None
        return Transcript.from_json(data)
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        return None


def find_transcript(
    kind: str,
    *,
    session_id: str | None = None,
    worktree: Path | None = None,
    home: Path | None = None,
    env: Mapping[str, str] | None = None,
    since: float | None = None,
) -> Path | None:
    """Where an agent's transcript is, or None if it has not written one (yet).

    Each kind's reader says how it is found (by the session id corral launched it with, or by
    the worktree it runs in; `since` is e.g. the agent's launch). `home` replaces the CLI's own
    folder (~/.claude, ~/.codex, ~/.gemini) and `env` the environment, for tests.
    """
    module = reader(kind)
    if module is None:
        return None
    env = os.environ if env is None else env
    found: Path | None = module.locate(
        session_id=session_id, worktree=worktree, home=home, env=env, since=since
    )
    return found
