"""Whether corral's hooks make an agent's turn longer: the real Claude Code CLI, one scripted
turn, five ways, interleaved run by run.

- **no hooks**: the worktree has no corral settings.
- **cat >/dev/null** (the floor): the same settings with every command replaced by a shell
  that reads the payload and does nothing, so what Claude Code itself spends on running a
  hook shows apart from what corral's command adds to it.
- **spool line** (what corral installs): `install_hooks` writes the shell line that leaves each
  payload in the agent's spool; the spool is drained after the turn, as the runner does.
- **spool line + PostToolBatch**: the same with the event corral asked for before and no longer
  does, which fires once more per batch of tool calls.
- **python entry** (what corral installed before): the same settings with every command
  replaced by the Python entry, and no spool, so each hook writes its event itself.

The turn is one prompt answered by the Messages API stand-in with tool calls one at a time
(Bash `true`, Read of a small file, Write of a new small file, in turn), each in a reply of
its own, so that every call costs a PreToolUse and a PostToolUse hook (and a PostToolBatch
where asked for), and then a closing text. Claude Code runs these hooks synchronously, so
their wall time lands in the turn. The turn's time is what the stand-in sees: from the arrival
of the turn's first model request to that of its last. The CPU is read from `/proc` for the
CLI process, before the prompt and once the turn is over (its Stop event written): its own,
and that of the children it waited for (the hooks and the Bash tool's shell).

Every run starts a fresh CLI in a fresh git worktree and HOME, and checks what it did: every
file written, and for the hooked ways one PreToolUse and one PostToolUse per call and a Stop
in the events file, and no hook errors.

Run: .venv/bin/python bench/bench_turn.py [--runs 9] [--tools 10]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sessions.agents.claude import SETTINGS, install_hooks
from sessions.agents.hook_settings import hook_command, is_corral_hook
from sessions.agents.hook_spool import Spool
from tests.helpers import git, wait_for
from tests.support.claude_cli import CLAUDE, claude_env, prepare_home, start_claude
from tests.support.cli_pane import CliPane
from tests.support.standin import Reply, StandIn, ToolUse


@dataclass(frozen=True)
class Way:
    """How the worktree's hooks are set up: `hooks` False installs none; `command` replaces
    the command of every corral entry `install_hooks` wrote; `reports`: it writes events."""

    name: str
    hooks: bool = True
    command: str | None = None
    reports: bool = True
    # Events corral asks for on top of what install_hooks writes (as it once did).
    extra: tuple[str, ...] = ()


WAYS = (
    Way("no hooks", hooks=False, reports=False),
    Way("cat >/dev/null (floor)", command="cat >/dev/null", reports=False),
    Way("spool line (installed)"),
    Way("spool line + PostToolBatch", extra=("PostToolBatch",)),
    Way("python entry (before)", command=hook_command("claude")),
)
AGENT = "bench"
DONE = "All done here."
TICK = os.sysconf("SC_CLK_TCK")


@dataclass(frozen=True)
class Run:
    """One turn: the stand-in's view of its length, and the CLI's CPU over it."""

    seconds: float
    own_cpu: float
    children_cpu: float


def tool_calls(worktree: Path, count: int) -> list[ToolUse]:
    """Bash `true`, Read, Write, Bash... : a mix of what an agent calls, none of them slow."""
    kinds: list[Callable[[int], ToolUse]] = [
        lambda n: ToolUse("Bash", {"command": "true", "description": f"Step {n}"}),
        lambda n: ToolUse("Read", {"file_path": str(worktree / "small.txt")}),
        lambda n: ToolUse(
            "Write", {"file_path": str(worktree / f"out-{n}.txt"), "content": f"line {n}\n"}
        ),
    ]
    return [kinds[n % len(kinds)](n) for n in range(count)]


def make_worktree(folder: Path) -> Path:
    """A git repository with one small committed file, as install_hooks asks git about it."""
    folder.mkdir(parents=True)
    (folder / "small.txt").write_text("".join(f"line {n}\n" for n in range(20)))
    git(folder, "init", "-q")
    git(folder, "add", "small.txt")
    git(folder, "commit", "-q", "-m", "small file")
    return folder.resolve()


def install(way: Way, worktree: Path, state: Path) -> Spool | None:
    """The way's settings in the worktree; the agent's spool when its hooks use one."""
    if not way.hooks:
        return None
    notes = install_hooks(worktree)
    if notes:
        raise SystemExit(f"install_hooks: {notes}")
    path = worktree / SETTINGS
    if way.extra:
        settings = json.loads(path.read_text())
        entry = settings["hooks"]["PostToolUse"][-1]
        settings["hooks"].update({event: [entry] for event in way.extra})
        path.write_text(json.dumps(settings, indent=2))
    if way.command is not None:
        settings = json.loads(path.read_text())
        for groups in settings["hooks"].values():
            for group in groups:
                for entry in group["hooks"]:
                    if is_corral_hook(entry):
                        entry["command"] = way.command
        path.write_text(json.dumps(settings, indent=2))
        return None
    spool = Spool(str(state), AGENT, str(worktree))
    spool.make()
    return spool


def cli_pid(pane: CliPane) -> int:
    """The CLI's pid: the only child of the small shell that holds the pane."""
    holder = int(pane.tmux("display-message", "-p", "-t", pane.pane_id, "#{pane_pid}"))
    children = Path(f"/proc/{holder}/task/{holder}/children").read_text().split()
    if len(children) != 1:
        raise SystemExit(f"the pane's shell has children {children}, wanted the CLI alone")
    return int(children[0])


