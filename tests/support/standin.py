"""A stand-in for the Anthropic Messages API on loopback, scripted step by step.

Tests run real clients (the anthropic SDK, the Claude Code CLI) against it, so they exercise the
real wire format, the real retry and timeout paths and the real tool execution, without a
network or a key. A scenario is a list of steps; each request for a model turn takes the first
pending step that applies to it (a step with `when_last_user_contains` waits for a request
whose last user message contains that text; steps without it apply to any), and once none is
left the answer is a short "done". Claude Code also sends side requests of its own (a session
title, compaction summaries; a one-token probe in some versions); those are recognised by
their shape (`side_answer`) and answered on the side, so a scenario never has to know how
many of them a given version sends.

    with StandIn([Reply(tools=(ToolUse("Write", {"file_path": p, "content": "x"}),)),
                  Reply(text="Wrote it.")]) as api:
        run_the_client(base_url=api.url)
        assert api.turns[0].last_user_text == "write x"

Also runnable by hand: `python -m tests.support.standin --port 8765 --scenario steps.json`,
where the file holds a JSON list of steps in the form `step_from_json` reads.
"""

from __future__ import annotations

import argparse
import dataclasses
import functools
import json
import re
import sys
import time
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from tests.support.scripted_api import Exchange, Request, ScriptedAPI, new_id, schema_instance

RequestKind = Literal["turn", "side", "count_tokens", "other"]

DEFAULT_MODEL = "claude-opus-4-5"


def _new_id(prefix: str) -> str:
    """Ids shaped like the real ones, so parsers that check prefixes see realistic values."""
    return new_id(prefix + "01", 22)


@dataclass(frozen=True)
class Usage:
    """Token counts reported for one response; every field is what the real API calls it."""

    input_tokens: int = 12
    output_tokens: int = 6
    cache_creation_input_tokens: int = 0
    cache_read_input_tokens: int = 0

    def as_json(self) -> dict[str, int]:
        return dataclasses.asdict(self)


@dataclass(frozen=True)
class ToolUse:
    """One tool call; an empty `id` gets a fresh `toolu_...` id each time it is answered."""

    name: str
    input: Mapping[str, Any] = field(default_factory=dict)
    id: str = ""


@dataclass(frozen=True)
class Reply:
    """A successful answer: optional text, then any tool calls, in that order.

    `delay` holds back the first byte (a slow model); `pause` stops the stream after its first
    delta (a model that goes quiet mid-answer). `stop_reason` defaults to `tool_use` when there
    are tool calls and `end_turn` otherwise. `repeat` answers that many matching requests.
    """

    text: str = ""
    tools: tuple[ToolUse, ...] = ()
    usage: Usage = Usage()
    stop_reason: str | None = None
    delay: float = 0.0
    pause: float = 0.0
    when_last_user_contains: str | None = None
    repeat: int = 1

    def effective_stop_reason(self) -> str:
        if self.stop_reason is not None:
            return self.stop_reason
        return "tool_use" if self.tools else "end_turn"


@dataclass(frozen=True)
class Failure:
    """An error answer with the real error body: 429 `rate_limit_error`, 529 `overloaded_error`...

    `retry_after` (seconds) becomes the `retry-after` header; `should_retry` the
    `x-should-retry` header that the SDKs obey before their own rules.
    """

    status: int = 500
    error_type: str = "api_error"
    message: str = "Internal server error"
    retry_after: float | None = None
    should_retry: bool | None = None
    delay: float = 0.0
    when_last_user_contains: str | None = None
    repeat: int = 1


Step = Reply | Failure


def _text_of(content: Any) -> str:
    if isinstance(content, str):
        return content
    parts: list[str] = []
    if isinstance(content, list):
        for block in content:
            if not isinstance(block, dict):
                continue
            if block.get("type") == "text" and isinstance(block.get("text"), str):
                parts.append(block["text"])
            elif block.get("type") == "tool_result":
                parts.append(_text_of(block.get("content", "")))
    return "\n".join(parts)


def last_user_text(body: Any) -> str:
    """The text of the last user message, including tool results, or "" when there is none."""
    if not isinstance(body, dict):
        return ""
    messages = body.get("messages")
    if not isinstance(messages, list):
        return ""
    for message in reversed(messages):
        if isinstance(message, dict) and message.get("role") == "user":
            return _text_of(message.get("content"))
    return ""


def _system_text(body: Any) -> str:
    if not isinstance(body, dict):
        return ""
    return _text_of(body.get("system", ""))


def _tool_names(body: Any) -> tuple[str, ...]:
    if not isinstance(body, dict) or not isinstance(body.get("tools"), list):
        return ()
    return tuple(str(tool.get("name", "")) for tool in body["tools"] if isinstance(tool, dict))


def _from_claude_code(body: Mapping[str, Any]) -> bool:
    system = _system_text(body)
    return "You are Claude Code" in system or "x-anthropic-billing-header" in system


def _is_compaction(body: Mapping[str, Any]) -> bool:
    said = last_user_text(body)
    return "<summary>" in said and "summary of the conversation" in said


