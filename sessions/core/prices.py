"""What tokens cost and how much context a model holds, per model family.

Prices move and new models appear every few weeks, so every entry carries the date it was taken
and where from, a model with no entry costs None (said out loud, never guessed), and corral.toml
can override or add entries (`PriceTable.from_mapping`). A dated or provider-prefixed model id
(`claude-sonnet-4-5-20250929`, `us.anthropic.claude-...-v1:0`, `gemini-2.5-flash-preview-09-2025`)
finds its family; a different version (`claude-opus-4-9` against `claude-opus-4`) does not, since
versions of one family have been priced differently.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, fields, replace
from typing import Any, TypeVar

from sessions.core.usage import BAND_EDGES, Tokens, Usage

MILLION = 1_000_000


@dataclass(frozen=True)
class Rates:
    """USD per million tokens. `cache_write` is the 5-minute kind where a provider has two;
    `cache_write_1h` the hour-long kind (Anthropic: twice the input rate), None where a
    provider has only one."""

    input: float
    output: float
    cache_read: float
    cache_write: float
    cache_write_1h: float | None = None

    def cost(self, tokens: Tokens) -> float:
        hour = tokens.cache_write_1h
        hour_rate = self.cache_write if self.cache_write_1h is None else self.cache_write_1h
        return (
            tokens.input * self.input
            + tokens.output * self.output
            + tokens.cache_read * self.cache_read
            + (tokens.cache_write - hour) * self.cache_write
            + hour * hour_rate
        ) / MILLION


@dataclass(frozen=True)
class Price:
    """One model family's rates; `long` applies to a whole request whose prompt passes `above`."""

    prefix: str
    rates: Rates
    as_of: str
    source: str
    above: int | None = None
    long: Rates | None = None
    note: str = ""

    def cost(self, band: int, tokens: Tokens) -> float:
        return self.rates_for(band).cost(tokens)

    def rates_for(self, band: int) -> Rates:
        if self.long is None or self.above is None:
            return self.rates
        return self.long if band > BAND_EDGES.index(self.above) else self.rates


@dataclass(frozen=True)
class Cost:
    """Dollars for some usage. `usd` is None as soon as any model has no price: a partial sum
    shown as a total would mislead; `priced_usd` is what the known models cost."""

    usd: float | None
    priced_usd: float
    unpriced: tuple[str, ...] = ()

    @property
    def reason(self) -> str | None:
        if not self.unpriced:
            return None
        names = ", ".join(self.unpriced)
        return f'no price for {names}: add [prices."<model prefix>"] to corral.toml'


class PriceError(ValueError):
    """A bad `[prices]` entry; `key` is the dotted key that is wrong."""

    def __init__(self, key: str, message: str) -> None:
        super().__init__(f"{key}: {message}")
        self.key = key


class PriceTable:
    """Prices by model-family prefix; the longest prefix that matches a model id wins."""

    def __init__(self, prices: Iterable[Price]) -> None:
        self._prices = {price.prefix: price for price in prices}

    def __iter__(self) -> Iterator[Price]:
        return iter(self._prices.values())

    def __len__(self) -> int:
        return len(self._prices)

    def find(self, model: str) -> Price | None:
        return find_family(model, self._prices)

    def cost(self, usage: Usage) -> Cost:
        priced = 0.0
        unpriced: list[str] = []
        for model, band, tokens in usage.parts:
            price = self.find(model)
            if price is None:
                unpriced.append(model)
            else:
                priced += price.cost(band, tokens)
        missing = tuple(dict.fromkeys(unpriced))
        return Cost(usd=None if missing else priced, priced_usd=priced, unpriced=missing)

    def updated(self, other: Iterable[Price]) -> PriceTable:
        return PriceTable((*self, *other))

    @classmethod
    def from_mapping(cls, data: Mapping[str, Any], *, defaults: bool = True) -> PriceTable:
        """The `[prices]` table of corral.toml, on top of the defaults unless told otherwise.

        Shape, in USD per million tokens. Cache rates left out cost as much as input (an upper
        bound). `long` is for models that charge more once a prompt passes `above` tokens; its
        input and output default to the entry's own:

            [prices."claude-opus-5"]
            input = 5.0
            output = 25.0
            cache_read = 0.5
            cache_write = 6.25
            as_of = "2026-11-22"
            long = { above = 200000, input = 10.0, output = 37.5 }
        """
        if not isinstance(data, Mapping):
            raise PriceError("prices", "expected a table of model prefixes")
        parsed = [_parse_entry(str(prefix), entry) for prefix, entry in data.items()]
        return (DEFAULT_PRICES if defaults else PriceTable(())).updated(parsed)


