"""The shell hook entry and its spool: each payload kept as it came, then trimmed in order.

Every hook here runs as the agent runs it: the installed shell line under `/bin/sh -c` (Claude
Code's shell) or `bash -c` (Gemini CLI's), a real process with the payload on stdin, writing
into a real folder; the drain then reads those files as the runner and the observer do.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest

from sessions.agents.hook_settings import spool_command
from sessions.agents.hook_spool import TORN_AFTER, Spool
from sessions.hook import build

DATA = Path(__file__).resolve().parents[1] / "data"
CLAUDE = [json.loads(line) for line in (DATA / "claude" / "hooks.jsonl").read_text().splitlines()]
SHELL_NAME = re.compile(r"^\d+\.[0-7]\.claude$")


@pytest.fixture
def spool(tmp_path: Path) -> Spool:
    made = Spool(str(tmp_path / "state"), "alpha", "/WORKTREE")
    made.make()
    return made


def hook(
    spool: Spool,
    payload: dict[str, Any] | bytes,
    kind: str = "claude",
    shell: str = "/bin/sh",
    asks: bool = False,
    before: str = "",
    env: dict[str, str] | None = None,
) -> subprocess.CompletedProcess[bytes]:
    """One event, as the CLI sends it: the installed line through its shell, stdin piped."""
    data = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
    base = {k: v for k, v in os.environ.items() if not k.startswith(("CORRAL_", "CLAUDE_"))}
    environ = {**base, "CORRAL_HOME": spool.home, "CORRAL_AGENT": spool.agent, **(env or {})}
    return subprocess.run(
        [shell, "-c", before + spool_command(kind, asks=asks)],
        input=data,
        capture_output=True,
        env=environ,
        timeout=30,
        check=False,
    )


def events(spool: Spool) -> list[dict[str, Any]]:
    path = Path(spool.home) / "events" / f"{spool.agent}.jsonl"
    lines = path.read_text().splitlines() if path.exists() else []
    return [json.loads(line) for line in lines if line]  # readers skip empty lines


def errors(spool: Spool) -> list[str]:
    path = Path(spool.home) / "hook-errors.log"
    return path.read_text().splitlines() if path.exists() else []


def waiting(spool: Spool) -> list[str]:
    return sorted(os.listdir(spool.folder))


def bash_call(number: int) -> dict[str, Any]:
    return {
        "hook_event_name": "PreToolUse",
        "session_id": "s",
        "cwd": "/WORKTREE",
        "tool_name": "Bash",
        "tool_input": {"command": f"echo {number}"},
    }


def test_the_shell_entry_keeps_each_payload_as_it_came(spool: Spool) -> None:
    for payload in CLAUDE:
        ran = hook(spool, payload)
        assert (ran.returncode, ran.stdout, ran.stderr) == (0, b"", b"")
    names = waiting(spool)
    assert len(names) == len(CLAUDE)
    # Named by the shell (`<pid>.<n>.<kind>`), not by the Python entry (`<pid>.p<n>.<kind>`).
    assert all(SHELL_NAME.match(name) for name in names), names
    kept = {(Path(spool.folder) / name).read_bytes() for name in names}
    assert kept == {json.dumps(payload).encode() for payload in CLAUDE}
    assert not (Path(spool.home) / "events").exists()


def test_a_drain_records_what_the_python_entry_would_in_the_order_they_came(
    spool: Spool,
) -> None:
    for payload in CLAUDE:
        hook(spool, payload)
    assert spool.drain() == len(CLAUDE)
    drained = events(spool)
    environ = {"CORRAL_AGENT": "alpha", "CLAUDE_PROJECT_DIR": "/WORKTREE"}
    expected = [build(payload, "claude", None, 0.0, environ) for payload in CLAUDE]
    assert [{**e, "t": 0.0} for e in drained] == expected
    times = [e["t"] for e in drained]
    assert times == sorted(times) and times[0] > time.time() - 120
    assert waiting(spool) == [] and errors(spool) == []
    assert spool.drain() == 0 and len(events(spool)) == len(CLAUDE)


def test_many_hooks_at_once_lose_nothing(spool: Spool) -> None:
    with ThreadPoolExecutor(max_workers=12) as pool:
        ran = list(pool.map(lambda n: hook(spool, bash_call(n)), range(48)))
    assert {(r.returncode, r.stdout) for r in ran} == {(0, b"")}
    assert spool.drain() == 48
    assert sorted(e["command"] for e in events(spool)) == sorted(f"echo {n}" for n in range(48))


def test_drains_racing_each_other_and_the_hooks_append_each_event_once(spool: Spool) -> None:
    stop = threading.Event()

    def drain_until_stopped() -> None:
        rival = Spool(spool.home, spool.agent, spool.root)  # a process of its own would
        while not stop.is_set():
            rival.drain()

    drainers = [threading.Thread(target=drain_until_stopped) for _ in range(3)]
    for drainer in drainers:
        drainer.start()
    try:
        with ThreadPoolExecutor(max_workers=6) as pool:
            list(pool.map(lambda n: hook(spool, bash_call(n)), range(40)))
    finally:
        stop.set()
        for drainer in drainers:
            drainer.join()
    spool.drain()
    commands = [e["command"] for e in events(spool)]
    assert sorted(commands) == sorted(f"echo {n}" for n in range(40))


def test_a_payload_right_after_a_drain_is_never_skipped(spool: Spool) -> None:
    """A drain that leaves the folder empty lets the next one skip on a stat of its mtime. The
    kernel stamps folders with a coarse clock, so a payload created in the same tick as the
    drain's last removal leaves that mtime as it was: here, made so by hand."""
    for number in range(3):
        hook(spool, bash_call(number))
        spool.drain()
        stamp = os.stat(spool.folder).st_mtime_ns
        hook(spool, bash_call(number + 100))
        os.utime(spool.folder, ns=(stamp, stamp))
        spool.drain()
        assert len(events(spool)) == 2 * number + 2, "a payload was skipped"
    # Once the folder's mtime is older than any tick, the stat is enough and still right.
    second_ago = time.time_ns() - 10**9
    os.utime(spool.folder, ns=(second_ago, second_ago))
    spool.drain()
    hook(spool, bash_call(200))
    assert spool.drain() == 1


