"""What one look at the herd, and one pause and resume of one agent, cost: tmux calls by kind,
files opened by kind, and wall time.

A herd of simulated agents runs on its own tmux server. Every tmux call goes through a wrapper
script put first on PATH that logs its arguments (only calls this process makes are counted,
not the runners'), and every file this process opens is seen by an audit hook. Two supervisors
are opened, as the dashboard does: one looks, the other acts.

Run: .venv/bin/python bench/bench_look.py [--agents 6] [--runs 9]
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

import psutil
from bench_herd import wait_running

from sessions.commands.sandbox import create
from sessions.supervisor import Supervisor

WRAPPER = """#!/bin/sh
printf '%s %s\\n' "$PPID" "$*" >> {log}
exec {tmux} "$@"
"""

OPENED: list[str] = []
RECORDING = [False]


def audit(event: str, args: tuple[Any, ...]) -> None:
    if RECORDING[0] and event == "open" and isinstance(args[0], str | bytes | os.PathLike):
        OPENED.append(os.fsdecode(args[0]))


def file_kind(path: str) -> str:
    name = Path(path).name
    if "/.corral/events/" in path:
        return "hook events"
    if "/.corral/" in path and name.startswith("journal") and name.endswith(".jsonl"):
        return "journal"
    if "transcript" in path or "/.claude/" in path or "/projects/" in path:
        return "transcripts"
    if name == "PROGRESS.md" or "/notes/" in path:
        return "notes"
    if path.startswith("/proc/"):
        return "/proc"
    return "other"


def tmux_kind(line: str) -> str:
    """The tmux command of a logged call: the first word after the server's options."""
    words = iter(line.split()[1:])
    for word in words:
        if word in ("-L", "-S", "-f"):
            next(words, None)
        elif not word.startswith("-"):
            return word
    return "?"


class Counted:
    """One measured call: its wall time, tmux calls and files opened by kind."""

    def __init__(self, log: Path) -> None:
        self.log = log

    def measure(self, action: Callable[[], object]) -> tuple[float, Counter[str]]:
        self.log.write_text("")
        OPENED.clear()
        RECORDING[0] = True
        began = time.perf_counter()
        try:
            action()
        finally:
            elapsed = time.perf_counter() - began
            RECORDING[0] = False
        counts: Counter[str] = Counter()
        mine = str(os.getpid())
        for line in self.log.read_text().splitlines():
            if line.split(" ", 1)[0] == mine:
                counts[f"tmux {tmux_kind(line)}"] += 1
        for path in OPENED:
            counts[f"open {file_kind(path)}"] += 1
        return elapsed, counts


def table(title: str, samples: list[tuple[float, Counter[str]]]) -> list[str]:
    kinds = sorted({kind for _, counts in samples for kind in counts})
    lines = []
    ms = sorted(t * 1000 for t, _ in samples)
    lines.append(
        f"| {title:<9} | {'wall ms':<22} | {statistics.median(ms):>8.1f} | "
        f"{ms[0]:>7.1f} | {ms[-1]:>7.1f} |"
    )
    for kind in kinds:
        values = sorted(counts[kind] for _, counts in samples)
        lines.append(
            f"| {title:<9} | {kind:<22} | {statistics.median(values):>8g} | "
            f"{values[0]:>7} | {values[-1]:>7} |"
        )
    return lines


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--agents", type=int, default=6)
    parser.add_argument("--runs", type=int, default=9)
    args = parser.parse_args()
    sys.addaudithook(audit)
    real = shutil.which("tmux")
    if real is None:
        raise SystemExit("tmux is not installed")
    rows: list[str] = []
    with tempfile.TemporaryDirectory(prefix="corral-bench-", ignore_cleanup_errors=True) as folder:
        base = Path(folder)
        bin_dir = base / "bin"
        bin_dir.mkdir()
        log = base / "tmux.log"
        wrapper = bin_dir / "tmux"
        wrapper.write_text(WRAPPER.format(log=log, tmux=real))
        wrapper.chmod(0o755)
        os.environ["PATH"] = f"{bin_dir}{os.pathsep}{os.environ['PATH']}"
        root = create(base / "herd")
        names = [f"sim-{n}" for n in range(1, args.agents + 1)]
        (root / "corral.toml").write_text(
            "".join(f'[[agent]]\nname = "{name}"\nkind = "sim"\n\n' for name in names)
        )
        looker = Supervisor.open(root)
        try:
            looker.up()
            wait_running(looker, args.agents)
            actor = Supervisor.open(root)
            counted = Counted(log)
            looker.snapshot()  # the first look reads what a new process reads once
            target = names[len(names) // 2]
            looks = [counted.measure(looker.look) for _ in range(args.runs)]
            snapshots = [counted.measure(looker.snapshot) for _ in range(args.runs)]
            pauses, resumes = [], []
            for _ in range(args.runs):
                pauses.append(counted.measure(lambda: actor.pause([target])))
                resumes.append(counted.measure(lambda: actor.resume([target])))
            rows += table("look", looks)
            rows += table("snapshot", snapshots)
            rows += table("pause", pauses)
            rows += table("resume", resumes)
        finally:
            looker.tmux.kill_server()
    print(f"{args.agents} simulated agents, {args.runs} runs each\n")
    print("| path      | measure                | median   | min     | max     |")
    print("|-----------|------------------------|----------|---------|---------|")
    print("\n".join(rows))
    print(f"\nmachine: {psutil.cpu_count()} cores, Python {sys.version.split()[0]}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
