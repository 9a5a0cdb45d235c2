"""`corral demo`: where the demo sandbox lives, reusing it, and removing it again.

The demo must be safe to run twice and safe to clean: a second run reuses the sandbox as the
herd left it, and `--clean` removes a folder only when the marker written at its creation says
it is a demo sandbox, since a mistyped `--dir` must never cost anyone a repository.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

import psutil

from sessions.adapters.config import DEFAULT_WORKTREES, find_config, load_config
from sessions.adapters.repo import Repo, git
from sessions.commands.sandbox import create, marker_path
from sessions.core.errors import CorralError

STOP_WAIT = 5.0


def default_dir() -> Path:
    """corral's data directory: `$XDG_DATA_HOME/corral/demo`, else `~/.local/share/...`."""
    data = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(data).expanduser() / "corral" / "demo"


def read_marker(folder: Path) -> dict[str, object] | None:
    """The marker's contents, or None when `folder` is not a demo sandbox."""
    try:
        data = json.loads(marker_path(folder).read_text())
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) and data.get("corral_demo") == 1 else None


@dataclass(frozen=True)
class Sandbox:
    root: Path
    created: bool
    speed: float


def prepare(folder: Path, speed: float | None = None) -> Sandbox:
    """The sandbox in `folder`: created when the folder is missing or empty, else reused.

    A reused sandbox keeps the speed it was created with; its agents may be mid-story.
    """
    folder = folder.expanduser().absolute()
    if folder.exists() and not folder.is_dir():
        raise CorralError(f"{folder} is a file, not a folder: pass another --dir.")
    if folder.is_dir() and any(folder.iterdir()):
        marker = read_marker(folder)
        if marker is None:
            raise CorralError(
                f"{folder} is not empty and not a corral demo sandbox: pass an empty or new "
                "folder with --dir."
            )
        kept = marker.get("speed")
        kept_speed = float(kept) if isinstance(kept, int | float) else 1.0
        if speed is not None and speed != kept_speed:
            raise CorralError(
                f"the sandbox in {folder} plays at speed {kept_speed:g}: "
                f"`corral demo --clean` first to start again at {speed:g}."
            )
        return Sandbox(folder.resolve(), False, kept_speed)
    try:
        root = create(folder, 1.0 if speed is None else speed)
    except (OSError, subprocess.CalledProcessError) as error:
        raise CorralError(f"cannot create the demo sandbox in {folder}: {error}") from None
    return Sandbox(root, True, 1.0 if speed is None else speed)


def clean(folder: Path) -> list[str]:
    """Stop the sandbox's herd and tmux server, remove its worktrees and the sandbox itself.

    Returns one line per thing removed. Refuses a folder without the marker.
    """
    folder = folder.expanduser().absolute()
    if not folder.exists():
        return [f"nothing to remove: {folder} does not exist"]
    if read_marker(folder) is None:
        raise CorralError(
            f"{folder} is not a corral demo sandbox (no {marker_path(Path('.'))}): "
            "nothing was removed."
        )
    root = folder.resolve()
    said = _stop_herd(root)
    worktrees, elsewhere, folders = _worktrees(root)
    for path in worktrees:
        shutil.rmtree(path, ignore_errors=True)
        said.append(f"removed the worktree {path}")
    for path in elsewhere:
        said.append(f"left the worktree {path}: it is outside the demo's worktrees folder")
    shutil.rmtree(root)
    said.append(f"removed the sandbox {root}")
    for parent in folders:
        try:
            parent.rmdir()
        except OSError:
            if parent.exists():
                said.append(f"left {parent}: it holds more than the demo's worktrees")
        else:
            said.append(f"removed the worktrees folder {parent}")
    return said


def _stop_herd(root: Path) -> list[str]:
    """Kill the sandbox's own tmux server and wait for what ran in its panes to end."""
    from sessions.adapters.tmux import Tmux

    socket = Repo.discover(root).socket_name
    tmux = Tmux(socket)
    try:
        panes = tmux.panes()
    except CorralError:
        panes = []
    pids = [pane.pid for pane in panes if pane.pid]
    processes: list[psutil.Process] = []
    for pid in pids:
        try:
            top = psutil.Process(pid)
            processes += [top, *top.children(recursive=True)]
        except psutil.Error:
            pass
    tmux.kill_server()
    if not panes:
        return [f"no agent of the sandbox was running (tmux server {socket})"]
    _, alive = psutil.wait_procs(processes, timeout=STOP_WAIT)
    for process in alive:
        try:
            process.kill()
        except psutil.Error:
            pass
    psutil.wait_procs(alive, timeout=1.0)
    count = f"{len(panes)} agent" + ("" if len(panes) == 1 else "s")
    return [f"stopped the tmux server {socket} and the {count} in it"]


def _worktrees(root: Path) -> tuple[list[Path], list[Path], list[Path]]:
    """The agents' worktrees inside the configured worktrees folder, those outside it (left
    alone: something else put them there), and the folder itself."""
    template = DEFAULT_WORKTREES
    if find_config(root):
        try:
            template = load_config(root).worktrees
        except CorralError:
            pass
    listed = git(root, "worktree", "list", "--porcelain", check=False).stdout
    paths = [
        Path(line.removeprefix("worktree ")).resolve()
        for line in listed.splitlines()
        if line.startswith("worktree ")
    ]
    agents = [path for path in paths if path != root]
    folder = Path(template.replace("{repo}", root.name)).expanduser()
    folder = (folder if folder.is_absolute() else root / folder).resolve()
    inside = [path for path in agents if path.is_relative_to(folder)]
    outside = [path for path in agents if not path.is_relative_to(folder)]
    return inside, outside, [folder] if folder != root else []
