"""Token arithmetic, deduplicated totals, prices and context windows."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest

from sessions.core.prices import (
    DEFAULT_PRICES,
    WINDOWS,
    Price,
    PriceError,
    PriceTable,
    Rates,
    context_window,
)
from sessions.core.usage import (
    BAND_EDGES,
    RECENT_RESPONSES,
    ZERO,
    Fingerprints,
    Tokens,
    Usage,
    UsageBook,
    band_of,
    context_fill,
)


def test_tokens_add_subtract_and_sum_up() -> None:
    a = Tokens(input=1, output=2, cache_read=3, cache_write=4, reasoning=1)
    b = Tokens(input=10, output=20, cache_read=30, cache_write=40, reasoning=5)
    assert a + b == Tokens(11, 22, 33, 44, 6)
    assert (a + b) - b == a
    assert a + ZERO == a
    assert a.prompt == 8
    assert a.total == 10
    assert Tokens.from_list(a.as_list()) == a


@pytest.mark.parametrize(
    "bad", [[1, 2, 3], [1, 2, 3, 4, "5"], [1, 2, 3, 4, True], [1.5, 2, 3, 4, 5]]
)
def test_a_damaged_token_list_is_refused(bad: list[Any]) -> None:
    with pytest.raises(ValueError):
        Tokens.from_list(bad)


def test_prompt_bands_hold_their_edges() -> None:
    assert [band_of(n) for n in (0, 100_000, 100_001, 200_000, 272_000, 272_001)] == [
        0,
        0,
        1,
        1,
        2,
        3,
    ]
    assert len(BAND_EDGES) == 3


def test_usage_merges_by_model_and_band() -> None:
    small = Tokens(input=10, output=5)
    big = Tokens(input=150_000, output=5)
    usage = Usage().add("m1", small).add("m1", small).add("m1", big).add("m2", small)
    assert usage.parts == (("m1", 0, small + small), ("m1", 1, big), ("m2", 0, small))
    assert usage.tokens == Tokens(input=150_030, output=20)
    assert usage.models == ("m1", "m2")
    assert usage.of_model("m1") == small + small + big
    assert usage.of_model("nope") == ZERO
    assert Usage().add("m1", small) + Usage().add("m2", small) == Usage().add("m2", small).add(
        "m1", small
    )


def test_a_response_counts_once_and_grows_to_its_largest_copy() -> None:
    book = UsageBook()
    assert book.count("r1", "m", Tokens(input=5, output=1), at=1.0)
    assert not book.count("r1", "m", Tokens(input=5, output=1), at=1.0)
    assert book.count("r1", "m", Tokens(input=5, output=40), at=1.0)
    assert not book.count("r1", "m", Tokens(input=5, output=20), at=1.0)
    assert book.count("r2", "m", Tokens(input=1), at=2.0)
    assert book.responses == 2
    assert book.usage().tokens == Tokens(input=6, output=40)


def test_an_old_copy_is_recognised_after_its_tokens_are_forgotten() -> None:
    book = UsageBook()
    book.count("old", "m", Tokens(output=1), at=None)
    for n in range(RECENT_RESPONSES):
        book.count(f"r{n}", "m", Tokens(output=1), at=None)
    assert not book.count("old", "m", Tokens(output=100), at=None)
    assert book.usage().tokens == Tokens(output=RECENT_RESPONSES + 1)


def test_a_grown_copy_moves_to_its_band() -> None:
    book = UsageBook()
    book.count("r", "m", Tokens(input=90_000), at=None)
    book.count("r", "m", Tokens(input=150_000), at=None)
    assert book.usage().parts == (("m", 1, Tokens(input=150_000)),)


def test_runs_take_responses_by_start_time() -> None:
    book = UsageBook()
    book.count("before", "m", Tokens(output=1), at=5.0)
    book.note_run(1, 10.0)
    book.note_run(2, 20.0)
    book.note_run(2, 20.0)
    book.count("a", "m", Tokens(output=2), at=15.0)
    book.count("b", "m", Tokens(output=4), at=25.0)
    book.count("c", "m", Tokens(output=8), at=None)  # no time: the latest run
    book.count("d", "m", Tokens(output=16), at=1.0)
    runs = {number: usage.tokens.output for number, usage in book.runs()}
    assert runs == {0: 1 + 16, 1: 2, 2: 4 + 8}


def test_the_book_survives_a_round_trip_through_json() -> None:
    book = UsageBook()
    book.note_run(1, 10.0)
    for n in range(300):
        book.count(f"r{n}", f"m{n % 3}", Tokens(input=n, output=1), at=float(n))
    restored = UsageBook.from_json(json.loads(json.dumps(book.to_json())))
    assert restored.usage() == book.usage()
    assert restored.runs() == book.runs()
    assert restored.responses == 300
    assert not restored.count("r5", "m2", Tokens(output=1000), at=None)
    assert restored.count("r299", "m2", Tokens(input=299, output=50), at=None)


@pytest.mark.parametrize(
    "damage",
    [
        {"responses": "3"},
        {"runs": [["x", 1.0]]},
        {"totals": [[0, "m", 0, [1, 2]]]},
        {"seen": "not base64!"},
        {"seen": 5},
    ],
)
def test_a_damaged_book_raises_so_the_caller_starts_over(damage: dict[str, Any]) -> None:
    data = {**UsageBook().to_json(), **damage}
    with pytest.raises((ValueError, TypeError, KeyError)):
        UsageBook.from_json(data)


def test_fingerprints_remember_ids_in_eight_bytes_each() -> None:
    seen = Fingerprints()
    assert seen.add("a") and not seen.add("a")
    assert "a" in seen and "b" not in seen and 5 not in seen
    for n in range(1000):
        seen.add(str(n))
    restored = Fingerprints.from_json(seen.to_json())
    assert len(restored) == 1001 and "999" in restored
    assert len(seen.to_json()) <= 8 * 1001 * 4 / 3 + 4


def test_context_fill() -> None:
    tokens = Tokens(input=1000, cache_read=49_000, cache_write=0, output=9_999)
    assert context_fill(tokens, 200_000) == 0.25
    assert context_fill(tokens, None) is None
    assert context_fill(tokens, 0) is None


# --- Prices -----------------------------------------------------------------------------------


def test_claude_cost_matches_what_claude_code_reported() -> None:
    """Figures from the recorded Claude Code 2.1.330 session (cost-state: $0.020488)."""
    tokens = Tokens(input=2274, output=60, cache_read=2210, cache_write=1950)
    cost = DEFAULT_PRICES.cost(Usage().add("claude-opus-5-5", tokens))
    assert cost.usd == pytest.approx(0.020488)
    assert cost.reason is None


def test_one_hour_cache_writes_cost_twice_the_input_rate() -> None:
    """Anthropic bills 5-minute cache writes at 1.25x input and 1-hour ones at 2x."""
    price = DEFAULT_PRICES.find("claude-haiku-4-5")
    assert price is not None
    five_minutes = Tokens(cache_write=1_000_000)
    one_hour = Tokens(cache_write=1_000_000, cache_write_1h=1_000_000)
    half = Tokens(cache_write=1_000_000, cache_write_1h=500_000)
    assert price.cost(0, five_minutes) == pytest.approx(1.25)
    assert price.cost(0, one_hour) == pytest.approx(2.0)
    assert price.cost(0, half) == pytest.approx(1.625)
    # A provider with one kind of cache write prices both alike.
    assert Rates(1.0, 1.0, 1.0, 3.0).cost(one_hour) == pytest.approx(3.0)


def test_one_hour_cache_writes_come_from_claude_transcripts() -> None:
    from sessions.agents.transcripts.claude import _tokens

    usage = {
        "input_tokens": 3,
        "output_tokens": 8,
        "cache_creation_input_tokens": 5200,
        "cache_creation": {"ephemeral_5m_input_tokens": 1200, "ephemeral_1h_input_tokens": 4000},
    }
    assert _tokens(usage) == Tokens(input=3, output=8, cache_write=5200, cache_write_1h=4000)


@pytest.mark.parametrize(
    ("model", "family"),
    [
        ("claude-sonnet-4-5-20250929", "claude-sonnet-4-5"),
        ("claude-opus-4-1-20250805", "claude-opus-4-1"),
        ("claude-opus-4-20250514", "claude-opus-4"),
        ("claude-opus-4-5@20251101", "claude-opus-4-5"),
        ("us.anthropic.claude-haiku-4-5-20251001-v1:0", "claude-haiku-4-5"),
        ("anthropic/claude-opus-5", "claude-opus-5"),
        ("Claude-Opus-5-5", "claude-opus-5-5"),
        ("claude-sonnet-5-5[1m]", "claude-sonnet-5-5"),
        ("gpt-5-2025-08-07", "gpt-5"),
        ("gpt-5.1-codex-max", "gpt-5.1-codex-max"),
        ("gpt-5.6", "gpt-5.6"),
        ("models/gemini-3-pro-preview", "gemini-3-pro"),
        ("gemini-2.5-flash-preview-09-2025", "gemini-2.5-flash"),
        ("gemini-2.5-flash-lite", "gemini-2.5-flash-lite"),
    ],
)
def test_a_dated_or_prefixed_model_id_finds_its_family(model: str, family: str) -> None:
    price = DEFAULT_PRICES.find(model)
    assert price is not None and price.prefix == family


@pytest.mark.parametrize(
    "model", ["claude-opus-4-9", "claude-opus-4-10", "gpt-5.9", "gemini-9-ultra", "<synthetic>"]
)
def test_another_version_is_not_priced_as_its_neighbour(model: str) -> None:
    assert DEFAULT_PRICES.find(model) is None


def test_an_unknown_model_costs_none_and_says_so() -> None:
    usage = Usage().add("claude-opus-5", Tokens(input=1_000_000)).add("mystery-1", Tokens(output=1))
    cost = DEFAULT_PRICES.cost(usage)
    assert cost.usd is None
    assert cost.priced_usd == pytest.approx(5.0)
    assert cost.unpriced == ("mystery-1",)
    assert cost.reason is not None and "mystery-1" in cost.reason
    assert DEFAULT_PRICES.cost(Usage()).usd == 0.0


def test_long_prompts_cost_the_long_rate_for_the_whole_request() -> None:
    at_edge = Tokens(input=200_000, output=1_000_000)
    past_edge = Tokens(input=200_001, output=1_000_000)
    pro = "gemini-2.5-pro"
    assert DEFAULT_PRICES.cost(Usage().add(pro, at_edge)).usd == pytest.approx(0.25 + 10.0)
    assert DEFAULT_PRICES.cost(Usage().add(pro, past_edge)).usd == pytest.approx(
        200_001 * 2.5 / 1e6 + 15.0
    )
    sol = DEFAULT_PRICES.cost(Usage().add("gpt-5.6-sol", Tokens(input=300_000, output=0)))
    assert sol.usd == pytest.approx(300_000 * 8.0 / 1e6)


def test_every_default_has_a_date_a_source_and_sane_rates() -> None:
    assert len(DEFAULT_PRICES) >= 40
    for price in DEFAULT_PRICES:
        assert re.fullmatch(r"\d{4}-\d{2}-\d{2}", price.as_of), price.prefix
        assert price.source.startswith("https://"), price.prefix
        for rates in (price.rates, price.long):
            if rates is not None:
                assert 0 < rates.input <= rates.output, price.prefix
                assert rates.cache_read <= rates.input, price.prefix
        assert (price.long is None) == (price.above is None), price.prefix
    families = {p.prefix.split("-")[0] for p in DEFAULT_PRICES}
    assert families == {"claude", "gpt", "gemini"}


def test_every_window_is_found_for_its_own_model() -> None:
    for model, window in WINDOWS.items():
        assert context_window(model) == window
    assert context_window("claude-opus-4-5-20251101") == 200_000
    assert context_window("unheard-of") is None
    assert context_window(None) is None


# --- Overrides from corral.toml ---------------------------------------------------------------


def test_overrides_replace_and_add_entries_on_top_of_the_defaults() -> None:
    table = PriceTable.from_mapping(
        {
            "claude-opus-5": {
                "input": 4.0,
                "output": 20.0,
                "cache_read": 0.4,
                "as_of": "2027-01-01",
            },
            "local-llama": {"input": 0, "output": 0},
            "gemini-9-pro": {
                "input": 1,
                "output": 2,
                "long": {"above": 200_000, "input": 3, "output": 4},
            },
        }
    )
    opus = table.find("claude-opus-5-20270101")
    assert opus is not None
    assert opus.rates == Rates(
        input=4.0, output=20.0, cache_read=0.4, cache_write=4.0, cache_write_1h=8.0
    )
    assert opus.as_of == "2027-01-01" and opus.source == "corral.toml"
    assert table.cost(Usage().add("local-llama", Tokens(input=10**9))).usd == 0.0
    gemini = table.find("gemini-9-pro")
    assert gemini is not None and gemini.long == Rates(3.0, 4.0, 3.0, 3.0, 6.0)
    assert table.find("claude-haiku-4-5") == DEFAULT_PRICES.find("claude-haiku-4-5")
    alone = PriceTable.from_mapping({"x-model": {"input": 1, "output": 1}}, defaults=False)
    assert len(alone) == 1 and alone.find("claude-opus-5") is None


@pytest.mark.parametrize(
    ("data", "key"),
    [
        (["not", "a", "table"], "prices"),
        ({"m": 3.0}, 'prices."m"'),
        ({"m": {"input": 1.0}}, 'prices."m".output'),
        ({"m": {"input": -1, "output": 1}}, 'prices."m".input'),
        ({"m": {"input": True, "output": 1}}, 'prices."m".input'),
        ({"m": {"input": "3", "output": 1}}, 'prices."m".input'),
        ({"m": {"input": 1, "output": 1, "cache_reads": 1}}, 'prices."m".cache_reads'),
        ({"m": {"input": 1, "output": 1, "as_of": 20260101}}, 'prices."m".as_of'),
        ({"m": {"input": 1, "output": 1, "long": 5}}, 'prices."m".long'),
        ({"m": {"input": 1, "output": 1, "long": {"above": 150_000}}}, 'prices."m".long.above'),
        ({"m": {"input": 1, "output": 1, "long": {"above": 200_000, "x": 1}}}, 'prices."m".long.x'),
        ({"": {"input": 1, "output": 1}}, 'prices.""'),
        ({"anthropic/claude-x": {"input": 1, "output": 1}}, 'prices."anthropic/claude-x"'),
    ],
)
def test_a_bad_override_names_the_key_that_is_wrong(data: Any, key: str) -> None:
    with pytest.raises(PriceError) as caught:
        PriceTable.from_mapping(data)
    assert caught.value.key == key
    assert str(caught.value).startswith(key)


def test_a_table_can_be_built_from_prices_directly() -> None:
    price = Price("x", Rates(1, 2, 0.1, 1.25), as_of="2026-01-01", source="test")
    table = DEFAULT_PRICES.updated([price])
    assert table.find("x-20260101") == price
    assert len(table) == len(DEFAULT_PRICES) + 1