_RATE_KEYS = tuple(f.name for f in fields(Rates))
_ENTRY_KEYS = {*_RATE_KEYS, "as_of", "source", "note", "long"}


def _parse_entry(prefix: str, entry: object) -> Price:
    where = f'prices."{prefix}"'
    if not normalize(prefix) or normalize(prefix) != prefix.strip().lower():
        raise PriceError(where, "a model prefix must be a plain model id like claude-opus-5")
    if not isinstance(entry, Mapping):
        raise PriceError(where, "expected a table with input and output prices")
    _refuse_unknown(where, entry, _ENTRY_KEYS)
    rates = _parse_rates(where, entry, None)
    above, long = _parse_long(where, entry.get("long"), rates)
    return Price(
        prefix=normalize(prefix),
        rates=rates,
        as_of=_text(where, entry, "as_of", "set in corral.toml"),
        source=_text(where, entry, "source", "corral.toml"),
        above=above,
        long=long,
        note=_text(where, entry, "note", ""),
    )


def _parse_rates(where: str, entry: Mapping[str, Any], base: Rates | None) -> Rates:
    values: dict[str, float] = {}
    for key in ("input", "output"):
        fallback = getattr(base, key) if base is not None else None
        values[key] = _rate(where, entry, key, fallback)
    for key in ("cache_read", "cache_write"):
        values[key] = _rate(where, entry, key, values["input"])
    values["cache_write_1h"] = _rate(where, entry, "cache_write_1h", 2 * values["input"])
    return Rates(**values)


def _parse_long(where: str, long: object, rates: Rates) -> tuple[int | None, Rates | None]:
    if long is None:
        return None, None
    where = f"{where}.long"
    if not isinstance(long, Mapping):
        raise PriceError(where, "expected a table like { above = 200000, input = 2.5 }")
    _refuse_unknown(where, long, {*_RATE_KEYS, "above"})
    above = long.get("above")
    if above not in BAND_EDGES:
        edges = ", ".join(str(edge) for edge in BAND_EDGES)
        raise PriceError(f"{where}.above", f"must be one of {edges}, got {above!r}")
    return above, _parse_rates(where, long, rates)


def _rate(where: str, entry: Mapping[str, Any], key: str, fallback: float | None) -> float:
    value = entry.get(key, fallback)
    if value is None:
        raise PriceError(f"{where}.{key}", "missing: give the price in USD per million tokens")
    if isinstance(value, bool) or not isinstance(value, int | float) or not 0 <= value < 10_000:
        raise PriceError(f"{where}.{key}", f"expected USD per million tokens, got {value!r}")
    return float(value)


def _text(where: str, entry: Mapping[str, Any], key: str, default: str) -> str:
    value = entry.get(key, default)
    if not isinstance(value, str):
        raise PriceError(f"{where}.{key}", f"expected text, got {value!r}")
    return value


def _refuse_unknown(where: str, entry: Mapping[str, Any], known: set[str]) -> None:
    unknown = sorted(set(map(str, entry)) - known)
    if unknown:
        allowed = ", ".join(sorted(known))
        raise PriceError(f"{where}.{unknown[0]}", f"unknown key (known: {allowed})")


T = TypeVar("T")

