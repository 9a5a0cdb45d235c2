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
  with the git and tmux calls it makes (the dashboard's own cost is in bench_app.py), and
  those calls alone (**following's processes**);
- **agents**: the simulated agents themselves, for scale (not corral's cost);

and the memory of the runners, the tmux server and the follower: RSS, which counts every page a
process maps, and PSS (/proc/PID/smaps_rollup), which divides each shared page among the
processes that share it, so summed PSS is what the machine really spends on corral; and the
runners' anonymous memory, which nothing shares. Runs are repeated and printed as median, min
and max, so the next regression points at the part that grew.

`--against PATH` (another corral worktree with its own `.venv`) starts each run's herd twice,
once with each corral, one after the other, so the two are compared on the same machine at
the same moment and neither herd shares pages with the other.

`--follower-against REF` follows each herd with corral's code at git revision REF as well,
both followers at once, so a change to following is compared on one herd doing the same
things under one load. `--calls` puts a `git` and a `tmux` on the followers' PATH that count
their processes (their shell adds CPU, so take CPU from runs without it).

Run: .venv/bin/python bench/bench_working.py [--sizes 6,30] [--seconds 10] [--runs 3]
     [--speed 2] [--against PATH] [--follower-against main] [--calls]
"""

from __future__ import annotations

import argparse
import io
import os
import shutil
import statistics
import subprocess
import sys
import tarfile
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
    """The herd's processes, found once a run starts: runners, agents, server, and the
    followers by the suffix their rows get ("" for the herd's own corral's)."""

    def __init__(self, supervisor: Supervisor, followers: dict[str, psutil.Process]) -> None:
        views = supervisor.look()
        self.runners = [psutil.Process(v.runner_pid) for v in views if v.runner_pid]
        self.agents = [psutil.Process(v.pid) for v in views if v.pid]
        self.server = server_process(supervisor)
        self.followers = followers

    def cpu(self) -> dict[str, float]:
        return {
            "hooks": sum(reaped(agent) for agent in self.agents),
            "runners": sum(own(runner) for runner in self.runners),
            "tmux server": own(self.server),
            **{f"following{s}": own(f) + reaped(f) for s, f in self.followers.items()},
            **{f"following's processes{s}": reaped(f) for s, f in self.followers.items()},
            "agents": sum(own(agent) for agent in self.agents),
        }

    def memory(self) -> dict[str, float]:
        runners = [memory(r.pid) for r in self.runners]
        server = memory(self.server.pid)
        followers = {s: memory(f.pid) for s, f in self.followers.items()}
        found = {
            "runners MiB": sum(m["Rss"] for m in runners) / MIB,
            "runners PSS MiB": sum(m["Pss"] for m in runners) / MIB,
            "runners anon MiB": sum(m["Anonymous"] for m in runners) / MIB,
            "one runner PSS MiB": sum(m["Pss"] for m in runners) / len(runners) / MIB,
            "tmux server MiB": server["Rss"] / MIB,
            "tmux server PSS MiB": server["Pss"] / MIB,
            **{f"following MiB{s}": m["Rss"] / MIB for s, m in followers.items()},
            **{f"following PSS MiB{s}": m["Pss"] / MIB for s, m in followers.items()},
        }
        pss = (m["Pss"] for m in (*runners, server, followers[""]))
        found["corral all-in PSS MiB"] = sum(pss) / MIB
        return found


def code_at(revision: str, folder: Path) -> Path:
    """corral's packages as they are at `revision`, unpacked into `folder`: a follower started
    there imports them before the installed checkout's."""
    tar = subprocess.run(
        ["git", "archive", "--format=tar", revision, "sessions", "tui"],
        cwd=HERE,
        capture_output=True,
        check=True,
    ).stdout
    folder.mkdir(parents=True, exist_ok=True)
    with tarfile.open(fileobj=io.BytesIO(tar)) as archive:
        archive.extractall(folder, filter="data")
    return folder


def counting(folder: Path) -> dict[str, str]:
    """An environment whose `git` and `tmux` log one line per process to `folder`/calls.log."""
    shim = folder / "bin"
    shim.mkdir(parents=True, exist_ok=True)
    for tool in ("git", "tmux"):
        real = shutil.which(tool)
        assert real is not None, f"{tool} is not installed"
        log = folder / "calls.log"
        (shim / tool).write_text(f'#!/bin/sh\necho "{tool} $*" >> "{log}"\nexec "{real}" "$@"\n')
        (shim / tool).chmod(0o755)
    return {**os.environ, "PATH": f"{shim}{os.pathsep}{os.environ['PATH']}"}


def calls_made(log: Path, elapsed: float) -> dict[str, float]:
    lines = log.read_text().splitlines() if log.exists() else []
    looks = sum(1 for line in lines if " list-panes " in line) or 1  # one a look
    result = {"looks / s": looks / elapsed}
    for tool in ("git", "tmux"):
        result[f"{tool} calls / look"] = sum(1 for line in lines if line.startswith(tool)) / looks
    return result


def row(part: str, measure: str) -> str:
    """`following (main)` and `CPU %` make `following CPU % (main)`: the suffix goes last."""
    name, _, suffix = part.partition(" (")
    return f"{name} {measure}" + (f" ({suffix}" if suffix else "")


def run_once(
    supervisor: Supervisor,
    seconds: float,
    tree: Path,
    codes: dict[str, Path] | None = None,
    count: bool = False,
) -> dict[str, float]:
    """One run: the herd's own corral (from `tree`) follows it, and with `codes` (by suffix,
    each a folder of corral's code) other followers too, all at once, so they see the same
    herd doing the same things."""
    root = supervisor.repo.root
    starts = {"": (python_of(tree), tree)} | {
        suffix: (sys.executable, code) for suffix, code in (codes or {}).items()
    }
    followers: dict[str, subprocess.Popen[bytes]] = {}
    written: dict[str, Path] = {}
    logs: dict[str, Path] = {}
    for number, (suffix, (python, code)) in enumerate(starts.items()):
        place = root.parent / f"follower-{root.name}-{number}"
        place.mkdir(exist_ok=True)
        written[suffix], logs[suffix] = place / "watch.jsonl", place / "calls.log"
        with written[suffix].open("w") as out:
            followers[suffix] = subprocess.Popen(
                [python, "-m", "tui.cli", "--repo", str(root), "watch", "--json"],
                stdout=out,
                cwd=code,
                env=counting(place) if count else None,
            )
    try:
        end = time.monotonic() + 30
        while time.monotonic() < end and not all(w.stat().st_size for w in written.values()):
            time.sleep(0.05)  # their first looks are written before measuring
        parts = Parts(supervisor, {s: psutil.Process(f.pid) for s, f in followers.items()})
        before, events = parts.cpu(), hook_events(root)
        for log in logs.values():
            log.write_text("")
        began = time.monotonic()
        time.sleep(seconds)
        elapsed = time.monotonic() - began
        after, written_events = parts.cpu(), hook_events(root) - events
        result = {row(k, "CPU %"): 100 * (after[k] - before[k]) / elapsed for k in after}
        result |= parts.memory()
        result["hook events / s"] = written_events / elapsed
        result["hook CPU ms / event"] = (
            1000 * (after["hooks"] - before["hooks"]) / written_events
            if written_events
            else float("nan")
        )
        corral = sum(after[k] - before[k] for k in ("hooks", "runners", "tmux server", "following"))
        result["corral all-in CPU %"] = 100 * corral / elapsed
        if count:
            for suffix, log in logs.items():
                result |= {f"following {k}{suffix}": v for k, v in calls_made(log, elapsed).items()}
    finally:
        for follower in followers.values():
            follower.terminate()
        for follower in followers.values():
            follower.wait(timeout=20)
    return result


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="6")
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--speed", type=float, default=2.0, help="the agents' think times x")
    parser.add_argument("--against", type=Path, help="another corral worktree, with its .venv")
    parser.add_argument(
        "--follower-against", help="a git revision whose follower follows the same herd at once"
    )
    parser.add_argument("--calls", action="store_true", help="count the followers' git and tmux")
    args = parser.parse_args()
    trees = {"this": HERE}
    if args.against is not None:
        trees[args.against.name] = args.against.resolve()
    extra = f" ({args.follower_against})" if args.follower_against else ""
    width = max(len("measure"), *(len(k) + len(extra) for k in trees)) + 36
    lines = [
        f"| {'measure':<{width}} |   n |   median |      min |      max |",
        f"|{'-' * (width + 2)}|-----|----------|----------|----------|",
    ]
    loads = [os.getloadavg()[0]]
    with tempfile.TemporaryDirectory(prefix="corral-bench-", ignore_cleanup_errors=True) as folder:
        codes = {}
        if args.follower_against:
            codes[extra] = code_at(args.follower_against, Path(folder) / "follower-against")
        for size in [int(s) for s in args.sizes.split(",")]:
            runs: dict[str, list[dict[str, float]]] = {label: [] for label in trees}
            for number in range(args.runs):
                for label, tree in trees.items():
                    base = Path(folder) / f"run-{number}"
                    supervisor = working_herd(base, size, args.speed, tree, label)
                    try:
                        runs[label].append(
                            run_once(supervisor, args.seconds, tree, codes, args.calls)
                        )
                    finally:
                        supervisor.tmux.kill_server()
                    loads.append(os.getloadavg()[0])
            own = [key for key in runs["this"][0] if " (" not in key]
            for key in sorted(runs["this"][0], key=lambda k: (own.index(k.split(" (")[0]), k)):
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
