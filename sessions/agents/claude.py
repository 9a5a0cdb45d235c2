"""Claude Code: the session id is pinned at launch so its transcript can be found and resumed."""

from sessions.agents import SESSION_TOKEN, Flavor
from sessions.model import AgentSpec, Kind


class Claude(Flavor):
    kind = Kind.CLAUDE
    default_command = ("claude",)
    install_hint = "npm install -g @anthropic-ai/claude-code"

    def start_args(self, spec: AgentSpec) -> tuple[str, ...]:
        prompt = (spec.prompt,) if spec.prompt else ()
        return ("--session-id", SESSION_TOKEN, *prompt)

    def resume_args(self, known_session: bool) -> tuple[str, ...]:
        return ("--resume", SESSION_TOKEN) if known_session else ("--continue",)
