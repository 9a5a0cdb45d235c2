"""Gemini CLI: an interactive first prompt needs `--prompt-interactive`."""

from sessions.agents import Flavor
from sessions.model import AgentSpec, Kind


class Gemini(Flavor):
    kind = Kind.GEMINI
    default_command = ("gemini",)
    install_hint = "npm install -g @google/gemini-cli"

    def start_args(self, spec: AgentSpec) -> tuple[str, ...]:
        return ("--prompt-interactive", spec.prompt) if spec.prompt else ()

    def resume_args(self, known_session: bool) -> tuple[str, ...]:
        return ("--resume",)
