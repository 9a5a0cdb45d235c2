"""Roles from behaviour: builders edit code, observers read, run or write notes only."""

from __future__ import annotations

from sessions.core.fingerprint import BUILDER, NONE, OBSERVER, Call, Write, fingerprint, stall
from sessions.core.rules import RoleRules

NOW = 10_000.0
RULES = RoleRules()


def calls(*items: tuple[str, str]) -> list[Call]:
    return [Call(NOW - 60 - i, cls, (path,) if path else ()) for i, (cls, path) in enumerate(items)]


def test_a_builder_edits_code_and_the_verdict_carries_its_numbers() -> None:
    made = calls(
        *[("read", "src/a.py")] * 10,
        ("edit", "src/a.py"),
        ("edit", "src/a.py"),
        ("edit", "src/b.py"),
        ("exec", ""),
    )
    found = fingerprint(made, [], RULES, NOW)
    assert found.role == BUILDER
    assert (found.calls, found.edits, found.reads, found.execs) == (14, 3, 10, 1)
    assert found.edit_share == round(3 / 14, 3)
    assert found.files == ("src/a.py", "src/b.py")
    assert found.reason.startswith("builder: 3 edits / 14 calls")
    assert found.last_change == NOW - 60 - 10


def test_a_reviewer_who_only_reads_and_runs_is_an_observer() -> None:
    found = fingerprint(calls(*[("read", "src/a.py")] * 8, ("exec", "")), [], RULES, NOW)
    assert found.role == OBSERVER and "mostly reads" in found.reason
    assert found.files == () and found.last_change is None


def test_writing_progress_notes_and_locks_does_not_make_a_builder() -> None:
    made = calls(
        ("edit", "PROGRESS.md"),
        ("edit", "notes/handoff.md"),
        ("edit", "current_tasks/parser.md"),
        ("read", "src/a.py"),
    )
    writes = [Write(NOW - 10, ("PROGRESS.md", "notes/deep/x.md"))]
    found = fingerprint(made, writes, RULES, NOW)
    assert found.role == OBSERVER and found.files_written == 0


def test_agents_without_tool_calls_are_judged_by_their_writes() -> None:
    found = fingerprint([], [Write(NOW - 5, ("src/a.py",))], RULES, NOW)
    assert found.role == BUILDER and "no tool calls" in found.reason
    assert found.files == ("src/a.py",)
    assert fingerprint([], [], RULES, NOW).role == NONE


def test_shell_written_files_make_a_builder_of_an_agent_that_only_runs_commands() -> None:
    writes = [Write(NOW - 5, ("src/a.py", "src/b.py", "src/c.py"))]
    found = fingerprint(calls(("exec", ""), ("exec", "")), writes, RULES, NOW)
    assert found.role == BUILDER and "by commands" in found.reason


def test_only_the_window_counts() -> None:
    old = [Call(NOW - RULES.window - 1, "edit", ("src/a.py",))]
    assert fingerprint(old, [], RULES, NOW).role == NONE
    short = RoleRules(window=30.0)
    assert fingerprint(calls(("edit", "src/a.py")), [], short, NOW).role == NONE


def test_a_low_edit_share_is_an_observer_until_it_writes_enough_files() -> None:
    made = calls(*[("read", "x")] * 30, ("edit", "src/a.py"))
    assert fingerprint(made, [], RULES, NOW).role == OBSERVER
    writes = [Write(NOW - 1, ("src/a.py", "src/b.py", "src/c.py"))]
    assert fingerprint(made, writes, RULES, NOW).role == BUILDER


def test_stall_flags_long_work_without_changes_only_while_working() -> None:
    assert stall(True, NOW - 1000, None, NOW - 5000, RULES, NOW).stalled
    flagged = stall(True, None, None, NOW - 1000, RULES, NOW)
    assert flagged.stalled and "since its run started" in flagged.reason
    assert not stall(True, NOW - 100, None, NOW - 5000, RULES, NOW).stalled
    assert not stall(True, NOW - 5000, NOW - 60, NOW - 9000, RULES, NOW).stalled
    assert not stall(False, NOW - 5000, None, NOW - 9000, RULES, NOW).stalled
