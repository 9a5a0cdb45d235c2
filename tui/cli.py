"""The `corral` command line: every supervisor action as a command, scriptable with --json.

It is a thin face over `sessions.supervisor`: it parses, calls one method, prints the result.
A user's mistake ends in one sentence on stderr and exit code 1, never a traceback.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import subprocess
import sys
import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any, NoReturn

from sessions.adapters.journal import Journal
from sessions.adapters.repo import Repo
from sessions.core.errors import CorralError
from sessions.core.model import AgentRole, AgentView, Snapshot, State, Summary
from sessions.core.outcome import Outcome
from sessions.supervisor import Supervisor

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


class VersionAction(argparse.Action):
    """`--version`, asked of tmux and git only when given: every other command starts faster."""

    def __init__(self, option_strings: Sequence[str], dest: str, help: str | None = None) -> None:
        super().__init__(option_strings, dest, nargs=0, default=argparse.SUPPRESS, help=help)

    def __call__(
        self,
        parser: argparse.ArgumentParser,
        namespace: argparse.Namespace,
        values: object,
        option_string: str | None = None,
    ) -> None:
        from sessions.commands.doctor import version_line

        print(version_line())
        parser.exit()


class _Unsure(Exception):
    """The one-command parser met something only the full parser can answer in its words."""


class _OneCommandParser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        raise _Unsure(message)


def parse(words: Sequence[str]) -> argparse.Namespace:
    """The command line, parsed by a parser of only the command it names, when it names one
    first (after `--repo` at most); anything else (no command, help, `--version`, a mistake)
    goes to the parser of every command, so usage and errors read exactly the same.

    Building all twenty-odd commands' parsers cost `corral ls` 7 ms, on every call of a script
    that polls it."""
    rest = list(words)
    if rest[:1] == ["--repo"]:
        rest = rest[2:]
    elif rest[:1] and rest[0].startswith("--repo="):
        rest = rest[1:]
    if rest and rest[0] in COMMANDS:
        with contextlib.suppress(_Unsure):
            return build_parser(rest[0], _OneCommandParser).parse_args(words)
    return build_parser().parse_args(words)


def build_parser(
    only: str | None = None, kind: type[argparse.ArgumentParser] = argparse.ArgumentParser
) -> argparse.ArgumentParser:
    """Every command's parser; with `only`, that command's alone, the others' arguments going
    to one parser that is never used."""
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument(
        "--repo",
        type=Path,
        default=argparse.SUPPRESS,
        help="the repository to supervise (default: the current folder)",
    )
    parser = kind(
        prog="corral",
        description="Supervise a herd of AI coding agents, each in its own tmux pane and git "
        "worktree. Closing corral never stops them.",
        parents=[common],
    )
    parser.add_argument(
        "--version",
        action=VersionAction,
        help="print corral's version and the tmux and git it found, then exit",
    )
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")
    unused = argparse.ArgumentParser(add_help=False, conflict_handler="resolve")

    def command(name: str, help_text: str) -> argparse.ArgumentParser:
        if only is not None and name != only:
            return unused
        return commands.add_parser(name, help=help_text, description=help_text, parents=[common])

    up = command("up", "start the configured agents that are not running; adopt those that are")
    up.add_argument("names", nargs="*", metavar="NAME")
    ls = command("ls", "list the herd: state, reason, branch, pane, process")
    ls.add_argument("--json", action="store_true", help="print JSON for scripts")
    watch = command(
        "watch",
        "list the herd again whenever it changes, until interrupted: an agent's state, process, "
        "role, conflicts or summary (not a reason's wording, CPU or tokens alone)",
    )
    watch.add_argument(
        "--json", action="store_true", help="one `ls --json` object per line, for scripts"
    )
    watch.add_argument(
        "--every",
        type=seconds,
        default=0.5,
        metavar="SECONDS",
        help="how often to look (default 0.5, the dashboard's pace)",
    )
    for name, verb in (("pause", "freeze"), ("resume", "thaw")):
        sub = command(name, f"{verb} agents' whole process trees")
        sub.add_argument("names", nargs="*", metavar="NAME")
        sub.add_argument("--all", action="store_true", help="every running agent")
    for name, help_text in (
        ("shelve", "stop an agent, keep its worktree, save its uncommitted work in a ref"),
        ("unshelve", "start a shelved agent again, resuming its session"),
        ("restart", "stop an agent and start it again"),
        ("kill", "stop an agent; its worktree and branch stay"),
        (
            "rm",
            "remove an agent's worktree: uncommitted work is saved in a ref, ignored files and "
            "nested repositories are moved under .corral/kept/, and it says where each went",
        ),
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
    init = command("init", "write a commented corral.toml with agents for the CLIs installed here")
    init.add_argument(
        "--agents",
        metavar="KIND:N,...",
        help="how many of each kind, such as claude:2,codex:1 (kinds: claude, codex, gemini, "
        "aider, sim); left out, corral asks, one of each CLI found by default",
    )
    init.add_argument("--force", action="store_true", help="replace an existing corral.toml")
    init.add_argument(
        "--yes", action="store_true", help="ask nothing: one agent for each CLI found"
    )
    conflicts = command("conflicts", "builders in each other's way: same file, lines, or merge")
    conflicts.add_argument("--json", action="store_true", help="print JSON for scripts")
    locks = command("locks", "task locks: holder, age, stale or orphaned; and what they cost")
    locks.add_argument("--json", action="store_true", help="print JSON for scripts")
    lock_commands = locks.add_subparsers(dest="lock_command", metavar="COMMAND")
    release_lock = lock_commands.add_parser(
        "release",
        help="remove a stale lock where it lives, in a commit of its own",
        parents=[common],
    )
    release_lock.add_argument("path", metavar="PATH", help="the lock's path, as the list shows it")
    release_lock.add_argument(
        "--force", action="store_true", help="release it even though it is not stale"
    )
    notes = command("notes", "PROGRESS.md and notes: done and open items, growth, who changed what")
    notes.add_argument("--json", action="store_true", help="print JSON for scripts")
    merge = command(
        "merge", "merge an agent's committed work into the base; --preview changes nothing"
    )
    merge.add_argument("name", metavar="NAME")
    merge.add_argument(
        "--preview",
        action="store_true",
        help="show commits, files and conflicts the merge would bring, and merge nothing",
    )
    merge.add_argument("--json", action="store_true", help="with --preview: JSON for scripts")
    merge.add_argument(
        "-m",
        "--message",
        help="the merge commit's message (default: Merge corral/NAME: its last commit's subject)",
    )
    summarize = command(
        "summarize",
        "one line per agent on what it is doing, written now by Claude ([summaries] in "
        "corral.toml; the hourly cap holds)",
    )
    summarize.add_argument("names", nargs="*", metavar="NAME", help="default: every agent")
    demo = command(
        "demo", "a sandbox project with a herd of simulated agents, then the dashboard on it"
    )
    demo.add_argument(
        "--dir",
        type=Path,
        help="where the sandbox lives (default: $XDG_DATA_HOME/corral/demo, else "
        "~/.local/share/corral/demo); an existing sandbox is reused as it is",
    )
    demo.add_argument(
        "--no-tui", action="store_true", help="start the herd, print it, and open no dashboard"
    )
    demo.add_argument(
        "--clean",
        action="store_true",
        help="stop the sandbox's tmux server and remove the sandbox and its worktrees",
    )
    demo.add_argument(
        "--speed",
        type=float,
        help="multiplier for the agents' think times when the sandbox is created "
        "(default 1; 0.3 plays the story about three times faster)",
    )
    return parser


def seconds(text: str) -> float:
    """A time between looks: a number above zero (argparse turns the error into its usage line)."""
    try:
        value = float(text)
    except ValueError:
        value = 0.0
    if not value > 0 or value == float("inf"):
        raise argparse.ArgumentTypeError(f"{text!r} is not a number of seconds above 0")
    return value


def main(argv: Sequence[str] | None = None) -> int:
    args = parse(sys.argv[1:] if argv is None else argv)
    repo_path: Path = getattr(args, "repo", Path.cwd())
    try:
        if args.command is None:
            # No command: the dashboard. Imported here so commands never pay for Textual.
            from tui.opening import run_dashboard

            return run_dashboard(repo_path)
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
    snapshot = supervisor.snapshot()
    views = snapshot.agents
    supervisor.observer.save_cpu_samples()
    waiting = _not_started(supervisor, snapshot)
    if args.json:
        print(json.dumps(snapshot.to_json() | {"not_started": waiting}, indent=2))
        return 0
    print(format_table(views, snapshot))
    if waiting:
        print(f"not started: {', '.join(waiting)} (`corral up` starts them)")
    return 0


def _not_started(supervisor: Supervisor, snapshot: Snapshot) -> list[str]:
    started = {view.name for view in snapshot.agents}
    return [spec.name for spec in supervisor.specs() if spec.name not in started]


def cmd_watch(args: argparse.Namespace, repo: Path) -> int:
    """Like `ls`, written again on every change until interrupted (Ctrl-C ends it cleanly)."""
    from sessions.commands.watch import changes, transitions

    supervisor = Supervisor.open(repo)

    def look() -> dict[str, object]:
        snapshot = supervisor.snapshot()
        return snapshot.to_json() | {"not_started": _not_started(supervisor, snapshot)}

    before: Mapping[str, Any] | None = None
    try:
        for payload in changes(look, every=args.every):
            if args.json:
                print(json.dumps(payload), flush=True)
            else:
                stamp = time.strftime("%H:%M:%S")
                for line in transitions(before, payload):
                    print(f"{stamp}  {line}", flush=True)
            before = payload
    except KeyboardInterrupt:
        return 0
    return 0


def format_table(views: Sequence[AgentView], snapshot: Snapshot | None = None) -> str:
    if not views:
        return "no agents started yet: `corral up` starts the ones in corral.toml"
    now = time.time()
    roles = snapshot.coordination.roles if snapshot else {}
    rows = [("NAME", "KIND", "STATE", "FOR", "ROLE", "PID", "BRANCH", "REASON")]
    for view in views:
        role = roles.get(view.name)
        rows.append(
            (
                view.name,
                view.kind,
                f"{STATE_MARKS[view.state]} {view.state.value}",
                _age(now - view.since) if view.since else "-",
                _role(role) if role else "-",
                str(view.pid or "-"),
                view.branch,
                view.reason + (f"; {role.stall_reason}" if role and role.stalled else ""),
            )
        )
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]) - 1)]
    return "\n".join(
        "  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=False))
        + "  "
        + row[-1]
        for row in rows
    )


def _role(role: AgentRole) -> str:
    share = role.fingerprint.edit_share
    if role.fingerprint.role == "builder" and share is not None:
        return f"builder {share:.0%}"
    return role.fingerprint.role


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
    plan = supervisor.attach_plan(args.name, view.pane, dict(os.environ))
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

    def wanted(event: dict[str, object]) -> bool:
        return args.name is None or event.get("agent") == args.name

    # The last lines are read back from the end (into rotated files when needed), so `log`
    # costs what it shows, however long the history.
    if args.lines > 0:
        events = journal.tail(args.lines, wanted)
    else:
        events = [event for event in journal.read_all() if wanted(event)]
    for event in events:
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


def cmd_init(args: argparse.Namespace, repo_path: Path) -> int:
    """A first corral.toml from the CLIs on PATH and what the repository keeps; questions
    only on a terminal, so scripts and pipes get the defaults instead of a hang."""
    import shlex

    from sessions.commands import init

    counts = init.parse_agents(args.agents) if args.agents is not None else None
    repo = Repo.discover(repo_path)
    if not args.force:
        init.check_absent(repo)
    found = init.detect_clis()
    if counts is None and found and not args.yes and sys.stdin.isatty():
        counts = init.ask_counts(found, _ask)
    written = init.write_config(repo, init.plan_config(repo, counts, found), force=args.force)
    for line in init.summary(written, repo):
        print(line)
    for warning in init.missing_clis(written.config, found):
        print(f"corral: warning: {warning}", file=sys.stderr)
    if not found and counts is None:
        print("no agent CLI is on PATH, so the one agent is corral's simulated agent; install one:")
        for kind, hint in init.install_hints().items():
            print(f"  {kind.value:<7} {hint}")
    where = f" --repo {shlex.quote(str(repo_path))}" if hasattr(args, "repo") else ""
    print(f"next: `corral{where}` opens the dashboard, or `corral{where} up` starts the agents")
    return 0


def _ask(question: str) -> str | None:
    try:
        return input(question)
    except EOFError:
        print()
        return None


def cmd_conflicts(args: argparse.Namespace, repo: Path) -> int:
    snapshot = Supervisor.open(repo).snapshot()
    shown = snapshot.coordination.shown_conflicts
    # What could not be looked at (a full disk, a broken worktree) is said, not skipped quietly.
    unchecked = {k: v for k, v in snapshot.coordination.errors.items() if k != "locks"}
    if args.json:
        found = [conflict.to_json() for conflict in shown]
        print(json.dumps({"conflicts": found, "errors": unchecked}, indent=2))
        return 0
    if not shown:
        print("no conflicts: no two builders changed the same file")
    for conflict in shown:
        since = time.strftime("%H:%M:%S", time.localtime(conflict.since))
        agents = " and ".join(conflict.agents)
        print(f"{conflict.level:<6} {conflict.path}  {agents} since {since}: {conflict.detail}")
    for where, error in sorted(unchecked.items()):
        print(f"corral: {where} was not checked past the file level: {error}", file=sys.stderr)
    return 0


def cmd_locks(args: argparse.Namespace, repo: Path) -> int:
    supervisor = Supervisor.open(repo)
    if args.lock_command == "release":
        return _print_outcomes([supervisor.release_lock(args.path, force=args.force)])
    report, tax = supervisor.lock_report()
    if args.json:
        print(json.dumps(report.to_json() | {"tax": tax.to_json()}, indent=2))
        return 0
    if not report.verdicts:
        print("no task locks")
    for verdict in report.verdicts:
        mark = "orphaned" if verdict.orphaned else ("stale" if verdict.stale else "held")
        task = verdict.lock.task or "?"
        print(f"{mark:<8} {verdict.lock.path}  {task}: {verdict.reason}")
    print(
        f"coordination tax: {tax.lock_commits} of {tax.commits} commits only claim or release "
        f"locks ({tax.share:.0%}; last hour {tax.recent_share:.0%})"
    )
    return 0


def cmd_notes(args: argparse.Namespace, repo: Path) -> int:
    notes = Supervisor.open(repo).notes()
    now = time.time()
    if args.json:
        print(json.dumps(notes.to_json(now), indent=2))
        return 0
    files = notes.files(now)
    if not files:
        print("no PROGRESS.md or notes found")
    for item in files:
        warned = "; ".join(warning.message for warning in item.warnings)
        changed = f", last by {item.last_change.agent}" if item.last_change else ""
        print(
            f"{item.where}: {item.path}  {item.lines} lines, {len(item.done)} done, "
            f"{len(item.open)} open{changed}" + (f"  ({warned})" if warned else "")
        )
    return 0


def cmd_merge(args: argparse.Namespace, repo: Path) -> int:
    if args.json and not args.preview:
        raise CorralError(
            f"--json goes with --preview: `corral merge {args.name} --preview --json`."
        )
    supervisor = Supervisor.open(repo)
    if args.preview:
        preview = supervisor.merge_preview(args.name)
        print(json.dumps(preview.to_json(), indent=2) if args.json else preview.describe())
        return 0
    return _print_outcomes([supervisor.merge(args.name, message=args.message)])


def cmd_demo(args: argparse.Namespace, repo: Path) -> int:
    """The sandbox and its herd; `--repo` is not used, since the sandbox is the repository."""
    import shlex

    from sessions.commands import demo

    if getattr(args, "repo", None) is not None:
        raise CorralError("corral demo makes its own repository: pass --dir PATH, not --repo.")
    folder: Path = args.dir if args.dir is not None else demo.default_dir()
    if args.clean:
        if args.speed is not None or args.no_tui:
            raise CorralError("--clean takes only --dir: `corral demo --clean [--dir PATH]`.")
        for line in demo.clean(folder):
            print(line)
        return 0
    if args.speed is not None and not args.speed > 0:
        raise CorralError("--speed must be a positive number, such as 0.3 or 2.")
    sandbox = demo.prepare(folder, args.speed)
    how = "created" if sandbox.created else "reused as the herd left it"
    print(f"demo sandbox {how}: {sandbox.root}")
    supervisor = Supervisor.open(sandbox.root)
    status = _print_outcomes(supervisor.up())
    # The first look at PROGRESS.md and notes/ records a baseline; looking now, before the
    # agents write, lets every later look say which agent changed what.
    supervisor.notes()
    if not args.no_tui and sys.stdin.isatty() and sys.stdout.isatty():
        from tui.opening import run_dashboard

        return run_dashboard(sandbox.root) or status
    if not args.no_tui:
        print("(no terminal to draw the dashboard in: showing the herd instead)")
    snapshot = supervisor.snapshot()
    print()
    print(format_table(snapshot.agents, snapshot))
    print()
    print(
        f"The herd runs in {sandbox.root}. Watch it: corral --repo {shlex.quote(str(sandbox.root))}"
    )
    given = "" if args.dir is None else f" --dir {shlex.quote(str(folder))}"
    print(f"Remove it: corral demo --clean{given}")
    return status


def cmd_doctor(args: argparse.Namespace, repo: Path) -> int:
    from sessions.commands.doctor import run_checks

    checks = run_checks(repo)
    for check in checks:
        mark = "ok " if check.ok else "NO "
        print(f"{mark} {check.what:<16} {check.detail}")
    return 0 if all(check.ok for check in checks) else 1


def cmd_summarize(args: argparse.Namespace, repo: Path) -> int:
    import asyncio

    from sessions.core.summary_values import Skipped

    supervisor = Supervisor.open(repo)
    summarizer = supervisor.summarizer()
    if (problem := summarizer.problem()) is not None:
        raise CorralError(problem)
    views = supervisor.look()
    chosen = [supervisor.view(name, views) for name in args.names] if args.names else views
    if not chosen:
        raise CorralError("no agent is running: `corral up` starts them.")
    briefs = supervisor.briefs(chosen)

    async def ask() -> list[Summary | Skipped]:
        return [await summarizer.summarize(brief) for brief in briefs]

    failed = False
    for brief, answer in zip(briefs, asyncio.run(ask()), strict=True):
        if isinstance(answer, Skipped):
            failed = True
            print(f"corral: {brief.agent}: {answer.reason}", file=sys.stderr)
        else:
            print(f"{brief.agent:<14} {'STUCK ' if answer.stuck else ''}{answer.text}")
    return 1 if failed else 0


COMMANDS: dict[str, Callable[[argparse.Namespace, Path], int]] = {
    "up": cmd_up,
    "init": cmd_init,
    "ls": cmd_ls,
    "watch": cmd_watch,
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
    "conflicts": cmd_conflicts,
    "locks": cmd_locks,
    "notes": cmd_notes,
    "merge": cmd_merge,
    "demo": cmd_demo,
    "summarize": cmd_summarize,
}


if __name__ == "__main__":
    sys.exit(main())
