"""Summaries on the dashboard: the real summarizer and SDK against the stand-in API, on the fake
herd. The table shows what Claude said, `S` and `W` ask for more, a slow or missing API never
holds up a key, and what keeps summaries from running is said in the header."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator, Mapping
from dataclasses import replace

import pytest
from textual import events
from textual.widgets.data_table import RowDoesNotExist

from sessions.core.rules import SummaryRules
from sessions.services.summaries import Summarizer
from tests.support.standin import Reply, StandIn
from tests.tui.conftest import Notes, corral, until
from tests.tui.fakes import FakeHerd
from tui.widgets.herd_table import HerdTable

pytestmark = pytest.mark.asyncio

ON = SummaryRules(enabled=True, model="claude-haiku-4-5", timeout=5.0)


@pytest.fixture
def api() -> Iterator[StandIn]:
    with StandIn() as standin:
        yield standin


def enable(herd: FakeHerd, **rules: object) -> None:
    assert herd.config is not None
    herd.config = replace(herd.config, summaries=replace(ON, **rules))  # type: ignore[arg-type]


def env(api: StandIn) -> dict[str, str]:
    return {"ANTHROPIC_API_KEY": "sk-ant-test", "ANTHROPIC_BASE_URL": api.url}


def row_text(app: object, name: str) -> str:
    """The agent's row as shown; empty until the first look has drawn it."""
    table = app.screen.query_one(HerdTable)  # type: ignore[attr-defined]
    try:
        return " ".join(cell.plain for cell in table.get_row(name))
    except RowDoesNotExist:
        return ""


def header(app: object) -> str:
    return str(app.screen.query_one("#header").render())  # type: ignore[attr-defined]


async def test_the_table_shows_what_claude_said_each_agent_does(
    herd: FakeHerd, api: StandIn
) -> None:
    enable(herd)
    api.push(
        Reply(text="Refactoring the parser.", when_last_user_contains="agent alpha"),
        Reply(text="Stuck: waiting on a question nobody answers.", when_last_user_contains="bravo"),
        Reply(text="Idle, task done.", repeat=2),
    )
    app = corral(herd, poll=0.05, environ=env(api))
    async with app.run_test(size=(200, 50)) as pilot:
        await until(pilot, lambda: "Refactoring the parser." in row_text(app, "alpha"), 20)
        await until(pilot, lambda: "stuck: waiting on a question" in row_text(app, "bravo"))
        assert {call for call, _ in herd.calls} >= {"briefs"}
        looks = herd.looks
        await until(pilot, lambda: herd.looks > looks + 20, what="more looks")
        assert len(api.turns) == 4  # one each: the policy waits ten minutes to ask again


async def test_s_asks_for_the_selected_agent_now(herd: FakeHerd, api: StandIn) -> None:
    enable(herd, on_change=False)  # only when asked
    api.push(Reply(text="Writing the migration."))
    app = corral(herd, environ=env(api))
    notes = Notes(app)
    async with app.run_test(size=(200, 50)) as pilot:
        await until(pilot, lambda: app.dashboard.selected == "alpha")
        assert api.turns == ()
        await pilot.press("S")
        await until(pilot, lambda: "alpha: Writing the migration." in notes.text(), what="toast")
        await until(pilot, lambda: "Writing the migration." in row_text(app, "alpha"))
        assert len(api.turns) == 1


async def test_w_tells_what_changed_while_you_were_away(herd: FakeHerd, api: StandIn) -> None:
    enable(herd, on_change=False)
    api.push(Reply(text="alpha went idle; bravo still waits."))
    app = corral(herd, environ=env(api))
    notes = Notes(app)
    async with app.run_test(size=(120, 30)) as pilot:
        await until(pilot, lambda: app.snapshot is not None)
        await pilot.press("W")
        await until(pilot, lambda: "alpha went idle" in notes.text(), what="the digest")
        assert "While you were away" in notes.titles
        assert "- alpha: working -> working" in api.turns[0].last_user_text


async def test_coming_back_after_a_while_brings_the_digest(herd: FakeHerd, api: StandIn) -> None:
    enable(herd, on_change=False, away_minutes=10.0)
    api.push(Reply(text="Nothing much: bravo still waits."))
    app = corral(herd, environ=env(api))
    notes = Notes(app)
    async with app.run_test(size=(120, 30)) as pilot:
        await until(pilot, lambda: app.snapshot is not None)
        app.post_message(events.AppBlur())
        await until(pilot, lambda: app.summaries.left is not None)
        app.post_message(events.AppFocus())  # back at once: no digest
        await pilot.pause(0.3)
        assert api.turns == ()
        assert app.summaries.left is not None
        app.summaries.left = (time.time() - 11 * 60, app.summaries.left[1])
        app.post_message(events.AppFocus())
        await until(pilot, lambda: "bravo still waits" in notes.text(), what="the digest")


async def test_a_slow_api_never_holds_up_a_key(herd: FakeHerd, api: StandIn) -> None:
    enable(herd)
    api.push(Reply(text="late", delay=4.0, repeat=4))
    app = corral(herd, poll=0.05, environ=env(api))
    async with app.run_test(size=(200, 50)) as pilot:
        await until(pilot, lambda: len(api.turns) >= 1, what="a request under way")
        began = time.monotonic()
        await pilot.press("j")
        await until(pilot, lambda: app.dashboard.selected == "bravo", timeout=1.0)
        assert time.monotonic() - began < 1.0


async def test_what_keeps_summaries_from_running_is_in_the_header(herd: FakeHerd) -> None:
    enable(herd)
    app = corral(herd, poll=0.05, environ={})  # no key in the environment
    async with app.run_test(size=(200, 50)) as pilot:
        await until(pilot, lambda: "export ANTHROPIC_API_KEY" in header(app), what="the reason")


async def test_with_summaries_off_nothing_is_asked(herd: FakeHerd, api: StandIn) -> None:
    app = corral(herd, poll=0.05, environ=env(api))
    notes = Notes(app)
    async with app.run_test(size=(200, 50)) as pilot:
        looks = herd.looks
        await until(pilot, lambda: herd.looks > looks + 10, what="looks")
        await pilot.press("S")
        await until(pilot, lambda: "summaries are off" in notes.text())
        assert api.requests == () and "summar" not in header(app)


async def test_a_summary_is_not_taken_for_the_agents_last_activity(herd: FakeHerd) -> None:
    herd.journal.append("summary", "charlie", text="Idle, task done.", state="idle", key="k")
    herd.journal.append("pause", "delta", pid=1)
    app = corral(herd)
    async with app.run_test(size=(200, 50)) as pilot:
        table = app.screen.query_one(HerdTable)
        await until(pilot, lambda: table.rows_shown)
        assert "Idle, task done." in row_text(app, "charlie")
        last = {row.name: row.last for row in table.rows_shown}
        assert last["charlie"] is None  # the summary was written just now; charlie did nothing
        assert last["delta"] is not None


async def test_the_summarizer_is_made_off_the_ui_thread(herd: FakeHerd, api: StandIn) -> None:
    """The anthropic SDK takes seconds to import: the dashboard must open without it."""
    enable(herd, on_change=False)
    made_on: list[bool] = []
    real = herd.summarizer

    def summarizer(environ: Mapping[str, str] | None = None) -> Summarizer:
        made_on.append(threading.current_thread() is threading.main_thread())
        return real(environ)

    herd.summarizer = summarizer  # type: ignore[method-assign]
    app = corral(herd, poll=0.05, environ=env(api))
    async with app.run_test(size=(120, 30)) as pilot:
        await until(pilot, lambda: made_on, what="the summarizer made")
        assert made_on == [False]
