"""One-line summaries of what each agent is doing, and a digest of what changed meanwhile,
written by a Claude model through the anthropic SDK.

Off unless `[summaries] enabled = true`: what is sent is the agent's own output, so everything
goes through the `Redactor` first. Every answer is a journal event, so a summary survives a
restart and the same input is never paid for twice; every failure is one too, and a quiet status
sentence says what is wrong and when the next try is. The hourly cap is kept before each
request from the journal's own record of what summaries cost, so a restart does not reset it.
"""

from __future__ import annotations

import asyncio
import hashlib
import os
import threading
import time
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

import anthropic

from sessions.adapters.checkpoint import Checkpoint
from sessions.adapters.journal import Journal
from sessions.core.events import (
    DIGEST,
    QUIET_EVENTS,
    SUMMARY,
    SUMMARY_FAILED,
    Event,
    schema_version,
)
from sessions.core.model import Summary
from sessions.core.prices import PriceTable
from sessions.core.rules import SummaryRules
from sessions.core.summary_values import Brief, Digest, Skipped
from sessions.core.usage import Tokens

HOUR = 3600.0
ANSWER_TOKENS = 120  # one line, and a digest of a few
DIGEST_TOKENS = 400
FIRST_RETRY = 60.0
LAST_RETRY = 900.0
STUCK = "stuck:"

AGENT_PROMPT = (
    "You watch one AI coding agent for the person supervising several of them. From the facts "
    "below, write ONE line of at most 100 characters saying what the agent is doing now. If it "
    "looks stuck (repeating itself, waiting on something that will not come, erroring in a "
    f"loop, idle with its task unfinished), start the line with '{STUCK}' and say why. No "
    "preamble, no quotes, no markdown."
)
DIGEST_PROMPT = (
    "The person supervising several AI coding agents was away. From the facts below, tell them "
    "in at most five short lines what changed across the herd while they were away: states, "
    "conflicts, commits, PROGRESS.md and notes. Most important first; name the agents. No "
    "preamble, no markdown headings."
)


@dataclass
class Book:
    """What the journal says summaries were, cost and failed: read incrementally."""

    latest: dict[str, Summary] = field(default_factory=dict)
    keys: dict[str, str] = field(default_factory=dict)  # the input each was written from
    spending: list[tuple[float, float]] = field(default_factory=list)
    failures: dict[str, tuple[int, float]] = field(default_factory=dict)  # count, retry at
    digest: Digest | None = None

    def apply(self, event: Event) -> None:
        kind = event.get("event")
        if kind not in QUIET_EVENTS:
            return
        try:
            t = float(event.get("t", 0.0))
            cost = event.get("cost_usd")
            if isinstance(cost, int | float) and cost > 0:
                self.spending.append((t, float(cost)))
            agent = event.get("agent")
            said = Summary.from_event(event) if kind == SUMMARY else None
            if said is not None and isinstance(agent, str):
                self.latest[agent] = said
                self.keys[agent] = str(event.get("key", ""))
                self.failures.pop(agent, None)
            elif kind == SUMMARY_FAILED and isinstance(agent, str):
                count = self.failures.get(agent, (0, 0.0))[0] + 1
                self.failures[agent] = (count, float(event.get("retry_at", t)))
            elif kind == DIGEST:
                self.digest = Digest(str(event["text"]), float(event.get("since", 0.0)), t)
        except (KeyError, TypeError, ValueError):
            return  # a damaged line costs that line only

    def spent(self, now: float) -> float:
        return sum(cost for t, cost in self.spending if now - t < HOUR)

    def to_json(self) -> dict[str, Any]:
        """The book as a checkpoint keeps it: the spending of the last hour before the newest
        cost, since nothing older counts towards the cap again."""
        newest = max((t for t, _ in self.spending), default=0.0)
        return {
            "latest": {agent: asdict(said) for agent, said in self.latest.items()},
            "keys": self.keys,
            "spending": [[t, cost] for t, cost in self.spending if newest - t < HOUR],
            "failures": {agent: list(failed) for agent, failed in self.failures.items()},
            "digest": asdict(self.digest) if self.digest is not None else None,
        }

    @classmethod
    def from_json(cls, data: Any) -> Book:
        digest = data["digest"]
        return cls(
            latest={str(agent): Summary(**said) for agent, said in data["latest"].items()},
            keys={str(agent): str(key) for agent, key in data["keys"].items()},
            spending=[(float(t), float(cost)) for t, cost in data["spending"]],
            failures={
                str(agent): (int(count), float(retry))
                for agent, (count, retry) in data["failures"].items()
            },
            digest=Digest(**digest) if digest is not None else None,
        )


# Changes with what `Book.to_json` writes: its checkpoints are then rebuilt.
BOOK_VERSION = "1." + schema_version(Summary, Digest)


