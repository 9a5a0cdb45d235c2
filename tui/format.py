"""Short words and numbers for narrow cells: ages, token counts, bytes, dollars."""

from __future__ import annotations

import time


def age(seconds: float | None) -> str:
    """An age in at most six characters, so a state and its age fit one cell. Past a minute it
    counts whole minutes: a cell that changes every second redraws the table every look."""
    if seconds is None:
        return "-"
    whole = max(0, int(seconds))
    if whole < 60:
        return f"{whole}s"
    if whole < 3600:
        return f"{whole // 60}m"
    if whole < 86400:
        return f"{whole // 3600}h{whole % 3600 // 60:02d}m"
    return f"{whole // 86400}d{whole % 86400 // 3600:02d}h"


def count(value: int | None) -> str:
    """Token counts grow to millions; three significant digits are what a glance needs."""
    if value is None:
        return "-"
    if value < 1000:
        return str(value)
    if value < 1_000_000:
        return f"{value / 1000:.1f}k"
    return f"{value / 1_000_000:.2f}M"


def size(value: int) -> str:
    if value <= 0:
        return "-"
    if value < 1 << 20:
        return f"{value >> 10}K"
    if value < 1 << 30:
        return f"{value / (1 << 20):.0f}M"
    return f"{value / (1 << 30):.1f}G"


def money(value: float | None) -> str:
    return "-" if value is None else f"${value:.2f}"


def clock(t: float | None) -> str:
    """Time of day for journal lines: the journal is read against the user's own clock."""
    if t is None:
        return "--:--:--"
    return time.strftime("%H:%M:%S", time.localtime(t))


def total_tokens(tokens: dict[str, int] | None) -> int | None:
    """What the model read and wrote, as the usage module totals it (reasoning is part of
    output, and 1-hour cache writes part of cache writes)."""
    if not tokens:
        return None
    return sum(tokens.get(key, 0) for key in ("input", "output", "cache_read", "cache_write"))
