"""Recording a real agent CLI into tests/data/<cli>/: what every recorder does the same way.

A recorder (`record_claude`, `record_codex`, `record_gemini`) runs its CLI in a 160x45 tmux
pane against a stand-in API, in a git worktree whose path is as long as `/WORKTREE`, and keeps
screens, the events the CLI reported and what it asked of the API. Each one holds its
scenario; the moments the scenarios share (startup, a slow answer, an interrupted wait, a
dialog answered, the exit) are here, so that the recordings of all three CLIs line up.
Machine paths are replaced by placeholders, so the files do not depend on the machine.
"""

from __future__ import annotations

import argparse
import json
import re
import secrets
import shlex
import shutil
import string
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tests.support.cli_pane import CliPane, Looks, start_cli
from tests.support.npm_cli import NpmCli

ROOT = Path(__file__).resolve().parents[2]
HOOK_COLUMNS = "line\tmoment\tseconds_after_moment\thook_event_name\tdetail"


@dataclass
class Recorder:
    """Keeps the moments (what was done, when) and writes the captures as it goes."""

    out: Path
    panes: list[CliPane] = field(default_factory=list)
    moments: list[tuple[str, float]] = field(default_factory=list)
    files: list[str] = field(default_factory=list)

    def start(
        self, program: Path, cwd: Path, env: Mapping[str, str], looks: Looks, args: Sequence[str]
    ) -> CliPane:
        """Start the CLI in a pane that the captures read from now on."""
        self.panes.append(start_cli(program, cwd, env, looks, args))
        return self.pane

    @property
    def pane(self) -> CliPane:
        """The pane the captures read: the one started last."""
        return self.panes[-1]

    def stop(self) -> None:
        for pane in self.panes:
            pane.kill_server()

    def mark(self, moment: str) -> None:
        self.moments.append((moment, time.time()))
        print(f"{time.strftime('%H:%M:%S')} {moment}", flush=True)

    def moment_at(self, at: float, before: float) -> tuple[str, float]:
        """The last moment marked by `at` and when it was; `before launch` at `before` if none."""
        moment, when = "before launch", before
        for name, marked in self.moments:
            if marked <= at:
                moment, when = name, marked
        return moment, when

    def capture(self, name: str, colours: bool = False) -> str:
        screen = self.pane.capture()
        self.write(f"{name}.txt", screen)
        if colours:
            self.write(f"{name}.ansi", self.pane.capture(colours=True))
        return screen

    def write(self, name: str, text: str) -> None:
        (self.out / name).write_text(text)
        self.files.append(name)

    def write_lines(self, name: str, lines: Sequence[str]) -> None:
        self.write(name, "\n".join(lines) + "\n")

    def clean_screens(self, clean: Placeholders) -> None:
        """Put the placeholders into the screens, once no pane is left to capture."""
        for name in self.files:
            if name.endswith((".txt", ".ansi")):
                path = self.out / name
                path.write_text(clean(path.read_text()))

    # --- moments the scenarios share: the caller has pushed the API's part

    def startup(self, settle: float) -> None:
        """The first idle screen, once whatever animates at startup has had `settle` seconds."""
        self.mark("launch")
        self.pane.wait_idle(40)
        time.sleep(settle)
        self.capture("startup-idle", colours=True)

    def slow_answer(self) -> None:
        """A turn whose answer comes 8 s late: working, then idle."""
        self.mark("prompt: slow answer (8 s delay)")
        self.pane.submit("Answer slowly, please.")
        self.pane.wait_working()
        time.sleep(2.5)
        self.capture("working-slow", colours=True)
        self.pane.wait_for_text("here it is.", 20)
        self.pane.wait_idle()
        time.sleep(0.5)
        self.capture("idle-after-turn")

    def interrupt_silence(self, working: str | None = None) -> None:
        """A turn whose answer takes 20 s, interrupted with Esc after 3 s;
        the working screen is kept as `working` when it is named."""
        self.mark("prompt: silent 20 s wait")
        self.pane.submit("Think quietly for a while.")
        self.pane.wait_working()
        time.sleep(3)
        if working:
            self.capture(working)
        self.mark("Esc during the silent wait")
        self.pane.press("Escape")
        self.pane.wait_turn_over()
        time.sleep(1)
        self.capture("interrupted")
        self.pane.press("C-u")
        time.sleep(0.5)

    def approve(self, question: str, name: str, moment: str, answer: str) -> None:
        """Keep the dialog that asks `question` as `name`, take its first option, and keep the
        idle screen once the turn has said `answer`."""
        self.pane.wait_for_text(question, 20)
        time.sleep(1)
        self.capture(name, colours=True)
        self.mark(moment)
        self.pane.press("Enter")
        self.pane.wait_for_text(answer, 20)
        self.pane.wait_idle(20)
        time.sleep(0.5)
        self.capture("after-approval")

    def refuse(self, question: str, name: str, moment: str) -> None:
        """Keep the dialog that asks `question` as `name`, refuse it with Esc, keep the end."""
        self.pane.wait_for_text(question, 20)
        time.sleep(1)
        self.capture(name)
        self.mark(moment)
        self.pane.press("Escape")
        time.sleep(2)
        self.pane.wait_turn_over(20)
        time.sleep(1)
        self.capture("after-permission-no")

    def leave(self, command: str, settle: float = 0.0) -> None:
        """Empty the prompt, give the CLI's exit command, and keep the last screen."""
        self.mark(command)
        self.pane.press("C-u")
        self.pane.submit(command)
        self.pane.wait_exit()
        time.sleep(settle)
        self.capture("after-exit")


