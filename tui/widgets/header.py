"""The line at the top: where you are, how the herd is doing, and what it has spent."""

from __future__ import annotations

from collections import Counter

from rich.text import Text
from textual.widgets import Static

from sessions.core.model import Snapshot, State
from tui.format import count, money, total_tokens
from tui.states import label, style_of, warning_style


class HerdHeader(Static):
    """Counts only, never per-agent detail: that is the table's job."""

    _shown: Text | None = None
    _lines = 0

    def show(
        self, repo: str, base: str | None, snapshot: Snapshot | None, quiet: str | None = None
    ) -> None:
        """Updated only when the words or their colours change: every update lays the whole
        screen out again, and most looks change nothing up here."""
        text = header_text(repo, base, snapshot, self.app.theme_variables)
        if quiet:
            text.append(f"  │ {quiet}", style="dim italic")
        if self._shown is not None and text == self._shown and text.style == self._shown.style:
            return
        self._shown = text
        # Laid out again only when it needs another number of lines (it wraps when narrow).
        lines = -(-text.cell_len // max(1, self.size.width))
        self.update(text, layout=lines != self._lines)
        self._lines = lines


def header_text(
    repo: str, base: str | None, snapshot: Snapshot | None, variables: dict[str, str]
) -> Text:
    text = Text()
    text.append(" corral ", style="bold reverse")
    text.append(f" {repo}", style="bold")
    text.append(f" on {base}" if base else " (no base branch)", style="dim")
    if snapshot is None:
        text.append("  looking at the herd…", style="dim")
        return text
    agents = snapshot.agents
    if not agents:
        text.append("  no agents running", style="dim")
    states = Counter(view.state for view in agents)
    for state in State:
        if states[state]:
            text.append("  ")
            text.append(f"{states[state]} {label(state)}", style=style_of(state, variables))
    conflicts = len(snapshot.coordination.shown_conflicts)
    locks = snapshot.coordination.locks
    stale = len([v for v in locks.verdicts if v.stale or v.orphaned]) if locks else 0
    text.append("  │", style="dim")
    text.append(
        f" ⚠ {conflicts} conflict{'s' * (conflicts != 1)}",
        style=warning_style("conflict", variables) if conflicts else "dim",
    )
    text.append(
        f"  {stale} stale lock{'s' * (stale != 1)}",
        style=warning_style("lock-stale", variables) if stale else "dim",
    )
    tokens = sum(total_tokens(view.tokens) or 0 for view in agents)
    costs = [view.cost_usd for view in agents if view.cost_usd is not None]
    text.append("  │", style="dim")
    text.append(f" {count(tokens)} tokens {money(sum(costs) if costs else None)}")
    return text
