"""Record real Codex CLI screens and `notify` payloads into tests/data/codex/.

The screen patterns for Codex (sessions/core/screen_rules.py) are tested on these recordings; when a
new CLI version changes a string, run this again and let the tests say what moved:

    .venv/bin/python -m tests.support.record_codex [--out tests/data/codex]

It drives the real CLI (installed as the tests install it) in a 160x45 tmux pane against the
Responses API stand-in, with `notify` pointing at a program that keeps its argument, through
these moments: startup, a slow answer, an Esc interrupt, an approval for a command that asks
to leave the sandbox (approved once, refused once) and `/exit`. Paths are replaced by
`/WORKTREE`, `/HOME` and `/TMP`.
"""

from __future__ import annotations

import json
import shlex
import sys
from collections.abc import Sequence
from pathlib import Path

from tests.support.cli_pane import CliPane
from tests.support.codex_cli import CODEX, LOOKS, codex_env, prepare_codex_home
from tests.support.recording import (
    Placeholders,
    Recorder,
    last_said,
    one_line,
    parser,
    read_log,
    run,
    wait,
)
from tests.support.responses_standin import ResponsesStandIn
from tests.support.scripted_api import Call, Tokens, Turn

NOTIFY_SCRIPT = (
    "import json,sys,time\n"
    "entry={'at':time.time(),'argv':sys.argv[2:]}\n"
    "with open(sys.argv[1],'a') as f: f.write(json.dumps(entry)+'\\n')\n"
)


def notify_override(log: Path) -> str:
    """`notify=[...]` for `-c`: the value is TOML, and JSON strings are TOML strings here."""
    words = [sys.executable, "-c", NOTIFY_SCRIPT, str(log)]
    return "notify=[" + ", ".join(json.dumps(word) for word in words) + "]"


def escalated(command: str, question: str) -> Call:
    """A command that asks to run outside the sandbox: the approval dialog, in any mode."""
    arguments = {
        "cmd": command,
        "sandbox_permissions": "require_escalated",
        "justification": question,
    }
    return Call("exec_command", arguments)


def session(recorder: Recorder, api: ResponsesStandIn, pane: CliPane, log: Path) -> None:
    recorder.startup(settle=1.5)

    api.push(Turn(text="That took a while, but here it is.", delay=8.0, tokens=Tokens(1200, 9)))
    recorder.slow_answer()
    wait(lambda: read_log(log), 10, "a notify call")

    api.push(Turn(text="You will not see this.", delay=20.0))
    recorder.interrupt_silence(working="working-silent")

    question = "Do you want to write a marker file?"
    api.push(
        Turn(calls=(escalated("echo corral > marker.txt", question),)),
        Turn(text="Wrote the marker file."),
    )
    recorder.mark("prompt: a command that asks to leave the sandbox")
    pane.submit("Write the marker file.")
    moment = "Enter on the first option (approve)"
    recorder.approve(question, "permission-exec", moment, "Wrote the marker file.")

    question = "Do you want to delete the README?"
    api.push(Turn(calls=(escalated("rm README.md", question),)), Turn(text="Left it alone."))
    recorder.mark("prompt: another escalation, refused with Esc")
    pane.submit("Delete the README.")
    recorder.refuse(question, "permission-exec-2", "Esc in the approval")

    recorder.leave("/exit")


def write_requests(recorder: Recorder, api: ResponsesStandIn, clean: Placeholders) -> None:
    rows = ["kind\tpath\tmodel\ttools\tlast_user_text"]
    for request in api.requests:
        body = request.body if isinstance(request.body, dict) else {}
        tools = body.get("tools") if isinstance(body.get("tools"), list) else []
        said = clean(last_said(request.last_user_text))
        rows.append(
            f"{request.kind}\t{request.path}\t{body.get('model')}\t{len(tools or [])}\t{said}"
        )
    recorder.write_lines("requests.tsv", rows)


def write_notify(recorder: Recorder, log: Path, clean: Placeholders) -> None:
    lines, rows = [], ["line\tmoment\tseconds_after_moment\ttype"]
    for number, entry in enumerate(read_log(log), start=1):
        raw = entry["argv"][-1] if entry["argv"] else "{}"
        payload = json.loads(raw)
        lines.append(clean(one_line(payload)))
        moment, at = recorder.moment_at(entry["at"], 0.0)
        rows.append(f"{number}\t{moment}\t{entry['at'] - at:.2f}\t{payload.get('type')}")
    recorder.write_lines("notify.jsonl", lines)
    recorder.write_lines("notify-timeline.tsv", rows)


def record(recorder: Recorder, binary: Path, worktree: Path, root: Path) -> None:
    home = root / "home"
    codex_home = home / ".codex"
    log = root / "notify.raw.jsonl"
    clean = Placeholders(root, worktree, home)
    # Codex's exit warning names CODEX_HOME in a line wrapped right after its first slash.
    clean.pairs.append((str(root)[1:], "TMP"))
    with ResponsesStandIn() as api:
        prepare_codex_home(codex_home, api.url, [worktree])
        env = codex_env(home, codex_home)
        try:
            pane = recorder.start(binary, worktree, env, LOOKS, ["-c", notify_override(log)])
            session(recorder, api, pane, log)
        finally:
            recorder.stop()
            write_requests(recorder, api, clean)
    recorder.clean_screens(clean)
    write_notify(recorder, log, clean)
    rollouts = sorted((codex_home / "sessions").glob("*/*/*/rollout-*.jsonl"))
    if rollouts:
        recorder.write("rollout.jsonl", clean(rollouts[-1].read_text()))
    print("command:", shlex.join([str(binary), "-c", "notify=[...]"]))


def main(argv: Sequence[str] | None = None) -> int:
    return run(CODEX, parser("codex").parse_args(argv).out, record)


if __name__ == "__main__":
    sys.exit(main())
