"""Tokens and what they add up to: per API response, per run and per agent.

Every agent kind counts tokens its own way (Claude reports cache writes apart from reads; OpenAI
and Gemini count cached tokens inside the input and reasoning inside or beside the output). They
are brought to one shape here, so totals, prices and the context gauge never ask which CLI wrote
them. Prices live in `sessions.core.prices`; this module only counts.
"""

from __future__ import annotations

import base64
import hashlib
from array import array
from bisect import bisect_left
from collections import OrderedDict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, fields
from typing import Any

# Some models charge more per token once one request's prompt passes a threshold (100k, 200k or
# 272k tokens at the time of writing), so usage is kept per prompt band: a total alone could not
# be priced. A band holds prompts up to and including its edge.
BAND_EDGES = (100_000, 200_000, 272_000)

# How many recent responses keep their tokens, so that a larger copy written later can replace a
# smaller one. Copies of one response are written within a few lines of each other.
RECENT_RESPONSES = 256


@dataclass(frozen=True)
class Tokens:
    """One shape for every kind's counts.

    `input` is uncached input, `cache_read` and `cache_write` the cached parts, so the prompt of a
    request is their sum. `output` includes reasoning; `reasoning` says how much of it that was.
    `cache_write_1h` is the part of `cache_write` kept for an hour, which Anthropic bills at a
    higher rate than the 5-minute kind.
    """

    input: int = 0
    output: int = 0
    cache_read: int = 0
    cache_write: int = 0
    reasoning: int = 0
    cache_write_1h: int = 0

    def __add__(self, other: Tokens) -> Tokens:
        return Tokens(*(a + b for a, b in zip(self.as_list(), other.as_list(), strict=True)))

    def __sub__(self, other: Tokens) -> Tokens:
        return self + Tokens(*(-n for n in other.as_list()))

    @property
    def prompt(self) -> int:
        """What the model read for this request: the context it was holding."""
        return self.input + self.cache_read + self.cache_write

    @property
    def total(self) -> int:
        return self.prompt + self.output

    def as_dict(self) -> dict[str, int]:
        return {
            "input": self.input,
            "output": self.output,
            "cache_read": self.cache_read,
            "cache_write": self.cache_write,
            "reasoning": self.reasoning,
            "cache_write_1h": self.cache_write_1h,
        }

    def as_list(self) -> list[int]:
        return [
            self.input,
            self.output,
            self.cache_read,
            self.cache_write,
            self.reasoning,
            self.cache_write_1h,
        ]

    @classmethod
    def from_list(cls, values: Sequence[object]) -> Tokens:
        counts = [v for v in values if isinstance(v, int) and not isinstance(v, bool)]
        if len(counts) != len(values) or len(counts) != len(fields(cls)):
            raise ValueError(f"not a token count: {values!r}")
        return cls(*counts)


ZERO = Tokens()


@dataclass(frozen=True)
class RunSpend:
    """One ended run: what it spent and whether it changed anything.

    `empty` marks a run that spent tokens yet wrote no file and made no commit: the agent
    talked, read, or looped, and the user paid for nothing they can keep.
    """

    number: int
    tokens: Tokens
    cost_usd: float | None
    files_written: int | None
    commits: int | None
    empty: bool

    def to_json(self) -> dict[str, object]:
        return {
            "run": self.number,
            "tokens": self.tokens.as_dict(),
            "cost_usd": self.cost_usd,
            "files_written": self.files_written,
            "commits": self.commits,
            "empty": self.empty,
        }


def band_of(prompt: int) -> int:
    """Index of the prompt band: 0 up to 100k, 1 up to 200k, 2 up to 272k, 3 above."""
    return bisect_left(BAND_EDGES, prompt)


Part = tuple[str, int, Tokens]


@dataclass(frozen=True)
class Usage:
    """Tokens per model and prompt band, the shape a price table can turn into dollars."""

    parts: tuple[Part, ...] = ()

    @classmethod
    def of(cls, parts: Iterable[Part]) -> Usage:
        merged: dict[tuple[str, int], Tokens] = {}
        for model, band, tokens in parts:
            merged[model, band] = merged.get((model, band), ZERO) + tokens
        kept = ((m, b, t) for (m, b), t in sorted(merged.items()) if t != ZERO)
        return cls(tuple(kept))

    def __add__(self, other: Usage) -> Usage:
        return Usage.of((*self.parts, *other.parts))

    def add(self, model: str, tokens: Tokens) -> Usage:
        return Usage.of((*self.parts, (model, band_of(tokens.prompt), tokens)))

    @property
    def tokens(self) -> Tokens:
        return sum((tokens for _, _, tokens in self.parts), ZERO)

    @property
    def models(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(model for model, _, _ in self.parts))

    def of_model(self, model: str) -> Tokens:
        return sum((t for m, _, t in self.parts if m == model), ZERO)


def context_fill(tokens: Tokens, window: int | None) -> float | None:
    """How full the model's window was on this request, as a fraction; None if the window is
    unknown, never a guess."""
    if not window or window <= 0:
        return None
    return tokens.prompt / window


