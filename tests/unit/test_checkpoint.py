"""A fold saved with the journal position it covers gives what folding the whole journal gives,
and is never used when it does not fit the journal it is read with."""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sessions.adapters.checkpoint import CHECKPOINT_ENV, CHECKPOINT_EVERY, Checkpoint
from sessions.adapters.journal import Journal
from sessions.core.fold import FOLD_VERSION, Fold
from sessions.services.conflicts import CONFLICTS_VERSION, ConflictTracker

Event = dict[str, Any]

AGENTS = st.sampled_from(["a", "b", "c"])
FINITE = st.floats(min_value=0, max_value=2e9, allow_nan=False, allow_infinity=False)
FIELDS: dict[str, st.SearchStrategy[Any]] = {
    "pid": st.integers(1, 1 << 22) | st.none(),
    "pane": st.sampled_from(["%1", "%2", "%9"]),
    "worktree": st.sampled_from(["/w/a", "/w/b"]),
    "branch": st.sampled_from(["corral/a", "corral/b"]),
    "session_id": st.text(max_size=6),
    "exit_code": st.integers(0, 255) | st.none(),
    "reason": st.sampled_from(["exited", "stopped", "rate_limit"]),
    "message": st.text(max_size=12),
    "signal": st.sampled_from(["SIGTERM", "SIGKILL"]) | st.none(),
    "short_streak": st.integers(0, 6),
    "delay": st.floats(0, 300, allow_nan=False),
    "files_written": st.integers(0, 50) | st.text(max_size=2) | st.none(),
    "commits": st.integers(0, 9) | st.none(),
    "hooks": st.lists(st.text(max_size=8), max_size=2),
    "ref": st.just("refs/corral/shelf/a"),
    "text": st.text(max_size=20),
    "stuck": st.booleans(),
    "cost_usd": st.floats(0, 0.01, allow_nan=False),
    "diff": st.text(max_size=200),
}
KINDS = st.sampled_from(
    [
        "start",
        "pane",
        "run_start",
        "run_end",
        "run_changes",
        "waiting",
        "crash_loop",
        "stop",
        "pause",
        "resume",
        "shelve",
        "rm",
        "summary",
        "summary_failed",
        "digest",
        "note",
        "send",
        "kill",
    ]
)


@st.composite
def events(draw: st.DrawFn) -> Event:
    event: Event = {"t": draw(FINITE), "event": draw(KINDS)}
    if draw(st.integers(0, 9)):
        event["agent"] = draw(AGENTS)
    event.update(draw(st.fixed_dictionaries({}, optional=FIELDS)))
    return event


def write(path: Path, items: list[Event], torn: bool = False) -> None:
    with path.open("ab") as handle:
        for item in items:
            handle.write(json.dumps(item).encode() + b"\n")
        if torn:
            handle.write(b'{"t":1,"event":"run_e')


def fold_with_checkpoint(path: Path) -> tuple[Fold, Checkpoint]:
    """What a new command does: the checkpoint if it fits, then what is new."""
    reader = Journal(path)
    checkpoint = Checkpoint(reader, "fold", FOLD_VERSION)
    fold = checkpoint.load(Fold.from_json) or Fold()
    fold.apply_all(reader.iter_new())
    checkpoint.save_if_due(fold.to_json)
    return fold, checkpoint


def full_fold(path: Path) -> Fold:
    return Fold().apply_all(Journal(path).read_all())


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    before=st.lists(events(), min_size=1, max_size=40),
    after=st.lists(events(), max_size=40),
    rotate=st.booleans(),
    torn=st.booleans(),
)
def test_fold_from_a_checkpoint_equals_the_full_fold(
    before: list[Event], after: list[Event], rotate: bool, torn: bool
) -> None:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "journal.jsonl"
        write(path, before, torn=torn)
        reader = Journal(path)
        first = Fold().apply_all(reader.iter_new())
        saved = Checkpoint(reader, "fold", FOLD_VERSION)
        assert saved.save_if_due(first.to_json, force=True)
        if rotate:
            assert Journal(path).rotate(limit=0) is not None
        appender = Journal(path)
        appended = []
        for item in after:  # through corral's own appender: a torn end gets its newline
            fields = {k: v for k, v in item.items() if k not in ("t", "event", "agent")}
            appended.append(appender.append(item["event"], item.get("agent"), **fields))
        fold, checkpoint = fold_with_checkpoint(path)
        assert checkpoint.status == "loaded"
        assert fold == full_fold(path)
        assert fold == Fold().apply_all(json.loads(json.dumps([*before, *appended])))


