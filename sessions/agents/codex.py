"""Codex CLI: the prompt is a positional argument; `resume` is a subcommand before the flags."""

from sessions.agents import Flavor, Launch
from sessions.model import AgentSpec, Kind


class Codex(Flavor):
    kind = Kind.CODEX
    default_command = ("codex",)
    install_hint = "npm install -g @openai/codex"

    def launch(self, spec: AgentSpec) -> Launch:
        base = spec.command or self.default_command
        prompt = (spec.prompt,) if spec.prompt else ()
        resume = (*base, "resume", "--last", *spec.args)
        return Launch(
            argv=(*base, *spec.args, *prompt),
            resume_argv=resume,
            resume_fresh_argv=resume,
        )