def test_a_payload_still_coming_holds_back_the_ones_after_it(spool: Spool) -> None:
    first = json.dumps(bash_call(1)).encode()
    coming = Path(spool.folder) / "100.0.claude"
    coming.write_bytes(first[:20])
    second_ago = time.time_ns() - 10**9  # it began before the next payload came
    os.utime(coming, ns=(second_ago, second_ago))
    hook(spool, bash_call(2))
    assert spool.drain() == 0 and events(spool) == []
    with coming.open("ab") as handle:
        handle.write(first[20:])
    os.utime(coming, ns=(second_ago, second_ago))
    assert spool.drain() == 2
    assert [e["command"] for e in events(spool)] == ["echo 1", "echo 2"]


def test_a_payload_that_never_became_json_is_reported_and_the_rest_go_on(spool: Spool) -> None:
    torn = Path(spool.folder) / "200.0.claude"
    torn.write_bytes(b'{"hook_event_name": "PreToolUse", "tool_na')
    old = time.time() - TORN_AFTER - 5
    os.utime(torn, (old, old))
    hook(spool, bash_call(3))
    assert spool.drain() == 1
    assert [e["command"] for e in events(spool)] == ["echo 3"]
    [error] = errors(spool)
    assert json.loads(error)["agent"] == "alpha"
    assert "payload 200.0.claude never became a JSON object" in json.loads(error)["error"]
    assert waiting(spool) == []