def test_a_second_command_reads_only_what_was_appended(tmp_path: Path) -> None:
    path = tmp_path / "journal.jsonl"
    journal = Journal(path)
    for n in range(5000):
        journal.append("run_start" if n % 2 else "run_end", f"a{n % 6}", run=n, pid=n)
    size = path.stat().st_size
    assert size > 4 * CHECKPOINT_EVERY
    _, checkpoint = fold_with_checkpoint(path)
    assert checkpoint.status == "missing" and checkpoint.reader.read_bytes >= size
    assert checkpoint.path.exists() and checkpoint.path.stat().st_mode & 0o777 == 0o600
    journal.append("pause", "a1", pid=1)
    again, checkpoint = fold_with_checkpoint(path)
    assert checkpoint.status == "loaded"
    assert checkpoint.reader.read_bytes < 3 * 4096 + 200  # two digests' bytes and the new line
    assert again.agents["a1"].paused and again == full_fold(path)


def _saved(tmp_path: Path, lines: int = 50) -> tuple[Path, Checkpoint]:
    path = tmp_path / "journal.jsonl"
    journal = Journal(path)
    for n in range(lines):
        journal.append("run_start", "a", run=n, pid=100 + n, pad="x" * (n % 5) * 40)
    fold, checkpoint = fold_with_checkpoint(path)
    assert checkpoint.save_if_due(fold.to_json, force=True)
    return path, checkpoint


def _status_after(path: Path) -> tuple[str, Fold]:
    fold, checkpoint = fold_with_checkpoint(path)
    return checkpoint.status, fold


def _replace(path: Path) -> None:
    text = path.read_bytes()
    path.unlink()
    path.write_bytes(text.replace(b'"pid":1', b'"pid":7'))


