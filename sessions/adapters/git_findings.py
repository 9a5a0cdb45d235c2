"""What git said about builders in a file-level conflict, kept in `.corral/cache/` so a new
process asks git only about what moved.

A script polling `corral ls --json` starts a new process each time. Without this file every
call ran git again for every pair of builders in a conflict: each one's merge base and current
files as a commit, the line ranges of each shared file, and the merge of each pair, which was
most of what the call cost. Every answer here is keyed by what fully decides it (commit ids,
or a builder's key that moves with its tip and its latest change), exactly as the finder keys
them in memory, so reading one back gives what git would say again.

It is only a cache: a missing, damaged or foreign file is ignored and git is asked.
"""

from __future__ import annotations

import contextlib
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sessions.adapters.private import write_private
from sessions.core.conflict_values import ALL_LINES, LineRange

FINDINGS_FILE = "conflict_git.json"
FINDINGS_FORMAT = 2  # 2: a side's HEAD, and merge bases by HEAD and base tip

SideKey = tuple[str, str, str]  # agent, builder key, base tip
RangeKey = tuple[str, str, str]  # merge base, tip, path
BaseKey = tuple[str, str]  # HEAD, base tip


@dataclass(frozen=True)
class Side:
    """One agent as git sees it: the merge base with base, its current files as a commit, and
    the HEAD that merge base is of."""

    merge_base: str
    tip: str
    head: str


@dataclass
class Findings:
    """What one look used; the next look starts from it, so nothing stale piles up."""

    sides: dict[SideKey, Side] = field(default_factory=dict)
    ranges: dict[RangeKey, tuple[LineRange, ...]] = field(default_factory=dict)
    merges: dict[tuple[str, str], dict[str, str]] = field(default_factory=dict)
    bases: dict[BaseKey, str] = field(default_factory=dict)

    def to_json(self, base: str) -> str:
        return json.dumps(
            {
                "format": FINDINGS_FORMAT,
                "base": base,
                "sides": [
                    [*key, side.merge_base, side.tip, side.head] for key, side in self.sides.items()
                ],
                "ranges": [
                    [*key, [_range_json(line) for line in lines]]
                    for key, lines in self.ranges.items()
                ],
                "merges": [[a, b, paths] for (a, b), paths in self.merges.items()],
                "bases": [[*key, merge_base] for key, merge_base in self.bases.items()],
            }
        )


def load_findings(path: Path, base: str) -> Findings:
    """The findings an earlier process saved for `base`; empty when there are none that fit."""
    try:
        data = json.loads(path.read_bytes())
        if data["format"] != FINDINGS_FORMAT or data["base"] != base:
            return Findings()
        findings = Findings()
        for agent, key, base_tip, merge_base, tip, head in data["sides"]:
            _text(agent, key, base_tip, merge_base, tip, head)
            findings.sides[agent, key, base_tip] = Side(merge_base, tip, head)
        for merge_base, tip, file, lines in data["ranges"]:
            _text(merge_base, tip, file)
            findings.ranges[merge_base, tip, file] = tuple(_range(item) for item in lines)
        for a, b, paths in data["merges"]:
            _text(a, b, *paths, *paths.values())
            findings.merges[a, b] = dict(paths)
        for head, base_tip, merge_base in data["bases"]:
            _text(head, base_tip, merge_base)
            findings.bases[head, base_tip] = merge_base
        return findings
    except (OSError, ValueError, TypeError, KeyError, IndexError, AttributeError):
        return Findings()


def save_findings(path: Path, findings: Findings, base: str) -> None:
    """Written atomically, so a reader never sees half; a write that fails costs only time."""
    with contextlib.suppress(OSError):
        write_private(path, findings.to_json(base))


def _range_json(line: LineRange) -> list[int] | None:
    return None if line == ALL_LINES else [line.start, line.end]


def _range(item: Any) -> LineRange:
    if item is None:
        return ALL_LINES
    start, end = item
    if type(start) is not int or type(end) is not int:
        raise TypeError("not a line range")
    return LineRange(start, end)


def _text(*items: Any) -> None:
    if not all(isinstance(item, str) for item in items):
        raise TypeError("not text")
