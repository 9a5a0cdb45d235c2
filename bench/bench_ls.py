"""`corral ls --json` as a polling script runs it: a new process each call, on a working herd.

A herd of simulated agents works on its own (`--auto`, tool calls through corral's real hook
entry, files written, conflicts between its builders), and the installed `corral` console
script runs `ls --json` again and again, a pause apart, as a script polling it does. Two
versions of corral answer in the same run, call for call, in alternating order:

- **before**: the code of `--before` (default: the commit this branch left `main` at), taken
  out of git with `git archive` and put first on `PYTHONPATH`, so the same interpreter and the
  same installed libraries run the old `sessions/` and `tui/`;
- **now**: the working tree's code.

Both trees are compiled to bytecode first, as an install does, so neither pays for compiling.
Each call's JSON is checked to carry the same keys from both versions, and the table says how
many agents were working. Two floors run in the same loop: Python's bare start-up, and start-up
with corral's imports. Each row has the CPU time too (the command's with the git and tmux it
ran), and the load average is printed with the table: the machine is shared.

Run: .venv/bin/python bench/bench_ls.py [--size 6] [--calls 60] [--pause 0.5] [--speed 2]
     [--before main]
"""

from __future__ import annotations

import argparse
import compileall
import json
import os
import resource
import statistics
import subprocess
import sys
import tarfile
import tempfile
import time
from io import BytesIO
from pathlib import Path
from typing import Any

from bench_working import working_herd

ROOT = Path(__file__).resolve().parent.parent
CORRAL = Path(sys.executable).parent / "corral"


def old_tree(before: str, into: Path) -> Path:
    """`sessions/` and `tui/` as they were at `before`, compiled, in a folder of their own."""
    base = subprocess.run(
        ["git", "-C", str(ROOT), "merge-base", "HEAD", before],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    packed = subprocess.run(
        ["git", "-C", str(ROOT), "archive", base, "sessions", "tui"],
        capture_output=True,
        check=True,
    ).stdout
    with tarfile.open(fileobj=BytesIO(packed)) as tar:
        tar.extractall(into, filter="data")
    compileall.compile_dir(into, quiet=1)
    return into


def call(argv: list[str], env: dict[str, str]) -> tuple[float, float, str]:
    """Wall time, and the CPU time of the command and the git and tmux it ran: the part of the
    wall time that does not depend on what else the machine is doing."""
    spent = _children_cpu()
    began = time.perf_counter()
    done = subprocess.run(argv, capture_output=True, text=True, env=env, check=True)
    took = time.perf_counter() - began
    return took, _children_cpu() - spent, done.stdout


def _children_cpu() -> float:
    used = resource.getrusage(resource.RUSAGE_CHILDREN)
    return used.ru_utime + used.ru_stime


def shape(payload: dict[str, Any]) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """The JSON's keys and every agent's keys: what must not change between the versions."""
    agents = {key for agent in payload["agents"] for key in agent}
    return tuple(payload), tuple(sorted(agents))


def row(name: str, times: list[float], cpu: list[float], working: list[int]) -> str:
    ms = sorted(t * 1000 for t in times)
    p95 = ms[min(len(ms) - 1, round(0.95 * (len(ms) - 1)))]
    return (
        f"| {name:<21} | {statistics.median(ms):>9.1f} | {p95:>6.1f} | {ms[0]:>6.1f} | "
        f"{ms[-1]:>6.1f} | {statistics.median(cpu) * 1000:>13.1f} | {len(ms):>5} | "
        f"{f'{statistics.median(working):.0f}' if working else '-':>7} |"
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=6)
    parser.add_argument("--calls", type=int, default=60, help="calls per version")
    parser.add_argument("--pause", type=float, default=0.5, help="seconds between calls")
    parser.add_argument("--speed", type=float, default=2.0, help="the agents' think times x")
    parser.add_argument("--before", default="main", help="the git ref to compare with")
    args = parser.parse_args()
    compileall.compile_dir(ROOT / "sessions", quiet=1)
    compileall.compile_dir(ROOT / "tui", quiet=1)
    with tempfile.TemporaryDirectory(prefix="corral-bench-", ignore_cleanup_errors=True) as folder:
        base = Path(folder)
        old = old_tree(args.before, base / "before")
        now_env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
        envs = {"before": now_env | {"PYTHONPATH": str(old)}, "now": now_env}
        supervisor = working_herd(base, args.size, args.speed)
        root = supervisor.repo.root
        ls = [str(CORRAL), "--repo", str(root), "ls", "--json"]
        floors = {
            "floor: python -c pass": [sys.executable, "-c", "pass"],
            "floor: imports only": [sys.executable, "-c", "import tui.cli"],
        }
        times: dict[str, list[float]] = {name: [] for name in [*envs, *floors]}
        cpu: dict[str, list[float]] = {name: [] for name in [*envs, *floors]}
        working: dict[str, list[int]] = {name: [] for name in envs}
        shapes: dict[str, set[tuple[tuple[str, ...], tuple[str, ...]]]] = {n: set() for n in envs}
        load_before = os.getloadavg()
        try:
            for env in envs.values():
                call(ls, env)  # a warm-up each: caches and checkpoints as a poller has them
            for index in range(args.calls):
                order = list(envs) if index % 2 == 0 else list(reversed(envs))
                for name in order:
                    time.sleep(args.pause)
                    took, used, out = call(ls, envs[name])
                    times[name].append(took)
                    cpu[name].append(used)
                    payload = json.loads(out)
                    states = [agent["state"] for agent in payload["agents"]]
                    working[name].append(states.count("working"))
                    shapes[name].add(shape(payload))
                for name, argv in floors.items():
                    took, used, _ = call(argv, now_env)
                    times[name].append(took)
                    cpu[name].append(used)
        finally:
            load_after = os.getloadavg()
            supervisor.tmux.kill_server()
    print(
        f"`corral ls --json`, new process each call, {args.size} simulated agents at "
        f"--speed {args.speed:g}, {args.calls} calls per version, {args.pause:g} s apart\n"
    )
    columns = "median ms | p95 ms | min ms | max ms | median CPU ms | calls | working"
    print(f"| {'version':<21} | {columns} |")
    print(f"|{'-' * 23}|-----------|--------|--------|--------|---------------|-------|---------|")
    for name, walls in times.items():
        print(row(name, walls, cpu[name], working.get(name, [])))
    same = shapes["before"] == shapes["now"]
    print(f"\nsame JSON keys from both versions: {'yes' if same else 'NO'}")
    print(
        f"load average (1 min) {load_before[0]:.2f} at the start, {load_after[0]:.2f} at the end; "
        f"{os.cpu_count()} cores, Python {sys.version.split()[0]}"
    )
    return 0 if same else 1


if __name__ == "__main__":
    sys.exit(main())
