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
from tests.support.codex_cli import (
    codex_binary,
    codex_env,
    is_idle,
    is_working,
    locate_codex,
    prepare_codex_home,
    why_no_codex,
)
from tests.support.record_claude import Placeholders, Recorder, short_folder, wait
from tests.support.responses_standin import ResponsesStandIn
from tests.support.scripted_api import Call, Tokens, Turn

ROOT = Path(__file__).resolve().parents[2]
NOTIFY_SCRIPT = (
    "import json,sys,time\n"
    "entry={'at':time.time(),'argv':sys.argv[2:]}\n"
    "with open(sys.argv[1],'a') as f: f.write(json.dumps(entry)+'\\n')\n"
)


def notify_override(log: Path) -> str:
    """`notify=[...]` for `-c`: the value is TOML, and JSON strings are TOML strings here."""
    words = [sys.executable, "-c", NOTIFY_SCRIPT, str(log)]
    return "notify=[" + ", ".join(json.dumps(word) for word in words) + "]"


def make_worktree(worktree: Path) -> None:
    identity = ["-c", "user.name=Test", "-c", "user.email=test@example.invalid"]
    subprocess.run(["git", "init", "-q", "-b", "main"], cwd=worktree, check=True)
    (worktree / "README.md").write_text("# demo\n\nA small project.\n")
    subprocess.run(["git", "add", "README.md"], cwd=worktree, check=True)
    subprocess.run(["git", *identity, "commit", "-q", "-m", "initial"], cwd=worktree, check=True)


def notifications(log: Path) -> list[dict[str, Any]]:
    if not log.exists():
        return []
    return [json.loads(line) for line in log.read_text().splitlines() if line.strip()]


def escalated(command: str, question: str) -> Call:
    """A command that asks to run outside the sandbox: the approval dialog, in any mode."""
    arguments = {
        "cmd": command,
        "sandbox_permissions": "require_escalated",
        "justification": question,
    }
    return Call("exec_command", arguments)


def session(recorder: Recorder, api: ResponsesStandIn, pane: ClaudePane, log: Path) -> None:
    recorder.pane = pane
    recorder.mark("launch")
    pane.wait_for(is_idle, 40, "the prompt")
    time.sleep(1.5)
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
    wait(lambda: notifications(log), 10, "a notify call")

    api.push(Turn(text="You will not see this.", delay=20.0))
    recorder.mark("prompt: silent 20 s wait")
    pane.submit("Think quietly for a while.")
    pane.wait_for(is_working, 20, "a running turn")
    time.sleep(3)
    recorder.capture("working-silent")
    recorder.mark("Esc during the silent wait")
    pane.press("Escape")
    pane.wait_for(lambda screen: not is_working(screen), 10, "the end of the turn")
    time.sleep(1)
    recorder.capture("interrupted")
    pane.press("C-u")
    time.sleep(0.5)

    question = "Do you want to write a marker file?"
    api.push(
        Turn(calls=(escalated("echo corral > marker.txt", question),)),
        Turn(text="Wrote the marker file."),
    )
    recorder.mark("prompt: a command that asks to leave the sandbox")
    pane.submit("Write the marker file.")
    pane.wait_for_text(question, 20)
    time.sleep(1)
    recorder.capture("permission-exec", colours=True)
    recorder.mark("Enter on the first option (approve)")
    pane.press("Enter")
    pane.wait_for_text("Wrote the marker file.", 20)
    pane.wait_for(is_idle, 20, "the prompt")
    time.sleep(0.5)
    recorder.capture("after-approval")

    question = "Do you want to delete the README?"
    api.push(Turn(calls=(escalated("rm README.md", question),)), Turn(text="Left it alone."))
    recorder.mark("prompt: another escalation, refused with Esc")
    pane.submit("Delete the README.")
    pane.wait_for_text(question, 20)
    time.sleep(1)
    recorder.capture("permission-exec-2")
    recorder.mark("Esc in the approval")
    pane.press("Escape")
    time.sleep(2)
    pane.wait_for(lambda screen: not is_working(screen), 20, "the end of the turn")
    time.sleep(1)
    recorder.capture("after-permission-no")

    recorder.mark("/exit")
    pane.press("C-u")
    pane.submit("/exit")
    pane.wait_for(lambda screen: pane.exit_code() is not None, 20, "the CLI to exit")
    recorder.capture("after-exit")


