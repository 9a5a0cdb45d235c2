"""Whole files replaced in one step: every file corral writes whole (the user's config files,
its own caches and checkpoints) goes through `write_atomically`, so none can be left half
written by a crash or seen half written by a reader.
"""

from __future__ import annotations

import contextlib
import os
import stat
from pathlib import Path

NEW_FILE_MODE = 0o666  # what the umask makes of it, as for a file the user saves in an editor


def write_atomically(
    path: Path, data: bytes, *, mode: int | None = None, sync: bool = True
) -> None:
    """A temporary file beside `path`, then `os.replace`: a reader sees the old file or the
    new, never half, and two writers never share a temporary file.

    `mode` None keeps the file's mode (a new file gets the usual one under the umask); a mode
    is the file's from its first byte, so a private file is never readable by others, even for
    a moment. `sync` puts the text on the disk before it replaces the old: a file the user
    wrote must survive a power cut, a cache is only rebuilt. Raises `OSError`, leaving no
    temporary file behind.
    """
    kept = None
    if mode is None:
        with contextlib.suppress(FileNotFoundError):
            kept = stat.S_IMODE(path.stat().st_mode)
    # `secrets.token_hex(4)`, without loading `secrets` (and `random`, `hmac`, `base64`).
    temporary = path.with_name(f".{path.name}.{os.urandom(4).hex()}.tmp")
    created = NEW_FILE_MODE if mode is None else mode
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, created)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            if sync:
                handle.flush()
                os.fsync(handle.fileno())
        if kept is not None:
            os.chmod(temporary, kept)
        os.replace(temporary, path)
    except BaseException:
        with contextlib.suppress(OSError):
            temporary.unlink()
        raise
