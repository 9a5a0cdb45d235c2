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

import json
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from tests.support.cli_pane import CliPane
from tests.support.gemini_cli import GEMINI, LOOKS, gemini_env, prepare_gemini_home
from tests.support.gemini_standin import GeminiStandIn
from tests.support.npm_cli import cache_root
from tests.support.recording import (
    Hook,
    Placeholders,
    Recorder,
    hook_command,
    last_said,
    one_line,
    parser,
    read_log,
    run,
    write_hooks,
)
from tests.support.scripted_api import Call, Tokens, Turn

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
# These carry the whole request or response: the recording keeps their keys, not their text.
WHOLE_EXCHANGE = ("BeforeModel", "AfterModel", "BeforeToolSelection")


def hook_defaults(log: Path) -> dict[str, Any]:
    # Gemini CLI reads a hook's stdout as JSON, so the recorder answers `{}`.
    command = hook_command(log, answer="{}")
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


def trust_session(recorder: Recorder, pane: CliPane) -> None:
    recorder.mark("untrusted folder: launch")
    pane.wait_for_text("Do you trust", 40)
    time.sleep(1)
    recorder.capture("trust-dialog")


def session(recorder: Recorder, api: GeminiStandIn, pane: CliPane) -> None:
    recorder.startup(settle=2)

    api.push(Turn(text="That took a while, but here it is.", delay=8.0, tokens=Tokens(1200, 9)))
    recorder.slow_answer()

    api.push(Turn(text="You will not see this.", delay=20.0))
    recorder.interrupt_silence()

    shell = {"command": "echo corral > marker.txt", "description": "Write a marker file."}
    api.push(Turn(calls=(Call("run_shell_command", shell),)), Turn(text="Wrote the marker file."))
    recorder.mark("prompt: a shell command (default approval mode asks)")
    pane.submit("Write the marker file.")
    pane.wait_for(lambda screen: "Executing Hooks" in screen, 20, "the BeforeTool hook")
    recorder.capture("working-hooks")
    moment = "Enter on the first option (allow once)"
    recorder.approve("Allow execution of", "permission-shell", moment, "Wrote the marker file.")

    shell = {"command": "rm README.md", "description": "Delete the README."}
    api.push(Turn(calls=(Call("run_shell_command", shell),)), Turn(text="Left it alone."))
    recorder.mark("prompt: another shell command, refused with Esc")
    pane.submit("Delete the README.")
    recorder.refuse("Allow execution of", "permission-shell-2", "Esc in the confirmation")

    recorder.leave("/quit", settle=0.5)


def hooks(log: Path, clean: Placeholders) -> list[Hook]:
    kept = []
    for entry in read_log(log):
        payload = json.loads(str(entry["raw"]))
        if payload.get("hook_event_name") in WHOLE_EXCHANGE:
            payload = {
                key: (value if not isinstance(value, dict | list) else f"<{type(value).__name__}>")
                for key, value in payload.items()
            }
        kept.append((entry["at"], payload, clean(one_line(payload))))
    return kept


def write_requests(recorder: Recorder, api: GeminiStandIn, clean: Placeholders) -> None:
    rows = ["kind\tpath\ttools\tlast_user_text"]
    for request in api.requests:
        body = request.body if isinstance(request.body, dict) else {}
        tools = sum(len(t.get("functionDeclarations") or ()) for t in body.get("tools") or ())
        said = clean(last_said(request.last_user_text))
        rows.append(f"{request.kind}\t{request.path}\t{tools}\t{said}")
    recorder.write_lines("requests.tsv", rows)


def record(recorder: Recorder, program: Path, worktree: Path, root: Path) -> None:
    log = root / "hooks.raw.jsonl"
    defaults = defaults_folder() / "system-defaults.json"
    defaults.write_text(json.dumps(hook_defaults(log), indent=2))
    home = root / "home"
    clean = Placeholders(root, worktree, home)
    with GeminiStandIn() as api:
        try:
            untrusted_home = root / "untrusted-home"
            prepare_gemini_home(untrusted_home)
            env = gemini_env(untrusted_home, api.url)
            trust_session(recorder, recorder.start(program, worktree, env, LOOKS, ()))
            recorder.stop()
            prepare_gemini_home(home, [worktree])
            extra = {"GEMINI_CLI_SYSTEM_DEFAULTS_PATH": str(defaults)}
            env = gemini_env(home, api.url, extra)
            session(recorder, api, recorder.start(program, worktree, env, LOOKS, ()))
        finally:
            recorder.stop()
            write_requests(recorder, api, clean)
    recorder.clean_screens(clean)
    time.sleep(0.5)
    details = ("tool_name", "notification_type", "source", "reason")
    write_hooks(recorder, hooks(log, clean), details, 0.0)
    chats = sorted((home / ".gemini" / "tmp").glob("*/chats/session-*"))
    if chats:
        recorder.write("chat" + chats[-1].suffix, clean(chats[-1].read_text()))


def main(argv: Sequence[str] | None = None) -> int:
    return run(GEMINI, parser("gemini").parse_args(argv).out, record)


if __name__ == "__main__":
    sys.exit(main())
