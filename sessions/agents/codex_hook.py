"""Codex CLI's side of the hook: its `notify` payload comes as the last argument, in
kebab-case, naming its moment by `type`; its tool calls are read from its rollout."""

from __future__ import annotations

from sessions.agents.hook_part import HookPart

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

EVENTS = {"agent-turn-complete": "Stop", "agent-turn-start": "UserPromptSubmit"}
KEYS = {
    "thread-id": "session_id",
    "turn-id": "turn_id",
    "input-messages": "input_messages",
    "last-assistant-message": "last_assistant_message",
}


def translate(payload: dict[str, Any], event: str | None) -> dict[str, Any]:
    renamed = {KEYS.get(key, key): value for key, value in payload.items()}
    kind = payload.get("type")
    if isinstance(kind, str):
        renamed["hook_event_name"] = EVENTS.get(kind, kind)
        renamed["source"] = kind
        if _side_turn(payload.get("input-messages")):
            # Codex names each new session in a turn of its own, which also ends with a
            # notify while the real turn still runs: it is no Stop of the agent.
            renamed["hook_event_name"] = "SideTurnComplete"
    return renamed


def _side_turn(messages: object) -> bool:
    if not isinstance(messages, list) or len(messages) != 1 or not isinstance(messages[0], str):
        return False
    text = messages[0]
    return text.startswith("Generate a concise") and "Do not answer the request" in text


PART = HookPart(
    translate=translate,
    tools={
        "apply_patch": "edit",
        "shell": "exec",
        "shell_command": "exec",
        "exec_command": "exec",
        "local_shell_call": "exec",
    },
    shell_reads=True,
)
