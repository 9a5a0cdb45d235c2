"""What watching the herd costs, and how fast the status follows the screen.

Two measures:

- **Cost of watching**: CPU seconds per second used by the watching process (its own time and
  its children's: tmux and git calls) and by the tmux server, with 1, 6 and 30 agents that all
  print continuously, for corral's observer (`Supervisor.look()`: one `list-panes`, a capture
  only for panes that changed, hook files read from their offset) against the common approach
  (capture every pane every tick and `git status` every worktree every tick), both at a 500 ms
  tick, in the same run.
- **Status latency**: six simulated agents idle at their input box; a prompt is typed into one;
  the time from the agent drawing its working screen (its journal says when it took the
  prompt) to `look()` saying `working`, with `look()` called every 100 ms as an app would.
- **Hook latency**: the same idle herd; corral's hook is started as an agent starts it (the
  spool line, through `/bin/sh -c`), with a `PermissionRequest` payload, for one agent whose
  screen does not change; the time from starting the hook process (and from the time its
  event carries: when its payload landed in the spool) to `look()` saying `needs_input`.

Run: .venv/bin/python bench/bench_watch.py [--sizes 1,6,30] [--seconds 8] [--prompts 20]
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from functools import partial
from pathlib import Path

import psutil

from sessions.agents.hook_settings import spool_command
from sessions.commands.sandbox import create
from sessions.core.model import State
from sessions.supervisor import Supervisor


def printing_herd(base: Path, size: int, tag: str) -> Supervisor:
    root = create(base / f"{tag}-{size}")
    agents = "".join(
        f'[[agent]]\nname = "p-{n}"\nkind = "shell"\ncommand = "sh -c \\"while :; do date; '
        f'sleep 0.1; done\\""\n\n'
        for n in range(1, size + 1)
    )
    (root / "corral.toml").write_text(agents)
    supervisor = Supervisor.open(root)
    supervisor.up()
    end = time.monotonic() + 60
    while time.monotonic() < end and not all(v.pid for v in supervisor.look()):
        time.sleep(0.05)
    return supervisor


def cpu_now(server: psutil.Process) -> tuple[float, float]:
    own = resource.getrusage(resource.RUSAGE_SELF)
    kids = resource.getrusage(resource.RUSAGE_CHILDREN)
    mine = own.ru_utime + own.ru_stime + kids.ru_utime + kids.ru_stime
    times = server.cpu_times()
    return mine, times.user + times.system


def server_process(supervisor: Supervisor) -> psutil.Process:
    pid = supervisor.tmux.run("display-message", "-p", "#{pid}")[0]
    return psutil.Process(int(pid))


def common_tick(supervisor: Supervisor, worktrees: list[Path], screens: dict[str, str]) -> None:
    """What most supervisors do each tick: capture every pane, diff every worktree."""
    for pane in supervisor.tmux.panes():
        text = supervisor.tmux.capture(pane.pane_id)
        screens[pane.pane_id] = text
    for worktree in worktrees:
        subprocess.run(
            ["git", "status", "--porcelain"], cwd=worktree, capture_output=True, check=False
        )


def measure(
    tick: Callable[[], object], server: psutil.Process, seconds: float
) -> tuple[float, float]:
    """CPU percent of one core for the watcher and for the tmux server while ticking."""
    start_mine, start_server = cpu_now(server)
    began = time.monotonic()
    next_tick = began
    while time.monotonic() - began < seconds:
        tick()
        next_tick += 0.5
        time.sleep(max(0.0, next_tick - time.monotonic()))
    elapsed = time.monotonic() - began
    end_mine, end_server = cpu_now(server)
    return (
        100 * (end_mine - start_mine) / elapsed,
        100 * (end_server - start_server) / elapsed,
    )


def cost_row(name: str, size: int, mine: float, tmux: float) -> str:
    return f"| {name:<30} | {size:>3} | {mine:>11.2f} | {tmux:>10.2f} |"


def cost_rows(base: Path, sizes: list[int], seconds: float) -> list[str]:
    rows = []
    for size in sizes:
        supervisor = printing_herd(base, size, "cost")
        try:
            server = server_process(supervisor)
            worktrees = [Path(v.worktree) for v in supervisor.look()]
            screens: dict[str, str] = {}
            ours = Supervisor.open(supervisor.repo.root)
            ours.look()
            mine, tmux = measure(ours.look, server, seconds)
            rows.append(cost_row("corral observer", size, mine, tmux))
            common = partial(common_tick, supervisor, worktrees, screens)
            mine, tmux = measure(common, server, seconds)
            rows.append(cost_row("capture all + git status", size, mine, tmux))
        finally:
            supervisor.tmux.kill_server()
        print(f"cost done: {size} agents", file=sys.stderr)
    return rows


def latency_rows(base: Path, prompts: int) -> list[str]:
    root = create(base / "latency")
    (root / "corral.toml").write_text(
        "".join(
            f'[[agent]]\nname = "sim-{n}"\nkind = "sim"\nargs = ["--speed", "0.3"]\n\n'
            for n in range(1, 7)
        )
    )
    supervisor = Supervisor.open(root)
    supervisor.up()
    latencies: list[float] = []
    try:
        for index in range(prompts):
            name = f"sim-{index % 6 + 1}"
            wait_state(supervisor, name, State.IDLE, 60)
            marker = f"task {index}"
            supervisor.send(name, marker)
            seen = wait_state(supervisor, name, State.WORKING, 30)
            took = prompt_time(supervisor, name, marker)
            if took is not None:
                latencies.append(max(0.0, seen - took))
    finally:
        supervisor.tmux.kill_server()
    return [latency_row("screen change -> status (6 agents, 100 ms look)", latencies)]


def hook_latency_rows(base: Path, calls: int) -> list[str]:
    root = create(base / "hook-latency")
    (root / "corral.toml").write_text(
        "".join(f'[[agent]]\nname = "sim-{n}"\nkind = "sim"\n\n' for n in range(1, 7))
    )
    supervisor = Supervisor.open(root)
    supervisor.up()
    payload = json.dumps({"hook_event_name": "PermissionRequest", "tool_name": "Bash"}).encode()
    from_start: list[float] = []
    from_line: list[float] = []
    try:
        for index in range(calls):
            name = f"sim-{index % 6 + 1}"
            wait_state(supervisor, name, State.IDLE, 60)
            env = os.environ | {"CORRAL_HOME": str(supervisor.repo.state_dir), "CORRAL_AGENT": name}
            started = time.time()
            hook = ("/bin/sh", "-c", spool_command("sim"))
            subprocess.run(hook, input=payload, env=env, check=True)
            seen = wait_state(supervisor, name, State.NEEDS_INPUT, 10, interval=0.1)
            written = last_event_time(supervisor, name, "PermissionRequest")
            from_start.append(seen - started)
            from_line.append(seen - written)
    finally:
        supervisor.tmux.kill_server()
    return [
        latency_row("hook started -> status (6 agents, 100 ms look)", from_start),
        latency_row("hook line written -> status", from_line),
    ]


def latency_row(label: str, seconds: list[float]) -> str:
    ms = sorted(x * 1000 for x in seconds)
    p95 = ms[min(len(ms) - 1, round(0.95 * (len(ms) - 1)))]
    return (
        f"| {label:<47} | {statistics.median(ms):>9.0f} | "
        f"{p95:>7.0f} | {ms[0]:>6.0f} | {ms[-1]:>6.0f} | {len(ms):>4} |"
    )


def last_event_time(supervisor: Supervisor, name: str, event: str) -> float:
    path = supervisor.repo.state_dir / "events" / f"{name}.jsonl"
    for line in reversed(path.read_text().splitlines()):
        record = json.loads(line)
        if record.get("event") == event:
            return float(record["t"])
    raise SystemExit(f"{name} has no {event} event")


def wait_state(
    supervisor: Supervisor, name: str, state: State, timeout: float, interval: float = 0.1
) -> float:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if next(v for v in supervisor.look() if v.name == name).state is state:
            return time.time()
        time.sleep(interval)
    raise SystemExit(f"{name} never became {state.value}")


def prompt_time(supervisor: Supervisor, name: str, marker: str) -> float | None:
    for event in reversed(supervisor.journal.read_all()):
        if (
            event.get("agent") == name
            and event["event"] == "prompt"
            and event.get("text") == marker
        ):
            return float(event["t"])
    return None


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sizes", default="1,6,30")
    parser.add_argument("--seconds", type=float, default=8.0)
    parser.add_argument("--prompts", type=int, default=20)
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]
    with tempfile.TemporaryDirectory(prefix="corral-watch-", ignore_cleanup_errors=True) as folder:
        base = Path(folder)
        cost = cost_rows(base, sizes, args.seconds)
        latency = latency_rows(base, args.prompts)
        latency += hook_latency_rows(base, args.prompts)
    print("| watching, 500 ms tick          |   n | watcher %cpu | tmux %cpu |")
    print("|--------------------------------|-----|-------------|-----------|")
    print("\n".join(cost))
    print()
    print(f"| {'status latency':<47} | median ms | p95 ms | min ms | max ms | runs |")
    print(f"|{'-' * 49}|-----------|--------|--------|--------|------|")
    print("\n".join(latency))
    print(f"\nmachine: {os.cpu_count()} cores, Python {sys.version.split()[0]}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
