"""Any command: corral cannot know how it takes a prompt, so it gets one in CORRAL_PROMPT."""

from sessions.agents.kind import AgentKind
from sessions.core.model import AgentSpec, Kind


class Shell(AgentKind):
    kind = Kind.SHELL
    install_hint = "check the agent's `command` in corral.toml"

    def extra_env(self, spec: AgentSpec) -> tuple[tuple[str, str], ...]:
        return (("CORRAL_PROMPT", spec.prompt),) if spec.prompt else ()


KIND = Shell()
