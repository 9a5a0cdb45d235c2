"""What differs between agent CLIs: how to launch one, how to resume it, how it takes a prompt.

One small module per kind; `flavor(kind)` picks it. The runner substitutes `SESSION_TOKEN` with
a fresh session id for every run, or the recorded one when it resumes, so a kind that pins its
session id (Claude Code's `--session-id`) keeps its transcript findable.
"""

from __future__ import annotations

import shlex
from dataclasses import dataclass

from sessions.model import AgentSpec, Kind

SESSION_TOKEN = "{corral_session_id}"


@dataclass(frozen=True)
class Launch:
    """The command lines the runner needs for one agent."""

    argv: tuple[str, ...]
    resume_argv: tuple[str, ...]
    resume_fresh_argv: tuple[str, ...]
    typed_prompt: str | None = None
    env: tuple[tuple[str, str], ...] = ()


class Flavor:
    """The launch rules shared by every kind; each kind overrides what its CLI does differently."""

    kind: Kind = Kind.SHELL
    default_command: tuple[str, ...] = ()
    install_hint: str = ""

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


def flavor(kind: Kind) -> Flavor:
    from sessions.agents import aider, claude, codex, gemini, shell, sim

    table: dict[Kind, Flavor] = {
        Kind.CLAUDE: claude.Claude(),
        Kind.CODEX: codex.Codex(),
        Kind.GEMINI: gemini.Gemini(),
        Kind.AIDER: aider.Aider(),
        Kind.SHELL: shell.Shell(),
        Kind.SIM: sim.Sim(),
    }
    return table[kind]