_PROVIDER = re.compile(r"^(?:[a-z]+\.)?anthropic\.|^(?:anthropic|openai|google|models)/")
# What may follow a family's prefix and still be that family: dates, pins and labels, never a
# further version number.
_VARIANT = re.compile(
    r"(?:[-@](?:\d{8}|\d{4}-\d{2}-\d{2}|\d{2}-\d{4}|\d{3}|latest|preview|exp|v\d+(?::\d+)?)"
    r"|\[[^\]]*\])*"
)


def normalize(model: str) -> str:
    return _PROVIDER.sub("", model.strip().lower())


def find_family(model: str, table: Mapping[str, T]) -> T | None:
    name = normalize(model)
    matches = [p for p in table if name.startswith(p) and _VARIANT.fullmatch(name, len(p))]
    return table[max(matches, key=len)] if matches else None


def context_window(model: str | None) -> int | None:
    """Tokens the model can hold, from `WINDOWS`; None for a model not listed."""
    return None if model is None else find_family(model, WINDOWS)


# ---------------------------------------------------------------------------------------------
# Defaults. Read on 2026-11-22 from stored copies of the providers' own pages unless the entry
# names another source and date. Check and override in corral.toml when they move.

_CLAUDE = "https://platform.claude.com/docs/en/about-claude/pricing"
_CLAUDE_MODEL = "https://platform.claude.com/docs/en/models/{}/overview"
_OPENAI = "https://developers.openai.com/api/docs/models/{}"
_GEMINI = "https://ai.google.dev/gemini-api/docs/pricing"
_READ = "2026-11-22"


def _claude(prefix: str, i: float, o: float, cr: float, cw: float, **kw: Any) -> Price:
    """Anthropic bills 1-hour cache writes at twice the input rate (5-minute ones at 1.25x)."""
    kw.setdefault("source", _CLAUDE)
    long = kw.get("long")
    if isinstance(long, Rates) and long.cache_write_1h is None:
        kw["long"] = replace(long, cache_write_1h=2 * long.input)
    return Price(prefix, Rates(i, o, cr, cw, 2 * i), kw.pop("as_of", _READ), **kw)


def _openai(prefix: str, i: float, cr: float, o: float, **kw: Any) -> Price:
    """OpenAI bills no cache writes for automatic caching; models with explicit caching write
    at 1.25x input. Past 272k prompt tokens the 5.6 and later families double input and cache
    and take 1.5x output."""
    cw = kw.pop("cw", i)
    rates = Rates(i, o, cr, cw)
    if kw.pop("long272", False):
        kw.update(above=272_000, long=Rates(i * 2, o * 1.5, cr * 2, cw * 2))
    kw.setdefault("source", _OPENAI.format(prefix))
    return Price(prefix, rates, kw.pop("as_of", _READ), **kw)


def _gemini(prefix: str, i: float, o: float, cr: float | None, **kw: Any) -> Price:
    """Gemini's cache storage is billed by the hour and is not in a transcript; a cache read with
    no published price is priced as input, an upper bound."""
    if cr is None:
        cr = i
        kw.setdefault("note", "no cache price found: cache reads priced as input")
    kw.setdefault("source", _GEMINI)
    return Price(prefix, Rates(i, o, cr, i), kw.pop("as_of", "2026-10-07"), **kw)


