"""Aider: no flag takes an interactive first prompt, so the runner types it once aider is up."""

from sessions.agents import Flavor
from sessions.model import AgentSpec, Kind


class Aider(Flavor):
    kind = Kind.AIDER
    default_command = ("aider",)
    install_hint = "pip install aider-chat"

    def typed_prompt(self, spec: AgentSpec) -> str | None:
        return spec.prompt

    def resume_args(self, known_session: bool) -> tuple[str, ...]:
        return ("--restore-chat-history",)
