"""The hook entry on real and hand-written payloads: one trimmed line per event, never a failure.

`build` is tested in-process on every recorded Claude Code payload and on hand-written Gemini
and Codex ones; the entry itself is run as agents run it (the argv corral installs, payload on
stdin or as an argument) for what only a process shows: exit code, stdout, files and modes.
"""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest

from sessions.agents.hook_settings import hook_argv
from sessions.hook import MAX_PATH, MAX_TEXT, build

DATA = Path(__file__).resolve().parents[1] / "data"
CLAUDE = [json.loads(line) for line in (DATA / "claude" / "hooks.jsonl").read_text().splitlines()]
GEMINI = [json.loads(line) for line in (DATA / "hooks" / "gemini.jsonl").read_text().splitlines()]
CODEX = [json.loads(line) for line in (DATA / "hooks" / "codex.jsonl").read_text().splitlines()]
ENV = {"CORRAL_AGENT": "alpha", "CORRAL_HOME": "/STATE", "CLAUDE_PROJECT_DIR": "/WORKTREE"}
BULKY = {"tool_input", "tool_response", "prompt", "prompt_response", "last_assistant_message"}
ALLOWED = {
    "t",
    "agent",
    "kind",
    "event",
    "session_id",
    "transcript_path",
    "cwd",
    "permission_mode",
    "tool_use_id",
    "notification_type",
    "message",
    "source",
    "reason",
    "trigger",
    "stop_hook_active",
    "error",
    "error_type",
    "is_interrupt",
    "duration_ms",
    "agent_id",
    "agent_type",
    "agent_transcript_path",
    "model",
    "turn_id",
    "prompt_id",
    "sizes",
    "tool_calls",
    "tool",
    "cls",
    "paths",
    "command",
}

Run = Callable[..., "Ran"]


class Ran:
    """One finished hook process and what it left in corral's folder."""

    def __init__(self, done: subprocess.CompletedProcess[bytes], home: Path) -> None:
        self.code = done.returncode
        self.stdout = done.stdout
        self.home = home

    def events(self, agent: str = "alpha") -> list[dict[str, Any]]:
        path = self.home / "events" / f"{agent}.jsonl"
        if not path.exists():
            return []
        # Two appenders that both see a torn end both start a line of their own: the empty
        # line between is skipped by every reader (sessions/adapters/journal.py).
        return [json.loads(line) for line in path.read_text().splitlines() if line]

    def errors(self) -> list[str]:
        path = self.home / "hook-errors.log"
        return path.read_text().splitlines() if path.exists() else []


@pytest.fixture
def run(tmp_path: Path) -> Run:
    """Run the installed hook argv with `stdin` (bytes) and extra env, in a fresh home."""
    home = tmp_path / "state"
    home.mkdir(exist_ok=True)

    def run_(
        stdin: bytes = b"",
        kind: str = "claude",
        args: tuple[str, ...] = (),
        env: dict[str, str] | None = None,
    ) -> Ran:
        base = {k: v for k, v in os.environ.items() if not k.startswith(("CORRAL_", "CLAUDE_"))}
        environment = {**base, "CORRAL_AGENT": "alpha", "CORRAL_HOME": str(home), **(env or {})}
        done = subprocess.run(
            [*hook_argv(kind), *args],
            input=stdin,
            capture_output=True,
            env=environment,
            cwd=tmp_path,
            timeout=30,
            check=False,
        )
        return Ran(done, home)

    return run_


def built(payload: dict[str, Any], kind: str = "claude", **env: str) -> dict[str, Any]:
    return build(payload, kind, None, 1795000000.25, {**ENV, **env})


# --- build, in-process -----------------------------------------------------------------------


@pytest.mark.parametrize("payload", CLAUDE, ids=[p["hook_event_name"] for p in CLAUDE])
def test_every_recorded_claude_payload_is_trimmed_to_what_corral_reads(
    payload: dict[str, Any],
) -> None:
    record = built(payload)
    assert set(record) <= ALLOWED, set(record) - ALLOWED
    assert (record["t"], record["agent"], record["kind"]) == (1795000000.25, "alpha", "claude")
    assert record["event"] == payload["hook_event_name"]
    assert record["session_id"] == payload["session_id"]
    assert record["transcript_path"] == payload["transcript_path"]
    for key in BULKY & set(payload):
        assert record["sizes"][key] > 0 or payload[key] in ("", [], {})
    assert len(json.dumps(record)) < 1000