def test_a_name_left_undrained_by_an_earlier_process_is_never_overwritten(spool: Spool) -> None:
    # The same shell first leaves payloads under the names its own pid would take, as a
    # process of that pid would have if its events were never drained.
    left = '"$CORRAL_HOME/spool/alpha/$$.$n.claude"'
    earlier = f'echo \'{{"hook_event_name": "Notification"}}\' > {left}; '
    three = f"for n in 0 1 2; do {earlier}done; "
    assert hook(spool, bash_call(4), before=three).returncode == 0
    names = waiting(spool)
    assert len(names) == 4 and all(SHELL_NAME.match(name) for name in names)
    eight = f"for n in 0 1 2 3 4 5 6 7; do {earlier}done; "
    assert hook(spool, bash_call(5), before=eight).returncode == 0
    # All eight names taken: the Python entry keeps it under a name of its own.
    assert sum(".p0.claude" in name for name in waiting(spool)) == 1
    assert spool.drain() == 13
    drained = [e.get("command") or e["event"] for e in events(spool)]
    assert drained == ["Notification"] * 3 + ["echo 4"] + ["Notification"] * 8 + ["echo 5"]
    assert errors(spool) == []


@pytest.mark.parametrize(
    "env",
    [{"CORRAL_HOME": ""}, {"CORRAL_AGENT": ""}, {"CORRAL_AGENT": "../alpha"}],
    ids=["no-home", "no-agent", "not-a-name"],
)
def test_outside_corral_it_says_nothing_and_writes_nothing(
    spool: Spool, env: dict[str, str], tmp_path: Path
) -> None:
    ran = hook(spool, bash_call(6), env=env)
    assert (ran.returncode, ran.stdout, ran.stderr) == (0, b"", b"")
    assert waiting(spool) == [] and events(spool) == []
    assert sorted(p.name for p in tmp_path.iterdir()) == ["state"]


def test_without_a_spool_the_python_entry_records_at_once(tmp_path: Path) -> None:
    unmade = Spool(str(tmp_path / "state"), "alpha", "/WORKTREE")
    (tmp_path / "state").mkdir()
    ran = hook(unmade, bash_call(7))
    assert (ran.returncode, ran.stdout) == (0, b"")
    assert [e["command"] for e in events(unmade)] == ["echo 7"]


def test_gemini_gets_exactly_one_empty_answer_either_way(tmp_path: Path, spool: Spool) -> None:
    payload = {"hook_event_name": "BeforeTool", "tool_name": "read_file", "tool_input": {}}
    ran = hook(spool, payload, kind="gemini", shell="bash")
    assert (ran.returncode, ran.stdout) == (0, b"{}\n")
    unmade = Spool(str(tmp_path / "elsewhere"), "alpha")
    (tmp_path / "elsewhere").mkdir()
    fallback = hook(unmade, payload, kind="gemini", shell="bash")
    assert (fallback.returncode, fallback.stdout) == (0, b"{}\n")
    assert spool.drain() == 1 and events(spool)[0]["event"] == "BeforeTool"


def test_an_edit_is_still_answered_while_corral_tells_and_joins_the_spool(spool: Spool) -> None:
    holds = {"tell": "warn", "holds": {"src/app.py": ["beta"]}}
    (Path(spool.home) / "holds.json").write_text(json.dumps(holds))
    edit = {
        "hook_event_name": "PreToolUse",
        "session_id": "s",
        "cwd": "/WORKTREE",
        "tool_name": "Edit",
        "tool_input": {"file_path": "/WORKTREE/src/app.py", "old_string": "a", "new_string": "b"},
    }
    hook(spool, bash_call(8))  # an earlier event, still in the spool
    env = {"CLAUDE_PROJECT_DIR": "/WORKTREE"}
    ran = hook(spool, edit, asks=True, env=env)
    answer = json.loads(ran.stdout)["hookSpecificOutput"]
    assert "src/app.py (being changed by beta)" in answer["additionalContext"]
    assert not events(spool), "the answering entry must not overtake the spool"
    assert spool.drain() == 2
    assert [e.get("command") or e["paths"] for e in events(spool)] == ["echo 8", ["src/app.py"]]
