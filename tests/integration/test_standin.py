"""The Messages API stand-in, checked with the real anthropic SDK.

If the SDK parses what the stand-in sends (stream events, usage, error bodies, headers), the
real Claude Code CLI, which speaks the same protocol, can rely on it too.
"""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from typing import Any

import anthropic
import pytest
from anthropic.types import MessageParam

from tests.support.standin import (
    Failure,
    Reply,
    StandIn,
    ToolUse,
    Usage,
    load_scenario,
    side_answer,
)

MODEL = "claude-opus-4-5"
SAY: list[MessageParam] = [{"role": "user", "content": "say something"}]


@pytest.fixture
def api() -> Iterator[StandIn]:
    with StandIn() as standin:
        yield standin


def client(api: StandIn, **options: Any) -> anthropic.Anthropic:
    return anthropic.Anthropic(base_url=api.url, api_key="sk-ant-test", max_retries=0, **options)


def test_a_text_answer_streams_with_its_usage(api: StandIn) -> None:
    usage = Usage(
        input_tokens=321,
        output_tokens=45,
        cache_creation_input_tokens=7,
        cache_read_input_tokens=89,
    )
    api.push(Reply(text="Hello there, this answer is long enough to be split.", usage=usage))
    with client(api).messages.stream(model=MODEL, max_tokens=100, messages=SAY) as stream:
        pieces = list(stream.text_stream)
        message = stream.get_final_message()
    assert len(pieces) > 1
    assert "".join(pieces) == "Hello there, this answer is long enough to be split."
    assert message.id.startswith("msg_")
    assert message.stop_reason == "end_turn"
    assert message.model == MODEL
    assert (message.usage.input_tokens, message.usage.output_tokens) == (321, 45)
    assert message.usage.cache_creation_input_tokens == 7
    assert message.usage.cache_read_input_tokens == 89
    (request,) = api.turns
    assert request.path == "/v1/messages"
    assert request.body["stream"] is True
    assert request.last_user_text == "say something"


def test_a_text_answer_without_streaming(api: StandIn) -> None:
    api.push(Reply(text="plain", usage=Usage(input_tokens=3, output_tokens=1)))
    response = client(api).messages.with_raw_response.create(
        model=MODEL, max_tokens=10, messages=SAY
    )
    message = response.parse()
    assert [block.type for block in message.content] == ["text"]
    assert message.content[0].type == "text" and message.content[0].text == "plain"
    assert message.usage.input_tokens == 3
    assert response.headers["request-id"].startswith("req_")


def test_ids_differ_per_response(api: StandIn) -> None:
    api.push(Reply(text="one"), Reply(text="two"))
    anthropic_client = client(api)
    first = anthropic_client.messages.with_raw_response.create(
        model=MODEL, max_tokens=10, messages=SAY
    )
    second = anthropic_client.messages.with_raw_response.create(
        model=MODEL, max_tokens=10, messages=SAY
    )
    assert first.parse().id != second.parse().id
    assert first.headers["request-id"] != second.headers["request-id"]


def test_tool_calls_stream_as_input_json(api: StandIn) -> None:
    write = ToolUse("Write", {"file_path": "/tmp/x.txt", "content": "a\nb\n"})
    api.push(Reply(text="Writing.", tools=(write, ToolUse("Bash", {"command": "ls"}))))
    with client(api).messages.stream(
        model=MODEL, max_tokens=100, messages=SAY, tools=[TOOL]
    ) as stream:
        message = stream.get_final_message()
    assert message.stop_reason == "tool_use"
    text, first, second = message.content
    assert text.type == "text" and text.text == "Writing."
    assert first.type == "tool_use" and second.type == "tool_use"
    assert (first.name, first.input) == ("Write", {"file_path": "/tmp/x.txt", "content": "a\nb\n"})
    assert (second.name, second.input) == ("Bash", {"command": "ls"})
    assert first.id.startswith("toolu_") and first.id != second.id
    assert api.turns[0].tool_names == ("Write",)


TOOL: Any = {
    "name": "Write",
    "description": "write a file",
    "input_schema": {"type": "object", "properties": {"file_path": {"type": "string"}}},
}


def test_the_scenario_steps_in_order_then_done(api: StandIn) -> None:
    api.push(Reply(text="first"), Reply(text="second"))
    anthropic_client = client(api)
    answers = [
        anthropic_client.messages.create(model=MODEL, max_tokens=10, messages=SAY).content[0]
        for _ in range(3)
    ]
    assert [block.text for block in answers if block.type == "text"] == ["first", "second", "done"]
    assert api.pending == ()


def test_a_step_can_wait_for_what_the_user_said(api: StandIn) -> None:
    api.push(Reply(text="about cats", when_last_user_contains="cat"), Reply(text="general"))
    anthropic_client = client(api)

    def ask(text: str) -> str:
        message = anthropic_client.messages.create(
            model=MODEL, max_tokens=10, messages=[{"role": "user", "content": text}]
        )
        block = message.content[0]
        return block.text if block.type == "text" else ""

    assert ask("tell me about dogs") == "general"
    assert ask("and a cat?") == "about cats"
    assert ask("anything") == "done"


