"""Record real Claude Code screens, hook payloads and a transcript into tests/data/claude/.

Unit tests of screen patterns, hook parsing and transcript reading run on these recordings;
when a new CLI version changes a string, run this again and let the tests say what moved:

    .venv/bin/python -m tests.support.record_claude [--out tests/data/claude] [--no-idle-wait]

It drives the real CLI (installed as the tests install it) in a 160x45 tmux pane against the
stand-in, with an observing hook for every event, through these moments: startup, a slow
answer, a silent 20 s wait, an Esc interrupt, a finished turn, permission dialogs for an edit
and a Bash command, a question, an API error and `/exit`; then a second session for the
transcript. Paths are replaced by `/WORKTREE`, `/HOME` and `/TMP`, so the files do not
depend on the machine. It prints a timeline of which hooks fired after which action.
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
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tests.support.claude_cli import (
    ClaudePane,
    claude_binary,
    claude_env,
    input_box,
    is_working,
    locate_claude,
    prepare_home,
    start_claude,
    why_no_claude,
)
from tests.support.standin import Failure, Reply, StandIn, ToolUse, Usage

ROOT = Path(__file__).resolve().parents[2]
SESSION = "5f0c3a9e-7b1d-4c2e-9a8f-3d6e1b2c4a01"
TRANSCRIPT_SESSION = "5f0c3a9e-7b1d-4c2e-9a8f-3d6e1b2c4a02"

# Events from FORMATS.md plus the observing ones this version knows; WorktreeCreate and
# WorktreeRemove are left out because a hook there replaces git's own work.
HOOK_EVENTS = (
    "SessionStart",
    "UserPromptSubmit",
    "UserPromptExpansion",
    "PreToolUse",
    "PermissionRequest",
    "PermissionDenied",
    "PostToolUse",
    "PostToolUseFailure",
    "PostToolBatch",
    "Notification",
    "MessageDisplay",
    "Stop",
    "StopFailure",
    "SubagentStart",
    "SubagentStop",
    "PreCompact",
    "PostCompact",
    "SessionEnd",
)
TOOL_EVENTS = {
    "PreToolUse",
    "PermissionRequest",
    "PermissionDenied",
    "PostToolUse",
    "PostToolUseFailure",
}
HOOK_SCRIPT = (
    "import json,sys,time\n"
    "data=sys.stdin.read()\n"
    "with open(sys.argv[1],'a') as f: f.write(json.dumps({'at':time.time(),'raw':data})+'\\n')\n"
)


@dataclass
class Recorder:
    """Keeps the moments (what was done, when) and writes the captures as it goes."""

    out: Path
    pane: ClaudePane | None = None
    moments: list[tuple[str, float]] = field(default_factory=list)
    files: list[str] = field(default_factory=list)

    def mark(self, moment: str) -> None:
        self.moments.append((moment, time.time()))
        print(f"{time.strftime('%H:%M:%S')} {moment}", flush=True)

    def capture(self, name: str, colours: bool = False) -> str:
        assert self.pane is not None
        screen = self.pane.capture()
        self._write(f"{name}.txt", screen)
        if colours:
            self._write(f"{name}.ansi", self.pane.capture(colours=True))
        return screen

    def _write(self, name: str, text: str) -> None:
        (self.out / name).write_text(text)
        self.files.append(name)


def hook_settings(log: Path) -> dict[str, Any]:
    command = f"{shlex.quote(sys.executable)} -c {shlex.quote(HOOK_SCRIPT)} {shlex.quote(str(log))}"
    hooks: dict[str, Any] = {}
    for event in HOOK_EVENTS:
        entry: dict[str, Any] = {"hooks": [{"type": "command", "command": command, "timeout": 10}]}
        if event in TOOL_EVENTS:
            entry["matcher"] = ".*"
        hooks[event] = [entry]
    return {"hooks": hooks}


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


def make_worktree(worktree: Path, log: Path) -> None:
    identity = ["-c", "user.name=Test", "-c", "user.email=test@example.invalid"]
    subprocess.run(["git", "init", "-q", "-b", "main"], cwd=worktree, check=True)
    (worktree / "README.md").write_text("# demo\n\nA small project.\n")
    subprocess.run(["git", "add", "README.md"], cwd=worktree, check=True)
    subprocess.run(["git", *identity, "commit", "-q", "-m", "initial"], cwd=worktree, check=True)
    (worktree / ".claude").mkdir()
    settings = json.dumps(hook_settings(log), indent=2)
    (worktree / ".claude" / "settings.local.json").write_text(settings)
    with (worktree / ".git" / "info" / "exclude").open("a") as exclude:
        exclude.write(".claude/settings.local.json\n")


def wait(condition: Callable[[], object], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.05)
    raise TimeoutError(f"no {what} after {timeout} s")


def hooks_seen(log: Path) -> list[dict[str, Any]]:
    if not log.exists():
        return []
    return [json.loads(line) for line in log.read_text().splitlines() if line.strip()]


def wait_for_hook(log: Path, event: str, after: int, timeout: float = 15.0) -> None:
    """Wait until the hook log holds `event` beyond its first `after` entries."""

    def seen() -> bool:
        return any(
            json.loads(entry["raw"]).get("hook_event_name") == event
            for entry in hooks_seen(log)[after:]
        )

    wait(seen, timeout, f"{event} hook")


def clear_box(pane: ClaudePane) -> None:
    """Empty the prompt box (an interrupt puts the prompt back) and let the Ctrl-U hint go."""
    pane.press("C-u")
    pane.wait_for(lambda screen: input_box(screen) == "", 5, "an empty prompt box")
    try:
        pane.wait_for(lambda screen: "to paste deleted text" not in screen, 10, "the hint to go")
    except AssertionError:
        print("the `ctrl+y to paste deleted text` hint stayed", flush=True)


def hold_for_notification(recorder: Recorder, log: Path, before: int) -> None:
    """Leave a dialog open until its Notification hook arrives (about 6 s in)."""
    try:
        wait_for_hook(log, "Notification", before, 15)
    except TimeoutError:
        recorder.mark("no Notification within 15 s")


def main_session(
    recorder: Recorder, api: StandIn, pane: ClaudePane, worktree: Path, log: Path, idle: bool
) -> None:
    recorder.pane = pane
    recorder.mark("launch")
    pane.wait_idle(40)
    time.sleep(1.5)  # the logo animates for a moment after the prompt appears
    recorder.capture("startup-idle", colours=True)

    api.push(Reply(text="That took a while, but here it is.", delay=8.0))
    recorder.mark("prompt: slow answer (8 s delay)")
    pane.submit("Answer slowly, please.")
    pane.wait_working()
    time.sleep(2.5)
    recorder.capture("working-slow", colours=True)
    pane.wait_for_text("here it is.", 20)
    pane.wait_idle()
    time.sleep(0.5)
    recorder.capture("idle-after-turn")

    api.push(Reply(text="You will not see this.", delay=20.0))
    recorder.mark("prompt: silent 20 s wait")
    pane.submit("Think quietly for a while.")
    pane.wait_working()
    started = time.monotonic()
    pane.wait_for(lambda screen: "(16s" in screen or "16s ·" in screen, 25, "the 16 s mark")
    time.sleep(max(0.0, 16.5 - (time.monotonic() - started)))
    recorder.capture("working-silent-16s")
    recorder.mark("Esc during the silent wait")
    pane.press("Escape")
    pane.wait_for(lambda screen: not is_working(screen), 10, "the end of the turn")
    recorder.capture("interrupted")
    time.sleep(1)
    clear_box(pane)

    bash = {"command": "echo corral > bash-out.txt", "description": "Write a marker file"}
    api.push(Reply(tools=(ToolUse("Bash", bash),)))
    recorder.mark("prompt: run a Bash command (manual mode asks)")
    before = len(hooks_seen(log))
    pane.submit("Run the marker command.")
    pane.wait_for_text("Do you want to proceed?", 20)
    time.sleep(0.5)
    recorder.capture("permission-bash")
    hold_for_notification(recorder, log, before)
    recorder.mark("Esc in the Bash dialog (No)")
    pane.press("Escape")
    pane.wait_idle()
    time.sleep(1)
    recorder.capture("after-permission-no")

    question = {
        "questions": [
            {
                "question": "Which test runner should the project use?",
                "header": "Runner",
                "options": [
                    {"label": "pytest", "description": "Plain asserts and fixtures."},
                    {"label": "unittest", "description": "Only the standard library."},
                ],
                "multiSelect": False,
            }
        ]
    }
    api.push(
        Reply(tools=(ToolUse("AskUserQuestion", question),)),
        Reply(text="pytest it is."),
    )
    recorder.mark("prompt: ask a question (AskUserQuestion)")
    before = len(hooks_seen(log))
    pane.submit("Ask me which test runner to use.")
    pane.wait_for_text("Which test runner", 20)
    time.sleep(0.5)
    recorder.capture("question")
    hold_for_notification(recorder, log, before)
    recorder.mark("Enter on the first option")
    pane.press("Enter")
    pane.wait_for_text("pytest it is.", 20)
    pane.wait_idle()

    limit = "Number of request tokens has exceeded your per-minute rate limit"
    api.push(Failure(429, "rate_limit_error", limit, retry_after=30))
    recorder.mark("prompt: 429 with retry-after 30")
    pane.submit("This one is rate limited.")
    pane.wait_for_text("retrying in", 20)
    time.sleep(2.5)
    recorder.capture("rate-limited")
    recorder.mark("Esc while it waits to retry")
    pane.press("Escape")
    pane.wait_for(lambda screen: not is_working(screen), 10, "the end of the turn")
    time.sleep(1)
    clear_box(pane)

    # Claude Code retries a 400 several times within a second before it gives up.
    api.push(Failure(400, "invalid_request_error", "Stand-in refuses this request.", repeat=20))
    recorder.mark("prompt: API error 400")
    pane.submit("This one fails.")
    pane.wait_for_text("API Error: 400", 30)
    pane.wait_idle()
    api.clear()
    time.sleep(0.5)
    recorder.capture("api-error")

    readme = str(worktree / "README.md")
    edit = {
        "file_path": readme,
        "old_string": "A small project.",
        "new_string": "A small project, now edited.",
    }
    api.push(
        Reply(text="Let me read it first.", tools=(ToolUse("Read", {"file_path": readme}),)),
        Reply(tools=(ToolUse("Edit", edit),)),
        Reply(text="The README is edited."),
    )
    recorder.mark("prompt: edit README.md (manual mode asks)")
    before = len(hooks_seen(log))
    pane.submit("Edit the README, please.")
    pane.wait_for_text("Do you want to make this edit", 20)
    time.sleep(0.5)
    recorder.capture("permission-edit", colours=True)
    hold_for_notification(recorder, log, before)
    recorder.mark("Enter on `Yes` in the edit dialog")
    pane.press("Enter")
    pane.wait_for_text("The README is edited.", 20)
    pane.wait_idle()
    time.sleep(1)
    recorder.capture("after-edit")

    if idle:
        recorder.mark("idle, waiting for idle_prompt")
        before = len(hooks_seen(log))
        try:
            wait_for_hook(log, "Notification", before, 75)
        except TimeoutError:
            recorder.mark("no idle Notification within 75 s")

    recorder.mark("/exit")
    pane.submit("/exit")
    pane.wait_for(lambda screen: pane.exit_code() is not None, 20, "the CLI to exit")
    recorder.capture("after-exit")


def transcript_session(recorder: Recorder, api: StandIn, pane: ClaudePane, worktree: Path) -> None:
    recorder.pane = pane
    target = str(worktree / "notes.md")
    api.push(
        Reply(
            text="I'll write the notes file.",
            tools=(ToolUse("Write", {"file_path": target, "content": "# Notes\n\n- first\n"}),),
            usage=Usage(2210, 48, cache_creation_input_tokens=1830, cache_read_input_tokens=0),
        ),
        Reply(
            text="Wrote notes.md with one item.",
            usage=Usage(64, 12, cache_creation_input_tokens=120, cache_read_input_tokens=2210),
        ),
    )
    recorder.mark("transcript session: launch")
    pane.wait_idle(40)
    recorder.mark("transcript session: prompt (write notes.md)")
    pane.submit("Write notes.md with one item.")
    pane.wait_for_text("Wrote notes.md with one item.", 30)
    pane.wait_idle()
    recorder.mark("transcript session: /exit")
    pane.submit("/exit")
    pane.wait_for(lambda screen: pane.exit_code() is not None, 20, "the CLI to exit")


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


def write_hooks(
    recorder: Recorder, log: Path, clean: Placeholders, started: float
) -> list[tuple[float, str, str]]:
    lines: list[str] = []
    timeline: list[tuple[float, str, str]] = []
    rows = ["line\tmoment\tseconds_after_moment\thook_event_name\tdetail"]
    for number, entry in enumerate(hooks_seen(log), start=1):
        raw = str(entry["raw"]).strip()
        payload = json.loads(raw)
        if "\n" in raw:
            raw = json.dumps(payload, ensure_ascii=False, separators=(",", ":"))
        lines.append(clean(raw))
        moment, at = "before launch", started
        for name, when in recorder.moments:
            if when <= entry["at"]:
                moment, at = name, when
        event = str(payload.get("hook_event_name"))
        detail = str(
            payload.get("tool_name")
            or payload.get("notification_type")
            or payload.get("source")
            or payload.get("reason")
            or payload.get("error")
            or ""
        )
        rows.append(f"{number}\t{moment}\t{entry['at'] - at:.2f}\t{event}\t{detail}")
        timeline.append((entry["at"] - at, moment, f"{event} {detail}".strip()))
    recorder._write("hooks.jsonl", "\n".join(lines) + "\n")
    recorder._write("hooks-timeline.tsv", "\n".join(rows) + "\n")
    return timeline


def write_requests(recorder: Recorder, api: StandIn, clean: Placeholders) -> None:
    """What the CLI asked of the API, in short: the evidence for the side-request rules."""
    rows = ["kind\tmodel\tmax_tokens\ttools\tstream\tlast_user_text"]
    for request in api.requests:
        body = request.body if isinstance(request.body, dict) else {}
        said = re.sub(r"\s+", " ", request.last_user_text)[-80:]
        rows.append(
            f"{request.kind}\t{body.get('model')}\t{body.get('max_tokens')}\t"
            f"{len(request.tool_names)}\t{body.get('stream')}\t{clean(said)}"
        )
    recorder._write("requests.tsv", "\n".join(rows) + "\n")


def record(
    recorder: Recorder, binary: Path, worktree: Path, root: Path, args: argparse.Namespace
) -> list[tuple[float, str, str]]:
    log = root / "hooks.raw.jsonl"
    make_worktree(worktree, log)
    home = root / "home"
    prepare_home(home, [worktree])
    clean = Placeholders(root, worktree, home)
    started = time.time()
    panes: list[ClaudePane] = []
    with StandIn() as api:
        try:
            env = claude_env(home, api.url)
            args_main = ["--session-id", SESSION, "--permission-mode", "manual"]
            pane = start_claude(binary, worktree, env, args_main)
            panes.append(pane)
            main_session(recorder, api, pane, worktree, log, idle=not args.no_idle_wait)
            pane = start_claude(binary, worktree, env, ["--session-id", TRANSCRIPT_SESSION])
            panes.append(pane)
            transcript_session(recorder, api, pane, worktree)
        finally:
            for pane in panes:
                pane.kill_server()
            write_requests(recorder, api, clean)
    time.sleep(0.5)
    for name in recorder.files:
        if name.endswith((".txt", ".ansi")):
            path = recorder.out / name
            path.write_text(clean(path.read_text()))
    timeline = write_hooks(recorder, log, clean, started)
    (transcript,) = (home / ".claude" / "projects").glob(f"*/{TRANSCRIPT_SESSION}.jsonl")
    recorder._write("transcript.jsonl", clean(transcript.read_text()))
    return timeline


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.support.record_claude")
    parser.add_argument("--out", type=Path, default=ROOT / "tests" / "data" / "claude")
    parser.add_argument(
        "--no-idle-wait", action="store_true", help="skip the 60 s wait for idle_prompt"
    )
    args = parser.parse_args(argv)
    binary = claude_binary()
    if binary is None:
        print(f"cannot record: {why_no_claude()}", file=sys.stderr)
        return 1
    version = locate_claude().version
    out: Path = args.out
    out.mkdir(parents=True, exist_ok=True)
    recorder = Recorder(out)
    print(f"recording {version} from {binary} into {out}", flush=True)
    worktree = short_folder()
    try:
        with tempfile.TemporaryDirectory(prefix="corral-record-") as temporary:
            timeline = record(recorder, binary, worktree, Path(temporary).resolve(), args)
    finally:
        shutil.rmtree(worktree, ignore_errors=True)
    print("\nhooks after each moment (seconds after it):")
    current = ""
    for delay, moment, what in timeline:
        if moment != current:
            print(f"  {moment}")
            current = moment
        print(f"    +{delay:6.2f}s  {what}")
    print(f"\nwrote {', '.join(sorted(set(recorder.files)))}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
