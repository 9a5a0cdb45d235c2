"""What corral costs while the herd works, component by component.

A herd of simulated agents takes turns on its own (`--auto`), and each of its tool calls goes
through corral's real hook entry, one process per event, as Claude Code's do; `--speed` sets
how fast they work, and the table says the tool-call rate reached. Over each run it measures,
in percent of one core:

- **hooks**: every hook process the agents started (their CPU reaches the agent that waited
  for them), and the count of hook events written;
- **runners**: corral's process in each pane, around the agent;
- **tmux server**: corral's own server, which the agents draw through;
- **following**: one `corral watch --json` process, the herd's looks at the dashboard's pace,
  with the git and tmux calls it makes (the dashboard's own cost is in bench_app.py);
- **agents**: the simulated agents themselves, for scale (not corral's cost);

and the memory (RSS) of the runners, the tmux server and the follower. Runs are repeated and
printed as median, min and max, so the next regression points at the part that grew.

Run: .venv/bin/python bench/bench_working.py [--sizes 6,30] [--seconds 10] [--runs 3]
     [--speed 2]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import psutil
from bench_watch import server_process

from sessions.commands.sandbox import create
from sessions.supervisor import Supervisor

MIB = 1 << 20


def working_herd(base: Path, size: int, speed: float, prefix: str = "w") -> Supervisor:
    """`size` simulated agents named `prefix`-1, -2, ... taking turns on their own."""
    root = create(base / f"working-{size}")
    agents = "".join(
        f'[[agent]]\nname = "{prefix}-{n}"\nkind = "sim"\n'
        f'args = ["--auto", "--speed", "{speed}"]\n\n'
        for n in range(1, size + 1)
    )
    (root / "corral.toml").write_text(agents)
    supervisor = Supervisor.open(root)
    supervisor.up()
    end = time.monotonic() + 60
    while time.monotonic() < end and not all(view.pid for view in supervisor.look()):
        time.sleep(0.05)
    return supervisor


def own(process: psutil.Process) -> float:
    times = process.cpu_times()
    return times.user + times.system


def reaped(process: psutil.Process) -> float:
    times = process.cpu_times()
    return times.children_user + times.children_system


def hook_events(root: Path) -> int:
    folder = root / ".corral" / "events"
    return sum(path.read_bytes().count(b"\n") for path in folder.glob("*.jsonl"))


class Parts:
    """The herd's processes, found once a run starts: runners, agents, server, follower."""

    def __init__(self, supervisor: Supervisor, follower: psutil.Process) -> None:
        views = supervisor.look()
        self.runners = [psutil.Process(v.runner_pid) for v in views if v.runner_pid]
        self.agents = [psutil.Process(v.pid) for v in views if v.pid]
        self.server = server_process(supervisor)
        self.follower = follower

    def cpu(self) -> dict[str, float]:
        return {
            "hooks": sum(reaped(agent) for agent in self.agents),
            "runners": sum(own(runner) for runner in self.runners),
            "tmux server": own(self.server),
            "following": own(self.follower) + reaped(self.follower),
            "agents": sum(own(agent) for agent in self.agents),
        }

    def rss(self) -> dict[str, float]:
        return {
            "runners": sum(r.memory_info().rss for r in self.runners) / MIB,
            "tmux server": self.server.memory_info().rss / MIB,
            "following": self.follower.memory_info().rss / MIB,
        }


def run_once(supervisor: Supervisor, seconds: float) -> dict[str, float]:
    root = supervisor.repo.root
    written_to = root.parent / "watch.jsonl"
    with written_to.open("w") as out:
        follower = subprocess.Popen(
            [sys.executable, "-m", "tui.cli", "--repo", str(root), "watch", "--json"], stdout=out
        )
    try:
        end = time.monotonic() + 30
        while not written_to.stat().st_size and time.monotonic() < end:
            time.sleep(0.05)  # its first look is written before measuring
        parts = Parts(supervisor, psutil.Process(follower.pid))
        before, events = parts.cpu(), hook_events(root)
        began = time.monotonic()
        time.sleep(seconds)
        elapsed = time.monotonic() - began
        after, written = parts.cpu(), hook_events(root) - events
        result = {f"{k} CPU %": 100 * (after[k] - before[k]) / elapsed for k in after}
        result |= {f"{k} MiB": v for k, v in parts.rss().items()}
        result["hook events / s"] = written / elapsed
        result["hook CPU ms / event"] = (
            1000 * (after["hooks"] - before["hooks"]) / written if written else float("nan")
        )
        corral = sum(after[k] - before[k] for k in ("hooks", "runners", "tmux server", "following"))
        result["corral all-in CPU %"] = 100 * corral / elapsed
    finally:
        follower.terminate()
        follower.wait(timeout=20)
    return result


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="6")
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--speed", type=float, default=2.0, help="the agents' think times x")
    args = parser.parse_args()
    lines = [
        f"| {'measure':<28} |   n |   median |      min |      max |",
        f"|{'-' * 30}|-----|----------|----------|----------|",
    ]
    with tempfile.TemporaryDirectory(prefix="corral-bench-", ignore_cleanup_errors=True) as folder:
        for size in [int(s) for s in args.sizes.split(",")]:
            supervisor = working_herd(Path(folder), size, args.speed)
            try:
                runs = [run_once(supervisor, args.seconds) for _ in range(args.runs)]
            finally:
                supervisor.tmux.kill_server()
            for key in runs[0]:
                values = sorted(run[key] for run in runs)
                lines.append(
                    f"| {key:<28} | {size:>3} | {statistics.median(values):>8.2f} | "
                    f"{values[0]:>8.2f} | {values[-1]:>8.2f} |"
                )
            print(f"done: {size} agents", file=sys.stderr)
    print(f"{args.runs} runs of {args.seconds:g} s, simulated agents at --speed {args.speed:g}\n")
    print("\n".join(lines))
    print(f"\nmachine: {os.cpu_count()} cores, Python {sys.version.split()[0]}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
