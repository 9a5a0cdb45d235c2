"""The loop that runs inside each agent's pane: runs the agent CLI and records every run.

The runner is the pane's own process and the agent is its child, so the agent can be frozen
without tmux undoing it, and the runner can restart the agent by policy, spot a crash loop, and
journal each run even when no corral command line or app is open. It is a child subreaper, so
what the agent leaves running in the background stays below it and is stopped with it; it waits
for each of those once it ends, so none stays a zombie.

The pane starts the runner with next to no environment of its own on tmux's command line (the
tmux server keeps that command line, and `ps` shows it to every local user); the environment of
the `corral` that started the agent is in the launch file, readable by its owner only.
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import re
import select
import signal
import subprocess
import sys
import termios
import threading
import time
from pathlib import Path

from sessions.adapters.journal import Journal
from sessions.adapters.launch import SESSION_TOKEN, LaunchPlan
from sessions.adapters.processes import DEAD, ZOMBIE, state, terminate_tree, tree
from sessions.agents.hook_spool import Spool
from sessions.core.errors import JournalError
from sessions.core.rules import Backoff, Restart
from sessions.hook import complain
from sessions.services.reaper import Reaper

# A runner lives in every pane as long as its agent, so what it imports is paid once per agent:
# names only mypy reads (`typing`) stay out. mypy reads this as true, Python as false.
TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

RATE_LIMIT = re.compile(r"rate[ -]?limit|too many requests|quota|\b429\b", re.IGNORECASE)
RATE_LIMIT_LINES = 15
NOT_FOUND_CODE = 127
STOP_GRACE = 5.0
PR_SET_CHILD_SUBREAPER = 36
WATCH_SETTLE = 0.5
# How often the runner trims its agent's hook payloads when no corral does: a looking corral
# drains before it reads, so this only keeps the spool small; each wake costs an idle runner
# a little CPU (six idle runners: 0.2% of a core at 1 s, next to nothing at 3 s).
SPOOL_EVERY = 3.0


def say(text: str) -> None:
    """Messages from corral in the pane, dimmed so they read apart from the agent's output."""
    sys.stdout.write(f"\r\n\x1b[2mcorral: {text}\x1b[0m\r\n")
    sys.stdout.flush()


def _ignore(signum: int, frame: object) -> None:
    """A handler, not SIG_IGN: caught signals reset to default in the agent at exec."""


class OwnPane:
    """The runner's handle on the tmux pane it runs in, through the server's own socket."""

    def __init__(self, tmux: str, reaper: Reaper) -> None:
        self.tmux = tmux
        self.reaper = reaper
        self.socket = os.environ.get("TMUX", "").split(",")[0]
        self.pane = os.environ.get("TMUX_PANE", "")

    def _run(self, *args: str, timeout: float = 5.0) -> str:
        if not self.socket or not self.pane:
            return ""
        try:
            result = self.reaper.run(
                [self.tmux, "-S", self.socket, *args],
                timeout=timeout,
            )
        except (OSError, subprocess.SubprocessError):
            return ""
        return result.stdout

    def screen(self) -> str:
        return self._run("capture-pane", "-p", "-t", self.pane)

    def last_lines(self, count: int) -> str:
        lines = [line for line in self.screen().splitlines() if line.strip()]
        return "\n".join(lines[-count:])

    def type_prompt(self, prompt: str, alive: threading.Event, deadline: float = 30.0) -> None:
        """Type a first prompt for CLIs without a prompt flag, once their screen stops changing.

        The buffer is named after the pane, so agents starting together never swap prompts.
        """
        previous = None
        end = time.monotonic() + deadline
        while time.monotonic() < end and alive.is_set():
            time.sleep(0.5)
            current = self.screen()
            if current.strip() and current == previous:
                break
            previous = current
        if not alive.is_set():
            return
        buffer = f"corral-prompt-{self.pane.lstrip('%')}"
        self._run("set-buffer", "-b", buffer, "--", prompt)
        self._run("paste-buffer", "-p", "-d", "-b", buffer, "-t", self.pane)
        self._run("send-keys", "-t", self.pane, "Enter")


SWEEP_WAIT = 2.0  # seconds what an agent left behind gets to end after SIGTERM


def _running(pid: int) -> bool:
    """Still running: neither gone nor a zombie waiting for the reaper."""
    return state(pid) not in (None, ZOMBIE, DEAD)


