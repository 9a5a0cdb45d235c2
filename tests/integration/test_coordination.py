"""Roles, conflicts and locks for a real herd: simulated agents in real tmux panes and worktrees.

The agents follow fixed scripts, so each test knows who edits what: two builders on one file
raise a conflict (and it ends when one is shelved), a reviewer reading that file raises none,
a plain command writing files is a builder by its writes alone, and a lock claimed by an agent
that then exits turns stale.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from sessions.adapters.journal import Journal
from sessions.core.model import Snapshot
from sessions.supervisor import Supervisor
from tests.helpers import wait_for

pytestmark = pytest.mark.tmux

EDIT_APP = """
[[step]]
do = "read"
path = "src/app.py"
[[step]]
do = "edit"
path = "src/app.py"
old = "return 0"
new = "return {value}"
[[step]]
do = "think"
seconds = 0.2
[[step]]
do = "idle"
"""

REVIEW_APP = """
[[step]]
do = "read"
path = "src/app.py"
[[step]]
do = "grep"
pattern = "return"
[[step]]
do = "read"
path = "README.md"
[[step]]
do = "idle"
"""

LOCK_AND_EXIT = """
[[step]]
do = "lock"
task = "parser"
[[step]]
do = "exit"
code = 3
"""


def sim_agent(name: str, scenario: Path) -> str:
    return (
        f'[[agent]]\nname = "{name}"\nkind = "sim"\n'
        f"args = [{json.dumps('--scenario')}, {json.dumps(str(scenario))}, "
        '"--speed", "0.2"]\nprompt = "go"\n\n'
    )


@pytest.fixture
def herd(make_repo: Callable[..., Path], tmp_path: Path) -> Callable[..., Supervisor]:
    def open_(scripts: dict[str, str], extra: str = "") -> Supervisor:
        config = extra
        for name, text in scripts.items():
            path = tmp_path / f"{name}.toml"
            path.write_text(text)
            config += sim_agent(name, path)
        root = make_repo(config)
        supervisor = Supervisor.open(root)
        supervisor.up()
        return supervisor

    return open_


def roles(snapshot: Snapshot) -> dict[str, str]:
    return {name: role.fingerprint.role for name, role in snapshot.coordination.roles.items()}


def test_two_builders_on_one_file_conflict_and_an_observer_never_does(
    herd: Callable[..., Supervisor],
) -> None:
    supervisor = herd(
        {
            "one": EDIT_APP.format(value=1),
            "two": EDIT_APP.format(value=2),
            "reviewer": REVIEW_APP,
        }
    )

    def conflicted() -> Snapshot | None:
        snapshot = supervisor.snapshot()
        levels = {c.level for c in snapshot.coordination.conflicts}
        reviewer = snapshot.coordination.roles.get("reviewer")
        reviewed = reviewer is not None and reviewer.fingerprint.reads >= 2
        return snapshot if "merge" in levels and reviewed else None

    snapshot = wait_for(
        conflicted, timeout=30, interval=0.2, what="a merge-level conflict and the review"
    )
    assert snapshot is not None
    assert roles(snapshot) == {"one": "builder", "two": "builder", "reviewer": "observer"}
    reviewer = snapshot.coordination.roles["reviewer"].fingerprint
    assert reviewer.reads >= 2 and reviewer.edits == 0
    (shown,) = snapshot.coordination.shown_conflicts
    assert (shown.level, shown.path, shown.agents) == ("merge", "src/app.py", ("one", "two"))
    levels = {c.level for c in snapshot.coordination.conflicts}
    assert levels == {"file", "lines", "merge"}
    as_json = snapshot.to_json()
    assert as_json["conflicts"] == [shown.to_json()]
    listed = as_json["agents"]
    assert isinstance(listed, list)
    agents = {entry["name"]: entry for entry in listed}
    assert agents["one"]["role"] == "builder" and agents["one"]["files"] == ["src/app.py"]
    assert agents["reviewer"]["role"] == "observer" and agents["reviewer"]["conflicts"] == 0

    journal = Journal(supervisor.repo.journal_path)
    starts = [e for e in journal.read_all() if e["event"] == "conflict_start"]
    assert {(e["level"], e["path"]) for e in starts} == {
        ("file", "src/app.py"),
        ("lines", "src/app.py"),
        ("merge", "src/app.py"),
    }
    # Another process looking does not announce them again, and starts from the changes the
    # first one listed.
    other = Supervisor.open(supervisor.repo.root)
    assert other.coordinator._changed == supervisor.coordinator._changed
    other.snapshot()
    again = [e for e in journal.read_all() if e["event"] == "conflict_start"]
    assert len(again) == len(starts)

    supervisor.shelve("two")
    after = supervisor.snapshot()
    assert after.coordination.conflicts == ()
    ends = [e for e in journal.read_all() if e["event"] == "conflict_end"]
    assert {e["level"] for e in ends} == {"file", "lines", "merge"}


def test_a_file_level_conflict_shows_within_a_second_of_the_second_edit(
    herd: Callable[..., Supervisor],
) -> None:
    supervisor = herd(
        {"one": EDIT_APP.format(value=1), "two": EDIT_APP.format(value=2)},
        '[conflicts]\ntell = "warn"\n',
    )
    events = supervisor.repo.state_dir / "events"

    def second_edit_at() -> float | None:
        times = []
        for name in ("one", "two"):
            path = events / f"{name}.jsonl"
            lines = path.read_text().splitlines() if path.exists() else []
            edits = [json.loads(line) for line in lines if '"cls":"edit"' in line]
            if not edits:
                return None
            times.append(float(edits[0]["t"]))
        return max(times)

    edited = wait_for(second_edit_at, timeout=30, interval=0.05, what="both edits")
    assert edited is not None
    # The first look after the second edit event already shows it: no git is needed for
    # the file level, so it costs one look (a few milliseconds; bench_coordination.py).
    snapshot = supervisor.snapshot()
    assert [c.level for c in snapshot.coordination.conflicts][:1] == ["file"]
    # With telling on, the hook can see who holds the file.
    holds = json.loads((supervisor.repo.state_dir / "holds.json").read_text())
    assert holds == {"tell": "warn", "holds": {"src/app.py": ["one", "two"]}}


def test_plain_commands_are_builders_by_their_writes_and_a_dead_holders_lock_is_stale(
    make_repo: Callable[..., Path], tmp_path: Path
) -> None:
    locker = tmp_path / "locker.toml"
    locker.write_text(LOCK_AND_EXIT)
    config = (
        '[[agent]]\nname = "maker"\nkind = "shell"\n'
        "command = \"sh -c 'echo 1 > a.txt; echo 2 > b.txt; sleep 60'\"\n\n"
        + sim_agent("locker", locker)
    )
    root = make_repo(config)
    supervisor = Supervisor.open(root)
    supervisor.up()

    def built() -> Snapshot | None:
        snapshot = supervisor.snapshot(fresh_locks=True)
        maker = snapshot.coordination.roles.get("maker")
        return snapshot if maker and maker.fingerprint.role == "builder" else None

    snapshot = wait_for(built, timeout=20, interval=0.2, what="maker seen as a builder")
    assert snapshot is not None
    maker = snapshot.coordination.roles["maker"].fingerprint
    assert set(maker.files) == {"a.txt", "b.txt"} and maker.calls == 0
    assert "no tool calls" in maker.reason

    def stale() -> Snapshot | None:
        snapshot = supervisor.snapshot(fresh_locks=True)
        report = snapshot.coordination.locks
        return snapshot if report and report.stale else None

    snapshot = wait_for(stale, timeout=20, interval=0.2, what="the stale lock")
    assert snapshot is not None
    report = snapshot.coordination.locks
    assert report is not None
    (verdict,) = report.stale
    assert verdict.lock.holder == "locker" and "exited" in verdict.reason
    assert snapshot.coordination.roles["locker"].locks == (verdict,)
    outcome = supervisor.release_lock(verdict.lock.path)
    assert "released" in outcome.message
    assert not (Path(supervisor.view("locker").worktree) / verdict.lock.path).exists()
    assert supervisor.lock_report()[0].verdicts == ()
    released = [e for e in supervisor.journal.read_all() if e["event"] == "lock_release"]
    assert released and released[0]["path"] == verdict.lock.path
    assert time.time() - snapshot.taken < 60


PROGRESS_BY = """
[[step]]
do = "think"
seconds = 1.0
[[step]]
do = "progress"
tick = "{tick}"
[[step]]
do = "note"
topic = "{topic}"
text = "hand-off from {topic}"
[[step]]
do = "idle"
"""


def test_the_commands_show_notes_attributed_conflicts_and_locks_as_json(
    herd: Callable[..., Supervisor], capsys: pytest.CaptureFixture[str]
) -> None:
    """`corral notes`, `conflicts` and `locks` through the command line, on a real herd whose
    two agents each tick one PROGRESS.md item and write a note."""
    from tui.cli import main

    supervisor = herd(
        {
            "alpha": PROGRESS_BY.format(tick="first task", topic="alpha"),
            "beta": PROGRESS_BY.format(tick="second task", topic="beta"),
        }
    )
    root = str(supervisor.repo.root)
    assert main(["--repo", root, "notes", "--json"]) == 0  # the baseline look
    capsys.readouterr()
    events = supervisor.repo.state_dir / "events"

    def both_noted() -> bool:
        return all(
            (events / f"{name}.jsonl").exists()
            and "notes/" in (events / f"{name}.jsonl").read_text()
            for name in ("alpha", "beta")
        )

    wait_for(both_noted, timeout=30, what="both agents' notes")

    def changes() -> list[dict[str, object]]:
        assert main(["--repo", root, "notes", "--json"]) == 0
        data = json.loads(capsys.readouterr().out)
        return [c for c in data["changes"] if c["path"] == "PROGRESS.md"]

    progress = wait_for(lambda: len(changes()) >= 2 and changes(), what="two PROGRESS.md changes")
    assert progress
    by_agent = {str(c["agent"]): str(c["diff"]) for c in progress}
    assert set(by_agent) == {"alpha", "beta"}
    assert "+- [x] first task" in by_agent["alpha"]
    assert "+- [x] second task" not in by_agent["alpha"]
    assert "+- [x] second task" in by_agent["beta"]
    assert "+- [x] first task" not in by_agent["beta"]

    assert main(["--repo", root, "conflicts", "--json"]) == 0
    assert json.loads(capsys.readouterr().out) == {
        "conflicts": [],
        "errors": {},
    }  # notes are coordination
    assert main(["--repo", root, "locks", "--json"]) == 0
    locks = json.loads(capsys.readouterr().out)
    assert locks["locks"] == [] and locks["tax"]["commits"] >= 1
    assert main(["--repo", root, "locks", "release", "current_tasks/none.md"]) == 1
    err = capsys.readouterr().err.strip()
    assert err.startswith("corral: current_tasks/none.md is not a known lock")
    assert len(err.splitlines()) == 1
