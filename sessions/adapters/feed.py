"""One reader of the journal per supervisor, feeding every fold that needs its events.

The supervisor's fold, the open conflicts and the notes' history are all folds of the same
lines. Each used to keep its own reader, so one look opened and read the journal once per fold;
now the feed reads what was appended once and hands each event to every follower. A follower
that joins late (a tracker made on first use) catches up with a reader of its own, from its
checkpoint, from the first byte or from near the end, up to where the feed is, and is fed from
there on. A checkpoint is saved at the feed's position.

An action needs no feed: `latest_records` reads the agents it acts on back from the journal's
end, as far as their latest start.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Collection
from dataclasses import dataclass
from typing import Any

from sessions.adapters.checkpoint import Checkpoint
from sessions.adapters.journal import Journal
from sessions.core.events import Event
from sessions.core.fold import AgentRecord, Fold


@dataclass(frozen=True)
class Follower:
    """A fold the feed hands each event to, in order, through `apply`.

    With a checkpoint `kind`, what `decode` reads back from the saved file goes to `restore`
    (and the fold goes on from the position it covers), and `encode` gives what to save. With
    `near_end` (and no checkpoint), it starts about that many bytes before the journal's end
    instead of at its first byte."""

    apply: Callable[[Event], None]
    kind: str | None = None
    version: str = ""
    decode: Callable[[Any], Any] | None = None
    restore: Callable[[Any], None] | None = None
    encode: Callable[[], Any] | None = None
    near_end: int | None = None


class Feed:
    """`journal` is the one reader (and an appender like any other); the first follower to
    join places it."""

    def __init__(self, journal: Journal) -> None:
        self.journal = journal
        self._following: list[tuple[Follower, Checkpoint | None]] = []
        self._joining: list[Follower] = []
        self._started = False

    def join(self, follower: Follower) -> None:
        """Feed `follower` from the next `pull` on; nothing is read now."""
        self._joining.append(follower)

    def pull(self) -> None:
        """Read what the journal gained since the last pull, once, and hand it to every
        follower. A journal that did not grow is not even opened. A journal grown past its
        limit is rotated here."""
        if not self._joining and self._started and not self.journal.grew():
            return
        catching = []
        for follower in self._joining:
            if not self._started:
                self._following.append((follower, _place(self.journal, follower)))
                self._started = True
            else:
                reader = Journal(self.journal.path)
                catching.append((follower, reader, _place(reader, follower)))
        self._joining = []
        self._started = True
        for event in self.journal.iter_new():
            for follower, _ in self._following:
                follower.apply(event)
        for follower, reader, checkpoint in catching:
            if reader.mark() is None or reader.mark() != self.journal.mark():
                for event in reader.iter_until(self.journal):
                    follower.apply(event)
            if checkpoint is not None:
                checkpoint.follow(self.journal)
            self._following.append((follower, checkpoint))
        for follower, checkpoint in self._following:
            if checkpoint is not None and follower.encode is not None:
                checkpoint.save_if_due(follower.encode)
        self.journal.rotate()


def _place(reader: Journal, follower: Follower) -> Checkpoint | None:
    """Put `reader` where `follower` starts: at its checkpoint's position when one fits."""
    if follower.kind is None:
        if follower.near_end is not None:
            reader.start_near_end(follower.near_end)
        return None
    checkpoint = Checkpoint(reader, follower.kind, follower.version)
    if follower.decode is not None:
        saved = checkpoint.load(follower.decode)
        if saved is not None and follower.restore is not None:
            follower.restore(saved)
    return checkpoint


def latest_records(journal: Journal, names: Collection[str]) -> dict[str, AgentRecord]:
    """Each named agent's record as its events since its latest `start` make it, read back from
    the journal's end: what an action needs to know of an agent (its run's process, paused,
    shelved, its branch), for what the agents' current launches take to read rather than the
    whole history. `start` resets every fact an action judges by; counts over all runs (`runs`,
    `ended_runs`) cover the current launch only."""
    wanted = set(names)
    mine: list[Event] = []
    with contextlib.closing(journal.back()) as events:
        for event in events:
            name = event.get("agent")
            if name not in wanted:
                continue
            mine.append(event)
            if event.get("event") == "start":
                wanted.discard(name)
                if not wanted:
                    break
    return Fold().apply_all(reversed(mine)).agents