class Summarizer:
    """Asks the model, keeps the cap, records the answer. One per process, on one journal."""

    def __init__(
        self,
        rules: SummaryRules,
        prices: PriceTable,
        journal: Journal,
        environ: Mapping[str, str] | None = None,
        client: anthropic.AsyncAnthropic | None = None,
    ) -> None:
        self.rules = rules
        self.prices = prices
        self.journal = journal
        self.environ = os.environ if environ is None else environ
        self._client = client
        self._reader = Journal(journal.path)
        self.book = Book()
        self._checkpoint: Checkpoint | None = None  # the book as the last process left it
        self._lock = threading.Lock()
        self.status: str | None = None  # the quiet line: what is wrong, what happens next

    # -- what is known ---------------------------------------------------------------------

    def read(self) -> Book:
        with self._lock:  # the dashboard asks from a worker thread and from the event loop
            if self._checkpoint is None:
                self._checkpoint = Checkpoint(self._reader, "summaries", BOOK_VERSION)
                self.book = self._checkpoint.load(Book.from_json) or self.book
            for event in self._reader.iter_new():
                self.book.apply(event)
            self._checkpoint.save_if_due(self.book.to_json)
            return self.book

    async def _note(self, event: str, agent: str | None, **fields: object) -> None:
        """Journal off the event loop: the dashboard's UI runs on it."""
        await asyncio.to_thread(self.journal.append, event, agent, **fields)

    def problem(self) -> str | None:
        """Why no request can be made at all, in one sentence; None when one can."""
        if not self.rules.enabled:
            return (
                "summaries are off: set `enabled = true` under [summaries] in corral.toml "
                "(they send redacted agent output to Anthropic)."
            )
        if self._client is None and not (
            self.environ.get("ANTHROPIC_API_KEY") or self.environ.get("ANTHROPIC_AUTH_TOKEN")
        ):
            return (
                "summaries need an API key: export ANTHROPIC_API_KEY before starting corral "
                "(corral never stores it)."
            )
        if self.prices.find(self.rules.model) is None:
            return (
                f"no price is known for {self.rules.model}, so the hourly cap cannot be kept: "
                f'add [prices."{self.rules.model}"] to corral.toml or choose another model.'
            )
        return None

    def due(self, states: Mapping[str, str], now: float) -> list[str]:
        """The agents the refresh policy says to summarise now. With `on_change`: one never
        summarised, one whose state is not the one its summary was written in, and a working
        one whose summary is older than `every_minutes` (what it works on moves on); none of
        them within `every_minutes` of its last summary or inside a failed try's back-off.
        Without it, summaries come only when asked for."""
        if not self.rules.on_change:
            return []
        book = self.read()
        every = self.rules.every_minutes * 60
        found = []
        for name, state in states.items():
            failed = book.failures.get(name)
            if failed and now < failed[1]:
                continue
            last = book.latest.get(name)
            moved = last is not None and (last.state != state or state == "working")
            if last is None or (moved and now - last.t >= every):
                found.append(name)
        return found

    # -- asking --------------------------------------------------------------------------

    @property
    def client(self) -> anthropic.AsyncAnthropic:
        if self._client is None:
            # The SDK reads ANTHROPIC_API_KEY and ANTHROPIC_BASE_URL itself; only the retries
            # and the time limit are corral's.
            self._client = anthropic.AsyncAnthropic(
                api_key=self.environ.get("ANTHROPIC_API_KEY"),
                auth_token=self.environ.get("ANTHROPIC_AUTH_TOKEN"),
                base_url=self.environ.get("ANTHROPIC_BASE_URL"),
                max_retries=2,
                timeout=self.rules.timeout,
            )
        return self._client

    async def summarize(self, brief: Brief, now: float | None = None) -> Summary | Skipped:
        now = time.time() if now is None else now
        if (problem := self.problem()) is not None:
            return Skipped(brief.agent, problem)
        text, counted = await self._fit(AGENT_PROMPT, brief.sections)
        key = _key(self.rules.model, AGENT_PROMPT, text)
        book = await asyncio.to_thread(self.read)
        last = book.latest.get(brief.agent)
        if last is not None and book.keys.get(brief.agent) == key:
            return last  # asked before with this very input: the journal has the answer
        answer = await self._ask(brief.agent, AGENT_PROMPT, text, counted, ANSWER_TOKENS, now)
        if isinstance(answer, Skipped):
            return answer
        line, cost = answer
        line = line.strip().splitlines()[0].strip() if line.strip() else "(no answer)"
        stuck = line.lower().startswith(STUCK)
        if stuck:
            line = line[len(STUCK) :].strip()
        await self._note(
            SUMMARY,
            brief.agent,
            text=line,
            stuck=stuck,
            state=brief.state,
            key=key,
            model=self.rules.model,
            cost_usd=cost,
        )
        self.status = None
        return Summary(line, stuck, now, brief.state)

    async def digest(self, facts: Sequence[str], since: float) -> Digest | Skipped:
        now = time.time()
        if (problem := self.problem()) is not None:
            return Skipped(None, problem)
        text, counted = await self._fit(DIGEST_PROMPT, facts)
        answer = await self._ask(None, DIGEST_PROMPT, text, counted, DIGEST_TOKENS, now)
        if isinstance(answer, Skipped):
            return answer
        words, cost = answer
        words = words.strip() or "(no answer)"
        await self._note(
            DIGEST, None, text=words, since=since, model=self.rules.model, cost_usd=cost
        )
        return Digest(words, since, now, cost)

    async def _fit(self, prompt: str, sections: Sequence[str]) -> tuple[str, int]:
        """The sections joined, cut until the SDK counts them within `input_tokens`: the
        longest section loses its oldest lines first, so the newest facts stay."""
        parts = [list(section.splitlines()) for section in sections]
        for _ in range(4):
            text = "\n\n".join("\n".join(lines) for lines in parts if lines)
            counted = await self._count(prompt, text)
            if counted <= self.rules.input_tokens:
                return text, counted
            share = self.rules.input_tokens / counted * 0.9
            for lines in parts:
                keep = max(1, int(len(lines) * share))
                del lines[1 : len(lines) - keep + 1]  # the heading line stays
        return text[: self.rules.input_tokens * 2], self.rules.input_tokens  # a last resort

    async def _count(self, prompt: str, text: str) -> int:
        try:
            counted = await self.client.messages.count_tokens(
                model=self.rules.model,
                system=prompt,
                messages=[{"role": "user", "content": text}],
            )
            return int(counted.input_tokens)
        except anthropic.APIError:
            return len(text) // 3 + len(prompt) // 3  # a pessimistic guess keeps the budget

    async def _ask(
        self, agent: str | None, prompt: str, text: str, counted: int, most: int, now: float
    ) -> tuple[str, float | None] | Skipped:
        """The answer and its cost, unless the request could pass the hourly cap: it is
        priced before it is sent, at its counted input and the most output it may have."""
        price = self.prices.find(self.rules.model)
        assert price is not None  # problem() said so
        rates = price.rates
        dearest = (counted * rates.input + most * rates.output) / 1_000_000
        spent = (await asyncio.to_thread(self.read)).spent(now)
        if spent + dearest > self.rules.hourly_cap_usd:
            self.status = (
                f"summaries wait: ${spent:.2f} of the ${self.rules.hourly_cap_usd:.2f} hourly "
                "cap is spent"
            )
            return Skipped(agent, self.status + ".")
        try:
            message = await self.client.messages.create(
                model=self.rules.model,
                max_tokens=most,
                system=prompt,
                messages=[{"role": "user", "content": text}],
            )
        except anthropic.APIError as error:
            return await self._failed(agent, error, now)
        words = "".join(block.text for block in message.content if block.type == "text")
        usage = message.usage
        tokens = Tokens(
            input=usage.input_tokens,
            output=usage.output_tokens,
            cache_read=usage.cache_read_input_tokens or 0,
            cache_write=usage.cache_creation_input_tokens or 0,
        )
        return words, round(rates.cost(tokens), 6)

    async def _failed(self, agent: str | None, error: anthropic.APIError, now: float) -> Skipped:
        count = (self.book.failures.get(agent, (0, 0.0))[0] if agent else 0) + 1
        wait = min(LAST_RETRY, FIRST_RETRY * 2 ** (count - 1))
        status = getattr(error, "status_code", None)
        if isinstance(error, anthropic.APIStatusError):
            after = error.response.headers.get("retry-after")
            if after and after.replace(".", "", 1).isdigit():
                wait = max(wait, float(after))
        why = _why(error)
        await self._note(
            SUMMARY_FAILED, agent, reason=why, status=status, retry_at=round(now + wait, 3)
        )
        self.status = f"summaries: {why}; next try in {_minutes(wait)}"
        return Skipped(agent, self.status + ".")


def _why(error: anthropic.APIError) -> str:
    if isinstance(error, anthropic.APITimeoutError):
        return "Anthropic did not answer in time"
    if isinstance(error, anthropic.APIConnectionError):
        return "Anthropic cannot be reached"
    if isinstance(error, anthropic.AuthenticationError):
        return "Anthropic refused the API key (401): check ANTHROPIC_API_KEY"
    if isinstance(error, anthropic.RateLimitError):
        return "Anthropic is rate limiting (429)"
    if isinstance(error, anthropic.APIStatusError):
        return f"Anthropic answered {error.status_code}"
    return f"the request failed ({type(error).__name__})"


def _minutes(seconds: float) -> str:
    return f"{seconds:.0f} s" if seconds < 120 else f"{seconds / 60:.0f} min"


def _key(*parts: str) -> str:
    digest = hashlib.sha256()
    for part in parts:
        digest.update(part.encode())
        digest.update(b"\0")
    return digest.hexdigest()[:16]
