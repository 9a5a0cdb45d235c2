"""corral's simulated agent, run with the same Python as corral so it needs no install."""

import sys

from sessions.agents import SESSION_TOKEN, Flavor
from sessions.model import AgentSpec, Kind


class Sim(Flavor):
    kind = Kind.SIM
    default_command = (sys.executable, "-m", "sessions.sim")
    install_hint = "the simulated agent ships with corral; reinstall corral"

    def start_args(self, spec: AgentSpec) -> tuple[str, ...]:
        prompt = ("--prompt", spec.prompt) if spec.prompt else ()
        return ("--session-id", SESSION_TOKEN, *prompt)

    def resume_args(self, known_session: bool) -> tuple[str, ...]:
        session = ("--session-id", SESSION_TOKEN) if known_session else ()
        return ("--resume", *session)
