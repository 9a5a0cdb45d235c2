"""Draws corral's house plan from its imports: floors, circles, the largest modules and the
lines of test support.

Run it before and after a change to the structure; tests/unit/test_structure.py keeps what it
prints from getting worse.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tests.support.import_graph import FLOORS, draw, floor, running_up, support_lines


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--largest", type=int, default=8, help="how many large modules to list")
    parser.add_argument("--floors", action="store_true", help="list every module by floor")
    args = parser.parse_args(argv)
    plan = draw()
    depth = plan.floors
    upward = running_up(plan)
    support = support_lines()
    print(f"modules: {len(plan.edges)}  import depth: {max(depth.values()) + 1} levels")
    print(f"circles: {len(plan.circles)}")
    for circle in plan.circles:
        print("  " + " <-> ".join(circle))
    print(f"imports running up a floor of the plan: {len(upward)}")
    for edge in upward:
        print(f"  {edge}")
    print("largest modules:")
    for name, count in sorted(plan.lines.items(), key=lambda kv: -kv[1])[: args.largest]:
        print(f"  {count:6d}  {name}")
    print(f"modules over 700 lines: {sum(1 for n in plan.lines.values() if n > 700)}")
    print(f"lines of test support: {sum(support.values())} in {len(support)} files")
    if args.floors:
        names = [*FLOORS, "top of sessions", "tui"]
        for level, name in enumerate(names):
            members = sorted(m for m in plan.edges if floor(m) == level)
            print(f"floor {level} ({name}, {len(members)}): " + ", ".join(members))
    return 0


if __name__ == "__main__":
    sys.exit(main())
