"""One agent kind: how its CLI is launched and resumed, how its hooks are installed, and where
the rest of what corral knows about it lives.

Each kind's module (`sessions/agents/<kind>.py`) defines one `AgentKind` subclass and nothing
else has to name the kind: the parts that must stay cheap to import or are data are found by
the kind's name instead, and `AgentKind` points at them:

- its hook's side (`sessions/agents/<kind>_hook.py`, a `HookPart`): whether the CLI pipes a
  payload on stdin, how that payload maps to Claude Code's shape, its tool names;
- its screen rules (`sessions/agents/screens/<kind>.toml`, read by `sessions.core.screen_rules`);
- its transcript reader (`sessions/agents/transcripts/<kind>.py`).

The runner substitutes `SESSION_TOKEN` with a fresh session id for every run, or the recorded
one when it resumes, so a kind that pins its session id (Claude Code's `--session-id`) keeps
its transcript findable.
"""

from __future__ import annotations

import shlex
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING

from sessions.adapters.launch import SESSION_TOKEN as SESSION_TOKEN  # noqa: PLC0414
from sessions.core.errors import CorralError
from sessions.core.model import AgentSpec, Kind

if TYPE_CHECKING:
    from sessions.agents.hook_part import HookPart
    from sessions.core.screen_rules import Table


@dataclass(frozen=True)
class Launch:
    """The command lines the runner needs for one agent."""

    argv: tuple[str, ...]
    resume_argv: tuple[str, ...]
    resume_fresh_argv: tuple[str, ...]
    typed_prompt: str | None = None
    env: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True)
class Prepared:
    """What installing an agent's hooks has to tell the user, and env its CLI needs for them."""

    notes: tuple[str, ...] = ()
    env: tuple[tuple[str, str], ...] = ()


class AgentKind:
    """The launch rules shared by every kind; each kind overrides what its CLI does differently."""

    kind: Kind = Kind.SHELL
    # How `corral init` names the CLI in the file it writes.
    title: str = ""
    default_command: tuple[str, ...] = ()
    install_hint: str = ""
    # `corral init` looks for `default_command` on PATH and writes an example table for it.
    cli: bool = False
    # Needs nothing installed: `corral init` plans one when no CLI is on PATH.
    stand_in: bool = False

    @property
    def hook(self) -> HookPart:
        """What the hook entry needs to know about this CLI's calls, and its tool names."""
        from sessions.agents.hook_part import hook_part

        return hook_part(self.kind)

    @property
    def screen_table(self) -> Table | None:
        from sessions.core.screen_rules import table

        return table(self.kind)

    @property
    def transcript_reader(self) -> ModuleType | None:
        from sessions.agents.transcripts import reader

        return reader(self.kind)

    def command(self, spec: AgentSpec) -> tuple[str, ...]:
        return (spec.command or self.default_command) + spec.args

    def launch(self, spec: AgentSpec) -> Launch:
        base = self.command(spec)
        return Launch(
            argv=base + self.start_args(spec),
            resume_argv=base + self.resume_args(known_session=True),
            resume_fresh_argv=base + self.resume_args(known_session=False),
            typed_prompt=self.typed_prompt(spec),
            env=self.extra_env(spec),
        )

    def start_args(self, spec: AgentSpec) -> tuple[str, ...]:
        return ()

    def resume_args(self, known_session: bool) -> tuple[str, ...]:
        return ()

    def typed_prompt(self, spec: AgentSpec) -> str | None:
        return None

    def extra_env(self, spec: AgentSpec) -> tuple[tuple[str, str], ...]:
        return ()

    def describe(self, spec: AgentSpec) -> str:
        return shlex.join(self.command(spec))

    def prepare(self, spec: AgentSpec, worktree: Path, state_dir: Path) -> Prepared:
        """Install the agent's hooks before its pane starts.

        Hooks only add evidence (the status engine also reads the screen), so a failure here is
        a note for the user and the agent starts anyway.
        """
        try:
            return self.install(spec, worktree, state_dir)
        except (OSError, ValueError, CorralError) as error:
            return Prepared(notes=(f"hooks not installed for {spec.name}: {error}",))

    def install(self, spec: AgentSpec, worktree: Path, state_dir: Path) -> Prepared:
        return Prepared()