def write_requests(recorder: Recorder, api: ResponsesStandIn, clean: Placeholders) -> None:
    rows = ["kind\tpath\tmodel\ttools\tlast_user_text"]
    for request in api.requests:
        body = request.body if isinstance(request.body, dict) else {}
        tools = body.get("tools") if isinstance(body.get("tools"), list) else []
        said = " ".join(request.last_user_text.split())[-80:]
        rows.append(
            f"{request.kind}\t{request.path}\t{body.get('model')}\t{len(tools or [])}\t"
            f"{clean(said)}"
        )
    recorder._write("requests.tsv", "\n".join(rows) + "\n")


def write_notify(recorder: Recorder, log: Path, clean: Placeholders) -> None:
    lines, rows = [], ["line\tmoment\tseconds_after_moment\ttype"]
    for number, entry in enumerate(notifications(log), start=1):
        raw = entry["argv"][-1] if entry["argv"] else "{}"
        payload = json.loads(raw)
        lines.append(clean(json.dumps(payload, ensure_ascii=False, separators=(",", ":"))))
        moment, at = "before launch", 0.0
        for name, when in recorder.moments:
            if when <= entry["at"]:
                moment, at = name, when
        rows.append(f"{number}\t{moment}\t{entry['at'] - at:.2f}\t{payload.get('type')}")
    recorder._write("notify.jsonl", "\n".join(lines) + "\n")
    recorder._write("notify-timeline.tsv", "\n".join(rows) + "\n")


def record(recorder: Recorder, binary: Path, worktree: Path, root: Path) -> None:
    make_worktree(worktree)
    home = root / "home"
    codex_home = home / ".codex"
    log = root / "notify.raw.jsonl"
    clean = Placeholders(root, worktree, home)
    # Codex's exit warning names CODEX_HOME in a line wrapped right after its first slash.
    clean.pairs.append((str(root)[1:], "TMP"))
    with ResponsesStandIn() as api:
        prepare_codex_home(codex_home, api.url, [worktree])
        env = codex_env(home, codex_home)
        pane = start_claude(binary, worktree, env, ["-c", notify_override(log)])
        try:
            session(recorder, api, pane, log)
        finally:
            pane.kill_server()
            write_requests(recorder, api, clean)
    for name in recorder.files:
        if name.endswith((".txt", ".ansi")):
            path = recorder.out / name
            path.write_text(clean(path.read_text()))
    write_notify(recorder, log, clean)
    rollouts = sorted((codex_home / "sessions").glob("*/*/*/rollout-*.jsonl"))
    if rollouts:
        recorder._write("rollout.jsonl", clean(rollouts[-1].read_text()))


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.support.record_codex")
    parser.add_argument("--out", type=Path, default=ROOT / "tests" / "data" / "codex")
    args = parser.parse_args(argv)
    binary = codex_binary()
    if binary is None:
        print(f"cannot record: {why_no_codex()}", file=sys.stderr)
        return 1
    out: Path = args.out
    out.mkdir(parents=True, exist_ok=True)
    recorder = Recorder(out)
    print(f"recording {locate_codex().version} from {binary} into {out}", flush=True)
    worktree = short_folder()
    try:
        with tempfile.TemporaryDirectory(prefix="corral-record-") as temporary:
            record(recorder, binary, worktree, Path(temporary).resolve())
    finally:
        shutil.rmtree(worktree, ignore_errors=True)
    print(f"wrote {', '.join(sorted(set(recorder.files)))}")
    print("command:", shlex.join([str(binary), "-c", "notify=[...]"]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
