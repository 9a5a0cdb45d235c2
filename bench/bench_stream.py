"""What a script pays to follow the herd: `corral watch --json` against polling `corral ls --json`.

Both follow a herd of agents that print all the time (each pane's screen changes every 100 ms,
as a working agent's does), at the dashboard's pace of 0.5 s:

- **watch**: one `corral watch --json --every 0.5` process for the whole run.
- **poll**: a new `corral ls --json` process every 0.5 s, as `watch -n 0.5 corral ls --json`
  or a script's loop does.

Measured over each run: CPU of one core used by the follower (the watch process and the git and
tmux calls it makes; or every `ls` process), by the tmux server, and the time from a change (an
agent paused, out of step with the looks) to the follower's output showing it. Each is
repeated `--runs` times, alternating, and printed as median, min and max.

Run: .venv/bin/python bench/bench_stream.py [--sizes 6,30] [--seconds 10] [--runs 3]
"""

from __future__ import annotations

import argparse
import json
import math
import os
import random
import select
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import psutil
from bench_watch import printing_herd, server_process

from sessions.supervisor import Supervisor

CORRAL = [sys.executable, "-m", "tui.cli"]
EVERY = 0.5


def tree_cpu(process: psutil.Process) -> float:
    """CPU seconds of a process and of its children, the ones gone included."""
    times = process.cpu_times()
    return times.user + times.system + times.children_user + times.children_system


def busy_state(line: str, name: str) -> str | None:
    for agent in json.loads(line).get("agents", ()):
        if agent["name"] == name:
            return str(agent["state"])
    return None


def follow_watch(root: Path, seconds: float, target: str) -> tuple[float, float, float]:
    """CPU % of the watch process (with its children), of the tmux server, and the seconds from
    a pause to the line that shows it."""
    supervisor = Supervisor.open(root)
    server = server_process(supervisor)
    watch = subprocess.Popen(
        [*CORRAL, "--repo", str(root), "watch", "--json", "--every", str(EVERY)],
        stdout=subprocess.PIPE,
        text=True,
    )
    assert watch.stdout is not None
    try:
        watch.stdout.readline()  # the first look, before measuring
        process = psutil.Process(watch.pid)
        mine, tmux = tree_cpu(process), tree_cpu(server)
        began = time.monotonic()
        paused_at = began + seconds / 2 + random.uniform(0, EVERY)  # out of step with looks
        latency = float("nan")
        while (now := time.monotonic()) - began < seconds:
            if math.isnan(latency) and now >= paused_at > 0:
                supervisor.pause([target])
                paused_at, mark = -1.0, time.monotonic()
            ready, _, _ = select.select([watch.stdout], [], [], 0.05)
            if ready:
                line = watch.stdout.readline()
                if paused_at < 0 and math.isnan(latency) and busy_state(line, target) == "paused":
                    latency = time.monotonic() - mark
        elapsed = time.monotonic() - began
        used = tree_cpu(process) - mine, tree_cpu(server) - tmux
    finally:
        watch.terminate()
        watch.wait(timeout=20)
        supervisor.resume([target])
    return 100 * used[0] / elapsed, 100 * used[1] / elapsed, latency


def follow_poll(root: Path, seconds: float, target: str) -> tuple[float, float, float]:
    """The same for a new `corral ls --json` every 0.5 s, run from here."""
    supervisor = Supervisor.open(root)
    server = server_process(supervisor)
    me = psutil.Process(os.getpid())
    mine_before, tmux = me.cpu_times(), tree_cpu(server)
    began = time.monotonic()
    paused_at = began + seconds / 2 + random.uniform(0, EVERY)
    latency = float("nan")
    next_tick = began
    while time.monotonic() - began < seconds:
        if paused_at > 0 and time.monotonic() >= paused_at:
            supervisor.pause([target])  # in this process: not counted with the `ls` children
            paused_at, mark = -1.0, time.monotonic()
        out = subprocess.run(
            [*CORRAL, "--repo", str(root), "ls", "--json"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout
        if paused_at < 0 and math.isnan(latency) and busy_state(out, target) == "paused":
            latency = time.monotonic() - mark
        next_tick += EVERY
        time.sleep(max(0.0, next_tick - time.monotonic()))
    elapsed = time.monotonic() - began
    now = me.cpu_times()
    children = (now.children_user + now.children_system) - (
        mine_before.children_user + mine_before.children_system
    )
    supervisor.resume([target])
    return 100 * children / elapsed, 100 * (tree_cpu(server) - tmux) / elapsed, latency


def row(label: str, size: int, values: list[float]) -> str:
    shown = sorted(v for v in values if not math.isnan(v))
    if not shown:
        return f"| {label:<48} | {size:>3} | {'-':>9} | {'-':>8} | {'-':>8} |"
    return (
        f"| {label:<48} | {size:>3} | {statistics.median(shown):>9.2f} | {shown[0]:>8.2f} | "
        f"{shown[-1]:>8.2f} |"
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="6,30")
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    lines = [
        f"| {'measure':<48} |   n |    median |      min |      max |",
        f"|{'-' * 50}|-----|-----------|----------|----------|",
    ]
    with tempfile.TemporaryDirectory(prefix="corral-bench-", ignore_cleanup_errors=True) as folder:
        for size in [int(s) for s in args.sizes.split(",")]:
            supervisor = printing_herd(Path(folder), size, "stream")
            root = supervisor.repo.root
            target = "p-1"
            got: dict[str, list[list[float]]] = {"watch": [[], [], []], "poll": [[], [], []]}
            try:
                for _ in range(args.runs):
                    for name, follow in (("watch", follow_watch), ("poll", follow_poll)):
                        for i, value in enumerate(follow(root, args.seconds, target)):
                            got[name][i].append(value)
            finally:
                supervisor.tmux.kill_server()
            for name, label in (
                ("watch", "`corral watch --json`"),
                ("poll", "`corral ls --json` every 0.5 s"),
            ):
                cpu, tmux, latency = got[name]
                lines.append(row(f"{label}: CPU %", size, cpu))
                lines.append(row(f"{label}: tmux server CPU %", size, tmux))
                lines.append(row(f"{label}: pause → shown, s", size, latency))
            print(f"done: {size} agents", file=sys.stderr)
    print(f"{args.runs} runs of {args.seconds:g} s each, agents printing every 100 ms\n")
    print("\n".join(lines))
    print(f"\nmachine: {os.cpu_count()} cores, Python {sys.version.split()[0]}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
