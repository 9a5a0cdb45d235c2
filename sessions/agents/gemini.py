"""Gemini CLI: an interactive first prompt needs `--prompt-interactive`.

Hooks reach Gemini CLI through its system-defaults layer: corral writes a copy of the machine's
system defaults (`/etc/gemini-cli/system-defaults.json` or wherever the agent's
GEMINI_CLI_SYSTEM_DEFAULTS_PATH points) with its hooks added to `.corral/gemini/<agent>.json`,
and points the agent's GEMINI_CLI_SYSTEM_DEFAULTS_PATH at it. Gemini CLI concatenates hooks
from all its settings layers, so the user's own hooks still run.

Why not the project's `.gemini/settings.json`: a project may track that file, and an agent
would then commit corral's hooks (with this machine's paths) along with its work; project
hooks also raise a warning in the agent's pane the first time they appear. Why not the user's
`~/.gemini/settings.json`: every Gemini session of the user, inside corral or not, would run
the hook. The defaults layer touches neither git nor the user's files, and only this agent
sees it.

What the user may still have to do: with `security.folderTrust.enabled` on, Gemini CLI runs
no hooks at all in a folder it does not trust and asks about each new folder, so trust the
folder that holds the agents' worktrees once ("Trust parent folder") and every agent's
worktree under it is covered. Defaults are the lowest layer: a user or project setting of
`hooksConfig.enabled = false` turns corral's hooks off too.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from sessions.agents import (
    Flavor,
    Prepared,
    agent_env,
    hook_command,
    merge_hooks,
    write_json,
)
from sessions.model import AgentSpec, Kind

EVENTS = (
    "SessionStart",
    "SessionEnd",
    "BeforeAgent",
    "AfterAgent",
    "BeforeTool",
    "AfterTool",
    "Notification",
)
DEFAULTS_VARIABLE = "GEMINI_CLI_SYSTEM_DEFAULTS_PATH"
TIMEOUT_MS = 10_000


class Gemini(Flavor):
    kind = Kind.GEMINI
    default_command = ("gemini",)
    install_hint = "npm install -g @google/gemini-cli"

    def start_args(self, spec: AgentSpec) -> tuple[str, ...]:
        return ("--prompt-interactive", spec.prompt) if spec.prompt else ()

    def resume_args(self, known_session: bool) -> tuple[str, ...]:
        return ("--resume",)

    def install(self, spec: AgentSpec, worktree: Path, state_dir: Path) -> Prepared:
        target = state_dir / "gemini" / f"{spec.name}.json"
        source = _system_defaults(agent_env(spec).get(DEFAULTS_VARIABLE), target)
        try:
            defaults = json.loads(source.read_text(encoding="utf-8"))
        except FileNotFoundError:
            defaults = {}
        except ValueError:
            defaults = None
        if not isinstance(defaults, dict) or not isinstance(defaults.get("hooks", {}), dict):
            return Prepared(
                notes=(
                    f"{source} is not plain JSON, so corral cannot add its hooks to a copy "
                    f"of it: {spec.name} runs without them and its status comes from its screen",
                )
            )
        entry = {
            "name": "corral",
            "type": "command",
            "command": hook_command("gemini"),
            "timeout": TIMEOUT_MS,
        }
        settings = merge_hooks(defaults, EVENTS, entry)
        settings["hooksConfig"] = {"enabled": True, **dict(settings.get("hooksConfig") or {})}
        target.parent.mkdir(mode=0o700, exist_ok=True)
        write_json(target, settings, mode=0o600)
        return Prepared(env=((DEFAULTS_VARIABLE, str(target)),))


def _system_defaults(configured: str | None, target: Path) -> Path:
    """The defaults file Gemini CLI would read without corral (never corral's own copy)."""
    if configured and Path(configured).expanduser() != target:
        return Path(configured).expanduser()
    if sys.platform == "darwin":
        return Path("/Library/Application Support/GeminiCli/system-defaults.json")
    return Path("/etc/gemini-cli/system-defaults.json")