class TerminalModes:
    """The pane's terminal as the runner found it, put back after every run.

    An agent that dies in raw mode, or an interactive shell that took the foreground, would
    otherwise leave the runner unable to read Enter during its back-off.
    """

    def __init__(self) -> None:
        self.fd = sys.stdin.fileno() if sys.stdin.isatty() else None
        self.saved: list[Any] | None = None
        if self.fd is not None:
            with contextlib.suppress(termios.error):
                self.saved = termios.tcgetattr(self.fd)

    def restore(self) -> None:
        if self.fd is None:
            return
        previous = signal.signal(signal.SIGTTOU, signal.SIG_IGN)
        try:
            with contextlib.suppress(OSError):
                os.tcsetpgrp(self.fd, os.getpgrp())
            if self.saved is not None:
                with contextlib.suppress(termios.error):
                    termios.tcsetattr(self.fd, termios.TCSANOW, self.saved)
        finally:
            signal.signal(signal.SIGTTOU, previous)


class Runner:
    """Runs one agent by its launch plan until the policy says stop, or corral says so."""

    def __init__(self, plan: LaunchPlan, resume: bool = False) -> None:
        self.plan = plan
        self.resume = resume
        self.backoff = Backoff(
            clean=plan.backoff.get("clean", Backoff.clean),
            failure=plan.backoff.get("failure", Backoff.failure),
            crash_runs=int(plan.backoff.get("crash_runs", Backoff.crash_runs)),
            crash_seconds=plan.backoff.get("crash_seconds", Backoff.crash_seconds),
        )
        self.journal = Journal(Path(plan.journal))
        self.reaper = Reaper()
        self.pane = OwnPane(plan.tmux, self.reaper)
        self.terminal = TerminalModes()
        self.stop_signal: str | None = None
        self.child: subprocess.Popen[bytes] | None = None
        self.alive = threading.Event()
        self.streak = 0
        self.run_number = 0
        self.unstartable = False
        self.last_limited = False
        # Files written and the commit the run started from, so each run's end says whether
        # it changed anything (a run that spent tokens and changed nothing is worth knowing).
        self.files_written = 0
        self.watching = False
        self.run_head: str | None = None
        self.run_files = 0
        self._wake_read, self._wake_write = os.pipe()

    def record(self, event: str, agent: str | None = None, **data: object) -> None:
        """Journal an event; when the journal cannot take it (a full disk), say so in the pane
        and go on: the agent matters more than its record."""
        try:
            self.journal.append(event, agent, **data)
        except JournalError as error:
            say(f"{error} The agent goes on; this {event} is not recorded.")

    def wrote(self, files: int) -> None:
        """Called from the watcher's thread, the only one that adds; the runner only reads."""
        self.files_written += files

    @property
    def stopping(self) -> bool:
        return self.stop_signal is not None

    def install_signals(self) -> None:
        """Keyboard signals belong to the agent; SIGTERM and SIGHUP mean a stop."""
        with contextlib.suppress(OSError, AttributeError):
            ctypes.CDLL(None, use_errno=True).prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0)
        self.reaper.start()
        for sig in (signal.SIGINT, signal.SIGQUIT, signal.SIGTSTP):
            signal.signal(sig, _ignore)
        os.set_blocking(self._wake_write, False)
        signal.set_wakeup_fd(self._wake_write)
        signal.signal(signal.SIGTERM, self._on_stop)
        signal.signal(signal.SIGHUP, self._on_stop)

    def _on_stop(self, signum: int, frame: object) -> None:
        self.stop_signal = signal.Signals(signum).name
        self._stop_child()

    def _stop_child(self) -> None:
        """Continue and terminate the agent's whole tree; kill what is left after a grace."""
        child = self.child
        if child is None or child.poll() is not None:
            return
        terminate_tree(child.pid)
        timer = threading.Timer(STOP_GRACE, self._kill_below)
        timer.daemon = True
        timer.start()

    @staticmethod
    def _kill_below() -> None:
        for pid in tree(os.getpid())[1:]:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.kill(pid, signal.SIGKILL)

    def _sweep(self) -> None:
        """Stop what the agent left behind (it was reparented to this subreaper), then reap."""
        left = tree(os.getpid())[1:]
        for pid in left:
            terminate_tree(pid)
        end = time.monotonic() + SWEEP_WAIT
        while (alive := [pid for pid in left if _running(pid)]) and time.monotonic() < end:
            time.sleep(0.02)
        for pid in alive:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.kill(pid, signal.SIGKILL)
        self.reaper.reap()

    def argv_for_run(self) -> tuple[list[str], str]:
        if self.resume and self.run_number == 1:
            session = self.plan.session_id or session_id()
            template = self.plan.resume_argv
        else:
            session = session_id()
            template = self.plan.argv
        return [session if part == SESSION_TOKEN else part for part in template], session

    def run_once(self) -> int:
        self.run_number += 1
        argv, session = self.argv_for_run()
        if not Path(self.plan.cwd).is_dir():
            return self.unstartable_run(
                argv, session, f"its worktree {self.plan.cwd} is missing", "worktree_missing"
            )
        started = time.time()
        self.run_head = _head(self.reaper, self.plan.cwd)
        self.run_files = self.files_written
        try:
            self.child = self.reaper.popen(
                argv, cwd=self.plan.cwd, env=self.plan.child_env(dict(os.environ))
            )
        except OSError as error:
            return self.unstartable_run(argv, session, _cannot_run(argv[0], error), "not_found")
        if self.stopping:
            self._stop_child()
        self.alive.set()
        self.record(
            "run_start",
            self.plan.agent,
            run=self.run_number,
            pid=self.child.pid,
            session_id=session,
            pane=self.pane.pane or None,
            command=argv[0],
        )
        if self.plan.typed_prompt and self.run_number == 1 and not self.resume:
            threading.Thread(
                target=self.pane.type_prompt,
                args=(self.plan.typed_prompt, self.alive),
                daemon=True,
            ).start()
        child = self.child
        try:
            code = child.wait()
        finally:
            self.reaper.release(child)
        self.alive.clear()
        self.child = None
        if self.stopping:
            self._sweep()
        self.terminal.restore()
        return self.record_end(code, started)

    def record_end(self, code: int, started: float) -> int:
        code = 128 - code if code < 0 else code
        duration = time.time() - started
        self.streak = self.streak + 1 if duration < self.backoff.crash_seconds else 0
        tail = "" if self.stopping else self.pane.last_lines(RATE_LIMIT_LINES)
        self.last_limited = bool(RATE_LIMIT.search(tail))
        reason = "stopped" if self.stopping else ("rate_limit" if self.last_limited else "exited")
        self.record(
            "run_end",
            self.plan.agent,
            run=self.run_number,
            exit_code=code,
            duration=round(duration, 3),
            reason=reason,
            signal=self.stop_signal,
            short_streak=self.streak,
        )
        self.record_changes()
        return code

    def record_changes(self) -> None:
        """What the run changed, in its own event: the end is journaled at once, so the status
        says exited without waiting for the watcher to report the run's last writes."""
        if self.watching:
            # The watcher reports a batch once writes pause for a tenth of a second, at most
            # 0.4 s after the first: wait that long so the run's last writes count for it.
            time.sleep(WATCH_SETTLE)
        self.record(
            "run_changes",
            self.plan.agent,
            run=self.run_number,
            files_written=self.files_written - self.run_files if self.watching else None,
            commits=_commits_since(self.reaper, self.plan.cwd, self.run_head),
        )

    def unstartable_run(self, argv: list[str], session: str, problem: str, reason: str) -> int:
        """A run that could not start ends the runner: retrying it would only loop."""
        self.record("run_start", self.plan.agent, run=self.run_number, pid=None, session_id=session)
        hint = ""
        if reason == "not_found" and self.plan.install_hint:
            hint = f" ({self.plan.install_hint})"
        message = f"cannot start {self.plan.agent}: {problem}{hint}"
        self.record(
            "run_end",
            self.plan.agent,
            run=self.run_number,
            exit_code=NOT_FOUND_CODE,
            duration=0.0,
            reason=reason,
            message=message,
            short_streak=0,
        )
        self.record("stop", self.plan.agent, reason=reason, message=message)
        say(f"{message}. Fix it, then `corral restart {self.plan.agent}`.")
        self.unstartable = True
        return NOT_FOUND_CODE

    def should_restart(self, code: int) -> bool:
        policy = Restart(self.plan.restart)
        if self.stopping or self.unstartable or policy is Restart.NEVER:
            return False
        return policy is Restart.ALWAYS or code != 0

    def wait_backoff(self, delay: float) -> bool:
        """Sleep `delay` seconds; Enter in the pane restarts at once; a stop signal ends it."""
        self.record("waiting", self.plan.agent, delay=delay)
        say(f"restarting {self.plan.agent} in {delay:.0f} s (Enter: now)")
        watched = [self._wake_read]
        if self.terminal.fd is not None:
            watched.append(self.terminal.fd)
        end = time.monotonic() + delay
        while not self.stopping:
            remaining = end - time.monotonic()
            if remaining <= 0:
                return True
            ready, _, _ = select.select(watched, [], [], remaining)
            if self._wake_read in ready:
                os.read(self._wake_read, 512)
            if self.terminal.fd is not None and self.terminal.fd in ready:
                typed = os.read(self.terminal.fd, 1024)
                if b"\r" in typed or b"\n" in typed:
                    return True
        return False

    def loop(self) -> int:
        code = 0
        while not self.stopping:
            code = self.run_once()
            if not self.should_restart(code):
                break
            if self.streak >= self.backoff.crash_runs:
                self.record("crash_loop", self.plan.agent, runs=self.streak)
                say(
                    f"{self.plan.agent} ended {self.streak} times in a row within "
                    f"{self.backoff.crash_seconds:.0f} s each: a crash loop, so corral stopped "
                    f"restarting it. Fix the cause, then `corral restart {self.plan.agent}`."
                )
                return code
            failed = code != 0 or self.last_limited
            if not self.wait_backoff(self.backoff.failure if failed else self.backoff.clean):
                break
        if not self.unstartable:
            self.record("stop", self.plan.agent, reason=self.stop_reason(code), exit_code=code)
            if not self.stopping:
                again = f"`corral restart {self.plan.agent}` runs it again"
                say(f"{self.plan.agent} {self.stop_reason(code)}; {again}.")
        return code

    def stop_reason(self, code: int) -> str:
        if self.stop_signal == "SIGTERM":
            return "stopped by corral"
        if self.stop_signal is not None:
            return f"stopped by {self.stop_signal} (its tmux pane or server went away?)"
        return f"exited with code {code}"


