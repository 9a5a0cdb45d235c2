"""What the herd's PROGRESS.md and notes say, read from real-looking files and from noise."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sessions.core.note_changes import (
    MAX_DIFF_LINES,
    blob_id,
    diff_texts,
    growth_per_hour,
    warnings_for,
)
from sessions.core.note_markdown import NoteFacts, pass_rate, read_markdown
from sessions.core.rules import NoteRules
from tests.helpers import git

DATA = Path(__file__).parent.parent / "data" / "notes"
HOUR = 3600.0
DAY = 86400.0


def facts_of(name: str) -> NoteFacts:
    return read_markdown((DATA / name).read_text())


# -- the sample files -------------------------------------------------------------------------


def test_progress_status_next_step_and_pass_rate() -> None:
    facts = facts_of("PROGRESS.md")
    assert facts.next_step == (
        "extend join index probes to support AND conjunctions, then rerun the TPC-H subset "
        "(`make tpch-small`) and record the pass rate here."
    )
    assert facts.pass_rate is not None
    assert (facts.pass_rate.percent, facts.pass_rate.passed, facts.pass_rate.total) == (
        93.0,
        140,
        150,
    )
    assert facts.pass_rate.line == "Test pass rate: 93% (140/150)"


def test_progress_backlog_done_and_open() -> None:
    facts = facts_of("PROGRESS.md")
    # 6 struck-through backlog items and 15 completed tasks, one of them `* [X]`
    assert len(facts.done) == 21
    assert "Tokenizer: quoted identifiers and escaped quotes" in facts.done
    assert "NULL semantics in every operator" in facts.done
    # 8 numbered backlog items still open, and 3 unchecked stretch boxes
    assert len(facts.open) == 11
    assert facts.open[0] == "Extend join index probes to support AND conjunctions"
    assert "Zone maps on the column store" in facts.open
    # nothing from inside the fenced example counts
    assert "not a real task either" not in facts.open
    assert all("Rules" not in item and "Claim a task" not in item for item in facts.open)


def test_progress_known_issues_and_headings() -> None:
    facts = facts_of("PROGRESS.md")
    assert len(facts.issues) == 5
    assert facts.issues[1].startswith("`ORDER BY` on a column")
    titles = [heading.title for heading in facts.headings]
    assert titles[:4] == [
        "Query Engine — Progress",
        "Current Status",
        "Rules for agents",
        "Backlog (priority order)",
    ]
    assert "Completed Tasks" in titles and "Known Issues" in titles
    assert "Not a heading: example of a note hand-off" not in titles
    assert titles[-1] == "Session 10 — COUNT(DISTINCT)"
    status = next(h for h in facts.headings if h.title == "Current Status")
    assert (status.level, status.line) == (2, 6)


def test_hand_off_with_checkboxes_and_bold_next_step() -> None:
    facts = facts_of("notes/join-probes.md")
    assert facts.done == ("Probe keys as a list", "Hash of a composite key (`hash_combine`)")
    assert len(facts.open) == 3
    assert facts.next_step == "planner side, `planner/join_keys.py::collect_equalities`."
    assert facts.pass_rate is not None
    assert (facts.pass_rate.passed, facts.pass_rate.total) == (140, 150)


def test_setext_headings_numbered_plan_and_inline_next_step() -> None:
    facts = facts_of("notes/decorrelation.md")
    assert [(h.level, h.title) for h in facts.headings] == [
        (1, "Decorrelation design"),
        (2, "Why"),
        (2, "Plan"),
        (2, "Open questions"),
    ]
    assert len(facts.open) == 4
    assert facts.open[1].startswith("Rewrite EXISTS / NOT EXISTS")
    assert facts.next_step == "write the binder detection with tests first."


def test_done_and_todo_sections_with_plain_bullets() -> None:
    facts = facts_of("notes/flaky-inserts.md")
    assert len(facts.done) == 2
    assert facts.open[0].startswith("Take the latch")
    assert "this is log output, not a task" not in facts.open
    assert facts.pass_rate is not None
    assert facts.pass_rate.percent == 96.7


# -- rules of the reader ----------------------------------------------------------------------


def test_status_section_wins_over_later_mentions() -> None:
    text = (
        "# P\n\n## Current Status\n\nTest pass rate: 80% (8/10)\nNext: write the parser\n\n"
        "## Log\n\nTest pass rate: 50% (1/2)\nNext: not a next step outside status\n"
        "Next step: the log's idea\n"
    )
    facts = read_markdown(text)
    assert facts.pass_rate is not None and facts.pass_rate.percent == 80.0
    assert facts.next_step == "write the parser"


def test_without_status_section_the_latest_mention_wins() -> None:
    text = (
        "## Log\n\n12/12 tests passing\n\nNext step: one\n\n38/40 tests passing\n\nNext step: two\n"
    )
    facts = read_markdown(text)
    assert facts.pass_rate is not None and (facts.pass_rate.passed, facts.pass_rate.total) == (
        38,
        40,
    )
    assert facts.next_step == "two"


def test_next_step_on_the_following_line() -> None:
    facts = read_markdown("## Status\n\n**Recommended next step:**\n\n- profile q17\n- other\n")
    assert facts.next_step == "profile q17"


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ("Test pass rate: 93% (140/150)", (93.0, 140, 150)),
        ("**Test pass rate:** 88.5%", (88.5, None, None)),
        ("140/150 tests passing", (93.3, 140, 150)),
        ("Tests: 140 of 150 tests pass", (93.3, 140, 150)),
        ("=== 47 passed, 3 failed in 2.1s ===", (94.0, 47, 50)),
        ("pass rate: 93% (151/150)", (93.0, None, None)),
        ("150/0 tests passing", None),
        ("pass rate: 250%", None),
        ("we passed the parser milestone", None),
    ],
)
def test_pass_rate_lines(line: str, expected: tuple[float, int | None, int | None] | None) -> None:
    rate = pass_rate(line)
    got = None if rate is None else (rate.percent, rate.passed, rate.total)
    assert got == expected


def test_items_everywhere_and_nowhere() -> None:
    text = (
        "- [x] boxed done anywhere\n"
        "* [X] upper-case box\n"
        "1. [ ] numbered box\n"
        "- ~~struck~~ ✓\n"
        "- ✅ ticked first\n"
        "- a plain bullet under no heading is not a task\n"
        "## Known Issues\n- the bug\n"
        "## TODO\n3) numbered open\n"
    )
    facts = read_markdown(text)
    assert facts.done == ("boxed done anywhere", "upper-case box", "struck", "ticked first")
    assert facts.open == ("numbered box", "numbered open")
    assert facts.issues == ("the bug",)


# -- never crash ------------------------------------------------------------------------------

MARKDOWNISH = st.lists(
    st.one_of(
        st.text(max_size=40),
        st.sampled_from(
            [
                "# ",
                "## Current Status",
                "===",
                "---",
                "- [x] ",
                "* [ ]",
                "1. ~~x~~ ✓",
                "```",
                "~~~~",
                "Next:",
                "Recommended next step:",
                "Test pass rate: 101% (3/2)",
                "0/0 tests passing",
                "99999999999999999999/1 tests passing",
                "\u2028",
                "\r",
                "\x00",
            ]
        ),
    ),
    max_size=40,
).map("\n".join)


@settings(max_examples=400, deadline=None)
@given(st.one_of(st.text(), MARKDOWNISH))
def test_any_text_reads_without_error(text: str) -> None:
    facts = read_markdown(text)
    lines = text.splitlines()
    assert len(facts.headings) + len(facts.done) + len(facts.open) + len(facts.issues) <= len(lines)
    assert all(1 <= heading.line <= len(lines) for heading in facts.headings)
    assert all(1 <= heading.level <= 6 for heading in facts.headings)
    if facts.pass_rate is not None:
        assert 0.0 <= facts.pass_rate.percent <= 100.0
        if facts.pass_rate.total is not None:
            assert 0 <= (facts.pass_rate.passed or 0) <= facts.pass_rate.total
    assert read_markdown(text) == facts


NOISE = 50_000


@pytest.mark.timeout(5)
@pytest.mark.parametrize(
    "text",
    [
        "1" * NOISE + "/",
        "1 of " * NOISE,
        "1 passed, " * NOISE,
        "pass rate" + " " * NOISE + "x",
        "pass rate: 1." + "1" * NOISE,
        "- " + "~~a" * NOISE,
        "# " + "a #" * NOISE,
        "**Next step:**" * NOISE,
        "```\n" * NOISE,
    ],
    ids=["digits", "of", "passed", "rate", "decimals", "struck", "heading", "labels", "fences"],
)
def test_a_line_of_noise_costs_linear_time(text: str) -> None:
    """A quadratic pattern would take minutes on these; each takes milliseconds."""
    read_markdown(text)


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=300), st.text(max_size=300))
def test_diff_counts_match_the_line_change(before: str, after: str) -> None:
    diff, added, removed = diff_texts("PROGRESS.md", before, after)
    assert added - removed == len(after.splitlines()) - len(before.splitlines())
    assert (diff == "") == (before.splitlines() == after.splitlines())


# -- diffs, growth, warnings ------------------------------------------------------------------


def test_a_big_diff_is_trimmed_but_counted() -> None:
    before = "".join(f"line {n}\n" for n in range(10))
    after = before + "".join(f"new {n} " + "x" * 500 + "\n" for n in range(300))
    diff, added, removed = diff_texts("notes/a.md", before, after)
    assert (added, removed) == (300, 0)
    shown = diff.splitlines()
    assert len(shown) == MAX_DIFF_LINES + 1
    assert shown[-1].endswith("more diff lines")
    assert max(len(line) for line in shown) <= 200


def test_a_huge_file_is_counted_without_a_line_diff() -> None:
    before = "".join(f"line {n}\n" for n in range(6000))
    after = before.replace("line 7\n", "") + "tail\ntail\n"
    diff, added, removed = diff_texts("PROGRESS.md", before, after)
    assert (added, removed) == (2, 1)
    assert "too long to diff" in diff


def test_growth_counts_only_the_window() -> None:
    now = 10 * HOUR
    deltas = [(now - 2 * HOUR, 500), (now - 0.5 * HOUR, 80), (now - 0.1 * HOUR, 40), (now, -10)]
    assert growth_per_hour(deltas, now, HOUR) == 110.0
    assert growth_per_hour(deltas, now, 2 * HOUR) == 305.0
    assert growth_per_hour([], now, HOUR) == 0.0


def test_warnings_for_long_fast_and_quiet_files() -> None:
    rules = NoteRules()
    now = 30 * DAY
    assert warnings_for("PROGRESS.md", 400, 100.0, now - 7 * DAY, now, rules) == ()
    found = warnings_for("PROGRESS.md", 512, 150.0, now - 9 * DAY, now, rules)
    assert [warning.kind for warning in found] == ["long", "fast", "quiet"]
    assert found[0].message == "PROGRESS.md has 512 lines (over 400)"
    assert found[1].message == "PROGRESS.md grows 150 lines/hour (over 100)"
    assert found[2].message == "nobody changed PROGRESS.md for 9 days"
    strict = NoteRules(max_lines=10, fast_growth=5.0, quiet_after=HOUR)
    kinds = [w.kind for w in warnings_for("n.md", 11, 6.0, now - 2 * HOUR, now, strict)]
    assert kinds == ["long", "fast", "quiet"]


def test_blob_id_is_gits(tmp_path: Path) -> None:
    data = "# Progress\n\n- [ ] ünïcode ✓\n".encode()
    (tmp_path / "f").write_bytes(data)
    assert blob_id(data) == git(tmp_path, "hash-object", "f").strip()
