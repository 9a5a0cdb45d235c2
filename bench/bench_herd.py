"""How long starting a herd takes, and how fast `corral ls` answers, at 1, 6 and 30 agents.

Each size gets fresh sandbox repositories with simulated agents waiting at their input box.
Besides corral's own way of looking (one `tmux list-panes -a` and one pass over the process
table for the whole herd) it times the obvious alternative (one tmux call and one psutil
children() walk per agent), so the table shows what the single-pass design buys.

Run: .venv/bin/python bench/bench_herd.py [--sizes 1,6,30] [--starts 3] [--looks 15]
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from functools import partial
from pathlib import Path

import psutil

from sessions.commands.sandbox import create
from sessions.supervisor import Supervisor

ROOT = Path(__file__).resolve().parent.parent


def herd_config(size: int) -> str:
    return "".join(f'[[agent]]\nname = "sim-{n}"\nkind = "sim"\n\n' for n in range(1, size + 1))


def make_repo(base: Path, size: int, index: int) -> Path:
    root = create(base / f"herd-{size}-{index}")
    (root / "corral.toml").write_text(herd_config(size))
    return root


def wait_running(supervisor: Supervisor, size: int, timeout: float = 120.0) -> None:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        views = supervisor.look()
        if len(views) == size and all(view.pid for view in views):
            return
        time.sleep(0.01)
    raise SystemExit(f"the herd of {size} did not start within {timeout} s")


def settle(timeout: float = 15.0) -> None:
    """Wait for the machine to go quiet, so one run's starting agents don't slow the next."""
    end = time.monotonic() + timeout
    while time.monotonic() < end and psutil.cpu_percent(interval=0.25) > 25:
        pass


def time_start(
    base: Path, size: int, index: int, workers: int
) -> tuple[float, float, float, Supervisor]:
    """Seconds for `up` to return, until every agent process runs, and for `up` to adopt."""
    supervisor = Supervisor.open(make_repo(base, size, index))
    supervisor.worktree_workers = workers
    settle()
    began = time.perf_counter()
    supervisor.up()
    returned = time.perf_counter() - began
    wait_running(supervisor, size)
    running = time.perf_counter() - began
    began = time.perf_counter()
    Supervisor.open(supervisor.repo.root).up()
    adopted = time.perf_counter() - began
    settle()
    return returned, running, adopted, supervisor


def naive_look(supervisor: Supervisor) -> int:
    """One tmux call and one process walk per agent: what a simpler design would do."""
    alive = 0
    for pane in supervisor.tmux.panes():
        supervisor.tmux.run("display-message", "-p", "-t", pane.pane_id, "#{pane_pid}")
        try:
            children = psutil.Process(pane.pid).children(recursive=True)
            alive += sum(1 for child in children if child.status() != psutil.STATUS_STOPPED)
        except psutil.NoSuchProcess:
            continue
    return alive


def cli_ls(root: Path) -> None:
    subprocess.run(
        [sys.executable, "-m", "tui.cli", "--repo", str(root), "ls", "--json"],
        check=True,
        capture_output=True,
    )


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


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sizes", default="1,6,30")
    parser.add_argument("--starts", type=int, default=3, help="fresh herds per size")
    parser.add_argument("--looks", type=int, default=15, help="samples per look strategy")
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]
    header = (
        "| measure                            |   n | median ms |   min ms |   max ms | runs |\n"
        "|------------------------------------|-----|-----------|----------|----------|------|"
    )
    rows = []
    with tempfile.TemporaryDirectory(prefix="corral-bench-", ignore_cleanup_errors=True) as folder:
        base = Path(folder)
        for size in sizes:
            returned, running, adopted = [], [], []
            herds: list[Supervisor] = []
            try:
                serial: list[float] = []
                for index in range(args.starts):
                    result = time_start(base, size, index, workers=2)
                    returned.append(result[0])
                    running.append(result[1])
                    adopted.append(result[2])
                    herds.append(result[3])
                    one_by_one = time_start(base, size, index + args.starts, workers=1)
                    serial.append(one_by_one[0])
                    herds.append(one_by_one[3])
                    one_by_one[3].tmux.kill_server()
                supervisor = herds[-2]
                root = supervisor.repo.root

                rows += [
                    row("up returns (worktrees 2 at a time)", size, returned),
                    row("up returns (worktrees 1 at a time)", size, serial),
                    row("every agent process running", size, running),
                    row("up again (adopt a running herd)", size, adopted),
                    row("ls: corral look (one pass)", size, sample(supervisor.look, args.looks)),
                    row(
                        "ls: per-agent tmux + psutil",
                        size,
                        sample(partial(naive_look, supervisor), args.looks),
                    ),
                    row(
                        "`corral ls --json` (new process)",
                        size,
                        sample(partial(cli_ls, root), max(5, args.looks // 3)),
                    ),
                ]
            finally:
                for herd in herds:
                    herd.tmux.kill_server()
            print(f"done: {size} agents", file=sys.stderr)
    print(header)
    print("\n".join(rows))
    print(f"\nmachine: {psutil.cpu_count()} cores, Python {sys.version.split()[0]}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