def _git(reaper: Reaper, cwd: str, *args: str) -> str | None:
    """One read-only git answer, or None: a run's bookkeeping must never stop the agent."""
    try:
        result = reaper.run(
            ["git", *args],
            cwd=cwd,
            env=os.environ | {"GIT_OPTIONAL_LOCKS": "0"},
            timeout=5.0,
        )
    except (OSError, subprocess.SubprocessError):
        return None
    return result.stdout.strip() if result.returncode == 0 else None


def _head(reaper: Reaper, cwd: str) -> str | None:
    return _git(reaper, cwd, "rev-parse", "--verify", "-q", "HEAD")


def _commits_since(reaper: Reaper, cwd: str, head: str | None) -> int | None:
    """Commits the run added on top of where it started; None when that cannot be told."""
    if head is None or not Path(cwd).is_dir():
        return None
    counted = _git(reaper, cwd, "rev-list", "--count", f"{head}..HEAD")
    return int(counted) if counted and counted.isdigit() else None


def session_id() -> str:
    """`str(uuid.uuid4())`, without the `uuid` module (over a MiB in every pane): 16 random
    bytes with the version (4) and variant (RFC 4122) bits set, in the usual 8-4-4-4-12 form."""
    raw = bytearray(os.urandom(16))
    raw[6] = raw[6] & 0x0F | 0x40
    raw[8] = raw[8] & 0x3F | 0x80
    text = raw.hex()
    return f"{text[:8]}-{text[8:12]}-{text[12:16]}-{text[16:20]}-{text[20:]}"


