"""The loop that runs inside each agent's pane: runs the agent CLI and records every run.

The runner is the pane's own process and the agent is its child, so the agent can be frozen
without tmux undoing it, and the runner can restart the agent by policy, spot a crash loop, and
journal each run even when no corral command line or app is open.
"""

from __future__ import annotations

import json
import os
import re
import select
import signal
import subprocess
import sys
import threading
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sessions.agents import SESSION_TOKEN
from sessions.journal import Journal
from sessions.model import Backoff, Restart

DROPPED_ENV = re.compile(r"^(TMUX.*|CLAUDECODE|CLAUDE_CODE_.*)$")
RATE_LIMIT = re.compile(r"rate[ -]?limit|too many requests|quota|\b429\b", re.IGNORECASE)
NOT_FOUND_CODE = 127
STOP_GRACE = 5.0


@dataclass
class LaunchPlan:
    """The launch file the supervisor writes for the runner (`.corral/agents/<name>.json`)."""

    agent: str
    journal: str
    home: str
    cwd: str
    argv: list[str]
    resume_argv: list[str]
    session_id: str | None = None
    restart: str = Restart.NEVER.value
    backoff: dict[str, float] = field(default_factory=dict)
    env: dict[str, str] = field(default_factory=dict)
    typed_prompt: str | None = None
    install_hint: str = ""

    @classmethod
    def load(cls, path: Path) -> LaunchPlan:
        data: dict[str, Any] = json.loads(path.read_text())
        return cls(**data)

    def save(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        temporary = path.with_suffix(".tmp")
        temporary.write_text(json.dumps(self.__dict__, indent=2))
        os.replace(temporary, path)


def child_env(plan: LaunchPlan, base: dict[str, str]) -> dict[str, str]:
    """The agent's environment: the user's, minus tmux's and a parent agent's, plus corral's."""
    env = {key: value for key, value in base.items() if not DROPPED_ENV.match(key)}
    env["CORRAL_AGENT"] = plan.agent
    env["CORRAL_HOME"] = plan.home
    env.update(plan.env)
    return env


def _ignore(signum: int, frame: object) -> None:
    """A handler, not SIG_IGN: caught signals reset to default in the agent at exec."""


def say(text: str) -> None:
    """Messages from corral in the pane, dimmed so they read apart from the agent's output."""
    sys.stdout.write(f"\r\n\x1b[2mcorral: {text}\x1b[0m\r\n")
    sys.stdout.flush()


def tmux_argv(*args: str) -> list[str] | None:
    """tmux talking to the server this pane lives on, or None outside tmux."""
    socket = os.environ.get("TMUX", "").split(",")[0]
    pane = os.environ.get("TMUX_PANE")
    if not socket or not pane:
        return None
    return ["tmux", "-S", socket, *[pane if a == "{pane}" else a for a in args]]


def screen_tail(lines: int = 50) -> str:
    argv = tmux_argv("capture-pane", "-p", "-t", "{pane}", "-S", str(-lines))
    if argv is None:
        return ""
    try:
        return subprocess.run(argv, capture_output=True, text=True, timeout=5, check=False).stdout
    except (OSError, subprocess.SubprocessError):
        return ""


def type_prompt_when_settled(prompt: str, deadline: float = 30.0) -> None:
    """Type a first prompt for CLIs without a prompt flag, once their screen stops changing."""
    previous = None
    end = time.monotonic() + deadline
    while time.monotonic() < end:
        time.sleep(0.5)
        current = screen_tail(0)
        if current.strip() and current == previous:
            break
        previous = current
    load = tmux_argv("set-buffer", "-b", "corral-prompt", "--", prompt)
    paste = tmux_argv("paste-buffer", "-p", "-d", "-b", "corral-prompt", "-t", "{pane}")
    enter = tmux_argv("send-keys", "-t", "{pane}", "Enter")
    for argv in (load, paste, enter):
        if argv is not None:
            subprocess.run(argv, capture_output=True, check=False)


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
        self.stopping = False
        self.child: subprocess.Popen[bytes] | None = None
        self.streak = 0
        self.run_number = 0
        self.unstartable = False
        self.last_limited = False
        self._wake_read, self._wake_write = os.pipe()

    def install_signals(self) -> None:
        """Keyboard signals belong to the agent; SIGTERM and SIGHUP mean corral wants a stop."""
        for sig in (signal.SIGINT, signal.SIGQUIT, signal.SIGTSTP):
            signal.signal(sig, _ignore)
        os.set_blocking(self._wake_write, False)
        signal.set_wakeup_fd(self._wake_write)
        signal.signal(signal.SIGTERM, self._on_stop)
        signal.signal(signal.SIGHUP, self._on_stop)

    def _on_stop(self, signum: int, frame: object) -> None:
        self.stopping = True
        child = self.child
        if child is not None and child.poll() is None:
            try:
                os.kill(child.pid, signal.SIGCONT)
                os.kill(child.pid, signal.SIGTERM)
            except ProcessLookupError:
                return
            timer = threading.Timer(STOP_GRACE, self._kill_child, args=(child,))
            timer.daemon = True
            timer.start()

    @staticmethod
    def _kill_child(child: subprocess.Popen[bytes]) -> None:
        from sessions.processes import terminate_tree

        if child.poll() is None:
            terminate_tree(child.pid, signal.SIGKILL)

    def argv_for_run(self) -> tuple[list[str], str]:
        if self.resume and self.run_number == 1:
            session = self.plan.session_id or str(uuid.uuid4())
            template = self.plan.resume_argv
        else:
            session = str(uuid.uuid4())
            template = self.plan.argv
        return [session if part == SESSION_TOKEN else part for part in template], session

    def run_once(self) -> int:
        self.run_number += 1
        argv, session = self.argv_for_run()
        started = time.time()
        try:
            self.child = subprocess.Popen(
                argv,
                cwd=self.plan.cwd,
                env=child_env(self.plan, dict(os.environ)),
            )
        except (FileNotFoundError, PermissionError, NotADirectoryError) as error:
            return self.record_unstartable(argv, session, error)
        self.journal.append(
            "run_start",
            self.plan.agent,
            run=self.run_number,
            pid=self.child.pid,
            session_id=session,
            pane=os.environ.get("TMUX_PANE"),
            command=argv[0],
        )
        if self.plan.typed_prompt and self.run_number == 1 and not self.resume:
            threading.Thread(
                target=type_prompt_when_settled, args=(self.plan.typed_prompt,), daemon=True
            ).start()
        code = self.child.wait()
        self.child = None
        code = 128 - code if code < 0 else code
        duration = time.time() - started
        short = duration < self.backoff.crash_seconds
        self.streak = self.streak + 1 if short else 0
        limited = not self.stopping and bool(RATE_LIMIT.search(screen_tail()))
        self.journal.append(
            "run_end",
            self.plan.agent,
            run=self.run_number,
            exit_code=code,
            duration=round(duration, 3),
            reason="stopped" if self.stopping else ("rate_limit" if limited else "exited"),
            short_streak=self.streak,
        )
        self.last_limited = limited
        return code

    def record_unstartable(self, argv: list[str], session: str, error: OSError) -> int:
        self.journal.append(
            "run_start", self.plan.agent, run=self.run_number, pid=None, session_id=session
        )
        problem = (
            "is not installed or not on PATH"
            if isinstance(error, FileNotFoundError)
            else ("cannot be run (permission denied or not a program)")
        )
        hint = f" ({self.plan.install_hint})" if self.plan.install_hint else ""
        message = f"cannot start {self.plan.agent}: `{argv[0]}` {problem}{hint}"
        self.journal.append(
            "run_end",
            self.plan.agent,
            run=self.run_number,
            exit_code=NOT_FOUND_CODE,
            duration=0.0,
            reason="not_found",
            message=message,
            short_streak=0,
        )
        self.journal.append("stop", self.plan.agent, reason="not_found", message=message)
        say(message + ". Fix it, then `corral restart " + self.plan.agent + "`.")
        self.unstartable = True
        return NOT_FOUND_CODE

    def should_restart(self, code: int) -> bool:
        policy = Restart(self.plan.restart)
        if self.stopping or self.unstartable or policy is Restart.NEVER:
            return False
        return policy is Restart.ALWAYS or code != 0

    def wait_backoff(self, delay: float) -> bool:
        """Sleep `delay` seconds; Enter in the pane restarts at once; a stop signal ends it."""
        self.journal.append("waiting", self.plan.agent, delay=delay)
        say(f"restarting {self.plan.agent} in {delay:.0f} s (Enter: now)")
        watched = [self._wake_read]
        if sys.stdin.isatty():
            watched.append(sys.stdin.fileno())
        end = time.monotonic() + delay
        while not self.stopping:
            remaining = end - time.monotonic()
            if remaining <= 0:
                return True
            ready, _, _ = select.select(watched, [], [], remaining)
            if self._wake_read in ready:
                os.read(self._wake_read, 512)
            if sys.stdin.isatty() and sys.stdin.fileno() in ready:
                sys.stdin.readline()
                return True
        return False

    def loop(self) -> int:
        code = 0
        while True:
            code = self.run_once()
            if not self.should_restart(code):
                break
            if self.streak >= self.backoff.crash_runs:
                self.journal.append("crash_loop", self.plan.agent, runs=self.streak)
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
            reason = "stopped by corral" if self.stopping else f"exited with code {code}"
            self.journal.append("stop", self.plan.agent, reason=reason, exit_code=code)
            if not self.stopping:
                again = f"`corral restart {self.plan.agent}` runs it again"
                say(f"{self.plan.agent} {reason}; {again}.")
        return code


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
    runner = Runner(plan, resume="--resume" in args[1:])
    runner.install_signals()
    return runner.loop()


if __name__ == "__main__":
    sys.exit(main())
