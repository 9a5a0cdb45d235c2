"""What `corral ls --json` costs as the journal grows: 0, 1, 10 and 100 MB of history.

Each size gets a fresh sandbox repository with a herd of 6 simulated agents. Before the herd is
started, `.corral/journal.jsonl` is filled with history shaped like a real one: agents started
and restarted, runs with their ends and changes, pause/resume pairs, `note` events carrying the
diff of PROGRESS.md or a note (most of the bytes), summaries, prompts sent, conflicts opened and
closed. Then `corral up` starts the herd (its real events come last) and the installed `corral`
entry point runs `ls --json` in a new process, as a user runs it, two ways in the same run:

- **full fold**: `CORRAL_JOURNAL_CHECKPOINT=0`, every fold starts again from the journal's first
  byte (and from its first rotated file, if any): what every command did before checkpoints.
- **checkpoint**: corral's default, the folded state is loaded from `.corral/cache` with the
  journal position it covers, and only what was appended since is read.

The two alternate run by run; each has one warm-up run first (for the checkpoint, that is the
run that folds everything once and saves it). Built journals are kept in a temporary folder for
the run only.

Run: .venv/bin/python bench/bench_journal.py [--sizes 0,1,10,100] [--runs 5] [--big-runs 3]
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import psutil

from sessions.adapters.repo import Repo
from sessions.commands.sandbox import create
from sessions.supervisor import Supervisor

AGENTS = [f"sim-{n}" for n in range(1, 7)]
MB = 1 << 20
TEXT = (
    "parser tokens evaluate operator precedence column error message power division tests "
    "multiplication expression parenthesised command line calculator left right number "
    "handle report spaces unary minus float integer overflow refactor docstring"
)
WORDS = TEXT.split()
STRATEGIES = {"full fold": {"CORRAL_JOURNAL_CHECKPOINT": "0"}, "checkpoint": {}}


def herd_config() -> str:
    return "".join(f'[[agent]]\nname = "{name}"\nkind = "sim"\n\n' for name in AGENTS)


def _line(rng: random.Random, words: int) -> str:
    return " ".join(rng.choice(WORDS) for _ in range(words))


def _diff(rng: random.Random, path: str) -> tuple[str, int, int]:
    """A unified diff of a PROGRESS.md or notes file as `note` events carry it (0.5-4 KB)."""
    added = rng.randint(1, 12)
    removed = rng.randint(0, 6)
    start = rng.randint(1, 80)
    lines = [f"--- a/{path}", f"+++ b/{path}", f"@@ -{start},{removed + 6} +{start},{added + 6} @@"]
    lines += [f" - [x] {_line(rng, rng.randint(4, 12))}" for _ in range(3)]
    lines += [f"-- [ ] {_line(rng, rng.randint(4, 14))}" for _ in range(removed)]
    lines += [f"+- [{rng.choice('x ')}] {_line(rng, rng.randint(4, 20))}" for _ in range(added)]
    lines += [f" - [ ] {_line(rng, rng.randint(4, 12))}" for _ in range(3)]
    return "\n".join(lines) + "\n", added, removed


def history(target_bytes: int, seed: int = 12) -> Iterator[dict[str, object]]:
    """Events for six agents until about `target_bytes` of JSON lines; every run ends."""
    rng = random.Random(seed)
    t = time.time() - 30 * 86400
    written = 0
    runs = dict.fromkeys(AGENTS, 0)
    running: dict[str, int] = {}
    panes = {name: f"%{n}" for n, name in enumerate(AGENTS)}

    def event(what: str, agent: str | None, **data: object) -> dict[str, object]:
        nonlocal t, written
        t += rng.uniform(0.5, 40.0)
        record: dict[str, object] = {"t": round(t, 3), "event": what}
        if agent is not None:
            record["agent"] = agent
        record.update(data)
        written += len(json.dumps(record, separators=(",", ":"))) + 1
        return record

    for name in AGENTS:
        yield event(
            "start",
            name,
            worktree=f"/w/calc.corral/{name}",
            branch=f"corral/{name}",
            resume=False,
            note="",
            hooks=[],
        )
        yield event("pane", name, pane=panes[name])
    while written < target_bytes:
        name = rng.choice(AGENTS)
        roll = rng.random()
        if name not in running:
            runs[name] += 1
            running[name] = 1000 + rng.randint(0, 60000)
            session = hashlib.sha1(f"{name}{t}".encode()).hexdigest()[:32]
            yield event(
                "run_start",
                name,
                run=runs[name],
                pid=running[name],
                session_id=session,
                pane=panes[name],
                command="python",
            )
        elif roll < 0.30:
            pid = running[name]
            yield event("pause", name, pid=pid, processes=rng.randint(1, 4))
            yield event("resume", name, pid=pid, processes=rng.randint(1, 4))
        elif roll < 0.62:
            path = rng.choice(["PROGRESS.md", "notes/parser.md", "notes/handoff.md"])
            diff, added, removed = _diff(rng, path)
            yield event(
                "note",
                name,
                where=name,
                path=path,
                kind="edit",
                diff=diff,
                added=added,
                removed=removed,
                lines=rng.randint(20, 120),
            )
        elif roll < 0.74:
            text = _line(rng, rng.randint(6, 14))
            yield event(
                "summary",
                name,
                text=text,
                stuck=rng.random() < 0.05,
                state="working",
                key=hashlib.sha256(text.encode()).hexdigest()[:16],
                model="claude-haiku-4-5",
                cost_usd=round(rng.uniform(0.0005, 0.003), 6),
            )
        elif roll < 0.80:
            yield event("send", name, chars=rng.randint(10, 400), replaced=0)
        elif roll < 0.84:
            other = rng.choice([a for a in AGENTS if a != name])
            pair = sorted([name, other])
            conflict = {
                "level": "file",
                "path": "src/calc.py",
                "agents": pair,
                "since": round(t, 3),
                "detail": "both edited src/calc.py",
            }
            yield event("conflict_start", None, **conflict)
            yield event("conflict_end", None, **conflict, ended=round(t + 60, 3))
        elif roll < 0.90:
            code = rng.choice([0, 0, 0, 1, 130])
            yield event(
                "run_end",
                name,
                run=runs[name],
                exit_code=code,
                duration=round(rng.uniform(30, 3600), 3),
                reason="exited",
                signal=None,
                short_streak=0,
            )
            yield event(
                "run_changes",
                name,
                run=runs[name],
                files_written=rng.randint(0, 40),
                commits=rng.randint(0, 5),
            )
            del running[name]
        else:
            yield event("waiting", name, delay=5.0)
    for name in list(running):
        yield event(
            "run_end",
            name,
            run=runs[name],
            exit_code=0,
            duration=12.0,
            reason="stopped",
            signal="SIGTERM",
            short_streak=0,
        )
        yield event("run_changes", name, run=runs[name], files_written=0, commits=0)
        yield event("stop", name, reason="stopped", message="")


def write_history(path: Path, megabytes: float) -> int:
    """Writes the history; returns how many events."""
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    count = 0
    with path.open("w") as handle:
        for record in history(int(megabytes * MB)):
            handle.write(json.dumps(record, separators=(",", ":")) + "\n")
            count += 1
    os.chmod(path, 0o600)
    return count


def corral() -> str:
    """The installed entry point next to this interpreter, else the one on PATH."""
    beside = Path(sys.executable).parent / "corral"
    found = str(beside) if beside.exists() else shutil.which("corral")
    if found is None:
        raise SystemExit("no `corral` entry point: install corral (./dev.sh) first")
    return found


def run_ls(root: Path, env: dict[str, str]) -> float:
    began = time.perf_counter()
    subprocess.run(
        [corral(), "--repo", str(root), "ls", "--json"],
        check=True,
        capture_output=True,
        env={**os.environ, **env},
    )
    return time.perf_counter() - began


def wait_running(root: Path, timeout: float = 600.0) -> None:
    supervisor = Supervisor.open(root)
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        views = supervisor.look()
        if len(views) == len(AGENTS) and all(view.pid for view in views):
            return
        time.sleep(0.05)
    raise SystemExit(f"the herd did not start within {timeout} s")


def gone(folder: Path, timeout: float = 15.0) -> None:
    """Wait for the herd's runners and agents to end, so the folder can be removed."""
    inside = str(folder.resolve())
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        left = []
        for process in psutil.process_iter():
            try:
                if process.cwd().startswith(inside):
                    left.append(process)
            except psutil.Error:
                continue
        if not left:
            return
        time.sleep(0.1)


