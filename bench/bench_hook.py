"""How long one hook call costs the agent, for each way of starting corral's hook entry.

Claude Code runs its command hooks synchronously on every tool call (PreToolUse, PostToolUse,
PostToolBatch), so each call's wall time is added to the agent's turn. This spawns the hook as
the CLI does, a new process with a realistic PostToolUse payload on stdin, about 200 times per
variant, interleaved so that a noisy moment hurts every variant alike, and prints the median
and 95th percentile. Floors (`/bin/true`, bare interpreters) show what process start-up alone
costs; `bash -c` shows what the shell Claude Code puts in front of a `command` hook adds; a
Stop event shows the cost without the tool classes (`sessions.agents.tools` is imported only for
tool events); two PreToolUse edits show what telling an agent about a file another builder
holds costs (`[conflicts] tell = "warn"`): one of a held file, answered on stdout, one of a
free file.

Every call is checked: exit code 0, nothing on stdout, one new line in the events file.

Run: .venv/bin/python bench/bench_hook.py [--calls 200]
"""

from __future__ import annotations

import argparse
import json
import os
import shlex
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PYTHON = sys.executable
HOOK_FILE = str(ROOT / "sessions" / "hook.py")
IMPORT_MAIN = (
    f"import sys; sys.path.insert(0, {str(ROOT)!r}); from sessions.hook import main; main()"
)


@dataclass(frozen=True)
class Variant:
    """One way of starting the hook; `events` says whether it writes an event line."""

    name: str
    argv: tuple[str, ...]
    events: bool = True
    stop: bool = False
    pre: str = ""  # "held" or "free": a PreToolUse edit of a file another builder holds, or not


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


def console_script(folder: Path) -> str:
    """`corral-hook` as installed, or the same entry-point wrapper pip writes for it."""
    installed = Path(PYTHON).with_name("corral-hook")
    if installed.exists():
        return str(installed)
    script = folder / "corral-hook"
    script.write_text(
        f"#!{PYTHON}\n"
        "import re\nimport sys\nfrom sessions.hook import main\n"
        "if __name__ == '__main__':\n"
        "    sys.argv[0] = re.sub(r'(-script\\.pyw|\\.exe)?$', '', sys.argv[0])\n"
        "    sys.exit(main())\n"
    )
    script.chmod(0o755)
    return str(script)


def variants(folder: Path) -> list[Variant]:
    kind = ("--kind", "claude")
    fastest = (PYTHON, "-I", "-S", "-c", IMPORT_MAIN, *kind)
    return [
        Variant("/bin/true (floor)", ("/bin/true",), events=False),
        Variant("python -I -S -c pass (floor)", (PYTHON, "-I", "-S", "-c", "pass"), False),
        Variant("python -c pass (floor, with site)", (PYTHON, "-c", "pass"), False),
        Variant("python -P -m sessions.hook", (PYTHON, "-P", "-m", "sessions.hook", *kind)),
        Variant("python -I -m sessions.hook", (PYTHON, "-I", "-m", "sessions.hook", *kind)),
        Variant("corral-hook (console script)", (console_script(folder), *kind)),
        Variant("python -I -S sessions/hook.py", (PYTHON, "-I", "-S", HOOK_FILE, *kind)),
        Variant("python -I -S -c 'import main'", fastest),
        Variant("bash -c: python -I -S -c ...", ("bash", "-c", shlex.join(fastest))),
        Variant("python -I -S -c ..., a Stop event", fastest, stop=True),
        Variant("PreToolUse edit, held: told", fastest, pre="held"),
        Variant("PreToolUse edit, free", fastest, pre="free"),
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


def call(variant: Variant, data: bytes, env: dict[str, str], cwd: Path) -> float:
    began = time.perf_counter()
    done = subprocess.run(
        variant.argv, input=data, capture_output=True, env=env, cwd=cwd, check=False
    )
    elapsed = time.perf_counter() - began
    told = variant.pre == "held"
    if done.returncode != 0 or bool(done.stdout) != told:
        raise SystemExit(f"{variant.name}: exit {done.returncode}, stdout {done.stdout[:200]!r}")
    if told and b"being changed by other" not in done.stdout:
        raise SystemExit(f"{variant.name}: wrong answer {done.stdout[:200]!r}")
    return elapsed


def measure(calls: int) -> list[tuple[Variant, list[float]]]:
    with tempfile.TemporaryDirectory(prefix="corral-bench-hook-") as folder:
        base = Path(folder)
        worktree = base / "worktree"
        (worktree / "src" / "engine").mkdir(parents=True)
        home = base / "state"
        home.mkdir()
        env = {**os.environ, "CORRAL_HOME": str(home), "CLAUDE_PROJECT_DIR": str(worktree)}
        env.pop("PYTHONPATH", None)
        data = payload(worktree)
        stop = json.dumps({"hook_event_name": "Stop", "stop_hook_active": False}).encode()
        chosen = variants(base)
        times: dict[str, list[float]] = {variant.name: [] for variant in chosen}
        holds = {"tell": "warn", "holds": {"src/engine/planner.py": ["other"]}}
        for index, variant in enumerate(chosen):
            (home / "holds.json").write_text(json.dumps(holds))
            sent = sent_for(variant, data, stop, worktree)
            call(variant, sent, {**env, "CORRAL_AGENT": f"bench-{index}"}, worktree)
        for round_ in range(calls):
            (home / "holds.json").write_text(json.dumps(holds))  # as a looking corral does
            for index, variant in enumerate(chosen):
                env_for = {**env, "CORRAL_AGENT": f"bench-{index}"}
                sent = sent_for(variant, data, stop, worktree)
                times[variant.name].append(call(variant, sent, env_for, worktree))
            if round_ % 50 == 49:
                print(f"{round_ + 1}/{calls} rounds", file=sys.stderr)
        check(chosen, home, calls)
        return [(variant, times[variant.name]) for variant in chosen]


def check(chosen: list[Variant], home: Path, calls: int) -> None:
    """Every hook variant wrote one trimmed line per call, with the edit classified."""
    for index, variant in enumerate(chosen):
        if not variant.events or variant.stop:
            continue
        lines = (home / "events" / f"bench-{index}.jsonl").read_text().splitlines()
        last = json.loads(lines[-1])
        if len(lines) != calls + 1 or last.get("cls") != "edit" or "tool_response" in last:
            raise SystemExit(f"{variant.name}: wrong events ({len(lines)} lines, last {last})")


def row(name: str, times: list[float]) -> str:
    ms = sorted(t * 1000 for t in times)
    p95 = ms[min(len(ms) - 1, round(0.95 * (len(ms) - 1)))]
    return f"| {name:<34} | {statistics.median(ms):>9.1f} | {p95:>6.1f} | {len(ms):>5} |"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--calls", type=int, default=200, help="calls per variant")
    args = parser.parse_args()
    results = measure(args.calls)
    print(f"payload: PostToolUse for an Edit, {len(payload(Path('/w')))} bytes on stdin\n")
    print("| hook start                         | median ms | p95 ms | calls |")
    print("|------------------------------------|-----------|--------|-------|")
    for variant, times in results:
        print(row(variant.name, times))
    print(f"\nmachine: {os.cpu_count()} cores, Python {sys.version.split()[0]}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
