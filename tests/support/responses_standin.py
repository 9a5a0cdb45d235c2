"""A stand-in for the OpenAI Responses API on loopback, for the real Codex CLI.

Codex, pointed at a custom provider with `wire_api = "responses"`, POSTs `/v1/responses` with
`stream: true` and reads SSE events: `response.created`, then for each output item
`response.output_item.added`, its deltas (`response.output_text.delta` for a message), and
`response.output_item.done` carrying the whole item, and at last `response.completed` with the
usage. A function call item (`{"type": "function_call", "name", "arguments", "call_id"}`) makes
Codex run its own tool (a shell command, a patch) in the worktree, asking for approval first
when its policy says so, and send the output back as a `function_call_output` input item.

    with ResponsesStandIn([Turn(calls=(Call("shell_command", {"command": "ls"}),))]) as api:
        ...  # run codex with model_providers.standin.base_url = api.url + "/v1"
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

from tests.support.scripted_api import (
    Call,
    Exchange,
    Failure,
    ScriptedAPI,
    Step,
    Tokens,
    Turn,
    new_id,
    schema_instance,
)

DEFAULT_MODEL = "gpt-5.1-codex"


def last_user_text(body: Any) -> str:
    """The latest user message or function output in the request's `input` list."""
    if not isinstance(body, dict) or not isinstance(body.get("input"), list):
        return ""
    for item in reversed(body["input"]):
        if not isinstance(item, dict):
            continue
        if item.get("type") == "function_call_output":
            output = item.get("output")
            return output if isinstance(output, str) else json.dumps(output)
        if item.get("role") == "user":
            content = item.get("content")
            if isinstance(content, str):
                return content
            texts = [
                str(part.get("text", ""))
                for part in content or ()
                if isinstance(part, dict) and part.get("type") in ("input_text", "text")
            ]
            return "\n".join(texts)
    return ""


def tool_names(body: Any) -> tuple[str, ...]:
    if not isinstance(body, dict) or not isinstance(body.get("tools"), list):
        return ()
    names = []
    for tool in body["tools"]:
        if isinstance(tool, dict):
            names.append(str(tool.get("name") or tool.get("type") or ""))
    return tuple(names)


class ResponsesStandIn(ScriptedAPI[Step]):
    """Answers `/v1/responses` from the scenario, and `/v1/models` with one model."""

    def handle(self, exchange: Exchange) -> None:
        path, body = exchange.path, exchange.body
        if exchange.method == "GET" and path.endswith("/models"):
            self.record(exchange, "models", "", None)
            exchange.send_json(200, {"object": "list", "data": [_model()], "models": []})
            return
        if exchange.method != "POST" or not path.endswith("/responses"):
            self.record(exchange, "other", "", None)
            exchange.send_json(404, _error(f"Not found: {exchange.method} {path}"))
            return
        if not isinstance(body, dict):
            self.record(exchange, "other", "", None)
            exchange.send_json(400, _error("the stand-in reads only JSON bodies"))
            return
        text = last_user_text(body)
        side = side_answer(body)
        if side is not None:
            self.record(exchange, "side", text, None)
            exchange.start_stream()
            for event in events(str(body.get("model") or DEFAULT_MODEL), Turn(text=side)):
                exchange.send_event(event, event=str(event["type"]))
            exchange.end_stream()
            return
        step = self.take_step(text)
        self.record(exchange, "turn", text, step)
        if step is None:
            step = Turn(text=self.done_text)
        if not self.sleep(step.delay):
            return
        if isinstance(step, Failure):
            exchange.send_json(step.status, _error(step.message))
            return
        exchange.start_stream()
        for event in events(str(body.get("model") or DEFAULT_MODEL), step):
            exchange.send_event(event, event=str(event["type"]))
        exchange.end_stream()


def side_answer(body: dict[str, Any]) -> str | None:
    """The answer to a request Codex makes on its own (the thread title), else None.

    A turn always carries Codex's tools; the title request has none and asks for JSON in
    `text.format` (`json_schema` with a `title` property). Side requests are answered here so
    that a scenario never has to know how many a given version sends, nor race them.
    """
    text = body.get("text")
    format_ = text.get("format") if isinstance(text, dict) else None
    if isinstance(format_, dict) and format_.get("type") == "json_schema":
        return json.dumps(schema_instance(format_.get("schema")))
    if not tool_names(body):
        return "Stand-in side answer."
    return None


def _model() -> dict[str, Any]:
    return {"id": DEFAULT_MODEL, "object": "model", "created": 0, "owned_by": "stand-in"}


def _error(message: str) -> dict[str, Any]:
    return {"error": {"message": message, "type": "invalid_request_error", "code": None}}


def _usage(tokens: Tokens) -> dict[str, Any]:
    return {
        "input_tokens": tokens.input,
        "input_tokens_details": {"cached_tokens": tokens.cached},
        "output_tokens": tokens.output,
        "output_tokens_details": {"reasoning_tokens": tokens.reasoning},
        "total_tokens": tokens.input + tokens.output,
    }


def _call_item(call: Call, status: str) -> dict[str, Any]:
    return {
        "type": "function_call",
        "id": new_id("fc_"),
        "call_id": new_id("call_"),
        "name": call.name,
        "arguments": json.dumps(dict(call.arguments)) if status == "completed" else "",
        "status": status,
    }


def events(model: str, turn: Turn) -> Iterator[dict[str, Any]]:
    """The SSE events of one streamed response, in the order the real service sends them."""
    response_id = new_id("resp_")
    shell = {"id": response_id, "object": "response", "model": model, "status": "in_progress"}
    sequence = 0

    def numbered(event: dict[str, Any]) -> dict[str, Any]:
        nonlocal sequence
        sequence += 1
        return {**event, "sequence_number": sequence}

    yield numbered({"type": "response.created", "response": {**shell, "output": []}})
    output: list[dict[str, Any]] = []
    if turn.text:
        item_id = new_id("msg_")
        index = len(output)
        started = {"type": "message", "id": item_id, "role": "assistant", "status": "in_progress"}
        yield numbered(
            {
                "type": "response.output_item.added",
                "output_index": index,
                "item": {**started, "content": []},
            }
        )
        for start in range(0, len(turn.text), 24):
            yield numbered(
                {
                    "type": "response.output_text.delta",
                    "item_id": item_id,
                    "output_index": index,
                    "content_index": 0,
                    "delta": turn.text[start : start + 24],
                }
            )
        part = {"type": "output_text", "text": turn.text, "annotations": []}
        done = {**started, "status": "completed", "content": [part]}
        yield numbered({"type": "response.output_item.done", "output_index": index, "item": done})
        output.append(done)
    for call in turn.calls:
        index = len(output)
        item = _call_item(call, "completed")
        added = {**item, "arguments": "", "status": "in_progress"}
        yield numbered({"type": "response.output_item.added", "output_index": index, "item": added})
        yield numbered({"type": "response.output_item.done", "output_index": index, "item": item})
        output.append(item)
    completed = {**shell, "status": "completed", "output": output, "usage": _usage(turn.tokens)}
    yield numbered({"type": "response.completed", "response": completed})