def side_answer(body: Mapping[str, Any]) -> str | None:
    """The answer to a side request, or None when the request is a model turn.

    Every turn Claude Code sends carries its full tool list; what it sends without tools is a
    side request (the session title, asked of the small model with a JSON schema in
    `output_config.format`; a one-token probe; summaries). Compaction (`/compact`, or after a
    "prompt is too long" error) is the exception: it sends the full tool list but asks for an
    `<analysis>` and a `<summary>` in its last user message. All of these get a fitting
    answer here and never consume a scenario step. Other clients' requests without tools (the
    SDK in tests) are turns, unless they ask for a single token.
    """
    if _is_compaction(body):
        return (
            "<analysis>The stand-in kept no notes.</analysis>\n"
            "<summary>Stand-in summary of the conversation so far.</summary>"
        )
    if _tool_names(body):
        return None
    output = body.get("output_config")
    format_ = output.get("format") if isinstance(output, dict) else None
    if isinstance(format_, dict) and format_.get("type") == "json_schema":
        return json.dumps(schema_instance(format_.get("schema"), title="Stand-in session"))
    if int(body.get("max_tokens") or 0) == 1:
        return "ok"
    if _from_claude_code(body):
        return "Stand-in summary."
    return None


class StandIn(ScriptedAPI[Step]):
    """The Messages API on a free loopback port (or `port`), from the scenario: requests are
    recorded in order (`requests`, `turns`), steps can be added while it runs (`push`), and
    `wait` blocks until the recorded requests satisfy a condition."""

    def handle(self, exchange: Exchange) -> None:
        method, path, body = exchange.method, exchange.path, exchange.body

        def record(kind: RequestKind, step: Step | None) -> None:
            self.record(exchange, kind, last_user_text(body), step, _tool_names(body))

        if method == "POST" and path == "/v1/messages/count_tokens":
            record("count_tokens", None)
            _send_json(exchange, 200, {"input_tokens": max(1, len(exchange.raw) // 4)})
            return
        if method != "POST" or path != "/v1/messages" or not isinstance(body, dict):
            record("other", None)
            _send_json(exchange, 404, _error_body("not_found_error", f"Not found: {method} {path}"))
            return
        side = side_answer(body)
        if side is not None:
            record("side", None)
            self._answer(exchange, body, Reply(text=side, usage=Usage(output_tokens=1)))
            return
        step = self.take_step(last_user_text(body))
        record("turn", step)
        if step is None:
            step = Reply(text=self.done_text)
        if isinstance(step, Failure):
            self._fail(exchange, step)
        else:
            self._answer(exchange, body, step)

    def _fail(self, exchange: Exchange, step: Failure) -> None:
        if not self.sleep(step.delay):
            return
        extra: dict[str, str] = {}
        if step.retry_after is not None:
            extra["retry-after"] = f"{step.retry_after:g}"
        if step.should_retry is not None:
            extra["x-should-retry"] = "true" if step.should_retry else "false"
        _send_json(exchange, step.status, _error_body(step.error_type, step.message), extra)

    def _answer(self, exchange: Exchange, body: Mapping[str, Any], step: Reply) -> None:
        if not self.sleep(step.delay):
            return
        model = str(body.get("model") or DEFAULT_MODEL)
        blocks = _content(step)
        if not body.get("stream"):
            message = {
                "id": _new_id("msg_"),
                "type": "message",
                "role": "assistant",
                "model": model,
                "content": blocks,
                "stop_reason": step.effective_stop_reason(),
                "stop_sequence": None,
                "usage": step.usage.as_json(),
            }
            _send_json(exchange, 200, message)
            return
        exchange.start_stream("text/event-stream; charset=utf-8", {"request-id": _new_id("req_")})
        for number, event in enumerate(_events(model, blocks, step)):
            exchange.send_event(event, event=str(event["type"]))
            if number == 0:
                exchange.send_event({"type": "ping"}, event="ping")
            if step.pause > 0 and event.get("type") == "content_block_delta":
                if not self.sleep(step.pause):
                    return
                step = dataclasses.replace(step, pause=0.0)
        exchange.end_stream()


def _send_json(
    exchange: Exchange, status: int, payload: Any, extra: Mapping[str, str] | None = None
) -> None:
    """Every answer carries a `request-id`, as the real API's do."""
    exchange.send_json(status, payload, {"request-id": _new_id("req_"), **(extra or {})})


def _error_body(error_type: str, message: str) -> dict[str, Any]:
    return {
        "type": "error",
        "error": {"type": error_type, "message": message},
        "request_id": _new_id("req_"),
    }


def _content(step: Reply) -> list[dict[str, Any]]:
    blocks: list[dict[str, Any]] = []
    if step.text:
        blocks.append({"type": "text", "text": step.text})
    for tool in step.tools:
        blocks.append(
            {
                "type": "tool_use",
                "id": tool.id or _new_id("toolu_"),
                "name": tool.name,
                "input": dict(tool.input),
            }
        )
    return blocks


def _pieces(text: str, size: int) -> Iterator[str]:
    """Split text into a few deltas, as the real API streams it a handful of tokens at a time."""
    if not text:
        return
    for start in range(0, len(text), size):
        yield text[start : start + size]


def _events(
    model: str, blocks: Sequence[Mapping[str, Any]], step: Reply
) -> Iterator[dict[str, Any]]:
    usage = step.usage
    yield {
        "type": "message_start",
        "message": {
            "id": _new_id("msg_"),
            "type": "message",
            "role": "assistant",
            "model": model,
            "content": [],
            "stop_reason": None,
            "stop_sequence": None,
            "usage": {**usage.as_json(), "output_tokens": min(1, usage.output_tokens)},
        },
    }
    for index, block in enumerate(blocks):
        if block["type"] == "text":
            yield {
                "type": "content_block_start",
                "index": index,
                "content_block": {"type": "text", "text": ""},
            }
            for piece in _pieces(block["text"], 24):
                yield {
                    "type": "content_block_delta",
                    "index": index,
                    "delta": {"type": "text_delta", "text": piece},
                }
        else:
            yield {
                "type": "content_block_start",
                "index": index,
                "content_block": {
                    "type": "tool_use",
                    "id": block["id"],
                    "name": block["name"],
                    "input": {},
                },
            }
            arguments = json.dumps(block["input"])
            for piece in _pieces(arguments, max(8, len(arguments) // 3 + 1)):
                yield {
                    "type": "content_block_delta",
                    "index": index,
                    "delta": {"type": "input_json_delta", "partial_json": piece},
                }
        yield {"type": "content_block_stop", "index": index}
    yield {
        "type": "message_delta",
        "delta": {"stop_reason": step.effective_stop_reason(), "stop_sequence": None},
        "usage": usage.as_json(),
    }
    yield {"type": "message_stop"}


# --- scenario files -----------------------------------------------------------------------


def step_from_json(data: Mapping[str, Any]) -> Step:
    """Read one step from its JSON form.

    A reply: `{"text": ..., "tools": [{"name": ..., "input": {...}}], "usage": {...},
    "stop_reason": ..., "delay": s, "pause": s, "when_last_user_contains": ..., "repeat": n}`.
    An error: `{"error": {"status": 429, "type": "rate_limit_error", "message": ...,
    "retry_after": s, "should_retry": bool}, "delay": s, ...}`.
    """
    common: dict[str, Any] = {
        "delay": float(data.get("delay", 0.0)),
        "when_last_user_contains": data.get("when_last_user_contains"),
        "repeat": int(data.get("repeat", 1)),
    }
    if "error" in data:
        error = data["error"]
        return Failure(
            status=int(error.get("status", 500)),
            error_type=str(error.get("type", "api_error")),
            message=str(error.get("message", "error")),
            retry_after=None if error.get("retry_after") is None else float(error["retry_after"]),
            should_retry=error.get("should_retry"),
            **common,
        )
    tools = tuple(
        ToolUse(str(tool["name"]), dict(tool.get("input", {})), str(tool.get("id", "")))
        for tool in data.get("tools", ())
    )
    return Reply(
        text=str(data.get("text", "")),
        tools=tools,
        usage=Usage(**data.get("usage", {})),
        stop_reason=data.get("stop_reason"),
        pause=float(data.get("pause", 0.0)),
        **common,
    )


def load_scenario(path: Path) -> list[Step]:
    data = json.loads(path.read_text())
    if not isinstance(data, list):
        raise ValueError(f"{path}: a scenario is a JSON list of steps")
    return [step_from_json(item) for item in data]


def _describe(request: Request) -> str:
    body = request.body if isinstance(request.body, dict) else {}
    said = re.sub(r"\s+", " ", request.last_user_text)[:70]
    return (
        f"{time.strftime('%H:%M:%S')} {request.kind:<12} {request.method} {request.path}"
        f" tools={len(request.tool_names)} max_tokens={body.get('max_tokens')}"
        f" stream={body.get('stream')} user={said!r}"
    )


def _longer_than(count: int, requests: Sequence[Request]) -> bool:
    return len(requests) > count


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m tests.support.standin",
        description="Serve a scripted stand-in of the Messages API on 127.0.0.1.",
    )
    parser.add_argument("--port", type=int, default=0, help="0 picks a free port")
    parser.add_argument("--scenario", type=Path, help="JSON list of steps")
    parser.add_argument("--log", type=Path, help="append every request body here as JSONL")
    args = parser.parse_args(argv)
    scenario = load_scenario(args.scenario) if args.scenario else []
    with StandIn(scenario, port=args.port) as api:
        print(f"ANTHROPIC_BASE_URL={api.url}", flush=True)
        seen = 0
        try:
            while True:
                requests = api.wait(functools.partial(_longer_than, seen), timeout=3600)
                for request in requests[seen:]:
                    print(_describe(request), flush=True)
                    if args.log:
                        with args.log.open("a") as log:
                            record = {"path": request.path, "kind": request.kind}
                            log.write(json.dumps({**record, "body": request.body}) + "\n")
                seen = len(requests)
        except KeyboardInterrupt:
            return 0


if __name__ == "__main__":
    sys.exit(main())
