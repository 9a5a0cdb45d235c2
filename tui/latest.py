"""Back-pressure for reads that can run long: one at a time of each kind, and the latest
request wins.

A request made while one of its kind runs waits; a newer one replaces it. So a slow tmux or git
never piles up work (at most one runs and one waits per kind), and what runs next is always
what was asked for last, never an older request that a newer one made moot.
"""

from __future__ import annotations

from typing import Generic, TypeVar

T = TypeVar("T")


class Latest(Generic[T]):
    """Requests by kind; the caller starts what `ask` and `done` hand back."""

    def __init__(self) -> None:
        self._running: set[str] = set()
        self._waiting: dict[str, T] = {}

    def ask(self, kind: str, request: T) -> T | None:
        """The request to start now, or None when one of its kind runs: then it waits, in the
        place of any request of that kind that was waiting."""
        if kind in self._running:
            self._waiting[kind] = request
            return None
        self._running.add(kind)
        return request

    def done(self, kind: str) -> T | None:
        """The running one of `kind` has ended: the request to start in its place, if any."""
        request = self._waiting.pop(kind, None)
        if request is None:
            self._running.discard(kind)
        return request

    def running(self, kind: str) -> bool:
        return kind in self._running
