"""Summaries with the real anthropic SDK against the stand-in Messages API on 127.0.0.1:
answers, the journal as memory, the hourly cap, and every kind of failure."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Callable, Iterator
from dataclasses import replace
from pathlib import Path

import pytest

from sessions.adapters.journal import Journal
from sessions.core.events import SUMMARY, SUMMARY_FAILED
from sessions.core.fold import Fold
from sessions.core.model import Summary
from sessions.core.prices import DEFAULT_PRICES
from sessions.core.rules import SummaryRules
from sessions.core.summary_values import Brief, Digest, Skipped
from sessions.services.summaries import Summarizer
from sessions.supervisor import Supervisor
from tests.helpers import wait_for
from tests.support.standin import Failure, Reply, StandIn, Usage

RULES = SummaryRules(enabled=True, model="claude-haiku-4-5", timeout=5.0)
BRIEF = Brief("alpha", "working", ("agent alpha (claude), working: drawing", "its screen:\nEdit x"))


@pytest.fixture
def api() -> Iterator[StandIn]:
    with StandIn() as standin:
        yield standin


def summarizer(
    api: StandIn, journal: Journal, rules: SummaryRules = RULES, **environ: str
) -> Summarizer:
    env = {"ANTHROPIC_API_KEY": "sk-ant-test", "ANTHROPIC_BASE_URL": api.url, **environ}
    return Summarizer(rules, DEFAULT_PRICES, journal, env)


@pytest.fixture
def journal(tmp_path: Path) -> Journal:
    return Journal(tmp_path / "journal.jsonl")


def summarize(who: Summarizer, brief: Brief = BRIEF) -> Summary | Skipped:
    return asyncio.run(who.summarize(brief))


def test_an_answer_is_one_line_journaled_with_its_cost(api: StandIn, journal: Journal) -> None:
    usage = Usage(input_tokens=900, output_tokens=20)
    api.push(Reply(text="Refactoring the parser; tests pass.\nA second line.", usage=usage))
    answer = summarize(summarizer(api, journal))
    assert isinstance(answer, Summary)
    assert (answer.text, answer.stuck, answer.state) == (
        "Refactoring the parser; tests pass.",
        False,
        "working",
    )
    [event] = [e for e in journal.read_all() if e["event"] == SUMMARY]
    assert event["agent"] == "alpha" and event["text"] == answer.text
    assert event["cost_usd"] == pytest.approx((900 * 1 + 20 * 5) / 1_000_000)
    [turn] = api.turns
    assert turn.body["model"] == "claude-haiku-4-5"
    assert "Edit x" in turn.last_user_text
    assert any(r.kind == "count_tokens" for r in api.requests)  # the budget is counted
    fold = Fold().apply_all(journal.read_all())
    assert fold.summaries["alpha"]["text"] == answer.text
    assert "alpha" not in fold.agents  # a summary is not the agent's own doing


def test_a_stuck_agent_is_marked(api: StandIn, journal: Journal) -> None:
    api.push(Reply(text="Stuck: retrying the same failing test for ten minutes."))
    answer = summarize(summarizer(api, journal))
    assert isinstance(answer, Summary)
    assert answer.stuck and answer.text == "retrying the same failing test for ten minutes."


def test_the_same_input_is_never_paid_for_twice_even_after_a_restart(
    api: StandIn, journal: Journal
) -> None:
    api.push(Reply(text="Writing docs."))
    first = summarize(summarizer(api, journal))
    again = summarize(summarizer(api, journal))  # a new process, the same journal
    assert isinstance(first, Summary) and isinstance(again, Summary)
    assert again.text == first.text
    assert len(api.turns) == 1
    api.push(Reply(text="Now testing."))
    moved = replace(BRIEF, sections=(*BRIEF.sections, "new output"))
    third = summarize(summarizer(api, journal), moved)
    assert isinstance(third, Summary) and third.text == "Now testing."
    assert len(api.turns) == 2


def test_the_hourly_cap_is_kept_before_asking(api: StandIn, journal: Journal) -> None:
    journal.append(SUMMARY, "bravo", text="earlier", state="idle", key="x", cost_usd=0.0499)
    rules = replace(RULES, hourly_cap_usd=0.05)
    answer = summarize(summarizer(api, journal, rules))
    assert isinstance(answer, Skipped)
    assert "$0.05 of the $0.05 hourly cap" in answer.reason
    assert api.turns == ()
    old = time.time() - 3700  # spent over an hour ago: counts no more
    journal.path.write_text(journal.path.read_text().replace('"t":', f'"t":{old},"was":', 1))
    api.push(Reply(text="Fine again."))
    assert isinstance(summarize(summarizer(api, journal, rules)), Summary)


def test_a_rate_limit_is_retried_then_backed_off_and_said(api: StandIn, journal: Journal) -> None:
    api.push(Failure(429, "rate_limit_error", "slow down", retry_after=0.1, repeat=3))
    who = summarizer(api, journal)
    answer = summarize(who)
    assert isinstance(answer, Skipped)
    assert "rate limiting (429)" in answer.reason and "next try in" in answer.reason
    assert len(api.turns) == 3  # the SDK's two retries, then corral gives up for now
    [failed] = [e for e in journal.read_all() if e["event"] == SUMMARY_FAILED]
    assert failed["status"] == 429 and failed["retry_at"] > time.time() + 30
    assert who.due({"alpha": "working"}, time.time()) == []  # backing off
    assert who.due({"alpha": "working"}, failed["retry_at"] + 1) == ["alpha"]
    assert who.status is not None and "429" in who.status


def test_a_server_error_then_an_answer_needs_no_second_try(api: StandIn, journal: Journal) -> None:
    api.push(Failure(529, "overloaded_error", "Overloaded"), Reply(text="Back at work."))
    answer = summarize(summarizer(api, journal))
    assert isinstance(answer, Summary) and answer.text == "Back at work."


def test_a_slow_answer_times_out_without_blocking(api: StandIn, journal: Journal) -> None:
    api.push(Reply(text="too late", delay=5.0, repeat=3))
    rules = replace(RULES, timeout=0.3)
    began = time.monotonic()
    answer = summarize(summarizer(api, journal, rules))
    assert isinstance(answer, Skipped) and "did not answer in time" in answer.reason
    assert time.monotonic() - began < 4.5


def test_a_refused_key_and_an_unreachable_api_are_said_plainly(
    api: StandIn, journal: Journal
) -> None:
    api.push(Failure(401, "authentication_error", "invalid x-api-key"))
    answer = summarize(summarizer(api, journal))
    assert isinstance(answer, Skipped) and "refused the API key (401)" in answer.reason
    nowhere = summarizer(api, journal, ANTHROPIC_BASE_URL="http://127.0.0.1:9")
    answer = summarize(nowhere, replace(BRIEF, agent="bravo"))
    assert isinstance(answer, Skipped) and "cannot be reached" in answer.reason


def test_without_a_key_or_opt_in_nothing_is_sent(api: StandIn, journal: Journal) -> None:
    bare = Summarizer(RULES, DEFAULT_PRICES, journal, {"ANTHROPIC_BASE_URL": api.url})
    problem = bare.problem()
    assert problem is not None and "export ANTHROPIC_API_KEY" in problem
    assert isinstance(summarize(bare), Skipped)
    off = summarizer(api, journal, SummaryRules())
    problem = off.problem()
    assert problem is not None and "enabled = true" in problem
    unpriced = summarizer(api, journal, replace(RULES, model="claude-nonesuch-9"))
    problem = unpriced.problem()
    assert problem is not None and "no price is known for claude-nonesuch-9" in problem
    assert api.requests == ()


def test_the_input_is_cut_to_its_token_budget_newest_lines_kept(
    api: StandIn, journal: Journal
) -> None:
    screen = "\n".join(["its screen:", *(f"line {n:04d} of output" for n in range(3000))])
    brief = replace(BRIEF, sections=("agent alpha (claude), working", screen))
    api.push(Reply(text="Printing lines."))
    rules = replace(RULES, input_tokens=1000)
    assert isinstance(summarize(summarizer(api, journal, rules), brief), Summary)
    [turn] = api.turns
    sent = turn.last_user_text
    assert len(sent) // 4 <= 1000  # the stand-in counts a token per four bytes
    assert "line 2999 of output" in sent and "line 0001 of output" not in sent
    assert sent.startswith("agent alpha") and "its screen:" in sent


def test_refresh_policy(api: StandIn, journal: Journal) -> None:
    who = summarizer(api, journal)
    now = time.time()
    assert who.due({"alpha": "idle"}, now) == ["alpha"]  # never summarised
    journal.append(SUMMARY, "alpha", text="idle", state="idle", key="k")
    later = now + 11 * 60
    assert who.due({"alpha": "idle"}, now + 60) == []
    assert who.due({"alpha": "needs_input"}, now + 60) == []  # at most every ten minutes
    assert who.due({"alpha": "needs_input"}, later) == ["alpha"]  # its state changed
    assert who.due({"alpha": "idle"}, later) == []  # same state, nothing to say
    journal.append(SUMMARY, "alpha", text="busy", state="working", key="k2")
    assert who.due({"alpha": "working"}, time.time() + 11 * 60) == ["alpha"]  # work moves on
    manual = summarizer(api, journal, replace(RULES, on_change=False))
    assert manual.due({"zulu": "idle"}, now) == []  # only when asked


def test_a_digest_says_what_changed(api: StandIn, journal: Journal) -> None:
    api.push(Reply(text="alpha finished the parser.\nbravo waits for input."))
    facts = ["agents (state when you left -> now):", "- alpha: working -> idle"]
    answer = asyncio.run(summarizer(api, journal).digest(facts, since=time.time() - 900))
    assert isinstance(answer, Digest) and answer.text.startswith("alpha finished")
    assert "working -> idle" in api.turns[0].last_user_text
    assert [e["event"] for e in journal.read_all()] == ["digest"]


# -- a real herd: what leaves the machine, and what the command line says --------------------

ANTHROPIC_KEY = "sk-ant-api03-" + "Q" * 40 + "-Zx9AAA"
DOTENV_VALUE = "hunter2-but-longer-0042"


@pytest.mark.tmux
def test_corral_summarize_sends_no_secret_and_ls_shows_the_summary(
    api: StandIn,
    make_repo: Callable[..., Path],
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    from tui.cli import main

    shown = (
        f"sh -c 'echo key is {ANTHROPIC_KEY}; echo db {DOTENV_VALUE}; "
        "echo ticket INTERNAL-123456; echo ready; sleep 300'"
    )
    config = (
        '[summaries]\nenabled = true\nmodel = "claude-haiku-4-5"\n'
        'redact = ["INTERNAL-[0-9]{6}"]\n\n'
        f'[[agent]]\nname = "sec-1"\nkind = "shell"\ncommand = {json.dumps(shown)}\n'
    )
    root = make_repo(config)
    (root / ".env").write_text(f'DB_PASSWORD="{DOTENV_VALUE}"\n')
    supervisor = Supervisor.open(root)
    supervisor.up()
    wait_for(lambda: "ready" in supervisor.tmux.capture(supervisor.view("sec-1").pane or ""))
    monkeypatch.setenv("ANTHROPIC_API_KEY", "sk-ant-test")
    monkeypatch.setenv("ANTHROPIC_BASE_URL", api.url)
    api.push(Reply(text="Printing its settings, then waiting."))
    assert main(["--repo", str(root), "summarize"]) == 0
    assert "sec-1" in capsys.readouterr().out
    [turn] = api.turns
    sent = json.dumps(turn.body)
    assert "key is" in sent and "[redacted]" in sent  # the screen went, its secrets did not
    for secret in (ANTHROPIC_KEY, DOTENV_VALUE, "INTERNAL-123456"):
        assert secret not in sent
    assert main(["--repo", str(root), "ls", "--json"]) == 0
    [agent] = json.loads(capsys.readouterr().out)["agents"]
    assert agent["summary"]["text"] == "Printing its settings, then waiting."
    assert agent["summary"]["state"] == agent["state"]
    assert main(["--repo", str(root), "explain", "sec-1"]) == 0  # the Why tab says the same
    assert "Printing its settings, then waiting. (Claude," in capsys.readouterr().out


def test_corral_summarize_refuses_while_summaries_are_off(
    make_repo: Callable[..., Path], capsys: pytest.CaptureFixture[str]
) -> None:
    from tui.cli import main

    root = make_repo('[[agent]]\nname = "a-1"\nkind = "shell"\ncommand = "sleep 1"\n')
    assert main(["--repo", str(root), "summarize"]) == 1
    assert "summaries are off: set `enabled = true` under [summaries]" in capsys.readouterr().err
