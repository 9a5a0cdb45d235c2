"""What corral's hook entry needs to know about one CLI, found by the kind's name alone.

The hook runs on every tool call of every agent, so this side of a kind lives apart from its
`AgentKind` (which pulls in dataclasses, pathlib and git): `sessions/agents/<kind>_hook.py`
holds one `PART`, and this module imports nothing but that. A kind without such a module
(a shell command) pipes nothing, maps nothing and has no tool names.
"""

from __future__ import annotations

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable
    from typing import Any, Literal

    Cls = Literal["edit", "read", "exec", "delegate", "other"]
    Payload = dict[str, Any]


class HookPart:
    """One CLI's hook calls: how they arrive, what they are called, and its tool names."""

    __slots__ = (
        "answer",
        "shell_reads",
        "spools",
        "stdin",
        "tells",
        "tool_events",
        "tools",
        "translate",
    )

    def __init__(
        self,
        *,
        stdin: bool = False,
        translate: Callable[[Payload, str | None], Payload] | None = None,
        tools: dict[str, Cls] | None = None,
        shell_reads: bool = False,
        tool_events: bool = False,
        tells: bool = False,
        answer: str | None = None,
        spools: bool = False,
    ) -> None:
        # It pipes one JSON object per event on stdin; the others leave the terminal there,
        # and reading it would block and eat keystrokes.
        self.stdin = stdin
        # The payload as Claude Code would have sent it, given `--event` if there was one.
        self.translate = translate
        # Its tool names, each sorted into what the call does.
        self.tools: dict[str, Cls] = tools or {}
        # A lone read-only program run through its shell tool counts as a read.
        self.shell_reads = shell_reads
        # Its hooks report each tool call, so its transcript need not.
        self.tool_events = tool_events
        # It takes an answer on stdout before an edit (`[conflicts] tell`).
        self.tells = tells
        # What it wants on stdout after every call, whatever happened.
        self.answer = answer
        # It calls hooks on every tool call, through `/bin/sh -c`: its entry is a shell line
        # that leaves the payload in the spool (sessions/agents/hook_spool.py), not a Python.
        self.spools = spools


_NONE = HookPart()
_FOUND: dict[str, HookPart] = {}


def hook_part(kind: str) -> HookPart:
    """The kind's part from `sessions/agents/<kind>_hook.py`; an empty one if it has none."""
    part = _FOUND.get(kind)
    if part is None:
        part = _NONE
        if kind.isalpha() and kind.islower():
            try:
                module = __import__(f"sessions.agents.{kind}_hook", fromlist=["PART"])
            except ModuleNotFoundError:
                pass
            else:
                part = module.PART
        _FOUND[kind] = part
    return part
