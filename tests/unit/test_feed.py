"""One reader feeds every fold: a fold that joins late, from its own checkpoint, from the first
byte or from near the end, catches up to where the feed is and misses no event and sees none
twice, across a rotation too."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from sessions.adapters.feed import Feed, Follower
from sessions.adapters.journal import Journal


def seen(path: Path) -> list[Any]:
    return [event["n"] for event in Journal(path).read_all()]


def appended(journal: Journal, numbers: range) -> None:
    for n in numbers:
        journal.append("step", "a", n=n, pad="x" * 40)


def fed(path: Path, count: int) -> tuple[Journal, Feed, list[Any]]:
    """A journal of `count` events, and a feed that has read them into a list."""
    journal = Journal(path)
    appended(journal, range(count))
    feed = Feed(Journal(path))
    every: list[Any] = []
    feed.join(Follower(apply=lambda event: every.append(event["n"])))
    feed.pull()
    return journal, feed, every


@pytest.mark.parametrize("rotate", [False, True])
def test_a_late_follower_catches_up_then_is_fed(tmp_path: Path, rotate: bool) -> None:
    path = tmp_path / "journal.jsonl"
    journal, feed, first = fed(path, 50)
    appended(journal, range(50, 80))
    if rotate:
        assert journal.rotate(limit=1) is not None
    appended(journal, range(80, 90))
    late: list[Any] = []
    feed.join(Follower(apply=lambda event: late.append(event["n"])))
    feed.pull()
    appended(journal, range(90, 100))
    feed.pull()
    assert first == late == seen(path) == list(range(100))


def test_a_follower_near_the_end_starts_near_the_end(tmp_path: Path) -> None:
    journal, feed, every = fed(tmp_path / "journal.jsonl", 500)
    recent: list[Any] = []
    feed.join(Follower(apply=lambda event: recent.append(event["n"]), near_end=2000))
    appended(journal, range(500, 510))
    feed.pull()
    assert every == list(range(510))
    assert recent[0] > 0 and recent == list(range(recent[0], 510)) and len(recent) < 100


def test_a_journal_that_did_not_grow_is_not_opened(tmp_path: Path) -> None:
    journal, feed, _ = fed(tmp_path / "journal.jsonl", 3)
    assert not feed.journal.grew()
    appended(journal, range(3, 4))
    assert feed.journal.grew()