def cpu(pid: int) -> tuple[float, float]:
    """(own, waited-for children) CPU seconds of `pid` so far, user and system together."""
    text = Path(f"/proc/{pid}/stat").read_text()
    fields = text[text.rindex(")") + 2 :].split()
    # After the name: state is field 3, utime 14, stime 15, cutime 16, cstime 17.
    own = int(fields[11]) + int(fields[12])
    children = int(fields[13]) + int(fields[14])
    return own / TICK, children / TICK


def events(state: Path, spool: Spool | None) -> list[dict[str, Any]]:
    if spool is not None:
        spool.drain()
    log = state / "events" / f"{AGENT}.jsonl"
    lines = log.read_text().splitlines() if log.exists() else []
    return [json.loads(line) for line in lines]


def one_run(program: Path, way: Way, base: Path, tools: int) -> Run:
    """Start the CLI the way's way, run the turn, check what it did, and stop the CLI."""
    worktree = make_worktree(base / "worktree")
    home, state = base / "home", base / "state"
    state.mkdir()
    prepare_home(home, trusted=[worktree])
    spool = install(way, worktree, state)
    calls = tool_calls(worktree, tools)
    steps = [Reply(tools=(call,)) for call in calls] + [Reply(text=DONE)]
    with StandIn(steps) as api:
        extra = {"CORRAL_AGENT": AGENT, "CORRAL_HOME": str(state)}
        env = claude_env(home, api.url, extra=extra)
        args = ("--permission-mode", "acceptEdits", "--allowedTools", "Bash(true)", "Read")
        pane = start_claude(program, worktree, env, args)
        try:
            pane.wait_idle(timeout=60)
            pid = cli_pid(pane)
            own_before, children_before = cpu(pid)
            pane.submit("run the steps")
            pane.wait_for_text(DONE, timeout=120)
            if way.reports:
                stopped = lambda: any(e["event"] == "Stop" for e in events(state, spool))  # noqa: E731
                wait_for(stopped, 30, what="the Stop event")
            pane.wait_idle(timeout=30)
            own_after, children_after = cpu(pid)
        finally:
            pane.kill_server()
        wait_for(lambda: not Path(f"/proc/{pid}").exists(), 30, what="the CLI's exit")
        turns = api.turns
    check(way, worktree, state, spool, calls, len(turns))
    return Run(turns[-1].at - turns[0].at, own_after - own_before, children_after - children_before)


