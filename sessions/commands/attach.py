"""How to show an agent's pane in the user's terminal without nesting tmux in tmux.

corral's panes live on its own tmux server; a user outside tmux attaches to it, a user inside
their own tmux gets a popup (or a window) on their server, and one already on corral's server
switches to the pane.
"""

from __future__ import annotations

import shlex

from sessions.adapters.tmux import Tmux
from sessions.core.attach_values import AttachPlan


def attach_plan(tmux: Tmux, pane_id: str, name: str, environ: dict[str, str]) -> AttachPlan:
    """Outside tmux: attach here. Inside the user's tmux: a popup on their server, no nesting."""
    attach = tmux.attach_argv(pane_id)
    detach = tmux.detach_keys()
    outer = environ.get("TMUX", "")
    if not outer:
        return AttachPlan(tuple(attach), "attach", f"detach with {detach} to come back")
    outer_socket = outer.split(",")[0]
    if outer_socket == tmux.socket_path():
        argv = tuple(tmux.argv("switch-client", "-t", pane_id))
        return AttachPlan(argv, "switch", "switch back with your prefix key and s")
    inner = ("env", "-u", "TMUX", "-u", "TMUX_PANE", *attach)
    title = f" corral: {name} ({detach} closes) "
    popup = (tmux.tmux_bin, "display-popup", "-E", "-w", "90%", "-h", "90%", "-T", title)
    window = (tmux.tmux_bin, "new-window", "-n", f"corral:{name}", "--", *inner)
    return AttachPlan(
        (*popup, shlex.join(inner)),
        "popup",
        f"detach with {detach} to close it",
        fallback=window,
    )
