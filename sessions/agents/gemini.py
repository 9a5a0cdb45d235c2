"""Gemini CLI: an interactive first prompt needs `--prompt-interactive`.

Hooks go into the worktree's workspace settings, `.gemini/settings.json`, merged with what is
there and kept out of git by `Repo.prepare`, and the worktree is marked trusted in the agent's
`~/.gemini/trustedFolders.json`. Both choices come from what Gemini CLI 0.61 does:

- It reads four settings layers: system defaults, user (`~/.gemini/settings.json`), workspace
  (`<cwd>/.gemini/settings.json`) and system settings. It skips either system file unless the
  file and every folder above it are owned by root and writable by nobody else, so a copy in
  `.corral/` (named by GEMINI_CLI_SYSTEM_DEFAULTS_PATH) is ignored for any other user, or for
  root under /tmp. The user layer is shared by every Gemini session of the user, inside corral
  or not. That leaves the workspace: per worktree, so per agent, and readable by any user.
- It registers hooks from the merged settings only in a trusted folder, whatever layer they
  come from, and folder trust is on by default: in an unknown folder it asks first and runs no
  hooks until answered. corral answers for the worktree the way the CLI's own "Trust folder"
  does (`{"<folder>": "TRUST_FOLDER"}`, under the same lock the CLI takes), and only where no
  rule of the user's already decides. GEMINI_CLI_TRUST_WORKSPACE would also do, but it is
  inherited by every `gemini` the agent runs, in any folder, so it would trust too much.
- Hook lists concatenate across layers, so the user's own hooks still run. An entry is
  `{"name", "type": "command", "command", "timeout"}` with the timeout in milliseconds; the
  command runs through the shell with the payload on stdin and must print JSON.

The first start in each worktree prints the CLI's one-time notice that project hooks were
found (it then remembers them in `~/.gemini/trusted_hooks.json`).

A project that tracks its own `.gemini/settings.json` keeps it untouched: the agent would
commit corral's hooks, with this machine's paths, along with its work. A private per-agent
GEMINI_CLI_HOME would reach the user layer instead, but it also moves the user's login,
trust rules and chats (where corral reads tokens), so that agent runs without corral's hooks
and the note says why.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from sessions.adapters.repo import git
from sessions.agents.claude import LOCK_WAIT, _locked
from sessions.agents.hook_settings import (
    Settings,
    agent_env,
    merge_hooks,
    spool_command,
    write_json,
)
from sessions.agents.kind import AgentKind, Prepared
from sessions.core.model import AgentSpec, Kind

EVENTS = (
    "SessionStart",
    "SessionEnd",
    "BeforeAgent",
    "AfterAgent",
    "BeforeTool",
    "AfterTool",
    "Notification",
)
SETTINGS = Path(".gemini") / "settings.json"
HOOK_NAME = "corral"
TIMEOUT_MS = 10_000
TRUST_LEVELS = frozenset({"TRUST_FOLDER", "TRUST_PARENT", "DO_NOT_TRUST"})
# What earlier corral releases wrote for each agent; the CLI skipped it for most users.
OLD_DEFAULTS = Path("gemini")
FALLBACK = "its status comes from its screen"


class Gemini(AgentKind):
    kind = Kind.GEMINI
    title = "Gemini CLI"
    cli = True
    default_command = ("gemini",)
    install_hint = "npm install -g @google/gemini-cli"

    def start_args(self, spec: AgentSpec) -> tuple[str, ...]:
        return ("--prompt-interactive", spec.prompt) if spec.prompt else ()

    def resume_args(self, known_session: bool) -> tuple[str, ...]:
        return ("--resume",)

    def install(self, spec: AgentSpec, worktree: Path, state_dir: Path) -> Prepared:
        (state_dir / OLD_DEFAULTS / f"{spec.name}.json").unlink(missing_ok=True)
        environ = agent_env(spec)
        notes = install_hooks(worktree, environ)
        return Prepared(notes=notes + trust(environ, worktree))


KIND = Gemini()


def gemini_home(environ: dict[str, str]) -> Path:
    """The folder holding `.gemini/`, as the CLI decides: GEMINI_CLI_HOME, else HOME."""
    home = environ.get("GEMINI_CLI_HOME") or environ.get("HOME") or str(Path.home())
    return Path(home).expanduser()


def trust_path(environ: dict[str, str]) -> Path:
    configured = environ.get("GEMINI_CLI_TRUSTED_FOLDERS_PATH")
    if configured:
        return Path(configured).expanduser()
    return gemini_home(environ) / ".gemini" / "trustedFolders.json"


def install_hooks(worktree: Path, environ: dict[str, str]) -> tuple[str, ...]:
    """corral's entry under every event in the workspace settings; every other key kept.

    A file corral could not rewrite without losing something (a tracked file, one git would
    show, comments, a shape the CLI would reject) is left as it is, and the note says so.
    """
    path = worktree / SETTINGS
    relative = SETTINGS.as_posix()
    if _git_ok(worktree, "ls-files", "--error-unmatch", "--", relative):
        return (
            f"{path} is tracked by the project, so corral left it alone: this agent runs "
            f"without corral's hooks and {FALLBACK}",
        )
    if not _git_ok(worktree, "check-ignore", "-q", "--", relative):
        return (
            f"{path} is not ignored by git here (a .gitignore un-ignores it?), so corral "
            f"wrote no hooks the agent could commit: it runs without them and {FALLBACK}",
        )
    settings, why = _read_object(path)
    if settings is None:
        return (
            f"{path} {why}, so corral left it alone: this agent runs without corral's hooks "
            f"and {FALLBACK}",
        )
    entry = {
        "name": HOOK_NAME,
        "type": "command",
        "command": spool_command("gemini"),
        "timeout": TIMEOUT_MS,
    }
    write_json(path, merge_hooks(settings, dict.fromkeys(EVENTS, entry)))
    return _switched_off(settings, path, gemini_home(environ) / ".gemini" / "settings.json")


def trust(environ: dict[str, str], worktree: Path) -> tuple[str, ...]:
    """Answer the CLI's trust question for the worktree, unless the user already did.

    A running CLI rewrites the file when the user answers its trust question, holding a
    `<file>.lock` folder (proper-lockfile, as Claude Code does for ~/.claude.json), so the
    read, change and atomic replace here all happen holding the same lock.
    """
    if environ.get("GEMINI_CLI_TRUST_WORKSPACE") == "true":
        return ()
    if (
        environ.get("GEMINI_RESTRICTED_MODE") == "true"
        or environ.get("GEMINI_CLI_TRUST_WORKSPACE") == "false"
    ):
        return (
            "the agent's env turns Gemini's folder trust off (GEMINI_RESTRICTED_MODE or "
            f"GEMINI_CLI_TRUST_WORKSPACE), so it runs no hooks and {FALLBACK}",
        )
    path = trust_path(environ).resolve()
    folder = str(worktree.resolve())
    with _locked(path) as held:
        if not held:
            return (
                f"{path} stayed locked for {LOCK_WAIT:.0f} s, so {folder} is not marked "
                "trusted: answer Gemini's trust question in the agent's pane once",
            )
        rules, why = _read_object(path)
        if rules is None or not all(level in TRUST_LEVELS for level in rules.values()):
            return (
                f"{path} {why or 'holds a trust level Gemini does not know'}, so corral left "
                f"it alone and {folder} is not marked trusted",
            )
        decided = _decided(rules, Path(folder))
        if decided == "DO_NOT_TRUST":
            return (
                f"{path} says not to trust {folder}, so Gemini runs no hooks there and {FALLBACK}",
            )
        if decided is None:
            write_json(path, {**rules, folder: "TRUST_FOLDER"}, mode=0o600)
    return ()


def _decided(rules: dict[str, Any], folder: Path) -> str | None:
    """The trust level the CLI would apply to `folder`: the longest matching rule wins."""
    best, level = -1, None
    target = _folded(folder)
    for rule, trust_level in rules.items():
        where = Path(rule)
        if trust_level == "TRUST_PARENT":
            where = where.parent
        where = _folded(where.resolve())
        if (where == target or where in target.parents) and len(rule) > best:
            best, level = len(rule), trust_level
    return level


def _folded(path: Path) -> Path:
    """Paths as the CLI compares them: case-insensitively on macOS and Windows."""
    return Path(str(path).lower()) if sys.platform in ("darwin", "win32") else path


def _read_object(path: Path) -> tuple[Settings | None, str]:
    """A JSON object from `path` ({} when absent), else None and what is wrong with it.

    The CLI accepts comments in its JSON; a rewrite would drop them, so such a file counts as
    unreadable here rather than being moved aside.
    """
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return {}, ""
    try:
        data = json.loads(text) if text.strip() else {}
    except ValueError:
        return None, "is not plain JSON (comments?)"
    if not isinstance(data, dict):
        return None, "is not a JSON object"
    hooks = data.get("hooks", {})
    if not isinstance(hooks, dict) or not all(isinstance(v, list) for v in hooks.values()):
        return None, "has a `hooks` value that is not an object of lists"
    return data, ""


def _switched_off(workspace: Settings, workspace_path: Path, user_path: Path) -> tuple[str, ...]:
    """A note when `hooksConfig.enabled` is false where it decides: workspace, else user."""
    try:
        user = json.loads(user_path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        user = {}
    for layer, path in ((workspace, workspace_path), (user, user_path)):
        switch = layer.get("hooksConfig") if isinstance(layer, dict) else None
        enabled = switch.get("enabled") if isinstance(switch, dict) else None
        if enabled is False:
            return (
                f"{path} sets hooksConfig.enabled to false, so Gemini runs none of its hooks "
                f"and {FALLBACK}",
            )
        if enabled is True:
            return ()
    return ()


def _git_ok(worktree: Path, *args: str) -> bool:
    return git(worktree, *args, check=False).returncode == 0
