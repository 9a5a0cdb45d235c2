"""The dashboard's tabs, in the order it shows them: the screen lays them out, the command
palette offers each by its title."""

from __future__ import annotations

# (pane id, tab title): the selected agent's tabs, then the herd's.
TABS = (
    ("screen", "Screen"),
    ("activity", "Activity"),
    ("diff", "Diff"),
    ("why", "Why"),
    ("conflicts", "Conflicts"),
    ("locks", "Locks"),
    ("notes", "Notes"),
    ("journal", "Journal"),
)
AGENT_TABS = frozenset({"screen", "activity", "diff", "why"})