def _cannot_run(program: str, error: OSError) -> str:
    if isinstance(error, FileNotFoundError):
        return f"`{program}` is not installed or not on PATH"
    if isinstance(error, PermissionError):
        return f"`{program}` cannot be run (permission denied)"
    return f"`{program}` cannot be run ({error.strerror or error})"


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if not args:
        print("usage: python -m sessions.runner LAUNCH_FILE [--resume]", file=sys.stderr)
        return 2
    try:
        plan = LaunchPlan.load(Path(args[0]))
    except (OSError, ValueError, TypeError) as error:
        print(f"corral runner: cannot read launch file {args[0]}: {error}", file=sys.stderr)
        return 2
    if plan.environ is not None:
        # Over the pane's own (tmux's TERM, TMUX and TMUX_PANE, the server's first environment),
        # as `-e` on tmux's command line once put it.
        os.environ.update(plan.environ)
    runner = Runner(plan, resume="--resume" in args[1:])
    runner.install_signals()
    spool = Spool(plan.home, plan.agent, plan.cwd)
    with contextlib.suppress(OSError):
        spool.make()
    threading.Thread(target=_drain_every, args=(spool,), name="spool", daemon=True).start()
    if plan.watch_files:
        from sessions.adapters import filewatch

        events = Path(plan.home) / "events" / f"{plan.agent}.jsonl"
        filewatch.start(Path(plan.cwd), events, plan.agent, runner.wrote)
        runner.watching = True
    try:
        return runner.loop()
    finally:
        spool.drain()


def _drain_every(spool: Spool) -> None:
    """Trim the agent's hook payloads even when no corral looks, so the spool stays small and
    the events file tells the whole story; a corral that looks drains first anyway."""
    while True:
        time.sleep(SPOOL_EVERY)
        try:
            spool.drain()
        except Exception as error:  # evidence is optional; the runner must go on
            with contextlib.suppress(Exception):
                complain(error, "runner", {"CORRAL_HOME": spool.home, "CORRAL_AGENT": spool.agent})


if __name__ == "__main__":
    sys.exit(main())
