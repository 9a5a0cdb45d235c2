"""corral's simulated agent, run with the same Python as corral so it needs no install."""

import sys

from sessions.agents.kind import SESSION_TOKEN, AgentKind
from sessions.core.model import AgentSpec, Kind


class Sim(AgentKind):
    kind = Kind.SIM
    title = "corral's simulated agent"
    stand_in = True
    default_command = (sys.executable, "-m", "sessions.sim")
    install_hint = "the simulated agent ships with corral; reinstall corral"

    def start_args(self, spec: AgentSpec) -> tuple[str, ...]:
        prompt = ("--prompt", spec.prompt) if spec.prompt else ()
        return ("--session-id", SESSION_TOKEN, *prompt)

    def resume_args(self, known_session: bool) -> tuple[str, ...]:
        session = ("--session-id", SESSION_TOKEN) if known_session else ()
        return ("--resume", *session)


KIND = Sim()
