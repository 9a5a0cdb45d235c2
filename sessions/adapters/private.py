"""Folders and files only their owner can read.

Everything corral keeps (the journal, hook events, launch files with the agent's environment,
caches of screens, notes and transcripts) can hold prompts, secrets and paths, so none of it is
readable by other local users whatever the umask: folders 0700, files 0600.
"""

from __future__ import annotations

import contextlib
import os
from pathlib import Path

from sessions.adapters.atomic import write_atomically

FOLDER_MODE = 0o700
FILE_MODE = 0o600


def private_folder(path: Path) -> Path:
    """Make `path` and every missing folder above it 0700.

    `Path.mkdir(mode=..., parents=True)` gives the mode to the last folder only; the ones above
    it get the umask's default, which is how `.corral/` came to be readable by everyone when a
    cache under it was made first.
    """
    missing: list[Path] = []
    folder = path
    while not folder.is_dir():
        missing.append(folder)
        if folder.parent == folder:
            break
        folder = folder.parent
    for folder in reversed(missing):
        with contextlib.suppress(FileExistsError):
            os.mkdir(folder, FOLDER_MODE)
    return path


def write_private(path: Path, data: bytes | str) -> Path:
    """Write a whole file atomically, 0600: a reader sees the old or the new file, never half.
    Not synced to the disk: these are corral's own state files, written often, and a power
    cut costs at most the latest write."""
    private_folder(path.parent)
    body = data.encode() if isinstance(data, str) else data
    write_atomically(path, body, mode=FILE_MODE, sync=False)
    return path


def open_private(path: Path, flags: int) -> int:
    """`os.open` for a file under corral's state, made 0600 in a private folder when missing."""
    try:
        return os.open(path, flags | os.O_CREAT, FILE_MODE)
    except FileNotFoundError:
        private_folder(path.parent)
        return os.open(path, flags | os.O_CREAT, FILE_MODE)
