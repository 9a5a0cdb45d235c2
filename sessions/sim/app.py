"""The simulated agent's session: turns made of steps, done for real and reported.

A turn starts from a prompt (typed, pasted, or given on the command line), runs scenario steps
or a seeded random plan, and ends at the idle box; every tool call changes the worktree. The
agent reports what it does the way Claude Code does, through corral's real hook entry
(SessionStart, UserPromptSubmit, PreToolUse/PostToolUse, PermissionRequest and Notification,
Stop, SessionEnd; nothing on an interrupt or a "No", as Claude Code), so corral reads the
same traces from it as from a real agent. Prompts, questions and turn ends also go to the
journal, as ground truth for tests about what hooks leave out.
"""

from __future__ import annotations

import itertools
import json
import os
import queue
import random
import subprocess
import tempfile
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sessions.adapters.journal import Journal
from sessions.agents.hook_settings import spool_command
from sessions.sim.console import Console, Exit
from sessions.sim.plan import VERBS, plan_turn
from sessions.sim.scenario import Scenario, Step
from sessions.sim.screen import View
from sessions.sim.terminal import Signals, Terminal
from sessions.sim.workspace import ToolOutcome, Workspace

__all__ = ["Crash", "Exit", "Interrupted", "Options", "Reporter", "Session"]

OUTPUT_LIMIT = 65536
PAST = {
    "Pondering": "Pondered",
    "Reticulating": "Reticulated",
    "Noodling": "Noodled",
    "Herding": "Herded",
    "Brewing": "Brewed",
    "Conjuring": "Conjured",
    "Percolating": "Percolated",
    "Wrangling": "Wrangled",
    "Mulling": "Mulled",
    "Tinkering": "Tinkered",
}


class Crash(Exception):
    """A scripted crash: the caller restores the terminal, prints a traceback, exits 1."""


class Interrupted(Exception):
    """Esc or Ctrl-C during work, or "No" in a dialog: the turn ends, the agent goes idle."""


@dataclass(frozen=True)
class Options:
    agent: str
    session_id: str
    seed: int
    speed: float = 1.0
    prompt: str | None = None
    resume: bool = False
    auto: bool = False
    ask_chance: float = 0.0
    scenario: Scenario | None = None


HOOK_TIMEOUT = 10.0
HOOK_DRAIN = 2.0


class Hooks:
    """Hook payloads piped into corral's hook entry, one process per event as Claude Code does.

    One worker thread runs them in order, so the screen never waits on a hook and the events
    file still gets each PreToolUse before its PostToolUse. The session waits (screen live)
    for them to land before its next step, as Claude Code waits for its synchronous hooks.
    """

    def __init__(self, cwd: Path) -> None:
        self._cwd = cwd
        self._env = {**os.environ, "CLAUDE_PROJECT_DIR": str(cwd)}
        self._argv = ("/bin/sh", "-c", spool_command("sim"))
        self._queue: queue.SimpleQueue[bytes | None] = queue.SimpleQueue()
        self._lock = threading.Lock()
        self._pending = 0
        self._worker = threading.Thread(target=self._run, name="sim-hooks", daemon=True)
        self._worker.start()

    def send(self, payload: dict[str, Any]) -> None:
        with self._lock:
            self._pending += 1
        self._queue.put(json.dumps(payload).encode())

    def busy(self) -> bool:
        with self._lock:
            return self._pending > 0

    def close(self, timeout: float = HOOK_DRAIN) -> None:
        """Let queued events land (SessionEnd above all) before the agent exits."""
        self._queue.put(None)
        self._worker.join(timeout)

    def _run(self) -> None:
        while (data := self._queue.get()) is not None:
            try:
                subprocess.run(
                    self._argv,
                    input=data,
                    stdout=subprocess.DEVNULL,
                    stderr=subprocess.DEVNULL,
                    cwd=self._cwd,
                    env=self._env,
                    timeout=HOOK_TIMEOUT,
                    check=False,
                )
            except (OSError, subprocess.SubprocessError):
                pass
            with self._lock:
                self._pending -= 1


