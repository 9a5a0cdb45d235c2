"""The launch plan: everything the runner in a pane needs to run one agent, as a file.

The supervisor writes it before starting the pane and the runner reads it at every start, so a
runner needs no corral process alive, and `corral restart` picks up an edited corral.toml.
The file holds the agent's command, prompt, config env and the environment of the `corral` that
started it (API keys and tokens among it), so it is readable by its owner only: tmux's command
line, which every local user can read in `ps`, carries only `runner_env`.
"""

from __future__ import annotations

import json
import re
from dataclasses import asdict, dataclass, field

from sessions.adapters.private import write_private
from sessions.core.rules import Restart

# `typing` and `pathlib` cost every runner memory for names only mypy reads; mypy reads this
# as true, Python as false.
TYPE_CHECKING = False
if TYPE_CHECKING:
    from pathlib import Path
    from typing import Any

# In an agent's argv, where the runner puts the run's session id (`sessions.agents.kind`).
SESSION_TOKEN = "{corral_session_id}"

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


# What the runner needs before it has read its launch file: where its Python finds corral. The
# tmux server keeps the command line of the `corral` that started it, readable by every local
# user, so nothing else of the environment goes there.
RUNNER_ENV = ("PYTHONPATH", "PYTHONHOME", "PYTHONUSERBASE", "PYTHONNOUSERSITE", "HOME")


def clean_env(environ: dict[str, str]) -> dict[str, str]:
    return {k: v for k, v in environ.items() if k in KEPT_ENV or not DROPPED_ENV.match(k)}


def runner_env(environ: dict[str, str]) -> dict[str, str]:
    """The few variables the pane's command line sets for the runner; nothing secret."""
    return {k: environ[k] for k in RUNNER_ENV if k in environ}


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
    # The environment of the `corral` that started the agent, less tmux's and a parent agent's;
    # None in a file from a corral that put it on tmux's command line instead.
    environ: dict[str, str] | None = None

    @classmethod
    def load(cls, path: Path) -> LaunchPlan:
        data: dict[str, Any] = json.loads(path.read_text())
        return cls(**data)

    def save(self, path: Path) -> None:
        write_private(path, json.dumps(asdict(self), indent=2))

    def child_env(self, environ: dict[str, str]) -> dict[str, str]:
        """The agent's environment: the user's, minus tmux's and a parent agent's, plus corral's."""
        env = clean_env(environ)
        env["CORRAL_AGENT"] = self.agent
        env["CORRAL_HOME"] = self.home
        env.update(self.env)
        return env