class Fingerprints:
    """A set of ids kept as 8-byte digests, so remembering every id ever counted stays small
    enough to save and load on each one-shot command."""

    def __init__(self, digests: Iterable[int] = ()) -> None:
        self._digests = set(digests)

    def add(self, key: str) -> bool:
        """True the first time a key is seen."""
        digest = _digest(key)
        if digest in self._digests:
            return False
        self._digests.add(digest)
        return True

    def __contains__(self, key: object) -> bool:
        return isinstance(key, str) and _digest(key) in self._digests

    def __len__(self) -> int:
        return len(self._digests)

    def to_json(self) -> str:
        packed = array("Q", self._digests)
        return base64.b64encode(packed.tobytes()).decode("ascii")

    @classmethod
    def from_json(cls, text: object) -> Fingerprints:
        if not isinstance(text, str):
            raise ValueError("fingerprints must be a base64 string")
        packed = array("Q")
        packed.frombytes(base64.b64decode(text.encode("ascii"), validate=True))
        return cls(packed)


def _digest(key: str) -> int:
    return int.from_bytes(hashlib.blake2b(key.encode(), digest_size=8).digest(), "little")


_Entry = tuple[str, int, Tokens]  # model, run, tokens of one recent response


class UsageBook:
    """Counts each API response once, keeping its largest copy, across every file of one agent.

    A response can be written several times: once per content block while it streams, and again
    when a resumed session copies old messages into a new file. Recent responses keep their
    tokens so that a larger copy can replace a smaller one; every counted id is remembered as a
    fingerprint, so an old copy is recognised without keeping its text. Totals are kept per run
    (the runs corral started, by start time) as well as for the whole agent.
    """

    def __init__(self) -> None:
        self.responses = 0
        self._recent: OrderedDict[str, _Entry] = OrderedDict()
        self._seen = Fingerprints()
        self._totals: dict[tuple[int, str, int], Tokens] = {}
        self._runs: list[tuple[int, float]] = []

    def note_run(self, number: int, started: float) -> None:
        """Responses stamped at or after `started` count for run `number` (0: before any run)."""
        if (number, started) not in self._runs:
            self._runs.append((number, started))
            self._runs.sort(key=lambda run: run[1])

    def count(self, key: str, model: str, tokens: Tokens, at: float | None) -> bool:
        """True when this copy changed the totals: a new response, or a larger copy of one."""
        known = self._recent.get(key)
        if known is not None:
            return self._replace(key, model, tokens, known)
        if not self._seen.add(key):
            return False
        run = self._run_at(at)
        self.responses += 1
        self._book(run, model, tokens)
        self._remember(key, (model, run, tokens))
        return True

    def usage(self) -> Usage:
        return Usage.of((model, band, t) for (_, model, band), t in self._totals.items())

    def runs(self) -> tuple[tuple[int, Usage], ...]:
        numbers = sorted({run for run, _, _ in self._totals})
        return tuple((n, self._usage_of_run(n)) for n in numbers)

    def _usage_of_run(self, number: int) -> Usage:
        items = self._totals.items()
        return Usage.of((model, band, t) for (run, model, band), t in items if run == number)

    def _replace(self, key: str, model: str, tokens: Tokens, known: _Entry) -> bool:
        old_model, run, old = known
        self._recent.move_to_end(key)
        if tokens.total <= old.total:
            return False
        self._book(run, old_model, ZERO - old)
        self._book(run, model, tokens)
        self._recent[key] = (model, run, tokens)
        return True

    def _book(self, run: int, model: str, tokens: Tokens) -> None:
        slot = (run, model, band_of(abs(tokens.prompt)))
        total = self._totals.get(slot, ZERO) + tokens
        if total == ZERO:
            self._totals.pop(slot, None)
        else:
            self._totals[slot] = total

    def _remember(self, key: str, entry: _Entry) -> None:
        self._recent[key] = entry
        while len(self._recent) > RECENT_RESPONSES:
            self._recent.popitem(last=False)

    def _run_at(self, at: float | None) -> int:
        if not self._runs:
            return 0
        if at is None:
            return self._runs[-1][0]
        earlier = [number for number, started in self._runs if started <= at]
        return earlier[-1] if earlier else 0

    def to_json(self) -> dict[str, Any]:
        return {
            "responses": self.responses,
            "runs": [[number, started] for number, started in self._runs],
            "totals": [[run, m, b, t.as_list()] for (run, m, b), t in self._totals.items()],
            "recent": [[k, m, run, t.as_list()] for k, (m, run, t) in self._recent.items()],
            "seen": self._seen.to_json(),
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> UsageBook:
        """Raises ValueError, TypeError or KeyError on a damaged state; the caller starts over."""
        book = cls()
        book.responses = _int(data["responses"])
        book._runs = [(_int(n), float(s)) for n, s in data["runs"]]
        for run, model, band, counts in data["totals"]:
            book._totals[_int(run), str(model), _int(band)] = Tokens.from_list(counts)
        for key, model, run, counts in data["recent"]:
            book._recent[str(key)] = (str(model), _int(run), Tokens.from_list(counts))
        book._seen = Fingerprints.from_json(data["seen"])
        return book


def _int(value: object) -> int:
    if type(value) is not int:
        raise ValueError(f"expected an integer, got {value!r}")
    return value
