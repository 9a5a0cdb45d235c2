"""Typing a prompt into an agent's pane without adding to what its input box already holds.

Claude Code puts an interrupted prompt back into its box, and whatever is there goes out with
the next Enter: so a box holding text is refused, or cleared first when the user says so.
"""

from __future__ import annotations

import time

from sessions.adapters.tmux import Tmux
from sessions.core.errors import AgentError
from sessions.core.screen_rules import input_box

BOX_CLEAR_WAIT = 3.0


def type_prompt(tmux: Tmux, name: str, kind: str, pane: str, text: str, replace: bool) -> int:
    """Type `text` as a prompt; the answer is how many characters of a waiting one `replace`
    cleared first."""
    waiting = input_box(kind, tmux.capture(pane))
    if waiting and not replace:
        shown = waiting if len(waiting) <= 60 else waiting[:57] + "..."
        raise AgentError(
            f"{name}'s input box already holds {shown!r} (an interrupted prompt is put "
            f"back there): send with --replace to clear it first, or "
            f"`corral attach {name}` to edit it."
        )
    if waiting:
        _clear_box(tmux, name, kind, pane, waiting)
    tmux.send_text(pane, text)
    return len(waiting or "")


def _clear_box(tmux: Tmux, name: str, kind: str, pane: str, waiting: str) -> None:
    """Ctrl-U clears a line of the box; clear until the box reads empty, or say it did not."""
    deadline = time.monotonic() + BOX_CLEAR_WAIT
    for _ in range(waiting.count("\n") + 1):
        tmux.run("send-keys", "-t", pane, "C-u")
    while time.monotonic() < deadline:
        if input_box(kind, tmux.capture(pane)) in ("", None):
            return
        time.sleep(0.05)
    raise AgentError(
        f"{name}'s input box could not be cleared: `corral attach {name}` and clear it."
    )
