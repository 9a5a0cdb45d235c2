"""What `corral watch` counts as a change, and what it writes for a person."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from itertools import islice
from typing import Any

from sessions.commands.watch import change_key, changes, transitions


def agent(name: str, state: str, **fields: Any) -> dict[str, Any]:
    return {"name": name, "state": state, "reason": "hook Stop 3 s ago", "pid": 10} | fields


def herd(*agents: dict[str, Any], **fields: Any) -> dict[str, Any]:
    return {"agents": list(agents), "conflicts": [], "not_started": []} | fields


def test_wording_load_and_spend_alone_are_no_change() -> None:
    before = herd(agent("a", "idle"))
    after = herd(
        agent(
            "a",
            "idle",
            reason="hook Stop 4 s ago",
            cpu_percent=3.5,
            rss_bytes=1 << 20,
            tokens={"input": 5},
            cost_usd=0.01,
            context_fill=0.2,
            runs_spent=[{"run": 1}],
        )
    )
    assert change_key(before) == change_key(after)


def test_state_process_role_conflicts_and_waiting_agents_are_changes() -> None:
    base = herd(agent("a", "idle"))
    for changed in (
        herd(agent("a", "working")),
        herd(agent("a", "idle", pid=11)),
        herd(agent("a", "idle", role="builder")),
        herd(agent("a", "idle", conflicts=1)),
        herd(agent("a", "idle"), conflicts=[{"level": "file"}]),
        herd(agent("a", "idle"), not_started=["b"]),
        herd(agent("a", "idle"), agent("b", "starting")),
    ):
        assert change_key(changed) != change_key(base), changed


def test_the_stream_gives_the_first_look_then_only_changes() -> None:
    looks = iter(
        [
            herd(agent("a", "working")),
            herd(agent("a", "working", reason="hook PostToolUse 1 s ago", cpu_percent=9.0)),
            herd(agent("a", "working", reason="hook PostToolUse 2 s ago")),
            herd(agent("a", "idle")),
            herd(agent("a", "idle", reason="hook Stop 9 s ago")),
            herd(agent("a", "paused")),
        ]
    )
    waits: list[float] = []
    stream: Iterator[Mapping[str, Any]] = changes(lambda: next(looks), 0.25, waits.append)
    written = list(islice(stream, 3))
    assert [payload["agents"][0]["state"] for payload in written] == ["working", "idle", "paused"]
    assert waits == [0.25] * 5  # one wait after every look but the one that was written last


def test_a_person_sees_one_line_per_agent_that_moved() -> None:
    first = herd(agent("a", "working", reason="writing"), agent("b", "idle", reason="done"))
    assert transitions(None, first) == [
        "a              working: writing",
        "b              idle: done",
    ]
    second = herd(agent("a", "needs_input", reason="asks to run make"), agent("b", "idle"))
    assert transitions(first, second) == ["a              working → needs_input: asks to run make"]
    assert transitions(second, herd(agent("b", "idle"))) == ["a              gone"]
