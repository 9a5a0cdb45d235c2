"""The append-only event log: appending, rotating, and reading it incrementally or from the end.

The fold that turns its events into per-agent facts is in `fold.py`.

Everything corral learns or does is a line here, so closing corral, or `kill -9` of it, loses
nothing: the next start folds the same lines into the same picture. Several processes append at
once (the runner in every pane, the command line, the app); each event is written with a single
`write` on an O_APPEND descriptor, which keeps lines whole on local filesystems.

Every record starts on a line of its own, whatever the file ends with: a writer killed in the
middle of a line, or a full disk, leaves a torn last line, and the next appender writes a newline
before its record, in the same `write`. Readers skip the torn fragment (and, in lines an older
corral glued together, still find the record after it).

The file is rotated: once `journal.jsonl` passes `ROTATE_BYTES`, it is renamed
`journal.<n>.jsonl` (1 the oldest) and the next append starts a new one. Rotated files are
history and stay where they are: a reader from the beginning reads them in order before the
live file, a reader that was in the file when it was rotated finishes it first, and `tail`
(what `corral log` shows) reads back from the live file into them. Appenders hold a shared lock
on the file while they write and the rotation an exclusive one, so no event lands in a file
after it was rotated.

A `Checkpoint` saves a fold with the position in the journal it covers, so a new process reads
only what was appended since; it is checked against the file (identity, length, the bytes before
the position) before it is used, and rebuilt from the journal when it is missing or does not fit.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import json
import os
import re
import time
from pathlib import Path

from sessions.adapters.private import private_folder
from sessions.core.errors import JournalError

# The runner in every pane appends here and reads nothing: names only mypy reads stay out of
# its memory. mypy reads this as true, Python as false.
TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable, Generator, Iterable, Iterator
    from typing import IO, Any

    from sessions.core.events import Event

Ident = tuple[int, int]  # (st_dev, st_ino): which file, whatever its name now

ROTATE_BYTES = 16 << 20  # the live file is rotated once it holds this much
READ_CHUNK = 4 << 20  # a reader holds at most about this much of the file at once
BACK_CHUNK = 256 << 10  # `tail` reads back in blocks of this size
MARK_BYTES = 4096  # a checkpoint checks this many bytes at the start and before its position
APPEND_TRIES = 8
APPEND_WAIT = 2.0  # seconds an append waits for a rotation under way
ROTATE_WAIT = 0.5  # seconds a rotation waits for the appends under way
RECORD_START = b'{"t":'  # how every record `append` writes begins


class Journal:
    """`.corral/journal.jsonl`: written by many processes, read incrementally by byte offset.

    One instance is both an appender and a reader with a position of its own; `read_new` goes
    on from that position, across a rotation, and starts over in a file that was cut short or
    replaced. `read_bytes` counts what the reader has read from disk.
    """

    def __init__(self, path: Path) -> None:
        self.path = path
        self.skipped = 0
        self.read_bytes = 0
        self._stop: tuple[Ident | None, int] | None = None  # where `iter_until` stops
        self._stopped = False
        self._place(None, 0, 0, whole=True)

    # -- appending -------------------------------------------------------------------------

    def append(self, event: str, agent: str | None = None, **data: Any) -> Event:
        record: Event = {"t": round(time.time(), 3), "event": event}
        if agent is not None:
            record["agent"] = agent
        record.update(data)
        line = (json.dumps(record, separators=(",", ":"), default=str) + "\n").encode()
        try:
            self._append(line)
        except OSError as error:
            raise JournalError(_cannot_append(self.path, error)) from error
        return record

    def _append(self, line: bytes) -> None:
        private_folder(self.path.parent)
        for attempt in range(APPEND_TRIES):
            fd = os.open(self.path, os.O_RDWR | os.O_APPEND | os.O_CREAT | os.O_CLOEXEC, 0o600)
            try:
                # Without the lock (a filesystem without locks, a rotating process stopped
                # with ^Z) the record is written all the same.
                _lock(fd, fcntl.LOCK_SH, APPEND_WAIT)
                # Rotated between the open and the lock: the record belongs in the new file.
                if _is_current(self.path, fd) or attempt == APPEND_TRIES - 1:
                    os.write(fd, _on_own_line(fd, line))
                    return
            finally:
                os.close(fd)  # and with it the lock

    def rotate(self, limit: int = ROTATE_BYTES) -> Path | None:
        """Rename the live file to the next `journal.<n>.jsonl` once it holds `limit` bytes or
        more; the rotated file, or None when nothing was rotated.

        A reader that has not yet read `limit` bytes of the live file asks nothing of the disk:
        this runs on every look."""
        if self.read_bytes and self._offset < limit:
            return None
        try:
            fd = os.open(self.path, os.O_RDONLY | os.O_CLOEXEC)
        except OSError:
            return None
        try:
            if os.fstat(fd).st_size < limit:
                return None
            # Every append under way ends first. A writer frozen holding its lock (an agent
            # paused mid-append) must not hang the command: rotate another time.
            if not _lock(fd, fcntl.LOCK_EX, ROTATE_WAIT):
                return None
            if not _is_current(self.path, fd):
                return None  # another process rotated it meanwhile
            target = segment_path(self.path, max(segments(self.path), default=0) + 1)
            if target.exists():
                return None
            os.rename(self.path, target)
            return target
        except OSError:
            return None
        finally:
            os.close(fd)

    # -- reading ---------------------------------------------------------------------------

    def read_new(self) -> list[Event]:
        """Events appended since the last call; a half-written last line waits for its end."""
        return list(self.iter_new())

    def iter_new(self) -> Iterator[Event]:
        """`read_new` a chunk at a time, for a fold of a long history in bounded memory."""
        for lines in self._new_lines():
            yield from self._parse(lines)

    def iter_until(self, other: Journal) -> Iterator[Event]:
        """`iter_new`, but no further than where `other` has read to: a reader catching up
        with another one, to be fed by it from there on."""
        self._stop = (other._ident, other._offset - len(other._partial))
        self._stopped = False
        try:
            yield from self.iter_new()
        finally:
            self._stop = None

    def grew(self) -> bool:
        """Whether there may be something new to read, asking the disk only for the live file's
        identity and size: a reader at the end of the live file need not open it."""
        if self._segment is not None or self._ident is None:
            return True
        live = _stat(self.path)
        return live is None or _ident(live) != self._ident or live.st_size != self._offset

    def start_near_end(self, tail: int) -> None:
        """Read only about the last `tail` bytes from now on: enough recent events to judge by,
        without a cost that grows with how long the agent has run. Right after a rotation the
        live file is short, and the rest of the `tail` comes from the end of the rotated one."""
        live = _stat(self.path)
        size = live.st_size if live is not None else 0
        if live is not None and size > tail:
            self._place(_ident(live), None, size - tail, skip_first=True)
            return
        numbers = segments(self.path)
        rotated = _stat(segment_path(self.path, numbers[-1])) if numbers else None
        if rotated is not None and (live is None or _ident(rotated) != _ident(live)):
            wanted = tail - size
            if rotated.st_size > wanted:
                self._place(_ident(rotated), numbers[-1], rotated.st_size - wanted, skip_first=True)
            else:
                self._place(_ident(rotated), numbers[-1], 0, whole=True)
        elif live is not None:
            self._place(_ident(live), None, 0, whole=True)

    def read_all(self) -> list[Event]:
        """Every whole event, rotated files first; leaves the position of `read_new` alone."""
        reader = Journal(self.path)
        events = reader.read_new()
        self.skipped = reader.skipped
        return events

    def tail(self, count: int, keep: Callable[[Event], bool] = lambda event: True) -> list[Event]:
        """The last `count` events that `keep` accepts, oldest first, read back from the end
        (into rotated files when needed): it costs what those events take, not the history."""
        found: list[Event] = []
        with contextlib.closing(self.back()) as events:
            for event in events:
                if keep(event):
                    found.append(event)
                    if len(found) >= count:
                        break
        return found[::-1]

    def back(self) -> Generator[Event, None, None]:
        """Every whole event, newest first, read back from the end (into rotated files when
        needed) for as long as the caller goes on: close it to stop reading."""
        self.skipped = 0
        with contextlib.closing(self._lines_back()) as lines:
            for raw in lines:
                self.read_bytes += len(raw) + 1
                yield from self._parse([raw])

    def _lines_back(self) -> Generator[bytes, None, None]:
        live = _open(self.path)
        live_ident = None
        if live is not None:
            with live:
                live_ident = _ident(os.fstat(live.fileno()))
                yield from _lines_backwards(live, last_is_whole=False)
        for number in reversed(segments(self.path)):
            handle = _open(segment_path(self.path, number))
            if handle is None:
                continue
            with handle:  # (the live file, rotated while this read it, was read already)
                if _ident(os.fstat(handle.fileno())) != live_ident:
                    yield from _lines_backwards(handle, last_is_whole=True)

    # -- positions, for checkpoints ----------------------------------------------------------

    def mark(self) -> dict[str, Any] | None:
        """Where the reader is, as a checkpoint keeps it: which file, the offset of the end of
        its last whole line, and digests of the file's first bytes and of those just before the
        offset. None when the reader started mid-file or has read nothing."""
        boundary = self._offset - len(self._partial)
        if self._ident is None or not self._whole or boundary <= 0:
            return None
        return {
            "file": list(self._ident),
            "segment": self._segment,
            "offset": boundary,
            "head": digest(self._head),
            "tail": digest(self._tail),
        }

    def resume(self, mark: Any) -> bool:
        """Go on from `mark` if the file it names is still there, in the live file or a rotated
        one, at least as long, with the same bytes at its start and before the offset; False
        (and the position unchanged) otherwise."""
        try:
            ident = (int(mark["file"][0]), int(mark["file"][1]))
            offset = int(mark["offset"])
            head, tail = str(mark["head"]), str(mark["tail"])
        except (KeyError, IndexError, TypeError, ValueError):
            return False
        if offset <= 0:
            return False
        places: list[tuple[int | None, Path]] = [(None, self.path)]
        places += [(n, segment_path(self.path, n)) for n in reversed(segments(self.path))]
        for segment, path in places:
            handle = _open(path)
            if handle is None:
                continue
            with handle:
                info = os.fstat(handle.fileno())
                if _ident(info) != ident:
                    continue
                if info.st_size < offset:
                    return False
                first = os.pread(handle.fileno(), min(MARK_BYTES, offset), 0)
                before = max(0, offset - MARK_BYTES)
                last = os.pread(handle.fileno(), offset - before, before)
                if digest(first) != head or digest(last) != tail:
                    return False
                self.read_bytes += len(first) + len(last)
                self._place(ident, segment, offset, head=first, tail=last, whole=True)
                return True
        return False

    # -- inside ----------------------------------------------------------------------------

    def _place(
        self,
        ident: Ident | None,
        segment: int | None,
        offset: int,
        skip_first: bool = False,
        head: bytes = b"",
        tail: bytes = b"",
        whole: bool = False,
    ) -> None:
        """Position the reader. `segment`: the rotated file's number, None for the live file,
        0 for before the first rotated file (a reader from the beginning). `whole`: what was
        read of this file started at its first byte (`head` and `tail` hold its bytes before
        `offset`), so a mark can be made."""
        self._ident = ident
        self._segment = segment
        self._offset = offset
        self._partial = b""
        self._skip_first = skip_first
        self._head = head
        self._tail = tail
        self._whole = whole

    def _new_lines(self) -> Iterator[list[bytes]]:
        live = _open(self.path)
        try:
            live_ident = _ident(os.fstat(live.fileno())) if live is not None else None
            if self._segment is None and self._ident != live_ident:
                # The file this reader was in is not the live one any more: rotated (finish
                # it first), or deleted or replaced (what it held after the position is gone).
                found = self._find(self._ident) if self._ident is not None else None
                if found is not None:
                    self._segment = found
                else:
                    self._place(live_ident, None, 0, whole=True)
            if self._segment is not None:
                yield from self._rotated(live_ident)
            if self._stopped:
                return
            if live is not None and self._segment is None and self._ident == live_ident:
                yield from self._read(live, final=False)
        finally:
            if live is not None:
                live.close()

    def _rotated(self, live_ident: Ident | None) -> Iterator[list[bytes]]:
        """The rest of the rotated file the reader is in, every later one, then the live file
        from its start."""
        assert self._segment is not None
        if self._segment > 0:
            handle = _open(segment_path(self.path, self._segment))
            if handle is not None:
                with handle:
                    if _ident(os.fstat(handle.fileno())) == self._ident:
                        yield from self._read(handle, final=True)
            if self._stopped:
                return
        for number in segments(self.path):
            if number <= self._segment:
                continue
            handle = _open(segment_path(self.path, number))
            if handle is None:
                continue
            with handle:
                ident = _ident(os.fstat(handle.fileno()))
                if ident == live_ident:
                    break  # the live file, rotated after it was opened: read as the live one
                self._place(ident, number, 0, whole=True)
                yield from self._read(handle, final=True)
            if self._stopped:
                return
        if live_ident is not None:
            self._place(live_ident, None, 0, whole=True)

    def _find(self, ident: Ident) -> int | None:
        for number in reversed(segments(self.path)):
            info = _stat(segment_path(self.path, number))
            if info is not None and _ident(info) == ident:
                return number
        return None

    def _read(self, handle: IO[bytes], final: bool) -> Iterator[list[bytes]]:
        """From the position to the end of `handle`; `final`: nothing more will be appended to
        it (a rotated file), so a last line without its newline is whole."""
        if self._offset and not self._same_before(handle):
            self._place(self._ident, self._segment, 0, whole=True)  # cut short: start over
        stop = self._stop[1] if self._stop is not None and self._stop[0] == self._ident else None
        handle.seek(self._offset)
        while chunk := handle.read(READ_CHUNK if stop is None else _within(stop - self._offset)):
            yield self._take(chunk)
        if stop is not None and self._offset >= stop:
            self._stopped = True
            return
        if final and self._partial:
            yield self._take(b"", flush=True)

    def _same_before(self, handle: IO[bytes]) -> bool:
        """Whether the file still holds what this reader took just before its position: not
        when it was cut short, or emptied and written again, in place."""
        if os.fstat(handle.fileno()).st_size < self._offset:
            return False
        boundary = self._offset - len(self._partial)
        kept = self._tail
        return not kept or os.pread(handle.fileno(), len(kept), boundary - len(kept)) == kept

    def _take(self, chunk: bytes, flush: bool = False) -> list[bytes]:
        start = self._offset - len(self._partial)  # where the bytes not yet taken begin
        self._offset += len(chunk)
        self.read_bytes += len(chunk)
        data = self._partial + chunk
        lines = data.split(b"\n")
        rest = b"" if flush else lines.pop()
        taken = data[: len(data) - len(rest)]
        if self._whole and start < MARK_BYTES:
            self._head = (self._head + taken[:MARK_BYTES])[:MARK_BYTES]
        self._tail = (self._tail + taken[-MARK_BYTES:])[-MARK_BYTES:]
        self._partial = rest
        if self._skip_first and lines:
            lines = lines[1:]
            self._skip_first = False
        return lines

    def _parse(self, lines: Iterable[bytes]) -> Iterator[Event]:
        for raw in lines:
            if not raw.strip():
                continue
            try:
                record = json.loads(raw)
            except ValueError:
                self.skipped += 1
                found = _glued(raw)
                if found is not None:
                    yield found
                continue
            if isinstance(record, dict) and isinstance(record.get("event"), str):
                yield record
            else:
                self.skipped += 1


def _within(left: int) -> int:
    """How much to read when `left` bytes remain before a stop: never a negative size, which
    would read to the end."""
    return max(0, min(READ_CHUNK, left))


def _cannot_append(path: Path, error: OSError) -> str:
    fix = (
        "free some space on that disk and try again"
        if error.errno in (errno.ENOSPC, errno.EDQUOT)
        else "check that you can write there and try again"
    )
    return f"corral could not write its journal {path} ({error.strerror}): {fix}."


def _glued(raw: bytes) -> Event | None:
    """The whole record at the end of a line whose start is a torn fragment: what an older
    corral wrote when it appended after a partial write."""
    at = raw.find(RECORD_START, 1)
    while at > 0:
        try:
            record = json.loads(raw[at:])
        except ValueError:
            at = raw.find(RECORD_START, at + 1)
            continue
        if isinstance(record, dict) and isinstance(record.get("event"), str):
            return record
        return None
    return None


def _lock(fd: int, kind: int, wait: float) -> bool:
    """`flock` within `wait` seconds; False when it could not be had."""
    end = time.monotonic() + wait
    while True:
        try:
            fcntl.flock(fd, kind | fcntl.LOCK_NB)
            return True
        except BlockingIOError:
            if time.monotonic() >= end:
                return False
            time.sleep(0.002)
        except OSError:
            return False


def _on_own_line(fd: int, line: bytes) -> bytes:
    """`line`, after a newline when the file ends in the middle of a line (a torn write).

    Two appenders may both see the torn end and both add a newline: that makes an empty line,
    which readers skip; neither record is glued to anything."""
    size = os.fstat(fd).st_size
    if size and os.pread(fd, 1, size - 1) != b"\n":
        return b"\n" + line
    return line


def _lines_backwards(handle: IO[bytes], last_is_whole: bool) -> Iterator[bytes]:
    """The lines of `handle`, last first. A last line without a newline is still being written
    (left out) unless `last_is_whole`."""
    position = os.fstat(handle.fileno()).st_size
    pending = b""  # the start of the earliest line seen, which may begin in an earlier block
    ended = False  # the part after the file's last newline has been dealt with
    while position > 0:
        start = max(0, position - BACK_CHUNK)
        handle.seek(start)
        block = handle.read(position - start)
        position = start
        parts = (block + pending).split(b"\n")
        pending = parts.pop(0)
        if parts and not ended:
            last = parts.pop()
            ended = True
            if last and last_is_whole:
                yield last
        yield from reversed(parts)
    if pending and (ended or last_is_whole):
        yield pending


def segment_path(path: Path, number: int) -> Path:
    """The `number`th rotated file of `path`: journal.jsonl -> journal.3.jsonl."""
    return path.with_name(f"{path.stem}.{number}{path.suffix}")


def segments(path: Path) -> list[int]:
    """The numbers of `path`'s rotated files, oldest first."""
    pattern = re.compile(rf"{re.escape(path.stem)}\.([1-9][0-9]*){re.escape(path.suffix)}")
    try:
        names = os.listdir(path.parent)
    except OSError:
        return []
    return sorted(int(match[1]) for name in names if (match := pattern.fullmatch(name)))


def _open(path: Path) -> IO[bytes] | None:
    try:
        return path.open("rb")
    except OSError:
        return None


def _stat(path: Path) -> os.stat_result | None:
    try:
        return path.stat()
    except OSError:
        return None


def _ident(info: os.stat_result) -> Ident:
    return (info.st_dev, info.st_ino)


def _is_current(path: Path, fd: int) -> bool:
    """Whether `path` still names the file open at `fd`."""
    info = _stat(path)
    return info is not None and _ident(info) == _ident(os.fstat(fd))


def digest(data: bytes) -> str:
    import hashlib  # only checkpoints ask for it; every runner appends without

    return hashlib.sha256(data).hexdigest()
