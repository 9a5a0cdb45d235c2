"""Tool calls sorted into the four things an agent can do: edit, read, exec, delegate.

Hooks and transcripts from every agent kind meet here, each kind's tool names coming from its
hook part (`sessions/agents/<kind>_hook.py`), so a builder is told from an observer
the same way whichever CLI it runs. Paths come back as the agent gave them; callers make them
relative to the agent's worktree.
"""

from __future__ import annotations

from sessions.agents.hook_part import hook_part

# The hook entry imports this module on every tool call, so it imports nothing at start-up:
# `typing` alone (with the `re` and `collections` it pulls in) costs 3 to 15 ms of each call,
# and `re`, `shlex` and `dataclasses` more (bench/bench_hook.py); they load where they are used.
TYPE_CHECKING = False  # mypy reads this as true
if TYPE_CHECKING:
    from collections.abc import Mapping
    from typing import Any, NamedTuple

    from sessions.agents.hook_part import Cls

READ_ONLY_COMMANDS = frozenset({"cat", "sed", "rg", "grep", "ls", "nl", "head", "tail", "wc"})
_PATCH_FILE = r"^\*\*\* (?:Update|Add|Delete) File: (.+)$|^\*\*\* Move to: (.+)$"
_PATH_KEYS = ("file_path", "notebook_path", "path", "absolute_path")

if TYPE_CHECKING:

    class ToolCall(NamedTuple):
        """One tool call, reduced to what fingerprints and conflicts need."""

        tool: str
        cls: Cls
        paths: tuple[str, ...] = ()
        command: str | None = None

else:

    class ToolCall(tuple):
        """One tool call, reduced to what fingerprints and conflicts need: the named tuple
        above, written out, since making one takes `typing` or `collections`."""

        __slots__ = ()

        def __new__(klass, tool, cls, paths=(), command=None):
            return tuple.__new__(klass, (tool, cls, paths, command))

        def __getnewargs__(self):
            return tuple(self)

        def __repr__(self):
            tool, cls, paths, command = self
            return f"ToolCall(tool={tool!r}, cls={cls!r}, paths={paths!r}, command={command!r})"

        tool = property(lambda self: self[0])
        cls = property(lambda self: self[1])
        paths = property(lambda self: self[2])
        command = property(lambda self: self[3])


def classify(kind: str, tool: str, arguments: Mapping[str, Any] | None = None) -> ToolCall:
    """Sort one call; an unknown tool is `other`, never an error: CLIs add tools all the time."""
    arguments = arguments or {}
    part = hook_part(kind)
    cls: Cls = part.tools.get(tool, "other")
    if tool.startswith("mcp__"):
        cls = "other"
    command = _command(arguments)
    if cls == "exec" and part.shell_reads and command is not None and _reads_only(command):
        cls = "read"
    return ToolCall(tool=tool, cls=cls, paths=paths_of(tool, arguments), command=command)


def paths_of(tool: str, arguments: Mapping[str, Any]) -> tuple[str, ...]:
    found: list[str] = []
    for key in _PATH_KEYS:
        value = arguments.get(key)
        if isinstance(value, str) and value:
            found.append(value)
    paths = arguments.get("paths")
    if isinstance(paths, list):
        found += [p for p in paths if isinstance(p, str)]
    patch = arguments.get("input") if tool == "apply_patch" else None
    if isinstance(patch, str):
        import re

        for update, moved in re.findall(_PATCH_FILE, patch, re.M):
            found.append((update or moved).strip())
    return tuple(dict.fromkeys(found))


def _command(arguments: Mapping[str, Any]) -> str | None:
    command = arguments.get("command") or arguments.get("cmd")
    if isinstance(command, list):
        import shlex

        return shlex.join(str(part) for part in command)
    return command if isinstance(command, str) else None


def _reads_only(command: str) -> bool:
    """Some CLIs run reads through their shell tool; a lone read-only program is a read."""
    import shlex

    try:
        words = shlex.split(command)
    except ValueError:
        return False
    if words[:2] in (["bash", "-lc"], ["bash", "-c"], ["sh", "-c"]) and len(words) == 3:
        return _reads_only(words[2])
    if any(word in ("|", ";", "&&", "||", ">", ">>") for word in words):
        return False
    return bool(words) and words[0] in READ_ONLY_COMMANDS and "-i" not in words[1:]