# Older OpenAI families, from third-party copies of OpenAI's pricing page (the stored official
# pages for these ids were not found): (model, input, cached input, output).
_OPENAI_JUNE = "https://tokenmix.ai/blog/openai-api-cost-2026-gpt-5-5-5-4-nano-batch"
_OPENAI_5_4 = (
    ("gpt-5.5", 5.0, 0.5, 30.0),
    ("gpt-5.4", 2.5, 0.25, 15.0),
    ("gpt-5.4-mini", 0.75, 0.075, 4.5),
    ("gpt-5.4-nano", 0.2, 0.02, 1.25),
)
_OPENAI_MAY = "https://fernando-nog.netlify.app/gpt-coding-model-costs-2026/"
_OPENAI_CODEX = (
    ("gpt-5.3-codex", 1.75, 0.175, 14.0),
    ("gpt-5.2-codex", 1.75, 0.175, 14.0),
    ("gpt-5.2", 1.75, 0.175, 14.0),
    ("gpt-5.1-codex-max", 1.25, 0.125, 10.0),
    ("gpt-5.1-codex", 1.25, 0.125, 10.0),
    ("gpt-5.1", 1.25, 0.125, 10.0),
    ("gpt-5-codex", 1.25, 0.125, 10.0),
    ("gpt-5", 1.25, 0.125, 10.0),
)

_NOT_RECHECKED = "launch price; no stored copy of the page was found to check it against"
_PARTLY_RECHECKED = "one rate checked on 2026-10-07; the others are the 2025 page's"

# Rows the newest stored copy of the pricing page cut off, from an older stored copy.
_CLAUDE_OLDER = {
    "source": "https://platform.claude.com/docs/en/docs/about-claude/pricing",
    "note": "from an older stored copy of the pricing page",
}

DEFAULT_PRICES = PriceTable(
    [
        _claude("claude-fable-5-1", 10, 50, 0.25, 12.5),
        _claude("claude-mythos-5-1", 10, 50, 0.25, 12.5),
        _claude("claude-fable-5", 10, 50, 1.0, 12.5),
        _claude("claude-mythos-5", 10, 50, 1.0, 12.5),
        _claude("claude-opus-5-5", 4, 20, 0.2, 5.0, source=_CLAUDE_MODEL.format("opus-5-5")),
        _claude("claude-opus-5", 5, 25, 0.5, 6.25),
        _claude("claude-opus-4-8", 5, 25, 0.5, 6.25),
        _claude("claude-opus-4-7", 5, 25, 0.5, 6.25),
        _claude("claude-opus-4-6", 5, 25, 0.5, 6.25),
        _claude("claude-opus-4-5", 5, 25, 0.5, 6.25),
        _claude("claude-opus-4-1", 15, 75, 1.5, 18.75),
        _claude("claude-opus-4", 15, 75, 1.5, 18.75),
        _claude("claude-3-opus", 15, 75, 1.5, 18.75),
        _claude(
            "claude-sonnet-5-5",
            2,
            10,
            0.2,
            2.5,
            source=_CLAUDE_MODEL.format("sonnet-5-5"),
            note="third-party notes report cache reads cut to 0.10 on 2026-10-07; the stored "
            "model page says 0.20",
        ),
        _claude("claude-sonnet-5", 2, 10, 0.2, 2.5, source=_CLAUDE_MODEL.format("sonnet-5")),
        _claude("claude-sonnet-4-6", 3, 15, 0.3, 3.75, **_CLAUDE_OLDER),
        _claude("claude-sonnet-4-5", 3, 15, 0.3, 3.75, source=_CLAUDE_MODEL.format("sonnet-4-5")),
        _claude("claude-sonnet-4", 3, 15, 0.3, 3.75, **_CLAUDE_OLDER),
        _claude("claude-3-7-sonnet", 3, 15, 0.3, 3.75, **_CLAUDE_OLDER),
        _claude(
            "claude-haiku-5-5",
            0.1,
            0.5,
            0.01,
            0.125,
            above=100_000,
            long=Rates(0.5, 2.5, 0.05, 0.625),
            as_of="2026-10-24",
            source="https://github.com/kurofune/claudit/releases/tag/v1.9.2",
            note="official page says 'from $0.10 / $0.50'; tiers from a third-party reading",
        ),
        _claude("claude-haiku-4-5", 1, 5, 0.1, 1.25),
        _claude("claude-3-5-haiku", 0.8, 4, 0.08, 1.0, **_CLAUDE_OLDER),
        _claude("claude-3-haiku", 0.25, 1.25, 0.03, 0.3, **_CLAUDE_OLDER),
        _openai("gpt-6.2-sol", 2.0, 0.1, 10.0, cw=2.5, long272=True),
        _openai(
            "gpt-5.6-sol",
            4.0,
            0.4,
            20.0,
            cw=5.0,
            long272=True,
            note="promotional rate 'at least until 2026-11-21'",
        ),
        _openai(
            "gpt-5.6",
            4.0,
            0.4,
            20.0,
            cw=5.0,
            long272=True,
            source=_OPENAI.format("gpt-5.6-sol"),
            note="alias of gpt-5.6-sol",
        ),
        _openai("gpt-5.6-terra", 2.0, 0.2, 12.0, cw=2.5, long272=True),
        _openai("gpt-5.6-luna", 0.2, 0.02, 1.2, cw=0.25, long272=True),
        *(_openai(*row, as_of="2026-06-04", source=_OPENAI_JUNE) for row in _OPENAI_5_4),
        *(_openai(*row, as_of="2026-05-05", source=_OPENAI_MAY) for row in _OPENAI_CODEX),
        _gemini(
            "gemini-3.8-flash",
            0.75,
            3.75,
            0.075,
            note="introductory rate through 2026-12-31; 1.50 / 7.50 from 2027-01-01",
        ),
        _gemini("gemini-3.5-flash", 1.5, 9.0, None),
        _gemini("gemini-3.5-flash-lite", 0.3, 2.5, None),
        _gemini(
            "gemini-3.1-pro",
            2.0,
            12.0,
            None,
            above=200_000,
            long=Rates(4.0, 18.0, 4.0, 4.0),
        ),
        _gemini(
            "gemini-3-pro",
            2.0,
            12.0,
            0.2,
            above=200_000,
            long=Rates(4.0, 18.0, 0.4, 4.0),
            as_of="2025-11-18",
            note=_NOT_RECHECKED,
        ),
        _gemini("gemini-3-flash", 0.5, 3.0, 0.05, as_of="2025-12-17", note=_NOT_RECHECKED),
        _gemini(
            "gemini-2.5-pro",
            1.25,
            10.0,
            0.125,
            above=200_000,
            long=Rates(2.5, 15.0, 0.25, 2.5),
            note=_PARTLY_RECHECKED,
        ),
        _gemini("gemini-2.5-flash", 0.3, 2.5, 0.03, note=_PARTLY_RECHECKED),
        _gemini("gemini-2.5-flash-lite", 0.1, 0.4, 0.01, note=_PARTLY_RECHECKED),
    ]
)

