"""Record real Gemini CLI screens and hook payloads into tests/data/gemini/.

The screen patterns for Gemini (sessions/agents/screens/gemini.toml) are tested on these
recordings; when a new CLI version changes a string, run this again and let the tests say what
moved:

    .venv/bin/python -m tests.support.record_gemini [--out tests/data/gemini]

It drives the real CLI (installed as the tests install it) in a 160x45 tmux pane against the
Gemini API stand-in. Hooks for every event go in through the system-defaults layer
(`GEMINI_CLI_SYSTEM_DEFAULTS_PATH`, which the recording controls; corral itself installs into
the worktree's `.gemini/settings.json`), and keep each payload.
Moments: the folder-trust question in an untrusted folder (a session of its own), then in a
trusted one startup, a slow answer, an Esc interrupt, a shell command that needs confirmation
(allowed once, refused once) and `/quit`. Paths are replaced by `/WORKTREE`, `/HOME`, `/TMP`.
"""

from __future__ import annotations

import argparse
import json
import shlex
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from tests.support.claude_cli import ClaudePane, start_claude
from tests.support.gemini_cli import (
    gemini_binary,
    gemini_env,
    locate_gemini,
    prepare_gemini_home,
    why_no_gemini,
)
from tests.support.gemini_standin import GeminiStandIn
from tests.support.npm_cli import cache_root
from tests.support.record_claude import Placeholders, Recorder, short_folder
from tests.support.scripted_api import Call, Tokens, Turn

ROOT = Path(__file__).resolve().parents[2]
HOOK_EVENTS = (
    "SessionStart",
    "SessionEnd",
    "BeforeAgent",
    "AfterAgent",
    "BeforeModel",
    "AfterModel",
    "BeforeToolSelection",
    "BeforeTool",
    "AfterTool",
    "PreCompress",
    "Notification",
)
# Gemini CLI reads a hook's stdout as JSON, so the recorder answers `{}`.
HOOK_SCRIPT = (
    "import json,sys,time\n"
    "data=sys.stdin.read()\n"
    "with open(sys.argv[1],'a') as f: f.write(json.dumps({'at':time.time(),'raw':data})+'\\n')\n"
    "print('{}')\n"
)


def hook_defaults(log: Path) -> dict[str, Any]:
    command = f"{shlex.quote(sys.executable)} -c {shlex.quote(HOOK_SCRIPT)} {shlex.quote(str(log))}"
    entry = {"name": "recorder", "type": "command", "command": command, "timeout": 10_000}
    hooks = {event: [{"hooks": [entry]}] for event in HOOK_EVENTS}
    return {"hooksConfig": {"enabled": True}, "hooks": hooks}


def defaults_folder() -> Path:
    """A folder Gemini CLI accepts a system-defaults file from.

    It skips the file (with a "Security Warning" on screen) unless the file and every folder
    above it are owned by root and writable by nobody else, so `/tmp` will not do; as root,
    a private folder in the test cache does.
    """
    folder = cache_root() / "gemini-defaults"
    folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    return folder


def make_worktree(worktree: Path) -> None:
    identity = ["-c", "user.name=Test", "-c", "user.email=test@example.invalid"]
    subprocess.run(["git", "init", "-q", "-b", "main"], cwd=worktree, check=True)
    (worktree / "README.md").write_text("# demo\n\nA small project.\n")
    subprocess.run(["git", "add", "README.md"], cwd=worktree, check=True)
    subprocess.run(["git", *identity, "commit", "-q", "-m", "initial"], cwd=worktree, check=True)


def hooks_seen(log: Path) -> list[dict[str, Any]]:
    if not log.exists():
        return []
    return [json.loads(line) for line in log.read_text().splitlines() if line.strip()]


def is_working(screen: str) -> bool:
    return "esc to cancel" in screen


def is_idle(screen: str) -> bool:
    return "Type your message" in screen and not is_working(screen)


def trust_session(recorder: Recorder, pane: ClaudePane) -> None:
    recorder.pane = pane
    recorder.mark("untrusted folder: launch")
    pane.wait_for_text("Do you trust", 40)
    time.sleep(1)
    recorder.capture("trust-dialog")


def session(recorder: Recorder, api: GeminiStandIn, pane: ClaudePane) -> None:
    recorder.pane = pane
    recorder.mark("launch")
    pane.wait_for(is_idle, 40, "the prompt")
    time.sleep(2)
    recorder.capture("startup-idle", colours=True)

    api.push(Turn(text="That took a while, but here it is.", delay=8.0, tokens=Tokens(1200, 9)))
    recorder.mark("prompt: slow answer (8 s delay)")
    pane.submit("Answer slowly, please.")
    pane.wait_for(is_working, 20, "a running turn")
    time.sleep(2.5)
    recorder.capture("working-slow", colours=True)
    pane.wait_for_text("here it is.", 20)
    pane.wait_for(is_idle, 20, "the prompt")
    time.sleep(0.5)
    recorder.capture("idle-after-turn")

    api.push(Turn(text="You will not see this.", delay=20.0))
    recorder.mark("prompt: silent 20 s wait")
    pane.submit("Think quietly for a while.")
    pane.wait_for(is_working, 20, "a running turn")
    time.sleep(3)
    recorder.mark("Esc during the silent wait")
    pane.press("Escape")
    pane.wait_for(lambda screen: not is_working(screen), 10, "the end of the turn")
    time.sleep(1)
    recorder.capture("interrupted")
    pane.press("C-u")
    time.sleep(0.5)

    shell = {"command": "echo corral > marker.txt", "description": "Write a marker file."}
    api.push(Turn(calls=(Call("run_shell_command", shell),)), Turn(text="Wrote the marker file."))
    recorder.mark("prompt: a shell command (default approval mode asks)")
    pane.submit("Write the marker file.")
    pane.wait_for(lambda screen: "Executing Hooks" in screen, 20, "the BeforeTool hook")
    recorder.capture("working-hooks")
    pane.wait_for_text("Allow execution of", 20)
    time.sleep(1)
    recorder.capture("permission-shell", colours=True)
    recorder.mark("Enter on the first option (allow once)")
    pane.press("Enter")
    pane.wait_for_text("Wrote the marker file.", 20)
    pane.wait_for(is_idle, 20, "the prompt")
    time.sleep(0.5)
    recorder.capture("after-approval")

    shell = {"command": "rm README.md", "description": "Delete the README."}
    api.push(Turn(calls=(Call("run_shell_command", shell),)), Turn(text="Left it alone."))
    recorder.mark("prompt: another shell command, refused with Esc")
    pane.submit("Delete the README.")
    pane.wait_for_text("Allow execution of", 20)
    time.sleep(1)
    recorder.capture("permission-shell-2")
    recorder.mark("Esc in the confirmation")
    pane.press("Escape")
    time.sleep(2)
    pane.wait_for(lambda screen: not is_working(screen), 20, "the end of the turn")
    time.sleep(1)
    recorder.capture("after-permission-no")

    recorder.mark("/quit")
    pane.press("C-u")
    pane.submit("/quit")
    pane.wait_for(lambda screen: pane.exit_code() is not None, 20, "the CLI to exit")
    time.sleep(0.5)
    recorder.capture("after-exit")


