"""What one hook call costs the agent, for each way of starting corral's hook entry.

Claude Code runs its command hooks synchronously on every tool call (PreToolUse, PostToolUse,
PostToolBatch) through `/bin/sh -c` (Gemini CLI through `bash -c`), so each call's wall time is
added to the agent's turn and its CPU to the machine's load. This spawns the hook as the CLI
does, a new process with a realistic PostToolUse payload on stdin, about 200 times per variant,
interleaved so that a noisy moment hurts every variant alike, and prints the median and 95th
percentile of the wall time and of the CPU time (user + system of the process and whatever it
ran, from the kernel's accounting of waited-for children).

- Floors: `/bin/true`, a shell handing stdin to `cat`, a bare interpreter.
- **spool line** (what corral installs): the shell line that leaves the payload in the agent's
  spool; the trimming then happens in a running process, measured as **drain**: CPU per event
  of `Spool.drain()` over each round's payloads, as the runner or a looking corral pays it.
- **python entry**: the Python entry corral installed before, through the same shell.
- A Stop event; and PreToolUse edits while corral tells agents about held files
  (`[conflicts] tell = "warn"`, so `holds.json` exists and the line hands over to the Python
  entry): of a held file (answered on stdout) and of a free one.

Every call is checked: exit code 0, stdout as expected, and in the end one trimmed line per
call in each variant's events file.

Run: .venv/bin/python bench/bench_hook.py [--calls 200]
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
from dataclasses import dataclass
from pathlib import Path

from sessions.agents.hook_settings import hook_command, spool_command
from sessions.agents.hook_spool import Spool


@dataclass(frozen=True)
class Variant:
    """One way of starting the hook; `events` says whether it writes an event line."""

    name: str
    argv: tuple[str, ...]
    events: bool = True
    stop: bool = False
    pre: str = ""  # "held" or "free": a PreToolUse edit of a file another builder holds, or not
    spooled: bool = False  # its agent has a spool, as under corral's runner
    tells: bool = False  # corral is telling: holds.json exists


def payload(worktree: Path) -> bytes:
    """A PostToolUse for an Edit, shaped and sized like the ones Claude Code sends."""
    old = "".join(f"    value_{n} = compute({n})\n" for n in range(40))
    new = old.replace("compute", "compute_fast")
    patch = [f"-{line}" for line in old.splitlines()] + [f"+{line}" for line in new.splitlines()]
    target = str(worktree / "src" / "engine" / "planner.py")
    return json.dumps(
        {
            "session_id": "5f0c3a9e-7b1d-4c2e-9a8f-3d6e1b2c4a01",
            "transcript_path": "/home/dev/.claude/projects/-w/5f0c3a9e.jsonl",
            "cwd": str(worktree),
            "permission_mode": "default",
            "hook_event_name": "PostToolUse",
            "tool_name": "Edit",
            "tool_input": {"file_path": target, "old_string": old, "new_string": new},
            "tool_response": {
                "filePath": target,
                "oldString": old,
                "newString": new,
                "originalFile": old * 12,
                "structuredPatch": [{"oldStart": 10, "newStart": 10, "lines": patch}],
                "userModified": False,
                "replaceAll": False,
            },
            "tool_use_id": "toolu_01BenchBenchBenchBenchBench",
            "duration_ms": 14,
        }
    ).encode()


def variants() -> list[Variant]:
    spool = spool_command("claude")
    asks = spool_command("claude", asks=True)
    python = hook_command("claude")
    return [
        Variant("/bin/true (floor)", ("/bin/true",), events=False),
        Variant("sh -c cat (floor)", ("/bin/sh", "-c", "cat >/dev/null"), events=False),
        Variant("python -I -S -c pass (floor)", (sys.executable, "-I", "-S", "-c", "pass"), False),
        Variant("sh -c: python entry (before)", ("/bin/sh", "-c", python)),
        Variant("sh -c: spool line (installed)", ("/bin/sh", "-c", spool), spooled=True),
        Variant("bash -c: spool line", ("bash", "-c", spool), spooled=True),
        Variant("sh -c: spool line, Stop", ("/bin/sh", "-c", spool), stop=True, spooled=True),
        Variant("sh -c: python entry, Stop", ("/bin/sh", "-c", python), stop=True),
        Variant(
            "PreToolUse, tell on: held, told",
            ("/bin/sh", "-c", asks),
            pre="held",
            spooled=True,
            tells=True,
        ),
        Variant(
            "PreToolUse, tell on: free",
            ("/bin/sh", "-c", asks),
            pre="free",
            spooled=True,
            tells=True,
        ),
        Variant("PreToolUse, tell off", ("/bin/sh", "-c", asks), pre="free", spooled=True),
    ]


def pre_tool(data: bytes, worktree: Path, held: bool) -> bytes:
    """The same edit as a PreToolUse (no response yet), of a held file or of a free one."""
    event = json.loads(data)
    event["hook_event_name"] = "PreToolUse"
    event.pop("tool_response")
    if not held:
        event["tool_input"]["file_path"] = str(worktree / "src" / "free.py")
    return json.dumps(event).encode()


def sent_for(variant: Variant, data: bytes, stop: bytes, worktree: Path) -> bytes:
    if variant.pre:
        return pre_tool(data, worktree, variant.pre == "held")
    return stop if variant.stop else data


def call(variant: Variant, data: bytes, env: dict[str, str], cwd: Path) -> tuple[float, float]:
    """(wall, CPU) seconds of one call, the CPU of everything it ran included."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    began = time.perf_counter()
    done = subprocess.run(
        variant.argv, input=data, capture_output=True, env=env, cwd=cwd, check=False
    )
    elapsed = time.perf_counter() - began
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime
    told = variant.pre == "held"
    if done.returncode != 0 or bool(done.stdout) != told:
        raise SystemExit(f"{variant.name}: exit {done.returncode}, stdout {done.stdout[:200]!r}")
    if told and b"being changed by other" not in done.stdout:
        raise SystemExit(f"{variant.name}: wrong answer {done.stdout[:200]!r}")
    return elapsed, cpu