# Context windows in tokens, where the provider's page states one.
_WINDOW_GROUPS = (
    (
        1_000_000,
        "claude-fable-5-1 claude-mythos-5-1 claude-fable-5 claude-mythos-5 claude-opus-5-5 "
        "claude-opus-5 claude-sonnet-5-5 claude-sonnet-5 claude-haiku-5-5",
    ),
    (
        200_000,
        "claude-opus-4-5 claude-opus-4-1 claude-opus-4 claude-sonnet-4-5 claude-sonnet-4 "
        "claude-haiku-4-5 claude-3-7-sonnet claude-3-5-haiku claude-3-haiku claude-3-opus",
    ),
    (1_050_000, "gpt-6.2-sol gpt-5.6 gpt-5.6-sol gpt-5.6-terra gpt-5.6-luna"),
    (
        400_000,
        "gpt-5.3-codex gpt-5.2-codex gpt-5.1-codex-max gpt-5.1-codex gpt-5-codex gpt-5",
    ),
    (
        1_048_576,
        "gemini-3.8-flash gemini-3.5-flash gemini-3.1-pro gemini-3-pro gemini-3-flash "
        "gemini-2.5-pro gemini-2.5-flash gemini-2.5-flash-lite",
    ),
)
WINDOWS: dict[str, int] = {
    model: window for window, models in _WINDOW_GROUPS for model in models.split()
}
