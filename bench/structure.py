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

from tests.support.import_graph import draw, support_lines


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--largest", type=int, default=8, help="how many large modules to list")
    parser.add_argument("--floors", action="store_true", help="list every module by floor")
    args = parser.parse_args(argv)
    plan = draw()
    floors = plan.floors
    upward = [(m, d) for m, deps in plan.edges.items() for d in deps if floors[d] > floors[m]]
    support = support_lines()
    print(f"modules: {len(plan.edges)}  floors: {max(floors.values()) + 1}")
    print(f"circles: {len(plan.circles)}")
    for circle in plan.circles:
        print("  " + " <-> ".join(circle))
    print(f"imports running up: {len(upward)}")
    print("largest modules:")
    for name, count in sorted(plan.lines.items(), key=lambda kv: -kv[1])[: args.largest]:
        print(f"  {count:6d}  {name}")
    print(f"modules over 700 lines: {sum(1 for n in plan.lines.values() if n > 700)}")
    print(f"lines of test support: {sum(support.values())} in {len(support)} files")
    if args.floors:
        for level in range(max(floors.values()) + 1):
            members = sorted(m for m, f in floors.items() if f == level)
            print(f"floor {level:2d}: " + ", ".join(members))
    return 0


if __name__ == "__main__":
    sys.exit(main())
