"""What an agent reported through its hooks, folded into the few facts the status needs.

Hook events are the fastest evidence of a turn starting, a tool running or a dialog opening,
but no hook fires on an interrupt or a "No" in a dialog; so this fold keeps *when* each kind of
event last came, and the status engine weighs that against the screen.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

WORKING_EVENTS = frozenset(
    {
        "UserPromptSubmit",
        "PreToolUse",
        "PostToolUse",
        "PostToolUseFailure",
        "PostToolBatch",
        "SubagentStart",
        "SubagentStop",
        "PreCompact",
        "BeforeAgent",
        "BeforeTool",
        "AfterTool",
    }
)
IDLE_EVENTS = frozenset({"Stop", "StopFailure", "SessionStart", "AfterAgent"})
# Claude Code's notification types for a dialog, and Gemini CLI's for its tool confirmation.
NEEDS_INPUT = frozenset({"permission_prompt", "elicitation_dialog", "ToolPermission"})
FILE_EVENT = "FileWrite"


@dataclass(frozen=True)
class Activity:
    """The latest of each kind of hook evidence for one agent."""

    last_event: str | None = None
    last_t: float | None = None
    working_t: float | None = None
    working_event: str | None = None
    turn_t: float | None = None
    idle_t: float | None = None
    idle_event: str | None = None
    needs_t: float | None = None
    needs_detail: str | None = None
    error: str | None = None
    open_subagents: int = 0
    ended_t: float | None = None
    file_write_t: float | None = None
    session_id: str | None = None
    transcript_path: str | None = None
    tool_calls: int = 0

    def said(self) -> tuple[str, float] | None:
        """The newest of working, idle and needs-input, with its time."""
        candidates = [
            ("working", self.working_t),
            ("idle", self.idle_t),
            ("needs_input", self.needs_t),
        ]
        dated = [(what, t) for what, t in candidates if t is not None]
        return max(dated, key=lambda pair: pair[1]) if dated else None


def fold(activity: Activity, event: dict[str, Any]) -> Activity:
    """One hook event applied; unknown events only move `last_event`."""
    name = event.get("event")
    t = event.get("t")
    if not isinstance(name, str) or not isinstance(t, int | float):
        return activity
    changes: dict[str, Any] = {"last_event": name, "last_t": float(t)}
    if isinstance(event.get("session_id"), str):
        changes["session_id"] = event["session_id"]
    if isinstance(event.get("transcript_path"), str):
        changes["transcript_path"] = event["transcript_path"]
    if name == FILE_EVENT:
        return replace(activity, file_write_t=float(t))
    if name in WORKING_EVENTS:
        changes.update(working_t=float(t), working_event=name)
        if name in ("PreToolUse", "BeforeTool"):
            changes["tool_calls"] = activity.tool_calls + 1
    if name in ("UserPromptSubmit", "BeforeAgent"):
        changes["turn_t"] = float(t)
    if name == "SubagentStart":
        changes["open_subagents"] = activity.open_subagents + 1
    if name == "SubagentStop":
        changes["open_subagents"] = max(0, activity.open_subagents - 1)
    if name in IDLE_EVENTS:
        changes.update(idle_t=float(t), idle_event=name, error=_error(event))
        if name in ("SessionStart", "Stop", "StopFailure"):
            changes["open_subagents"] = 0
    if name == "PermissionRequest" or (
        name == "Notification" and event.get("notification_type") in NEEDS_INPUT
    ):
        changes.update(needs_t=float(t), needs_detail=_needs_detail(event))
    if name == "Notification" and event.get("notification_type") == "idle_prompt":
        changes.update(idle_t=float(t), idle_event="Notification idle_prompt", error=None)
    if name == "SessionEnd":
        changes["ended_t"] = float(t)
    return replace(activity, **changes)


def _error(event: dict[str, Any]) -> str | None:
    if event.get("event") != "StopFailure":
        return None
    for key in ("error", "error_type", "message", "reason"):
        value = event.get(key)
        if isinstance(value, str) and value:
            return value
    return "an API error"


def _needs_detail(event: dict[str, Any]) -> str:
    tool = event.get("tool")
    if event.get("event") == "PermissionRequest" and isinstance(tool, str):
        return f"permission for {tool}"
    kind = event.get("notification_type")
    return "a question" if kind == "elicitation_dialog" else "permission"