def check(
    way: Way, worktree: Path, state: Path, spool: Spool | None, calls: list[ToolUse], turns: int
) -> None:
    """The turn did every call, and the hooked ways reported every one of them."""
    if turns != len(calls) + 1:
        raise SystemExit(f"{way.name}: {turns} model requests, wanted {len(calls) + 1}")
    for call in calls:
        if call.name == "Write":
            written = Path(call.input["file_path"])
            if written.read_text() != call.input["content"]:
                raise SystemExit(f"{way.name}: {written.name} not written")
    if not way.reports:
        return
    names = [event["event"] for event in events(state, spool)]
    for wanted in ("PreToolUse", "PostToolUse"):
        if names.count(wanted) != len(calls):
            raise SystemExit(f"{way.name}: {names.count(wanted)} {wanted}, wanted {len(calls)}")
    if "Stop" not in names:
        raise SystemExit(f"{way.name}: no Stop event")
    if (state / "hook-errors.log").exists():
        raise SystemExit(f"{way.name}: {(state / 'hook-errors.log').read_text()}")
    if spool is not None:  # a hook of the CLI's last moments may still be writing
        wait_for(lambda: spool.drain() >= 0 and not os.listdir(spool.folder), 10, what="drained")


def measure(program: Path, runs: int, tools: int) -> dict[str, list[Run]]:
    """Each way's runs, interleaved, so that a noisy moment hurts every way alike."""
    results: dict[str, list[Run]] = {way.name: [] for way in WAYS}
    with tempfile.TemporaryDirectory(prefix="corral-bench-turn-") as folder:
        for round_ in range(runs + 1):
            for index, way in enumerate(WAYS):
                run = one_run(program, way, Path(folder) / f"{round_}-{index}", tools)
                if round_:  # the first round only warms up the disk cache
                    results[way.name].append(run)
            print(f"{round_}/{runs} rounds, load {os.getloadavg()[0]:.2f}", file=sys.stderr)
    return results


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=9, help="runs per way")
    parser.add_argument("--tools", type=int, default=10, help="tool calls in the turn")
    args = parser.parse_args()
    located = CLAUDE.locate()
    if located.path is None:
        print(f"real Claude Code CLI unavailable: {located.reason}")
        return 0
    results = measure(located.path, args.runs, args.tools)
    print(f"Claude Code {located.version}, a turn of {args.tools} tool calls\n")
    columns = ["runs", "median s", "min s", "max s", "extra ms/call", "paired", "CLI CPU ms"]
    columns.append("child CPU ms")
    print(f"| {'way':<26} | " + " | ".join(columns) + " |")
    print(f"|{'-' * 28}|" + "|".join("-" * (len(c) + 2) for c in columns) + "|")
    bare = [run.seconds for run in results[WAYS[0].name]]
    base = statistics.median(bare)
    for way in WAYS:
        runs = results[way.name]
        seconds = [run.seconds for run in runs]
        median = statistics.median(seconds)
        extra = (median - base) / args.tools * 1000
        # The same round's runs met the same moment of the machine: their difference is
        # steadier than the difference of the medians.
        paired = statistics.median(a - b for a, b in zip(seconds, bare, strict=True))
        paired = paired / args.tools * 1000
        own = statistics.median(run.own_cpu for run in runs) * 1000
        children = statistics.median(run.children_cpu for run in runs) * 1000
        print(
            f"| {way.name:<26} | {len(seconds):>4} | {median:>8.2f} | {min(seconds):>5.2f} "
            f"| {max(seconds):>5.2f} | {extra:>13.1f} | {paired:>6.1f} | {own:>10.0f} "
            f"| {children:>12.0f} |"
        )
    print(
        f"\nmachine: {os.cpu_count()} cores, Python {sys.version.split()[0]}, "
        f"load average {' '.join(f'{n:.2f}' for n in os.getloadavg())}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