def write_hooks(recorder: Recorder, log: Path, clean: Placeholders) -> None:
    lines: list[str] = []
    rows = ["line\tmoment\tseconds_after_moment\thook_event_name\tdetail"]
    for number, entry in enumerate(hooks_seen(log), start=1):
        payload = json.loads(str(entry["raw"]))
        if payload.get("hook_event_name") in ("BeforeModel", "AfterModel", "BeforeToolSelection"):
            # These carry the whole request or response: keep their keys, not their text.
            payload = {
                key: (value if not isinstance(value, dict | list) else f"<{type(value).__name__}>")
                for key, value in payload.items()
            }
        lines.append(clean(json.dumps(payload, ensure_ascii=False, separators=(",", ":"))))
        moment, at = "before launch", 0.0
        for name, when in recorder.moments:
            if when <= entry["at"]:
                moment, at = name, when
        detail = str(
            payload.get("tool_name")
            or payload.get("notification_type")
            or payload.get("source")
            or payload.get("reason")
            or ""
        )
        event = payload.get("hook_event_name")
        rows.append(f"{number}\t{moment}\t{entry['at'] - at:.2f}\t{event}\t{detail}")
    recorder._write("hooks.jsonl", "\n".join(lines) + "\n")
    recorder._write("hooks-timeline.tsv", "\n".join(rows) + "\n")


def write_requests(recorder: Recorder, api: GeminiStandIn, clean: Placeholders) -> None:
    rows = ["kind\tpath\ttools\tlast_user_text"]
    for request in api.requests:
        body = request.body if isinstance(request.body, dict) else {}
        tools = sum(len(t.get("functionDeclarations") or ()) for t in body.get("tools") or ())
        said = " ".join(request.last_user_text.split())[-80:]
        rows.append(f"{request.kind}\t{request.path}\t{tools}\t{clean(said)}")
    recorder._write("requests.tsv", "\n".join(rows) + "\n")


def record(recorder: Recorder, program: Path, worktree: Path, root: Path) -> None:
    make_worktree(worktree)
    log = root / "hooks.raw.jsonl"
    defaults = defaults_folder() / "system-defaults.json"
    defaults.write_text(json.dumps(hook_defaults(log), indent=2))
    clean = Placeholders(root, worktree, root / "home")
    panes: list[ClaudePane] = []
    with GeminiStandIn() as api:
        try:
            untrusted_home = root / "untrusted-home"
            prepare_gemini_home(untrusted_home)
            pane = start_claude(program, worktree, gemini_env(untrusted_home, api.url))
            panes.append(pane)
            trust_session(recorder, pane)
            pane.kill_server()
            home = root / "home"
            prepare_gemini_home(home, [worktree])
            extra = {"GEMINI_CLI_SYSTEM_DEFAULTS_PATH": str(defaults)}
            pane = start_claude(program, worktree, gemini_env(home, api.url, extra))
            panes.append(pane)
            session(recorder, api, pane)
        finally:
            for pane in panes:
                pane.kill_server()
            write_requests(recorder, api, clean)
    for name in recorder.files:
        if name.endswith((".txt", ".ansi")):
            path = recorder.out / name
            path.write_text(clean(path.read_text()))
    time.sleep(0.5)
    write_hooks(recorder, log, clean)
    chats = sorted((root / "home" / ".gemini" / "tmp").glob("*/chats/session-*"))
    if chats:
        recorder._write("chat" + chats[-1].suffix, clean(chats[-1].read_text()))


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.support.record_gemini")
    parser.add_argument("--out", type=Path, default=ROOT / "tests" / "data" / "gemini")
    args = parser.parse_args(argv)
    program = gemini_binary()
    if program is None:
        print(f"cannot record: {why_no_gemini()}", file=sys.stderr)
        return 1
    out: Path = args.out
    out.mkdir(parents=True, exist_ok=True)
    recorder = Recorder(out)
    print(f"recording {locate_gemini().version} from {program} into {out}", flush=True)
    worktree = short_folder()
    try:
        with tempfile.TemporaryDirectory(prefix="corral-record-") as temporary:
            record(recorder, program, worktree, Path(temporary).resolve())
    finally:
        shutil.rmtree(worktree, ignore_errors=True)
    print(f"wrote {', '.join(sorted(set(recorder.files)))}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