def settle(timeout: float = 15.0) -> None:
    end = time.monotonic() + timeout
    while time.monotonic() < end and psutil.cpu_percent(interval=0.25) > 25:
        pass


def measure(base: Path, megabytes: float, runs: int) -> list[str]:
    root = create(base / f"journal-{megabytes:g}mb")
    (root / "corral.toml").write_text(herd_config())
    repo = Repo.discover(root)
    repo.prepare()
    count = write_history(repo.journal_path, megabytes) if megabytes else 0
    size = repo.journal_path.stat().st_size if megabytes else 0
    began = time.perf_counter()
    subprocess.run([corral(), "--repo", str(root), "up"], check=True, capture_output=True)
    up_seconds = time.perf_counter() - began
    try:
        wait_running(root)
        settle()
        samples: dict[str, list[float]] = {name: [] for name in STRATEGIES}
        for env in STRATEGIES.values():
            run_ls(root, env)  # warm-up: the checkpoint's is the run that folds it all once
        for _ in range(runs):
            for name, env in STRATEGIES.items():
                samples[name].append(run_ls(root, env))
    finally:
        subprocess.run(
            ["tmux", "-L", repo.socket_name, "kill-server"], capture_output=True, check=False
        )
        gone(base)
    print(
        f"done: {size / MB:.1f} MB, {count} events, `corral up` took {up_seconds:.1f} s",
        file=sys.stderr,
    )
    rows = []
    for name, times in samples.items():
        rows.append(
            f"| {size / MB:>10.1f} | {count:>6} | {name:<10} | {statistics.median(times):>8.3f} | "
            f"{min(times):>6.3f} | {max(times):>6.3f} | {len(times):>4} |"
        )
    return rows


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sizes", default="0,1,10,100", help="journal sizes in MB")
    parser.add_argument("--runs", type=int, default=5, help="runs of each way, up to 10 MB")
    parser.add_argument("--big-runs", type=int, default=3, help="runs of each way above 10 MB")
    args = parser.parse_args()
    sizes = [float(size) for size in args.sizes.split(",")]
    header = (
        "| journal MB | events | way        | median s |  min s |  max s | runs |\n"
        "|------------|--------|------------|----------|--------|--------|------|"
    )
    rows: list[str] = []
    with tempfile.TemporaryDirectory(prefix="corral-bench-") as folder:
        for megabytes in sizes:
            runs = args.runs if megabytes <= 10 else args.big_runs
            rows += measure(Path(folder), megabytes, runs)
    print(header)
    print("\n".join(rows))
    print(f"\nmachine: {psutil.cpu_count()} cores, Python {sys.version.split()[0]}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