def test_a_recorded_edit_keeps_its_class_and_a_worktree_relative_path() -> None:
    [edit] = [p for p in CLAUDE if p.get("tool_name") == "Edit" and "tool_response" in p]
    record = built(edit)
    assert (record["event"], record["tool"], record["cls"]) == ("PostToolUse", "Edit", "edit")
    assert record["paths"] == ["README.md"]
    assert record["duration_ms"] == edit["duration_ms"]
    assert record["tool_use_id"] == edit["tool_use_id"]
    assert record["permission_mode"] == "default"
    assert "command" not in record


def test_a_recorded_bash_call_keeps_its_command() -> None:
    [bash] = [
        p for p in CLAUDE if p.get("tool_name") == "Bash" and p["hook_event_name"] == "PreToolUse"
    ]
    record = built(bash)
    assert (record["tool"], record["cls"], record["command"]) == (
        "Bash",
        "exec",
        "echo corral > bash-out.txt",
    )
    assert "paths" not in record


def test_recorded_notifications_stops_and_failures_keep_their_scalars() -> None:
    records = [built(p) for p in CLAUDE]
    kinds = {r["notification_type"] for r in records if r["event"] == "Notification"}
    assert kinds == {"permission_prompt", "idle_prompt"}
    [failure] = [r for r in records if r["event"] == "StopFailure"]
    assert failure["error"] == "unknown"
    assert failure["sizes"]["last_assistant_message"] > 0
    stops = [r for r in records if r["event"] == "Stop"]
    assert stops and all(r["stop_hook_active"] is False for r in stops)
    assert {r["reason"] for r in records if r["event"] == "SessionEnd"} == {"prompt_input_exit"}
    assert {r["source"] for r in records if r["event"] == "SessionStart"} == {"startup"}
    batches = [r for r in records if r["event"] == "PostToolBatch"]
    assert batches and all(r["tool_calls"] == 1 for r in batches)


def test_a_path_outside_the_worktree_stays_absolute() -> None:
    payload = {
        "hook_event_name": "PreToolUse",
        "tool_name": "Read",
        "tool_input": {"file_path": "/etc/hosts"},
    }
    assert built(payload)["paths"] == ["/etc/hosts"]
    inside = {**payload, "tool_input": {"file_path": "/WORKTREE"}}
    assert built(inside)["paths"] == ["."]
    sibling = {**payload, "tool_input": {"file_path": "/WORKTREE-other/a.py"}}
    assert built(sibling)["paths"] == ["/WORKTREE-other/a.py"]


def test_long_text_is_cut_and_bulky_fields_are_only_measured() -> None:
    payload = {
        "hook_event_name": "PreToolUse",
        "message": "m" * 5000,
        "tool_name": "Bash",
        "tool_input": {"command": "echo " + "x" * 5000},
    }
    record = built(payload)
    assert len(record["message"]) == len(record["command"]) == MAX_TEXT
    assert record["sizes"]["tool_input"] > 5000


@pytest.mark.parametrize("payload", GEMINI, ids=[p["hook_event_name"] for p in GEMINI])
def test_gemini_payloads_keep_their_own_event_names(payload: dict[str, Any]) -> None:
    record = built(payload, "gemini", GEMINI_PROJECT_DIR="/WORKTREE", CLAUDE_PROJECT_DIR="")
    assert set(record) <= ALLOWED
    assert record["event"] == payload["hook_event_name"]
    if payload.get("tool_name") == "replace":
        assert (record["cls"], record["paths"]) == ("edit", ["src/cli.py"])
    if payload.get("tool_name") == "read_file":
        assert (record["cls"], record["paths"]) == ("read", ["src/cli.py"])
    if payload.get("tool_name") == "run_shell_command":
        assert (record["cls"], record["command"]) == ("exec", "python -m pytest -q")


