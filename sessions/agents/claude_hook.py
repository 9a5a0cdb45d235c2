"""Claude Code's side of the hook: one JSON object per event on stdin, already in the shape
corral records, and an answer before an edit of a file another builder holds."""

from __future__ import annotations

from sessions.agents.hook_part import HookPart

TYPE_CHECKING = False
if TYPE_CHECKING:
    from sessions.agents.hook_part import Cls

TOOLS: dict[str, Cls] = {
    "Edit": "edit",
    "MultiEdit": "edit",
    "Write": "edit",
    "NotebookEdit": "edit",
    "Read": "read",
    "Grep": "read",
    "Glob": "read",
    "LS": "read",
    "Bash": "exec",
    "Task": "delegate",
    "Agent": "delegate",
}
PART = HookPart(stdin=True, tools=TOOLS, tool_events=True, tells=True, spools=True)
