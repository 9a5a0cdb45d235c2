"""Task locks: every shape of lock file parses, and every verdict is right and says why."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from sessions.core.lock_files import Parsed, parse_lock
from sessions.core.lock_values import BASE, Lock, LockReport
from sessions.core.rules import LockRules
from sessions.services.lock_tax import Tax
from sessions.services.locks import AgentStates, judge

DATA = Path(__file__).resolve().parent.parent / "data" / "locks"
NOW = 1_770_900_000.0
RULES = LockRules()


def _utc(text: str) -> float:
    return datetime.fromisoformat(text).replace(tzinfo=UTC).timestamp()


SAMPLES = {
    "formats_example.txt": Parsed(
        task="Extend join index probes to support AND conjunctions",
        agent_id="opus",
        created_at=1770855000.0,
    ),
    "markdown_heading.md": Parsed(
        task="Add retry to the HTTP client",
        agent_id="builder-2",
        created_at=_utc("2026-02-11T10:30:00"),
        status="in progress",
    ),
    "markdown_bold_bullets.md": Parsed(
        task="Port the parser to the new tokenizer",
        agent_id="claude-3",
        created_at=_utc("2026-02-11T08:15:00"),
        status="claimed",
    ),
    "markdown_sections.md": Parsed(
        task="Write the migration for the users table",
        agent_id="codex-1",
        created_at=_utc("2026-02-11T10:00:00"),
    ),
    "plain_heading.md": Parsed(task="Fix flaky test in test_scheduler.py"),
    "claim.lock": Parsed(
        task="Speed up the cache warm-up",
        agent_id="gemini-2",
        created_at=1770858600.0,
        status="working",
    ),
    "json-lock.json": Parsed(
        task="Rewrite the CLI help", agent_id="aider-1", created_at=_utc("2026-02-11T11:00:00")
    ),
    "no_extension": Parsed(
        task="Refactor the config loader",
        agent_id="shell-1",
        created_at=_utc("2026-02-11T10:30:00"),
    ),
    "done_status.md": Parsed(task="Document the release process", status="DONE"),
    "crlf_bom.txt": Parsed(task="Handle the BOM", agent_id="opus", created_at=1770855000.123),
    "empty.md": Parsed(),
    "garbage.bin": Parsed(),
}


@pytest.mark.parametrize("name", sorted(SAMPLES))
def test_every_sample_parses_to_what_it_says(name: str) -> None:
    assert parse_lock((DATA / name).read_bytes()) == SAMPLES[name]


def test_every_sample_file_is_covered() -> None:
    on_disk = {path.name for path in DATA.iterdir() if path.name != "README.md"}
    assert on_disk == set(SAMPLES)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("created_at=2026-02-11T10:30:00Z\n", _utc("2026-02-11T10:30:00")),
        ("Claimed: 2026-02-11 10:30 UTC\n", _utc("2026-02-11T10:30:00")),
        ("timestamp: 1770855000\n", 1770855000.0),
        ("started=1770855000500\n", 1770855000.5),
        ("created: someday\nclaimed_at: 1770855000\n", 1770855000.0),
        ("Fixing it; picked up 2026-02-11T10:30:00+02:00.\n", _utc("2026-02-11T08:30:00")),
        ("created_at_unix=12\n", None),
        ("Fix the bug reported on 2026-02-11\n", None),
    ],
)
def test_creation_time_formats(text: str, expected: float | None) -> None:
    assert parse_lock(text.encode()).created_at == expected


def test_first_value_wins_and_unknown_keys_are_ignored() -> None:
    parsed = parse_lock(b"Note: see below\ntask=first\ntask=second\nagent=a\nowner=b\n")
    assert (parsed.task, parsed.agent_id) == ("first", "a")


def test_title_fallbacks_prefer_a_key_over_a_heading_over_a_line() -> None:
    assert parse_lock(b"# Heading\nplain line\nTitle: keyed\n").task == "keyed"
    assert parse_lock(b"plain line\n# Heading\n").task == "Heading"
    assert parse_lock(b"\n\nplain line\n").task == "plain line"


def test_a_value_may_contain_separators() -> None:
    parsed = parse_lock(b"task=Make a: b work\nagent_id: x=y\n")
    assert (parsed.task, parsed.agent_id) == ("Make a: b work", "x=y")


@given(st.binary(max_size=400))
def test_any_bytes_parse_without_error(data: bytes) -> None:
    parsed = parse_lock(data)
    assert parsed.task is None or isinstance(parsed.task, str)


@given(st.text(max_size=300))
def test_any_text_parses_without_error(text: str) -> None:
    parse_lock(text.encode("utf-8", errors="surrogatepass"))


# -- verdicts -------------------------------------------------------------------------------


def _lock(holder: str | None = "builder-2", age: float | None = 600.0, **kw: object) -> Lock:
    values: dict[str, object] = {
        "path": "current_tasks/x.md",
        "task": "x",
        "agent_id": "opus",
        "status": None,
        "created_at": None if age is None else NOW - age,
        "created_from": "file",
        "holder": holder,
        "where": (holder,),
        "on_base": False,
    }
    values.update(kw)
    return Lock(**values)  # type: ignore[arg-type]


def _one(lock: Lock, states: AgentStates) -> tuple[bool, bool, str]:
    (verdict,) = judge([lock], states, RULES, NOW)
    return verdict.stale, verdict.orphaned, verdict.reason


def test_a_fresh_lock_of_a_working_agent_is_not_stale() -> None:
    stale, orphaned, reason = _one(_lock(), {"builder-2": ("working", NOW - 30)})
    assert (stale, orphaned) == (False, False)
    assert reason == "held by builder-2 (working), claimed 10 min ago"


def test_an_old_lock_is_stale_whoever_holds_it() -> None:
    working = {"builder-2": ("working", NOW)}
    assert _one(_lock(age=4320), working) == (
        True,
        False,
        "held by builder-2, claimed 1 h 12 min ago, past the 1 h limit",
    )
    assert _one(_lock(holder=None, age=4320), {})[0]
    assert not _one(_lock(age=3500), working)[0]


def test_the_age_limit_comes_from_the_rules() -> None:
    strict = LockRules(stale_after=300.0)
    (verdict,) = judge([_lock(age=600)], {"builder-2": ("working", NOW)}, strict, NOW)
    assert verdict.stale
    assert "past the 5 min limit" in verdict.reason


@pytest.mark.parametrize(
    ("state", "reason", "cause"),
    [
        ("exited", "held by builder-2, which exited 14 min ago", "exited"),
        ("shelved", "held by builder-2, which was shelved 14 min ago", "shelved"),
        ("crash_looping", "held by builder-2, which has been crash looping for 14 min", "crash"),
    ],
)
def test_a_stopped_holder_makes_a_fresh_lock_stale(state: str, reason: str, cause: str) -> None:
    (verdict,) = judge([_lock(age=60)], {"builder-2": (state, NOW - 840)}, RULES, NOW)
    assert (verdict.stale, verdict.orphaned, verdict.reason) == (True, False, reason)
    assert verdict.cause.startswith(cause)


def test_an_exited_holder_without_a_time_still_reads_well() -> None:
    assert _one(_lock(), {"builder-2": ("exited", None)})[2] == "held by builder-2, which exited"


def test_idle_counts_only_past_its_limit() -> None:
    assert not _one(_lock(), {"builder-2": ("idle", NOW - 1700)})[0]
    stale, _, reason = _one(_lock(), {"builder-2": ("idle", NOW - 2520)})
    assert stale
    assert reason == "held by builder-2, idle for 42 min (limit 30 min)"
    assert not _one(_lock(), {"builder-2": ("idle", None)})[0]


def test_a_holder_unknown_to_the_herd_is_orphaned() -> None:
    stale, orphaned, reason = _one(_lock(holder="old-agent"), {"builder-2": ("working", NOW)})
    assert (stale, orphaned) == (True, True)
    assert reason == "held by old-agent, which is no longer an agent of the herd"


def test_the_user_is_never_orphaned() -> None:
    stale, orphaned, reason = _one(_lock(holder=None, age=120), {})
    assert (stale, orphaned) == (False, False)
    assert reason == "held by base, claimed 2 min ago"


def test_a_lock_marked_done_but_left_behind_is_stale() -> None:
    stale, _, reason = _one(_lock(status="Done"), {"builder-2": ("working", NOW)})
    assert stale
    assert reason == "held by builder-2, marked Done but never removed"


def test_an_unknown_age_and_an_unreadable_file_are_said() -> None:
    lock = _lock(age=None, readable=False, task=None, created_from="unknown")
    stale, _, reason = _one(lock, {"builder-2": ("working", NOW)})
    assert not stale
    assert reason == (
        "held by builder-2 (working), claimed at an unknown time; the file could not be read"
    )


def test_a_creation_time_in_the_future_is_age_zero() -> None:
    (verdict,) = judge([_lock(age=-500)], {"builder-2": ("working", NOW)}, RULES, NOW)
    assert verdict.age_s == 0.0


# -- JSON -----------------------------------------------------------------------------------

REQUIRED = {"path", "task", "holder", "age_s", "stale", "reason"}


def test_verdict_json_has_the_promised_keys_and_values() -> None:
    (verdict,) = judge([_lock(holder=None, age=125.04)], {}, RULES, NOW)
    data = verdict.to_json()
    assert set(data) >= REQUIRED
    assert {key: data[key] for key in REQUIRED} == {
        "path": "current_tasks/x.md",
        "task": "x",
        "holder": BASE,
        "age_s": 125.0,
        "stale": False,
        "reason": "held by base, claimed 2 min ago",
    }
    assert data["orphaned"] is False
    assert data["where"] == ["base"]
    assert data["agent_id"] == "opus"


def test_report_json_splits_nothing_and_counts_completed() -> None:
    states = {"a": ("working", NOW)}
    verdicts = judge(
        [_lock(holder="a"), _lock(holder="gone"), _lock(holder="a", age=9000)], states, RULES, NOW
    )
    report = LockReport(verdicts=verdicts, completed=4)
    data = report.to_json()
    assert data["completed"] == 4
    assert [item["stale"] for item in data["locks"]] == [False, True, True]
    assert [v.lock.holder for v in report.orphaned] == ["gone"]
    assert [v.age_s for v in report.stale] == [9000.0]


def test_tax_shares_and_json() -> None:
    tax = Tax(commits=154, lock_commits=84, recent_commits=10, recent_lock_commits=6)
    assert tax.share == pytest.approx(0.5455, abs=1e-4)
    assert tax.to_json() == {
        "commits": 154,
        "lock_commits": 84,
        "share": 0.5455,
        "last_hour": {"commits": 10, "lock_commits": 6, "share": 0.6},
    }
    assert Tax(0, 0, 0, 0).to_json()["share"] == 0.0
