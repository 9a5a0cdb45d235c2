"""A new agent as the new-agent form and `corral init` describe it: the fields of its
`[[agent]]` table, and the name suggested for it. `sessions.adapters.config_writer` writes the
table into corral.toml.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from sessions.core.model import NAME_PATTERN, Restart


@dataclass(frozen=True)
class AgentFields:
    """What a new `[[agent]]` table says. Values are written as given and judged by the parser,
    so a mistyped kind or restart policy gets the same sentence a hand-edited file would.

    `command` is a string (split like a shell would, never run through one) or an argv; None
    leaves it out, so the kind's usual command runs. Empty `args` and a None `prompt` are left
    out too. A prompt's line ends are written as newlines, which is how TOML reads them back.
    """

    name: str
    kind: str
    command: str | Sequence[str] | None = None
    args: Sequence[str] = ()
    prompt: str | None = None
    restart: str = Restart.NEVER.value

    def table(self) -> dict[str, Any]:
        """The table as plain values: what tomllib must find once it is written."""
        values: dict[str, Any] = {"name": self.name, "kind": str(self.kind)}
        if self.command is not None:
            values["command"] = self.command if isinstance(self.command, str) else [*self.command]
        if self.args:
            values["args"] = list(self.args)
        if self.prompt is not None:
            values["prompt"] = _newlines(self.prompt)
        values["restart"] = str(self.restart)
        return values


def _newlines(text: str) -> str:
    return text.replace("\r\n", "\n").replace("\r", "\n")


def suggest_name(kind: str, existing: Iterable[str]) -> str:
    """`<kind>-N`, one past the highest N in use for that kind: a gap left by a removed agent is
    not reused, since its branch `corral/<name>` may still hold work a new agent would adopt."""
    prefix = f"{kind}-"
    taken = set(existing)
    numbers = [
        int(name[len(prefix) :]) for name in taken if re.fullmatch(rf"{re.escape(prefix)}\d+", name)
    ]
    number = max(numbers, default=0) + 1
    while f"{prefix}{number}" in taken:  # only a name such as "claude-007" could be in the way
        number += 1
    name = f"{prefix}{number}"
    return name if NAME_PATTERN.match(name) else f"agent-{number}"