Times = dict[str, tuple[list[float], list[float]]]


def measure(calls: int) -> tuple[list[Variant], Times, list[float]]:
    """Each variant's (wall, CPU) per call, and the drain's CPU per event, round by round."""
    with tempfile.TemporaryDirectory(prefix="corral-bench-hook-") as folder:
        base = Path(folder)
        worktree = base / "worktree"
        (worktree / "src" / "engine").mkdir(parents=True)
        env = {**os.environ, "CLAUDE_PROJECT_DIR": str(worktree)}
        env.pop("PYTHONPATH", None)
        data = payload(worktree)
        stop = json.dumps({"hook_event_name": "Stop", "stop_hook_active": False}).encode()
        chosen = variants()
        holds = json.dumps({"tell": "warn", "holds": {"src/engine/planner.py": ["other"]}})
        spools: dict[str, Spool] = {}
        homes: dict[str, Path] = {}
        for index, variant in enumerate(chosen):
            home = homes[variant.name] = base / f"state-{index}"
            home.mkdir()
            if variant.spooled:
                spools[variant.name] = Spool(str(home), "bench", str(worktree))
                spools[variant.name].make()
        times: Times = {variant.name: ([], []) for variant in chosen}
        drains: list[float] = []
        for round_ in range(calls + 1):
            for variant in chosen:
                home = homes[variant.name]
                if variant.tells:  # as a looking corral keeps it fresh
                    (home / "holds.json").write_text(holds)
                env_for = {**env, "CORRAL_HOME": str(home), "CORRAL_AGENT": "bench"}
                wall, cpu = call(
                    variant, sent_for(variant, data, stop, worktree), env_for, worktree
                )
                if round_:  # the first round only warms up
                    times[variant.name][0].append(wall)
                    times[variant.name][1].append(cpu)
            began = time.process_time()
            drained = sum(spool.drain() for spool in spools.values())
            if round_:
                drains.append((time.process_time() - began) / max(drained, 1))
            if round_ % 50 == 49:
                print(f"{round_ + 1}/{calls} rounds", file=sys.stderr)
        check(chosen, homes, calls + 1)
        return chosen, times, drains


def check(chosen: list[Variant], homes: dict[str, Path], calls: int) -> None:
    """Every hook variant wrote one trimmed line per call, with the edit classified."""
    for variant in chosen:
        if not variant.events:
            continue
        lines = (homes[variant.name] / "events" / "bench.jsonl").read_text().splitlines()
        last = json.loads(lines[-1])
        wanted = "Stop" if variant.stop else ("PreToolUse" if variant.pre else "PostToolUse")
        if len(lines) != calls or last.get("event") != wanted or "tool_response" in last:
            raise SystemExit(f"{variant.name}: wrong events ({len(lines)} lines, last {last})")


def spread(values: list[float]) -> tuple[float, float]:
    ms = sorted(v * 1000 for v in values)
    return statistics.median(ms), ms[min(len(ms) - 1, round(0.95 * (len(ms) - 1)))]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--calls", type=int, default=200, help="calls per variant")
    args = parser.parse_args()
    chosen, times, drains = measure(args.calls)
    print(f"payload: PostToolUse for an Edit, {len(payload(Path('/w')))} bytes on stdin\n")
    columns = ("wall median ms", "wall p95", "CPU median ms", "CPU p95")
    print(f"| {'hook start':<33} | " + " | ".join(columns) + " |")
    print(f"|{'-' * 35}|" + "|".join("-" * (len(c) + 2) for c in columns) + "|")
    for variant in chosen:
        wall, cpu = times[variant.name]
        (wall_median, wall_p95), (cpu_median, cpu_p95) = spread(wall), spread(cpu)
        print(
            f"| {variant.name:<33} | {wall_median:>14.2f} | {wall_p95:>8.2f} "
            f"| {cpu_median:>13.2f} | {cpu_p95:>7.2f} |"
        )
    median, p95 = spread(drains)
    drain = "drain, per event (in a runner)"
    print(f"| {drain:<33} | {'':>14} | {'':>8} | {median:>13.2f} | {p95:>7.2f} |")
    print(
        f"\nmachine: {os.cpu_count()} cores, Python {sys.version.split()[0]}, "
        f"load average {os.getloadavg()[0]:.2f}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
