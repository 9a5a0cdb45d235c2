"""The `corral` command line: every supervisor action as a command, scriptable with --json.

It is a thin face over `sessions.supervisor`: it parses, calls one method, prints the result.
A user's mistake ends in one sentence on stderr and exit code 1, never a traceback.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path

from sessions.errors import CorralError
from sessions.journal import Journal
from sessions.model import AgentView, State
from sessions.repo import Repo
from sessions.supervisor import Outcome, Supervisor, attach_plan

STATE_MARKS = {
    State.STARTING: "◌",
    State.WORKING: "●",
    State.NEEDS_INPUT: "?",
    State.IDLE: "○",
    State.PAUSED: "‖",
    State.SHELVED: "▭",
    State.EXITED: "✕",
    State.CRASH_LOOPING: "↻",
}


def build_parser() -> argparse.ArgumentParser:
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument(
        "--repo",
        type=Path,
        default=argparse.SUPPRESS,
        help="the repository to supervise (default: the current folder)",
    )
    parser = argparse.ArgumentParser(
        prog="corral",
        description="Supervise a herd of AI coding agents, each in its own tmux pane and git "
        "worktree. Closing corral never stops them.",
        parents=[common],
    )
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")

    def command(name: str, help_text: str) -> argparse.ArgumentParser:
        return commands.add_parser(name, help=help_text, description=help_text, parents=[common])

    up = command("up", "start the configured agents that are not running; adopt those that are")
    up.add_argument("names", nargs="*", metavar="NAME")
    ls = command("ls", "list the herd: state, reason, branch, pane, process")
    ls.add_argument("--json", action="store_true", help="print JSON for scripts")
    for name, verb in (("pause", "freeze"), ("resume", "thaw")):
        sub = command(name, f"{verb} agents' whole process trees")
        sub.add_argument("names", nargs="*", metavar="NAME")
        sub.add_argument("--all", action="store_true", help="every running agent")
    for name, help_text in (
        ("shelve", "stop an agent, keep its worktree, save its uncommitted work in a ref"),
        ("unshelve", "start a shelved agent again, resuming its session"),
        ("restart", "stop an agent and start it again"),
        ("kill", "stop an agent; its worktree and branch stay"),
        ("rm", "remove an agent's worktree; its work is saved first and where it went is shown"),
        ("attach", "show an agent's pane in this terminal and come back"),
    ):
        command(name, help_text).add_argument("name", metavar="NAME")
    send = command("send", "type a prompt into an agent (TEXT '-' reads standard input)")
    send.add_argument("name", metavar="NAME")
    send.add_argument("text", metavar="TEXT")
    send.add_argument(
        "--replace",
        action="store_true",
        help="clear text already waiting in the agent's input box (an interrupted prompt) first",
    )
    log = command("log", "show the journal: runs, actions and what agents reported")
    log.add_argument("name", nargs="?", metavar="NAME")
    log.add_argument("--json", action="store_true", help="one JSON event per line")
    log.add_argument("-n", "--lines", type=int, default=50, help="how many events (default 50)")
    explain = command(
        "explain", "the evidence behind an agent's state: journal, tmux, process, screen, hooks"
    )
    explain.add_argument("name", metavar="NAME")
    command("doctor", "check tmux, git, the config and the agent CLIs; say how to fix each")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help()
        return 0
    repo_path: Path = getattr(args, "repo", Path.cwd())
    try:
        return COMMANDS[args.command](args, repo_path)
    except CorralError as error:
        print(f"corral: {error}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        # The reader went away (`corral log | head`): nothing left to say, and nobody to say it to.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0


def _print_outcomes(outcomes: Sequence[Outcome]) -> int:
    """Print every outcome; exit 1 when any agent failed, after the others were done."""
    for outcome in outcomes:
        if outcome.failed:
            print(f"corral: {outcome.message}", file=sys.stderr)
        else:
            print(outcome.message)
    return 1 if any(outcome.failed for outcome in outcomes) else 0


def cmd_up(args: argparse.Namespace, repo: Path) -> int:
    supervisor = Supervisor.open(repo)
    outcomes = supervisor.up(args.names)
    if not outcomes:
        print("no agents in corral.toml: add an [[agent]] table (see config.example.toml).")
    return _print_outcomes(outcomes)


def cmd_ls(args: argparse.Namespace, repo: Path) -> int:
    supervisor = Supervisor.open(repo)
    views = supervisor.look()
    supervisor.observer.save_cpu_samples()
    started = {view.name for view in views}
    waiting = [spec.name for spec in supervisor.specs() if spec.name not in started]
    if args.json:
        payload = {"agents": [view.to_json() for view in views], "not_started": waiting}
        print(json.dumps(payload, indent=2))
        return 0
    print(format_table(views))
    if waiting:
        print(f"not started: {', '.join(waiting)} (`corral up` starts them)")
    return 0


def format_table(views: Sequence[AgentView]) -> str:
    if not views:
        return "no agents started yet: `corral up` starts the ones in corral.toml"
    now = time.time()
    rows = [("NAME", "KIND", "STATE", "FOR", "PID", "BRANCH", "REASON")]
    for view in views:
        rows.append(
            (
                view.name,
                view.kind,
                f"{STATE_MARKS[view.state]} {view.state.value}",
                _age(now - view.since) if view.since else "-",
                str(view.pid or "-"),
                view.branch,
                view.reason,
            )
        )
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]) - 1)]
    return "\n".join(
        "  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=False))
        + "  "
        + row[-1]
        for row in rows
    )


def _age(seconds: float) -> str:
    seconds = max(0, int(seconds))
    if seconds < 60:
        return f"{seconds}s"
    if seconds < 3600:
        return f"{seconds // 60}m{seconds % 60:02d}s"
    return f"{seconds // 3600}h{seconds % 3600 // 60:02d}m"


def _names_or_all(args: argparse.Namespace, supervisor: Supervisor, verb: str) -> list[str]:
    if args.all and args.names:
        raise CorralError(f"give agent names or --all to {verb}, not both.")
    if args.all:
        return supervisor.live_names()
    if not args.names:
        raise CorralError(f"name the agents to {verb}, or pass --all.")
    return list(args.names)


def cmd_pause(args: argparse.Namespace, repo: Path) -> int:
    supervisor = Supervisor.open(repo)
    return _print_outcomes(supervisor.pause(_names_or_all(args, supervisor, "pause")))


def cmd_resume(args: argparse.Namespace, repo: Path) -> int:
    supervisor = Supervisor.open(repo)
    return _print_outcomes(supervisor.resume(_names_or_all(args, supervisor, "resume")))


def _single(
    action: Callable[[Supervisor, str], Outcome],
) -> Callable[[argparse.Namespace, Path], int]:
    def run(args: argparse.Namespace, repo: Path) -> int:
        return _print_outcomes([action(Supervisor.open(repo), args.name)])

    return run


def cmd_send(args: argparse.Namespace, repo: Path) -> int:
    text = sys.stdin.read() if args.text == "-" else args.text
    supervisor = Supervisor.open(repo)
    return _print_outcomes([supervisor.send(args.name, text.rstrip("\n"), replace=args.replace)])


def cmd_attach(args: argparse.Namespace, repo: Path) -> int:
    supervisor = Supervisor.open(repo)
    view = supervisor.view(args.name)
    if view.pane is None:
        raise CorralError(f"{args.name} has no pane ({view.reason}).")
    plan = attach_plan(supervisor.tmux, view.pane, args.name, dict(os.environ))
    print(f"attaching to {args.name} ({plan.back})", flush=True)
    result = subprocess.run(plan.argv, check=False, capture_output=plan.how != "attach")
    if result.returncode != 0 and plan.fallback:
        result = subprocess.run(plan.fallback, check=False)
        if result.returncode == 0:
            print(f"{args.name} opened in a new window of your tmux")
            return 0
    if result.returncode != 0:
        raise CorralError(f"could not attach to {args.name}: tmux exited with {result.returncode}.")
    if plan.how == "attach":
        print(f"back from {args.name}")
    return 0


def cmd_log(args: argparse.Namespace, repo_path: Path) -> int:
    repo = Repo.discover(repo_path)
    journal = Journal(repo.journal_path)
    events = [e for e in journal.read_all() if args.name is None or e.get("agent") == args.name]
    for event in events[-args.lines :] if args.lines > 0 else events:
        if args.json:
            print(json.dumps(event))
            continue
        stamp = time.strftime("%H:%M:%S", time.localtime(event.get("t", 0)))
        details = " ".join(
            f"{key}={value}" for key, value in event.items() if key not in ("t", "agent", "event")
        )
        print(f"{stamp}  {event.get('agent', '-'):<14} {event['event']:<12} {details}".rstrip())
    if journal.skipped:
        print(f"({journal.skipped} unreadable journal lines skipped)", file=sys.stderr)
    return 0


def cmd_explain(args: argparse.Namespace, repo: Path) -> int:
    for source, text in Supervisor.open(repo).explain(args.name):
        print(f"{source:<12} {text}")
    return 0


def cmd_doctor(args: argparse.Namespace, repo: Path) -> int:
    from sessions.doctor import run_checks

    checks = run_checks(repo)
    for check in checks:
        mark = "ok " if check.ok else "NO "
        print(f"{mark} {check.what:<16} {check.detail}")
    return 0 if all(check.ok for check in checks) else 1


COMMANDS: dict[str, Callable[[argparse.Namespace, Path], int]] = {
    "up": cmd_up,
    "ls": cmd_ls,
    "pause": cmd_pause,
    "resume": cmd_resume,
    "shelve": _single(Supervisor.shelve),
    "unshelve": _single(Supervisor.unshelve),
    "restart": _single(Supervisor.restart),
    "kill": _single(Supervisor.kill),
    "rm": _single(Supervisor.remove),
    "send": cmd_send,
    "attach": cmd_attach,
    "log": cmd_log,
    "explain": cmd_explain,
    "doctor": cmd_doctor,
}


if __name__ == "__main__":
    sys.exit(main())
