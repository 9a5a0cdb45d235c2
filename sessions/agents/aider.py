"""Aider: no flag takes an interactive first prompt, so the runner types it once aider is up.

Aider runs `--notifications-command` through a shell, with no payload, when it waits for the
user (only with `--notifications` on); corral's hook records that as an `idle_prompt`.
"""

from sessions.agents.hook_settings import hook_command
from sessions.agents.kind import AgentKind
from sessions.core.model import AgentSpec, Kind


class Aider(AgentKind):
    kind = Kind.AIDER
    title = "Aider"
    cli = True
    default_command = ("aider",)
    install_hint = "pip install aider-chat"

    def typed_prompt(self, spec: AgentSpec) -> str | None:
        return spec.prompt

    def start_args(self, spec: AgentSpec) -> tuple[str, ...]:
        return notification_args()

    def resume_args(self, known_session: bool) -> tuple[str, ...]:
        return ("--restore-chat-history", *notification_args())


KIND = Aider()


def notification_args() -> tuple[str, ...]:
    command = hook_command("aider", "--event", "Notification")
    return ("--notifications", "--notifications-command", command)