def test_codex_notify_becomes_prompt_and_stop_events() -> None:
    start, done, quiet = (built(p, "codex") for p in CODEX)
    assert (start["event"], start["source"], start["turn_id"]) == (
        "UserPromptSubmit",
        "agent-turn-start",
        "1",
    )
    assert (done["event"], done["source"]) == ("Stop", "agent-turn-complete")
    assert done["session_id"] == "0199a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b"
    assert done["sizes"] == {"last_assistant_message": 52, "input_messages": 51}
    assert quiet["event"] == "Stop" and "last_assistant_message" not in quiet.get("sizes", {})


def test_codex_naming_its_session_is_not_a_stop_of_the_agent() -> None:
    """Recorded from Codex 0.171: the title turn's notify comes while the real turn runs."""
    recorded = Path(__file__).parent.parent / "data" / "codex" / "notify.jsonl"
    payloads = [json.loads(line) for line in recorded.read_text().splitlines()]
    events = [built(payload, "codex")["event"] for payload in payloads]
    assert events[0] == "SideTurnComplete"
    assert set(events[1:]) == {"Stop"}


def test_aider_gets_an_idle_prompt_notification_from_nothing() -> None:
    record = build({}, "aider", "Notification", 1.0, ENV)
    assert (record["event"], record["notification_type"], record["kind"]) == (
        "Notification",
        "idle_prompt",
        "aider",
    )


# --- the entry as a process -----------------------------------------------------------------


def test_each_recorded_payload_appends_one_line_and_prints_nothing(run: Run) -> None:
    for payload in CLAUDE:
        ran = run(json.dumps(payload).encode(), env={"CLAUDE_PROJECT_DIR": "/WORKTREE"})
        assert (ran.code, ran.stdout) == (0, b"")
    events = ran.events()
    assert [e["event"] for e in events] == [p["hook_event_name"] for p in CLAUDE]
    assert ran.errors() == []
    folder = ran.home / "events"
    assert stat.S_IMODE(folder.stat().st_mode) == 0o700
    assert stat.S_IMODE((folder / "alpha.jsonl").stat().st_mode) == 0o600


def test_a_huge_tool_response_is_measured_not_stored(run: Run) -> None:
    output = "line of build output\n" * 250_000
    payload = {
        "hook_event_name": "PostToolUse",
        "tool_name": "Bash",
        "tool_input": {"command": "make"},
        "tool_response": {"stdout": output, "stderr": "", "interrupted": False},
    }
    ran = run(json.dumps(payload).encode())
    assert (ran.code, ran.stdout) == (0, b"")
    [event] = ran.events()
    assert event["sizes"]["tool_response"] > len(output)
    assert (ran.home / "events" / "alpha.jsonl").stat().st_size < 1000


@pytest.mark.parametrize("tool", ["Edit", "x" * 1_000_000], ids=["edit", "megabyte-name"])
def test_every_field_is_cut_so_no_event_line_is_huge(run: Run, tool: str, tmp_path: Path) -> None:
    """A payload made of megabyte strings still leaves a line of a few kilobytes."""
    huge = "y" * 1_000_000
    payload: dict[str, Any] = {key: huge for key in ALLOWED if key not in ("t", "sizes")}
    payload |= {
        "hook_event_name": "PreToolUse" + huge,
        "tool_name": tool,
        "tool_input": {"file_path": str(tmp_path / huge), "old_string": huge},
        "cwd": str(tmp_path),
    }
    ran = run(json.dumps(payload).encode())
    assert (ran.code, ran.stdout, ran.errors()) == (0, b"", [])
    [event] = ran.events()
    assert event["tool"] == tool[:MAX_TEXT]
    assert all(len(path) <= MAX_PATH for path in event.get("paths", []))
    assert (ran.home / "events" / "alpha.jsonl").stat().st_size < 64 * 1024


def test_an_event_after_a_torn_line_starts_a_line_of_its_own(run: Run) -> None:
    """A hook killed mid-write leaves half a line; the next event must still read whole."""
    events = run().home / "events" / "alpha.jsonl"
    events.write_bytes(events.read_bytes() + b'{"t":1795000000.1,"agent":"alpha","ev')
    ran = run(json.dumps({"hook_event_name": "Stop", "session_id": "s-1"}).encode())
    *_, torn, last, end = events.read_bytes().split(b"\n")
    assert torn == b'{"t":1795000000.1,"agent":"alpha","ev' and end == b""
    stop = json.loads(last)
    assert (stop["event"], stop["session_id"]) == ("Stop", "s-1"), ran.errors()


