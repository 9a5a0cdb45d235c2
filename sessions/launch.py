"""The launch plan: everything the runner in a pane needs to run one agent, as a file.

The supervisor writes it before starting the pane and the runner reads it at every start, so a
runner needs no corral process alive, and `corral restart` picks up an edited corral.toml.
The file holds the agent's command, prompt and config env, so it is readable by its owner only.
"""

from __future__ import annotations

import json
import os
import re
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from sessions.model import Restart

# What a parent agent or tmux sets for its own children; a Claude Code session that runs
# corral must not make every agent think it runs inside Claude Code.
DROPPED_ENV = re.compile(r"^(TMUX.*|CLAUDECODE|CLAUDE_CODE_.*|CORRAL_.*)$")
# User settings that share the CLAUDE_CODE_ prefix but choose a provider or credentials.
KEPT_ENV = frozenset(
    {
        "CLAUDE_CODE_USE_BEDROCK",
        "CLAUDE_CODE_USE_VERTEX",
        "CLAUDE_CODE_OAUTH_TOKEN",
        "CLAUDE_CODE_MAX_OUTPUT_TOKENS",
        "CLAUDE_CODE_SKIP_BEDROCK_AUTH",
        "CLAUDE_CODE_SKIP_VERTEX_AUTH",
    }
)


def clean_env(environ: dict[str, str]) -> dict[str, str]:
    return {k: v for k, v in environ.items() if k in KEPT_ENV or not DROPPED_ENV.match(k)}


@dataclass
class LaunchPlan:
    """`.corral/agents/<name>.json`."""

    agent: str
    journal: str
    home: str
    cwd: str
    argv: list[str]
    resume_argv: list[str]
    session_id: str | None = None
    restart: str = Restart.NEVER.value
    backoff: dict[str, float] = field(default_factory=dict)
    env: dict[str, str] = field(default_factory=dict)
    typed_prompt: str | None = None
    install_hint: str = ""
    tmux: str = "tmux"
    watch_files: bool = True

    @classmethod
    def load(cls, path: Path) -> LaunchPlan:
        data: dict[str, Any] = json.loads(path.read_text())
        return cls(**data)

    def save(self, path: Path) -> None:
        path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
        fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as handle:
            json.dump(asdict(self), handle, indent=2)
        os.replace(temporary, path)

    def child_env(self, environ: dict[str, str]) -> dict[str, str]:
        """The agent's environment: the user's, minus tmux's and a parent agent's, plus corral's."""
        env = clean_env(environ)
        env["CORRAL_AGENT"] = self.agent
        env["CORRAL_HOME"] = self.home
        env.update(self.env)
        return env
