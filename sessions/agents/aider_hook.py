"""Aider's side of the hook: its `--notifications-command` passes nothing, and runs only when
aider waits for the user, so a call without an event is that wait."""

from __future__ import annotations

from sessions.agents.hook_part import HookPart

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any


def translate(payload: dict[str, Any], event: str | None) -> dict[str, Any]:
    name = payload.get("hook_event_name") or event
    if name is None:
        name = "Notification"
        payload = {**payload, "hook_event_name": name}
    if str(name) == "Notification" and not isinstance(
        payload.get("notification_type"), str | bool | int | float
    ):
        payload = {**payload, "notification_type": "idle_prompt"}
    return payload


PART = HookPart(translate=translate)