@pytest.mark.parametrize(
    "garbage",
    [b"{not json", b"[1, 2, 3]", b'"a string"', b"\xff\xfe\x00binary", b"[" * 100_000],
    ids=["broken", "array", "string", "binary", "deep"],
)
def test_garbage_on_stdin_is_logged_and_the_agent_never_notices(run: Run, garbage: bytes) -> None:
    ran = run(garbage)
    assert (ran.code, ran.stdout) == (0, b"")
    assert ran.events() == []
    [error] = ran.errors()
    assert json.loads(error)["agent"] == "alpha"


def test_empty_stdin_still_records_the_moment(run: Run) -> None:
    ran = run(b"", args=("--event", "Stop"))
    assert (ran.code, ran.stdout) == (0, b"")
    assert [e["event"] for e in ran.events()] == ["Stop"]


def test_outside_corral_it_does_nothing_at_all(run: Run, tmp_path: Path) -> None:
    payload = json.dumps(CLAUDE[0]).encode()
    for env in ({"CORRAL_AGENT": ""}, {"CORRAL_HOME": ""}):
        ran = run(payload, env=env)
        assert (ran.code, ran.stdout) == (0, b"")
        assert ran.events() == [] and ran.errors() == []


def test_an_unwritable_home_or_a_bad_agent_name_is_swallowed(run: Run, tmp_path: Path) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    payload = json.dumps(CLAUDE[0]).encode()
    ran = run(payload, env={"CORRAL_HOME": str(blocker / "state")})
    assert (ran.code, ran.stdout) == (0, b"")
    escaping = run(payload, env={"CORRAL_AGENT": "../../escape"})
    assert (escaping.code, escaping.stdout) == (0, b"")
    assert not (tmp_path / "escape.jsonl").exists()
    assert escaping.events() == [] and len(escaping.errors()) == 1


def test_codex_and_aider_never_read_the_terminal_on_stdin(tmp_path: Path) -> None:
    """Their stdin is the agent's terminal: a hook that read it would hang and eat keys."""
    home = tmp_path / "state"
    home.mkdir()
    env = {**os.environ, "CORRAL_AGENT": "alpha", "CORRAL_HOME": str(home)}
    codex = [*hook_argv("codex"), json.dumps(CODEX[1])]
    aider = [*hook_argv("aider", "--event", "Notification")]
    for argv in (codex, aider):
        with subprocess.Popen(
            argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE, env=env, cwd=tmp_path
        ) as process:
            assert process.stdout is not None
            assert process.wait(timeout=30) == 0
            assert process.stdout.read() == b""
            assert process.stdin is not None
            process.stdin.close()
    events = [
        json.loads(line) for line in (home / "events" / "alpha.jsonl").read_text().splitlines()
    ]
    assert [(e["kind"], e["event"]) for e in events] == [
        ("codex", "Stop"),
        ("aider", "Notification"),
    ]


def test_gemini_mode_answers_an_empty_json_object(run: Run) -> None:
    payload = json.dumps(GEMINI[2]).encode()
    ran = run(payload, kind="gemini", env={"GEMINI_PROJECT_DIR": "/WORKTREE"})
    assert ran.code == 0
    assert json.loads(ran.stdout) == {}
    [event] = ran.events()
    assert (event["kind"], event["event"], event["paths"]) == (
        "gemini",
        "BeforeTool",
        ["src/cli.py"],
    )
    garbage = run(b"not json", kind="gemini")
    assert (garbage.code, json.loads(garbage.stdout)) == (0, {})


def test_many_hooks_at_once_leave_whole_lines(run: Run) -> None:
    command = "echo " + "y" * 250
    payload = {
        "hook_event_name": "PreToolUse",
        "tool_name": "Bash",
        "tool_input": {"command": command},
    }
    with ThreadPoolExecutor(max_workers=12) as pool:
        results = list(pool.map(lambda _: run(json.dumps(payload).encode()), range(24)))
    assert all((r.code, r.stdout) == (0, b"") for r in results)
    events = results[0].events()
    assert len(events) == 24
    assert {e["command"] for e in events} == {command}


