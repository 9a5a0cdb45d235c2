"""Claude Code: the session id is pinned at launch so its transcript can be found and resumed.

Before launch corral merges its hooks into the worktree's `.claude/settings.local.json` (kept
out of git by `Repo.prepare`) and marks the worktree trusted in the agent's `~/.claude.json`,
since Claude Code runs no project hooks in a folder it has not been told to trust.

Every hook is synchronous (no `"async": true`). Claude Code waits for a sync hook before going
on, so each event's line is written before the next event fires: the events file is in the
order things happened, and the status engine may take the newest line as the truth. An async
PostToolUse could land after the turn's Stop and make a finished agent look busy; PreToolUse
has to be sync anyway to warn about conflicts before an edit. The price is paid on each tool
call's PreToolUse and PostToolUse: about 2 ms for the shell entry that leaves the payload in
the spool (bench/bench_hook.py), and about 20 ms of Claude Code's own CPU for running any hook
(bench/bench_turn.py). So corral asks for no event it can do without: PostToolBatch, which
follows the last PostToolUse of a batch within milliseconds and says nothing new, is left out.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sessions.adapters.repo import git
from sessions.agents.hook_settings import (
    agent_env,
    merge_hooks,
    read_settings,
    spool_command,
    write_json,
)
from sessions.agents.kind import SESSION_TOKEN, AgentKind, Prepared
from sessions.core.model import AgentSpec, Kind

EVENTS = (
    "SessionStart",
    "UserPromptSubmit",
    "PreToolUse",
    "PermissionRequest",
    "PostToolUse",
    "PostToolUseFailure",
    "Notification",
    "Stop",
    "StopFailure",
    "SubagentStart",
    "SubagentStop",
    "PreCompact",
    "SessionEnd",
)
SETTINGS = Path(".claude") / "settings.local.json"
TIMEOUT_SECONDS = 10
# Claude Code locks ~/.claude.json the proper-lockfile way: a `<file>.lock` folder whose
# mtime its holder refreshes; one untouched for 10 s belongs to a process that died.
LOCK_STALE = 10.0
LOCK_WAIT = 3.0


class Claude(AgentKind):
    kind = Kind.CLAUDE
    title = "Claude Code"
    cli = True
    default_command = ("claude",)
    install_hint = "npm install -g @anthropic-ai/claude-code"

    def start_args(self, spec: AgentSpec) -> tuple[str, ...]:
        prompt = (spec.prompt,) if spec.prompt else ()
        return ("--session-id", SESSION_TOKEN, *prompt)

    def resume_args(self, known_session: bool) -> tuple[str, ...]:
        return ("--resume", SESSION_TOKEN) if known_session else ("--continue",)

    def install(self, spec: AgentSpec, worktree: Path, state_dir: Path) -> Prepared:
        notes = install_hooks(worktree) + trust(config_path(agent_env(spec)), worktree)
        return Prepared(notes=notes)


KIND = Claude()


def install_hooks(worktree: Path) -> tuple[str, ...]:
    """corral's hook under every event, merged into the worktree's local settings."""
    path = worktree / SETTINGS
    if _tracked(worktree, SETTINGS):
        return (
            f"{path} is tracked by the project, so corral left it alone: this agent runs "
            "without corral's hooks and its status comes from its screen",
        )
    settings, notes = read_settings(path)
    entries = {
        event: {
            "type": "command",
            "command": spool_command("claude", asks=event == "PreToolUse"),
            "timeout": TIMEOUT_SECONDS,
        }
        for event in EVENTS
    }
    write_json(path, merge_hooks(settings, entries))
    return notes


def _tracked(worktree: Path, relative: Path) -> bool:
    listed = git(worktree, "ls-files", "--", relative.as_posix(), check=False)
    return listed.returncode == 0 and bool(listed.stdout.strip())


def config_path(environ: dict[str, str]) -> Path:
    """Where the agent's Claude Code keeps its global config, as Claude Code itself decides."""
    folder = environ.get("CLAUDE_CONFIG_DIR") or environ.get("HOME") or str(Path.home())
    return Path(folder).expanduser() / ".claude.json"


def trust(config: Path, worktree: Path) -> tuple[str, ...]:
    """Mark the worktree trusted in `config`, changing nothing else in it.

    Running Claude processes rewrite this file, so the read, change and atomic replace all
    happen under Claude Code's own lock on it. A file that does not parse is left alone.
    """
    folders = dict.fromkeys([str(worktree.resolve()), str(worktree.absolute())])
    with _locked(config) as held:
        if not held:
            return (
                f"{config} stayed locked for {LOCK_WAIT:.0f} s, so {worktree} is not marked "
                "trusted: answer Claude Code's trust question in the agent's pane once",
            )
        try:
            text = config.read_text(encoding="utf-8")
        except FileNotFoundError:
            text = "{}"
        try:
            data = json.loads(text)
        except ValueError:
            data = None
        projects = data.get("projects", {}) if isinstance(data, dict) else None
        if not isinstance(data, dict) or not isinstance(projects, dict):
            return (
                f"{config} is not the JSON object Claude Code writes, so corral left it alone "
                f"and {worktree} is not marked trusted: Claude Code will ask once",
            )
        if _accept(projects, folders):
            write_json(config, {**data, "projects": projects}, mode=0o600)
    return ()


def _accept(projects: dict[str, object], folders: dict[str, None]) -> bool:
    changed = False
    for folder in folders:
        entry = projects.get(folder)
        entry = entry if isinstance(entry, dict) else {}
        if entry.get("hasTrustDialogAccepted") is not True:
            projects[folder] = {**entry, "hasTrustDialogAccepted": True}
            changed = True
    return changed


@contextmanager
def _locked(config: Path) -> Iterator[bool]:
    """Hold `<config>.lock` as Claude Code does (a folder made with mkdir); False on timeout."""
    lock = config.with_name(config.name + ".lock")
    config.parent.mkdir(parents=True, exist_ok=True)
    deadline = time.monotonic() + LOCK_WAIT
    while True:
        try:
            os.mkdir(lock, 0o700)
            break
        except FileExistsError:
            if _stale(lock):
                _release(lock)
                continue
            if time.monotonic() > deadline:
                yield False
                return
            time.sleep(0.02)
    try:
        yield True
    finally:
        _release(lock)


def _stale(lock: Path) -> bool:
    try:
        return time.time() - lock.stat().st_mtime > LOCK_STALE
    except FileNotFoundError:
        return False


def _release(lock: Path) -> None:
    try:
        os.rmdir(lock)
    except OSError:
        pass