def _truncate(path: Path) -> None:
    with path.open("r+b") as handle:
        handle.truncate(path.stat().st_size // 2)


def _rewrite_in_place(path: Path) -> None:
    text = path.read_bytes()
    with path.open("r+b") as handle:  # same file, same length, other bytes before the end
        handle.write(text.replace(b'"pid":14', b'"pid":41'))


def _rewrite_start(path: Path) -> None:
    text = path.read_bytes()
    with path.open("r+b") as handle:
        handle.write(text.replace(b'"pid":100', b'"pid":900', 1))


@pytest.mark.parametrize(
    ("change", "then"),
    [
        (_replace, "loaded"),
        (_truncate, "loaded"),
        (_rewrite_in_place, "loaded"),
        (_rewrite_start, "loaded"),
        (lambda path: path.unlink(), "stale"),  # nothing to save a fold of
    ],
    ids=["replaced", "truncated", "rewritten-before-offset", "rewritten-at-start", "deleted"],
)
def test_a_checkpoint_of_another_journal_is_not_used(
    tmp_path: Path, change: Callable[[Path], None], then: str
) -> None:
    path, _ = _saved(tmp_path)
    change(path)
    found, fold = _status_after(path)
    assert found.startswith("stale")
    assert fold == full_fold(path)
    assert _status_after(path)[0].startswith(then)  # saved again from the journal as it is


def _garble(checkpoint: Path) -> None:
    checkpoint.write_bytes(checkpoint.read_bytes()[:-30])


def _rewrite(checkpoint: Path, head: dict[str, Any], body: bytes) -> None:
    checkpoint.write_bytes(json.dumps(head).encode() + b"\n" + body)


def _parts(checkpoint: Path) -> tuple[dict[str, Any], bytes]:
    head, _, body = checkpoint.read_bytes().partition(b"\n")
    return json.loads(head), body


def _edit_state(checkpoint: Path) -> None:
    head, body = _parts(checkpoint)
    assert b'"skipped":0' in body
    _rewrite(checkpoint, head, body.replace(b'"skipped":0', b'"skipped":9'))


def _other_version(checkpoint: Path) -> None:
    head, body = _parts(checkpoint)
    _rewrite(checkpoint, {**head, "version": "0.old"}, body)


def _open_to_others(checkpoint: Path) -> None:
    checkpoint.chmod(0o644)


def _symlink(checkpoint: Path) -> None:
    real = checkpoint.with_name("elsewhere.json")
    checkpoint.rename(real)
    checkpoint.symlink_to(real)


def _not_an_object(checkpoint: Path) -> None:
    checkpoint.write_text("[1, 2]")


@pytest.mark.parametrize(
    ("damage", "status"),
    [
        (_garble, "rejected: damaged"),
        (_edit_state, "rejected: damaged"),
        (_other_version, "rejected: another version"),
        (_open_to_others, "unreadable: not private"),
        (_symlink, "unreadable"),
        (_not_an_object, "rejected"),
        (lambda checkpoint: checkpoint.unlink(), "missing"),
    ],
    ids=["torn", "edited", "other-version", "0644", "symlink", "not-an-object", "missing"],
)
def test_a_damaged_checkpoint_is_rebuilt_from_the_journal(
    tmp_path: Path, damage: Callable[[Path], None], status: str
) -> None:
    path, checkpoint = _saved(tmp_path)
    damage(checkpoint.path)
    found, fold = _status_after(path)
    assert found.startswith(status)
    assert fold == full_fold(path) and fold.agents["a"].runs == 50
    assert _status_after(path)[0] == "loaded"


def test_the_environment_can_turn_checkpoints_off(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path, _ = _saved(tmp_path)
    monkeypatch.setenv(CHECKPOINT_ENV, "0")
    found, fold = _status_after(path)
    assert found == "off" and fold == full_fold(path)


def test_open_conflicts_come_back_from_a_checkpoint(tmp_path: Path) -> None:
    path = tmp_path / "journal.jsonl"
    journal = Journal(path)
    for n in range(400):
        pair = ["a", f"b{n % 7}"]
        detail = "both edited the same lines " * 4
        journal.append(
            "conflict_start", level="file", path=f"f{n}", agents=pair, since=n, detail=detail
        )
        if n % 3:
            journal.append("conflict_end", level="file", path=f"f{n}", agents=pair, since=n)

    def fold() -> tuple[ConflictTracker, Checkpoint]:
        reader = Journal(path)
        checkpoint = Checkpoint(reader, "conflicts", CONFLICTS_VERSION)
        tracker = ConflictTracker()
        saved = checkpoint.load(ConflictTracker.open_from_json)
        if saved is not None:
            tracker.restore(saved)
        for event in reader.iter_new():
            tracker.apply(event)
        checkpoint.save_if_due(tracker.to_json)
        return tracker, checkpoint

    first, checkpoint = fold()
    assert checkpoint.status == "missing" and checkpoint.path.exists()
    journal.append("conflict_end", level="file", path="f3", agents=["a", "b3"], since=3)
    second, checkpoint = fold()
    assert checkpoint.status == "loaded"
    assert second.open == ConflictTracker.from_journal(Journal(path)).open
    assert len(second.open) == len(first.open) - 1


def test_the_checkpoint_file_is_replaced_whole(tmp_path: Path, monkeypatch: Any) -> None:
    """Saved by writing a new private file and renaming it over the old: a reader sees one or
    the other, and a failed write leaves the old one and no stray file."""
    path, checkpoint = _saved(tmp_path)
    before = checkpoint.path.read_bytes()
    Journal(path).append("pause", "a")

    def full_disk(*args: object, **kwargs: object) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "replace", full_disk)
    fold, again = fold_with_checkpoint(path)
    assert not again.save_if_due(fold.to_json, force=True)
    assert checkpoint.path.read_bytes() == before
    assert sorted(p.name for p in checkpoint.path.parent.iterdir()) == ["fold.json"]


def test_the_summary_book_comes_back_from_a_checkpoint(tmp_path: Path) -> None:
    from sessions.core.prices import DEFAULT_PRICES
    from sessions.core.rules import SummaryRules
    from sessions.services.summaries import HOUR, Book, Summarizer

    path = tmp_path / "journal.jsonl"
    start = 1_700_000_000.0
    lines = []
    for n in range(600):
        agent = f"a{n % 4}"
        t = start + n * 30
        if n % 5 == 0:
            lines.append({"t": t, "event": "summary_failed", "agent": agent, "retry_at": t + 60})
        elif n % 97 == 0:
            lines.append({"t": t, "event": "digest", "text": "all quiet", "since": t - 9})
        else:
            text = f"editing the parser, step {n} " * 3
            lines.append(
                {"t": t, "event": "summary", "agent": agent, "text": text, "stuck": n % 7 == 0,
                 "state": "working", "key": f"k{n}", "cost_usd": 0.001}
            )  # fmt: skip
    write(path, lines)

    def book() -> tuple[Book, str]:
        summarizer = Summarizer(SummaryRules(), DEFAULT_PRICES, Journal(path), {})
        read = summarizer.read()
        assert summarizer._checkpoint is not None
        return read, summarizer._checkpoint.status

    _, status = book()
    assert status == "missing"
    write(path, [{"t": start + 600 * 30, "event": "summary_failed", "agent": "a1", "retry_at": 1}])
    second, status = book()
    assert status == "loaded"
    whole = Book()
    for event in Journal(path).read_all():
        whole.apply(event)
    assert (second.latest, second.keys, second.failures, second.digest) == (
        whole.latest,
        whole.keys,
        whole.failures,
        whole.digest,
    )
    for now in (start + 600 * 30, start + 600 * 30 + HOUR / 2, start + 600 * 30 + 2 * HOUR):
        assert second.spent(now) == pytest.approx(whole.spent(now))
