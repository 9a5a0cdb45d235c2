"""How each CLI reaches corral's hook entry (`sessions/hook.py`): its command line, and the
merging of corral's entries into a JSON settings file, shared by Claude Code and Gemini."""

from __future__ import annotations

import functools
import json
import os
import secrets
import shlex
import shutil
import sys
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from sessions.agents.hook_part import hook_part
from sessions.core.model import AgentSpec

# The folder that holds the `sessions` package, whether an editable checkout or site-packages.
CORRAL_ROOT = Path(__file__).resolve().parents[2]
# What tells corral's own hook entries from the user's, in any settings file.
HOOK_MARKERS = ("sessions.hook", "corral-hook")
Settings = dict[str, Any]


def hook_argv(kind: str, *extra: str) -> tuple[str, ...]:
    """corral's hook entry as an argv, started the fastest way that stays correct.

    It runs on every tool call, so start-up counts: `-S` skips site-packages (12 ms of a 34 ms
    call here, mostly the editable-install finder; bench/bench_hook.py) and corral's folder is
    put on sys.path by hand instead. `-I` ignores PYTHON* variables and the current folder, so
    neither a project's own `sessions` package nor its PYTHONPATH can replace corral's hook.
    """
    code = (
        f"import sys; sys.path.insert(0, {json.dumps(str(CORRAL_ROOT))}); "
        "from sessions.hook import main; main()"
    )
    return (sys.executable, "-I", "-S", "-c", code, "--kind", kind, *extra)


def hook_command(kind: str, *extra: str) -> str:
    """The same, as one shell command line for CLIs that run hooks through a shell."""
    return shlex.join(hook_argv(kind, *extra))


def spool_command(kind: str, *, asks: bool = False) -> str:
    """The shell line Claude Code (`/bin/sh -c`) and Gemini CLI (`bash -c`) run on each event.

    It leaves the payload in the agent's spool (sessions/agents/hook_spool.py) with nothing but
    the shell's own builtins and one `cat`: about 2 ms of CPU, against 12 ms for the Python
    entry (bench/bench_hook.py). `set -C` creates each file only where none is, so a name that
    an earlier process of the same pid left undrained is never overwritten; through `true`, a
    regular builtin, since a refused name on a special one (`:`) would end dash. Where the
    spool is missing (a runner of an older corral), no name can be had, or an answer may be due
    (`asks`: an edit's PreToolUse while corral writes `holds.json`), it hands over to the Python
    entry, which keeps the same spool in the same order.
    """
    part = hook_part(kind)
    target = f'"$d/$$.$n.{kind}"'
    held = ' && [ ! -e "$CORRAL_HOME/holds.json" ]' if asks else ""
    answer = f"printf '%s\\n' {shlex.quote(part.answer)}; " if part.answer is not None else ""
    return (
        'case $CORRAL_AGENT in ""|*[!a-z0-9-]*) ;; *) d=$CORRAL_HOME/spool/$CORRAL_AGENT; '
        f'if [ -n "$CORRAL_HOME" ] && [ -d "$d" ]{held}; then set -C; '
        f"for n in 0 1 2 3 4 5 6 7; do if true 2>/dev/null >{target}; then "
        f"{answer}exec {shlex.quote(_cat())} >>{target}; fi; done; fi;; esac; "
        f"exec {hook_command(kind)}"
    )


@functools.cache
def _cat() -> str:
    """The one program the shell entry runs, by its full path, so no agent's PATH changes it;
    found when a line is first written, not whenever this module loads."""
    return shutil.which("cat") or "cat"


def is_corral_hook(entry: object) -> bool:
    command = entry.get("command") if isinstance(entry, dict) else None
    return isinstance(command, str) and any(marker in command for marker in HOOK_MARKERS)


def agent_env(spec: AgentSpec) -> dict[str, str]:
    """The environment the agent's CLI will see, near enough to find its config files."""
    return {**os.environ, **dict(spec.env)}


def read_settings(path: Path) -> tuple[Settings, tuple[str, ...]]:
    """The JSON settings object in `path` ({} when absent).

    A file that is not a JSON object with a `hooks` object of lists is never overwritten: it is
    moved aside to `<name>.corral-bak-<time>` and the note says where.
    """
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return {}, ()
    try:
        data = json.loads(text) if text.strip() else {}
    except ValueError:
        data = None
    if isinstance(data, dict) and _valid_hooks(data.get("hooks", {})):
        return data, ()
    stamp = time.strftime("%Y%m%d-%H%M%S")
    backup = path.with_name(f"{path.name}.corral-bak-{stamp}")
    if backup.exists():
        backup = path.with_name(f"{path.name}.corral-bak-{stamp}-{secrets.token_hex(3)}")
    os.replace(path, backup)
    note = (
        f"{path} did not hold valid settings (JSON with a `hooks` object): moved aside to "
        f"{backup.name} and replaced with corral's hooks; merge back what you need from it"
    )
    return {}, (note,)


def _valid_hooks(hooks: object) -> bool:
    return isinstance(hooks, dict) and all(isinstance(groups, list) for groups in hooks.values())


def merge_hooks(settings: Settings, entries: Mapping[str, Mapping[str, Any]]) -> Settings:
    """`settings` with corral's entry for each event (`entries`), every other hook and key kept.

    Entries corral installed before (found by their command) are dropped first, under every
    event, so installing again replaces them instead of adding copies.
    """
    hooks: dict[str, Any] = {}
    for event, groups in dict(settings.get("hooks") or {}).items():
        kept = _without_corral(groups)
        if event in entries:
            hooks[event] = [*kept, {"hooks": [dict(entries[event])]}]
        elif kept or not groups:
            hooks[event] = kept
    for event, entry in entries.items():
        hooks.setdefault(event, [{"hooks": [dict(entry)]}])
    return {**settings, "hooks": hooks}


def _without_corral(groups: list[Any]) -> list[Any]:
    kept = []
    for group in groups:
        entries = group.get("hooks") if isinstance(group, dict) else None
        if isinstance(entries, list) and any(is_corral_hook(entry) for entry in entries):
            others = [entry for entry in entries if not is_corral_hook(entry)]
            if others:
                kept.append({**group, "hooks": others})
            continue
        kept.append(group)
    return kept


def write_json(path: Path, data: object, mode: int = 0o644) -> bool:
    """Replace `path` atomically with `data` unless it already holds exactly that.

    An existing file keeps its permissions; readers never see half a file. Returns whether it
    wrote.
    """
    text = json.dumps(data, indent=2, ensure_ascii=False) + "\n"
    try:
        if path.read_text(encoding="utf-8") == text:
            return False
        mode = path.stat().st_mode & 0o777
    except FileNotFoundError:
        path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}.tmp")
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
            os.fchmod(handle.fileno(), mode)
        os.replace(temporary, path)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise
    return True