class Reporter:
    """Journal events and hook payloads for corral; silent when run outside corral."""

    def __init__(self, journal: Journal | None, agent: str, hooks: Hooks | None = None) -> None:
        self._journal = journal
        self._agent = agent
        self._hooks = hooks

    @classmethod
    def from_env(cls, agent: str) -> Reporter:
        home = os.environ.get("CORRAL_HOME")
        if not home:
            return cls(None, agent)
        return cls(Journal(Path(home) / "journal.jsonl"), agent, Hooks(Path.cwd()))

    def emit(self, event: str, **data: Any) -> None:
        if self._journal is None:
            return
        try:
            self._journal.append(event, agent=self._agent, sim=True, **data)
        except OSError:
            self._journal = None

    def hook(self, payload: dict[str, Any]) -> None:
        if self._hooks is not None:
            self._hooks.send(payload)

    def hooks_busy(self) -> bool:
        return self._hooks is not None and self._hooks.busy()

    def close(self) -> None:
        if self._hooks is not None:
            self._hooks.close()


class Session(Console):
    """One agent's life: turns made of steps, each step done in the worktree and reported."""

    def __init__(
        self,
        options: Options,
        terminal: Terminal,
        signals: Signals,
        reporter: Reporter,
        root: Path,
    ) -> None:
        super().__init__(terminal, signals)
        self.options = options
        self.reporter = reporter
        self.workspace = Workspace(root, options.agent, self.run_command, _inside(root))
        self.rng = random.Random(options.seed)
        self.in_turn = False
        self.turn_tools = 0
        self.last_prompt = ""
        self.last_said = ""
        self._tool_ids = itertools.count(1)

    # --- the programs -------------------------------------------------------------------

    def run(self) -> None:
        self.hook("SessionStart", source="resume" if self.options.resume else "startup")
        reason = "other"
        try:
            self._welcome()
            scenario = self.options.scenario
            if scenario is not None:
                self._run_scenario(scenario.steps)
            else:
                self._run_random()
        except Exit:
            reason = "prompt_input_exit"
            raise
        finally:
            self.hook("SessionEnd", reason=reason)
            self.reporter.close()

    def _welcome(self) -> None:
        self.state.add(
            [
                "✻ Welcome to the simulated agent",
                f"  cwd: {self.workspace.root}",
                f"  session: {self.options.session_id}",
            ]
        )
        if self.options.resume:
            self.state.add([f"Resumed session {self.options.session_id}"])

    def _first_prompt(self) -> str | None:
        if self.options.prompt is not None:
            return self.options.prompt
        if self.options.resume or (self.options.scenario is None and not self.options.auto):
            return self.wait_prompt()
        return None

    def _run_scenario(self, steps: Sequence[Step]) -> None:
        prompt = self._first_prompt()
        if prompt is not None or steps[0].do != "idle":
            self.begin_turn(prompt)
        index = 0
        while index < len(steps):
            step = steps[index]
            index += 1
            if step.do == "loop":
                self.pump(time.monotonic())
                index = 0
            elif step.do == "idle":
                self.end_turn()
                self.begin_turn(self.wait_prompt())
            else:
                try:
                    self.do(step)
                except Interrupted:
                    self.end_turn(interrupted=True)
                    index = _next_idle(steps, index)
        self.end_turn()
        while True:
            self.begin_turn(self.wait_prompt())
            self.state.add(["⏺ Nothing left to do: the scenario has ended."])
            self.end_turn()

    def _run_random(self) -> None:
        prompt = self._first_prompt()
        while True:
            turn = plan_turn(
                self.rng, self.workspace.files(), self.options.agent, self.options.ask_chance
            )
            self.begin_turn(prompt, turn.verb)
            try:
                for step in turn.steps:
                    self.do(step)
                self.do(Step("say", text="Done. The changes are in place."))
            except Interrupted:
                self.end_turn(interrupted=True)
            self.end_turn()
            prompt = self._auto_pause() if self.options.auto else self.wait_prompt()

    def _auto_pause(self) -> str | None:
        """With --auto the agent rests at the idle box, then starts again on its own."""
        self.set_view(View.IDLE)
        deadline = time.monotonic() + self.rng.uniform(2.0, 6.0) * self.options.speed
        while not self.prompts and time.monotonic() < deadline:
            self.pump(deadline)
        return self.prompts.popleft() if self.prompts else None

    # --- turns and steps ----------------------------------------------------------------

    def begin_turn(self, prompt: str | None, verb: str | None = None) -> None:
        if prompt is not None:
            self.last_prompt = prompt
            lines = prompt.split("\n")
            extra = [f"  … +{len(lines) - 1} lines"] if len(lines) > 1 else []
            self.state.add([f"> {lines[0]}", *extra])
            self.reporter.emit("prompt", chars=len(prompt), text=prompt[:80])
            self.hook("UserPromptSubmit", permission_mode="default", prompt=prompt)
            self._settle_hooks()
        self.state.verb = verb or self.rng.choice(VERBS)
        self.in_turn = True
        self.interrupted = False
        self.turn_started = time.monotonic()
        self.turn_tools = 0
        self.set_view(View.WORKING)

    def end_turn(self, interrupted: bool = False) -> None:
        if not self.in_turn:
            return
        self.in_turn = False
        seconds = time.monotonic() - self.turn_started
        if interrupted:
            self.state.add(["  ⎿  Interrupted · What should the agent do instead?"])
            if self.turn_tools == 0 and not self.editor.buffer:
                self.editor.buffer = self.last_prompt
                self.state.buffer = self.last_prompt
        else:
            past = PAST.get(self.state.verb, "Worked")
            self.state.add([f"✻ {past} for {max(1, round(seconds))}s"])
            self.hook("Stop", stop_hook_active=False, last_assistant_message=self.last_said)
        self.reporter.emit(
            "turn_end", interrupted=interrupted, tools=self.turn_tools, seconds=round(seconds, 3)
        )
        self.interrupted = False
        self.set_view(View.IDLE)

    def do(self, step: Step) -> None:
        self.pump(time.monotonic())
        if self.interrupted:
            raise Interrupted
        ws = self.workspace
        match step.do:
            case "think":
                self.think(step.seconds)
            case "say":
                self.state.add([f"⏺ {step.text}"])
                self.last_said = step.text or ""
                self.changed()
            case "read":
                self.tool(ws.read(step.path))
            case "grep":
                self.tool(ws.grep(step.pattern, step.path or "."))
            case "edit":
                self.tool(ws.edit(step.path, step.text, step.old, step.new))
            case "write":
                self.tool(ws.write(step.path, step.text or ""))
            case "bash":
                self.tool(ws.bash(step.argv))
            case "commit":
                self.tool(ws.commit(step.message))
            case "progress":
                self.tool(ws.progress(step.text, step.item, step.tick))
            case "note":
                self.tool(ws.note(step.topic, step.text or ""))
            case "lock":
                for call in ws.lock(step.task):
                    self.tool(call)
            case "unlock":
                for call in ws.unlock(step.task):
                    self.tool(call)
            case "ask":
                if not self.ask(step.path):
                    raise Interrupted
            case "exit":
                raise Exit(step.code)
            case "crash":
                raise Crash(step.text or "simulated crash")

    def tool(self, call: ToolOutcome) -> None:
        mark = "⏺" if call.ok else "✗"
        self.state.add([f"{mark} {call.title}", *(f"  ⎿  {line}" for line in call.detail)])
        self.changed()
        self.turn_tools += 1
        self._report_tool(call)

    def _report_tool(self, call: ToolOutcome) -> None:
        """PreToolUse and PostToolUse (or PostToolUseFailure), what corral asks Claude for."""
        tool = {
            "tool_name": call.tool,
            "tool_input": self._tool_input(call),
            "tool_use_id": f"toolu_sim_{next(self._tool_ids):06d}",
        }
        self.hook("PreToolUse", permission_mode="default", **tool)
        output = "\n".join(call.detail)
        if call.ok:
            response = _tool_response(call, output)
            self.hook("PostToolUse", permission_mode="default", tool_response=response, **tool)
        else:
            self.hook("PostToolUseFailure", permission_mode="default", error=output, **tool)
        self._settle_hooks()

    def _settle_hooks(self) -> None:
        """Go on once the hooks have landed, as Claude Code does; the screen stays live."""
        deadline = time.monotonic() + HOOK_TIMEOUT
        while self.reporter.hooks_busy() and time.monotonic() < deadline:
            self.pump(min(deadline, time.monotonic() + 0.05))

    def _tool_input(self, call: ToolOutcome) -> dict[str, Any]:
        """Claude Code's argument names, with absolute paths as Claude Code gives them."""
        if call.tool == "Bash":
            return {"command": call.command}
        if not call.paths:
            return {}
        key = "path" if call.tool == "Grep" else "file_path"
        return {key: str(self.workspace.root / call.paths[0])}

    def hook(self, event: str, **fields: Any) -> None:
        self.reporter.hook(
            {
                "session_id": self.options.session_id,
                "cwd": str(self.workspace.root),
                "hook_event_name": event,
                **fields,
            }
        )

    def think(self, seconds: float) -> None:
        deadline = time.monotonic() + seconds * self.options.speed
        while True:
            self.pump(deadline)
            if self.interrupted:
                raise Interrupted
            if time.monotonic() >= deadline:
                return

    def wait_prompt(self) -> str:
        self.set_view(View.IDLE)
        while not self.prompts:
            if not self.stdin_open:
                raise Exit(0)
            self.pump(None)
        return self.prompts.popleft()

    def ask(self, path: str) -> bool:
        self.reporter.emit("permission", state="asked", tool="Edit", paths=[path])
        edit = {"file_path": str(self.workspace.root / path)}
        self.hook("PermissionRequest", permission_mode="default", tool_name="Edit", tool_input=edit)
        self.hook(
            "Notification",
            notification_type="permission_prompt",
            message="Claude needs your permission",
        )
        self.state.question, self.state.choice = path, 0
        self.answer = None
        self.set_view(View.ASKING)
        while self.answer is None:
            if not self.stdin_open:
                self.answer = False
                break
            self.pump(None)
        answer, self.answer = self.answer, None
        self.reporter.emit(
            "permission", state="answered", answer="yes" if answer else "no", paths=[path]
        )
        if not answer:
            self.state.add([f"  ⎿  The edit to {path} was declined"])
        self.set_view(View.WORKING)
        return answer

    def run_command(self, argv: Sequence[str]) -> tuple[int, str]:
        """Runs a real subprocess while the screen stays live and Esc can kill it."""
        env = {**os.environ, "GIT_TERMINAL_PROMPT": "0"}
        with tempfile.TemporaryFile() as output:
            try:
                process = subprocess.Popen(
                    list(argv),
                    cwd=self.workspace.root,
                    stdin=subprocess.DEVNULL,
                    stdout=output,
                    stderr=subprocess.STDOUT,
                    env=env,
                    start_new_session=True,
                )
            except OSError as error:
                return 127, f"{argv[0]}: {error.strerror}"
            try:
                while process.poll() is None:
                    self.pump(time.monotonic() + 0.5)
                    if self.interrupted:
                        raise Interrupted
            finally:
                if process.poll() is None:
                    process.kill()
                    process.wait()
            output.seek(0)
            text = output.read(OUTPUT_LIMIT).decode(errors="replace")
        return process.returncode, text


def _tool_response(call: ToolOutcome, output: str) -> dict[str, Any]:
    if call.tool == "Bash":
        return {"stdout": output, "stderr": "", "interrupted": False, "isImage": False}
    return {"filePath": call.paths[0] if call.paths else "", "detail": output}


def _next_idle(steps: Sequence[Step], index: int) -> int:
    for position in range(index, len(steps)):
        if steps[position].do == "idle":
            return position
    return len(steps)


def _inside(root: Path) -> tuple[str, ...]:
    """corral's home, relative to the worktree, when it lies inside it."""
    home = os.environ.get("CORRAL_HOME")
    if not home:
        return ()
    try:
        inside = Path(home).resolve().relative_to(root.resolve()).as_posix()
    except ValueError:
        return ()
    return () if inside == "." else (inside,)
