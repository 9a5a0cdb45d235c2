"""What coordination (roles, conflicts, locks) adds to a look at the herd.

A herd of simulated agents on a real sandbox repository follows a fixed script: the first two
edit the same file (a conflict at every level), the others each write a file of their own and
read the shared one (observers and disjoint builders), and every agent claims a task lock. Once
they are idle, four ways of looking are timed in the same run:

- **look**: `Supervisor.look()`, the status of every agent and nothing else;
- **snapshot, warm**: `Supervisor.snapshot()` in a long-lived process, as the app calls it each
  tick: git runs only for what moved, locks are surveyed at most every two seconds;
- **snapshot, recomputed**: the same with every coordination cache dropped (in memory and in
  `.corral/cache`) before each look: every builder's changes, every conflict level and the
  lock survey recomputed each time;
- **snapshot, new process state**: a new `Supervisor` each time, what `corral ls --json` pays
  besides Python's start-up (it starts from the changes the previous look kept on disk).

Run: .venv/bin/python bench/bench_coordination.py [--sizes 6,30] [--looks 15]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from sessions.commands.sandbox import create
from sessions.core.model import State
from sessions.services.coordination import CHANGES_FILE, Coordinator
from sessions.supervisor import Supervisor

SHARED = """
[[step]]
do = "lock"
task = "task {n}"
[[step]]
do = "read"
path = "src/calc.py"
[[step]]
do = "edit"
path = "src/calc.py"
old = "return a + b"
new = "return b + a + {n}"
[[step]]
do = "idle"
"""

OWN = """
[[step]]
do = "lock"
task = "task {n}"
[[step]]
do = "read"
path = "src/calc.py"
[[step]]
do = "write"
path = "src/mod_{n}.py"
text = "VALUE = {n}\\n"
[[step]]
do = "idle"
"""


def scripted_herd(base: Path, size: int) -> Supervisor:
    root = create(base / f"coordination-{size}")
    config = ""
    for n in range(1, size + 1):
        script = base / f"script-{size}-{n}.toml"
        script.write_text((SHARED if n <= 2 else OWN).format(n=n))
        config += (
            f'[[agent]]\nname = "a-{n}"\nkind = "sim"\n'
            f'args = ["--scenario", "{script}", "--speed", "0.1"]\nprompt = "go"\n\n'
        )
    (root / "corral.toml").write_text(config)
    supervisor = Supervisor.open(root)
    supervisor.up()
    end = time.monotonic() + 120
    while time.monotonic() < end:
        snapshot = supervisor.snapshot(fresh_locks=True)
        idle = all(view.state is State.IDLE for view in snapshot.agents)
        locks = snapshot.coordination.locks
        if idle and locks is not None and len(locks.verdicts) == size:
            return supervisor
        time.sleep(0.2)
    raise SystemExit(f"the herd of {size} never settled")


def sample(action: Callable[[], object], runs: int) -> list[float]:
    action()
    times = []
    for _ in range(runs):
        began = time.perf_counter()
        action()
        times.append(time.perf_counter() - began)
    return times


def row(name: str, size: int, times: list[float]) -> str:
    ms = sorted(t * 1000 for t in times)
    return (
        f"| {name:<34} | {size:>3} | {statistics.median(ms):>9.1f} | "
        f"{ms[0]:>8.1f} | {ms[-1]:>8.1f} | {len(ms):>4} |"
    )


def rows_for(base: Path, size: int, looks: int) -> list[str]:
    supervisor = scripted_herd(base, size)
    root = supervisor.repo.root
    try:
        snapshot = supervisor.snapshot()
        levels = sorted({c.level for c in snapshot.coordination.conflicts})
        print(f"herd of {size}: conflict levels {levels}", file=sys.stderr)

        def fresh_coordinator() -> None:
            (supervisor.repo.state_dir / "cache" / CHANGES_FILE).unlink(missing_ok=True)
            supervisor.coordinator = Coordinator(
                supervisor.repo, supervisor.journal, supervisor.coordinator.rules
            )
            supervisor.snapshot()

        return [
            row("look (status only)", size, sample(supervisor.look, looks)),
            row("snapshot, warm", size, sample(supervisor.snapshot, looks)),
            row("snapshot, recomputed", size, sample(fresh_coordinator, looks)),
            row(
                "snapshot, new process state",
                size,
                sample(lambda: Supervisor.open(root).snapshot(), looks),
            ),
        ]
    finally:
        supervisor.tmux.kill_server()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sizes", default="6,30")
    parser.add_argument("--looks", type=int, default=15)
    args = parser.parse_args()
    rows: list[str] = []
    with tempfile.TemporaryDirectory(prefix="corral-bench-", ignore_cleanup_errors=True) as folder:
        for size in (int(s) for s in args.sizes.split(",")):
            rows += rows_for(Path(folder), size, args.looks)
    print("| measure                            |   n | median ms |   min ms |   max ms | runs |")
    print("|------------------------------------|-----|-----------|----------|----------|------|")
    print("\n".join(rows))
    print(f"\nmachine: {os.cpu_count()} cores, Python {sys.version.split()[0]}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