def test_a_rate_limit_surfaces_as_rate_limit_error(api: StandIn) -> None:
    api.push(Failure(429, "rate_limit_error", "Number of requests has exceeded", retry_after=7))
    with pytest.raises(anthropic.RateLimitError) as raised:
        client(api).messages.create(model=MODEL, max_tokens=10, messages=SAY)
    error = raised.value
    assert error.status_code == 429
    assert error.response.headers["retry-after"] == "7"
    assert error.body == {
        "type": "error",
        "error": {"type": "rate_limit_error", "message": "Number of requests has exceeded"},
        "request_id": error.body["request_id"],  # type: ignore[index]
    }


def test_overloaded_and_server_errors(api: StandIn) -> None:
    api.push(Failure(529, "overloaded_error", "Overloaded"), Failure(500, "api_error", "boom"))
    anthropic_client = client(api)
    with pytest.raises(anthropic.OverloadedError) as overloaded:
        anthropic_client.messages.create(model=MODEL, max_tokens=10, messages=SAY)
    assert overloaded.value.status_code == 529
    with pytest.raises(anthropic.InternalServerError) as failed:
        anthropic_client.messages.create(model=MODEL, max_tokens=10, messages=SAY, stream=True)
    assert failed.value.status_code == 500


def test_the_sdk_retries_through_a_repeated_overload(api: StandIn) -> None:
    api.push(Failure(529, "overloaded_error", "Overloaded", retry_after=0.05, repeat=2))
    api.push(Reply(text="finally"))
    anthropic_client = anthropic.Anthropic(base_url=api.url, api_key="k", max_retries=2)
    message = anthropic_client.messages.create(model=MODEL, max_tokens=10, messages=SAY)
    assert message.content[0].type == "text" and message.content[0].text == "finally"
    assert len(api.turns) == 3


def test_a_slow_answer_hits_the_client_timeout(api: StandIn) -> None:
    api.push(Reply(text="too late", delay=5.0))
    started = time.monotonic()
    with pytest.raises(anthropic.APITimeoutError):
        client(api, timeout=0.5).messages.create(model=MODEL, max_tokens=10, messages=SAY)
    assert time.monotonic() - started < 3


def test_a_pause_mid_stream_holds_the_rest(api: StandIn) -> None:
    api.push(Reply(text="a" * 60, pause=0.6))
    arrivals: list[float] = []
    started = time.monotonic()
    with client(api).messages.stream(model=MODEL, max_tokens=100, messages=SAY) as stream:
        for _ in stream.text_stream:
            arrivals.append(time.monotonic() - started)
    assert arrivals[0] < 0.5
    assert arrivals[-1] >= 0.6


def test_count_tokens_and_unknown_paths(api: StandIn) -> None:
    counted = client(api).messages.count_tokens(model=MODEL, messages=SAY)
    assert counted.input_tokens > 0
    with pytest.raises(urllib.error.HTTPError) as missing:
        urllib.request.urlopen(f"{api.url}/v1/models", timeout=5)
    assert missing.value.code == 404
    assert json.loads(missing.value.read())["error"]["type"] == "not_found_error"
    assert [request.kind for request in api.requests] == ["count_tokens", "other"]


def test_claude_code_side_requests_never_take_a_step(api: StandIn) -> None:
    api.push(Reply(text="the real turn"))
    anthropic_client = client(api)
    title = anthropic_client.messages.create(
        model="claude-haiku-4-5",
        max_tokens=100,
        system=[{"type": "text", "text": "You are Claude Code, Anthropic's official CLI."}],
        messages=[{"role": "user", "content": "<session>\nwrite hello.txt\n</session>"}],
        extra_body={
            "output_config": {
                "format": {
                    "type": "json_schema",
                    "schema": {"type": "object", "properties": {"title": {"type": "string"}}},
                }
            }
        },
    )
    block = title.content[0]
    assert block.type == "text" and json.loads(block.text) == {"title": "Stand-in session"}
    probe = anthropic_client.messages.create(
        model=MODEL, max_tokens=1, messages=[{"role": "user", "content": "quota"}]
    )
    assert probe.content[0].type == "text"
    assert api.pending == (Reply(text="the real turn"),)
    assert [request.kind for request in api.requests] == ["side", "side"]


def test_side_answer_leaves_turns_alone() -> None:
    assert side_answer({"messages": SAY, "max_tokens": 10}) is None
    assert side_answer({"messages": SAY, "max_tokens": 10, "tools": [TOOL]}) is None
    claude = {"system": "You are Claude Code", "messages": SAY, "max_tokens": 99}
    assert side_answer(claude) == "Stand-in summary."


def test_scenario_files(tmp_path: Any) -> None:
    path = tmp_path / "steps.json"
    path.write_text(
        json.dumps(
            [
                {"text": "hi", "usage": {"input_tokens": 5}, "delay": 0.5},
                {"tools": [{"name": "Bash", "input": {"command": "ls"}}], "pause": 1},
                {"error": {"status": 429, "type": "rate_limit_error", "retry_after": 3}},
            ]
        )
    )
    hello, bash, limit = load_scenario(path)
    assert hello == Reply(text="hi", usage=Usage(input_tokens=5), delay=0.5)
    assert bash == Reply(tools=(ToolUse("Bash", {"command": "ls"}),), pause=1.0)
    assert limit == Failure(429, "rate_limit_error", "error", retry_after=3.0)


def test_waiting_on_requests(api: StandIn) -> None:
    with pytest.raises(TimeoutError, match="no a turn"):
        api.wait(lambda requests: requests, timeout=0.2, what="a turn")
