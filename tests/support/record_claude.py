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

import functools
import json
import re
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from tests.support.claude_cli import CLAUDE, LOOKS, claude_env, input_box, prepare_home
from tests.support.cli_pane import CliPane
from tests.support.recording import (
    Hook,
    Placeholders,
    Recorder,
    hook_command,
    one_line,
    parser,
    read_log,
    run,
    wait,
    write_hooks,
)
from tests.support.standin import Failure, Reply, StandIn, ToolUse, Usage

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


def hook_settings(log: Path) -> dict[str, Any]:
    command = hook_command(log)
    hooks: dict[str, Any] = {}
    for event in HOOK_EVENTS:
        entry: dict[str, Any] = {"hooks": [{"type": "command", "command": command, "timeout": 10}]}
        if event in TOOL_EVENTS:
            entry["matcher"] = ".*"
        hooks[event] = [entry]
    return {"hooks": hooks}


def add_hooks(worktree: Path, log: Path) -> None:
    """The observing hooks in the worktree's local settings, which git is told to ignore."""
    (worktree / ".claude").mkdir()
    settings = json.dumps(hook_settings(log), indent=2)
    (worktree / ".claude" / "settings.local.json").write_text(settings)
    with (worktree / ".git" / "info" / "exclude").open("a") as exclude:
        exclude.write(".claude/settings.local.json\n")


def wait_for_hook(log: Path, event: str, after: int, timeout: float = 15.0) -> None:
    """Wait until the hook log holds `event` beyond its first `after` entries."""

    def seen() -> bool:
        return any(
            json.loads(entry["raw"]).get("hook_event_name") == event
            for entry in read_log(log)[after:]
        )

    wait(seen, timeout, f"{event} hook")


def clear_box(pane: CliPane) -> None:
    """Empty the prompt box (an interrupt puts the prompt back) and let the Ctrl-U hint go."""
    pane.press("C-u")
    pane.wait_for(lambda screen: input_box(screen) == "", 5, "an empty prompt box")
    try:
        pane.wait_for(lambda screen: "to paste deleted text" not in screen, 10, "the hint to go")
    except AssertionError:
        print("the `ctrl+y to paste deleted text` hint stayed", flush=True)


def dialog(
    recorder: Recorder, log: Path, prompt: str, asks: str, name: str, colours: bool = False
) -> None:
    """Submit `prompt`, keep the dialog that `asks` as `name`, and leave it open until its
    Notification hook arrives (about 6 s in)."""
    before = len(read_log(log))
    recorder.pane.submit(prompt)
    recorder.pane.wait_for_text(asks, 20)
    time.sleep(0.5)
    recorder.capture(name, colours)
    try:
        wait_for_hook(log, "Notification", before, 15)
    except TimeoutError:
        recorder.mark("no Notification within 15 s")


def main_session(
    recorder: Recorder, api: StandIn, pane: CliPane, worktree: Path, log: Path, idle: bool
) -> None:
    recorder.startup(settle=1.5)  # the logo animates for a moment after the prompt

    api.push(Reply(text="That took a while, but here it is.", delay=8.0))
    recorder.slow_answer()

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
    pane.wait_turn_over()
    recorder.capture("interrupted")
    time.sleep(1)
    clear_box(pane)

    bash = {"command": "echo corral > bash-out.txt", "description": "Write a marker file"}
    api.push(Reply(tools=(ToolUse("Bash", bash),)))
    recorder.mark("prompt: run a Bash command (manual mode asks)")
    dialog(recorder, log, "Run the marker command.", "Do you want to proceed?", "permission-bash")
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
    dialog(recorder, log, "Ask me which test runner to use.", "Which test runner", "question")
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
    pane.wait_turn_over()
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
    asks = "Do you want to make this edit"
    dialog(recorder, log, "Edit the README, please.", asks, "permission-edit", colours=True)
    recorder.mark("Enter on `Yes` in the edit dialog")
    pane.press("Enter")
    pane.wait_for_text("The README is edited.", 20)
    pane.wait_idle()
    time.sleep(1)
    recorder.capture("after-edit")

    if idle:
        recorder.mark("idle, waiting for idle_prompt")
        before = len(read_log(log))
        try:
            wait_for_hook(log, "Notification", before, 75)
        except TimeoutError:
            recorder.mark("no idle Notification within 75 s")

    recorder.mark("/exit")
    pane.submit("/exit")
    pane.wait_exit()
    recorder.capture("after-exit")


def transcript_session(recorder: Recorder, api: StandIn, pane: CliPane, worktree: Path) -> None:
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
    pane.wait_exit()


def hooks(log: Path, clean: Placeholders) -> list[Hook]:
    """Each payload as Claude sent it, on one line."""
    kept = []
    for entry in read_log(log):
        raw = str(entry["raw"]).strip()
        payload = json.loads(raw)
        kept.append((entry["at"], payload, clean(one_line(payload) if "\n" in raw else raw)))
    return kept


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
    recorder.write_lines("requests.tsv", rows)


def record(recorder: Recorder, binary: Path, worktree: Path, root: Path, idle: bool) -> None:
    log = root / "hooks.raw.jsonl"
    add_hooks(worktree, log)
    home = root / "home"
    prepare_home(home, [worktree])
    clean = Placeholders(root, worktree, home)
    started = time.time()
    with StandIn() as api:
        try:
            env = claude_env(home, api.url)
            args = ["--session-id", SESSION, "--permission-mode", "manual"]
            pane = recorder.start(binary, worktree, env, LOOKS, args)
            main_session(recorder, api, pane, worktree, log, idle)
            args = ["--session-id", TRANSCRIPT_SESSION]
            pane = recorder.start(binary, worktree, env, LOOKS, args)
            transcript_session(recorder, api, pane, worktree)
        finally:
            recorder.stop()
            write_requests(recorder, api, clean)
    time.sleep(0.5)
    recorder.clean_screens(clean)
    details = ("tool_name", "notification_type", "source", "reason", "error")
    timeline = write_hooks(recorder, hooks(log, clean), details, started)
    (transcript,) = (home / ".claude" / "projects").glob(f"*/{TRANSCRIPT_SESSION}.jsonl")
    recorder.write("transcript.jsonl", clean(transcript.read_text()))
    print("\nhooks after each moment (seconds after it):")
    current = ""
    for delay, moment, what in timeline:
        if moment != current:
            print(f"  {moment}")
            current = moment
        print(f"    +{delay:6.2f}s  {what}")
    print()


def main(argv: Sequence[str] | None = None) -> int:
    options = parser("claude")
    options.add_argument(
        "--no-idle-wait", action="store_true", help="skip the 60 s wait for idle_prompt"
    )
    args = options.parse_args(argv)
    return run(CLAUDE, args.out, functools.partial(record, idle=not args.no_idle_wait))


if __name__ == "__main__":
    sys.exit(main())
