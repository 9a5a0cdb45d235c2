"""Codex CLI: the prompt is a positional argument; `resume` is a subcommand before the flags.

Codex has no hooks to install; its `notify` program runs with one JSON argument when a turn
ends. corral sets it for the agent's run only, with `-c notify=[...]`: Codex reads the value
after `=` as TOML (an inline array of basic strings here), so nothing is written to the
user's `~/.codex/config.toml`. It replaces a `notify` the user set there for this agent.
"""

from sessions.agents.hook_settings import hook_argv
from sessions.agents.kind import AgentKind, Launch
from sessions.core.model import AgentSpec, Kind


class Codex(AgentKind):
    kind = Kind.CODEX
    title = "Codex CLI"
    cli = True
    default_command = ("codex",)
    install_hint = "npm install -g @openai/codex"

    def launch(self, spec: AgentSpec) -> Launch:
        base = (*(spec.command or self.default_command), *notify_args())
        prompt = (spec.prompt,) if spec.prompt else ()
        resume = (*base, "resume", "--last", *spec.args)
        return Launch(
            argv=(*base, *spec.args, *prompt),
            resume_argv=resume,
            resume_fresh_argv=resume,
        )


KIND = Codex()


def notify_args() -> tuple[str, str]:
    return ("-c", "notify=" + toml_array(hook_argv("codex")))


def toml_array(words: tuple[str, ...]) -> str:
    return "[" + ", ".join(toml_string(word) for word in words) + "]"


def toml_string(text: str) -> str:
    """A TOML basic string: quotes, backslashes and control characters escaped."""
    escaped = []
    for char in text:
        if char in ('"', "\\"):
            escaped.append("\\" + char)
        elif ord(char) < 0x20 or ord(char) == 0x7F:
            escaped.append(f"\\u{ord(char):04x}")
        else:
            escaped.append(char)
    return '"' + "".join(escaped) + '"'
