"""`python -m sessions.sim`: the command line of the simulated agent.

Usage errors (bad flags, a bad scenario) end before the terminal is touched, with one line on
stderr and exit code 2, so corral's crash-loop detection sees a clear reason in the pane.
"""

from __future__ import annotations

import argparse
import atexit
import os
import sys
import traceback
import uuid
from collections.abc import Sequence
from pathlib import Path

from sessions.sim.app import Crash, Exit, Options, Reporter, Session
from sessions.sim.plan import seed_for
from sessions.sim.scenario import ScenarioError, load_scenario
from sessions.sim.terminal import Signals, Terminal

USAGE_ERROR = 2


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m sessions.sim",
        description="A simulated coding agent that works in the current git worktree.",
    )
    parser.add_argument("text", nargs="?", metavar="PROMPT", help="start with this prompt")
    parser.add_argument("--prompt", help="start with this prompt (same as PROMPT)")
    parser.add_argument("--scenario", type=Path, metavar="FILE", help="TOML script of steps")
    parser.add_argument("--seed", type=int, help="seed for random turns (default: from the name)")
    parser.add_argument("--speed", type=float, help="multiplier for every think time (default: 1)")
    parser.add_argument(
        "--resume", nargs="?", const="", metavar="ID", help="start idle as a resumed session"
    )
    parser.add_argument("--session-id", metavar="ID", help="the id to show and resume with")
    parser.add_argument("--name", help="agent name (default: $CORRAL_AGENT, else 'sim')")
    parser.add_argument(
        "--auto", action="store_true", help="keep taking turns without waiting for prompts"
    )
    parser.add_argument(
        "--ask", type=float, default=0.0, metavar="P", help="chance to ask before each edit"
    )
    return parser


def parse_options(argv: Sequence[str] | None = None) -> Options:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.text is not None and args.prompt is not None:
        parser.error("give the prompt once: either PROMPT or --prompt")
    if args.speed is not None and not args.speed > 0:
        parser.error("--speed must be a positive number")
    if not 0.0 <= args.ask <= 1.0:
        parser.error("--ask must be between 0 and 1")
    scenario = None
    if args.scenario is not None:
        try:
            scenario = load_scenario(args.scenario)
        except ScenarioError as error:
            print(f"sessions.sim: {error}", file=sys.stderr)
            raise SystemExit(USAGE_ERROR) from None
    name = args.name or os.environ.get("CORRAL_AGENT") or "sim"
    session_id = args.resume or args.session_id or str(uuid.uuid4())
    seed = args.seed
    if seed is None:
        seed = scenario.seed if scenario is not None and scenario.seed is not None else None
    speed = args.speed
    if speed is None:
        speed = scenario.speed if scenario is not None and scenario.speed is not None else 1.0
    return Options(
        agent=name,
        session_id=session_id,
        seed=seed_for(name) if seed is None else seed,
        speed=speed,
        prompt=args.prompt if args.prompt is not None else args.text,
        resume=args.resume is not None,
        auto=args.auto,
        ask_chance=args.ask,
        scenario=scenario,
    )


def main(argv: Sequence[str] | None = None) -> int:
    options = parse_options(sys.argv[1:] if argv is None else argv)
    terminal = Terminal()
    signals = Signals(terminal)
    session = Session(options, terminal, signals, Reporter.from_env(options.agent), Path.cwd())
    atexit.register(terminal.restore)
    signals.install()
    terminal.enter()
    crash: str | None = None
    try:
        session.run()
        code = 0
    except Exit as done:
        code = done.code
    except Crash as scripted:
        code, crash = 1, _fake_traceback(str(scripted))
    except Exception:
        code, crash = 1, traceback.format_exc()
    farewell = f"Resume this session with: python -m sessions.sim --resume {options.session_id}"
    try:
        session.farewell(farewell)
    except Exception:
        pass
    terminal.restore()
    terminal.write("\r\n")
    if crash is not None:
        sys.stderr.write(crash)
        sys.stderr.flush()
    return code


def _fake_traceback(message: str) -> str:
    return (
        "Traceback (most recent call last):\n"
        '  File "sessions/sim/app.py", line 1, in run\n'
        "    self.do(step)\n"
        f"RuntimeError: {message}\n"
    )