def test_only_tool_events_pay_for_importing_the_tool_classes(tmp_path: Path) -> None:
    """The entry imports the standard library's json, os, sys and time; the tool classes (in
    sessions.agents.tools) on demand."""
    probe = (
        "import sys; sys.path.insert(0, sys.argv[1]); from sessions.hook import main; main([]); "
        "sys.stderr.write(' '.join(sorted(sys.modules)))"
    )
    root = str(Path(__file__).resolve().parents[2])
    env = {**os.environ, "CORRAL_AGENT": "alpha", "CORRAL_HOME": str(tmp_path)}
    tool = json.dumps(CLAUDE[6]).encode()
    loaded = {}
    for name, payload in (("start", json.dumps(CLAUDE[0]).encode()), ("tool", tool)):
        done = subprocess.run(
            [sys.executable, "-I", "-S", "-c", probe, root],
            input=payload,
            capture_output=True,
            env=env,
            check=True,
        )
        assert done.stdout == b""
        loaded[name] = set(done.stderr.decode().split())
    assert "sessions.agents.tools" not in loaded["start"] and "typing" not in loaded["start"]
    assert "sessions.agents.tools" in loaded["tool"]


# --- telling an agent about a file another builder holds -------------------------------------


def edit_payload(path: str) -> bytes:
    payload = {
        "session_id": "s",
        "cwd": "/WORKTREE",
        "hook_event_name": "PreToolUse",
        "tool_name": "Edit",
        "tool_input": {"file_path": path, "old_string": "a", "new_string": "b"},
    }
    return json.dumps(payload).encode()


def write_holds(home: Path, tell: str, holds: dict[str, list[str]], age: float = 0.0) -> None:
    path = home / "holds.json"
    path.write_text(json.dumps({"tell": tell, "holds": holds}))
    if age:
        stamp = path.stat().st_mtime - age
        os.utime(path, (stamp, stamp))


@pytest.mark.parametrize("tell", ["warn", "block"])
def test_an_edit_of_a_file_another_builder_holds_is_answered(run: Run, tell: str) -> None:
    env = {"CLAUDE_PROJECT_DIR": "/WORKTREE"}
    home = run(b"").home
    write_holds(home, tell, {"src/app.py": ["beta", "alpha"]})
    ran = run(edit_payload("/WORKTREE/src/app.py"), env=env)
    assert ran.code == 0
    answer = json.loads(ran.stdout)["hookSpecificOutput"]
    assert answer["hookEventName"] == "PreToolUse"
    if tell == "warn":
        assert "being changed by beta" in answer["additionalContext"]
        assert "alpha" not in answer["additionalContext"]
    else:
        assert answer["permissionDecision"] == "ask"
        assert "src/app.py (being changed by beta)" in answer["permissionDecisionReason"]
    assert ran.events()[-1]["paths"] == ["src/app.py"]


def test_no_answer_for_own_free_or_stale_holds_or_reads(run: Run) -> None:
    env = {"CLAUDE_PROJECT_DIR": "/WORKTREE"}
    home = run(b"").home
    write_holds(home, "warn", {"src/app.py": ["alpha"], "src/other.py": ["beta"]})
    assert run(edit_payload("/WORKTREE/src/app.py"), env=env).stdout == b""
    assert run(edit_payload("/WORKTREE/src/free.py"), env=env).stdout == b""
    read = json.loads(edit_payload("/WORKTREE/src/other.py"))
    read["tool_name"] = "Read"
    assert run(json.dumps(read).encode(), env=env).stdout == b""
    write_holds(home, "warn", {"src/other.py": ["beta"]}, age=600)
    assert run(edit_payload("/WORKTREE/src/other.py"), env=env).stdout == b""
    write_holds(home, "off", {"src/other.py": ["beta"]})
    assert run(edit_payload("/WORKTREE/src/other.py"), env=env).stdout == b""
    (home / "holds.json").write_text("{not json")
    ran = run(edit_payload("/WORKTREE/src/other.py"), env=env)
    assert (ran.code, ran.stdout) == (0, b"")
