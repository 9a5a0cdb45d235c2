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

and the memory of the runners, the tmux server and the follower: RSS, which counts every page a
process maps, and PSS (/proc/PID/smaps_rollup), which divides each shared page among the
processes that share it, so summed PSS is what the machine really spends on corral; and the
runners' anonymous memory, which nothing shares. Runs are repeated and printed as median, min
and max, so the next regression points at the part that grew.

`--against PATH` (another corral worktree with its own `.venv`) starts each run's herd twice,
once with each corral, one after the other, so the two are compared on the same machine at
the same moment and neither herd shares pages with the other.

Run: .venv/bin/python bench/bench_working.py [--sizes 6,30] [--seconds 10] [--runs 3]
     [--speed 2] [--against PATH]
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
HERE = Path(__file__).resolve().parent.parent


def python_of(tree: Path) -> str:
    """The corral's own interpreter: the runners it starts run on it, and find its code."""
    return str(tree / ".venv" / "bin" / "python") if tree != HERE else sys.executable


def working_herd(
    base: Path,
    size: int,
    speed: float,
    tree: Path = HERE,
    label: str = "this",
    prefix: str = "w",
) -> Supervisor:
    """`size` simulated agents named `prefix`-1, -2, ... taking turns on their own, started
    by the corral in `tree` through its command line, as a user would."""
    root = create(base / f"working-{size}-{label}")
    agents = "".join(
        f'[[agent]]\nname = "{prefix}-{n}"\nkind = "sim"\n'
        f'args = ["--auto", "--speed", "{speed}"]\n\n'
        for n in range(1, size + 1)
    )
    (root / "corral.toml").write_text(agents)
    subprocess.run(
        [python_of(tree), "-m", "tui.cli", "--repo", str(root), "up"],
        cwd=tree,
        check=True,
        stdout=subprocess.DEVNULL,
    )
    supervisor = Supervisor.open(root)
    end = time.monotonic() + 60
    while time.monotonic() < end and not all(view.pid for view in supervisor.look()):
        time.sleep(0.05)
    return supervisor


def memory(pid: int) -> dict[str, int]:
    """The kernel's sums over all of a process's mappings, in bytes."""
    found = {}
    with open(f"/proc/{pid}/smaps_rollup") as rollup:
        for line in rollup:
            key, _, rest = line.partition(":")
            if rest.strip().endswith("kB"):
                found[key] = int(rest.split()[0]) * 1024
    return found


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

    def memory(self) -> dict[str, float]:
        runners = [memory(r.pid) for r in self.runners]
        server, follower = memory(self.server.pid), memory(self.follower.pid)
        found = {
            "runners MiB": sum(m["Rss"] for m in runners) / MIB,
            "runners PSS MiB": sum(m["Pss"] for m in runners) / MIB,
            "runners anon MiB": sum(m["Anonymous"] for m in runners) / MIB,
            "one runner PSS MiB": sum(m["Pss"] for m in runners) / len(runners) / MIB,
            "tmux server MiB": server["Rss"] / MIB,
            "tmux server PSS MiB": server["Pss"] / MIB,
            "following MiB": follower["Rss"] / MIB,
            "following PSS MiB": follower["Pss"] / MIB,
        }
        pss = (m["Pss"] for m in (*runners, server, follower))
        found["corral all-in PSS MiB"] = sum(pss) / MIB
        return found


def run_once(supervisor: Supervisor, seconds: float, tree: Path) -> dict[str, float]:
    root = supervisor.repo.root
    written_to = root.parent / f"watch-{root.name}.jsonl"
    with written_to.open("w") as out:
        follower = subprocess.Popen(
            [python_of(tree), "-m", "tui.cli", "--repo", str(root), "watch", "--json"],
            stdout=out,
            cwd=tree,
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
        result |= parts.memory()
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
    parser.add_argument("--against", type=Path, help="another corral worktree, with its .venv")
    args = parser.parse_args()
    trees = {"this": HERE}
    if args.against is not None:
        trees[args.against.name] = args.against.resolve()
    width = max(len("measure"), *(len(k) for k in trees)) + 28
    lines = [
        f"| {'measure':<{width}} |   n |   median |      min |      max |",
        f"|{'-' * (width + 2)}|-----|----------|----------|----------|",
    ]
    loads = [os.getloadavg()[0]]
    with tempfile.TemporaryDirectory(prefix="corral-bench-", ignore_cleanup_errors=True) as folder:
        for size in [int(s) for s in args.sizes.split(",")]:
            runs: dict[str, list[dict[str, float]]] = {label: [] for label in trees}
            for number in range(args.runs):
                for label, tree in trees.items():
                    base = Path(folder) / f"run-{number}"
                    supervisor = working_herd(base, size, args.speed, tree, label)
                    try:
                        runs[label].append(run_once(supervisor, args.seconds, tree))
                    finally:
                        supervisor.tmux.kill_server()
                    loads.append(os.getloadavg()[0])
            for key in runs["this"][0]:
                for label in trees:
                    values = sorted(run[key] for run in runs[label])
                    name = key if len(trees) == 1 else f"{key} ({label})"
                    lines.append(
                        f"| {name:<{width}} | {size:>3} | {statistics.median(values):>8.2f} | "
                        f"{values[0]:>8.2f} | {values[-1]:>8.2f} |"
                    )
            print(f"done: {size} agents", file=sys.stderr)
    print(f"{args.runs} runs of {args.seconds:g} s, simulated agents at --speed {args.speed:g}\n")
    print("\n".join(lines))
    print(
        f"\nmachine: {os.cpu_count()} cores, Python {sys.version.split()[0]}, load average "
        f"{statistics.median(loads):.1f} (min {min(loads):.1f}, max {max(loads):.1f})"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