class Placeholders:
    """Replaces machine paths (and the project slug made from them) with fixed names."""

    def __init__(self, root: Path, worktree: Path, home: Path) -> None:
        def slug(path: Path) -> str:
            return re.sub(r"[^A-Za-z0-9]", "-", str(path))

        self.pairs = [
            (str(worktree), "/WORKTREE"),
            (slug(worktree), "-WORKTREE"),
            (str(home), "/HOME"),
            (str(root), "/TMP"),
            (sys.executable, "/PYTHON"),
        ]

    def __call__(self, text: str) -> str:
        for real, placeholder in sorted(self.pairs, key=lambda pair: -len(pair[0])):
            text = text.replace(real, placeholder)
        return text


def short_folder() -> Path:
    """A new folder whose path is as long as `/WORKTREE`, so columns stay aligned.

    Screens are stored with the worktree path replaced by `/WORKTREE`; a real path of the same
    length keeps every right-aligned border and wrapped line exactly where the CLI drew it.
    """
    alphabet = string.ascii_lowercase + string.digits
    for _ in range(1000):
        path = Path("/tmp") / "".join(secrets.choice(alphabet) for _ in range(4))
        try:
            path.mkdir()
        except FileExistsError:
            continue
        return path
    raise RuntimeError("no free /tmp/XXXX folder")


def make_worktree(worktree: Path) -> None:
    identity = ["-c", "user.name=Test", "-c", "user.email=test@example.invalid"]
    subprocess.run(["git", "init", "-q", "-b", "main"], cwd=worktree, check=True)
    (worktree / "README.md").write_text("# demo\n\nA small project.\n")
    subprocess.run(["git", "add", "README.md"], cwd=worktree, check=True)
    subprocess.run(["git", *identity, "commit", "-q", "-m", "initial"], cwd=worktree, check=True)


def wait(condition: Callable[[], object], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.05)
    raise TimeoutError(f"no {what} after {timeout} s")


def hook_command(log: Path, answer: str = "") -> str:
    """A hook's shell command that keeps each payload (its stdin) with the time it came in
    `log`, one JSON line each, and prints `answer`, for a CLI that reads one."""
    script = (
        "import json,sys,time\n"
        "data=sys.stdin.read()\n"
        "with open(sys.argv[1],'a') as f:"
        " f.write(json.dumps({'at':time.time(),'raw':data})+'\\n')\n"
    )
    if answer:
        script += f"print({answer!r})\n"
    return f"{shlex.quote(sys.executable)} -c {shlex.quote(script)} {shlex.quote(str(log))}"


def read_log(log: Path) -> list[dict[str, Any]]:
    """What the logging script kept so far, one entry per call."""
    if not log.exists():
        return []
    return [json.loads(line) for line in log.read_text().splitlines() if line.strip()]


def one_line(payload: object) -> str:
    return json.dumps(payload, ensure_ascii=False, separators=(",", ":"))


def last_said(text: str) -> str:
    """The end of what the user said last, on one line, for a column of requests.tsv."""
    return " ".join(text.split())[-80:]


Hook = tuple[float, dict[str, Any], str]  # when it came, its payload, its line in hooks.jsonl


def write_hooks(
    recorder: Recorder, hooks: Sequence[Hook], details: Sequence[str], started: float
) -> list[tuple[float, str, str]]:
    """hooks.jsonl, and hooks-timeline.tsv: which moment each hook followed, how long after.

    The detail column is the first of the payload's `details` keys that has a value. Returns
    the timeline as (seconds after the moment, moment, event and detail).
    """
    rows, timeline = [HOOK_COLUMNS], []
    for number, (at, payload, _) in enumerate(hooks, start=1):
        moment, since = recorder.moment_at(at, started)
        event = str(payload.get("hook_event_name"))
        detail = str(next((payload[key] for key in details if payload.get(key)), ""))
        rows.append(f"{number}\t{moment}\t{at - since:.2f}\t{event}\t{detail}")
        timeline.append((at - since, moment, f"{event} {detail}".strip()))
    recorder.write_lines("hooks.jsonl", [line for _, _, line in hooks])
    recorder.write_lines("hooks-timeline.tsv", rows)
    return timeline


# --- the command line ------------------------------------------------------------------------

# Records into the recorder, given the program, the worktree (a git repository with a README
# and one commit) and a temporary root.
Record = Callable[[Recorder, Path, Path, Path], None]


def parser(cli: str) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog=f"python -m tests.support.record_{cli}")
    parser.add_argument("--out", type=Path, default=ROOT / "tests" / "data" / cli)
    return parser


def run(cli: NpmCli, out: Path, record: Record) -> int:
    """Record with the CLI the tests install into `out`; 1 when there is no CLI to record."""
    program = cli.program()
    if program is None:
        print(f"cannot record: {cli.why_not()}", file=sys.stderr)
        return 1
    out.mkdir(parents=True, exist_ok=True)
    recorder = Recorder(out)
    print(f"recording {cli.locate().version} from {program} into {out}", flush=True)
    worktree = short_folder()
    try:
        with tempfile.TemporaryDirectory(prefix="corral-record-") as temporary:
            make_worktree(worktree)
            record(recorder, program, worktree, Path(temporary).resolve())
    finally:
        shutil.rmtree(worktree, ignore_errors=True)
    print(f"wrote {', '.join(sorted(set(recorder.files)))}")
    return 0
